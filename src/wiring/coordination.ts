import cluster from 'node:cluster';
import type { KyselyMetadataStore } from '../adapters/db/kysely-metadata-store.js';
import { ClusterEventBus, relayClusterEvents } from '../adapters/events/cluster.event-bus.js';
import { MemoryEventBus } from '../adapters/events/memory.event-bus.js';
import { RedisEventBus } from '../adapters/events/redis.event-bus.js';
import { ClusterLockService, serveClusterLocks } from '../adapters/lock/cluster.lock.js';
import { MemoryLockService } from '../adapters/lock/memory.lock.js';
import { RedisLockService } from '../adapters/lock/redis.lock.js';
import { BullMqJobQueue } from '../adapters/queue/bullmq.job-queue.js';
import { MemoryRateLimiter } from '../adapters/rate-limit/memory.rate-limiter.js';
import { RedisRateLimiter } from '../adapters/rate-limit/redis.rate-limiter.js';
import { RedisConnection } from '../adapters/redis/redis-connection.js';
import { MemorySlotLedger } from '../adapters/slots/memory.slot-ledger.js';
import { RedisSlotLedger } from '../adapters/slots/redis.slot-ledger.js';
import type { EventBus } from '../ports/event-bus.js';
import type { JobQueue } from '../ports/job-queue.js';
import type { LockService } from '../ports/lock-service.js';
import type { RateLimiter } from '../ports/rate-limiter.js';
import type { SlotLedger } from '../ports/slot-ledger.js';
import { RateLimitService } from '../services/rate-limit.service.js';
import type { Basics, ServiceLogger } from './basics.js';
import { JOB_LANES } from '../jobs/catalogue.js';

/**
 * What processes and nodes share. Each piece has three forms, chosen here and nowhere else: Redis
 * (REDIS_URL set: every node), the cluster primary (TROVE_WORKERS > 1: the processes of one node),
 * or memory (one process).
 */
export interface Coordination {
  /** Null unless REDIS_URL is set. */
  redis: RedisConnection | null;
  events: EventBus;
  locks: LockService;
  rateLimiter: RateLimiter;
  /** The configured budgets over `rateLimiter`. */
  rateLimits: RateLimitService;
  /** BullMQ with Redis, else a queue in the metadata store. */
  jobs: JobQueue;
  /**
   * Transformation slots per project across the cluster: in Redis, every node's; otherwise this
   * process's alone (cluster workers without Redis each keep their own, as before the ledger).
   */
  slots: SlotLedger;
  close(): Promise<void>;
}

interface CoordinationOverrides {
  locks?: LockService;
  rateLimiter?: RateLimiter;
}

/**
 * The primary process of a node with several HTTP processes holds their shared locks and relays
 * their events (without Redis); call it before forking them.
 */
export function startClusterPrimary(): void {
  serveClusterLocks();
  relayClusterEvents();
}

export function connectRedis(url: string, logger: ServiceLogger): RedisConnection {
  // Redis is best effort: when it is away, locks, rate limits and the slot ledger fail open and the node says so once.
  return new RedisConnection({
    url,
    onHealthChange: (change) => {
      if (change.state === 'down') logger.warn({ err: change.error?.message }, 'Redis unreachable: locks, rate limits and transform slot shares fail open, other nodes miss cache evictions until it is back');
      else logger.info({}, change.previous === 'connecting' ? 'Redis connected' : 'Redis is back');
    },
    onCommandError: (report) => logger.warn({ operation: report.operation, err: report.error.message, suppressed: report.suppressed }, 'Redis command failed; working without it'),
  });
}

export function openJobQueue(redisUrl: string | null, metadata: KyselyMetadataStore, logger: ServiceLogger): JobQueue {
  // While its service is away the queue reports every reconnect attempt: one line per 30 s is enough.
  let lastQueueError = 0;
  const onError = (error: unknown) => {
    if (Date.now() - lastQueueError < 30_000) return;
    lastQueueError = Date.now();
    logger.warn({ err: error instanceof Error ? error.message : String(error) }, 'job queue error (repeats within 30 s are not logged)');
  };
  return redisUrl ? new BullMqJobQueue({ url: redisUrl, lanes: JOB_LANES, onError }) : metadata.createJobQueue({ onError });
}

/** Transformation slots per project: every node's in Redis, else this process's alone. */
export function openSlotLedger(basics: Basics, redis: RedisConnection | null): SlotLedger {
  const { config, metrics } = basics;
  const settings = { slots: config.transform.concurrency, nodeTtlMs: config.transform.slotHeartbeatMs * 3 };
  return redis
    ? new RedisSlotLedger(redis, { ...settings, onFailure: (operation) => metrics.slotLedgerFailures.inc({ operation }) })
    : new MemorySlotLedger(settings);
}

export function createCoordination(basics: Basics, metadata: KyselyMetadataStore, overrides: CoordinationOverrides): Coordination {
  const { config, logger, metrics } = basics;
  const redis = config.redisUrl ? connectRedis(config.redisUrl, logger) : null;
  const events: EventBus = redis ? new RedisEventBus(redis) : cluster.isWorker ? new ClusterEventBus() : new MemoryEventBus();
  const rateLimiter = overrides.rateLimiter ?? (redis ? new RedisRateLimiter(redis) : new MemoryRateLimiter());
  // HTTP processes of one node share locks through the primary; a single process keeps them in memory.
  const locks = overrides.locks ?? (redis ? new RedisLockService(redis) : cluster.isWorker ? new ClusterLockService() : new MemoryLockService());
  const jobs = openJobQueue(config.redisUrl, metadata, logger);
  const slots = openSlotLedger(basics, redis);
  metrics.jobCounts = async () => ({ ...(await jobs.counts()) });
  return {
    redis,
    events,
    locks,
    rateLimiter,
    rateLimits: new RateLimitService(rateLimiter, config.rateLimits),
    jobs,
    slots,
    async close() {
      await jobs.close();
      await events.close();
      await redis?.close();
    },
  };
}
