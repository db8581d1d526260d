import { createAppError } from '../errors.js';
import type { BlobStore } from '../ports/blob-store.js';
import type { ProjectRowCopier, StoredOriginal } from '../ports/shards.js';

/** Originals listed per page, and copied at once within a page. */
const PAGE = 500;
const PARALLEL = 32;

/** Where a project's originals are and go: a shard and the root of its region's keys. */
export interface OriginalsPlace {
  shard: string;
  root: string;
}

export interface BlobCopyReport {
  /** Originals copied in this pass. */
  copied: number;
  /** Already in the new region with their recorded size. */
  present: number;
  /** Gone from the old region too (a file purged meanwhile): nothing to copy. */
  absent: number;
}

/**
 * Copies a project's originals from one region's storage to another's, for a move between regions.
 * Every pass copies what the new region lacks (or holds at another size), so a pass run again after
 * an interruption, or after writes resumed, only completes the copy.
 */
export class ProjectBlobCopy {
  constructor(
    private readonly blobs: BlobStore,
    private readonly rows: Pick<ProjectRowCopier, 'originals'>,
  ) {}

  /** Copies every original the project's rows on `from.shard` name into `to.root`. */
  async copy(projectId: string, from: OriginalsPlace, to: OriginalsPlace, options: { signal?: AbortSignal; onPage?: (report: BlobCopyReport) => void } = {}): Promise<BlobCopyReport> {
    const total: BlobCopyReport = { copied: 0, present: 0, absent: 0 };
    await this.eachPage(projectId, from.shard, options.signal, async (page) => {
      const outcomes = await inParallel(page, async (original) => {
        const target = to.root + original.key;
        const there = await this.blobs.head(target);
        if (there?.size === original.size) return 'present';
        const stream = await this.blobs.get(from.root + original.key);
        if (!stream) return 'absent';
        await this.blobs.put(target, stream, { size: original.size });
        return 'copied';
      });
      for (const outcome of outcomes) total[outcome] += 1;
      options.onPage?.({ ...total });
    });
    return total;
  }

  /**
   * Checks that every original still in the old region is in the new one at its recorded size;
   * throws MOVE_BLOB_MISSING naming the first that is not.
   */
  async verify(projectId: string, from: OriginalsPlace, to: OriginalsPlace, signal?: AbortSignal): Promise<number> {
    let verified = 0;
    await this.eachPage(projectId, to.shard, signal, async (page) => {
      const problems = await inParallel(page, async (original) => {
        const there = await this.blobs.head(to.root + original.key);
        if (there?.size === original.size) return null;
        // A file purged before the copy has nothing to move: its row is all there is.
        if (!(await this.blobs.head(from.root + original.key))) return null;
        return `${original.uuid}: ${there ? `${there.size} bytes, not ${original.size}` : 'missing'}`;
      });
      const problem = problems.find((p) => p !== null);
      if (problem) throw createAppError('MOVE_BLOB_MISSING', 409, `An original is not in the new region after the copy (${problem}); nothing was switched. Run the move again.`);
      verified += page.length;
    });
    return verified;
  }

  /** Deletes the originals the project's rows name from a region (the one it left). */
  async remove(projectId: string, place: OriginalsPlace, signal?: AbortSignal): Promise<void> {
    await this.eachPage(projectId, place.shard, signal, async (page) => {
      await inParallel(page, (original) => this.blobs.delete(place.root + original.key));
    });
  }

  private async eachPage(projectId: string, shard: string, signal: AbortSignal | undefined, visit: (page: StoredOriginal[]) => Promise<void>): Promise<void> {
    let after: string | null = null;
    for (;;) {
      signal?.throwIfAborted();
      const page = await this.rows.originals(projectId, shard, after, PAGE);
      if (page.length === 0) return;
      await visit(page);
      after = page[page.length - 1]!.uuid;
    }
  }
}

/** Runs `work` over `items`, at most PARALLEL at once, results in order. */
async function inParallel<T, R>(items: readonly T[], work: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array<R>(items.length);
  let next = 0;
  const lanes = Array.from({ length: Math.min(PARALLEL, items.length) }, async () => {
    while (next < items.length) {
      const index = next++;
      results[index] = await work(items[index]!);
    }
  });
  await Promise.all(lanes);
  return results;
}
