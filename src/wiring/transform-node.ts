import type { Storage } from './storage.js';
import type { SlotLedger } from '../ports/slot-ledger.js';
import type { Basics } from './basics.js';
import { SourceReader } from '../services/transform/source-reader.js';
import { createTransformTier, type TransformTier } from './transform-tier.js';

/**
 * A transform-only node: the blob store's originals, the engine behind the fair scheduler, and the
 * endpoint that takes signed jobs. No database and no job queue; Redis only for the slot ledger,
 * when REDIS_URL is set.
 */
export function createTransformNode(basics: Basics, blobs: Storage['blobs'], slots: SlotLedger): TransformTier {
  const { config } = basics;
  const sources = new SourceReader(blobs, {
    cacheBytes: config.delivery.sourceCacheBytes,
    cacheMaxEntryBytes: config.delivery.sourceCacheMaxEntryBytes,
  });
  return createTransformTier(basics, sources, slots);
}
