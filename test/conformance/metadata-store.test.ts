import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe } from 'vitest';
import { KyselyMetadataStore } from '../../src/adapters/db/kysely-metadata-store.js';
import { createTestDatabase, postgresUnavailableReason, REQUIRE_SCALE } from '../helpers/backends.js';
import { runMetadataStoreConformance } from './metadata-store.suite.js';

describe('KyselyMetadataStore on SQLite', () => {
  runMetadataStoreConformance('sqlite', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'trove-metadata-'));
    const store = new KyselyMetadataStore({ kind: 'sqlite', path: path.join(dir, 'trove.db') });
    await store.migrate();
    return {
      store,
      cleanup: async () => {
        await store.close();
        await rm(dir, { recursive: true, force: true });
      },
    };
  });
});

const postgresReason = await postgresUnavailableReason();
const skipPostgres = postgresReason !== null && !REQUIRE_SCALE;
if (skipPostgres) {
  console.warn(`[trove tests] skipping KyselyMetadataStore on PostgreSQL: ${postgresReason}. Set TROVE_TEST_REQUIRE_SCALE=1 to make this an error.`);
}

describe.skipIf(skipPostgres)('KyselyMetadataStore on PostgreSQL', () => {
  runMetadataStoreConformance('postgres', async () => {
    const database = await createTestDatabase();
    const store = new KyselyMetadataStore({ kind: 'postgres', url: database.url, poolSize: 5 });
    await store.migrate();
    return {
      store,
      cleanup: async () => {
        await store.close();
        await database.drop();
      },
    };
  });
});
