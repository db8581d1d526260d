import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { describe } from 'vitest';
import { RedisConnection, type RedisConnectionOptions } from '../../src/adapters/redis/redis-connection.js';

export const REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
const REQUIRE_SCALE = process.env.TROVE_TEST_REQUIRE_SCALE === '1';

/** A key prefix of its own per test file and run, so runs against one Redis never see each other. */
export function testRedisPrefix(): string {
  return `trove-test-${randomBytes(4).toString('hex')}:`;
}

/** null when Redis at `url` answers a PING; else why not (for a skip message). */
export async function redisUnavailableReason(url: string = REDIS_URL): Promise<string | null> {
  const client = new Redis(url, { lazyConnect: true, connectTimeout: 2_000, maxRetriesPerRequest: 0, retryStrategy: () => null, enableOfflineQueue: false });
  client.on('error', () => undefined);
  try {
    await client.connect();
    await client.ping();
    return null;
  } catch (error) {
    return `Redis at ${url} is not reachable (${(error as Error).message})`;
  } finally {
    client.disconnect();
  }
}

/**
 * `describe` for the Redis cases of a suite: skipped with a message when Redis is unreachable,
 * unless TROVE_TEST_REQUIRE_SCALE=1 makes that a failure.
 */
export async function describeWhenRedis(what: string): Promise<typeof describe | typeof describe.skip> {
  const reason = await redisUnavailableReason();
  if (!reason || REQUIRE_SCALE) return describe;
  console.warn(`[trove tests] skipping the Redis ${what} cases: ${reason}. Set TROVE_TEST_REQUIRE_SCALE=1 to make this an error.`);
  return describe.skip;
}

export async function connectTestRedis(prefix: string, options: Partial<RedisConnectionOptions> = {}): Promise<RedisConnection> {
  const connection = new RedisConnection({ url: REDIS_URL, keyPrefix: prefix, ...options });
  if (!(await connection.waitUntilUp(3_000))) {
    await connection.close();
    throw new Error(`Redis at ${connection.target} is required (TROVE_TEST_REQUIRE_SCALE=1) but not reachable`);
  }
  return connection;
}

/** A port nothing listens on: taken from the OS, then released. */
