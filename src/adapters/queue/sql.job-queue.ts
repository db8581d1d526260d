import { randomUUID } from 'node:crypto';
import { sql, type Expression, type ExpressionBuilder, type Kysely, type SqlBool } from 'kysely';
import type {
  DeadJob,
  EnqueueOptions,
  JobCounts,
  JobPayload,
  JobQueue,
  JobRegistration,
  JobRegistry,
  JsonValue,
  RetryPolicy,
  WorkerOptions,
} from '../../ports/job-queue.js';
import { DEFAULT_LANE } from '../../ports/job-queue.js';
import type { Database } from '../db/schema.js';
import { describeFailure, JobQueueClosedError } from './errors.js';
import { enqueueLane, workerLanes, type WorkerLane } from './lanes.js';
import { assertValidRegistration, retryDelayMs } from './retry-delay.js';
import { settlesWithin, Wakeup } from './timing.js';

export interface SqlJobQueueOptions {
  /** Picks the claim query: PostgreSQL skips rows other workers hold, SQLite has one writer anyway. */
  dialect: 'sqlite' | 'postgres';
  /** How long an idle worker waits before looking for due jobs again. Default 250 ms. */
  pollIntervalMs?: number;
  /** Epoch milliseconds; injectable so tests can move time. Default Date.now. */
  now?: () => number;
  /** Failures outside any handler (a claim or a status update that did not reach the database). */
  onError?: (error: unknown) => void;
}

/** A row the claim query took, as RETURNING gives it. */
interface ClaimedJob {
  id: string;
  name: string;
  payload: string;
  attempt: number;
  enqueued_at: string;
}

/** A lane of the running worker and the jobs of it this process runs now. */
interface LaneState extends WorkerLane {
  readonly running: Set<Promise<void>>;
}

interface WorkerState {
  readonly registry: JobRegistry;
  readonly lanes: LaneState[];
  readonly running: Set<Promise<void>>;
  readonly wakeup: Wakeup;
  stopping: boolean;
  loop: Promise<void>;
}

const DEFAULT_POLL_INTERVAL_MS = 250;
const ERROR_BACKOFF_MS = 2_000;
/** A dedupe insert races a claim of the job holding the key at most this often before giving up. */
const DEDUPE_RETRIES = 5;

/**
 * JobQueue on the metadata database (SQLite or PostgreSQL). The Kysely instance belongs to whoever
 * built it (the KyselyMetadataStore): close() stops this queue's worker but leaves the database open.
 *
 * A job row is `waiting` until a worker takes it, `active` while its lease (locked_until) runs, and
 * deleted once its handler succeeds. A lease that runs out makes the job claimable again, which is
 * how a job outlives a crashed worker. Only the worker holding the current attempt may reschedule or
 * bury a job; a late finisher of an older attempt changes nothing (see the `attempt` conditions).
 */
export class SqlJobQueue implements JobQueue {
  private readonly dialect: 'sqlite' | 'postgres';
  private readonly pollIntervalMs: number;
  private readonly now: () => number;
  private readonly onError: (error: unknown) => void;
  private worker: WorkerState | null = null;
  private closed = false;

  constructor(
    private readonly db: Kysely<Database>,
    options: SqlJobQueueOptions,
  ) {
    this.dialect = options.dialect;
    this.pollIntervalMs = options.pollIntervalMs ?? DEFAULT_POLL_INTERVAL_MS;
    this.now = options.now ?? Date.now;
    this.onError = options.onError ?? (() => undefined);
  }

