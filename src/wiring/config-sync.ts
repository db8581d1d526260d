import { KyselyConfigReplicator } from '../adapters/db/config-replica.js';
import { ConfigSyncService } from '../services/config-sync.service.js';
import type { Basics } from './basics.js';
import type { Storage } from './storage.js';

/** The newest changes applied each pass besides the batch from the front of the log. */
const TAIL = 100;

/**
 * The region's configuration syncer, when the region keeps its own copy (TROVE_REGION_CONFIG_URL);
 * null otherwise. It is started with the jobs of a worker process.
 */
export function createConfigSync(
  basics: Basics,
  storage: Pick<Storage, 'metadata' | 'configCopy'>,
  changes: { projectChanged(projectId: string): Promise<void> },
): ConfigSyncService | null {
  const { config, clock, metrics, logger } = basics;
  if (!storage.configCopy) return null;
  const replicator = new KyselyConfigReplicator(storage.metadata.db, storage.configCopy.db, { batch: config.region.syncBatch, tail: TAIL, logRetentionMs: config.region.logRetentionMs, region: config.region.name });
  return new ConfigSyncService(replicator, changes, clock, metrics, logger, { region: config.region.name, intervalMs: config.region.syncIntervalMs });
}
