import type { DailyDeliveries } from '../ports/repositories.js';
import type { ShardResolver } from '../ports/shards.js';
import type { Clock } from '../lib/clock.js';
import { LruCache } from '../lib/lru-cache.js';

/** What one delivery was: an original, a transformed image from a cache, or one computed for it. */
type DeliveryKind = 'original' | 'hit' | 'miss';

interface Tally {
  deliveries: number;
  hits: number;
  misses: number;
}

interface UsageDay {
  date: string;
  uploads: number;
  upload_bytes: number;
  deliveries: number;
  cache_hits: number;
  cache_misses: number;
}

interface UsageReport {
  files: { stored: number; unstored: number; removed: number };
  bytes: { stored: number; unstored: number };
  days: UsageDay[];
  cache_hit_ratio: number | null;
}

interface UsageLogger {
  warn(object: Record<string, unknown>, message: string): void;
}

const DAY_MS = 86_400_000;
/** A burst of distinct files between flushes is written early rather than held without bound. */
const MAX_PENDING = 50_000;

/**
 * Counts deliveries per project and day for the usage charts. A delivery costs a map increment on
 * the hot path; which project a file belongs to is looked up in batches when the tallies are
 * written (every few seconds, and at shutdown), so a cache hit still needs no database.
 */
export class UsageService {
  /** Tallies by UTC day, then by file: a delivery costs two map lookups and no string building. */
  private pending = new Map<string, Map<string, Tally>>();
  private pendingCount = 0;
  private readonly projectOf = new LruCache<string, string>(100_000);
  private timer: NodeJS.Timeout | null = null;
  private flushing: Promise<void> | null = null;
  /** The UTC day deliveries are counted on, formatted once per day rather than once per request. */
  private day = '';
  private dayStartsAt = 0;

  constructor(
    private readonly shards: ShardResolver,
    private readonly clock: Clock,
    private readonly logger: UsageLogger,
    private readonly flushIntervalMs = 10_000,
  ) {}

  record(uuid: string, kind: DeliveryKind): void {
    const day = this.today();
    let ofDay = this.pending.get(day);
    if (!ofDay) {
      ofDay = new Map();
      this.pending.set(day, ofDay);
    }
    let tally = ofDay.get(uuid);
    if (!tally) {
      tally = { deliveries: 0, hits: 0, misses: 0 };
      ofDay.set(uuid, tally);
      this.pendingCount += 1;
      if (this.pendingCount >= MAX_PENDING) void this.flush();
    }
    tally.deliveries += 1;
    if (kind === 'hit') tally.hits += 1;
    else if (kind === 'miss') tally.misses += 1;
  }

  start(): void {
    if (this.timer) return;
    this.timer = setInterval(() => void this.flush(), this.flushIntervalMs);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.flush();
  }

  /** Writes what was counted since the last flush. Counts that cannot be written are kept for the next one. */
  flush(): Promise<void> {
    this.flushing ??= this.write().finally(() => {
      this.flushing = null;
    });
    return this.flushing;
  }

  async report(projectId: string, days: number): Promise<UsageReport> {
    await this.flush();
    const today = Date.parse(this.clock.now().toISOString().slice(0, 10));
    const firstDay = new Date(today - (days - 1) * DAY_MS).toISOString().slice(0, 10);
    const shard = await this.shards.forProject(projectId);
    const [files, bytes, uploads, deliveries] = await Promise.all([
      shard.fileCounters.counts(projectId),
      shard.usage.bytes(projectId),
      shard.usage.uploadsSince(projectId, firstDay),
      shard.usage.deliveriesSince(projectId, firstDay),
    ]);
    const uploadsByDay = new Map(uploads.map((row) => [row.day, row]));
    const deliveriesByDay = new Map(deliveries.map((row) => [row.day, row]));
    const series: UsageDay[] = [];
    let hits = 0;
    let misses = 0;
    for (let i = 0; i < days; i += 1) {
      const date = new Date(Date.parse(firstDay) + i * DAY_MS).toISOString().slice(0, 10);
      const up = uploadsByDay.get(date);
      const out = deliveriesByDay.get(date);
      hits += out?.cacheHits ?? 0;
      misses += out?.cacheMisses ?? 0;
      series.push({
        date,
        uploads: up?.uploads ?? 0,
        upload_bytes: up?.uploadBytes ?? 0,
        deliveries: out?.deliveries ?? 0,
        cache_hits: out?.cacheHits ?? 0,
        cache_misses: out?.cacheMisses ?? 0,
      });
    }
    return { files, bytes, days: series, cache_hit_ratio: hits + misses === 0 ? null : hits / (hits + misses) };
  }

