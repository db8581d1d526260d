import type { LockService } from '../ports/lock-service.js';
import type { SlotLedger } from '../ports/slot-ledger.js';
import type { VideoEngine } from '../ports/video-engine.js';
import { DeliveryService } from '../services/delivery.service.js';
import type { RateLimitService } from '../services/rate-limit.service.js';
import { DerivativeCache } from '../services/transform/derivative-cache.js';
import type { FairScheduler } from '../services/transform/fair-scheduler.js';
import { GifVideoService } from '../services/transform/gif-video.service.js';
import type { TransformNodeService } from '../services/transform/transform-node.service.js';
import { type FaceLookup, TransformService } from '../services/transform/transform.service.js';
import type { Basics } from './basics.js';
import type { Storage } from './storage.js';
import { createTransformTier } from './transform-tier.js';

/** The CDN side: originals from memory or the store, and transformed images made once and cached in two tiers. */
export interface Delivery {
  delivery: DeliveryService;
  /** Runs transformations fairly between projects, one image per core, each project within its cluster-wide share. */
  scheduler: FairScheduler;
  transform: TransformService;
  /** `/:uuid/gif2video/`: animated GIFs as videos, cached like transformed images. */
  gifVideo: GifVideoService;
  /** Takes signed jobs from other nodes (transform role); null without that role. */
  transformNode: TransformNodeService | null;
  /** Waits for transformations in flight and their derivative writes. */
  close(): Promise<void>;
}

/** Largest derivative kept in the blob store (and largest video a GIF may become). */
const MAX_DERIVATIVE_BYTES = 64 * 1024 ** 2;

export function createDelivery(
  basics: Basics,
  storage: Pick<Storage, 'shards' | 'blobs'>,
  locks: LockService,
  rateLimits: RateLimitService,
  slots: SlotLedger,
  video: VideoEngine,
  faces: FaceLookup | null = null,
): Delivery {
  const { config, clock, logger, metrics } = basics;
  const { shards, blobs } = storage;
  const delivery = new DeliveryService(shards, blobs, clock, {
    recordCacheEntries: 10_000,
    recordCacheTtlMs: 30_000,
    originalCacheBytes: config.delivery.originalCacheBytes,
    originalCacheMaxEntryBytes: config.delivery.originalCacheMaxEntryBytes,
    sourceCacheBytes: config.delivery.sourceCacheBytes,
    sourceCacheMaxEntryBytes: config.delivery.sourceCacheMaxEntryBytes,
  });
  const tier = createTransformTier(basics, delivery, slots);
  const derivatives = new DerivativeCache(blobs, {
    l1Bytes: config.transform.cacheBytes,
    l1MaxEntryBytes: config.transform.cacheMaxEntryBytes,
    l2MaxEntryBytes: MAX_DERIVATIVE_BYTES,
  });
  const transform = new TransformService(
    delivery,
    shards,
    derivatives,
    tier.runner,
    locks,
    {
      hit: (tier) => metrics.derivativeLookups[tier]++,
      miss: () => metrics.derivativeLookups.miss++,
      rejected: (code) => metrics.transformRejections.inc({ code }),
      storeFailed: (key, error) => logger.warn({ err: error, key }, 'could not write a derivative to the blob store'),
    },
    {
      maxSourceBytes: config.transform.maxSourceBytes,
      lockTtlMs: config.transform.timeoutMs * 2 + 10_000,
      waitTimeoutMs: config.transform.timeoutMs + 5_000,
      admitMiss: (projectId) => rateLimits.check(projectId, 'delivery-miss'),
      ...(faces ? { faces } : {}),
    },
  );
  // Bounded by the image limits of a source (bytes, pixels, frames) and by video's (side, duration).
  const gifVideo = new GifVideoService(
    delivery,
    transform,
    video,
    tier.scheduler,
    {
      converted: (format, seconds) => metrics.gif2videoSeconds.observe({ format }, seconds),
      rejected: (code) => metrics.transformRejections.inc({ code }),
    },
    {
      limits: {
        maxSourceBytes: Math.min(config.transform.maxSourceBytes, config.video.limits.maxFileSize),
        maxSourcePixels: config.transform.maxSourcePixels,
        maxDimension: config.video.limits.maxDimension,
        maxFrames: config.transform.maxSourcePages,
        maxAnimationPixels: config.transform.maxAnimationSourcePixels,
        maxDurationMs: config.video.limits.maxDurationMs,
      },
      timeoutMs: config.transform.timeoutMs,
      maxOutputBytes: MAX_DERIVATIVE_BYTES,
      admitMiss: (projectId) => rateLimits.check(projectId, 'delivery-miss'),
    },
  );
  return {
    delivery,
    scheduler: tier.scheduler,
    transform,
    gifVideo,
    transformNode: tier.node,
    async close() {
      await transform.drain();
      await tier.close();
    },
  };
}
