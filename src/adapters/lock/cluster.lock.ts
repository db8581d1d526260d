import { randomUUID } from 'node:crypto';
import type { LockHandle, LockService } from '../../ports/lock-service.js';
import { clusterPrimaryChannel, processWorkerChannel, type PrimaryChannel, type WorkerChannel } from '../cluster/ipc-channel.js';
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
export function serveClusterLocks(channel: PrimaryChannel = clusterPrimaryChannel()): void {
  const table = new MemoryLockService();
  const tokens = new Map<string, LockHandle>();
  channel.onMessage((message, worker) => {
    if (!isLockMessage(message)) return;
    const reply = (payload: Omit<LockReply, 'trove' | 'id'>) => {
      worker.send({ trove: 'lock-reply', id: message.id, ...payload } satisfies LockReply);
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

interface ClusterLockOptions {
  /** The channel to the primary; this process's cluster IPC channel unless given. */
  channel?: WorkerChannel;
  /** How long to wait for the primary beyond the request's own wait before failing open. */
  ipcTimeoutMs?: number;
}

/** Runs in a worker: the LockService the transformation path uses. */
export class ClusterLockService implements LockService {
  private readonly pending = new Map<string, (reply: LockReply | null) => void>();
  private readonly channel: WorkerChannel;
  private readonly ipcTimeoutMs: number;

  constructor(options: ClusterLockOptions = {}) {
    this.channel = options.channel ?? processWorkerChannel();
    this.ipcTimeoutMs = options.ipcTimeoutMs ?? IPC_TIMEOUT_MS;
    this.channel.onMessage((message) => {
      if (!isLockReply(message)) return;
      const resolve = this.pending.get(message.id);
      this.pending.delete(message.id);
      resolve?.(message);
    });
  }

  private ask(message: LockMessage, timeoutMs: number): Promise<LockReply | null> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.pending.delete(message.id);
        resolve(null);
      }, timeoutMs);
      this.pending.set(message.id, (reply) => {
        clearTimeout(timer);
        resolve(reply);
      });
      if (!this.channel.send(message)) {
        clearTimeout(timer);
        this.pending.delete(message.id);
        resolve(null);
      }
    });
  }

  async tryAcquire(key: string, ttlMs: number): Promise<LockHandle | null> {
    const id = randomUUID();
    const reply = await this.ask({ trove: 'lock', id, action: 'acquire', key, ttlMs }, this.ipcTimeoutMs);
    if (reply === null) return this.holdWithoutAnswer(id, key, ttlMs);
    if (!reply.granted) return null;
    const token = reply.granted;
    return { release: () => this.releaseToken(key, token) };
  }

  async waitForRelease(key: string, timeoutMs: number): Promise<boolean> {
    const reply = await this.ask({ trove: 'lock', id: randomUUID(), action: 'wait', key, timeoutMs }, timeoutMs + this.ipcTimeoutMs);
    return reply?.released ?? false;
  }

  private async releaseToken(key: string, token: string): Promise<void> {
    await this.ask({ trove: 'lock', id: randomUUID(), action: 'release', key, token }, this.ipcTimeoutMs);
  }

  /**
   * No answer to request `id`: proceed as the holder, without telling anyone (fail open). Should
   * the primary grant the lock after all, the grant belongs to this handle and goes back with it;
   * dropped, it would keep every other worker off the key until it expired.
   */
  private holdWithoutAnswer(id: string, key: string, ttlMs: number): LockHandle {
    let released = false;
    let lateToken: string | null = null;
    // After the TTL the primary has let the lock go by itself: nothing left to hand back.
    const forget = setTimeout(() => this.pending.delete(id), ttlMs);
    forget.unref();
    this.pending.set(id, (reply) => {
      clearTimeout(forget);
      lateToken = reply?.granted ?? null;
      if (lateToken && released) void this.releaseToken(key, lateToken);
    });
    return {
      release: async () => {
        if (released) return;
        released = true;
        if (lateToken) await this.releaseToken(key, lateToken);
      },
    };
  }
}
