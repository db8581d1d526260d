/**
 * Pure rules of the widget: attribute parsing and the checks a file passes before any byte is sent.
 * No DOM here, so the rules run (and are tested) in Node as they run in the browser.
 */

export const MIB = 1024 * 1024;
/** Trove refuses multipart uploads of smaller files (TROVE_MULTIPART_MIN_FILE_SIZE default). */
const MIN_MULTIPART_THRESHOLD = 10 * MIB;
/** Trove refuses smaller parts (TROVE_MULTIPART_MIN_PART_SIZE default). */
const MIN_CHUNK_SIZE = 5 * MIB;

/** What the checks need to know about a file: `File` fits, and so does a plain object in tests. */
interface FileFacts {
  name: string;
  size: number;
  /** MIME type as the browser guessed it; may be empty. */
  type: string;
}

export type Source = 'local' | 'url' | 'camera';
export type StoreMode = 'auto' | '1' | '0';

export type Problem =
  | { kind: 'too-large'; size: number; limit: number }
  | { kind: 'not-accepted'; accept: readonly string[] }
  | { kind: 'empty' }
  | { kind: 'too-many'; max: number };

const SIZE_UNITS: Readonly<Record<string, number>> = {
  '': 1,
  b: 1,
  k: 1000,
  kb: 1000,
  kib: 1024,
  m: 1000 ** 2,
  mb: 1000 ** 2,
  mib: MIB,
  g: 1000 ** 3,
  gb: 1000 ** 3,
  gib: 1024 ** 3,
};

/**
 * Bytes from `1048576`, `10MB`, `5 MiB`, `1.5GB` (decimal MB, binary MiB, as Trove's own settings
 * read them). Null for anything else, so a typo never silently means "no limit" to the caller.
 */
export function parseSize(raw: string | null | undefined): number | null {
  if (raw === null || raw === undefined) return null;
  const match = /^\s*(\d+(?:\.\d+)?)\s*([a-z]*)\s*$/i.exec(raw);
  if (!match) return null;
  const factor = SIZE_UNITS[(match[2] ?? '').toLowerCase()];
  if (factor === undefined) return null;
  const bytes = Math.floor(Number(match[1]) * factor);
  return Number.isSafeInteger(bytes) ? bytes : null;
}

/** A whole number ≥ min from an attribute, or the fallback when absent or not a number. */
export function parseCount(raw: string | null | undefined, fallback: number, min = 1): number {
  if (raw === null || raw === undefined || !/^\s*\d+\s*$/.test(raw)) return fallback;
  return Math.max(min, Number(raw));
}

/** `accept="image/*, .PDF,application/zip"` → `['image/*', '.pdf', 'application/zip']`. */
export function parseAccept(raw: string | null | undefined): string[] {
  if (!raw) return [];
  return raw
    .split(',')
    .map((token) => token.trim().toLowerCase())
    .filter((token) => token.length > 0 && (token.startsWith('.') || token.includes('/')));
}

/** Same rules as `<input accept>`: exact MIME type, `type/*` wildcard, or `.ext` on the name. */
export function matchesAccept(file: Pick<FileFacts, 'name' | 'type'>, accept: readonly string[]): boolean {
  if (accept.length === 0) return true;
  const type = file.type.toLowerCase().split(';')[0]?.trim() ?? '';
  const name = file.name.toLowerCase();
  return accept.some((rule) => {
    if (rule === '*/*' || rule === '*') return true;
    if (rule.startsWith('.')) return name.endsWith(rule) && name.length > rule.length;
    if (rule.endsWith('/*')) return type.startsWith(rule.slice(0, -1));
    return type === rule;
  });
}

/** The first rule a file breaks, or null. Order: empty, type, size — the most useful to hear first. */
export function checkFile(file: FileFacts, limits: { maxSize: number | null; accept: readonly string[] }): Problem | null {
  if (file.size === 0) return { kind: 'empty' };
  if (!matchesAccept(file, limits.accept)) return { kind: 'not-accepted', accept: limits.accept };
  if (limits.maxSize !== null && file.size > limits.maxSize) return { kind: 'too-large', size: file.size, limit: limits.maxSize };
  return null;
}

/** Splits new files into those that fit under the count limit and those that do not, keeping order. */
export function splitByCount<T>(incoming: readonly T[], current: number, max: number | null): { taken: T[]; refused: T[] } {
  if (max === null) return { taken: [...incoming], refused: [] };
  const room = Math.max(0, max - current);
  return { taken: incoming.slice(0, room), refused: incoming.slice(room) };
}

export function parseStore(raw: string | null | undefined): StoreMode {
  const value = (raw ?? '').trim().toLowerCase();
  if (value === '1' || value === 'true' || value === 'yes') return '1';
  if (value === '0' || value === 'false' || value === 'no') return '0';
  return 'auto';
}

const ALL_SOURCES: readonly Source[] = ['local', 'url', 'camera'];

/** `sources="local, url"`; unknown names are ignored, and an empty or absent list means all. */
export function parseSources(raw: string | null | undefined): Set<Source> {
  const picked = (raw ?? '')
    .split(',')
    .map((token) => token.trim().toLowerCase())
    .filter((token): token is Source => (ALL_SOURCES as readonly string[]).includes(token));
  return new Set(picked.length > 0 ? picked : ALL_SOURCES);
}

/** Multipart threshold from the attribute; never below what Trove accepts for multipart. */
export function parseThreshold(raw: string | null | undefined): number {
  return Math.max(MIN_MULTIPART_THRESHOLD, parseSize(raw) ?? MIN_MULTIPART_THRESHOLD);
}

/** Chunk size from the attribute; never below Trove's smallest part. */
export function parseChunkSize(raw: string | null | undefined): number {
  return Math.max(MIN_CHUNK_SIZE, parseSize(raw) ?? MIN_CHUNK_SIZE);
}

/** Only absolute http(s) links can be fetched by the server. */
export function isFetchableUrl(raw: string): boolean {
  try {
    const url = new URL(raw.trim());
    return (url.protocol === 'http:' || url.protocol === 'https:') && url.hostname.length > 0;
  } catch {
    return false;
  }
}

/** A display name for a link before the server tells the real one: the last path segment, else the host. */
export function nameFromUrl(raw: string): string {
  try {
    const url = new URL(raw.trim());
    const last = url.pathname.split('/').filter(Boolean).pop();
    return last ? decodeURIComponent(last) : url.hostname;
  } catch {
    return raw;
  }
}

/**
 * Whether a signature that expires at `expire` (Unix seconds) can still be sent at `nowMs`: it must
 * outlive the request, so one about to expire counts as expired.
 */
export function signatureIsFresh(expire: number, nowMs: number, marginMs = 60_000): boolean {
  return Number.isFinite(expire) && expire * 1000 - marginMs > nowMs;
}
