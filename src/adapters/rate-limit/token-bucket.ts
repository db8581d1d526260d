import type { RateDecision, RateLimit } from '../../ports/rate-limiter.js';

/**
 * Token-bucket arithmetic for the in-process limiter. The Redis limiter runs the same rules in
 * Lua; the conformance suite holds the two to the same behaviour.
 */
export interface BucketState {
  /** Fractional: refill is continuous, not a whole token at a time. */
  tokens: number;
  updatedAtMs: number;
}

interface TakeResult {
  decision: RateDecision;
  state: BucketState;
  /** When the bucket will be full again; from then on it is indistinguishable from no bucket at all. */
  fullAtMs: number;
}

/** Limits come from configuration; a bucket that can never hold a token is a bug, not a policy. */
export function assertValidLimit(limit: RateLimit): void {
  if (!(Number.isFinite(limit.burst) && limit.burst >= 1)) {
    throw new RangeError(`rate limit burst must be a finite number >= 1, got ${limit.burst}`);
  }
  if (!(Number.isFinite(limit.perSecond) && limit.perSecond > 0)) {
    throw new RangeError(`rate limit perSecond must be a finite number > 0, got ${limit.perSecond}`);
  }
}

export function takeToken(previous: BucketState | undefined, limit: RateLimit, nowMs: number): TakeResult {
  const perMs = limit.perSecond / 1_000;
  // A missing bucket is a full one; a clock that stepped backwards refills nothing.
  const elapsedMs = previous ? Math.max(0, nowMs - previous.updatedAtMs) : 0;
  const available = previous ? Math.min(limit.burst, previous.tokens + elapsedMs * perMs) : limit.burst;
  const allowed = available >= 1;
  const tokens = allowed ? available - 1 : available;
  const decision: RateDecision = allowed
    ? { allowed: true, remaining: Math.floor(tokens) }
    : { allowed: false, retryAfterMs: Math.max(1, Math.ceil((1 - tokens) / perMs)) };
  return {
    decision,
    state: { tokens, updatedAtMs: nowMs },
    fullAtMs: nowMs + (limit.burst - tokens) / perMs,
  };
}
