import { setTimeout as sleep } from 'node:timers/promises';
import { purgeOfFiles, purgeOfGroup, splitPurge, type CachePurge } from '../domain/cache-tags.js';
import { CDN_PURGE_JOB, CDN_PURGE_MAX_WAIT_MS, type CdnPurgePayload } from '../jobs/catalogue.js';
import { enqueueJob } from '../jobs/typed-jobs.js';
import { PurgeError, type CachePurger } from '../ports/cache-purger.js';
import type { JobQueue, RunningJob } from '../ports/job-queue.js';
import type { RateLimit, RateLimiter } from '../ports/rate-limiter.js';

/** A configured cache in front of Trove and its request budget (null: none). */
export interface PurgeTarget {
  purger: CachePurger;
  rate: RateLimit | null;
}

export type PurgeOutcome = 'purged' | 'failed' | 'deferred' | 'dropped';

interface PurgeObserver {
  /** Purge jobs queued for a provider. */
  queued(provider: string, jobs: number): void;
  /** One purge job's end; `seconds`: the provider call (0 when none was made). */
  finished(provider: string, outcome: PurgeOutcome, seconds: number): void;
}

interface PurgeLogger {
  warn(object: Record<string, unknown>, message: string): void;
}

/** A purge the provider keeps putting off (429s, a spent budget) goes through the job's normal retries after this many. */
const MAX_DEFERRALS = 100;

/**
 * Purges the caches in front of Trove (the shield, CDNs) when what a URL serves changes: a file
 * deleted, expired or found infected, a group deleted. Each change queues one durable `cdn.purge`
 * job per provider and per provider-sized batch, so a provider that is down or slow delays only its
 * own purges. A job waits for its provider's request budget (shared by every node through the rate
 * limiter when Redis is set), and a provider that answers 429 gets the job back after its Retry-After.
 */
export class CachePurgeService {
  private readonly targets: ReadonlyMap<string, PurgeTarget>;

  constructor(
    private readonly jobs: JobQueue,
    targets: readonly PurgeTarget[],
    private readonly limiter: RateLimiter,
    private readonly observer: PurgeObserver,
    private readonly logger: PurgeLogger,
    private readonly settings: { deliveryPrefix: string },
  ) {
    this.targets = new Map(targets.map((target) => [target.purger.provider, target]));
  }

  /** Every answer made from these files (their originals and all their variants). */
  purgeFiles(uuids: readonly string[]): Promise<void> {
    return this.queue(purgeOfFiles(uuids, this.settings.deliveryPrefix));
  }

  /** Every answer served under a group's URLs. */
  purgeGroup(groupId: string): Promise<void> {
    return this.queue(purgeOfGroup(groupId, this.settings.deliveryPrefix));
  }

  /** Resolves once every provider's jobs are durably queued. */
  async queue(purge: CachePurge): Promise<void> {
    for (const [provider, target] of this.targets) {
      const batches = splitPurge(purge, target.purger.limits);
      for (const batch of batches) await enqueueJob(this.jobs, CDN_PURGE_JOB, { provider, tags: batch.tags, paths: batch.paths });
      if (batches.length > 0) this.observer.queued(provider, batches.length);
    }
  }

  /** The `cdn.purge` job: one call to one provider. Throws to be retried with backoff. */
  async run(job: RunningJob<CdnPurgePayload>): Promise<void> {
    const { provider, tags, paths } = job.payload;
    const target = this.targets.get(provider);
    if (!target) {
      // The provider was configured when the job was queued and is not any longer.
      this.logger.warn({ provider, tags: tags.length, paths: paths.length }, 'purge dropped: its provider is no longer configured');
      this.observer.finished(provider, 'dropped', 0);
      return;
    }
    const wait = await this.takeBudget(provider, target.rate);
    if (wait !== null) {
      this.observer.finished(provider, 'deferred', 0);
      return this.defer(job, wait);
    }
    const started = performance.now();
    try {
      await target.purger.purge({ tags, paths });
      this.observer.finished(provider, 'purged', (performance.now() - started) / 1000);
    } catch (error) {
      const seconds = (performance.now() - started) / 1000;
      if (error instanceof PurgeError && error.retryAfterMs !== null && (job.payload.deferrals ?? 0) < MAX_DEFERRALS) {
        this.observer.finished(provider, 'deferred', seconds);
        this.logger.warn({ provider, retryAfterMs: error.retryAfterMs, reason: error.message }, 'purge put off: the provider asked to be called later');
        return this.defer(job, error.retryAfterMs);
      }
      this.observer.finished(provider, 'failed', seconds);
      throw error;
    }
  }

  /**
   * Takes one request from the provider's budget, waiting for it when that is quick; returns null
   * when taken, or how long until the next request when that is longer than a job should hold a worker.
   */
  private async takeBudget(provider: string, rate: RateLimit | null): Promise<number | null> {
    if (!rate) return null;
    const deadline = Date.now() + CDN_PURGE_MAX_WAIT_MS;
    for (;;) {
      const decision = await this.limiter.take(`purge:${provider}`, rate);
      if (decision.allowed) return null;
      if (Date.now() + decision.retryAfterMs > deadline) return decision.retryAfterMs;
      await sleep(decision.retryAfterMs);
    }
  }

  /** The same purge again later: nothing is dropped, and the wait costs none of the job's attempts. */
  private async defer(job: RunningJob<CdnPurgePayload>, delayMs: number): Promise<void> {
    const { provider, tags, paths } = job.payload;
    await enqueueJob(this.jobs, CDN_PURGE_JOB, { provider, tags, paths, deferrals: (job.payload.deferrals ?? 0) + 1 }, { delayMs: Math.max(1, Math.ceil(delayMs)) });
  }
}
