import type { PrimaryChannel, WorkerChannel, WorkerPeer } from '../../src/adapters/cluster/ipc-channel.js';

/** Hands `handlers` a copy of `message` later, as IPC does: the receiver never shares the sender's object. */
function post(message: unknown, handlers: Iterable<(message: unknown) => void>): void {
  const copy = structuredClone(message);
  setImmediate(() => {
    for (const handler of [...handlers]) handler(copy);
  });
}

interface MemoryWorker {
  channel: WorkerChannel;
  /** Cuts this worker off, as when the primary is gone: it can send nothing (send reports false) and hears nothing. */
  disconnect(): void;
}

/**
 * A primary and its workers inside one process, joined by channels that behave like the cluster's
 * IPC: asynchronous, in order per sender, and by structured clone.
 */
export class MemoryCluster {
  private readonly primaryHandlers = new Set<(message: unknown, sender: WorkerPeer) => void>();
  private readonly workers = new Set<WorkerPeer>();
  /** Messages to the primary while it is stalled, in arrival order. */
  private stalled: Array<() => void> | null = null;

  readonly primary: PrimaryChannel = {
    onMessage: (handler) => {
      this.primaryHandlers.add(handler);
      return () => {
        this.primaryHandlers.delete(handler);
      };
    },
    broadcast: (message, except) => {
      for (const peer of this.workers) if (peer !== except) peer.send(message);
    },
  };

  /** The primary reads nothing until `resume`, like a primary too busy to answer. */
  stall(): void {
    this.stalled ??= [];
  }

  resume(): void {
    const queued = this.stalled ?? [];
    this.stalled = null;
    for (const deliver of queued) deliver();
  }

  connectWorker(): MemoryWorker {
    let connected = true;
    const handlers = new Set<(message: unknown) => void>();
    const peer: WorkerPeer = {
      send: (message) => {
        if (connected) post(message, handlers);
      },
    };
    this.workers.add(peer);
    const toPrimary = (message: unknown) => {
      const handlersOf = [...this.primaryHandlers].map((handler) => (copy: unknown) => handler(copy, peer));
      post(message, handlersOf);
    };
    const channel: WorkerChannel = {
      send: (message) => {
        if (!connected) return false;
        const copy = structuredClone(message);
        if (this.stalled) this.stalled.push(() => toPrimary(copy));
        else toPrimary(copy);
        return true;
      },
      onMessage: (handler) => {
        handlers.add(handler);
        return () => {
          handlers.delete(handler);
        };
      },
    };
    return {
      channel,
      disconnect: () => {
        connected = false;
        this.workers.delete(peer);
      },
    };
  }
}
