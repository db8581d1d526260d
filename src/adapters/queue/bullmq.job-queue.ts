import { randomUUID } from 'node:crypto';
import { DelayedError, Queue, UnrecoverableError, Worker, type Job, type JobsOptions } from 'bullmq';
import { Redis } from 'ioredis';
import {
  DEFAULT_LANE,
  type DeadJob,
  type EnqueueOptions,
  type JobCounts,
  type JobPayload,
  type JobQueue,
  type JobRegistry,
  type WorkerOptions,
} from '../../ports/job-queue.js';
import { describeFailure, JobQueueClosedError, JobQueueUnavailableError } from './errors.js';
import { enqueueLane, workerLanes } from './lanes.js';
import { assertValidRegistration, retryDelayMs } from './retry-delay.js';
import { settlesWithin, withTimeout } from './timing.js';

export interface BullMqJobQueueOptions {
  /** redis:// or rediss:// URL. */
  url: string;
  /** Prefix of every Redis key the queue writes (BullMQ's `prefix`). Default `trove`. */
  prefix?: string;
  /** The BullMQ queue of the default lane. Default `jobs`; a named lane's queue is `<queueName>-<lane>`. */
  queueName?: string;
  /** The named lanes jobs may be enqueued to (each is a queue of its own). Default none. */
  lanes?: readonly string[];
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

/** BullMQ's lowest priority; a turn beyond it is taken in arrival order with the others there. */
const MAX_PRIORITY = 2_097_151;

/**
 * A job of a fair lane takes the next turn of its key: one after the key's last turn, and no earlier
 * than the turn of the job started last (the lane's clock), so a key with nothing pending joins the
 * next turn instead of going ahead of turns already given. Turns start again from 1 once the lane
 * has no pending job (the hash is dropped). Priorities start at 1: BullMQ's 0 means "before all".
 * KEYS[1] the lane's turns hash; ARGV[1] the fairness key; ARGV[2] the highest turn.
 */
const TAKE_TURN = `
local clock = tonumber(redis.call('HGET', KEYS[1], '~clock') or '1')
local last = redis.call('HGET', KEYS[1], 'k:' .. ARGV[1])
local turn = clock
if last then turn = math.max(clock, tonumber(last) + 1) end
turn = math.min(turn, tonumber(ARGV[2]))
redis.call('HSET', KEYS[1], 'k:' .. ARGV[1], turn)
redis.call('HINCRBY', KEYS[1], '~pending', 1)
return turn`;
/** A job of the lane started: the clock moves to its turn. KEYS[1] the turns hash; ARGV[1] the turn. */
const TURN_STARTED = `
local clock = tonumber(redis.call('HGET', KEYS[1], '~clock') or '0')
if tonumber(ARGV[1]) > clock then redis.call('HSET', KEYS[1], '~clock', ARGV[1]) end
return 0`;
/** A job of the lane is done (or was never added): one pending fewer; none left drops every turn. */
const TURN_DONE = `
local pending = redis.call('HINCRBY', KEYS[1], '~pending', -1)
if pending <= 0 then redis.call('DEL', KEYS[1]) end
return pending`;

/**
 * JobQueue on BullMQ: a queue per lane (the default lane's is `jobs`), and per process a Worker per
 * lane with that lane's capacity. The Redis connections are owned here and closed by close().
 *
 * Turns in a named lane are BullMQ priorities given at enqueue (start-time fair queueing): a key's
 * jobs are numbered after its previous ones and after the turn last started, and BullMQ takes the
 * lowest number first. Unlike the SQL queue's turns, a number is fixed when the job is enqueued.
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
  /** The default lane's queue, for ping and waiting on the connection. */
  private readonly queue: Queue<JobPayload, void, string>;
  private readonly queues = new Map<string, Queue<JobPayload, void, string>>();
  private workers: Worker<JobPayload, void, string>[] | null = null;
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

