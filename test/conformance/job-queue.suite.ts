import { Type } from 'typebox';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { JobDefinition, JobSettings, PayloadOf } from '../../src/jobs/catalogue.js';
import { bindJob, enqueueJob } from '../../src/jobs/typed-jobs.js';
import type { JobPayload, JobQueue, JobRegistration, JobRegistry, RetryPolicy, RunningJob } from '../../src/ports/job-queue.js';

export interface JobQueueFixture {
  /**
   * Another queue on the same backend and state, as a second Trove process would have. Every
   * queue made here is closed by cleanup().
   */
  createQueue(): JobQueue;
  cleanup(): Promise<void>;
}

/** Quick retries and leases, so that the whole suite runs in seconds. */
const FAST_RETRY: RetryPolicy = { maxAttempts: 3, baseDelayMs: 50, maxDelayMs: 200 };
/** The named lane the suite's fixtures must accept (a BullMQ queue is built with it). */
export const TEST_LANE = 'slow';
const LEASE_MS = 500;

export function registration(
  handler: (job: RunningJob) => Promise<void>,
  overrides: { retry?: Partial<RetryPolicy>; visibilityTimeoutMs?: number; lane?: string } = {},
): JobRegistration {
  return {
    checkPayload: () => null,
    handler,
    retry: { ...FAST_RETRY, ...overrides.retry },
    visibilityTimeoutMs: overrides.visibilityTimeoutMs ?? 5_000,
    ...(overrides.lane === undefined ? {} : { lane: overrides.lane }),
  };
}

export function registry(entries: Record<string, JobRegistration>): JobRegistry {
  return new Map(Object.entries(entries));
}

/** Records every run a handler sees. */
export function recorder(): { runs: RunningJob[]; handler: (job: RunningJob) => Promise<void> } {
  const runs: RunningJob[] = [];
  return { runs, handler: async (job) => void runs.push(job) };
}

