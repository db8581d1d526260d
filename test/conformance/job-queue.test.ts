import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Redis } from 'ioredis';
import pg from 'pg';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { DatabaseConfig } from '../../src/config/config.js';
import { KyselyMetadataStore } from '../../src/adapters/db/kysely-metadata-store.js';
import { BullMqJobQueue, type BullMqJobQueueOptions } from '../../src/adapters/queue/bullmq.job-queue.js';
import { JobQueueUnavailableError } from '../../src/adapters/queue/errors.js';
import { retryDelayMs } from '../../src/adapters/queue/retry-delay.js';
import type { SqlJobQueue } from '../../src/adapters/queue/sql.job-queue.js';
import type { JobQueue, RunningJob } from '../../src/ports/job-queue.js';
import { createTestDatabase, postgresUnavailableReason, REQUIRE_SCALE } from '../helpers/backends.js';
import { redisUnavailableReason } from '../helpers/test-redis.js';
import {
  recorder,
  registration,
  registry,
  runJobQueueConformance,
  sleep,
  TEST_LANE,
  waitFor,
  type JobQueueFixture,
} from './job-queue.suite.js';

const TEST_REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
const SQL_POLL_MS = 50;

/** Queues on one database, each with a store (and connection) of its own, as separate processes would have. */
class SqlBackend {
  private readonly stores: KyselyMetadataStore[] = [];
  private readonly queues: JobQueue[] = [];

  constructor(private readonly config: DatabaseConfig) {}

  store(): KyselyMetadataStore {
    const store = new KyselyMetadataStore(this.config);
    this.stores.push(store);
    return store;
  }

  queue(): SqlJobQueue {
    const queue = this.store().createJobQueue({ pollIntervalMs: SQL_POLL_MS });
    this.queues.push(queue);
    return queue;
  }

  /** Queues first: they share their store's connection, which only the store closes. */
  async close(): Promise<void> {
    for (const queue of this.queues.splice(0)) await queue.close();
    for (const store of this.stores.splice(0)) await store.close();
  }
}

