import { describe, expect, it } from 'vitest';
import { decideHls, failedState, HLS_RETRY, retryDelayMs, type HlsRetryPolicy } from '../../src/domain/hls-retry.js';
import type { HlsState } from '../../src/domain/hls.js';

const policy: HlsRetryPolicy = { maxAttempts: 4, firstDelayMs: 60_000, maxDelayMs: 180_000 };
const STALE = 3_600_000;
const t0 = new Date('2026-01-01T00:00:00.000Z');
const after = (ms: number) => new Date(t0.getTime() + ms);

describe('HLS retry back-off', () => {
  it('doubles from the first delay and stops at the cap', () => {
    expect([1, 2, 3, 4, 5].map((n) => retryDelayMs(policy, n))).toEqual([60_000, 120_000, 180_000, 180_000, 180_000]);
    expect([1, 2, 3, 4, 5].map((n) => retryDelayMs(HLS_RETRY, n) / 60_000)).toEqual([1, 2, 4, 8, 16]);
    expect(retryDelayMs(HLS_RETRY, 20)).toBe(3_600_000);
  });

  it('gives a transient failure a time to try again, until the last attempt', () => {
    expect(failedState(policy, 1, 'ffmpeg crashed', true, t0)).toEqual({ status: 'failed', at: t0.toISOString(), attempts: 1, error: 'ffmpeg crashed', retryAt: after(60_000).toISOString() });
    expect(failedState(policy, 3, 'timeout', true, t0).retryAt).toBe(after(180_000).toISOString());
    expect(failedState(policy, 4, 'timeout', true, t0).retryAt).toBeUndefined();
  });

  it('never retries a permanent failure', () => {
    expect(failedState(policy, 1, 'too long', false, t0)).toEqual({ status: 'failed', at: t0.toISOString(), attempts: 1, error: 'too long' });
  });
});

describe('decideHls', () => {
  it('starts attempt 1 when nothing was asked for', () => {
    expect(decideHls(null, t0, STALE, policy)).toEqual({ kind: 'start', attempt: 1 });
  });

  it('waits for a live attempt and replaces one whose job was lost', () => {
    const processing: HlsState = { status: 'processing', at: t0.toISOString(), attempts: 2 };
    expect(decideHls(processing, after(STALE - 1), STALE, policy)).toEqual({ kind: 'preparing' });
    expect(decideHls(processing, after(STALE), STALE, policy)).toEqual({ kind: 'start', attempt: 3 });
    const last: HlsState = { ...processing, attempts: 4 };
    expect(decideHls(last, after(STALE), STALE, policy)).toMatchObject({ kind: 'refused', attempts: 4 });
  });

  it('answers "later" before the back-off ends and starts the next attempt from then on', () => {
    const failed = failedState(policy, 2, 'ffmpeg failed in its HLS ladder: exit code 1.', true, t0);
    expect(decideHls(failed, after(119_999), STALE, policy)).toEqual({ kind: 'retry-later', attempts: 2, retryAt: after(120_000), error: 'ffmpeg failed in its HLS ladder: exit code 1.' });
    expect(decideHls(failed, after(120_000), STALE, policy)).toEqual({ kind: 'start', attempt: 3 });
    // A clock that went back does not start anything early.
    expect(decideHls(failed, after(-5_000), STALE, policy).kind).toBe('retry-later');
  });

  it('refuses for good a permanent failure and the last attempt, however late', () => {
    const refused = failedState(policy, 1, 'The video does not say how long it is.', false, t0);
    expect(decideHls(refused, after(365 * 86_400_000), STALE, policy)).toEqual({ kind: 'refused', attempts: 1, error: 'The video does not say how long it is.' });
    const exhausted = failedState(policy, 4, 'exit code 1', true, t0);
    expect(decideHls(exhausted, after(365 * 86_400_000), STALE, policy)).toEqual({ kind: 'refused', attempts: 4, error: 'exit code 1' });
  });

  it('takes a failure kept before attempts were counted as attempt 1 of a transient failure', () => {
    const legacy: HlsState = { status: 'failed', at: t0.toISOString(), error: 'old' };
    expect(decideHls(legacy, after(59_000), STALE, policy)).toMatchObject({ kind: 'retry-later', attempts: 1, retryAt: after(60_000) });
    expect(decideHls(legacy, after(60_000), STALE, policy)).toEqual({ kind: 'start', attempt: 2 });
  });

  it('walks a stream that keeps failing through every attempt, then refuses it', () => {
    let state: HlsState | null = null;
    let now = t0;
    const started: number[] = [];
    for (let step = 0; step < 20; step += 1) {
      const decision = decideHls(state, now, STALE, policy);
      if (decision.kind === 'refused') break;
      if (decision.kind === 'start') {
        started.push(decision.attempt);
        state = failedState(policy, decision.attempt, 'crash', true, now);
      }
      now = new Date(now.getTime() + 30_000);
    }
    expect(started).toEqual([1, 2, 3, 4]);
    expect(decideHls(state, after(86_400_000), STALE, policy).kind).toBe('refused');
  });
});
