import { createAppError } from '../../errors.js';
import type { ProjectWork, SlotLease, SlotLedger } from '../../ports/slot-ledger.js';

/**
 * What a transformation is for, most urgent first: a request someone waits for, an eager
 * derivative made after an upload, and background work (copies to storages, other batch work).
 */
export type Priority = 'interactive' | 'eager' | 'background';

const PRIORITIES: readonly Priority[] = ['interactive', 'eager', 'background'];

interface Job {
  priority: Priority;
  /** The project had nothing running or waiting here when it arrived: it may take a burst slot. */
  burst: boolean;
  start: (lease: SlotLease) => void;
}

type ProjectQueue = Record<Priority, Job[]>;

interface SchedulerSettings {
  /** CPU-heavy tasks running at once in this process (about one per core). */
  concurrency: number;
  /** Tasks a project may have waiting; beyond it new ones are refused with 503 + Retry-After. */
  maxQueuedPerProject: number;
  /**
   * Extra slots for interactive work of a project that has nothing running (default 1). Without
   * them a quiet project's one request waits for a flood's task to finish before it can start.
   */
  idleProjectBurst?: number;
  /**
   * Lower priorities are never starved: once a waiting class has been passed over this many
   * times minus one, the next free slot goes to it (default 10: eager and background work each
   * get at least one slot hand-off in ten while they wait).
   */
  lowerPriorityTurn?: number;
  /** How soon work the ledger refused is offered again when no notice says slots came free (default 250 ms). */
  retryMs?: number;
  /** How often this node renews its registration with its whole account (default 2 s). */
  heartbeatMs?: number;
}

interface SchedulerObserver {
  /** The ledger refused a project over its cluster-wide share. */
  denied(priority: Priority): void;
}

interface Pick {
  project: string;
  job: Job;
}

/**
 * Runs CPU-heavy work with a fixed number of slots shared fairly between projects: each project
 * has its own queue per priority, and a free slot goes to the next project in turn (round robin),
 * so a project that floods Trove waits behind itself, not in front of everyone else.
 *
 * Priorities: interactive before eager before background, except that a lower class that has
 * waited through `lowerPriorityTurn - 1` hand-offs takes the next one, so steady interactive work
 * slows eager and background work down but never stops it.
 *
 * Across the cluster: before a project's task starts, the `SlotLedger` is asked whether the
 * project holds fewer slots than its share of every node's slots. A project over its share is
 * skipped in the turn (its work waits, other projects' work goes) and offered again when a slot
 * comes free here, when the ledger says one came free elsewhere, or after `retryMs`.
 *
 * A project with nothing running here starts its interactive request at once, in a burst slot
 * beyond the fixed ones (if the ledger agrees), so it never queues behind a busy tenant.
 */
export class FairScheduler {
  private running = 0;
  private readonly runningByProject = new Map<string, number>();
  private readonly queues = new Map<string, ProjectQueue>();
  /** Projects with waiting work, in turn order. */
  private readonly ring: string[] = [];
  private readonly cursors: Record<Priority, number> = { interactive: 0, eager: 0, background: 0 };
  /** Hand-offs that went to a higher class while this class had work waiting. */
  private readonly passedOver: Record<Priority, number> = { interactive: 0, eager: 0, background: 0 };
  private pumping = false;
  private pumpAgain = false;
  private retryTimer: NodeJS.Timeout | null = null;
  private heartbeatTimer: NodeJS.Timeout | null = null;
  private stopListening: (() => void) | null = null;
  private readonly demandChanged = new Set<string>();
  /** The job the pump is asking the ledger about: still queued, but no longer waiting for a slot here. */
  private asking: Pick | null = null;
  private closed = false;

  constructor(
    private readonly settings: SchedulerSettings,
    private readonly ledger: SlotLedger,
    private readonly observer: SchedulerObserver = { denied: () => undefined },
  ) {}

