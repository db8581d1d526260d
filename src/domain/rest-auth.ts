import { createHash, createHmac } from 'node:crypto';
import { matchesAny } from './constant-time.js';

/** The REST API's `Authorization` header, in either of Uploadcare's two schemes. */
type RestCredentials =
  | { scheme: 'simple'; publicKey: string; secretKey: string }
  | { scheme: 'signed'; publicKey: string; signature: string };

/** null when the header is missing or not one of the two schemes. */
export function parseAuthorization(header: string | undefined): RestCredentials | null {
  if (!header) return null;
  const match = /^(Uploadcare\.Simple|Uploadcare)\s+([^:\s]{1,128}):(\S{1,256})$/.exec(header.trim());
  if (!match) return null;
  const [, scheme, publicKey, secret] = match as unknown as [string, string, string, string];
  return scheme === 'Uploadcare.Simple' ? { scheme: 'simple', publicKey, secretKey: secret } : { scheme: 'signed', publicKey, signature: secret };
}

export interface SignedRequestParts {
  method: string;
  /** Raw request body ('' when there is none). */
  body: Buffer | string;
  /** The Content-Type header as received ('' when absent). */
  contentType: string;
  /** The date header as received (`X-Uploadcare-Date`, else `Date`). */
  date: string;
  /** The request target as received: path and query string, percent-encoded as sent. */
  uri: string;
}

/** `VERB\nmd5(body)\nContent-Type\nDate\nURI`, the string Uploadcare's signed scheme signs. */
function restSignString(parts: SignedRequestParts): string {
  const bodyMd5 = createHash('md5').update(parts.body).digest('hex');
  return [parts.method.toUpperCase(), bodyMd5, parts.contentType, parts.date, parts.uri].join('\n');
}

function computeRestSignature(secret: string, parts: SignedRequestParts): string {
  return createHmac('sha1', secret).update(restSignString(parts)).digest('hex');
}

/** Constant-time: every secret is tried whether or not an earlier one matched. */
export function matchesRestSignature(signature: string, secrets: readonly string[], parts: SignedRequestParts): boolean {
  return matchesAny(
    secrets.map((secret) => computeRestSignature(secret, parts)),
    signature.toLowerCase(),
  );
}

/** Constant-time, whatever the lengths: every secret is compared whether or not an earlier one matched. */
export function matchesSecretKey(candidate: string, secrets: readonly string[]): boolean {
  return matchesAny(secrets, candidate);
}

/** Signed requests must be dated within this much of the server's clock (Uploadcare: 15 minutes). */
export const REST_DATE_WINDOW_MS = 15 * 60_000;

/** Milliseconds since the epoch for an RFC 1123/2822 date, or null. */
export function parseHttpDate(value: string): number | null {
  if (!/^[A-Z][a-z]{2}, \d{1,2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2}:\d{2} (GMT|UTC|[+-]\d{4})$/.test(value.trim())) return null;
  const ms = Date.parse(value);
  return Number.isFinite(ms) ? ms : null;
}

const REST_ACCEPT = 'application/vnd.uploadcare-v0.7+json';

/** Whether an Accept header asks for REST API v0.7 (the only version Trove speaks). */
export function acceptsRestV07(accept: string | undefined): boolean {
  if (!accept) return false;
  return accept.split(',').some((part) => part.split(';')[0]!.trim().toLowerCase() === REST_ACCEPT);
}
