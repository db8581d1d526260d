/**
 * Best-effort mutual exclusion by key, used so that one transformation runs for many identical
 * concurrent misses. Locks expire on their own (a holder that dies does not block anyone for
 * longer than `ttlMs`), and waiting is bounded: when the lock service is slow, down or the holder
 * is stuck, work proceeds anyway — doing it twice beats doing it never.
 */
export interface LockHandle {
  release(): Promise<void>;
}

export interface LockService {
  /** Takes the lock when free; null when someone else holds it. Never throws: an unreachable service answers as if the lock were free (fail open). */
  tryAcquire(key: string, ttlMs: number): Promise<LockHandle | null>;
  /** Resolves when the key is released by its holder, or after `timeoutMs`, whichever comes first. true when released. */
  waitForRelease(key: string, timeoutMs: number): Promise<boolean>;
}
