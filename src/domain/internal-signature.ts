import { createHmac } from 'node:crypto';
import { constantTimeEqual } from './constant-time.js';

/**
 * Requests between Trove nodes (a delivery node sending a transformation job to a transform node)
 * carry `X-Trove-Timestamp` (Unix milliseconds) and `X-Trove-Signature`: hex HMAC-SHA256, under
 * `TROVE_INTERNAL_SECRET`, of the timestamp, a newline and the exact body. A signature older or
 * newer than the window is refused, so a captured request stops working soon after.
 */
export const INTERNAL_TIMESTAMP_HEADER = 'x-trove-timestamp';
export const INTERNAL_SIGNATURE_HEADER = 'x-trove-signature';
const INTERNAL_SIGNATURE_WINDOW_MS = 60_000;

/** Where a transform node takes jobs. */
export const INTERNAL_TRANSFORM_PATH = '/internal/transform';
/** Marks a transform node's refusal of the job itself (an engine limit, a full queue); its value is the error code. */
export const INTERNAL_REFUSAL_HEADER = 'x-trove-refusal';

export function signInternalRequest(secret: string, timestampMs: number, body: Buffer | string): string {
  return createHmac('sha256', secret).update(`${timestampMs}\n`).update(body).digest('hex');
}

/** Why a request's signature is refused, or null when it is good. */
export function internalSignatureProblem(
  secret: string,
  headers: { timestamp: string | undefined; signature: string | undefined },
  body: Buffer,
  nowMs: number,
): string | null {
  if (headers.timestamp === undefined || headers.signature === undefined) return 'X-Trove-Timestamp and X-Trove-Signature are required.';
  if (!/^\d{1,16}$/.test(headers.timestamp)) return 'X-Trove-Timestamp must be Unix milliseconds.';
  const timestamp = Number(headers.timestamp);
  if (Math.abs(nowMs - timestamp) > INTERNAL_SIGNATURE_WINDOW_MS) {
    return `X-Trove-Timestamp is more than ${INTERNAL_SIGNATURE_WINDOW_MS / 1000} s away from this node's clock.`;
  }
  if (!constantTimeEqual(signInternalRequest(secret, timestamp, body), headers.signature.toLowerCase())) {
    return 'X-Trove-Signature does not match: the nodes must share TROVE_INTERNAL_SECRET.';
  }
  return null;
}
