/**
 * Whether Redis answers, as seen from one connection. Redis is a best-effort dependency: while it
 * is down locks fail open and rate limits allow, so the only thing an outage must produce is one
 * clear line when it starts and one when it ends — not one per request. This tracker turns the
 * client's noisy connection events into those transitions.
 */
export type RedisState = 'connecting' | 'up' | 'down' | 'closed';

export interface RedisHealthChange {
  state: 'up' | 'down';
  /** 'connecting' on the first transition after start: "connected" rather than "back". */
  previous: RedisState;
  /** Why it went down (the last connection error seen); null when it came up. */
  error: Error | null;
}

export type RedisHealthListener = (change: RedisHealthChange) => void;

export class RedisHealth {
  private current: RedisState = 'connecting';
  private latestError: Error | null = null;
  private readonly listeners = new Set<RedisHealthListener>();

  get state(): RedisState {
    return this.current;
  }

  /** The last connection error since Redis was last up; null while it is up. */
  get lastError(): Error | null {
    return this.latestError;
  }

  isUp(): boolean {
    return this.current === 'up';
  }

  /** Returns a function that removes the listener. */
  onChange(listener: RedisHealthListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  recordError(error: Error): void {
    this.latestError = error;
  }

  markUp(): void {
    if (this.current === 'closed') return;
    // Otherwise the next clean disconnect would be blamed on an error from a previous outage.
    this.latestError = null;
    this.transition('up', null);
  }

  markDown(): void {
    // A server that shuts down cleanly closes the socket without any error event.
    this.transition('down', this.latestError ?? new Error('connection to Redis closed'));
  }

  markClosed(): void {
    this.current = 'closed';
    this.listeners.clear();
  }

  private transition(state: 'up' | 'down', error: Error | null): void {
    if (this.current === state || this.current === 'closed') return;
    const previous = this.current;
    this.current = state;
    for (const listener of [...this.listeners]) {
      try {
        listener({ state, previous, error });
      } catch {
        // A faulty listener (a logger, usually) must not break connection handling.
      }
    }
  }
}
