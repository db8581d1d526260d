import { Redis, type RedisOptions } from 'ioredis';
import { RedisChannels } from './redis-channels.js';
import { RedisHealth, type RedisHealthListener, type RedisState } from './redis-health.js';

export interface RedisConnectionOptions {
  /** redis://[user:password@]host[:port][/db] or rediss:// for TLS. */
  url: string;
  /** Prepended to every key and channel, so deployments (and test runs) can share one Redis. Default `trove:`. */
  keyPrefix?: string;
  /** How long one connection attempt may take before it counts as failed. Default 1 000 ms. */
  connectTimeoutMs?: number;
  /** Upper bound on every command; adapters fail open once it passes. Default 300 ms. */
  commandTimeoutMs?: number;
  /** Reconnect attempts back off exponentially up to this delay. Default 2 000 ms. */
  maxReconnectDelayMs?: number;
  /** Shown by CLIENT LIST, so an operator can tell Trove's connections apart. Default `trove`. */
  connectionName?: string;
  /** Called on every up/down transition, including the first one after start. */
  onHealthChange?: RedisHealthListener;
  /** Called when a command fails while Redis counts as up (timeouts, script errors), at most once per operation per `errorReportIntervalMs`. */
  onCommandError?: (report: RedisCommandErrorReport) => void;
  /** Default 10 000 ms. */
  errorReportIntervalMs?: number;
}

export interface RedisCommandErrorReport {
  /** What the adapter was doing, e.g. `lock.acquire`. */
  operation: string;
  error: Error;
  /** Failures of the same operation left unreported since the previous report. */
  suppressed: number;
}

type Settings = Required<Omit<RedisConnectionOptions, 'onHealthChange' | 'onCommandError'>> &
  Pick<RedisConnectionOptions, 'onCommandError'>;

function settingsFrom(options: RedisConnectionOptions): Settings {
  return {
    url: options.url,
    keyPrefix: options.keyPrefix ?? 'trove:',
    connectTimeoutMs: options.connectTimeoutMs ?? 1_000,
    commandTimeoutMs: options.commandTimeoutMs ?? 300,
    maxReconnectDelayMs: options.maxReconnectDelayMs ?? 2_000,
    connectionName: options.connectionName ?? 'trove',
    errorReportIntervalMs: options.errorReportIntervalMs ?? 10_000,
    onCommandError: options.onCommandError,
  };
}

/**
 * The Redis connections of one process, tuned for a best-effort dependency: commands fail fast
 * while Redis is away (no offline queue, a short timeout each) so callers can fail open at once,
 * and the client keeps reconnecting in the background. Commands go through `client`; pub/sub goes
 * through `channels`, a separate connection opened on first use (a subscribed connection cannot
 * run other commands).
 */
export class RedisConnection {
  readonly client: Redis;
  readonly keyPrefix: string;
  /** host:port/db, safe to log (no credentials). */
  readonly target: string;
  readonly commandTimeoutMs: number;

  private readonly health = new RedisHealth();
  private readonly options: Settings;
  private subscriber: Redis | null = null;
  private channelSet: RedisChannels | null = null;
  private readonly lastReports = new Map<string, { at: number; suppressed: number }>();
  private closed = false;

  constructor(options: RedisConnectionOptions) {
    this.target = describeRedisUrl(options.url);
    this.options = settingsFrom(options);
    this.keyPrefix = this.options.keyPrefix;
    this.commandTimeoutMs = this.options.commandTimeoutMs;
    if (options.onHealthChange) this.health.onChange(options.onHealthChange);

    this.client = new Redis(options.url, {
      ...this.sharedClientOptions(),
      connectionName: this.options.connectionName,
      enableOfflineQueue: false,
      maxRetriesPerRequest: 1,
      commandTimeout: this.options.commandTimeoutMs,
    });
    this.client.on('ready', () => this.health.markUp());
    this.client.on('error', (error: Error) => this.health.recordError(error));
    this.client.on('close', () => {
      if (!this.closed) this.health.markDown();
    });
  }

  get state(): RedisState {
    return this.health.state;
  }

  get lastError(): Error | null {
    return this.health.lastError;
  }

  isUp(): boolean {
    return this.health.isUp();
  }

  /** Returns a function that removes the listener. */
  onHealthChange(listener: RedisHealthListener): () => void {
    return this.health.onChange(listener);
  }

