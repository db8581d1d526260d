import { SharpImageEngine } from '../adapters/image/sharp.engine.js';
import type { Role } from '../config/config.js';
import type { LockService } from '../ports/lock-service.js';
import type { SlotLedger } from '../ports/slot-ledger.js';
import { DeliveryService } from '../services/delivery.service.js';
import type { RateLimitService } from '../services/rate-limit.service.js';
import { DerivativeCache } from '../services/transform/derivative-cache.js';
import { FairScheduler } from '../services/transform/fair-scheduler.js';
import { TransformService } from '../services/transform/transform.service.js';
import type { Basics } from './basics.js';
import type { Storage } from './storage.js';

/** The CDN side: originals from memory or the store, and transformed images made once and cached in two tiers. */
export interface Delivery {
  delivery: DeliveryService;
  /** Runs transformations fairly between projects, one image per core, each project within its cluster-wide share. */
  scheduler: FairScheduler;
  transform: TransformService;
  /** Waits for transformations in flight and their derivative writes. */
  close(): Promise<void>;
}

export function createDelivery(basics: Basics, storage: Pick<Storage, 'metadata' | 'blobs'>, locks: LockService, rateLimits: RateLimitService, slots: SlotLedger): Delivery {
  const { config, clock, logger, metrics } = basics;
  const { metadata, blobs } = storage;
  const delivery = new DeliveryService(metadata.groups, metadata.files, blobs, clock, {
    recordCacheEntries: 10_000,
    recordCacheTtlMs: 30_000,
    originalCacheBytes: config.delivery.originalCacheBytes,
    originalCacheMaxEntryBytes: config.delivery.originalCacheMaxEntryBytes,
    sourceCacheBytes: config.delivery.sourceCacheBytes,
    sourceCacheMaxEntryBytes: config.delivery.sourceCacheMaxEntryBytes,
  });
  const scheduler = new FairScheduler(
    {
      concurrency: config.transform.concurrency,
      maxQueuedPerProject: config.transform.maxQueuedPerProject,
      heartbeatMs: config.transform.slotHeartbeatMs,
      retryMs: config.transform.slotRetryMs,
    },
    slots,
    { denied: (priority) => metrics.slotDenials.inc({ priority }) },
  );
  // CDN misses (delivery), copies (api) and eager jobs (worker) transform; an upload-only process
  // never does, and its slots must not count in the cluster's total.
  const transformingRoles: readonly Role[] = ['delivery', 'api', 'worker'];
  if (transformingRoles.some((role) => config.roles.has(role))) scheduler.start();
  metrics.queueDepth = () => scheduler.queued();
  metrics.slotsInUse = () => scheduler.active;
  const derivatives = new DerivativeCache(blobs, {
    l1Bytes: config.transform.cacheBytes,
    l1MaxEntryBytes: config.transform.cacheMaxEntryBytes,
    l2MaxEntryBytes: 64 * 1024 ** 2,
  });
  // One libvips thread per image: the scheduler already runs one image per core, and more threads only contend.
  const engine = new SharpImageEngine({ avifEffort: config.transform.avifEffort, concurrency: 1 });
  const transform = new TransformService(
    delivery,
    metadata.files,
    derivatives,
    engine,
    scheduler,
    locks,
    {
      hit: (tier) => metrics.derivativeLookups[tier]++,
      miss: () => metrics.derivativeLookups.miss++,
      transformed: (seconds) => metrics.transformSeconds.observe(seconds),
      rejected: (code) => metrics.transformRejections.inc({ code }),
      storeFailed: (key, error) => logger.warn({ err: error, key }, 'could not write a derivative to the blob store'),
    },
    {
      limits: {
        maxSourcePixels: config.transform.maxSourcePixels,
        maxOutputDimension: config.transform.maxOutputDimension,
        maxAnimationPixels: config.transform.maxAnimationPixels,
        maxSourcePages: config.transform.maxSourcePages,
        maxAnimationSourcePixels: config.transform.maxAnimationSourcePixels,
        timeoutMs: config.transform.timeoutMs,
      },
      maxSourceBytes: config.transform.maxSourceBytes,
      lockTtlMs: config.transform.timeoutMs * 2 + 10_000,
      waitTimeoutMs: config.transform.timeoutMs + 5_000,
      admitMiss: (projectId) => rateLimits.check(projectId, 'delivery-miss'),
    },
  );
  return {
    delivery,
    scheduler,
    transform,
    async close() {
      await transform.drain();
      await scheduler.close();
    },
  };
}
