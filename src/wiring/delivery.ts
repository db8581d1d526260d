import { SharpImageEngine } from '../adapters/image/sharp.engine.js';
import type { LockService } from '../ports/lock-service.js';
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
  /** Runs transformations fairly between projects, one image per core. */
  scheduler: FairScheduler;
  transform: TransformService;
  /** Waits for transformations in flight and their derivative writes. */
  close(): Promise<void>;
}

export function createDelivery(basics: Basics, storage: Pick<Storage, 'metadata' | 'blobs'>, locks: LockService, rateLimits: RateLimitService): Delivery {
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
  const scheduler = new FairScheduler({
    concurrency: config.transform.concurrency,
    maxQueuedPerProject: config.transform.maxQueuedPerProject,
  });
  metrics.queueDepth = () => scheduler.queued();
  const derivatives = new DerivativeCache(blobs, {
    l1Bytes: config.transform.cacheBytes,
    l1MaxEntryBytes: config.transform.cacheMaxEntryBytes,
    l2MaxEntryBytes: 64 * 1024 ** 2,
  });
  // One libvips thread per image: the scheduler already runs one image per core, and more threads only contend.
  const engine = new SharpImageEngine({
    avifEffort: config.transform.avifEffort,
    concurrency: 1,
    intermediates: { maxBytes: config.transform.intermediateCacheBytes, minSourcePixels: config.transform.intermediateMinSourcePixels },
  });
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
  return { delivery, scheduler, transform, close: () => transform.drain() };
}
