import { DelayedError, Queue, UnrecoverableError, Worker, type Job, type JobsOptions } from 'bullmq';
import { Redis } from 'ioredis';
import type { DeadJob, EnqueueOptions, JobCounts, JobPayload, JobQueue, JobRegistry } from '../../ports/job-queue.js';
import { describeFailure, JobQueueClosedError, JobQueueUnavailableError } from './errors.js';
import { assertValidConcurrency, assertValidRegistration, retryDelayMs } from './retry-delay.js';
import { settlesWithin, withTimeout } from './timing.js';

export interface BullMqJobQueueOptions {
  /** redis:// or rediss:// URL. */
  url: string;
  /** Prefix of every Redis key the queue writes (BullMQ's `prefix`). Default `trove`. */
  prefix?: string;
  /** The one BullMQ queue all job names share. Default `jobs`. */
  queueName?: string;
  /** How long enqueue, counts and ping wait for Redis before failing. Default 5 s. */
  commandTimeoutMs?: number;
  /**
   * A job this process has no registration for goes back to the delayed set for this long, so a
   * worker that knows it (another Trove version) can take it. Default 5 s.
   */
  unregisteredRetryMs?: number;
  /**
   * How often workers look for jobs whose worker died. Default: the shortest visibilityTimeoutMs in
   * the registry, so a lost job runs again within about two visibility timeouts.
   */
  stalledCheckIntervalMs?: number;
  /** Connection and bookkeeping failures that no caller is waiting for. */
  onError?: (error: Error) => void;
}

/** Job options every Trove job gets; retries are decided by the worker's registry, not at enqueue. */
const JOB_DEFAULTS: JobsOptions = {
  // Effectively unlimited: the worker fails a job for good (UnrecoverableError) once the attempt
  // number reaches its registration's maxAttempts, which only the worker knows.
  attempts: 1_000_000,
  backoff: { type: 'trove' },
  removeOnComplete: true,
  // Dead jobs stay in the failed set for inspection.
  removeOnFail: false,
};

/**
 * JobQueue on BullMQ: one queue, one Worker per process. The Redis connections are owned here and
 * closed by close().
 *
 * Mapping of the port: RetryPolicy → a custom backoff strategy looked up by job name;
 * visibilityTimeoutMs → lockDuration (the shortest in the registry; BullMQ renews the lock while the
 * handler runs, and a dead worker's job is moved back by the stalled checker); dedupeKey → BullMQ
 * deduplication, released when the job starts so that a job enqueued while another with the same
 * key runs is kept (unlike the SQL queue, a job waiting for a retry no longer holds its key); dead →
 * the failed set.
 */
export class BullMqJobQueue implements JobQueue {
  private readonly commandTimeoutMs: number;
  private readonly unregisteredRetryMs: number;
  private readonly stalledCheckIntervalMs: number | undefined;
  private readonly onError: (error: Error) => void;
  private readonly prefix: string;
  private readonly queueName: string;
  /** Fails fast while Redis is down (no offline queue), so enqueue never hangs behind a reconnect. */
  private readonly connection: Redis;
  /**
   * Never connected itself: BullMQ duplicates it for the worker's connections, which must retry
   * forever (a blocking connection may not give up on a command).
   */
  private readonly workerTemplate: Redis;
  private readonly queue: Queue<JobPayload, void, string>;
  private worker: Worker<JobPayload, void, string> | null = null;
  private registry: JobRegistry = new Map();
  private closed = false;