async function sqliteFixture(): Promise<JobQueueFixture & { backend: SqlBackend }> {
  const dir = await mkdtemp(path.join(tmpdir(), 'trove-jobs-'));
  const backend = new SqlBackend({ kind: 'sqlite', path: path.join(dir, 'trove.db') });
  await backend.store().migrate();
  return {
    backend,
    createQueue: () => backend.queue(),
    cleanup: async () => {
      await backend.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

describe('retry delays shared by the adapters', () => {
  const policy = { maxAttempts: 10, baseDelayMs: 100, maxDelayMs: 1_000 };

  it('start at baseDelayMs and double per attempt, up to maxDelayMs', () => {
    const middle = () => 0.5;
    expect([1, 2, 3, 4, 5, 6].map((attempt) => retryDelayMs(policy, attempt, middle))).toEqual([100, 200, 400, 800, 1_000, 1_000]);
    expect(retryDelayMs(policy, 5_000, middle)).toBe(1_000);
  });

  it('jitter by at most 10 % and never past the cap', () => {
    expect(retryDelayMs(policy, 1, () => 0)).toBe(90);
    expect(retryDelayMs(policy, 1, () => 1)).toBe(110);
    expect(retryDelayMs(policy, 10, () => 1)).toBe(1_000);
    expect(retryDelayMs(policy, 10, () => 0)).toBe(900);
  });
});

describe('SqlJobQueue on SQLite', () => {
  runJobQueueConformance('sql (sqlite)', sqliteFixture);

  describe('SQL specifics', () => {
    let fixture: Awaited<ReturnType<typeof sqliteFixture>>;
    beforeEach(async () => {
      fixture = await sqliteFixture();
    });
    afterEach(async () => {
      await fixture.cleanup();
    });

    it('keeps the dedupe key of a job waiting for its retry', async () => {
      const queue = fixture.createQueue();
      let calls = 0;
      await queue.startWorker(
        registry({
          flaky: registration(
            async () => {
              calls += 1;
              throw new Error('later');
            },
            { retry: { maxAttempts: 2, baseDelayMs: 60_000, maxDelayMs: 60_000 } },
          ),
        }),
        { concurrency: 1 },
      );
      const id = await queue.enqueue('flaky', {}, { dedupeKey: 'k' });
      await waitFor(async () => (await queue.counts()).delayed === 1, 'the retry to be scheduled');
      expect(calls).toBe(1);
      expect(await queue.enqueue('flaky', {}, { dedupeKey: 'k' })).toBe(id);
    });

    it('retries a job whose dedupe key was taken by a newer job while it ran', async () => {
      const queue = fixture.createQueue();
      const runs: RunningJob[] = [];
      let releaseFirst = () => undefined as void;
      const firstMayFail = new Promise<void>((resolve) => {
        releaseFirst = resolve;
      });
      await queue.startWorker(
        registry({
          purge: registration(async (job) => {
            runs.push(job);
            if (job.payload.n === 1 && job.attempt === 1) {
              await firstMayFail;
              throw new Error('first run fails');
            }
          }),
        }),
        { concurrency: 1 },
      );
      const first = await queue.enqueue('purge', { n: 1 }, { dedupeKey: 'p' });
      await waitFor(() => runs.length === 1, 'the first run');
      // Enqueued while the first job runs; with concurrency 1 it waits, holding the key.
      const second = await queue.enqueue('purge', { n: 2 }, { dedupeKey: 'p' });
      expect(second).not.toBe(first);
      releaseFirst();

      await waitFor(() => runs.length === 3, 'the retry and the newer job');
      expect(runs.filter((run) => run.id === first).map((run) => run.attempt)).toEqual([1, 2]);
      expect(runs.filter((run) => run.id === second)).toHaveLength(1);
    });

    it('does not let a worker that lost its lease reschedule the job', async () => {
      let offsetMs = 0;
      const queue = fixture.backend.store().createJobQueue({ pollIntervalMs: SQL_POLL_MS, now: () => Date.now() + offsetMs });
      const runs: RunningJob[] = [];
      const releases = new Map<number, () => void>();
      try {
        await queue.startWorker(
          registry({
            slow: registration(
              async (job) => {
                runs.push(job);
                await new Promise<void>((resolve) => releases.set(job.attempt, resolve));
                if (job.attempt === 1) throw new Error('too late');
              },
              { visibilityTimeoutMs: 10_000, retry: { maxAttempts: 3 } },
            ),
          }),
          { concurrency: 2 },
        );
        await queue.enqueue('slow', {});
        await waitFor(() => runs.length === 1, 'the first attempt');
        // Attempt 1's lease runs out while it still runs, so the job is taken again as attempt 2.
        offsetMs += 11_000;
        await waitFor(() => runs.length === 2, 'the second attempt');

        // Attempt 1's failure arrives while attempt 2 runs: it must not put the job back to waiting.
        releases.get(1)!();
        await sleep(100);
        expect(await queue.counts()).toEqual({ waiting: 0, active: 1, delayed: 0, dead: 0 });

        releases.get(2)!();
        await waitFor(async () => (await queue.counts()).active === 0, 'attempt 2 to finish');
        expect(runs.map((run) => run.attempt)).toEqual([1, 2]);
        expect(await queue.counts()).toEqual({ waiting: 0, active: 0, delayed: 0, dead: 0 });
      } finally {
        await queue.close();
      }
    });

    it('buries a job whose last attempt lost its lease', async () => {
      const queue = fixture.createQueue();
      let calls = 0;
      await queue.startWorker(
        registry({
          hang: registration(
            async () => {
              calls += 1;
              await new Promise<never>(() => undefined);
            },
            { visibilityTimeoutMs: 100, retry: { maxAttempts: 1 } },
          ),
        }),
        { concurrency: 2 },
      );
      await queue.enqueue('hang', {});
      await waitFor(async () => (await queue.counts()).dead === 1, 'the job to be dead');
      expect(calls).toBe(1);
    });

    it('refuses invalid registrations and a second worker', async () => {
      const queue = fixture.createQueue();
      const { handler } = recorder();
      await expect(
        queue.startWorker(registry({ bad: registration(handler, { retry: { maxAttempts: 0 } }) }), { concurrency: 1 }),
      ).rejects.toThrow(/maxAttempts/);
      await expect(queue.startWorker(registry({}), { concurrency: 0 })).rejects.toThrow(/concurrency/);
      await queue.startWorker(registry({}), { concurrency: 1 });
      await expect(queue.startWorker(registry({}), { concurrency: 1 })).rejects.toThrow(/already running/);
    });

    it('leaves the shared database open when the queue closes', async () => {
      const store = fixture.backend.store();
      const queue = store.createJobQueue();
      await queue.close();
      await expect(store.ping()).resolves.toBeUndefined();
    });
  });
});

const postgresReason = await postgresUnavailableReason();
const skipPostgres = postgresReason !== null && !REQUIRE_SCALE;
if (skipPostgres) {
  console.warn(`[trove tests] skipping SqlJobQueue on PostgreSQL: ${postgresReason}. Set TROVE_TEST_REQUIRE_SCALE=1 to make this an error.`);
}

describe.skipIf(skipPostgres)('SqlJobQueue on PostgreSQL', () => {
  let database: Awaited<ReturnType<typeof createTestDatabase>>;

  beforeAll(async () => {
    database = await createTestDatabase();
    const migrator = new KyselyMetadataStore({ kind: 'postgres', url: database.url, poolSize: 1 });
    try {
      await migrator.migrate();
    } finally {
      await migrator.close();
    }
  });

  afterAll(async () => {
    await database?.drop();
  });

  // One database for the suite; each test starts from an empty jobs table.
  runJobQueueConformance('sql (postgres)', async () => {
    await emptyJobs(database.url);
    const backend = new SqlBackend({ kind: 'postgres', url: database.url, poolSize: 5 });
    return { createQueue: () => backend.queue(), cleanup: () => backend.close() };
  });
});

async function emptyJobs(url: string): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query('delete from jobs');
  } finally {
    await client.end();
  }
}

const redisReason = await redisUnavailableReason(TEST_REDIS_URL);
const skipRedis = redisReason !== null && !REQUIRE_SCALE;
if (skipRedis) {
  console.warn(`[trove tests] skipping BullMqJobQueue: ${redisReason}. Set TROVE_TEST_REQUIRE_SCALE=1 to make this an error.`);
}

describe.skipIf(skipRedis)('BullMqJobQueue on Redis', () => {
  const runId = randomUUID().slice(0, 8);
  let testCount = 0;

  /** Each test gets a key prefix of its own, deleted afterwards. */
  function bullFixture(overrides: Partial<BullMqJobQueueOptions> = {}): JobQueueFixture {
    testCount += 1;
    const prefix = `trove-test-${runId}-${testCount}`;
    const queues: BullMqJobQueue[] = [];
    return {
      createQueue: () => {
        const queue = new BullMqJobQueue({
          url: TEST_REDIS_URL,
          prefix,
          unregisteredRetryMs: 200,
          commandTimeoutMs: 2_000,
          lanes: [TEST_LANE],
          ...overrides,
        });
        queues.push(queue);
        return queue;
      },
      cleanup: async () => {
        for (const queue of queues.splice(0)) await queue.close();
        await deleteKeys(TEST_REDIS_URL, `${prefix}:*`);
      },
    };
  }

  runJobQueueConformance('bullmq', async () => bullFixture());

  describe('BullMQ specifics', () => {
    it('rejects enqueue, counts and ping with a clear error while Redis is down, without crashing', async () => {
      const errors: Error[] = [];
      // Nothing listens on port 1.
      const queue = new BullMqJobQueue({ url: 'redis://127.0.0.1:1', commandTimeoutMs: 300, onError: (e) => errors.push(e) });
      try {
        const started = Date.now();
        await expect(queue.enqueue('x', {})).rejects.toThrow(JobQueueUnavailableError);
        await expect(queue.enqueue('x', {})).rejects.toThrow(/Redis is unreachable/);
        await expect(queue.counts()).rejects.toThrow(JobQueueUnavailableError);
        await expect(queue.ping()).rejects.toThrow(JobQueueUnavailableError);
        expect(Date.now() - started).toBeLessThan(3_000);
        await queue.startWorker(registry({ x: registration(recorder().handler) }), { concurrency: 1 });
        await sleep(300);
      } finally {
        await queue.close();
      }
    });

    it('keeps dead jobs in the failed set with their error', async () => {
      const fixture = bullFixture();
      try {
        const queue = fixture.createQueue();
        await queue.startWorker(
          registry({ doomed: registration(async () => Promise.reject(new Error('broken target')), { retry: { maxAttempts: 1 } }) }),
          { concurrency: 1 },
        );
        const id = await queue.enqueue('doomed', {});
        await waitFor(async () => (await queue.counts()).dead === 1, 'the job to be dead');
        expect(await queue.deadJobs(5)).toEqual([{ id, name: 'doomed', payload: {}, reason: 'Error: broken target' }]);
      } finally {
        await fixture.cleanup();
      }
    });
  });
});


async function deleteKeys(url: string, pattern: string): Promise<void> {
  const client = new Redis(url, { maxRetriesPerRequest: 1 });
  client.on('error', () => undefined);
  try {
    let cursor = '0';
    do {
      const [next, keys] = await client.scan(cursor, 'MATCH', pattern, 'COUNT', 500);
      if (keys.length > 0) await client.del(...keys);
      cursor = next;
    } while (cursor !== '0');
  } finally {
    client.disconnect();
  }
}
