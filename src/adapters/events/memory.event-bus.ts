import type { EventBus, TroveEvent } from '../../ports/event-bus.js';
import { deliver } from './deliver.js';

/** Events within one process: the embedded default, where there is no other node to tell. */
export class MemoryEventBus implements EventBus {
  private readonly listeners = new Set<(event: TroveEvent) => void>();
  private closed = false;

  async publish(event: TroveEvent): Promise<void> {
    if (this.closed) return;
    deliver(this.listeners, event);
  }

  subscribe(listener: (event: TroveEvent) => void): () => void {
    if (this.closed) return () => undefined;
    // A wrapper per call, so subscribing the same function twice gives two independent subscriptions.
    const entry = (event: TroveEvent) => listener(event);
    this.listeners.add(entry);
    return () => {
      this.listeners.delete(entry);
    };
  }

  async close(): Promise<void> {
    this.closed = true;
    this.listeners.clear();
  }
}
