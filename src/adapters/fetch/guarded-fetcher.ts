import { lookup as systemLookup } from 'node:dns/promises';
import http from 'node:http';
import https from 'node:https';
import type { LookupFunction } from 'node:net';
import { Readable } from 'node:stream';
import {
  FetchError,
  type FetchLimits,
  type FetchedResource,
  type GuardedFetcher,
  type OutgoingRequest,
} from '../../ports/fetcher.js';
import { classifyAddress, ipLiteralOfHostname, type AddressPolicyOptions } from './address-policy.js';

/**
 * Trove's only server-side HTTP client for user-supplied URLs (SSRF guard).
 *
 * - Only http: and https:, no credentials in the URL. Any port is allowed: the address check is what
 *   keeps internal services out of reach, and public servers legitimately listen on odd ports.
 * - Every address a hostname resolves to is checked against the address policy, on the first request
 *   and again on every redirect hop; one forbidden address refuses the whole host.
 * - The socket connects only to the addresses that were checked: a custom `lookup` hands them to
 *   node:net instead of asking DNS again, so a rebinding DNS server cannot swap in another address
 *   between check and connect. Host header, SNI and certificate checks still use the hostname.
 * - One deadline covers DNS, connect, every redirect and the body. The body is streamed, never
 *   buffered, and errors with TOO_LARGE / TIMEOUT as soon as a limit is passed.
 * - No cookies or credentials are ever sent, so redirects to other origins leak nothing.
 * - An external AbortSignal rejects (or errors the body) with the signal's own reason, as fetch() does.
 */

/** Resolves a hostname to IP addresses; injectable so tests never depend on real DNS. */
export type HostnameResolver = (hostname: string) => Promise<string[]>;

interface GuardedFetcherOptions extends AddressPolicyOptions {
  defaults: FetchLimits;
  userAgent: string;
  resolver?: HostnameResolver;
}

const REDIRECT_STATUSES: ReadonlySet<number> = new Set([301, 302, 303, 307, 308]);
// setTimeout fires at once for delays that do not fit in 32 bits.
const LONGEST_TIMER_MS = 2 ** 31 - 1;

export function createGuardedFetcher(options: GuardedFetcherOptions): GuardedFetcher {
  assertValidLimits(options.defaults);
  const context: FetchContext = {
    policy: { allowPrivate: options.allowPrivate },
    userAgent: options.userAgent,
    resolve: options.resolver ?? resolveWithSystemDns,
  };

  return {
    async fetch(url, overrides, signal, send) {
      const limits = mergeLimits(options.defaults, overrides);
      if (signal?.aborted) throw signal.reason;
      const cancellation = startCancellation(limits.timeoutMs, signal);
      try {
        return await fetchFollowingRedirects(url, limits, context, cancellation, send);
      } catch (error) {
        cancellation.dispose();
        throw error;
      }
    },
  };
}

interface FetchContext {
  policy: AddressPolicyOptions;
  userAgent: string;
  resolve: HostnameResolver;
}

async function fetchFollowingRedirects(
  rawUrl: string,
  limits: FetchLimits,
  context: FetchContext,
  cancellation: Cancellation,
  send?: OutgoingRequest,
): Promise<FetchedResource> {
  let url = parseFetchableUrl(rawUrl);
  for (let redirectsFollowed = 0; ; redirectsFollowed += 1) {
    const addresses = await abortable(checkedAddressesOf(url, context), cancellation.signal);
    const response = await sendRequest(url, addresses, context.userAgent, cancellation.signal, send);
    const status = response.statusCode ?? 0;
    const location = response.headers.location;

    if (send === undefined && REDIRECT_STATUSES.has(status) && location !== undefined) {
      // The redirect's own body is of no interest; closing beats draining an unbounded stream.
      response.destroy();
      if (redirectsFollowed >= limits.maxRedirects) {
        throw new FetchError('TOO_MANY_REDIRECTS', `More than ${limits.maxRedirects} redirects, last to ${location}`);
      }
      url = parseFetchableUrl(location, url);
      continue;
    }

    if (status < 200 || status > 299) {
      response.destroy();
      throw new FetchError('HTTP_ERROR', `${url.href} answered with HTTP ${status}`, status);
    }

    const contentLength = parseContentLength(response.headers['content-length']);
    if (contentLength !== null && contentLength > limits.maxBytes) {
      response.destroy();
      throw new FetchError('TOO_LARGE', `Content-Length ${contentLength} exceeds the limit of ${limits.maxBytes} bytes`);
    }

    return {
      finalUrl: url.href,
      status,
      contentLength,
      contentType: response.headers['content-type'] ?? null,
      suggestedFilename:
        filenameFromContentDisposition(response.headers['content-disposition']) ?? filenameFromUrlPath(url),
      body: boundedBody(response, limits.maxBytes, cancellation),
    };
  }
}

