import type { Config } from '../config/config.js';
import type { KyselyMetadataStore } from '../adapters/db/kysely-metadata-store.js';
import type { KyselyShardSet } from '../adapters/db/shard-set.js';
import { ProjectService } from '../services/project.service.js';
import { ShardPlacementService } from '../services/shard-placement.service.js';
import { ProjectMoveService } from '../services/project-move.service.js';
import { KyselyProjectRowCopier } from '../adapters/db/project-rows.js';
import { systemClock } from '../lib/clock.js';
import { openBlobStore, openMetadataStore, openShards, regionNames } from './storage.js';
import { ProjectBlobCopy } from '../services/project-blob-copy.js';
import { KyselyConfigCopies } from '../adapters/db/config-replica.js';

/** What the command line's project and shard commands work on: the main database and the shard map. */
interface Administration {
  main: KyselyMetadataStore;
  shards: KyselyShardSet;
  placement: ShardPlacementService;
  projects: ProjectService;
  moves: ProjectMoveService;
}

/** Opens the main database (migrated) and every shard for one command, and closes them after. */
export async function withAdministration<T>(config: Config, run: (admin: Administration) => Promise<T>): Promise<T> {
  const { store } = await openMetadataStore(config.database);
  try {
    const shards = await openShards(config, store);
    try {
      const placement = new ShardPlacementService(shards, shards, store.projects, regionNames(config));
      // No event bus here: running servers see a switch when their cached shard of the project ages
      // out (TROVE_SHARD_CACHE_TTL), which the move waits for before it cleans up.
      const rows = new KyselyProjectRowCopier(shards);
      const blobs = openBlobStore(config);
      const moves = new ProjectMoveService(
        store.projects,
        store.moves,
        rows,
        shards,
        { projectChanged: async () => undefined },
        systemClock,
        { shardCacheTtlMs: config.shards.cacheTtlMs },
        new ProjectBlobCopy(blobs, rows),
        new KyselyConfigCopies(store.db),
      );
      try {
        return await run({ main: store, shards, placement, projects: new ProjectService(store.projects, placement), moves });
      } finally {
        await blobs.close();
      }
    } finally {
      await shards.close();
    }
  } finally {
    await store.close();
  }
}
