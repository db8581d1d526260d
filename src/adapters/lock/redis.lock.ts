import { randomUUID } from 'node:crypto';
import type { LockHandle, LockService } from '../../ports/lock-service.js';
import type { RedisConnection } from '../redis/redis-connection.js';

interface RedisLockOptions {
  /**
   * How often a waiter checks whether the key is gone, in case the release notice was lost
   * (notices are not durable, and an expired lock sends none). Default 75 ms.
   */
  pollIntervalMs?: number;
}

/**
 * Deletes the lock only if the caller still holds it (the token matches): a holder whose lock
 * expired must not release its successor's. The notice goes out from the script so that it is sent
 * exactly when a release happened, in the same round trip.
 */
const RELEASE_SCRIPT = `
if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('DEL', KEYS[1])
  redis.call('PUBLISH', ARGV[2], ARGV[3])
  return 1
end
return 0
`;

type ReleaseCommand = (lockKey: string, token: string, channel: string, key: string) => Promise<number>;

/**
 * Locks shared by every node through Redis. Best effort, like the port asks: when Redis fails or
 * is slower than the connection's command timeout, `tryAcquire` answers as if the lock were free
 * and `waitForRelease` gives up at once, so a Redis outage costs duplicate work, never a stall.
 */
export class RedisLockService implements LockService {
  private readonly pollIntervalMs: number;
  private readonly channel: string;
  private readonly release: ReleaseCommand;
  /** Waiters of this process by lock key; one subscription serves them all. */
  private readonly waiters = new Map<string, Set<() => void>>();
  private stopListening: (() => void) | null = null;

  constructor(
    private readonly redis: RedisConnection,
    options: RedisLockOptions = {},
  ) {
    this.pollIntervalMs = options.pollIntervalMs ?? 75;
    this.channel = redis.key('lock-released');
    // defineCommand sends EVALSHA and falls back to EVAL when the server's script cache was flushed.
    redis.client.defineCommand('troveLockRelease', { numberOfKeys: 1, lua: RELEASE_SCRIPT });
    const client = redis.client as unknown as Record<'troveLockRelease', ReleaseCommand>;
    this.release = (...args) => client.troveLockRelease(...args);
  }

  async tryAcquire(key: string, ttlMs: number): Promise<LockHandle | null> {
    const lockKey = this.lockKey(key);
    const token = randomUUID();
    try {
      const reply = await this.redis.client.set(lockKey, token, 'PX', Math.max(1, Math.ceil(ttlMs)), 'NX');
      if (reply === null) return null;
    } catch (error) {
      // Fail open. The SET may still have landed (a timeout after the write), so the handle
      // below still tries to release it rather than leave it blocking others for the full TTL.
      this.redis.reportFailure('lock.acquire', error);
    }
    return this.handle(key, lockKey, token);
  }

  waitForRelease(key: string, timeoutMs: number): Promise<boolean> {
    const lockKey = this.lockKey(key);
    this.ensureListening();
    return new Promise((resolve) => {
      let settled = false;
      let pollTimer: NodeJS.Timeout | undefined;
      const finish = (released: boolean) => {
        if (settled) return;
        settled = true;
        clearTimeout(deadline);
        clearTimeout(pollTimer);
        this.removeWaiter(key, onNotice);
        resolve(released);
      };
      const onNotice = () => finish(true);
      const deadline = setTimeout(() => finish(false), Math.max(0, timeoutMs));
      // Registered before the first check: a release between the check and the registration
      // would otherwise be missed until the next poll.
      this.addWaiter(key, onNotice);
      const poll = async () => {
        try {
          if ((await this.redis.client.exists(lockKey)) === 0) return finish(true);
        } catch (error) {
          // Redis is away or slow: stop waiting so the caller does the work itself.
          this.redis.reportFailure('lock.wait', error);
          return finish(false);
        }
        if (!settled) pollTimer = setTimeout(() => void poll(), this.pollIntervalMs);
      };
      void poll();
    });
  }

  /** Stops listening for release notices; pending waits still end at their timeout or by polling. */
  close(): void {
    this.stopListening?.();
    this.stopListening = null;
  }

  private handle(key: string, lockKey: string, token: string): LockHandle {
    let released = false;
    return {
      release: async () => {
        if (released) return;
        released = true;
        try {
          await this.release(lockKey, token, this.channel, key);
        } catch (error) {
          // The lock expires on its own; waiters elsewhere fall back to polling or their timeout.
          this.redis.reportFailure('lock.release', error);
        }
      },
    };
  }

  private lockKey(key: string): string {
    return this.redis.key(`lock:${key}`);
  }

  private ensureListening(): void {
    this.stopListening ??= this.redis.channels.listen(this.channel, (key) => {
      for (const wake of [...(this.waiters.get(key) ?? [])]) wake();
    });
  }

  private addWaiter(key: string, wake: () => void): void {
    let set = this.waiters.get(key);
    if (!set) {
      set = new Set();
      this.waiters.set(key, set);
    }
    set.add(wake);
  }

  private removeWaiter(key: string, wake: () => void): void {
    const set = this.waiters.get(key);
    if (!set) return;
    set.delete(wake);
    if (set.size === 0) this.waiters.delete(key);
  }
}
