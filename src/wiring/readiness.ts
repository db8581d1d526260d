import { ReadinessService, type FeatureProbe, type FeatureStatus, type ReadinessCheck } from '../services/readiness.service.js';
import type { Coordination } from './coordination.js';
import type { Storage } from './storage.js';

/**
 * `/ready`: the database and the blob store are required (nothing works without them); Redis and the
 * job queue are best effort (cache hits and uploads keep working), so they only degrade the answer;
 * so does a configured clamd that does not answer. Add-ons that are not set up, and video without
 * ffmpeg, are reported, not counted.
 */
export function createReadiness(
  storage: Pick<Storage, 'metadata' | 'blobs'>,
  coordination: Pick<Coordination, 'redis' | 'jobs'>,
  addons: FeatureProbe,
  video: (() => Promise<FeatureStatus>) | null = null,
  faces: (() => FeatureStatus) | null = null,
): ReadinessService {
  const { redis, jobs } = coordination;
  const checks: ReadinessCheck[] = [
    { name: 'database', required: true, ping: () => storage.metadata.ping() },
    { name: 'storage', required: true, ping: () => storage.blobs.ping() },
    ...(redis ? [{ name: 'redis', required: false, ping: () => redis.ping() }] : []),
    { name: 'jobs', required: false, ping: () => jobs.ping() },
  ];
  return new ReadinessService(checks, 2_000, addons, video, faces);
}
