/**
 * Per-project request budgets (token buckets), like Uploadcare's API throttling. Adapters: in
 * process memory (one node) and Redis (shared by every node).
 */
export interface RateLimit {
  /** Bucket size: requests allowed in a burst. */
  burst: number;
  /** Tokens added per second. */
  perSecond: number;
}

export type RateDecision = { allowed: true; remaining: number } | { allowed: false; retryAfterMs: number };

export interface RateLimiter {
  /**
   * Takes one token from the bucket `key` (e.g. `project:api-read`). Never throws: when the backing
   * service is unreachable the request is allowed (fail open) and the outage is reported elsewhere.
   */
  take(key: string, limit: RateLimit): Promise<RateDecision>;
}
