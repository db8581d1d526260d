import cluster from 'node:cluster';
import type { EventBus, TroveEvent } from '../../ports/event-bus.js';
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
export function relayClusterEvents(): void {
  cluster.on('message', (sender, message: unknown) => {
    if (!isEventMessage(message)) return;
    for (const worker of Object.values(cluster.workers ?? {})) {
      if (worker && worker !== sender && worker.isConnected()) worker.send(message);
    }
  });
}

/** Runs in a worker. */
export class ClusterEventBus implements EventBus {
  private readonly listeners = new Set<(event: TroveEvent) => void>();
  private readonly onMessage = (message: unknown) => {
    if (!isEventMessage(message)) return;
    const event = decodeTroveEvent(message.event);
    if (event) deliver(this.listeners, event);
  };

  constructor() {
    process.on('message', this.onMessage);
  }

  async publish(event: TroveEvent): Promise<void> {
    deliver(this.listeners, event);
    if (process.send && process.connected) process.send({ trove: 'event', event: encodeTroveEvent(event) } satisfies EventMessage);
  }

  subscribe(listener: (event: TroveEvent) => void): () => void {
    const entry = (event: TroveEvent) => listener(event);
    this.listeners.add(entry);
    return () => {
      this.listeners.delete(entry);
    };
  }

  async close(): Promise<void> {
    process.off('message', this.onMessage);
    this.listeners.clear();
  }
}
