/**
 * "The outbox holds new events." The services that commit file changes write their events in the same
 * transaction and raise this signal afterwards; the event dispatcher listens, so events go out right
 * after the commit instead of on its next timer tick. It is a signal within one process: dispatchers
 * of other processes find the events on their timer.
 */
export class OutboxSignal {
  private readonly listeners = new Set<() => void>();

  notify(): void {
    for (const listener of [...this.listeners]) {
      try {
        listener();
      } catch {
        // The change is committed already: a listener's failure must not turn it into an error answer.
      }
    }
  }

  /** Returns an unsubscribe function. */
  subscribe(listener: () => void): () => void {
    const entry = () => listener();
    this.listeners.add(entry);
    return () => {
      this.listeners.delete(entry);
    };
  }
}
