/**
 * The purge providers' settings: one URL-shaped variable each. Their values carry API tokens and
 * keys, so no message here ever repeats a raw value.
 */

/** A provider's request budget (token bucket): waiting purges are sent as tokens come, never dropped. */
export interface PurgeRate {
  perSecond: number;
  burst: number;
}

export interface PurgeConfig {
  /** The Varnish shield's base URLs (`TROVE_PURGE_SHIELD`). */
  shield: { urls: string[]; rate: PurgeRate | null } | null;
  /** A generic JSON endpoint (`TROVE_PURGE_HTTP`). */
  http: { url: string; token: string | null; rate: PurgeRate | null } | null;
  cloudflare: { apiToken: string; zoneId: string; endpoint: string; rate: PurgeRate | null } | null;
  fastly: { apiToken: string; serviceId: string; endpoint: string; soft: boolean; rate: PurgeRate | null } | null;
  cloudfront: {
    accessKeyId: string;
    secretAccessKey: string;
    distributionId: string;
    endpoint: string | undefined;
    region: string;
    rate: PurgeRate | null;
  } | null;
  /** Deadline of one call to a provider. */
  timeoutMs: number;
}

/** Cloudflare's Free plan: 5 purge requests per minute per account (Pro and above allow 5 or more per second). */
const CLOUDFLARE_DEFAULT_RATE: PurgeRate = { perSecond: 5 / 60, burst: 5 };

const RATE_UNITS: Record<string, number> = { s: 1, sec: 1, second: 1, m: 60, min: 60, minute: 60, h: 3600, hour: 3600 };

/** `5/min`, `10/s`, `1000/h`; `off` for no budget. The burst is the count unless `burst=` says otherwise. */
function parsePurgeRate(raw: string, burstRaw: string | null): PurgeRate | null {
  const v = raw.trim().toLowerCase();
  if (v === 'off') return null;
  const match = /^(\d+(?:\.\d+)?)\/([a-z]+)$/.exec(v);
  const seconds = match ? RATE_UNITS[match[2]!] : undefined;
  if (!match || seconds === undefined || Number(match[1]) <= 0) {
    throw new Error(`rate= expects <requests>/<s|min|h> such as 5/min, or off, got "${raw}"`);
  }
  const count = Number(match[1]);
  let burst = Math.max(1, Math.floor(count));
  if (burstRaw !== null) {
    if (!/^\d+$/.test(burstRaw) || Number(burstRaw) < 1) throw new Error(`burst= expects a whole number of at least 1, got "${burstRaw}"`);
    burst = Number(burstRaw);
  }
  return { perSecond: count / seconds, burst };
}

/** Parses without echoing the value, which may hold a secret. */
function urlOf(raw: string, shape: string): URL {
  try {
    return new URL(raw.trim());
  } catch {
    throw new Error(`expected a URL such as ${shape}`);
  }
}

function checkParams(url: URL, known: readonly string[], shape: string): void {
  for (const key of url.searchParams.keys()) {
    if (!known.includes(key)) throw new Error(`unknown parameter "${key}" (known: ${known.join(', ')}; shape: ${shape})`);
  }
}