  async enqueue(name: string, payload: JobPayload, options: EnqueueOptions = {}): Promise<string> {
    if (this.closed) throw new JobQueueClosedError();
    const lane = enqueueLane(name, options);
    const now = this.now();
    const delayMs = Math.max(0, options.delayMs ?? 0);
    const inLane = lane !== DEFAULT_LANE;
    const fairnessKey = inLane ? (options.fairnessKey ?? null) : null;
    const row = {
      id: randomUUID(),
      name,
      payload: JSON.stringify(payload),
      status: 'waiting' as const,
      attempt: 0,
      run_at: now + delayMs,
      locked_until: null,
      dedupe_key: options.dedupeKey ?? null,
      lane: inLane ? lane : null,
      fairness_key: fairnessKey,
      turn: inLane ? await this.turnFor(lane, fairnessKey, now) : null,
      last_error: null,
      enqueued_at: new Date(now).toISOString(),
      updated_at: new Date(now).toISOString(),
    };

    const id = options.dedupeKey === undefined ? await this.insert(row) : await this.insertDeduplicated(row, options.dedupeKey);
    // A worker in this process need not wait for its next poll (the embedded mode's common case).
    if (delayMs === 0) this.worker?.wakeup.notify();
    return id;
  }

  async startWorker(registry: JobRegistry, options: WorkerOptions): Promise<void> {
    if (this.closed) throw new JobQueueClosedError();
    if (this.worker) throw new Error('the job worker is already running');
    for (const [name, registration] of registry) assertValidRegistration(name, registration);
    const lanes = workerLanes(registry, options).map((lane) => ({ ...lane, running: new Set<Promise<void>>() }));

    const worker: WorkerState = {
      registry,
      lanes,
      running: new Set(),
      wakeup: new Wakeup(),
      stopping: false,
      loop: Promise.resolve(),
    };
    this.worker = worker;
    worker.loop = this.pollLoop(worker);
  }

  async stopWorker(graceMs: number): Promise<void> {
    const worker = this.worker;
    if (!worker) return;
    this.worker = null;
    worker.stopping = true;
    worker.wakeup.notify();
    const deadline = Date.now() + graceMs;
    // The loop ends after its current claim and starts what that claim took, so once it has
    // ended every job of this worker is in `running`.
    await settlesWithin(worker.loop, graceMs);
    // Handlers still running after the grace period keep their leases, which run out so that
    // another worker runs those jobs again.
    await settlesWithin(Promise.allSettled([...worker.running]), deadline - Date.now());
  }

  async counts(): Promise<JobCounts> {
    const now = this.now();
    const row = await this.db
      .selectFrom('jobs')
      .select((eb) => {
        const due = eb.and([eb('status', '=', 'waiting'), eb('run_at', '<=', now)]);
        // A job whose lease ran out is waiting for a worker again, not running.
        const leaseExpired = eb.and([eb('status', '=', 'active'), eb('locked_until', '<=', now)]);
        return [
          eb.fn.countAll<number | string>().filterWhere(eb.or([due, leaseExpired])).as('waiting'),
          eb.fn
            .countAll<number | string>()
            .filterWhere(eb.and([eb('status', '=', 'active'), eb('locked_until', '>', now)]))
            .as('active'),
          eb.fn
            .countAll<number | string>()
            .filterWhere(eb.and([eb('status', '=', 'waiting'), eb('run_at', '>', now)]))
            .as('delayed'),
          eb.fn.countAll<number | string>().filterWhere('status', '=', 'dead').as('dead'),
        ];
      })
      .executeTakeFirstOrThrow();
    // PostgreSQL's count() is a bigint, which a pool without the metadata store's parser returns as text.
    return { waiting: Number(row.waiting), active: Number(row.active), delayed: Number(row.delayed), dead: Number(row.dead) };
  }

  async deadJobs(limit: number): Promise<DeadJob[]> {
    const rows = await this.db
      .selectFrom('jobs')
      .select(['id', 'name', 'payload', 'last_error'])
      .where('status', '=', 'dead')
      .orderBy('updated_at', 'desc')
      .orderBy('id')
      .limit(limit)
      .execute();
    return rows.map((row) => ({ id: row.id, name: row.name, payload: readStoredPayload(row.payload), reason: row.last_error ?? '' }));
  }

