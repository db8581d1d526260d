import { request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { PurgeError } from '../../ports/cache-purger.js';

/**
 * One call to an operator-configured purge endpoint (a shield, a CDN's API). These addresses come
 * from Trove's own configuration, never from users, so they do not go through the SSRF guard; every
 * call still has a deadline and reads at most `maxAnswerBytes` of the answer.
 */
interface ProviderRequest {
  method: string;
  url: URL;
  headers: Record<string, string>;
  body?: string;
  timeoutMs: number;
}

interface ProviderAnswer {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
}

const MAX_ANSWER_BYTES = 64 * 1024;
/** When a 429 names no Retry-After. */
const DEFAULT_RETRY_AFTER_MS = 60_000;

export function callProvider(call: ProviderRequest, maxAnswerBytes = MAX_ANSWER_BYTES): Promise<ProviderAnswer> {
  const send = call.url.protocol === 'https:' ? httpsRequest : httpRequest;
  const body = call.body === undefined ? undefined : Buffer.from(call.body, 'utf8');
  return new Promise<ProviderAnswer>((resolve, reject) => {
    let settled = false;
    const outgoing = send(call.url, {
      method: call.method,
      headers: { ...call.headers, ...(body ? { 'content-length': String(body.length) } : {}) },
      // A fresh connection per purge: purges are rare, and an idle pooled socket closed by the far end would fail one.
      agent: false,
    });
    const fail = (error: Error) => {
      if (settled) return;
      settled = true;
      clearTimeout(deadline);
      outgoing.destroy();
      reject(new PurgeError(`${call.method} ${redactedUrl(call.url)}: ${error.message}`));
    };
    const deadline = setTimeout(() => fail(new Error(`no answer within ${call.timeoutMs} ms`)), call.timeoutMs);
    outgoing.on('error', fail);
    outgoing.on('response', (response) => {
      const chunks: Buffer[] = [];
      let size = 0;
      response.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size > maxAnswerBytes) fail(new Error(`answer larger than ${maxAnswerBytes} bytes`));
        else chunks.push(chunk);
      });
      response.on('error', fail);
      response.on('end', () => {
        if (settled) return;
        settled = true;
        clearTimeout(deadline);
        resolve({ status: response.statusCode ?? 0, headers: response.headers, body: Buffer.concat(chunks).toString('utf8') });
      });
    });
    outgoing.end(body);
  });
}

/** The URL without its user information, for messages. */
function redactedUrl(url: URL): string {
  const copy = new URL(url.toString());
  copy.username = '';
  copy.password = '';
  return copy.toString();
}

/** Retry-After in seconds or as an HTTP date; a minute when absent or unreadable. */
function retryAfterMs(header: string | string[] | undefined, now = Date.now()): number {
  const value = Array.isArray(header) ? header[0] : header;
  if (value !== undefined && value.trim() !== '') {
    const seconds = Number(value);
    if (Number.isFinite(seconds) && seconds >= 0) return Math.round(seconds * 1000);
    const date = Date.parse(value);
    if (Number.isFinite(date)) return Math.max(0, date - now);
  }
  return DEFAULT_RETRY_AFTER_MS;
}

/** The PurgeError an answer other than the expected one becomes: 429 asks to be retried later. */
export function refusal(provider: string, answer: ProviderAnswer, detail: string): PurgeError {
  const message = `${provider} answered ${answer.status}: ${detail}`;
  return new PurgeError(message, answer.status === 429 ? retryAfterMs(answer.headers['retry-after']) : null);
}

/** The answer as JSON, or null when it is not. */
export function jsonOf(answer: ProviderAnswer): unknown {
  try {
    return JSON.parse(answer.body) as unknown;
  } catch {
    return null;
  }
}

/** The first characters of an answer, for an error message. */
export function excerpt(body: string): string {
  const text = body.replace(/\s+/g, ' ').trim();
  return text.length > 200 ? `${text.slice(0, 199)}…` : text || '(empty answer)';
}