// ---------------------------------------------------------------------------------------------
// URL and address checks

function parseFetchableUrl(raw: string, base?: URL): URL {
  let url: URL;
  try {
    url = new URL(raw, base);
  } catch {
    throw new FetchError('URL_INVALID', base === undefined ? `Not a valid URL: ${raw}` : `Invalid redirect target: ${raw}`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new FetchError('URL_SCHEME_INVALID', `Only http and https URLs can be fetched, not ${url.protocol}`);
  }
  if (url.username !== '' || url.password !== '') {
    throw new FetchError('URL_INVALID', 'URLs with credentials are not accepted');
  }
  url.hash = '';
  return url;
}

interface CheckedAddress {
  address: string;
  family: 4 | 6;
}

async function checkedAddressesOf(url: URL, context: FetchContext): Promise<CheckedAddress[]> {
  // WHATWG URL parsing has already turned 2130706433, 0x7f.1 and friends into dotted quads.
  const literal = ipLiteralOfHostname(url.hostname);
  const candidates = literal !== null ? [literal] : await resolveHostname(url.hostname, context.resolve);

  const checked: CheckedAddress[] = [];
  for (const candidate of candidates) {
    const verdict = classifyAddress(candidate, context.policy);
    if (verdict.forbidden) {
      const subject = literal !== null ? `Host ${url.hostname}` : `Host ${url.hostname} resolves to ${verdict.address}, which`;
      throw new FetchError('URL_HOST_FORBIDDEN', `${subject} is not allowed: ${verdict.reason ?? verdict.category}`);
    }
    if (!checked.some((known) => known.address === verdict.address)) {
      checked.push({ address: verdict.address, family: verdict.address.includes(':') ? 6 : 4 });
    }
  }
  return checked;
}

async function resolveHostname(hostname: string, resolve: HostnameResolver): Promise<string[]> {
  let addresses: string[];
  try {
    addresses = await resolve(hostname);
  } catch (error) {
    throw new FetchError('HOST_NOT_FOUND', `Could not resolve ${hostname}: ${describe(error)}`);
  }
  if (addresses.length === 0) throw new FetchError('HOST_NOT_FOUND', `${hostname} has no addresses`);
  return addresses;
}

async function resolveWithSystemDns(hostname: string): Promise<string[]> {
  const records = await systemLookup(hostname, { all: true, verbatim: true });
  return records.map((record) => record.address);
}

/** A node:net lookup that only ever answers with addresses the policy has already accepted. */
function pinnedLookup(addresses: readonly CheckedAddress[]): LookupFunction {
  return (hostname, lookupOptions, callback) => {
    const wanted = lookupOptions.family === 4 || lookupOptions.family === 6 ? lookupOptions.family : 0;
    const usable = addresses.filter((entry) => wanted === 0 || entry.family === wanted);
    const first = usable[0];
    if (first === undefined) {
      const error: NodeJS.ErrnoException = new Error(`No checked IPv${wanted} address for ${hostname}`);
      error.code = 'ENOTFOUND';
      callback(error, '');
      return;
    }
    // With autoSelectFamily (the default since Node 20) net asks for every address at once.
    if (lookupOptions.all === true) callback(null, usable.map(({ address, family }) => ({ address, family })));
    else callback(null, first.address, first.family);
  };
}

// ---------------------------------------------------------------------------------------------
// One HTTP exchange

function sendRequest(
  url: URL,
  addresses: readonly CheckedAddress[],
  userAgent: string,
  signal: AbortSignal,
  send?: OutgoingRequest,
): Promise<http.IncomingMessage> {
  return new Promise((resolve, reject) => {
    const transport = url.protocol === 'https:' ? https : http;
    const request = transport.request({
      protocol: url.protocol,
      hostname: url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname,
      port: url.port === '' ? undefined : Number(url.port),
      path: `${url.pathname}${url.search}`,
      method: send?.method ?? 'GET',
      headers: {
        ...send?.headers,
        host: url.host,
        'user-agent': userAgent,
        accept: '*/*',
        ...(send ? { 'content-length': String(send.body.length) } : {}),
      },
      // A private agent per request: no pooled socket, opened under another fetcher's policy or an
      // earlier DNS answer, can ever be reused, and nothing stays open once the exchange is over.
      agent: false,
      lookup: pinnedLookup(addresses),
    });

    const onAbort = (): void => {
      request.destroy();
      reject(signal.reason);
    };
    signal.addEventListener('abort', onAbort, { once: true });

    request.once('response', (response) => {
      signal.removeEventListener('abort', onAbort);
      resolve(response);
    });
    // Stays attached after the response: later socket errors surface on the body instead.
    request.on('error', (error) => {
      signal.removeEventListener('abort', onAbort);
      reject(new FetchError('NETWORK_ERROR', `Request to ${url.host} failed: ${describe(error)}`));
    });
    request.end(send?.body);
  });
}

/**
 * Hands the response body out as a stream that enforces maxBytes and the deadline, and releases the
 * socket and the timer whichever way it ends (completion, error, or the consumer destroying it).
 */
function boundedBody(response: http.IncomingMessage, maxBytes: number, cancellation: Cancellation): Readable {
  let receivedBytes = 0;
  const body = new Readable({
    read() {
      response.resume();
    },
    destroy(error, callback) {
      cancellation.dispose();
      response.destroy();
      callback(error);
    },
  });

  const fail = (error: Error): void => {
    // A body nobody listens to is closed quietly: an unheard 'error' event would crash the process.
    body.destroy(body.listenerCount('error') > 0 ? error : undefined);
  };

  // Paused until the consumer reads, so backpressure reaches the socket.
  response.pause();
  response.on('data', (chunk: Buffer) => {
    receivedBytes += chunk.length;
    if (receivedBytes > maxBytes) {
      fail(new FetchError('TOO_LARGE', `Body exceeds the limit of ${maxBytes} bytes`));
      return;
    }
    if (!body.push(chunk)) response.pause();
  });
  response.once('end', () => {
    cancellation.dispose();
    body.push(null);
  });
  response.once('error', (error) => {
    fail(new FetchError('NETWORK_ERROR', `Body download failed: ${describe(error)}`));
  });
  response.once('close', () => {
    if (!response.complete) fail(new FetchError('NETWORK_ERROR', 'Connection closed before the body was complete'));
  });

  const onCancel = (): void => fail(asError(cancellation.signal.reason));
  if (cancellation.signal.aborted) onCancel();
  else cancellation.signal.addEventListener('abort', onCancel, { once: true });
  return body;
}

// ---------------------------------------------------------------------------------------------
// Deadline and external abort, merged into one signal

interface Cancellation {
  /** Aborts with FetchError('TIMEOUT') at the deadline, or with the external signal's reason. */
  signal: AbortSignal;
  /** Stops the deadline timer and forgets the external signal; idempotent. */
  dispose(): void;
}

function startCancellation(timeoutMs: number, external: AbortSignal | undefined): Cancellation {
  const controller = new AbortController();
  const timer = setTimeout(() => {
    controller.abort(new FetchError('TIMEOUT', `No complete response within ${timeoutMs} ms`));
  }, Math.min(timeoutMs, LONGEST_TIMER_MS));
  const onExternalAbort = (): void => controller.abort(external?.reason);
  external?.addEventListener('abort', onExternalAbort, { once: true });

  return {
    signal: controller.signal,
    dispose() {
      clearTimeout(timer);
      external?.removeEventListener('abort', onExternalAbort);
    },
  };
}

/** Settles with `work`, unless `signal` aborts first (DNS lookups cannot be cancelled themselves). */
function abortable<T>(work: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    work.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(error);
      },
    );
  });
}

