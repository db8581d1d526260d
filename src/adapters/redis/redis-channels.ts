import type { Redis } from 'ioredis';

type ChannelHandler = (message: string) => void;

/**
 * Lets several adapters share one subscriber connection (a connection in subscriber mode can run
 * nothing but pub/sub commands, so each process keeps exactly one for all its channels). A
 * channel is subscribed while at least one handler listens to it. The client resubscribes on its
 * own after a reconnect; messages published while it was away are lost, which is why every user
 * of a channel must tolerate missed notices.
 */
export class RedisChannels {
  private readonly handlers = new Map<string, Set<ChannelHandler>>();

  constructor(private readonly subscriber: Redis) {
    subscriber.on('message', (channel: string, message: string) => {
      const listening = this.handlers.get(channel);
      if (!listening) return;
      for (const handler of [...listening]) {
        try {
          handler(message);
        } catch {
          // One handler's bug must not starve the others sharing the channel.
        }
      }
    });
  }

  /** Returns a function that stops this handler listening. */
  listen(channel: string, handler: ChannelHandler): () => void {
    let listening = this.handlers.get(channel);
    if (!listening) {
      listening = new Set();
      this.handlers.set(channel, listening);
      // Not awaited: while Redis is down the command waits for the reconnect.
      this.subscriber.subscribe(channel).catch(() => undefined);
    }
    listening.add(handler);
    return () => {
      const current = this.handlers.get(channel);
      if (!current?.delete(handler) || current.size > 0) return;
      this.handlers.delete(channel);
      this.subscriber.unsubscribe(channel).catch(() => undefined);
    };
  }

  /** Resolves once the server has confirmed every channel listened to so far, or after `timeoutMs`. */
  async settled(timeoutMs: number): Promise<boolean> {
    const wanted = [...this.handlers.keys()];
    if (wanted.length === 0) return true;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<boolean>((resolve) => {
      timer = setTimeout(() => resolve(false), timeoutMs);
    });
    // Subscribing again to a channel already subscribed is a no-op on the server that still
    // answers, so this doubles as a "subscriptions are active" barrier.
    const confirmed = this.subscriber.subscribe(...wanted).then(
      () => true,
      () => false,
    );
    try {
      return await Promise.race([confirmed, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }
}
