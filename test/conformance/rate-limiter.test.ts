import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { MemoryRateLimiter } from '../../src/adapters/rate-limit/memory.rate-limiter.js';
import { RedisRateLimiter } from '../../src/adapters/rate-limit/redis.rate-limiter.js';
import { RedisConnection, type RedisConnectionOptions } from '../../src/adapters/redis/redis-connection.js';
import { connectTestRedis as connectRedis, describeWhenRedis, testRedisPrefix } from '../helpers/test-redis.js';
import { freePort } from '../helpers/ports.js';
import type { RateDecision, RateLimiter } from '../../src/ports/rate-limiter.js';

const PREFIX = testRedisPrefix();
const describeRedis = await describeWhenRedis('rate limiter');
const connectTestRedis = (options: Partial<RedisConnectionOptions> = {}) => connectRedis(PREFIX, options);

function uniqueKey(): string {
  return `proj_${randomBytes(4).toString('hex')}:api-read`;
}

function retryAfter(decision: RateDecision): number {
  if (decision.allowed) throw new Error('expected a refusal');
  return decision.retryAfterMs;
}

interface LimiterFixture {
  limiter: RateLimiter;
  cleanup: () => Promise<void>;
}

/** Behaviour every RateLimiter adapter shares. Real time passes: Redis refills by its own clock. */
function runRateLimiterConformance(name: string, setup: () => Promise<LimiterFixture>): void {
  describe(`RateLimiter conformance: ${name}`, () => {
    let fixture: LimiterFixture;
    let limiter: RateLimiter;

    beforeEach(async () => {
      fixture = await setup();
      limiter = fixture.limiter;
    });

    afterEach(async () => {
      await fixture.cleanup();
    });

    it('allows a burst, counting down, then refuses with the time until the next token', async () => {
      const key = uniqueKey();
      const limit = { burst: 3, perSecond: 1 };
      expect(await limiter.take(key, limit)).toEqual({ allowed: true, remaining: 2 });
      expect(await limiter.take(key, limit)).toEqual({ allowed: true, remaining: 1 });
      expect(await limiter.take(key, limit)).toEqual({ allowed: true, remaining: 0 });
      const refused = await limiter.take(key, limit);
      expect(refused.allowed).toBe(false);
      // One token per second, and only a few milliseconds of it have refilled.
      expect(retryAfter(refused)).toBeGreaterThan(900);
      expect(retryAfter(refused)).toBeLessThanOrEqual(1_000);
    });

    it('refills with time: a token is there once retryAfterMs has passed, not much before', async () => {
      const key = uniqueKey();
      const limit = { burst: 1, perSecond: 5 };
      expect((await limiter.take(key, limit)).allowed).toBe(true);
      const wait = retryAfter(await limiter.take(key, limit));
      expect(wait).toBeGreaterThan(150);
      expect(wait).toBeLessThanOrEqual(200);
      await sleep(wait / 2);
      const early = await limiter.take(key, limit);
      expect(early.allowed).toBe(false);
      // The refusal itself takes no token: the wait shrinks as time passes.
      expect(retryAfter(early)).toBeLessThan(wait);
      await sleep(retryAfter(early) + 5);
      expect(await limiter.take(key, limit)).toEqual({ allowed: true, remaining: 0 });
    });

    it('never refills beyond the burst', async () => {
      const key = uniqueKey();
      // Refill slow enough that the three takes below see no new token on a busy machine (200 ms
      // each), and a pause long enough to refill three tokens if the bucket could hold them.
      const limit = { burst: 2, perSecond: 5 };
      await limiter.take(key, limit);
      await sleep(600);
      expect(await limiter.take(key, limit)).toEqual({ allowed: true, remaining: 1 });
      expect(await limiter.take(key, limit)).toEqual({ allowed: true, remaining: 0 });
      expect((await limiter.take(key, limit)).allowed).toBe(false);
    });

    it('keeps separate keys independent', async () => {
      const limit = { burst: 1, perSecond: 0.5 };
      const a = uniqueKey();
      const b = uniqueKey();
      expect((await limiter.take(a, limit)).allowed).toBe(true);
      expect((await limiter.take(a, limit)).allowed).toBe(false);
      expect((await limiter.take(b, limit)).allowed).toBe(true);
      expect(retryAfter(await limiter.take(a, limit))).toBeGreaterThan(1_900);
    });

    it('lets exactly the burst through when requests arrive at once', async () => {
      const key = uniqueKey();
      const limit = { burst: 5, perSecond: 0.1 };
      const decisions = await Promise.all(Array.from({ length: 20 }, () => limiter.take(key, limit)));
      expect(decisions.filter((decision) => decision.allowed)).toHaveLength(5);
    });

    it('refuses limits that could never hold a token', async () => {
      await expect(limiter.take(uniqueKey(), { burst: 0, perSecond: 1 })).rejects.toThrow(RangeError);
      await expect(limiter.take(uniqueKey(), { burst: 1, perSecond: 0 })).rejects.toThrow(RangeError);
      await expect(limiter.take(uniqueKey(), { burst: Number.NaN, perSecond: 1 })).rejects.toThrow(RangeError);
    });
  });
}

