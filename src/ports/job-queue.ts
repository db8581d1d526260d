/**
 * Durable background jobs: webhook deliveries, expiry of unstored files, derivative purges, eager
 * transformations. Delivery is at least once — a handler may see a job again after a crash, so
 * handlers are idempotent. Adapters: a table in the metadata database (embedded and PostgreSQL)
 * and BullMQ when REDIS_URL is set.
 */

/** A job's payload: plain JSON, kept as it was given. */
export type JobPayload = { readonly [key: string]: JsonValue };
export type JsonValue = string | number | boolean | null | readonly JsonValue[] | { readonly [key: string]: JsonValue };

export interface EnqueueOptions {
  /** Run no earlier than this many milliseconds from now. */
  delayMs?: number;
  /**
   * While a job with this key is waiting or delayed, enqueueing another one with the same key adds
   * nothing (the existing job's id is returned). Used for purges and sweeps that must not pile up.
   */
  dedupeKey?: string;
  /**
   * The lane the job runs in: the one its registration names (see JobRegistration.lane). `enqueueJob`
   * takes it from the catalogue; absent, the default lane.
   */
  lane?: string;
  /**
   * Within a lane, jobs take turns by this key (a project's id): the next job taken is one whose key
   * has the fewest jobs ahead of it, so one key's backlog cannot hold the lane while another key's
   * job waits. Only for jobs of a named lane (the default lane is taken in due order); given
   * without a lane it is refused rather than ignored.
   */
  fairnessKey?: string;
}

export interface RetryPolicy {
  /** Attempts in total, the first one included; after the last failure the job is dead. */
  maxAttempts: number;
  /** Delay before the second attempt; it doubles with each further attempt, up to maxDelayMs. */
  baseDelayMs: number;
  maxDelayMs: number;
}

/** A job as its handler sees it; the registry narrows the payload to the job's own type. */
export interface RunningJob<Payload = JobPayload> {
  id: string;
  name: string;
  payload: Payload;
  /** 1 on the first run. */
  attempt: number;
  /** When the job was first enqueued (ISO-8601). */
  enqueuedAt: string;
}

export interface JobRegistration {
  /**
   * Why the handler cannot take this payload, or null when it can. The worker asks before every
   * run; a job with a wrong payload would fail the same way on every retry, so it is dead at once
   * with this as its reason, and its handler never sees it.
   */
  checkPayload: (payload: JobPayload) => string | null;
  handler: (job: RunningJob) => Promise<void>;
  retry: RetryPolicy;
  /**
   * How long a taken job stays invisible to other workers; if its worker dies, the job runs again
   * after this time. Must exceed the handler's own deadline.
   */
  visibilityTimeoutMs: number;
  /**
   * A named lane has a capacity of its own (`startWorker`'s `lanes`), apart from the worker's
   * `concurrency`: long jobs (video) in their lane can neither hold every lease of the process nor
   * wait behind short ones (webhooks, purges). Absent, the default lane.
   */
  lane?: string;
}

/** Every job name Trove enqueues, each with exactly one registration (checked at start). */
export type JobRegistry = ReadonlyMap<string, JobRegistration>;

export interface JobCounts {
  waiting: number;
  active: number;
  delayed: number;
  /** Jobs whose retries are exhausted, kept for inspection. */
  dead: number;
}

/** A job kept after its last failure, with the reason it failed. */
export interface DeadJob {
  id: string;
  name: string;
  /** As enqueued. */
  payload: JsonValue;
  reason: string;
}

export interface WorkerOptions {
  /** Jobs of the default lane running at once in this process. */
  concurrency: number;
  /** Jobs of each named lane running at once in this process. */
  lanes?: ReadonlyMap<string, number>;
}

/** The lane of registrations and jobs that name none. */
export const DEFAULT_LANE = 'default';

export interface JobQueue {
  enqueue(name: string, payload: JobPayload, options?: EnqueueOptions): Promise<string>;
  /**
   * Starts taking jobs and running them with at most `concurrency` of the default lane at once in
   * this process, and at most `lanes[lane]` of each named lane. Every lane a registration names must
   * have a capacity. Jobs whose name has no registration are not taken (another Trove version may
   * own them).
   */
  startWorker(registry: JobRegistry, options: WorkerOptions): Promise<void>;
  /** Stops taking new jobs and waits (bounded by `graceMs`) for running ones to finish. */
  stopWorker(graceMs: number): Promise<void>;
  counts(): Promise<JobCounts>;
  /** The dead jobs that failed last, newest first, for inspection. */
  deadJobs(limit: number): Promise<DeadJob[]>;
  /** Reachability of the queue's backing service, for /ready. */
  ping(): Promise<void>;
  close(): Promise<void>;
}
