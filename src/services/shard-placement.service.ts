import { createAppError } from '../errors.js';
import type { ProjectsRepository } from '../ports/repositories.js';
import type { ShardAdmin, ShardDescription, ShardResolver } from '../ports/shards.js';

/** A shard with what it holds, as `trove shards list` shows it. */
export interface ShardLoad extends ShardDescription {
  /** Projects whose files live here (from the main database). */
  projects: number;
  /** Live files and their bytes here; null when the shard did not answer. */
  files: number | null;
  bytes: number | null;
  /** Why the shard did not answer; null when it did. */
  error: string | null;
}

/** Where projects go: the shard map with each shard's load, and the choice of a new project's shard. */
export class ShardPlacementService {
  constructor(
    private readonly admin: ShardAdmin,
    private readonly shards: ShardResolver,
    private readonly projects: Pick<ProjectsRepository, 'countByShard'>,
  ) {}

  /** Every shard with its projects, files and bytes; a shard that does not answer says why. */
  async loads(): Promise<ShardLoad[]> {
    await this.admin.refresh();
    const [projects, outcomes] = await Promise.all([this.projects.countByShard(), this.shards.fanOut((shard) => shard.usage.totals())]);
    return this.admin.describe().map((description) => {
      const outcome = outcomes.find((o) => o.shard === description.name);
      const totals = outcome?.ok ? outcome.value : null;
      return {
        ...description,
        projects: projects.get(description.name) ?? 0,
        files: totals?.files ?? null,
        bytes: totals?.bytes ?? null,
        error: outcome && !outcome.ok ? outcome.error.message : null,
      };
    });
  }

  /**
   * The shard for a new project: the one named (which must exist and answer), or the least loaded of
   * those that answer: fewest live files (from each shard's counters, not a scan), then fewest
   * projects, then by name. Two creations at the same moment may pick the same shard: the spread
   * evens out with the next ones.
   */
  async choose(requested: string | null): Promise<string> {
    if (requested !== null) {
      await this.admin.refresh();
      if (!this.admin.describe().some((shard) => shard.name === requested)) {
        throw createAppError('SHARD_NOT_FOUND', 404, `No shard is named "${requested}"; the shards are ${this.shards.names().join(', ')}.`);
      }
      await this.admin.ping(requested);
      return requested;
    }
    await this.admin.refresh();
    const [projects, outcomes] = await Promise.all([this.projects.countByShard(), this.shards.fanOut((shard) => shard.fileCounters.liveTotal())]);
    const candidates = outcomes.flatMap((outcome) => (outcome.ok ? [{ name: outcome.shard, files: outcome.value, projects: projects.get(outcome.shard) ?? 0 }] : []));
    candidates.sort((a, b) => a.files - b.files || a.projects - b.projects || a.name.localeCompare(b.name));
    const chosen = candidates[0];
    if (!chosen) throw createAppError('SHARD_UNAVAILABLE', 503, 'No shard answers: a new project has nowhere to keep its files.');
    return chosen.name;
  }

  /** Gives a shard the anchor row of a project about to be created on it. */
  anchor(shard: string, project: { id: string; name: string; createdAt: string }): Promise<void> {
    return this.admin.anchor(shard, project);
  }
}
