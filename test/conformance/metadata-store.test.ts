import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe } from 'vitest';
import type { DatabaseConfig } from '../../src/config/config.js';
import { KyselyMetadataStore } from '../../src/adapters/db/kysely-metadata-store.js';
import { KyselyShardSet } from '../../src/adapters/db/shard-set.js';
import { createTestDatabase, postgresUnavailableReason, REQUIRE_SCALE } from '../helpers/backends.js';
import { runMetadataStoreConformance } from './metadata-store.suite.js';

/** The main database, migrated, and the shard set over it with `shard` as shard `b`. */
async function openSharded(main: DatabaseConfig, shard: DatabaseConfig): Promise<{ store: KyselyMetadataStore; shards: KyselyShardSet }> {
  const store = new KyselyMetadataStore(main);
  try {
    await store.migrate();
    const shards = await KyselyShardSet.open(store, { configured: [{ name: 'b', database: shard, region: null }], poolSize: 5, cacheTtlMs: 60_000 });
    // Open answers even when a shard cannot be migrated (it is tried again on use): this suite needs both now.
    await shards.ping('b');
    return { store, shards };
  } catch (error) {
    await store.close().catch(() => undefined);
    throw error;
  }
}

describe('KyselyMetadataStore on SQLite, two shards', () => {
  runMetadataStoreConformance('sqlite', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'trove-metadata-'));
    try {
      const { store, shards } = await openSharded({ kind: 'sqlite', path: path.join(dir, 'trove.db') }, { kind: 'sqlite', path: path.join(dir, 'shard-b.db') });
      return {
        main: store,
        shards,
        cleanup: async () => {
          await shards.close();
          await store.close();
          await rm(dir, { recursive: true, force: true });
        },
      };
    } catch (error) {
      await rm(dir, { recursive: true, force: true });
      throw error;
    }
  });
});

const postgresReason = await postgresUnavailableReason();
const skipPostgres = postgresReason !== null && !REQUIRE_SCALE;
if (skipPostgres) {
  console.warn(`[trove tests] skipping KyselyMetadataStore on PostgreSQL: ${postgresReason}. Set TROVE_TEST_REQUIRE_SCALE=1 to make this an error.`);
}

describe.skipIf(skipPostgres)('KyselyMetadataStore on PostgreSQL, two shards', () => {
  runMetadataStoreConformance('postgres', async () => {
    const mainDatabase = await createTestDatabase();
    const shardDatabase = await createTestDatabase().catch(async (error: unknown) => {
      await mainDatabase.drop();
      throw error;
    });
    const dropBoth = async () => {
      await shardDatabase.drop();
      await mainDatabase.drop();
    };
    try {
      const { store, shards } = await openSharded({ kind: 'postgres', url: mainDatabase.url, poolSize: 5 }, { kind: 'postgres', url: shardDatabase.url, poolSize: 5 });
      return {
        main: store,
        shards,
        cleanup: async () => {
          await shards.close();
          await store.close();
          await dropBoth();
        },
      };
    } catch (error) {
      await dropBoth();
      throw error;
    }
  });
});