  /** Registers this node's slots with the ledger, keeps the registration alive and listens for freed slots. */
  start(): void {
    if (this.heartbeatTimer || this.closed) return;
    this.stopListening = this.ledger.onChange(() => this.wake());
    void this.ledger.heartbeat(this.account());
    this.heartbeatTimer = setInterval(() => void this.ledger.heartbeat(this.account()), this.settings.heartbeatMs ?? 2_000);
    this.heartbeatTimer.unref();
  }

  /** Stops the heartbeat and withdraws the node; tasks already running finish. */
  async close(): Promise<void> {
    this.closed = true;
    if (this.heartbeatTimer) clearInterval(this.heartbeatTimer);
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.stopListening?.();
    await this.ledger.close();
  }

  run<T>(projectId: string, priority: Priority, task: () => Promise<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      let queue = this.queues.get(projectId);
      const idle = !queue && !this.runningByProject.has(projectId);
      const beingStarted = this.asking?.project === projectId ? 1 : 0;
      if (queue && waitingIn(queue) - beingStarted >= this.settings.maxQueuedPerProject) {
        reject(
          createAppError('TRANSFORM_QUEUE_FULL', 503, 'Too many transformations are waiting for this project; retry shortly.', {
            headers: { 'retry-after': '2' },
          }),
        );
        return;
      }
      const job: Job = {
        priority,
        burst: priority === 'interactive' && idle,
        start: (lease) => {
          this.running++;
          this.runningByProject.set(projectId, (this.runningByProject.get(projectId) ?? 0) + 1);
          // The slot is freed before the caller hears the outcome, so what it schedules next sees it free.
          const settle = () => {
            this.running--;
            const left = this.runningByProject.get(projectId)! - 1;
            if (left === 0) this.runningByProject.delete(projectId);
            else this.runningByProject.set(projectId, left);
            void lease.release();
            this.noteDemand(projectId);
            this.wake();
          };
          task().then(
            (value) => {
              settle();
              resolve(value);
            },
            (error: unknown) => {
              settle();
              reject(error);
            },
          );
        },
      };
      if (!queue) {
        queue = { interactive: [], eager: [], background: [] };
        this.queues.set(projectId, queue);
        this.ring.push(projectId);
      }
      queue[priority].push(job);
      this.noteDemand(projectId);
      this.wake();
    });
  }

  /** Waiting tasks per project and priority (metrics). */
  queued(): Map<string, Record<Priority, number>> {
    const depth = new Map<string, Record<Priority, number>>();
    for (const [project, queue] of this.queues) {
      depth.set(project, { interactive: queue.interactive.length, eager: queue.eager.length, background: queue.background.length });
    }
    return depth;
  }

  /** Slots in use in this process, burst slots included. */
  get active(): number {
    return this.running;
  }

  private wake(): void {
    void this.pump();
  }

  /**
   * Hands free slots out, one ledger question at a time. Only this loop starts tasks, so the
   * local count cannot change under it except downwards (a task ending).
   */
  private async pump(): Promise<void> {
    if (this.pumping) {
      this.pumpAgain = true;
      return;
    }
    this.pumping = true;
    try {
      do {
        this.pumpAgain = false;
        // Projects the ledger refused in this pass are not asked again until something changes.
        const refused = new Set<string>();
        for (let pick = this.pick(refused); pick; pick = this.pick(refused)) {
          this.asking = pick;
          const decision = await this.ledger.acquire(pick.project, this.demandOf(pick.project)).finally(() => (this.asking = null));
          if (!decision.granted) {
            refused.add(pick.project);
            this.observer.denied(pick.job.priority);
            continue;
          }
          this.take(pick);
          pick.job.start(decision.lease);
        }
        if (refused.size > 0) this.retryLater();
      } while (this.pumpAgain);
    } finally {
      this.pumping = false;
    }
  }

  /** The job the next free slot (or a burst slot) goes to, without taking it from its queue. */
  private pick(refused: ReadonlySet<string>): Pick | null {
    if (this.running < this.settings.concurrency) {
      const waiting = PRIORITIES.filter((priority) => this.firstEligible(priority, refused) !== null);
      if (waiting.length === 0) return null;
      const turn = this.settings.lowerPriorityTurn ?? 10;
      // The most-passed-over lower class whose turn has come, else the most urgent class.
      const due = [...waiting].reverse().find((priority) => priority !== 'interactive' && this.passedOver[priority] >= turn - 1);
      return this.firstEligible(due ?? waiting[0]!, refused);
    }
    if (this.running >= this.settings.concurrency + (this.settings.idleProjectBurst ?? 1)) return null;
    for (const project of this.ring) {
      if (refused.has(project) || this.runningByProject.has(project)) continue;
      const job = this.queues.get(project)!.interactive[0];
      if (job?.burst) return { project, job };
    }
    return null;
  }

  /** The first project from this class's cursor with work of the class, skipping refused ones. */
  private firstEligible(priority: Priority, refused: ReadonlySet<string>): Pick | null {
    for (let scanned = 0; scanned < this.ring.length; scanned++) {
      const project = this.ring[(this.cursors[priority] + scanned) % this.ring.length]!;
      if (refused.has(project)) continue;
      const job = this.queues.get(project)![priority][0];
      if (job) return { project, job };
    }
    return null;
  }

  /** Takes the picked job from its queue and moves the turn on. */
  private take({ project, job }: Pick): void {
    const queue = this.queues.get(project)!;
    queue[job.priority].shift();
    const burst = this.running >= this.settings.concurrency;
    if (!burst) {
      for (const priority of PRIORITIES) {
        if (priority === job.priority) this.passedOver[priority] = 0;
        else if (PRIORITIES.indexOf(priority) > PRIORITIES.indexOf(job.priority) && this.hasWaiting(priority)) this.passedOver[priority]++;
      }
    }
    const index = this.ring.indexOf(project);
    if (waitingIn(queue) === 0) {
      this.ring.splice(index, 1);
      this.queues.delete(project);
      for (const priority of PRIORITIES) {
        if (this.cursors[priority] > index) this.cursors[priority]--;
        if (this.ring.length === 0 || this.cursors[priority] >= this.ring.length) this.cursors[priority] = 0;
      }
      if (this.ring.length > 0 && !burst) this.cursors[job.priority] = index % this.ring.length;
    } else if (!burst) {
      this.cursors[job.priority] = (index + 1) % this.ring.length;
    }
  }

  private hasWaiting(priority: Priority): boolean {
    for (const queue of this.queues.values()) if (queue[priority].length > 0) return true;
    return false;
  }

  private demandOf(project: string): number {
    const queue = this.queues.get(project);
    return (queue ? waitingIn(queue) : 0) + (this.runningByProject.get(project) ?? 0);
  }

  /** Tells the ledger, once per turn of the event loop, how this node's demand changed. */
  private noteDemand(project: string): void {
    if (this.demandChanged.size === 0) {
      queueMicrotask(() => {
        const demand = new Map([...this.demandChanged].map((changed) => [changed, this.demandOf(changed)]));
        this.demandChanged.clear();
        void this.ledger.reportDemand(demand);
      });
    }
    this.demandChanged.add(project);
  }

  /** Refused work is offered again after a short pause, in case no notice of a freed slot arrives. */
  private retryLater(): void {
    if (this.retryTimer || this.closed) return;
    this.retryTimer = setTimeout(() => {
      this.retryTimer = null;
      if (this.ring.length > 0) this.wake();
    }, this.settings.retryMs ?? 250);
    this.retryTimer.unref();
  }

  /** This node's whole account of its work, for the heartbeat. */
  private account(): Map<string, ProjectWork> {
    const work = new Map<string, ProjectWork>();
    for (const [project, queue] of this.queues) work.set(project, { waiting: waitingIn(queue), running: 0 });
    for (const [project, running] of this.runningByProject) work.set(project, { waiting: work.get(project)?.waiting ?? 0, running });
    return work;
  }
}

function waitingIn(queue: ProjectQueue): number {
  return queue.interactive.length + queue.eager.length + queue.background.length;
}