runRateLimiterConformance('memory', async () => ({ limiter: new MemoryRateLimiter(), cleanup: async () => undefined }));

describe('MemoryRateLimiter memory use', () => {
  it('drops buckets once they have refilled, so idle keys cost nothing', async () => {
    let now = 1_000_000;
    const limiter = new MemoryRateLimiter({ now: () => now, sweepIntervalMs: 1_000 });
    const limit = { burst: 10, perSecond: 10 };
    for (let i = 0; i < 1_000; i += 1) await limiter.take(`key-${i}`, limit);
    expect(limiter.size).toBe(1_000);

    // One token each was taken: full again after 100 ms; the sweep runs at most once a second.
    now += 1_000;
    const busy = await limiter.take('busy', limit);
    expect(busy).toEqual({ allowed: true, remaining: 9 });
    expect(limiter.size).toBe(1);

    // A dropped bucket comes back full, exactly as if it had been kept.
    expect(await limiter.take('key-1', limit)).toEqual({ allowed: true, remaining: 9 });
  });

  it('keeps buckets that are still refilling', async () => {
    let now = 1_000_000;
    const limiter = new MemoryRateLimiter({ now: () => now, sweepIntervalMs: 1_000 });
    const slow = { burst: 2, perSecond: 0.1 };
    await limiter.take('slow', slow);
    await limiter.take('slow', slow);
    now += 1_500;
    await limiter.take('other', slow);
    expect(limiter.size).toBe(2);
    const decision = await limiter.take('slow', slow);
    expect(decision.allowed).toBe(false);
    // 1.5 s of a 10 s refill has passed.
    expect(retryAfter(decision)).toBe(8_500);
  });
});

describeRedis('Redis rate limiter', () => {
  runRateLimiterConformance('redis', async () => {
    const connection = await connectTestRedis();
    return { limiter: new RedisRateLimiter(connection), cleanup: () => connection.close() };
  });

  describe('across nodes', () => {
    let nodeA: RedisConnection;
    let nodeB: RedisConnection;

    beforeAll(async () => {
      nodeA = await connectTestRedis({ connectionName: 'trove-test-a' });
      nodeB = await connectTestRedis({ connectionName: 'trove-test-b' });
    });

    afterAll(async () => {
      await Promise.all([nodeA.close(), nodeB.close()]);
    });

    it('shares one bucket between limiters on different connections', async () => {
      const limiterA = new RedisRateLimiter(nodeA);
      const limiterB = new RedisRateLimiter(nodeB);
      const key = uniqueKey();
      const limit = { burst: 4, perSecond: 0.5 };
      const decisions = [
        await limiterA.take(key, limit),
        await limiterB.take(key, limit),
        await limiterA.take(key, limit),
        await limiterB.take(key, limit),
      ];
      expect(decisions).toEqual([
        { allowed: true, remaining: 3 },
        { allowed: true, remaining: 2 },
        { allowed: true, remaining: 1 },
        { allowed: true, remaining: 0 },
      ]);
      expect((await limiterA.take(key, limit)).allowed).toBe(false);
      expect((await limiterB.take(key, limit)).allowed).toBe(false);
    });

    it('lets a bucket expire from Redis once it would be full again', async () => {
      const limiter = new RedisRateLimiter(nodeA);
      const key = uniqueKey();
      const redisKey = nodeA.key(`rate:${key}`);
      await limiter.take(key, { burst: 3, perSecond: 20 });
      const ttl = await nodeA.client.pttl(redisKey);
      // One token short, at 20 per second: full again in 50 ms.
      expect(ttl).toBeGreaterThan(0);
      expect(ttl).toBeLessThanOrEqual(50);
      await sleep(120);
      expect(await nodeA.client.exists(redisKey)).toBe(0);
    });
  });
});

describe('Redis rate limiter when Redis is unreachable (fail open)', () => {
  let connection: RedisConnection;

  beforeAll(async () => {
    connection = new RedisConnection({ url: `redis://127.0.0.1:${await freePort()}`, keyPrefix: PREFIX });
  });

  afterAll(async () => {
    await connection.close();
  });

  it('allows every request at once', async () => {
    await expect.poll(() => connection.state, { timeout: 2_000 }).toBe('down');
    const limiter = new RedisRateLimiter(connection);
    const key = uniqueKey();
    const started = performance.now();
    for (let i = 0; i < 5; i += 1) {
      expect((await limiter.take(key, { burst: 1, perSecond: 0.1 })).allowed).toBe(true);
    }
    expect(performance.now() - started).toBeLessThan(1_000);
  });
});
