import type { ProjectShard, ShardRepositories, ShardResolver, ShardScan } from '../../src/ports/shards.js';

/**
 * A resolver whose every project lives on one shard made of the repositories given: for unit tests
 * of a service's own logic. Integration tests use the real shard set (KyselyShardSet) instead.
 */
export function singleShard(repositories: Partial<ShardRepositories>): ShardResolver {
  const shard = { ...repositories, shardName: 'main' };
  return {
    names: () => ['main'],
    forProject: async (projectId) => ({ ...shard, projectId }) as unknown as ProjectShard,
    fanOut: async (visit) => {
      try {
        return [{ shard: 'main', ok: true, value: await visit(shard as unknown as ShardScan) }];
      } catch (error) {
        return [{ shard: 'main', ok: false, error: error as Error }];
      }
    },
    forget: () => undefined,
  };
}
