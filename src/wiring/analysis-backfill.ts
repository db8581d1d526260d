import type { Config } from '../config/config.js';
import { systemClock } from '../lib/clock.js';
import { SharpImageAnalyzer } from '../adapters/image/sharp.image-analyzer.js';
import { ImageAnalysisService } from '../services/image-analysis.service.js';
import { silentLogger } from './basics.js';
import { openJobQueue } from './coordination.js';
import { openBlobStore, openMetadataStore, openShards } from './storage.js';

/**
 * `trove analysis backfill`: the analysis service over the server's database and job queue (the SQL
 * table, or BullMQ with TROVE_REDIS_URL), so the jobs it queues are run by the servers' workers.
 * `run` gets the service and the project id of a public key (null when none is given).
 */
export async function withAnalysisBackfill<T>(config: Config, publicKey: string | null, run: (analysis: ImageAnalysisService, projectId: string | null) => Promise<T>): Promise<T> {
  const { store } = await openMetadataStore(config.database);
  const shards = await openShards(config, store);
  const jobs = openJobQueue(config.redisUrl, store, silentLogger);
  try {
    let projectId: string | null = null;
    if (publicKey !== null) {
      const project = await store.projects.findByPublicKey(publicKey);
      if (!project) throw new Error(`No project has the public key ${publicKey}.`);
      projectId = project.id;
    }
    const analysis = new ImageAnalysisService(shards, openBlobStore(config), jobs, new SharpImageAnalyzer(), systemClock, silentLogger, {
      maxSourcePixels: config.transform.maxSourcePixels,
      maxSourceBytes: config.transform.maxSourceBytes,
      timeoutMs: config.transform.timeoutMs,
    });
    return await run(analysis, projectId);
  } finally {
    await jobs.close();
    await shards.close();
    await store.close();
  }
}
