import { ReadinessService, type FeatureProbe, type FeatureStatus, type ReadinessCheck } from '../services/readiness.service.js';
import { RegionalBlobStore } from '../adapters/blob/regional.blob-store.js';
import type { BlobStore } from '../ports/blob-store.js';
import type { Coordination } from './coordination.js';
import type { Storage } from './storage.js';

/**
 * `/ready`: the database and the blob store are required (nothing works without them); Redis and the
 * job queue are best effort (cache hits and uploads keep working), so they only degrade the answer;
 * each other shard is reported as `shard:NAME`, and each other region's storage as
 * `storage:REGION`, and only degrades it too (their projects fail, the others keep working);
 * so does a configured clamd that does not answer. Add-ons that are not set up, and video without
 * ffmpeg, are reported, not counted.
 */
export function createReadiness(
  storage: Pick<Storage, 'metadata' | 'configCopy' | 'shards' | 'blobs'>,
  coordination: Pick<Coordination, 'redis' | 'jobs'>,
  addons: FeatureProbe,
  video: (() => Promise<FeatureStatus>) | null = null,
  faces: (() => FeatureStatus) | null = null,
): ReadinessService {
  const { redis, jobs } = coordination;
  const { configCopy } = storage;
  const fixed: ReadinessCheck[] = [
    // With a region's copy of the configuration, the node serves without the main database (changes of configuration wait): that only degrades it.
    { name: 'database', required: configCopy === null, ping: () => storage.metadata.ping() },
    ...(configCopy ? [{ name: 'config-copy', required: true, ping: () => configCopy.ping() }] : []),
    // This node's region's storage: its derivatives, and its region's originals.
    { name: 'storage', required: true, ping: () => storage.blobs.ping() },
    ...otherRegions(storage.blobs),
    ...(redis ? [{ name: 'redis', required: false, ping: () => redis.ping() }] : []),
    { name: 'jobs', required: false, ping: () => jobs.ping() },
  ];
  const { shards } = storage;
  const checks = (): ReadinessCheck[] => [
    ...fixed,
    ...shards
      .names()
      .filter((name) => name !== 'main')
      .map((name) => ({ name: `shard:${name}`, required: false, ping: () => shards.ping(name) })),
  ];
  return new ReadinessService(checks, 2_000, addons, video, faces);
}

/** The storage of every region but this node's (whose storage is `storage`). */
function otherRegions(blobs: BlobStore): ReadinessCheck[] {
  if (!(blobs instanceof RegionalBlobStore)) return [];
  return blobs
    .regions()
    .filter((region) => region !== blobs.localRegion)
    .map((region) => ({ name: `storage:${region}`, required: false, ping: () => blobs.pingRegion(region) }));
}
