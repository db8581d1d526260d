import { describe, expect, it } from 'vitest';
import type { DailyDeliveries, UsageRepository } from '../../src/ports/repositories.js';
import { UsageService } from '../../src/services/usage.service.js';
import { MutableClock } from '../helpers/clock.js';
import { singleShard } from '../helpers/single-shard.js';

/** Keeps what it is given; `failNext` makes the next write fail as a database that is away would. */
class RecordingUsage implements UsageRepository {
  written: DailyDeliveries[] = [];
  failNext = false;
  constructor(private readonly projects: Map<string, string>) {}
  async addDeliveries(counts: DailyDeliveries[]): Promise<void> {
    if (this.failNext) {
      this.failNext = false;
      throw new Error('database unavailable');
    }
    this.written.push(...counts.map((row) => ({ ...row })));
  }
  async deliveriesSince(): Promise<DailyDeliveries[]> {
    return [];
  }
  async uploadsSince(): Promise<never[]> {
    return [];
  }
  async bytes(): Promise<{ stored: number; unstored: number }> {
    return { stored: 0, unstored: 0 };
  }
  async projectsOfFiles(uuids: string[]): Promise<Map<string, string>> {
    return new Map(uuids.filter((uuid) => this.projects.has(uuid)).map((uuid) => [uuid, this.projects.get(uuid)!]));
  }
  async totals(): Promise<{ files: number; bytes: number }> {
    return { files: 0, bytes: 0 };
  }
}

function setUp() {
  const repository = new RecordingUsage(new Map([['file-a1', 'project-a'], ['file-a2', 'project-a'], ['file-b', 'project-b']]));
  const warnings: string[] = [];
  const clock = new MutableClock();
  const usage = new UsageService(singleShard({ usage: repository }), clock, { warn: (_object, message) => warnings.push(message) });
  return { repository, warnings, clock, usage };
}

const totals = (rows: DailyDeliveries[]) =>
  rows
    .map((row) => `${row.projectId} ${row.day}: ${row.deliveries} delivered, ${row.cacheHits} hits, ${row.cacheMisses} misses`)
    .sort();

describe('usage tallies', () => {
  it('adds deliveries up per project and day, files of one project together', async () => {
    const { repository, usage } = setUp();
    usage.record('file-a1', 'hit');
    usage.record('file-a1', 'miss');
    usage.record('file-a2', 'original');
    usage.record('file-b', 'hit');
    usage.record('file-gone', 'hit');
    await usage.flush();
    const day = new Date().toISOString().slice(0, 10);
    // A file no project owns any more is not charged to anyone.
    expect(totals(repository.written)).toEqual([`project-a ${day}: 3 delivered, 1 hits, 1 misses`, `project-b ${day}: 1 delivered, 1 hits, 0 misses`]);
    await usage.flush();
    expect(repository.written).toHaveLength(2);
  });

  it('counts a delivery on the day it happened when the clock passes midnight between flushes', async () => {
    const { repository, usage, clock } = setUp();
    const first = clock.now().toISOString().slice(0, 10);
    usage.record('file-b', 'hit');
    clock.advance(86_400_000);
    const second = clock.now().toISOString().slice(0, 10);
    usage.record('file-b', 'miss');
    usage.record('file-b', 'miss');
    await usage.flush();
    expect(totals(repository.written)).toEqual([`project-b ${first}: 1 delivered, 1 hits, 0 misses`, `project-b ${second}: 2 delivered, 0 hits, 2 misses`]);
  });

  it('keeps the counts of a write that failed and adds them to the next one', async () => {
    const { repository, usage, warnings } = setUp();
    usage.record('file-a1', 'hit');
    usage.record('file-b', 'miss');
    repository.failNext = true;
    await usage.flush();
    // Each project's counts go to its own shard: the one whose write failed is kept, the other is written.
    expect(repository.written.map((row) => row.projectId)).toEqual(['project-b']);
    expect(warnings).toEqual(['usage counts could not be written; keeping them for the next attempt']);
    usage.record('file-a1', 'hit');
    await usage.flush();
    const day = new Date().toISOString().slice(0, 10);
    expect(totals(repository.written)).toEqual([`project-a ${day}: 2 delivered, 2 hits, 0 misses`, `project-b ${day}: 1 delivered, 0 hits, 1 misses`]);
  });
});
