import type { BlobStore } from '../ports/blob-store.js';
import type { ConfigChangeLog } from '../ports/config-replica.js';
import type { StoredFile } from '../domain/file.js';
import type { ShardResolver, ShardScan } from '../ports/shards.js';
import { isHomeShard, sumOverShards } from './shard-lookup.js';
import type { Clock } from '../lib/clock.js';
import { deleteFileRow } from './file-changes.js';
import type { FromUrlService } from './from-url.service.js';
import type { MultipartUploadService } from './multipart-upload.service.js';

interface SweepReport {
  expiredFiles: number;
  expiredMultipartUploads: number;
  staleFromUrlTasks: number;
  staleBlobWrites: number;
  finishedAddonRequests: number;
  configChanges: number;
}

/** How long a finished add-on request can still be polled. */
const ADDON_REQUEST_RETENTION_MS = 7 * 24 * 3_600_000;

interface SweepLogger {
  info(object: Record<string, unknown>, message: string): void;
  error(object: Record<string, unknown>, message: string): void;
}

/**
 * Removes what has outlived its welcome: unstored files past their expiry (bytes first, then the
 * record, so a crash in between leaves a record the next sweep retries rather than orphan bytes),
 * multipart uploads nobody completed, from_url tasks whose process died, add-on requests finished
 * a week ago (their results stay in the files' appdata), and configuration changes older than the
 * change log's retention.
 */
export class SweeperService {
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<SweepReport> | null = null;

  constructor(
    private readonly shards: ShardResolver,
    private readonly blobs: BlobStore,
    private readonly multipart: MultipartUploadService,
    private readonly fromUrl: FromUrlService,
    private readonly clock: Clock,
    private readonly onFileRemoved: (uuid: string) => Promise<void>,
    private readonly logger: SweepLogger,
    /** Temp writes older than these belong to a process that died (no live upload runs that long). */
    private readonly staleWriteAges: { putOlderThanMs: number; multipartOlderThanMs: number },
    /** The main database's configuration change log, kept this long for regions' copies. */
    private readonly configLog: { log: ConfigChangeLog; retentionMs: number },
  ) {}

  start(intervalMs: number): void {
    if (this.timer) return;
    this.timer = setInterval(() => void this.sweep().catch(() => undefined), intervalMs);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.running?.catch(() => undefined);
  }

  /** One pass; concurrent calls share it. */
  sweep(): Promise<SweepReport> {
    this.running ??= this.sweepOnce().finally(() => {
      this.running = null;
    });
    return this.running;
  }

  private async sweepOnce(): Promise<SweepReport> {
    const report: SweepReport = { expiredFiles: 0, expiredMultipartUploads: 0, staleFromUrlTasks: 0, staleBlobWrites: 0, finishedAddonRequests: 0, configChanges: 0 };
    try {
      report.expiredFiles = await sumOverShards(this.shards, (shard) => this.sweepExpiredFiles(shard));
      report.expiredMultipartUploads = await this.multipart.expire();
      report.staleFromUrlTasks = await this.fromUrl.failStale();
      report.staleBlobWrites = await this.blobs.pruneStale(this.staleWriteAges);
      const finishedBefore = new Date(this.clock.now().getTime() - ADDON_REQUEST_RETENTION_MS).toISOString();
      report.finishedAddonRequests = await sumOverShards(this.shards, (shard) => shard.addonRequests.deleteFinishedBefore(finishedBefore));
      report.configChanges = await this.configLog.log.pruneBefore(new Date(this.clock.now().getTime() - this.configLog.retentionMs).toISOString());
      if (Object.values(report).some((count) => count > 0)) {
        this.logger.info({ ...report }, 'sweep removed expired uploads');
      }
    } catch (error) {
      this.logger.error({ err: error }, 'sweep failed; it will be retried');
      throw error;
    }
    return report;
  }

  /** Expired files of one shard's projects; a moving project's copy on the other shard is left to its move. */
  private async sweepExpiredFiles(shard: ShardScan): Promise<number> {
    let removed = 0;
    const skipped = new Set<string>();
    for (;;) {
      const expired = await shard.files.listExpired(this.clock.now().toISOString(), 200 + skipped.size);
      const mine: StoredFile[] = [];
      for (const file of expired) {
        if (skipped.has(file.uuid)) continue;
        if (await isHomeShard(this.shards, shard, file.projectId)) mine.push(file);
        else skipped.add(file.uuid);
      }
      for (const file of mine) {
        // Derivatives and caches go first: a derivative must never outlive its original.
        await this.onFileRemoved(file.uuid);
        await this.blobs.delete(file.blobKey);
        await deleteFileRow(shard, file.uuid);
        removed++;
      }
      if (mine.length === 0 || expired.length < 200 + skipped.size || skipped.size > 10_000) break;
    }
    return removed;
  }
}