// ---------------------------------------------------------------------------------------------
// Limits

function mergeLimits(defaults: FetchLimits, overrides: Partial<FetchLimits> | undefined): FetchLimits {
  const limits: FetchLimits = {
    maxBytes: overrides?.maxBytes ?? defaults.maxBytes,
    timeoutMs: overrides?.timeoutMs ?? defaults.timeoutMs,
    maxRedirects: overrides?.maxRedirects ?? defaults.maxRedirects,
  };
  assertValidLimits(limits);
  return limits;
}

function assertValidLimits(limits: FetchLimits): void {
  if (!Number.isFinite(limits.maxBytes) || limits.maxBytes < 0) {
    throw new RangeError(`maxBytes must be a non-negative number, got ${limits.maxBytes}`);
  }
  if (!Number.isFinite(limits.timeoutMs) || limits.timeoutMs <= 0) {
    throw new RangeError(`timeoutMs must be a positive number, got ${limits.timeoutMs}`);
  }
  if (!Number.isInteger(limits.maxRedirects) || limits.maxRedirects < 0) {
    throw new RangeError(`maxRedirects must be a non-negative integer, got ${limits.maxRedirects}`);
  }
}

// ---------------------------------------------------------------------------------------------
// Response metadata

function parseContentLength(header: string | undefined): number | null {
  if (header === undefined || !/^\d+$/.test(header.trim())) return null;
  const length = Number(header.trim());
  return Number.isSafeInteger(length) ? length : null;
}

