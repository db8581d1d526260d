import type { RateDecision, RateLimit, RateLimiter } from '../../ports/rate-limiter.js';
import type { RedisConnection } from '../redis/redis-connection.js';
import { assertValidLimit } from './token-bucket.js';

/**
 * One token bucket, refilled and taken from in a single atomic step, so every node sees the same
 * count. Time comes from the Redis server (TIME), so nodes whose clocks disagree still agree on
 * refills. The key expires when the bucket would be full again: an idle bucket costs no memory.
 * Same rules as token-bucket.ts; returns {allowed, remaining, retryAfterMs} as integers.
 */
const TAKE_SCRIPT = `
-- Redis before 5 refuses writes after TIME unless effects are replicated instead of the script.
if redis.replicate_commands then redis.replicate_commands() end
local burst = tonumber(ARGV[1])
local per_ms = tonumber(ARGV[2]) / 1000
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + tonumber(time[2]) / 1000
local saved = redis.call('HMGET', KEYS[1], 'tokens', 'at')
local tokens = tonumber(saved[1])
local at = tonumber(saved[2])
if tokens == nil or at == nil then
  tokens = burst
else
  tokens = math.min(burst, tokens + math.max(0, now - at) * per_ms)
end
local allowed = 0
local retry_after = 0
if tokens >= 1 then
  tokens = tokens - 1
  allowed = 1
else
  retry_after = math.max(1, math.ceil((1 - tokens) / per_ms))
end
-- %.17g and %.3f keep full precision; Lua's default number format would round both.
redis.call('HSET', KEYS[1], 'tokens', string.format('%.17g', tokens), 'at', string.format('%.3f', now))
redis.call('PEXPIRE', KEYS[1], math.max(1, math.ceil((burst - tokens) / per_ms)))
return {allowed, math.floor(tokens), retry_after}
`;

type TakeCommand = (bucketKey: string, burst: string, perSecond: string) => Promise<[number, number, number]>;

/**
 * Token buckets in Redis, shared by every node. Fails open: when Redis is down or answers slower
 * than the connection's command timeout, the request is allowed (the outage is reported by the
 * connection's health, not here).
 */
export class RedisRateLimiter implements RateLimiter {
  private readonly takeInRedis: TakeCommand;

  constructor(private readonly redis: RedisConnection) {
    // defineCommand sends EVALSHA and falls back to EVAL when the server's script cache was flushed.
    redis.client.defineCommand('troveRateTake', { numberOfKeys: 1, lua: TAKE_SCRIPT });
    const client = redis.client as unknown as Record<'troveRateTake', TakeCommand>;
    this.takeInRedis = (...args) => client.troveRateTake(...args);
  }

  async take(key: string, limit: RateLimit): Promise<RateDecision> {
    assertValidLimit(limit);
    try {
      const [allowed, remaining, retryAfterMs] = await this.takeInRedis(
        this.redis.key(`rate:${key}`),
        String(limit.burst),
        String(limit.perSecond),
      );
      return allowed === 1 ? { allowed: true, remaining } : { allowed: false, retryAfterMs };
    } catch (error) {
      this.redis.reportFailure('rate-limit.take', error);
      // Nothing is known about the bucket; claiming a full one keeps clients from backing off
      // because of an outage that is Trove's, not theirs.
      return { allowed: true, remaining: Math.max(0, Math.floor(limit.burst) - 1) };
    }
  }
}
