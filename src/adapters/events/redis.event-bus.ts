import type { EventBus, TroveEvent } from '../../ports/event-bus.js';
import type { RedisConnection } from '../redis/redis-connection.js';
import { deliver } from './deliver.js';
import { decodeTroveEvent, encodeTroveEvent } from './trove-event-codec.js';

/**
 * Events for every process of every node, over one Redis pub/sub channel. A process hears its own
 * events back through Redis like everyone else's, so listeners see one order for all publishers.
 * Best effort: when Redis is down, events reach this process's listeners only.
 */
export class RedisEventBus implements EventBus {
  private readonly channel: string;
  private readonly listeners = new Set<(event: TroveEvent) => void>();
  private stopListening: (() => void) | null = null;
  private closed = false;

  constructor(private readonly redis: RedisConnection) {
    this.channel = redis.key('events');
  }

  async publish(event: TroveEvent): Promise<void> {
    if (this.closed) return;
    try {
      await this.redis.client.publish(this.channel, encodeTroveEvent(event));
    } catch (error) {
      this.redis.reportFailure('events.publish', error);
      // The publishing process at least acts on its own event (its caches are the ones it knows
      // are stale). If the publish did reach Redis before timing out, listeners see the event
      // twice; events are notices such as "evict", where twice does no harm.
      deliver(this.listeners, event);
    }
  }

  subscribe(listener: (event: TroveEvent) => void): () => void {
    if (this.closed) return () => undefined;
    const entry = (event: TroveEvent) => listener(event);
    this.listeners.add(entry);
    this.stopListening ??= this.redis.channels.listen(this.channel, (message) => {
      const event = decodeTroveEvent(message);
      if (event) deliver(this.listeners, event);
    });
    return () => {
      this.listeners.delete(entry);
      if (this.listeners.size === 0) this.detach();
    };
  }

  /**
   * Resolves once Redis has confirmed the subscription (false after `timeoutMs`). Events published
   * before that may be missed; start-up code and tests that need the first event wait on this.
   */
  ready(timeoutMs = 2_000): Promise<boolean> {
    return this.redis.channels.settled(timeoutMs);
  }

  /** Detaches from the channel; the connection itself is shared and closed by its owner. */
  async close(): Promise<void> {
    this.closed = true;
    this.listeners.clear();
    this.detach();
  }

  private detach(): void {
    this.stopListening?.();
    this.stopListening = null;
  }
}
