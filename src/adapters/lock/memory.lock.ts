import type { LockHandle, LockService } from '../../ports/lock-service.js';

interface Held {
  token: symbol;
  expiresAt: number;
  waiters: Array<() => void>;
}

/** Locks inside one process: the embedded default. */
export class MemoryLockService implements LockService {
  private readonly held = new Map<string, Held>();

  async tryAcquire(key: string, ttlMs: number): Promise<LockHandle | null> {
    const now = Date.now();
    const current = this.held.get(key);
    if (current && current.expiresAt > now) return null;
    const token = Symbol(key);
    const entry: Held = { token, expiresAt: now + ttlMs, waiters: current?.waiters ?? [] };
    this.held.set(key, entry);
    return {
      release: async () => {
        const still = this.held.get(key);
        if (still?.token !== token) return;
        this.held.delete(key);
        for (const wake of still.waiters.splice(0)) wake();
      },
    };
  }

  waitForRelease(key: string, timeoutMs: number): Promise<boolean> {
    const current = this.held.get(key);
    if (!current || current.expiresAt <= Date.now()) return Promise.resolve(true);
    return new Promise((resolve) => {
      const timer = setTimeout(() => resolve(false), timeoutMs);
      current.waiters.push(() => {
        clearTimeout(timer);
        resolve(true);
      });
    });
  }
}
