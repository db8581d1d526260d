/** What counts as a failure, and which failures are already known (and being fixed elsewhere). */
import { framingIsAmbiguous, type FuzzRequest, type Outcome } from './http-client.js';
import { errorMessageOf, type FuzzCase } from './targets/common.js';

export type Verdict =
  | { ok: true; status: string }
  /** Not the server's fault: the request's own framing may leave the server waiting. */
  | { ok: true; status: string; ambiguous: true }
  | { ok: false; status: string; signature: string; detail: string };

/** A route shape for grouping failures: ids and numbers replaced, no query. */
export function routeShape(target: string): string {
  const path = target.split('?')[0] ?? '';
  return path
    .split('/')
    .slice(0, 4)
    .map((segment) => (/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}(~\d+)?$/i.test(segment) ? ':id' : /^-?\d+$/.test(segment) ? ':n' : segment.length > 24 ? `${segment.slice(0, 24)}…` : segment))
    .join('/');
}

export function judge(fuzzCase: FuzzCase, outcome: Outcome): Verdict {
  const request = fuzzCase.request;
  const where = `${request.method} ${routeShape(request.target)}`;
  if (outcome.kind === 'timeout') {
    if (framingIsAmbiguous(request)) return { ok: true, status: 'timeout(ambiguous framing)', ambiguous: true };
    return { ok: false, status: 'timeout', signature: `hang ${where}`, detail: `no complete response within the deadline (${outcome.received} bytes received)` };
  }
  if (outcome.kind === 'reset') {
    if (framingIsAmbiguous(request)) return { ok: true, status: 'reset(ambiguous framing)', ambiguous: true };
    return { ok: false, status: 'reset', signature: `reset ${where}`, detail: `${outcome.error} after ${outcome.received} bytes` };
  }
  const status = String(outcome.status);
  if (outcome.status >= 500) {
    const message = errorMessageOf(outcome.body, outcome.headers['content-type']) ?? outcome.body.subarray(0, 200).toString('utf8');
    return { ok: false, status, signature: `${outcome.status} ${where} ${message.replace(/[0-9a-f-]{8,}|\d+/g, '…').slice(0, 120)}`, detail: message };
  }
  if (outcome.status >= 400 && request.method !== 'HEAD' && errorMessageOf(outcome.body, outcome.headers['content-type']) === null) {
    // Grouped by what came back, not by route: these come from layers below the routes (CORS preflight, Node's HTTP parser).
    const body = outcome.body.subarray(0, 60).toString('utf8');
    return {
      ok: false,
      status,
      signature: `${outcome.status} without a JSON message: ${request.method}${framingIsAmbiguous(request) ? ' (malformed request)' : ''}, ${outcome.headers['content-type'] ?? 'no content-type'}, ${JSON.stringify(body)}`,
      detail: `${where}: content-type ${outcome.headers['content-type']}, body ${JSON.stringify(outcome.body.subarray(0, 200).toString('utf8'))}`,
    };
  }
  const problem = fuzzCase.verify?.(outcome) ?? null;
  if (problem) return { ok: false, status, signature: `wrong answer ${where}: ${problem.replace(/\d+/g, 'N').slice(0, 100)}`, detail: problem };
  return { ok: true, status };
}

function multipartBoundary(request: FuzzRequest): string | null {
  const type = request.headers.find(([name]) => name.toLowerCase() === 'content-type')?.[1] ?? '';
  const match = /boundary\s*=\s*(?:"([^"]*)"|([^;\s]*))/i.exec(type);
  return match ? (match[1] ?? match[2] ?? '') : null;
}

/**
 * Upload-path failures already reported and being fixed in the form reader. They still count as
 * failures (the run exits non-zero) but are listed apart, so a new failure stands out.
 */
export function knownIssue(request: FuzzRequest, verdict: Verdict): string | null {
  if (verdict.ok) return null;
  const upload = request.target.startsWith('/upload/') && request.method === 'POST';
  if (!upload) return null;
  const boundary = multipartBoundary(request);
  if (verdict.status.startsWith('5') && boundary !== null && boundary.length > 70) return 'multipart boundary longer than 70 characters answers 500';
  const body = request.body.toString('latin1');
  if (verdict.status === 'timeout' && request.target.startsWith('/upload/base/') && /filename\*=[^\r\n]*%(?:[01][0-9a-f]|7f)/i.test(body)) {
    return 'file part with a percent-encoded control character in filename* hangs POST /upload/base/';
  }
  if (verdict.status === 'reset') return 'an early refusal of an upload resets the connection instead of delivering its 4xx';
  return null;
}
