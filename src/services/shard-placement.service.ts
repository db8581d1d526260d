import { createAppError } from '../errors.js';
import type { ProjectsRepository } from '../ports/repositories.js';
import type { ShardAdmin, ShardDescription, ShardResolver } from '../ports/shards.js';

/** A shard with what it holds, as `trove shards list` shows it. */
export interface ShardLoad extends ShardDescription {
  /** The name of its region (`region` is null for the default one). */
  regionName: string;
  /** Projects whose files live here (from the main database). */
  projects: number;
  /** Live files and their bytes here; null when the shard did not answer. */
  files: number | null;
  bytes: number | null;
  /** Why the shard did not answer; null when it did. */
  error: string | null;
}

/** The regions a deployment declares. */
export interface RegionNames {
  /** TROVE_DEFAULT_REGION: the region of the main database's shard and of STORAGE_URL. */
  defaultName: string;
  /** Every region, the default first. */
  all: readonly string[];
}

/** Where projects go: the shard map with each shard's load and region, and the choice of a new project's shard. */
export class ShardPlacementService {
  constructor(
    private readonly admin: ShardAdmin,
    private readonly shards: ShardResolver,
    private readonly projects: Pick<ProjectsRepository, 'countByShard'>,
    private readonly regions: RegionNames,
  ) {}

  /** The name of a shard's region (a project's region is its shard's). */
  async regionOf(shard: string): Promise<string> {
    let description = this.admin.describe().find((d) => d.name === shard);
    if (!description) {
      await this.admin.refresh();
      description = this.admin.describe().find((d) => d.name === shard);
    }
    return description?.region ?? this.regions.defaultName;
  }

  /** The name of a shard description's region. */
  regionName(description: Pick<ShardDescription, 'region'>): string {
    return description.region ?? this.regions.defaultName;
  }

  /** A region's name as the shard map stores it (null: the default region); 404 for an undeclared one. */
  regionKey(name: string): string | null {
    if (!this.regions.all.includes(name)) {
      throw createAppError('REGION_NOT_FOUND', 404, `No region is named "${name}"; the regions are ${this.regions.all.join(', ')} (TROVE_DEFAULT_REGION and TROVE_REGIONS).`);
    }
    return name === this.regions.defaultName ? null : name;
  }

  /** Every shard with its projects, files and bytes; a shard that does not answer says why. */
  async loads(): Promise<ShardLoad[]> {
    await this.admin.refresh();
    const [projects, outcomes] = await Promise.all([this.projects.countByShard(), this.shards.fanOut((shard) => shard.usage.totals())]);
    return this.admin.describe().map((description) => {
      const outcome = outcomes.find((o) => o.shard === description.name);
      const totals = outcome?.ok ? outcome.value : null;
      return {
        ...description,
        regionName: this.regionName(description),
        projects: projects.get(description.name) ?? 0,
        files: totals?.files ?? null,
        bytes: totals?.bytes ?? null,
        error: outcome && !outcome.ok ? outcome.error.message : null,
      };
    });
  }

  /**
   * The shard for a new project: the one named (which must exist, answer, and be in the region if
   * one is named too), or the least loaded of the region's shards that answer (the default region
   * when none is named): fewest live files (from each shard's counters, not a scan), then fewest
   * projects, then by name. Two creations at the same moment may pick the same shard: the spread
   * evens out with the next ones.
   */
  async choose(requested: string | null, region: string | null = null): Promise<string> {
    const regionKey = this.regionKey(region ?? this.regions.defaultName);
    await this.admin.refresh();
    if (requested !== null) {
      const shard = this.admin.describe().find((d) => d.name === requested);
      if (!shard) throw createAppError('SHARD_NOT_FOUND', 404, `No shard is named "${requested}"; the shards are ${this.shards.names().join(', ')}.`);
      if (region !== null && shard.region !== regionKey) {
        throw createAppError('REGION_NOT_FOUND', 404, `Shard "${requested}" is in region "${this.regionName(shard)}", not "${region}".`);
      }
      await this.admin.ping(requested);
      return requested;
    }
    return this.leastLoaded(regionKey);
  }

  /** The least loaded shard of a region (null: the default region) among those that answer. */
  async leastLoaded(regionKey: string | null): Promise<string> {
    const inRegion = new Set(this.admin.describe().flatMap((d) => (d.region === regionKey ? [d.name] : [])));
    const regionName = regionKey ?? this.regions.defaultName;
    if (inRegion.size === 0) {
      throw createAppError('REGION_NOT_FOUND', 404, `Region "${regionName}" has no shard: add one with \`trove shards add NAME URL --region ${regionName}\` or \`name@${regionName}=url\` in TROVE_SHARDS.`);
    }
    const [projects, outcomes] = await Promise.all([
      this.projects.countByShard(),
      this.shards.fanOut((shard) => (inRegion.has(shard.shardName) ? shard.fileCounters.liveTotal() : Promise.resolve(null))),
    ]);
    const candidates = outcomes.flatMap((outcome) =>
      outcome.ok && outcome.value !== null ? [{ name: outcome.shard, files: outcome.value, projects: projects.get(outcome.shard) ?? 0 }] : [],
    );
    candidates.sort((a, b) => a.files - b.files || a.projects - b.projects || a.name.localeCompare(b.name));
    const chosen = candidates[0];
    if (!chosen) throw createAppError('SHARD_UNAVAILABLE', 503, `No shard of region "${regionName}" answers: a new project has nowhere to keep its files.`);
    return chosen.name;
  }

  /** Gives a shard the anchor row of a project about to be created on it. */
  anchor(shard: string, project: { id: string; name: string; createdAt: string }): Promise<void> {
    return this.admin.anchor(shard, project);
  }
}
