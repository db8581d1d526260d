import type { Config } from '../config/config.js';
import type { KyselyMetadataStore } from '../adapters/db/kysely-metadata-store.js';
import type { KyselyShardSet } from '../adapters/db/shard-set.js';
import { ProjectService } from '../services/project.service.js';
import { ShardPlacementService } from '../services/shard-placement.service.js';
import { openMetadataStore, openShards } from './storage.js';

/** What the command line's project and shard commands work on: the main database and the shard map. */
export interface Administration {
  main: KyselyMetadataStore;
  shards: KyselyShardSet;
  placement: ShardPlacementService;
  projects: ProjectService;
}

/** Opens the main database (migrated) and every shard for one command, and closes them after. */
export async function withAdministration<T>(config: Config, run: (admin: Administration) => Promise<T>): Promise<T> {
  const { store } = await openMetadataStore(config.database);
  try {
    const shards = await openShards(config, store);
    try {
      const placement = new ShardPlacementService(shards, shards, store.projects);
      return await run({ main: store, shards, placement, projects: new ProjectService(store.projects, placement) });
    } finally {
      await shards.close();
    }
  } finally {
    await store.close();
  }
}