export async function waitFor(condition: () => boolean | Promise<boolean>, what: string, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(10);
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** A promise and the function that resolves it: lets a test hold a handler mid-run. */
function gate(): { opened: Promise<void>; open: () => void } {
  let open = () => undefined as void;
  const opened = new Promise<void>((resolve) => {
    open = resolve;
  });
  return { opened, open };
}

const EMPTY = { waiting: 0, active: 0, delayed: 0, dead: 0 };

/**
 * A job of the catalogue's kind. A retry would wait a minute, so a job that is dead within the
 * test's few seconds was buried on its first attempt.
 */
const THUMBNAIL_JOB = {
  name: 'thumbnail',
  payload: Type.Object({ uuid: Type.String(), sizes: Type.Array(Type.Integer()) }),
  policy: () => ({ retry: { maxAttempts: 3, baseDelayMs: 60_000, maxDelayMs: 60_000 }, visibilityTimeoutMs: 5_000 }),
} satisfies JobDefinition;

/** The catalogue's test job needs none of these. */
const SETTINGS: JobSettings = { webhooks: { timeoutMs: 1_000, retryBaseMs: 1_000 }, transform: { timeoutMs: 1_000 } };

/** Behaviour every JobQueue adapter must share; run it against each with a fresh backend state per test. */
export function runJobQueueConformance(name: string, setup: () => Promise<JobQueueFixture>): void {
  describe(`JobQueue conformance: ${name}`, () => {
    let fixture: JobQueueFixture;
    let queue: JobQueue;

    beforeEach(async () => {
      fixture = await setup();
      queue = fixture.createQueue();
    });

    afterEach(async () => {
      await fixture.cleanup();
    });

    it('runs an enqueued job once, with its payload and attempt 1, then forgets it', async () => {
      const { runs, handler } = recorder();
      await queue.startWorker(registry({ greet: registration(handler) }), { concurrency: 2 });
      const payload: JobPayload = { text: 'hello', count: 3, nested: { list: [1, 'two', null, true] } };
      const before = Date.now();
      const id = await queue.enqueue('greet', payload);

      await waitFor(() => runs.length === 1, 'the job to run');
      await sleep(200);
      expect(runs).toHaveLength(1);
      const [run] = runs;
      expect(run).toMatchObject({ id, name: 'greet', payload, attempt: 1 });
      const enqueuedAt = Date.parse(run!.enqueuedAt);
      expect(run!.enqueuedAt).toBe(new Date(enqueuedAt).toISOString());
      expect(enqueuedAt).toBeGreaterThanOrEqual(before - 1_000);
      expect(enqueuedAt).toBeLessThanOrEqual(Date.now());
      await waitFor(async () => equalCounts(await queue.counts(), EMPTY), 'the finished job to be gone');
    });

    it('keeps jobs enqueued before any worker runs', async () => {
      const ids = [await queue.enqueue('later', { n: 1 }), await queue.enqueue('later', { n: 2 })];
      expect(new Set(ids).size).toBe(2);
      expect(await queue.counts()).toEqual({ ...EMPTY, waiting: 2 });

      const { runs, handler } = recorder();
      const worker = fixture.createQueue();
      await worker.startWorker(registry({ later: registration(handler) }), { concurrency: 1 });
      await waitFor(() => runs.length === 2, 'both jobs to run');
      expect(runs.map((run) => run.id).sort()).toEqual([...ids].sort());
    });

    it('honours a delay', async () => {
      const { runs, handler } = recorder();
      await queue.startWorker(registry({ delayed: registration(handler) }), { concurrency: 1 });
      const enqueuedAt = Date.now();
      await queue.enqueue('delayed', {}, { delayMs: 400 });
      expect(await queue.counts()).toMatchObject({ waiting: 0, delayed: 1 });

      await sleep(200);
      expect(runs).toHaveLength(0);
      await waitFor(() => runs.length === 1, 'the delayed job to run');
      // A little slack for timer and clock granularity.
      expect(Date.now() - enqueuedAt).toBeGreaterThanOrEqual(380);
    });

    it('retries a failing job with growing delays until it succeeds', async () => {
      const seen: Array<{ attempt: number; at: number }> = [];
      const flaky = registration(
        async (job) => {
          seen.push({ attempt: job.attempt, at: Date.now() });
          if (job.attempt < 3) throw new Error(`failure ${job.attempt}`);
        },
        { retry: { maxAttempts: 5, baseDelayMs: 100, maxDelayMs: 1_000 } },
      );
      await queue.startWorker(registry({ flaky }), { concurrency: 1 });
      await queue.enqueue('flaky', { x: 1 });

      await waitFor(() => seen.length === 3, 'the third attempt');
      await sleep(300);
      expect(seen.map((s) => s.attempt)).toEqual([1, 2, 3]);
      // 100 ms then 200 ms, each with up to 10 % jitter either way (and a little for polling).
      expect(seen[1]!.at - seen[0]!.at).toBeGreaterThanOrEqual(85);
      expect(seen[2]!.at - seen[1]!.at).toBeGreaterThanOrEqual(175);
      await waitFor(async () => equalCounts(await queue.counts(), EMPTY), 'the succeeded job to be gone');
    });

    it('keeps a job whose retries are exhausted as dead and never runs it again', async () => {
      let calls = 0;
      const doomed = registration(
        async () => {
          calls += 1;
          throw new Error('always fails');
        },
        { retry: { maxAttempts: 2, baseDelayMs: 50, maxDelayMs: 50 } },
      );
      await queue.startWorker(registry({ doomed }), { concurrency: 1 });
      await queue.enqueue('doomed', {});

      await waitFor(async () => (await queue.counts()).dead === 1, 'the job to be dead');
      await sleep(400);
      expect(calls).toBe(2);
      expect(await queue.counts()).toEqual({ ...EMPTY, dead: 1 });
      const [dead, ...others] = await queue.deadJobs(10);
      expect(others).toEqual([]);
      expect(dead).toMatchObject({ name: 'doomed', payload: {} });
      expect(dead!.reason).toContain('always fails');
    });

    it('buries a job whose payload does not match its schema at once, with the reason, unseen by its handler', async () => {
      const { runs, handler } = recorder();
      await queue.startWorker(registry({ [THUMBNAIL_JOB.name]: bindJob(THUMBNAIL_JOB, handler, SETTINGS) }), { concurrency: 1 });
      // As a producer of another version, or a hand-edited row, might have written it.
      const id = await queue.enqueue(THUMBNAIL_JOB.name, { uuid: 42, sizes: [100, 'large'] });

      await waitFor(async () => (await queue.counts()).dead === 1, 'the job to be dead');
      await sleep(300);
      expect(runs).toEqual([]);
      expect(await queue.counts()).toEqual({ ...EMPTY, dead: 1 });
      expect(await queue.deadJobs(10)).toEqual([
        { id, name: 'thumbnail', payload: { uuid: 42, sizes: [100, 'large'] }, reason: expect.stringMatching(/^payload of thumbnail: /) },
      ]);
      const reason = (await queue.deadJobs(1))[0]?.reason;
      expect(reason).toContain('/uuid must be string');
      expect(reason).toContain('/sizes/1 must be integer');
    });

    it('hands a payload that matches its schema to the handler, typed', async () => {
      const seen: Array<PayloadOf<typeof THUMBNAIL_JOB>> = [];
      const handler = async (run: RunningJob<PayloadOf<typeof THUMBNAIL_JOB>>) => {
        // Typed: a string and a list of numbers, with no checks of its own.
        seen.push({ uuid: run.payload.uuid.toUpperCase(), sizes: run.payload.sizes.map((size) => size * 2) });
      };
      await queue.startWorker(registry({ [THUMBNAIL_JOB.name]: bindJob(THUMBNAIL_JOB, handler, SETTINGS) }), { concurrency: 1 });
      await enqueueJob(queue, THUMBNAIL_JOB, { uuid: 'abc', sizes: [100, 200] });
      // @ts-expect-error a payload that does not fit the job's schema does not compile
      const misfit = () => enqueueJob(queue, THUMBNAIL_JOB, { uuid: 'abc', sizes: ['100'] });
      expect(misfit).toBeTypeOf('function');

      await waitFor(() => seen.length === 1, 'the job to run');
      expect(seen).toEqual([{ uuid: 'ABC', sizes: [200, 400] }]);
      await waitFor(async () => equalCounts(await queue.counts(), EMPTY), 'the finished job to be gone');
      expect(await queue.deadJobs(10)).toEqual([]);
    });

    it('collapses duplicates of a pending job with the same dedupe key', async () => {
      const first = await queue.enqueue('sweep', { n: 1 }, { dedupeKey: 'sweep:a' });
      expect(await queue.enqueue('sweep', { n: 2 }, { dedupeKey: 'sweep:a' })).toBe(first);
      expect(await fixture.createQueue().enqueue('sweep', { n: 3 }, { dedupeKey: 'sweep:a' })).toBe(first);
      const other = await queue.enqueue('sweep', { n: 4 }, { dedupeKey: 'sweep:b' });
      expect(other).not.toBe(first);
      const delayed = await queue.enqueue('sweep', { n: 5 }, { dedupeKey: 'sweep:c', delayMs: 60_000 });
      expect(await queue.enqueue('sweep', { n: 6 }, { dedupeKey: 'sweep:c' })).toBe(delayed);
      expect(await queue.counts()).toEqual({ ...EMPTY, waiting: 2, delayed: 1 });

      const { runs, handler } = recorder();
      await queue.startWorker(registry({ sweep: registration(handler) }), { concurrency: 2 });
      await waitFor(() => runs.length === 2, 'both distinct jobs to run');
      await sleep(200);
      expect(runs.map((run) => run.payload).sort(byN)).toEqual([{ n: 1 }, { n: 4 }]);

      // Once the job has run, the key is free again.
      const again = await queue.enqueue('sweep', { n: 7 }, { dedupeKey: 'sweep:a' });
      expect(again).not.toBe(first);
      await waitFor(() => runs.length === 3, 'the new job to run');
      expect(runs[2]).toMatchObject({ id: again, payload: { n: 7 } });
    });

    it('lets a job be enqueued while another with the same dedupe key is running', async () => {
      const hold = gate();
      const runs: RunningJob[] = [];
      const purge = registration(async (job) => {
        runs.push(job);
        if (job.payload.n === 1) await hold.opened;
      });
      await queue.startWorker(registry({ purge }), { concurrency: 2 });
      const running = await queue.enqueue('purge', { n: 1 }, { dedupeKey: 'purge:f' });
      await waitFor(() => runs.length === 1, 'the first job to start');

      const next = await queue.enqueue('purge', { n: 2 }, { dedupeKey: 'purge:f' });
      expect(next).not.toBe(running);
      await waitFor(() => runs.length === 2, 'the second job to run');
      hold.open();
      await waitFor(async () => equalCounts(await queue.counts(), EMPTY), 'both jobs to finish');
      expect(runs.map((run) => run.payload).sort(byN)).toEqual([{ n: 1 }, { n: 2 }]);
    });

    it('runs a job again on another worker when its worker dies mid-run', async () => {
      const started: RunningJob[] = [];
      // Never finishes, as if the process had died while running it.
      const hung = registration(
        async (job) => {
          started.push(job);
          await new Promise<never>(() => undefined);
        },
        { visibilityTimeoutMs: LEASE_MS },
      );
      await queue.startWorker(registry({ fragile: hung }), { concurrency: 1 });
      const id = await queue.enqueue('fragile', { file: 'f1' });
      await waitFor(() => started.length === 1, 'the first run to start');
      await queue.stopWorker(0);

      const { runs, handler } = recorder();
      const survivor = fixture.createQueue();
      await survivor.startWorker(registry({ fragile: registration(handler, { visibilityTimeoutMs: LEASE_MS }) }), {
        concurrency: 1,
      });
      await waitFor(() => runs.length === 1, 'the job to run on the surviving worker', 8_000);
      expect(runs[0]).toMatchObject({ id, name: 'fragile', payload: { file: 'f1' }, attempt: 2 });
      expect(started).toHaveLength(1);
      await waitFor(async () => equalCounts(await survivor.counts(), EMPTY), 'the job to be done');
    });

    it('hands each of 200 jobs to exactly one of two workers', async () => {
      const runsBy = new Map<string, string[]>();
      const counting = (worker: string) =>
        registration(async (job) => {
          runsBy.set(job.id, [...(runsBy.get(job.id) ?? []), worker]);
          await sleep(Math.random() * 4);
        });
      const other = fixture.createQueue();
      await queue.startWorker(registry({ bulk: counting('a') }), { concurrency: 4 });
      await other.startWorker(registry({ bulk: counting('b') }), { concurrency: 4 });

      const producer = fixture.createQueue();
      const ids: string[] = [];
      for (let batch = 0; batch < 10; batch += 1) {
        ids.push(...(await Promise.all(Array.from({ length: 20 }, (_, i) => producer.enqueue('bulk', { i: batch * 20 + i })))));
      }
      expect(new Set(ids).size).toBe(200);

      await waitFor(() => runsBy.size === 200, 'all 200 jobs to run', 20_000);
      await sleep(300);
      const runCounts = [...runsBy.values()].map((workers) => workers.length);
      expect(runCounts.filter((count) => count !== 1)).toEqual([]);
      expect([...runsBy.keys()].sort()).toEqual([...ids].sort());
      const workers = [...runsBy.values()].flat();
      expect(workers.filter((w) => w === 'a').length).toBeGreaterThan(0);
      expect(workers.filter((w) => w === 'b').length).toBeGreaterThan(0);
      await waitFor(async () => equalCounts(await producer.counts(), EMPTY), 'the queue to be empty');
    });

    it('leaves jobs it has no registration for to a worker that has one', async () => {
      const { runs: known, handler: knownHandler } = recorder();
      await queue.startWorker(registry({ known: registration(knownHandler) }), { concurrency: 2 });
      const foreign = await queue.enqueue('from-a-newer-version', { v: 2 });
      await queue.enqueue('known', {});
      await waitFor(() => known.length === 1, 'the known job to run');
      await sleep(300);

      const counts = await queue.counts();
      expect(counts.dead).toBe(0);
      expect(counts.waiting + counts.delayed).toBe(1);
      // The old worker steps aside (as in a finished rolling upgrade): while it runs, it may keep
      // winning the race for the job under load, which made this case time out now and then.
      await queue.stopWorker(5_000);

      const { runs, handler } = recorder();
      const newer = fixture.createQueue();
      await newer.startWorker(registry({ 'from-a-newer-version': registration(handler) }), { concurrency: 1 });
      await waitFor(() => runs.length === 1, 'the newer worker to run it');
      expect(runs[0]).toMatchObject({ id: foreign, payload: { v: 2 }, attempt: 1 });
      expect(known).toHaveLength(1);
    });

    it('waits in stopWorker for running handlers, then takes no more jobs', async () => {
      let finished = 0;
      const started: string[] = [];
      const slow = registration(async (job) => {
        started.push(job.id);
        await sleep(300);
        finished += 1;
      });
      await queue.startWorker(registry({ slow }), { concurrency: 2 });
      await queue.enqueue('slow', {});
      await queue.enqueue('slow', {});
      await waitFor(() => started.length === 2, 'both jobs to start');

      const stopping = Date.now();
      await queue.stopWorker(5_000);
      expect(finished).toBe(2);
      expect(Date.now() - stopping).toBeGreaterThanOrEqual(150);
      expect(Date.now() - stopping).toBeLessThan(3_000);
      expect(await queue.counts()).toEqual(EMPTY);

      await queue.enqueue('slow', {});
      await sleep(400);
      expect(started).toHaveLength(2);
      expect(await queue.counts()).toEqual({ ...EMPTY, waiting: 1 });
    });

    it('stops waiting for handlers after the grace period', async () => {
      const started: string[] = [];
      const stuck = registration(async (job) => {
        started.push(job.id);
        await new Promise<never>(() => undefined);
      });
      await queue.startWorker(registry({ stuck }), { concurrency: 1 });
      await queue.enqueue('stuck', {});
      await waitFor(() => started.length === 1, 'the job to start');

      const stopping = Date.now();
      await queue.stopWorker(200);
      const elapsed = Date.now() - stopping;
      expect(elapsed).toBeGreaterThanOrEqual(150);
      expect(elapsed).toBeLessThan(2_500);
    });

    it('counts waiting and delayed jobs', async () => {
      expect(await queue.counts()).toEqual(EMPTY);
      await queue.enqueue('idle', { n: 1 });
      await queue.enqueue('idle', { n: 2 });
      await queue.enqueue('idle', { n: 3 }, { delayMs: 60_000 });
      expect(await queue.counts()).toEqual({ waiting: 2, active: 0, delayed: 1, dead: 0 });
    });

    it('counts running, retrying and dead jobs', async () => {
      const hold = gate();
      let busyStarted = false;
      const jobs = registry({
        busy: registration(async () => {
          busyStarted = true;
          await hold.opened;
        }),
        doomed: registration(async () => Promise.reject(new Error('no')), { retry: { maxAttempts: 1 } }),
        retrying: registration(async () => Promise.reject(new Error('not yet')), {
          retry: { maxAttempts: 2, baseDelayMs: 60_000, maxDelayMs: 60_000 },
        }),
      });
      await queue.startWorker(jobs, { concurrency: 3 });
      await queue.enqueue('busy', {});
      await queue.enqueue('doomed', {});
      await queue.enqueue('retrying', {});

      await waitFor(
        async () => busyStarted && equalCounts(await queue.counts(), { waiting: 0, active: 1, delayed: 1, dead: 1 }),
        'one running, one retrying and one dead job',
      );
      hold.open();
      await waitFor(
        async () => equalCounts(await queue.counts(), { waiting: 0, active: 0, delayed: 1, dead: 1 }),
        'the running job to finish',
      );
    });

    it('runs a named lane with a capacity of its own, apart from the default lane', async () => {
      const hold = gate();
      const longStarted: number[] = [];
      let longRunning = 0;
      let mostLongAtOnce = 0;
      const { runs: shortRuns, handler: shortHandler } = recorder();
      const jobs = registry({
        long: registration(
          async (job) => {
            longStarted.push(Number(job.payload.n));
            longRunning += 1;
            mostLongAtOnce = Math.max(mostLongAtOnce, longRunning);
            await hold.opened;
            longRunning -= 1;
          },
          { lane: TEST_LANE },
        ),
        short: registration(shortHandler),
      });
      for (let n = 1; n <= 3; n += 1) await queue.enqueue('long', { n }, { lane: TEST_LANE });
      for (let n = 1; n <= 4; n += 1) await queue.enqueue('short', { n });
      await queue.startWorker(jobs, { concurrency: 1, lanes: new Map([[TEST_LANE, 2]]) });

      // Two long jobs hold their lane; the default lane's one lease still runs every short job.
      await waitFor(() => longStarted.length === 2 && shortRuns.length === 4, 'two long jobs and every short job to start');
      await sleep(300);
      expect(longStarted).toHaveLength(2);
      expect(await queue.counts()).toMatchObject({ active: 2, waiting: 1 });
      hold.open();
      await waitFor(async () => equalCounts(await queue.counts(), EMPTY), 'every job to finish');
      expect(longStarted.sort()).toEqual([1, 2, 3]);
      expect(mostLongAtOnce).toBe(2);
    });

    it("takes a lane's jobs in turns by fairness key, oldest first within a turn", async () => {
      const order: string[] = [];
      const jobs = registry({ convert: registration(async (job) => void order.push(String(job.payload.key)), { lane: TEST_LANE }) });
      const enqueue = async (key: string, count: number) => {
        for (let i = 0; i < count; i += 1) {
          await queue.enqueue('convert', { key }, { lane: TEST_LANE, fairnessKey: key });
          // Jobs enqueued within one millisecond have no order among themselves.
          await sleep(2);
        }
      };
      await enqueue('a', 6);
      await enqueue('b', 2);
      await enqueue('c', 1);
      await queue.startWorker(jobs, { concurrency: 1, lanes: new Map([[TEST_LANE, 1]]) });
      await waitFor(() => order.length === 9, 'all nine jobs to run');
      // Turn 1 of every key, then turn 2 of those with two, then the rest of a's backlog.
      expect(order).toEqual(['a', 'b', 'c', 'a', 'b', 'a', 'a', 'a', 'a']);
    });

    it('gives a key that had nothing queued no turn ahead of turns already given', async () => {
      const hold = gate();
      const order: string[] = [];
      const jobs = registry({
        convert: registration(
          async (job) => {
            order.push(String(job.payload.key));
            if (order.length === 1) await hold.opened;
          },
          { lane: TEST_LANE },
        ),
      });
      await queue.startWorker(jobs, { concurrency: 1, lanes: new Map([[TEST_LANE, 1]]) });
      for (const key of ['a', 'a', 'b', 'b']) {
        await queue.enqueue('convert', { key }, { lane: TEST_LANE, fairnessKey: key });
        await sleep(2);
      }
      await waitFor(() => order.length === 1, 'the first job to start');
      // a and b have each one job waiting; c's first job comes after their next turns... or with them,
      // never before a job of a turn already given to a waiting key.
      await queue.enqueue('convert', { key: 'c' }, { lane: TEST_LANE, fairnessKey: 'c' });
      hold.open();
      await waitFor(() => order.length === 5, 'all five jobs to run');
      expect(order[0]).toBe('a');
      expect(order.slice(1, 4).sort()).toEqual(['a', 'b', 'c']);
      expect(order[4]).toBe('b');
    });

    it('refuses a fairness key outside a named lane, and a lane without a capacity', async () => {
      await expect(queue.enqueue('convert', {}, { fairnessKey: 'p1' })).rejects.toThrow(/fairness key/);
      const jobs = registry({ convert: registration(async () => undefined, { lane: TEST_LANE }) });
      await expect(queue.startWorker(jobs, { concurrency: 1 })).rejects.toThrow(/no capacity/);
      await expect(queue.startWorker(jobs, { concurrency: 1, lanes: new Map([[TEST_LANE, 0]]) })).rejects.toThrow(/integer >= 1/);
    });

    it('answers ping', async () => {
      await expect(queue.ping()).resolves.toBeUndefined();
    });

    it('rejects enqueue after close', async () => {
      await queue.close();
      await expect(queue.enqueue('late', {})).rejects.toThrow(/closed/);
    });
  });
}

function byN(a: JobPayload, b: JobPayload): number {
  return Number(a.n) - Number(b.n);
}

function equalCounts(actual: object, expected: object): boolean {
  return JSON.stringify(actual, Object.keys(expected).sort()) === JSON.stringify(expected, Object.keys(expected).sort());
}