  async ping(): Promise<void> {
    await sql`select 1`.execute(this.db);
  }

  /** Stops taking jobs without waiting for running ones; call stopWorker(graceMs) first to drain. */
  async close(): Promise<void> {
    if (this.closed) return;
    await this.stopWorker(0);
    this.closed = true;
  }

  private async insert(row: NewJobRow): Promise<string> {
    await this.db.insertInto('jobs').values(row).execute();
    return row.id;
  }

  private async insertDeduplicated(row: NewJobRow, dedupeKey: string): Promise<string> {
    for (let tries = 0; tries < DEDUPE_RETRIES; tries += 1) {
      const inserted = await this.db
        .insertInto('jobs')
        .values(row)
        // The conflict target names the partial unique index; PostgreSQL matches its predicate only
        // against a literal, not a bound parameter.
        .onConflict((oc) => oc.column('dedupe_key').where('status', '=', sql.lit('waiting')).doNothing())
        .returning('id')
        .executeTakeFirst();
      if (inserted) return inserted.id;
      const holder = await this.db
        .selectFrom('jobs')
        .select('id')
        .where('dedupe_key', '=', dedupeKey)
        .where('status', '=', 'waiting')
        .executeTakeFirst();
      if (holder) return holder.id;
      // The holder was taken between the two statements and no longer holds the key: insert again.
    }
    throw new Error(`could not enqueue job "${row.name}" with dedupe key "${dedupeKey}": the key kept changing hands`);
  }

  private async pollLoop(worker: WorkerState): Promise<void> {
    while (!worker.stopping) {
      const open = worker.lanes.filter((lane) => lane.running.size < lane.capacity);
      if (open.length === 0) {
        // A finishing job or stopWorker wakes the loop.
        await worker.wakeup.wait();
        continue;
      }
      let claimedAny = false;
      try {
        for (const lane of open) {
          const claimed = await this.claim(worker, lane, lane.capacity - lane.running.size);
          for (const job of claimed) this.start(worker, lane, job);
          if (claimed.length > 0) claimedAny = true;
        }
      } catch (error) {
        this.onError(error);
        // An unreachable database would otherwise be reported on every poll.
        await worker.wakeup.wait(Math.max(this.pollIntervalMs, ERROR_BACKOFF_MS));
        continue;
      }
      if (!claimedAny) await worker.wakeup.wait(this.pollIntervalMs);
    }
  }

  /**
   * Jobs whose lease ran out first (their worker died), then due waiting jobs. Two statements, each
   * walking its own (status, time) index in order: one query over both would sort every due job,
   * which grows with the backlog. On PostgreSQL, concurrent workers skip each other's locked rows
   * instead of queueing behind them; on SQLite a write statement holds the database's single write
   * lock from its start, so the select and the update inside it cannot interleave with another claim.
   */
  private async claim(worker: WorkerState, lane: WorkerLane, limit: number): Promise<ClaimedJob[]> {
    const now = this.now();
    const expired = await this.claimWhere(worker, lane, limit, now, 'active', 'locked_until');
    if (expired.length >= limit) return expired;
    const due =
      lane.lane === DEFAULT_LANE
        ? await this.claimWhere(worker, lane, limit - expired.length, now, 'waiting', 'run_at')
        : await this.claimInTurns(worker, lane, limit - expired.length, now);
    return [...expired, ...due];
  }

  private async claimWhere(
    worker: WorkerState,
    lane: WorkerLane,
    limit: number,
    now: number,
    status: 'active' | 'waiting',
    dueColumn: 'locked_until' | 'run_at',
  ): Promise<ClaimedJob[]> {
    let due = this.db
      .selectFrom('jobs')
      .select('id')
      .where('status', '=', status)
      .where(dueColumn, '<=', now)
      .where('name', 'in', lane.names)
      .orderBy(dueColumn)
      .limit(limit);
    if (this.dialect === 'postgres') due = due.forUpdate().skipLocked();
    return this.take(worker, lane, now, (eb) => eb('id', 'in', due));
  }

