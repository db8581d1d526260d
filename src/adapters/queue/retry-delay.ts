import type { RetryPolicy } from '../../ports/job-queue.js';

/** Share of the delay that is randomised, so jobs that failed together do not all retry together. */
const JITTER = 0.1;

/**
 * Delay before the next run of a job whose run number `failedAttempt` (1-based) just failed:
 * baseDelayMs, doubling per further attempt, capped at maxDelayMs, ±10 % jitter within the cap.
 */
export function retryDelayMs(policy: RetryPolicy, failedAttempt: number, random: () => number = Math.random): number {
  const exponent = Math.max(0, failedAttempt - 1);
  // Capped before multiplying out further: 2 ** 1100 is Infinity.
  const exponential = exponent >= 52 ? policy.maxDelayMs : policy.baseDelayMs * 2 ** exponent;
  const capped = Math.min(policy.maxDelayMs, exponential);
  const jittered = capped * (1 - JITTER + 2 * JITTER * random());
  return Math.max(0, Math.round(Math.min(policy.maxDelayMs, jittered)));
}

/** Checks a registry's numbers once at start, so a typo fails the worker role instead of every job. */
export function assertValidRegistration(name: string, registration: { retry: RetryPolicy; visibilityTimeoutMs: number }): void {
  const { retry, visibilityTimeoutMs } = registration;
  const problems: string[] = [];
  if (!Number.isInteger(retry.maxAttempts) || retry.maxAttempts < 1) problems.push('retry.maxAttempts must be an integer >= 1');
  if (!(retry.baseDelayMs >= 0)) problems.push('retry.baseDelayMs must be >= 0');
  if (!(retry.maxDelayMs >= retry.baseDelayMs)) problems.push('retry.maxDelayMs must be >= retry.baseDelayMs');
  if (!Number.isInteger(visibilityTimeoutMs) || visibilityTimeoutMs < 1) problems.push('visibilityTimeoutMs must be an integer >= 1');
  if (problems.length > 0) throw new Error(`job "${name}": ${problems.join('; ')}`);
}

export function assertValidConcurrency(concurrency: number): void {
  if (!Number.isInteger(concurrency) || concurrency < 1) throw new Error(`worker concurrency must be an integer >= 1, got ${concurrency}`);
}
