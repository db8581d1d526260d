import type { RateDecision, RateLimit, RateLimiter } from '../../ports/rate-limiter.js';
import { assertValidLimit, takeToken, type BucketState } from './token-bucket.js';

interface MemoryRateLimiterOptions {
  /** Milliseconds since the epoch; injectable so tests can move time. Default Date.now. */
  now?: () => number;
  /** How often buckets that have refilled completely are dropped. Default 10 000 ms. */
  sweepIntervalMs?: number;
}

interface Bucket extends BucketState {
  fullAtMs: number;
}

/**
 * Token buckets in this process's memory: the embedded default (one node). Keys come from
 * requests (one per project and operation), so buckets that have refilled completely are dropped
 * — a full bucket and a missing one behave the same — and memory stays proportional to the keys
 * active in the last few seconds, not to every key ever seen.
 */
export class MemoryRateLimiter implements RateLimiter {
  private readonly buckets = new Map<string, Bucket>();
  private readonly now: () => number;
  private readonly sweepIntervalMs: number;
  private lastSweepMs: number;

  constructor(options: MemoryRateLimiterOptions = {}) {
    this.now = options.now ?? Date.now;
    this.sweepIntervalMs = options.sweepIntervalMs ?? 10_000;
    this.lastSweepMs = this.now();
  }

  async take(key: string, limit: RateLimit): Promise<RateDecision> {
    assertValidLimit(limit);
    const nowMs = this.now();
    this.sweepIfDue(nowMs);
    const result = takeToken(this.buckets.get(key), limit, nowMs);
    this.buckets.set(key, { ...result.state, fullAtMs: result.fullAtMs });
    return result.decision;
  }

  /** Buckets currently held; for tests and metrics. */
  get size(): number {
    return this.buckets.size;
  }

  private sweepIfDue(nowMs: number): void {
    // Swept from take() rather than by a timer: only take() adds buckets, so what an idle limiter
    // holds cannot grow, and there is no timer to stop on shutdown.
    if (nowMs - this.lastSweepMs < this.sweepIntervalMs) return;
    this.lastSweepMs = nowMs;
    for (const [key, bucket] of this.buckets) {
      if (bucket.fullAtMs <= nowMs) this.buckets.delete(key);
    }
  }
}
