import type { Clock } from '../lib/clock.js';
import type { Metrics } from '../observability/metrics.js';
import type { ConfigReplicator } from '../ports/config-replica.js';

interface SyncLogger {
  warn(object: Record<string, unknown>, message: string): void;
}

interface ConfigSyncStatus {
  /** When the copy last held every change; null: never since this process started syncing. */
  caughtUpAt: string | null;
  /** When the oldest change not yet applied was made; null: none pending. */
  pendingSince: string | null;
  /** Why the last pass failed (the main database is away, usually); null after a pass that worked. */
  lastError: string | null;
}

/**
 * A region's configuration syncer: passes over the main database's change log every `intervalMs`,
 * each bounded (a batch from the front, the newest changes past it), and tells every process of the
 * region which projects changed so they drop what they cached of them. When the main database is
 * away, passes fail and are tried again; the copy keeps answering with the last known state.
 */
export class ConfigSyncService {
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> | null = null;
  private status: ConfigSyncStatus = { caughtUpAt: null, pendingSince: null, lastError: null };
  private warnedAt = 0;

  constructor(
    private readonly replicator: ConfigReplicator,
    private readonly changes: { projectChanged(projectId: string): Promise<void> },
    private readonly clock: Clock,
    private readonly metrics: Pick<Metrics, 'configReplicaLag' | 'configReplicaStaleness' | 'configReplicationDelay'>,
    private readonly logger: SyncLogger,
    private readonly settings: { region: string; intervalMs: number },
  ) {}

  start(): void {
    if (this.timer) return;
    this.timer = setInterval(() => void this.sync(), this.settings.intervalMs);
    this.timer.unref();
    void this.sync();
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.running;
  }

  /** One pass; calls while one runs share it. */
  sync(): Promise<void> {
    this.running ??= this.pass().finally(() => {
      this.running = null;
    });
    return this.running;
  }

  private async pass(): Promise<void> {
    const now = this.clock.now();
    const { region } = this.settings;
    try {
      const result = await this.replicator.syncOnce(now);
      for (const change of result.changes) {
        this.metrics.configReplicationDelay.observe({ region }, Math.max(0, now.getTime() - Date.parse(change.createdAt)) / 1000);
      }
      for (const projectId of result.projects) await this.changes.projectChanged(projectId);
      this.status = { caughtUpAt: result.caughtUpAt, pendingSince: result.pendingSince, lastError: null };
    } catch (error) {
      this.status = { ...this.status, lastError: error instanceof Error ? error.message : String(error) };
      // Once a minute at most: an outage of the main database would otherwise fill the log.
      if (now.getTime() - this.warnedAt > 60_000) {
        this.warnedAt = now.getTime();
        this.logger.warn({ region, err: this.status.lastError }, 'the configuration copy could not be brought up to date; it answers with what it has');
      }
    }
    const pending = this.status.pendingSince === null ? 0 : now.getTime() - Date.parse(this.status.pendingSince);
    this.metrics.configReplicaLag.set({ region }, Math.max(0, pending) / 1000);
    const stale = this.status.caughtUpAt === null ? null : now.getTime() - Date.parse(this.status.caughtUpAt);
    if (stale !== null) this.metrics.configReplicaStaleness.set({ region }, Math.max(0, stale) / 1000);
  }
}
