import cluster from 'node:cluster';
import { randomUUID } from 'node:crypto';
import type { LockHandle, LockService } from '../../ports/lock-service.js';
import { MemoryLockService } from './memory.lock.js';

/**
 * Locks shared by the HTTP processes of one node (TROVE_WORKERS > 1): the primary process holds
 * the lock table, workers ask it over the cluster IPC channel. If the primary does not answer in
 * time, a worker proceeds as if the lock were free (fail open).
 */
type LockMessage =
  | { trove: 'lock'; id: string; action: 'acquire'; key: string; ttlMs: number }
  | { trove: 'lock'; id: string; action: 'release'; key: string; token: string }
  | { trove: 'lock'; id: string; action: 'wait'; key: string; timeoutMs: number };

type LockReply = { trove: 'lock-reply'; id: string; granted?: string | null; released?: boolean };

/** A loaded primary can lag; failing open too early would duplicate the very work the lock saves. */
const IPC_TIMEOUT_MS = 3_000;

function isLockMessage(value: unknown): value is LockMessage {
  return typeof value === 'object' && value !== null && (value as { trove?: unknown }).trove === 'lock';
}

function isLockReply(value: unknown): value is LockReply {
  return typeof value === 'object' && value !== null && (value as { trove?: unknown }).trove === 'lock-reply';
}

/** Runs in the primary: answers the workers' lock requests from one in-memory table. */
export function serveClusterLocks(): void {
  const table = new MemoryLockService();
  const tokens = new Map<string, LockHandle>();
  cluster.on('message', (worker, message: unknown) => {
    if (!isLockMessage(message)) return;
    const reply = (payload: Omit<LockReply, 'trove' | 'id'>) => {
      if (worker.isConnected()) worker.send({ trove: 'lock-reply', id: message.id, ...payload } satisfies LockReply);
    };
    if (message.action === 'acquire') {
      void table.tryAcquire(message.key, message.ttlMs).then((handle) => {
        if (!handle) return reply({ granted: null });
        const token = randomUUID();
        tokens.set(token, handle);
        setTimeout(() => tokens.delete(token), message.ttlMs + 1_000).unref();
        reply({ granted: token });
      });
    } else if (message.action === 'release') {
      const handle = tokens.get(message.token);
      tokens.delete(message.token);
      void (handle?.release() ?? Promise.resolve()).then(() => reply({ released: true }));
    } else {
      void table.waitForRelease(message.key, message.timeoutMs).then((released) => reply({ released }));
    }
  });
}

/** Runs in a worker: the LockService the transformation path uses. */
export class ClusterLockService implements LockService {
  private readonly pending = new Map<string, (reply: LockReply | null) => void>();

  constructor() {
    process.on('message', (message: unknown) => {
      if (!isLockReply(message)) return;
      const resolve = this.pending.get(message.id);
      this.pending.delete(message.id);
      resolve?.(message);
    });
  }

  private ask(message: LockMessage, timeoutMs: number): Promise<LockReply | null> {
    if (!process.send || !process.connected) return Promise.resolve(null);
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.pending.delete(message.id);
        resolve(null);
      }, timeoutMs);
      this.pending.set(message.id, (reply) => {
        clearTimeout(timer);
        resolve(reply);
      });
      process.send?.(message);
    });
  }

  async tryAcquire(key: string, ttlMs: number): Promise<LockHandle | null> {
    const reply = await this.ask({ trove: 'lock', id: randomUUID(), action: 'acquire', key, ttlMs }, IPC_TIMEOUT_MS);
    // No answer: proceed as the holder, without telling anyone (fail open).
    if (reply === null) return { release: async () => undefined };
    if (!reply.granted) return null;
    const token = reply.granted;
    return {
      release: async () => {
        await this.ask({ trove: 'lock', id: randomUUID(), action: 'release', key, token }, IPC_TIMEOUT_MS);
      },
    };
  }

  async waitForRelease(key: string, timeoutMs: number): Promise<boolean> {
    const reply = await this.ask({ trove: 'lock', id: randomUUID(), action: 'wait', key, timeoutMs }, timeoutMs + IPC_TIMEOUT_MS);
    return reply?.released ?? false;
  }
}