  /**
   * A named lane's due jobs, lowest turn first (oldest first within a turn). Turns are given at
   * enqueue (see turnFor), so the order is fixed and the claim walks the lane's (lane, status, turn)
   * index like the default lane's claim walks its due order.
   */
  private async claimInTurns(worker: WorkerState, lane: WorkerLane, limit: number, now: number): Promise<ClaimedJob[]> {
    let due = this.db
      .selectFrom('jobs')
      .select('id')
      .where('lane', '=', lane.lane)
      .where('status', '=', 'waiting')
      .where('run_at', '<=', now)
      .where('name', 'in', lane.names)
      .orderBy('turn')
      .orderBy('run_at')
      .orderBy('id')
      .limit(limit);
    if (this.dialect === 'postgres') due = due.forUpdate().skipLocked();
    return this.take(worker, lane, now, (eb) => eb('id', 'in', due));
  }

  /**
   * Start-time fair queueing: a job's turn is one after its key's last pending turn, and no earlier
   * than the lane's head (the lowest turn due now, or else the highest running), so a key with
   * nothing pending joins the next turn instead of going ahead of turns already given. A key with a
   * backlog therefore has one job per turn, and every other key gets a job into each of those turns.
   * Two enqueues of one key at the same moment may share a turn: a small unfairness, never a loss.
   */
  private async turnFor(lane: string, fairnessKey: string | null, now: number): Promise<number> {
    const row = await this.db
      .selectNoFrom((eb) => [
        eb
          .selectFrom('jobs')
          .select((inner) => inner.fn.min('turn').as('t'))
          .where('lane', '=', lane)
          .where('status', '=', 'waiting')
          .where('run_at', '<=', now)
          .as('head'),
        eb
          .selectFrom('jobs')
          .select((inner) => inner.fn.max('turn').as('t'))
          .where('lane', '=', lane)
          .where('status', '=', 'active')
          .as('running'),
        eb
          .selectFrom('jobs')
          .select((inner) => inner.fn.max('turn').as('t'))
          .where('lane', '=', lane)
          .where('status', 'in', ['waiting', 'active'])
          .where('fairness_key', fairnessKey === null ? 'is' : '=', fairnessKey)
          .as('last'),
      ])
      .executeTakeFirstOrThrow();
    // PostgreSQL's bigint aggregates may come back as text.
    const head = row.head === null ? (row.running === null ? 0 : Number(row.running)) : Number(row.head);
    return row.last === null ? head : Math.max(head, Number(row.last) + 1);
  }

  /** Leases the rows `which` selects: each job name has its own visibility timeout. */
  private take(
    worker: WorkerState,
    lane: WorkerLane,
    now: number,
    which: (eb: ExpressionBuilder<Database, 'jobs'>) => Expression<SqlBool>,
  ): Promise<ClaimedJob[]> {
    // The casts keep PostgreSQL from typing the parameters as int4, which epoch milliseconds overflow.
    const leaseEnds = lane.names.map((name) => sql`when ${name} then cast(${now + leaseOf(worker.registry, name)} as bigint)`);
    const lockedUntil = sql<number>`case ${sql.ref('name')} ${sql.join(leaseEnds, sql` `)} end`;

    return this.db
      .updateTable('jobs')
      .set((eb) => ({
        status: 'active',
        attempt: eb('attempt', '+', 1),
        locked_until: lockedUntil,
        updated_at: new Date(now).toISOString(),
      }))
      .where(which)
      .returning(['id', 'name', 'payload', 'attempt', 'enqueued_at'])
      .execute();
  }

  private start(worker: WorkerState, lane: LaneState, job: ClaimedJob): void {
    const task: Promise<void> = this.run(worker.registry, job)
      .catch((error: unknown) => this.onError(error))
      .finally(() => {
        worker.running.delete(task);
        lane.running.delete(task);
        worker.wakeup.notify();
      });
    worker.running.add(task);
    lane.running.add(task);
  }

