import { ReadinessService, type ReadinessCheck } from '../services/readiness.service.js';
import type { Coordination } from './coordination.js';
import type { Storage } from './storage.js';

/**
 * `/ready`: the database and the blob store are required (nothing works without them); Redis and the
 * job queue are best effort (cache hits and uploads keep working), so they only degrade the answer.
 */
export function createReadiness(storage: Pick<Storage, 'metadata' | 'blobs'>, coordination: Pick<Coordination, 'redis' | 'jobs'>): ReadinessService {
  const { redis, jobs } = coordination;
  const checks: ReadinessCheck[] = [
    { name: 'database', required: true, ping: () => storage.metadata.ping() },
    { name: 'storage', required: true, ping: () => storage.blobs.ping() },
    ...(redis ? [{ name: 'redis', required: false, ping: () => redis.ping() }] : []),
    { name: 'jobs', required: false, ping: () => jobs.ping() },
  ];
  return new ReadinessService(checks);
}