  constructor(options: BullMqJobQueueOptions) {
    this.commandTimeoutMs = options.commandTimeoutMs ?? 5_000;
    this.unregisteredRetryMs = options.unregisteredRetryMs ?? 5_000;
    this.stalledCheckIntervalMs = options.stalledCheckIntervalMs;
    this.onError = options.onError ?? (() => undefined);
    this.prefix = options.prefix ?? 'trove';
    this.queueName = options.queueName ?? 'jobs';

    this.connection = new Redis(options.url, {
      enableOfflineQueue: false,
      maxRetriesPerRequest: 1,
      connectTimeout: this.commandTimeoutMs,
    });
    this.workerTemplate = new Redis(options.url, {
      lazyConnect: true,
      maxRetriesPerRequest: null,
      connectTimeout: this.commandTimeoutMs,
    });
    // ioredis reports every failed reconnect; BullMQ forwards them as the queue's 'error' below.
    this.connection.on('error', () => undefined);
    this.workerTemplate.on('error', () => undefined);

    this.queue = new Queue<JobPayload, void, string>(this.queueName, {
      connection: this.connection,
      prefix: this.prefix,
      defaultJobOptions: JOB_DEFAULTS,
    });
    // An EventEmitter 'error' without a listener would crash the process.
    this.queue.on('error', (error: Error) => this.onError(error));
  }

  async enqueue(name: string, payload: JobPayload, options: EnqueueOptions = {}): Promise<string> {
    if (this.closed) throw new JobQueueClosedError();
    const jobOptions: JobsOptions = {};
    if (options.delayMs !== undefined && options.delayMs > 0) jobOptions.delay = options.delayMs;
    if (options.dedupeKey !== undefined) jobOptions.deduplication = { id: options.dedupeKey };
    const job = await this.redisCall(`enqueue job "${name}"`, () => this.queue.add(name, payload, jobOptions));
    if (job.id === undefined) throw new Error(`BullMQ returned no id for job "${name}"`);
    return job.id;
  }

  async startWorker(registry: JobRegistry, options: { concurrency: number }): Promise<void> {
    if (this.closed) throw new JobQueueClosedError();
    if (this.worker) throw new Error('the job worker is already running');
    assertValidConcurrency(options.concurrency);
    for (const [name, registration] of registry) assertValidRegistration(name, registration);
    this.registry = registry;

    const visibility = [...registry.values()].map((r) => r.visibilityTimeoutMs);
    const lockDuration = visibility.length > 0 ? Math.min(...visibility) : 30_000;
    const worker = new Worker<JobPayload, void, string>(this.queueName, (job, token) => this.process(job, token), {
      connection: this.workerTemplate,
      prefix: this.prefix,
      concurrency: options.concurrency,
      lockDuration,
      stalledInterval: this.stalledCheckIntervalMs ?? lockDuration,
      // The worker decides when a lost job has run too often (see process()), not BullMQ's default of 1.
      maxStalledCount: 1_000_000,
      settings: {
        backoffStrategy: (attemptsMade: number, _type?: string, _error?: Error, job?: { name: string }) => {
          const retry = job ? this.registry.get(job.name)?.retry : undefined;
          return retry ? retryDelayMs(retry, attemptsMade) : 0;
        },
      },
    });
    worker.on('error', (error: Error) => this.onError(error));
    this.worker = worker;
  }

  async stopWorker(graceMs: number): Promise<void> {
    const worker = this.worker;
    if (!worker) return;
    this.worker = null;
    // pause() stops fetching and resolves once running jobs are finished and recorded in Redis.
    const drained = await settlesWithin(
      worker.pause(false).catch((error: unknown) => this.onError(toError(error))),
      graceMs,
    );
    // When the grace period ran out, the unfinished jobs keep their locks until they expire and
    // another worker's stalled check hands them out again.
    await settlesWithin(
      worker.close(!drained).catch((error: unknown) => this.onError(toError(error))),
      drained ? this.commandTimeoutMs : 1_000,
    );
  }

  async counts(): Promise<JobCounts> {
    const counts = await this.redisCall('count jobs', () =>
      this.queue.getJobCounts('wait', 'prioritized', 'active', 'delayed', 'failed'),
    );
    const count = (type: string) => counts[type] ?? 0;
    return {
      waiting: count('wait') + count('prioritized'),
      active: count('active'),
      delayed: count('delayed'),
      dead: count('failed'),
    };
  }

  async deadJobs(limit: number): Promise<DeadJob[]> {
    if (limit < 1) return [];
    const failed = await this.redisCall('list dead jobs', () => this.queue.getFailed(0, limit - 1));
    return failed.map((job) => ({ id: job.id ?? '', name: job.name, payload: job.data, reason: job.failedReason }));
  }