  /** For readiness probes: resolves when Redis answers a PING within the command timeout. */
  async ping(): Promise<void> {
    if (!this.isUp()) {
      throw new Error(`Redis at ${this.target} is unreachable${this.lastError ? `: ${this.lastError.message}` : ''}`);
    }
    await this.client.ping();
  }

  /** Resolves true as soon as the connection is up, false after `timeoutMs`. For start-up and tests; requests never wait for Redis. */
  waitUntilUp(timeoutMs: number): Promise<boolean> {
    if (this.isUp()) return Promise.resolve(true);
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        stop();
        resolve(false);
      }, timeoutMs);
      const stop = this.health.onChange((change) => {
        if (change.state !== 'up') return;
        clearTimeout(timer);
        stop();
        resolve(true);
      });
    });
  }

  /** The pub/sub side, connected on first use. */
  get channels(): RedisChannels {
    if (this.channelSet) return this.channelSet;
    const subscriber = new Redis(this.options.url, {
      ...this.sharedClientOptions(),
      connectionName: `${this.options.connectionName}-sub`,
      // SUBSCRIBE issued while Redis is away waits for the reconnect instead of failing, so a
      // channel listened to during an outage is still subscribed once Redis is back.
      enableOfflineQueue: true,
      maxRetriesPerRequest: null,
      autoResubscribe: true,
      // SUBSCRIBE may be written while the handshake is still running; the ready check's INFO
      // would then be refused (subscriber mode) and the connection dropped, losing the
      // subscription. Pub/sub has nothing to wait for anyway: it works while a dataset loads.
      enableReadyCheck: false,
      // CLIENT SETINFO is likewise refused once the connection is subscribed.
      disableClientInfo: true,
    });
    // Its outages show up on the command connection already; errors here are only swallowed.
    subscriber.on('error', () => undefined);
    // Asked for after close(): a connection that is already ended, whose commands fail at once.
    if (this.closed) subscriber.disconnect();
    this.subscriber = subscriber;
    this.channelSet = new RedisChannels(subscriber);
    return this.channelSet;
  }

  /** The key (or channel) name for `name` under this deployment's prefix. */
  key(name: string): string {
    return `${this.keyPrefix}${name}`;
  }

  /**
   * Adapters call this when they fail open. While Redis is down the outage has been reported once
   * already, so nothing more is said; while it is up, failures (slowness, mostly) are reported at
   * most once per operation per interval, with a count of the ones left out.
   */
  reportFailure(operation: string, error: unknown): void {
    const onCommandError = this.options.onCommandError;
    if (!onCommandError || !this.isUp()) return;
    const now = Date.now();
    const last = this.lastReports.get(operation);
    if (last && now - last.at < this.options.errorReportIntervalMs) {
      last.suppressed += 1;
      return;
    }
    this.lastReports.set(operation, { at: now, suppressed: 0 });
    try {
      onCommandError({ operation, error: error instanceof Error ? error : new Error(String(error)), suppressed: last?.suppressed ?? 0 });
    } catch {
      // Reporting must never turn a fail-open path into a failure.
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.health.markClosed();
    this.subscriber?.disconnect();
    // QUIT lets replies already on their way arrive; when Redis is away it is refused at once.
    await this.client.quit().catch(() => this.client.disconnect());
  }

  private sharedClientOptions(): RedisOptions {
    const maxDelay = this.options.maxReconnectDelayMs;
    return {
      connectTimeout: this.options.connectTimeoutMs,
      // Never gives up: Redis may come back at any time, and the process must notice without a restart.
      retryStrategy: (attempt: number) => Math.min(50 * 2 ** Math.min(attempt, 16), maxDelay),
    };
  }
}

/** host:port/db of a Redis URL, without credentials, for logs and error messages. */
function describeRedisUrl(url: string): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new Error('Redis URL is not a valid URL (expected redis://host:port/db or rediss://…)');
  }
  if (parsed.protocol !== 'redis:' && parsed.protocol !== 'rediss:') {
    throw new Error(`Redis URL must start with redis:// or rediss://, not ${parsed.protocol}//`);
  }
  const db = parsed.pathname.replace(/^\//, '') || '0';
  return `${parsed.protocol === 'rediss:' ? 'rediss://' : ''}${parsed.hostname || '127.0.0.1'}:${parsed.port || '6379'}/${db}`;
}
