import type { Serializable } from 'node:child_process';
import cluster, { type Worker } from 'node:cluster';

/**
 * The message channels between the processes of one node (TROVE_WORKERS > 1). The cluster adapters
 * speak through these rather than through `process` and `cluster` directly, so that the same code
 * can be run against channels kept in memory.
 */

/** A worker's end: messages to and from the primary. */
export interface WorkerChannel {
  /** Sends to the primary; false (and nothing sent) when there is no primary to send to. */
  send(message: Serializable): boolean;
  /** Calls `handler` with each message from the primary until the returned function is called. */
  onMessage(handler: (message: unknown) => void): () => void;
}

/** A worker as the primary sees it. The same worker is always the same object. */
export interface WorkerPeer {
  /** Sends to this worker, if it is still connected. */
  send(message: Serializable): void;
}

/** The primary's end: messages from every worker. */
export interface PrimaryChannel {
  /** Calls `handler` with each message from any worker, and the worker it came from. */
  onMessage(handler: (message: unknown, sender: WorkerPeer) => void): () => void;
  /** Sends to every connected worker except `except`. */
  broadcast(message: Serializable, except?: WorkerPeer): void;
}

/** This process, as a forked worker, talking to its primary over the cluster IPC channel. */
export function processWorkerChannel(): WorkerChannel {
  return {
    send(message) {
      if (!process.send || !process.connected) return false;
      process.send(message);
      return true;
    },
    onMessage(handler) {
      const listener = (message: unknown) => handler(message);
      process.on('message', listener);
      return () => {
        process.off('message', listener);
      };
    },
  };
}

/** This process, as the cluster primary, talking to the workers it forks. */
export function clusterPrimaryChannel(): PrimaryChannel {
  const peers = new WeakMap<Worker, WorkerPeer>();
  const peerOf = (worker: Worker): WorkerPeer => {
    let peer = peers.get(worker);
    if (!peer) {
      peer = {
        send: (message) => {
          if (worker.isConnected()) worker.send(message);
        },
      };
      peers.set(worker, peer);
    }
    return peer;
  };
  return {
    onMessage(handler) {
      const listener = (worker: Worker, message: unknown) => handler(message, peerOf(worker));
      cluster.on('message', listener);
      return () => {
        cluster.off('message', listener);
      };
    },
    broadcast(message, except) {
      for (const worker of Object.values(cluster.workers ?? {})) {
        if (worker && peerOf(worker) !== except) peerOf(worker).send(message);
      }
    },
  };
}