    for (const lane of [DEFAULT_LANE, ...(options.lanes ?? [])]) {
      const queue = new Queue<JobPayload, void, string>(this.queueNameOf(lane), {
        connection: this.connection,
        prefix: this.prefix,
        defaultJobOptions: JOB_DEFAULTS,
      });
      // An EventEmitter 'error' without a listener would crash the process.
      queue.on('error', (error: Error) => this.onError(error));
      this.queues.set(lane, queue);
    }
    this.queue = this.queues.get(DEFAULT_LANE) as Queue<JobPayload, void, string>;
  }

  async enqueue(name: string, payload: JobPayload, options: EnqueueOptions = {}): Promise<string> {
    if (this.closed) throw new JobQueueClosedError();
    const lane = enqueueLane(name, options);
    const queue = this.queues.get(lane);
    if (!queue) throw new Error(`job "${name}": lane "${lane}" is not one of this queue's lanes`);
    const jobOptions: JobsOptions = {};
    if (options.delayMs !== undefined && options.delayMs > 0) jobOptions.delay = options.delayMs;
    if (options.dedupeKey !== undefined) jobOptions.deduplication = { id: options.dedupeKey };
    const { fairnessKey } = options;
    if (fairnessKey !== undefined) {
      // An id of its own tells a new job from the pending one a dedupe key returns instead.
      jobOptions.jobId = randomUUID();
      jobOptions.priority = Number(
        await this.redisCall(`take a turn for job "${name}"`, () => this.connection.eval(TAKE_TURN, 1, this.turnsKey(lane), fairnessKey, MAX_PRIORITY)),
      );
    }
    const job = await this.redisCall(`enqueue job "${name}"`, () => queue.add(name, payload, jobOptions));
    if (job.id === undefined) throw new Error(`BullMQ returned no id for job "${name}"`);
    if (fairnessKey !== undefined && job.id !== jobOptions.jobId) await this.turnDone(lane);
    return job.id;
  }

  async startWorker(registry: JobRegistry, options: WorkerOptions): Promise<void> {
    if (this.closed) throw new JobQueueClosedError();
    if (this.workers) throw new Error('the job worker is already running');
    for (const [name, registration] of registry) assertValidRegistration(name, registration);
    const lanes = workerLanes(registry, options);
    for (const { lane } of lanes) if (!this.queues.has(lane)) throw new Error(`job lane "${lane}" is not one of this queue's lanes`);
    this.registry = registry;

    this.workers = lanes.map(({ lane, names, capacity }) => {
      const visibility = names.map((name) => (registry.get(name) as { visibilityTimeoutMs: number }).visibilityTimeoutMs);
      const lockDuration = Math.min(...visibility);
      const worker = new Worker<JobPayload, void, string>(this.queueNameOf(lane), (job, token) => this.process(lane, job, token), {
        connection: this.workerTemplate,
        prefix: this.prefix,
        concurrency: capacity,
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
      return worker;
    });
  }

  async stopWorker(graceMs: number): Promise<void> {
    const workers = this.workers;
    if (!workers) return;
    this.workers = null;
    await Promise.all(workers.map((worker) => this.stopOne(worker, graceMs)));
  }

  async counts(): Promise<JobCounts> {
    const perLane = await this.redisCall('count jobs', () =>
      Promise.all([...this.queues.values()].map((queue) => queue.getJobCounts('wait', 'prioritized', 'active', 'delayed', 'failed'))),
    );
    const count = (type: string) => perLane.reduce((sum, counts) => sum + (counts[type] ?? 0), 0);
    return {
      waiting: count('wait') + count('prioritized'),
      active: count('active'),
      delayed: count('delayed'),
      dead: count('failed'),
    };
  }

  async deadJobs(limit: number): Promise<DeadJob[]> {
    if (limit < 1) return [];
    const perLane = await this.redisCall('list dead jobs', () => Promise.all([...this.queues.values()].map((queue) => queue.getFailed(0, limit - 1))));
    return perLane
      .flat()
      .sort((a, b) => (b.finishedOn ?? 0) - (a.finishedOn ?? 0))
      .slice(0, limit)
      .map((job) => ({ id: job.id ?? '', name: job.name, payload: job.data, reason: job.failedReason }));
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
      Promise.all([...this.queues.values()].map((queue) => queue.close().catch((error: unknown) => this.onError(toError(error))))),
      this.commandTimeoutMs,
    );
    this.connection.disconnect();
    this.workerTemplate.disconnect();
  }

  private async stopOne(worker: Worker<JobPayload, void, string>, graceMs: number): Promise<void> {
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

  private queueNameOf(lane: string): string {
    return lane === DEFAULT_LANE ? this.queueName : `${this.queueName}-${lane}`;
  }

  private turnsKey(lane: string): string {
    return `${this.prefix}:${this.queueNameOf(lane)}:turns`;
  }

  /** Turn bookkeeping after a job's final outcome; a failure skews later turns a little, so it is reported, not thrown. */
  private async turnDone(lane: string): Promise<void> {
    await this.connection.eval(TURN_DONE, 1, this.turnsKey(lane)).catch((error: unknown) => this.onError(toError(error)));
  }

  /** Runs a job, keeping a fair lane's turns: its clock moves when a job starts, its count drops when one ends for good. */
  private async process(lane: string, job: Job<JobPayload, void, string>, token: string | undefined): Promise<void> {
    const inTurns = job.priority > 0;
    if (inTurns && this.registry.has(job.name)) {
      await this.connection.eval(TURN_STARTED, 1, this.turnsKey(lane), job.priority).catch((error: unknown) => this.onError(toError(error)));
    }
    try {
      await this.runJob(job, token);
    } catch (error) {
      if (inTurns && error instanceof UnrecoverableError) await this.turnDone(lane);
      throw error;
    }
    if (inTurns) await this.turnDone(lane);
  }

  private async runJob(job: Job<JobPayload, void, string>, token: string | undefined): Promise<void> {
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