  async ping(): Promise<void> {
    await this.redisCall('ping', () => this.connection.ping());
  }

  /** Stops taking jobs without waiting for running ones (call stopWorker(graceMs) first to drain) and disconnects. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.stopWorker(0);
    await settlesWithin(
      this.queue.close().catch((error: unknown) => this.onError(toError(error))),
      this.commandTimeoutMs,
    );
    this.connection.disconnect();
    this.workerTemplate.disconnect();
  }

  private async process(job: Job<JobPayload, void, string>, token: string | undefined): Promise<void> {
    const registration = this.registry.get(job.name);
    if (!registration) {
      // Put back without counting an attempt; DelayedError tells BullMQ the job has been moved.
      await job.moveToDelayed(Date.now() + this.unregisteredRetryMs, token);
      throw new DelayedError();
    }
    // Once running, the job no longer stands in for new ones: a job enqueued now may carry work
    // this run has already passed.
    if (job.opts.deduplication) await job.removeDeduplicationKey();

    // A run whose worker died counts as an attempt, as in the SQL queue.
    const attempt = job.attemptsMade + job.stalledCounter + 1;
    const { maxAttempts } = registration.retry;
    if (attempt > maxAttempts) {
      throw new UnrecoverableError('the last attempt did not finish before its lock expired (worker stopped or died)');
    }
    const wrongPayload = registration.checkPayload(job.data);
    if (wrongPayload !== null) throw new UnrecoverableError(wrongPayload);
    try {
      await registration.handler({
        id: job.id ?? '',
        name: job.name,
        payload: job.data,
        attempt,
        enqueuedAt: new Date(job.timestamp).toISOString(),
      });
    } catch (error) {
      if (attempt >= maxAttempts) throw new UnrecoverableError(describeFailure(error));
      throw error instanceof Error ? error : new Error(describeFailure(error));
    }
  }

  /** Runs a Redis operation for a caller, turning an outage into one clear, bounded error. */
  private async redisCall<T>(what: string, call: () => Promise<T>): Promise<T> {
    if (this.closed) throw new JobQueueClosedError();
    const deadline = Date.now() + this.commandTimeoutMs;
    const timedOut = () => new RedisTimeoutError(`no answer within ${this.commandTimeoutMs} ms`);
    try {
      // The connection is awaited before the command is sent, so a call that times out here was
      // never sent: a job is not added behind the caller's back once Redis comes back. Waiting also
      // covers the first calls after start, while the connection is still opening.
      await withTimeout(this.queue.waitUntilReady(), this.commandTimeoutMs, timedOut);
      return await withTimeout(call(), Math.max(1, deadline - Date.now()), timedOut);
    } catch (error) {
      if (!isConnectionFailure(error)) throw error;
      throw new JobQueueUnavailableError(`job queue: could not ${what}, Redis is unreachable (${describeFailure(error, 300)})`, {
        cause: error,
      });
    }
  }
}

class RedisTimeoutError extends Error {
  override readonly name = 'RedisTimeoutError';
}

const CONNECTION_ERROR_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENOTFOUND', 'EPIPE', 'EAI_AGAIN']);

/** Failures that mean "Redis is not there right now", as opposed to a bad request. */
function isConnectionFailure(error: unknown): boolean {
  if (error instanceof RedisTimeoutError) return true;
  if (!(error instanceof Error)) return false;
  const code = (error as { code?: unknown }).code;
  if (typeof code === 'string' && CONNECTION_ERROR_CODES.has(code)) return true;
  // ioredis signals a missing connection by these messages and error names, without a code.
  return (
    error.name === 'MaxRetriesPerRequestError' ||
    /enableOfflineQueue|Connection is closed|Stream isn't writeable|connect ETIMEDOUT/i.test(error.message)
  );
}

function toError(error: unknown): Error {
  return error instanceof Error ? error : new Error(String(error));
}