/** RFC 6266: `filename*` (RFC 8187 encoded) wins over plain `filename`. */
function filenameFromContentDisposition(header: string | undefined): string | null {
  if (header === undefined) return null;

  const extended = /(?:^|;)\s*filename\*\s*=\s*("?)([^;"]*)\1/i.exec(header);
  const extendedValue = extended?.[2];
  if (extendedValue !== undefined) {
    const decoded = decodeExtendedValue(extendedValue.trim());
    const safe = decoded === null ? null : sanitizeFilename(decoded);
    if (safe !== null) return safe;
  }

  const plain = /(?:^|;)\s*filename\s*=\s*("((?:[^"\\]|\\.)*)"|[^;]*)/i.exec(header);
  if (plain === null) return null;
  const quoted = plain[2];
  const value = quoted !== undefined ? quoted.replace(/\\(.)/g, '$1') : (plain[1] ?? '').trim();
  return sanitizeFilename(value);
}

function decodeExtendedValue(value: string): string | null {
  const match = /^([A-Za-z0-9!#$%&+^_`{}~-]+)'[^']*'(.*)$/.exec(value);
  if (match === null) return null;
  const charset = (match[1] ?? '').toLowerCase();
  const encoded = match[2] ?? '';
  try {
    if (charset === 'utf-8') return decodeURIComponent(encoded);
    if (charset === 'iso-8859-1') {
      return encoded.replace(/%([0-9A-Fa-f]{2})/g, (_match, hex: string) => String.fromCharCode(parseInt(hex, 16)));
    }
  } catch {
    return null;
  }
  return null;
}

function filenameFromUrlPath(url: URL): string | null {
  const segments = url.pathname.split('/').filter((segment) => segment !== '');
  const last = segments.at(-1);
  if (last === undefined) return null;
  let decoded: string;
  try {
    decoded = decodeURIComponent(last);
  } catch {
    decoded = last;
  }
  return sanitizeFilename(decoded);
}

/** Keeps only a bare name: servers control this text, and callers may use it near a filesystem. */
function sanitizeFilename(name: string): string | null {
  const withoutControls = name.replace(/[\u0000-\u001f\u007f]/g, '');
  const baseName = withoutControls.split(/[/\\]/).at(-1)?.trim() ?? '';
  if (baseName === '' || baseName === '.' || baseName === '..') return null;
  return baseName;
}

// ---------------------------------------------------------------------------------------------

function describe(error: unknown): string {
  if (error instanceof Error) {
    const code = (error as NodeJS.ErrnoException).code;
    return code !== undefined && !error.message.includes(code) ? `${code} ${error.message}` : error.message;
  }
  return String(error);
}

function asError(reason: unknown): Error {
  return reason instanceof Error ? reason : new FetchError('NETWORK_ERROR', `Aborted: ${String(reason)}`);
}
