/**
 * Fire-and-forget notifications between the processes and nodes of one Trove deployment: "file X was
 * deleted: drop it from your memory caches", "project P changed: forget its cached settings and keys".
 * Best effort, not durable: durable work goes through the JobQueue. Adapters: in process (one node)
 * and Redis pub/sub (every node).
 */
export type TroveEvent = { type: 'file.evicted'; uuid: string } | { type: 'project.changed'; projectId: string };

export interface EventBus {
  publish(event: TroveEvent): Promise<void>;
  /** Calls `listener` for every event published anywhere, this process included. Returns an unsubscribe function. */
  subscribe(listener: (event: TroveEvent) => void): () => void;
  close(): Promise<void>;
}
