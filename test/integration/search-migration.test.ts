import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import SqliteDatabase from 'better-sqlite3';
import { Kysely, Migrator, PostgresDialect, SqliteDialect } from 'kysely';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { KyselyMetadataStore } from '../../src/adapters/db/kysely-metadata-store.js';
import { migrationProvider } from '../../src/adapters/db/migrations/index.js';
import type { DatabaseConfig } from '../../src/config/config.js';
import { parseFileSearch } from '../../src/domain/file-search.js';
import { createTestDatabase, postgresUnavailableReason, REQUIRE_SCALE } from '../helpers/backends.js';
import { storedFile } from '../helpers/stored-file.js';

const postgresReason = await postgresUnavailableReason();
const engines: Array<'sqlite' | 'postgres'> = postgresReason === null || REQUIRE_SCALE ? ['sqlite', 'postgres'] : ['sqlite'];
const cleanups: Array<() => Promise<void>> = [];

afterAll(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
});

async function databaseOf(engine: 'sqlite' | 'postgres'): Promise<DatabaseConfig> {
  if (engine === 'sqlite') {
    const dir = await mkdtemp(path.join(tmpdir(), 'trove-search-migration-'));
    cleanups.push(() => rm(dir, { recursive: true, force: true }));
    return { kind: 'sqlite', path: path.join(dir, 'trove.db') };
  }
  const database = await createTestDatabase();
  cleanups.push(() => database.drop());
  return { kind: 'postgres', url: database.url, poolSize: 2 };
}

/**
 * An installation from before search: its files are indexed by the migration that adds search, live
 * ones only, and found at once.
 */
describe.each(engines)('upgrading to file search (%s)', (engine) => {
  it('indexes the files stored before search existed', async () => {
    const config = await databaseOf(engine);
    const db = new Kysely<unknown>({
      dialect: config.kind === 'sqlite' ? new SqliteDialect({ database: new SqliteDatabase(config.path) }) : new PostgresDialect({ pool: new pg.Pool({ connectionString: config.url, max: 1 }) }),
    });
    const migrator = new Migrator({ db, provider: migrationProvider, migrationTableName: 'trove_migrations', migrationLockTableName: 'trove_migrations_lock' });
    const before = await migrator.migrateTo('0005-dashboard');
    expect(before.error).toBeUndefined();
    const projectId = 'p-old';
    await db.insertInto('projects' as never).values({ id: projectId, name: 'old', public_key: 'pk_old', auto_store: 1, signed_uploads: 0, created_at: '2024-01-01T00:00:00.000Z' }).execute();
    const live = storedFile({ projectId, originalFilename: 'Lighthouse-2019.jpg', metadata: { alt: 'Storm over the harbour' }, tags: ['sea'], datetimeStored: '2024-01-01T00:00:00.000Z' });
    const removed = storedFile({ projectId, originalFilename: 'lighthouse-old.jpg', datetimeRemoved: '2024-02-01T00:00:00.000Z' });
    for (const file of [live, removed]) {
      await db
        .insertInto('files' as never)
        .values({
          uuid: file.uuid,
          project_id: projectId,
          size: file.size,
          mime_type: file.mimeType,
          is_image: 0,
          original_filename: file.originalFilename,
          filename: file.filename,
          sha256: file.sha256,
          blob_key: file.blobKey,
          content_info: null,
          metadata: JSON.stringify(file.metadata),
          tags: JSON.stringify(file.tags),
          source: null,
          source_url: null,
          datetime_uploaded: file.datetimeUploaded,
          datetime_stored: file.datetimeStored,
          datetime_removed: file.datetimeRemoved,
          expires_at: null,
        })
        .execute();
    }
    await db.destroy();

    const store = new KyselyMetadataStore(config);
    try {
      expect(await store.migrate()).toContain('0006-search');
      const search = async (body: unknown) => {
        const { criteria, paging } = parseFileSearch(body, {});
        return (await store.fileSearch.search(projectId, criteria, paging, new Date().toISOString())).files.map((file) => file.uuid);
      };
      expect(await search({ query: 'lighthouse' })).toEqual([live.uuid]);
      expect(await search({ query: 'harbour 2019' })).toEqual([live.uuid]);
      expect(await search({ tags: { all: ['sea'] }, is_image: false })).toEqual([live.uuid]);
      expect(await search({ query: 'lighthouse' })).not.toContain(removed.uuid);
    } finally {
      await store.close();
    }
  });
});