  private today(): string {
    const now = this.clock.now().getTime();
    if (now < this.dayStartsAt || now >= this.dayStartsAt + DAY_MS) {
      this.dayStartsAt = now - (now % DAY_MS);
      this.day = new Date(this.dayStartsAt).toISOString().slice(0, 10);
    }
    return this.day;
  }

  private async write(): Promise<void> {
    if (this.pendingCount === 0) return;
    const batch = this.pending;
    this.pending = new Map();
    this.pendingCount = 0;
    // Projects whose counts were not written (their shard did not answer); null: none could be placed.
    let unwritten: Set<string> | null = null;
    try {
      const unknown = new Set<string>();
      for (const ofDay of batch.values()) {
        for (const uuid of ofDay.keys()) if (this.projectOf.get(uuid) === undefined) unknown.add(uuid);
      }
      if (unknown.size > 0) {
        // Each shard knows its own files; a shard that is down keeps its files' counts for the next flush.
        const outcomes = await this.shards.fanOut((shard) => shard.usage.projectsOfFiles([...unknown]));
        for (const outcome of outcomes) if (outcome.ok) for (const [uuid, projectId] of outcome.value) this.projectOf.set(uuid, projectId);
      }
      const byProjectDay = new Map<string, DailyDeliveries>();
      for (const [day, ofDay] of batch) {
        for (const [uuid, tally] of ofDay) {
          const projectId = this.projectOf.get(uuid);
          // A file deleted for good before the flush has no project left to charge.
          if (projectId === undefined) continue;
          const groupKey = `${projectId}|${day}`;
          const row = byProjectDay.get(groupKey) ?? { projectId, day, deliveries: 0, cacheHits: 0, cacheMisses: 0 };
          row.deliveries += tally.deliveries;
          row.cacheHits += tally.hits;
          row.cacheMisses += tally.misses;
          byProjectDay.set(groupKey, row);
        }
      }
      const byProject = new Map<string, DailyDeliveries[]>();
      for (const row of byProjectDay.values()) byProject.set(row.projectId, [...(byProject.get(row.projectId) ?? []), row]);
      const failed = new Set<string>();
      let firstError: unknown = null;
      for (const [projectId, rows] of byProject) {
        try {
          await (await this.shards.forProject(projectId)).usage.addDeliveries(rows);
        } catch (error) {
          failed.add(projectId);
          firstError ??= error;
        }
      }
      if (failed.size > 0) {
        unwritten = failed;
        throw firstError;
      }
    } catch (error) {
      // The database is away: fold the batch back in so the counts are written by a later flush.
      for (const [day, ofDay] of batch) {
        let current = this.pending.get(day);
        if (!current) {
          current = new Map();
          this.pending.set(day, current);
        }
        for (const [uuid, tally] of ofDay) {
          const projectId = this.projectOf.get(uuid);
          if (unwritten !== null && projectId !== undefined && !unwritten.has(projectId)) continue;
          const kept = current.get(uuid);
          if (kept) {
            kept.deliveries += tally.deliveries;
            kept.hits += tally.hits;
            kept.misses += tally.misses;
          } else if (this.pendingCount < MAX_PENDING * 2) {
            current.set(uuid, tally);
            this.pendingCount += 1;
          }
        }
      }
      this.logger.warn({ err: error }, 'usage counts could not be written; keeping them for the next attempt');
    }
  }
}
