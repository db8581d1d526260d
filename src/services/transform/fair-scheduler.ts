import { createAppError } from '../../errors.js';

export type Priority = 'interactive' | 'background';

interface Job {
  start: () => void;
}

interface ProjectQueue {
  interactive: Job[];
  background: Job[];
}

interface SchedulerSettings {
  /** CPU-heavy tasks running at once (about one per core). */
  concurrency: number;
  /** Tasks a project may have waiting; beyond it new ones are refused with 503 + Retry-After. */
  maxQueuedPerProject: number;
  /**
   * Extra slots for interactive work of a project that has nothing running (default 1). Without
   * them a quiet project's one request waits for a flood's task to finish before it can start.
   */
  idleProjectBurst?: number;
}

/**
 * Runs CPU-heavy work with a fixed number of slots shared fairly between projects: each project
 * has its own queue, and a free slot goes to the next project in turn (round robin), so a project
 * that floods Trove waits behind itself, not in front of everyone else. Interactive requests are
 * served before background (eager) work. A project with nothing running starts its interactive
 * request at once, in a burst slot beyond the fixed ones, so it never queues behind a busy tenant.
 */
export class FairScheduler {
  private running = 0;
  private readonly runningByProject = new Map<string, number>();
  private readonly queues = new Map<string, ProjectQueue>();
  /** Projects with waiting work, in turn order. */
  private readonly ring: string[] = [];
  private cursor = 0;

  constructor(private readonly settings: SchedulerSettings) {}

  run<T>(projectId: string, priority: Priority, task: () => Promise<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const job: Job = {
        start: () => {
          this.running++;
          this.runningByProject.set(projectId, (this.runningByProject.get(projectId) ?? 0) + 1);
          // The slot is freed before the caller hears the outcome, so what it schedules next sees it free.
          const settle = () => {
            this.running--;
            const left = this.runningByProject.get(projectId)! - 1;
            if (left === 0) this.runningByProject.delete(projectId);
            else this.runningByProject.set(projectId, left);
            this.dispatch();
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
      if (this.running < this.settings.concurrency && this.ring.length === 0) {
        job.start();
        return;
      }
      if (priority === 'interactive' && this.mayBurst(projectId)) {
        job.start();
        return;
      }
      let queue = this.queues.get(projectId);
      if (!queue) {
        queue = { interactive: [], background: [] };
        this.queues.set(projectId, queue);
      }
      if (queue.interactive.length + queue.background.length >= this.settings.maxQueuedPerProject) {
        reject(
          createAppError('TRANSFORM_QUEUE_FULL', 503, 'Too many transformations are waiting for this project; retry shortly.', {
            headers: { 'retry-after': '2' },
          }),
        );
        return;
      }
      queue[priority].push(job);
      if (!this.ring.includes(projectId)) this.ring.push(projectId);
      this.dispatch();
    });
  }

  /** Waiting tasks per project (metrics). */
  queued(): Map<string, number> {
    const depth = new Map<string, number>();
    for (const [project, queue] of this.queues) depth.set(project, queue.interactive.length + queue.background.length);
    return depth;
  }

  get active(): number {
    return this.running;
  }

  private mayBurst(projectId: string): boolean {
    return (
      !this.runningByProject.has(projectId) &&
      !this.queues.has(projectId) &&
      this.running < this.settings.concurrency + (this.settings.idleProjectBurst ?? 1)
    );
  }

  private dispatch(): void {
    while (this.running < this.settings.concurrency && this.ring.length > 0) {
      const job = this.next('interactive') ?? this.next('background');
      if (!job) break;
      job.start();
    }
  }

  /** The next job of this priority, taking projects in turn from the cursor. */
  private next(priority: Priority): Job | undefined {
    for (let scanned = 0; scanned < this.ring.length; scanned++) {
      const index = (this.cursor + scanned) % this.ring.length;
      const project = this.ring[index]!;
      const queue = this.queues.get(project)!;
      const job = queue[priority].shift();
      if (!job) continue;
      if (queue.interactive.length + queue.background.length === 0) {
        this.ring.splice(index, 1);
        this.queues.delete(project);
        this.cursor = this.ring.length === 0 ? 0 : index % this.ring.length;
      } else {
        this.cursor = (index + 1) % this.ring.length;
      }
      return job;
    }
    return undefined;
  }
}
