/**
 * When a failed HLS stream is made again. A failure is permanent when the source itself is refused
 * (a limit, no video stream, bytes ffprobe cannot read): the same bytes fail the same way. Any other
 * failure (ffmpeg crashed or passed its deadline, the blob store failed, the job was lost with its
 * worker) is transient: the first request after a back-off starts the next attempt, up to a bound.
 * Pure: the caller gives the time.
 */
import type { HlsState } from './hls.js';

export interface HlsRetryPolicy {
  /** Attempts in all, the first one included; a transient failure of the last one is final. */
  maxAttempts: number;
  /** Wait after the first failure; it doubles after each further one, up to `maxDelayMs`. */
  firstDelayMs: number;
  maxDelayMs: number;
}

/**
 * 6 attempts, 1, 2, 4, 8 and 16 min apart: a stream whose ffmpeg keeps failing costs at most six
 * runs over about half an hour, then is refused for good with the last reason.
 */
export const HLS_RETRY: HlsRetryPolicy = { maxAttempts: 6, firstDelayMs: 60_000, maxDelayMs: 3_600_000 };

/** The wait after the `failures`-th failed attempt. */
export function retryDelayMs(policy: HlsRetryPolicy, failures: number): number {
  return Math.min(policy.maxDelayMs, policy.firstDelayMs * 2 ** Math.max(0, failures - 1));
}

/** The state that records attempt `attempt` failing at `now`. */
export function failedState(policy: HlsRetryPolicy, attempt: number, reason: string, transient: boolean, now: Date): HlsState {
  const state: HlsState = { status: 'failed', at: now.toISOString(), attempts: attempt, error: reason };
  if (transient && attempt < policy.maxAttempts) state.retryAt = new Date(now.getTime() + retryDelayMs(policy, attempt)).toISOString();
  return state;
}

type HlsDecision =
  /** Ask for a job making attempt `attempt`. */
  | { kind: 'start'; attempt: number }
  /** A job is asked for and not lost: wait for it. */
  | { kind: 'preparing' }
  /** Attempt `attempts` failed for a reason that may pass; nothing starts before `retryAt`. */
  | { kind: 'retry-later'; attempts: number; retryAt: Date; error: string }
  /** Failed for good. */
  | { kind: 'refused'; attempts: number; error: string };

/**
 * What a request for a master not stored yet does, given the stored state. A `processing` state
 * older than `staleAfterMs` is an attempt whose job was lost: it counts as a transient failure
 * whose back-off has passed. A state written before attempts were recorded counts as attempt 1,
 * and a failure it kept as transient (the next request tries once more; a refused source is
 * refused again before any job starts).
 */
export function decideHls(state: HlsState | null, now: Date, staleAfterMs: number, policy: HlsRetryPolicy): HlsDecision {
  if (!state) return { kind: 'start', attempt: 1 };
  const attempts = state.attempts ?? 1;
  const at = Date.parse(state.at);
  if (state.status === 'processing') {
    if (now.getTime() - at < staleAfterMs) return { kind: 'preparing' };
    if (attempts >= policy.maxAttempts) return { kind: 'refused', attempts, error: `no attempt finished: the job of the last one was lost.` };
    return { kind: 'start', attempt: attempts + 1 };
  }
  const error = state.error ?? 'unknown reason';
  const retryAt = state.retryAt ?? (state.attempts === undefined ? new Date(at + retryDelayMs(policy, 1)).toISOString() : undefined);
  if (retryAt === undefined) return { kind: 'refused', attempts, error };
  const due = new Date(retryAt);
  if (now.getTime() < due.getTime()) return { kind: 'retry-later', attempts, retryAt: due, error };
  return { kind: 'start', attempt: attempts + 1 };
}
