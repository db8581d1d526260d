import type { ShardRepositories, ShardResolver, ShardScan } from '../ports/shards.js';

/**
 * Finds a record known only by a key that names no project (a delivery uuid, a task token) by asking
 * every shard at once. A shard that does not answer matters only when no other shard has the record:
 * then its error is the answer (the record may be there), not "not found".
 */
export async function findOnAnyShard<T>(shards: ShardResolver, find: (shard: ShardScan) => Promise<T | null>): Promise<T | null> {
  const outcomes = await shards.fanOut(find);
  for (const outcome of outcomes) if (outcome.ok && outcome.value !== null) return outcome.value;
  const failed = outcomes.find((outcome) => !outcome.ok);
  if (failed && !failed.ok) throw failed.error;
  return null;
}

/** Runs `visit` on every shard; returns the sum of what the shards that answered returned (sweeps that count their work). */
export async function sumOverShards(shards: ShardResolver, visit: (shard: ShardScan) => Promise<number>): Promise<number> {
  const outcomes = await shards.fanOut(visit);
  return outcomes.reduce((sum, outcome) => sum + (outcome.ok ? outcome.value : 0), 0);
}

/**
 * Whether `scan` is the project's home shard. During a move a project's rows sit on two shards; work
 * that acts on what it finds in a sweep (deleting bytes, sending events) acts only on the home copy.
 */
export async function isHomeShard(shards: ShardResolver, scan: ShardScan, projectId: string): Promise<boolean> {
  try {
    return (await shards.forProject(projectId)).shardName === scan.shardName;
  } catch {
    return false;
  }
}

/**
 * The shard to look in for a job's record: the project's, when the job names it; otherwise (a job
 * queued before Trove had shards) the first shard holding the record `find` looks for.
 */
export async function shardForJob<T>(
  shards: ShardResolver,
  projectId: string | undefined,
  find: (shard: ShardRepositories) => Promise<T | null>,
): Promise<{ shard: ShardRepositories; record: T } | null> {
  if (projectId !== undefined) {
    const shard = await shards.forProject(projectId);
    const record = await find(shard);
    return record === null ? null : { shard, record };
  }
  return findOnAnyShard(shards, async (shard) => {
    const record = await find(shard);
    return record === null ? null : { shard: shard, record };
  });
}