function endpointOf(url: URL, fallback: string): string {
  const endpoint = url.searchParams.get('endpoint');
  if (endpoint === null) return fallback;
  let parsed: URL;
  try {
    parsed = new URL(endpoint);
  } catch {
    throw new Error(`endpoint= expects an http(s) URL, got "${endpoint}"`);
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') throw new Error(`endpoint= expects an http(s) URL, got "${endpoint}"`);
  return parsed.toString();
}

function rateOf(url: URL, fallback: PurgeRate | null): PurgeRate | null {
  const rate = url.searchParams.get('rate');
  const burst = url.searchParams.get('burst');
  if (rate === null) {
    if (burst !== null) throw new Error('burst= needs rate= too');
    return fallback;
  }
  return parsePurgeRate(rate, burst);
}

/** The user and the host of `<scheme>://<user>@<host>`: a token and an id (hosts of such URLs keep their case). */
function credentialAndId(url: URL, scheme: string, shape: string): { user: string; password: string; id: string } {
  if (url.protocol !== `${scheme}:`) throw new Error(`expected ${shape}`);
  const user = decodeURIComponent(url.username);
  const id = decodeURIComponent(url.hostname);
  if (!user || !id) throw new Error(`expected ${shape} (the token or key and the id are both required)`);
  if (url.pathname !== '' && url.pathname !== '/') throw new Error(`expected ${shape} without a path`);
  return { user, password: decodeURIComponent(url.password), id };
}

const SHIELD_SHAPE = 'http://127.0.0.1:6081[,http://10.0.0.2:6081]';
/** `http://127.0.0.1:6081,http://10.0.0.2:6081` (comma-separated base URLs; `?rate=` on the first applies to all). */
export function parseShieldSetting(raw: string): NonNullable<PurgeConfig['shield']> {
  const urls = raw.split(',').map((part) => part.trim()).filter(Boolean);
  if (urls.length === 0) throw new Error(`expected ${SHIELD_SHAPE}`);
  let rate: PurgeRate | null = null;
  const bases = urls.map((text, index) => {
    const url = urlOf(text, SHIELD_SHAPE);
    if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Error(`expected http(s) base URLs such as ${SHIELD_SHAPE}`);
    checkParams(url, ['rate', 'burst'], SHIELD_SHAPE);
    if (index === 0) rate = rateOf(url, null);
    return url.origin;
  });
  return { urls: bases, rate };
}

const HTTP_SHAPE = 'https://<token>@purge.example.com/hook';
/** `https://<token>@purge.example.com/hook`: the user part, when present, is sent as a bearer token. */
export function parseHttpSetting(raw: string): NonNullable<PurgeConfig['http']> {
  const url = urlOf(raw, HTTP_SHAPE);
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Error(`expected ${HTTP_SHAPE}`);
  if (url.password) throw new Error(`expected ${HTTP_SHAPE}: put the token alone before "@"`);
  const rate = rateOf(url, null);
  const token = url.username ? decodeURIComponent(url.username) : null;
  url.username = '';
  url.searchParams.delete('rate');
  url.searchParams.delete('burst');
  return { url: url.toString(), token, rate };
}

const CLOUDFLARE_SHAPE = 'cloudflare://<api_token>@<zone_id>[?rate=5/min&endpoint=…]';
export function parseCloudflareSetting(raw: string): NonNullable<PurgeConfig['cloudflare']> {
  const url = urlOf(raw, CLOUDFLARE_SHAPE);
  const { user, id } = credentialAndId(url, 'cloudflare', CLOUDFLARE_SHAPE);
  checkParams(url, ['endpoint', 'rate', 'burst'], CLOUDFLARE_SHAPE);
  return { apiToken: user, zoneId: id, endpoint: endpointOf(url, 'https://api.cloudflare.com/'), rate: rateOf(url, CLOUDFLARE_DEFAULT_RATE) };
}

const FASTLY_SHAPE = 'fastly://<api_token>@<service_id>[?soft=1&rate=…&endpoint=…]';
export function parseFastlySetting(raw: string): NonNullable<PurgeConfig['fastly']> {
  const url = urlOf(raw, FASTLY_SHAPE);
  const { user, id } = credentialAndId(url, 'fastly', FASTLY_SHAPE);
  checkParams(url, ['endpoint', 'soft', 'rate', 'burst'], FASTLY_SHAPE);
  const soft = url.searchParams.get('soft');
  if (soft !== null && !['0', '1', 'true', 'false'].includes(soft)) throw new Error(`soft= expects 1 or 0, got "${soft}"`);
  return {
    apiToken: user,
    serviceId: id,
    endpoint: endpointOf(url, 'https://api.fastly.com/'),
    soft: soft === '1' || soft === 'true',
    rate: rateOf(url, null),
  };
}

const CLOUDFRONT_SHAPE = 'cloudfront://<access_key_id>:<secret_access_key>@<distribution_id>[?region=…&rate=…&endpoint=…]';
export function parseCloudFrontSetting(raw: string): NonNullable<PurgeConfig['cloudfront']> {
  const url = urlOf(raw, CLOUDFRONT_SHAPE);
  const { user, password, id } = credentialAndId(url, 'cloudfront', CLOUDFRONT_SHAPE);
  if (!password) throw new Error(`expected ${CLOUDFRONT_SHAPE} (the secret access key is missing)`);
  checkParams(url, ['endpoint', 'region', 'rate', 'burst'], CLOUDFRONT_SHAPE);
  const endpoint = url.searchParams.has('endpoint') ? endpointOf(url, '') : undefined;
  return {
    accessKeyId: user,
    secretAccessKey: password,
    distributionId: id,
    endpoint,
    region: url.searchParams.get('region') ?? 'us-east-1',
    rate: rateOf(url, null),
  };
}
