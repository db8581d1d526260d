import path from 'node:path';
import type { DatabaseConfig } from './config.js';

/** Parsers for environment values. Each returns the value or throws a message saying what is wrong. */

const BYTE_UNITS: Record<string, number> = {
  b: 1,
  k: 1000,
  kb: 1000,
  kib: 1024,
  m: 1000 ** 2,
  mb: 1000 ** 2,
  mib: 1024 ** 2,
  g: 1000 ** 3,
  gb: 1000 ** 3,
  gib: 1024 ** 3,
  t: 1000 ** 4,
  tb: 1000 ** 4,
  tib: 1024 ** 4,
};

/** `104857600`, `100MiB`, `100 MB`, `1.5GiB`. */
export function parseBytes(raw: string): number {
  const match = /^\s*(\d+(?:\.\d+)?)\s*([a-zA-Z]*)\s*$/.exec(raw);
  if (!match) throw new Error(`expected a size such as 104857600, 100MiB or 1GB, got "${raw}"`);
  const unit = (match[2] ?? '').toLowerCase() || 'b';
  const factor = BYTE_UNITS[unit];
  if (factor === undefined) throw new Error(`unknown size unit "${match[2]}" (use B, KB, KiB, MB, MiB, GB, GiB, TB, TiB)`);
  const value = Math.floor(Number(match[1]) * factor);
  if (!Number.isSafeInteger(value)) throw new Error(`size "${raw}" is too large`);
  return value;
}

const DURATION_UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** Milliseconds from `500ms`, `30s`, `15m`, `24h`, `7d`, or a bare number of milliseconds. */
export function parseDuration(raw: string): number {
  const match = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)?\s*$/.exec(raw);
  if (!match) throw new Error(`expected a duration such as 30s, 15m or 24h, got "${raw}"`);
  return Math.round(Number(match[1]) * DURATION_UNITS[match[2] ?? 'ms']!);
}

export function parseInteger(raw: string, min: number, max: number): number {
  if (!/^\s*-?\d+\s*$/.test(raw)) throw new Error(`expected a whole number, got "${raw}"`);
  const value = Number(raw);
  if (value < min || value > max) throw new Error(`expected a number from ${min} to ${max}, got ${value}`);
  return value;
}

export function parseBoolean(raw: string): boolean {
  const v = raw.trim().toLowerCase();
  if (['1', 'true', 'yes', 'on'].includes(v)) return true;
  if (['0', 'false', 'no', 'off'].includes(v)) return false;
  throw new Error(`expected true or false, got "${raw}"`);
}

export function parseUrl(raw: string, protocols: string[]): URL {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new Error(`expected a URL, got "${raw}"`);
  }
  if (!protocols.includes(url.protocol)) {
    throw new Error(`expected a URL starting with ${protocols.map((p) => `${p}//`).join(' or ')}, got "${url.protocol}//…"`);
  }
  return url;
}

export function parseEnum<T extends string>(raw: string, allowed: readonly T[]): T {
  const v = raw.trim().toLowerCase() as T;
  if (!allowed.includes(v)) throw new Error(`expected one of ${allowed.join(', ')}, got "${raw}"`);
  return v;
}

/** A token bucket: `<per second>:<burst>` (e.g. `50:150`), or `off`. */
export function parseRateLimit(raw: string): { perSecond: number; burst: number } | null {
  const v = raw.trim().toLowerCase();
  if (v === 'off' || v === '0') return null;
  const match = /^(\d+(?:\.\d+)?):(\d+)$/.exec(v);
  if (!match || Number(match[1]) <= 0 || Number(match[2]) < 1) {
    throw new Error(`expected <requests per second>:<burst> such as 50:150, or off, got "${raw}"`);
  }
  return { perSecond: Number(match[1]), burst: Number(match[2]) };
}

/** A URL path prefix: `/upload`, `/` → `` (root). */
export function parsePathPrefix(raw: string): string {
  const v = raw.trim();
  if (!v.startsWith('/')) throw new Error(`expected a path starting with "/", got "${raw}"`);
  if (!/^[A-Za-z0-9/_.-]*$/.test(v) || v.includes('//') || v.includes('..')) {
    throw new Error(`expected a plain path such as /upload, got "${raw}"`);
  }
  return v.replace(/\/+$/, '');
}