  private async run(registry: JobRegistry, job: ClaimedJob): Promise<void> {
    const attempt = Number(job.attempt);
    const registration = registry.get(job.name);
    if (!registration) return; // not claimable: the claim filters on registered names
    if (attempt > registration.retry.maxAttempts) {
      // The last attempt's lease ran out: its worker died or stopped mid-run. Running it again
      // would exceed the policy, and a job that kills its worker must not loop forever.
      await this.bury(job.id, attempt, 'the last attempt did not finish before its lease ran out (worker stopped or died)');
      return;
    }
    let payload: JobPayload;
    try {
      payload = JSON.parse(job.payload) as JobPayload;
    } catch (error) {
      await this.bury(job.id, attempt, `unreadable payload: ${describeFailure(error)}`);
      return;
    }
    const wrongPayload = registration.checkPayload(payload);
    if (wrongPayload !== null) {
      await this.bury(job.id, attempt, wrongPayload);
      return;
    }

    try {
      await registration.handler({ id: job.id, name: job.name, payload, attempt, enqueuedAt: job.enqueued_at });
    } catch (error) {
      await this.recordFailure(job.id, attempt, registration.retry, describeFailure(error));
      return;
    }
    // Done is done, even if the lease ran out meanwhile and another worker is running it again.
    await this.db.deleteFrom('jobs').where('id', '=', job.id).execute();
  }

  private async recordFailure(id: string, attempt: number, retry: RetryPolicy, lastError: string): Promise<void> {
    if (attempt >= retry.maxAttempts) {
      await this.bury(id, attempt, lastError);
      return;
    }
    const now = this.now();
    const reschedule = (keepDedupeKey: boolean) => {
      let query = this.db
        .updateTable('jobs')
        .set({
          status: 'waiting',
          run_at: now + retryDelayMs(retry, attempt),
          locked_until: null,
          last_error: lastError,
          updated_at: new Date(now).toISOString(),
        })
        .where('id', '=', id)
        .where('attempt', '=', attempt)
        .where('status', '=', 'active');
      if (!keepDedupeKey) query = query.set({ dedupe_key: null });
      return query.execute();
    };
    try {
      await reschedule(true);
    } catch (error) {
      if (!isUniqueViolation(error)) throw error;
      // A job with the same dedupe key was enqueued while this one ran. Both must run (the new one
      // may carry newer data), so this one gives up the key rather than its retry.
      await reschedule(false);
    }
  }

  private async bury(id: string, attempt: number, lastError: string): Promise<void> {
    await this.db
      .updateTable('jobs')
      .set({ status: 'dead', locked_until: null, last_error: lastError, updated_at: new Date(this.now()).toISOString() })
      .where('id', '=', id)
      .where('attempt', '=', attempt)
      .where('status', '=', 'active')
      .execute();
  }
}

type NewJobRow = {
  id: string;
  name: string;
  payload: string;
  status: 'waiting';
  attempt: number;
  run_at: number;
  locked_until: null;
  dedupe_key: string | null;
  lane: string | null;
  fairness_key: string | null;
  turn: number | null;
  last_error: null;
  enqueued_at: string;
  updated_at: string;
};

/** A dead job's payload as enqueued; text that is not JSON (written by hand) is shown as it is. */
function readStoredPayload(text: string): JsonValue {
  try {
    return JSON.parse(text) as JsonValue;
  } catch {
    return text;
  }
}

function leaseOf(registry: JobRegistry, name: string): number {
  return (registry.get(name) as JobRegistration).visibilityTimeoutMs;
}

/** PostgreSQL's unique_violation, or SQLite's UNIQUE constraint failure from better-sqlite3. */
function isUniqueViolation(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return code === '23505' || code === 'SQLITE_CONSTRAINT_UNIQUE';
}
