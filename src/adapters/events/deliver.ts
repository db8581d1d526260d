import type { TroveEvent } from '../../ports/event-bus.js';

/** Calls each listener with its own guard: a failing listener must not keep the event from the rest, nor fail the publisher. */
export function deliver(listeners: Iterable<(event: TroveEvent) => void>, event: TroveEvent): void {
  for (const listener of [...listeners]) {
    try {
      listener(event);
    } catch {
      // Listeners own their errors; the bus has no one to hand them to.
    }
  }
}