/** Where clamd listens: `tcp://host:port` (port 3310 when left out), `tcp://[::1]:3310`, or `unix:/path/to/clamd.ctl`. */
export function parseClamdUrl(raw: string): { kind: 'tcp'; host: string; port: number } | { kind: 'unix'; path: string } {
  const v = raw.trim();
  if (v.startsWith('unix:')) {
    const socketPath = v.slice('unix:'.length).replace(/^\/\/(?=\/)/, '');
    if (!socketPath.startsWith('/')) throw new Error(`expected unix:/absolute/path/to/clamd.ctl, got "${raw}"`);
    return { kind: 'unix', path: socketPath };
  }
  const url = parseUrl(v, ['tcp:']);
  if (url.hostname === '' || (url.pathname !== '' && url.pathname !== '/') || url.search !== '' || url.username !== '') {
    throw new Error(`expected tcp://host:port such as tcp://127.0.0.1:3310, got "${raw}"`);
  }
  return { kind: 'tcp', host: url.hostname.replace(/^\[(.*)\]$/, '$1'), port: url.port === '' ? 3310 : Number(url.port) };
}

/** A 256-bit key: 64 hex digits, or 32 bytes in base64 or base64url (`openssl rand -base64 32`). */
export function parseKey256(raw: string): Buffer {
  const v = raw.trim();
  if (/^[0-9a-fA-F]{64}$/.test(v)) return Buffer.from(v, 'hex');
  if (/^[A-Za-z0-9+/_-]{42,43}=?$/.test(v)) {
    const key = Buffer.from(v.replace(/-/g, '+').replace(/_/g, '/'), 'base64');
    if (key.length === 32) return key;
  }
  // The value is a secret: the message never repeats it.
  throw new Error(`expected 32 bytes as 64 hex digits or in base64 (e.g. the output of \`openssl rand -base64 32\`), got ${v.length} characters`);
}

/** A database URL: `postgres://…` (a pool of `poolSize`) or `sqlite:///path/file.db`. */
export function parseDatabaseUrl(raw: string, poolSize: number): DatabaseConfig {
  const url = parseUrl(raw, ['postgres:', 'postgresql:', 'sqlite:']);
  if (url.protocol === 'sqlite:') {
    const file = decodeURIComponent(url.pathname);
    if (!file || file === '/') throw new Error('sqlite: URL needs a file path, e.g. sqlite:///var/lib/trove/trove.db');
    return { kind: 'sqlite', path: path.resolve(file) };
  }
  return { kind: 'postgres', url: raw, poolSize };
}

/** Shard names: short, lowercase, safe in a URL and a metric label; `main` is the main database's. */
export const SHARD_NAME = /^[a-z][a-z0-9_-]{0,31}$/;

/** `TROVE_SHARDS`: `name=url` pairs separated by commas or spaces, each a database URL. */
export function parseShardList(raw: string, poolSize: number): Array<{ name: string; database: DatabaseConfig; region: string | null }> {
  const shards: Array<{ name: string; database: DatabaseConfig; region: string | null }> = [];
  for (const entry of raw.split(/[\s,]+/).filter(Boolean)) {
    const at = entry.indexOf('=');
    if (at <= 0) throw new Error(`"${entry}" is not name=url or name@region=url (e.g. eu1@eu=postgres://db-eu1/trove)`);
    const [name = '', region = null, ...extra] = entry.slice(0, at).split('@');
    if (extra.length > 0) throw new Error(`"${entry}" names more than one region: use name@region=url`);
    if (region !== null && !SHARD_NAME.test(region)) throw new Error(`region "${region}" of shard "${name}" must be 1–32 lowercase letters, digits, - or _, starting with a letter`);
    if (!SHARD_NAME.test(name)) throw new Error(`shard name "${name}" must be 1–32 lowercase letters, digits, - or _, starting with a letter`);
    if (name === 'main') throw new Error('"main" is the main database (DATABASE_URL); give the shard another name');
    if (shards.some((s) => s.name === name)) throw new Error(`shard "${name}" is listed twice`);
    shards.push({ name, database: parseDatabaseUrl(entry.slice(at + 1), poolSize), region });
  }
  return shards;
}
