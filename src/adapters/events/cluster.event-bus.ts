import type { EventBus, TroveEvent } from '../../ports/event-bus.js';
import { clusterPrimaryChannel, processWorkerChannel, type PrimaryChannel, type WorkerChannel } from '../cluster/ipc-channel.js';
import { deliver } from './deliver.js';
import { decodeTroveEvent, encodeTroveEvent } from './trove-event-codec.js';

/**
 * Events between the HTTP processes of one node (TROVE_WORKERS > 1, no Redis): a worker delivers
 * to itself and sends the event to the primary, which relays it to every other worker.
 */
interface EventMessage {
  trove: 'event';
  event: string;
}

function isEventMessage(value: unknown): value is EventMessage {
  return typeof value === 'object' && value !== null && (value as { trove?: unknown }).trove === 'event' && typeof (value as { event?: unknown }).event === 'string';
}

/** Runs in the primary. */
export function relayClusterEvents(channel: PrimaryChannel = clusterPrimaryChannel()): void {
  channel.onMessage((message, sender) => {
    if (isEventMessage(message)) channel.broadcast(message, sender);
  });
}

/** Runs in a worker; `channel` leads to the primary (this process's cluster IPC channel unless given). */
export class ClusterEventBus implements EventBus {
  private readonly listeners = new Set<(event: TroveEvent) => void>();
  private readonly stopListening: () => void;

  constructor(private readonly channel: WorkerChannel = processWorkerChannel()) {
    this.stopListening = channel.onMessage((message) => {
      if (!isEventMessage(message)) return;
      const event = decodeTroveEvent(message.event);
      if (event) deliver(this.listeners, event);
    });
  }

  async publish(event: TroveEvent): Promise<void> {
    deliver(this.listeners, event);
    this.channel.send({ trove: 'event', event: encodeTroveEvent(event) } satisfies EventMessage);
  }

  subscribe(listener: (event: TroveEvent) => void): () => void {
    const entry = (event: TroveEvent) => listener(event);
    this.listeners.add(entry);
    return () => {
      this.listeners.delete(entry);
    };
  }

  async close(): Promise<void> {
    this.stopListening();
    this.listeners.clear();
  }
}
