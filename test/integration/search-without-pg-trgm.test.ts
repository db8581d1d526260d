import { KyselyShardSet } from '../../src/adapters/db/shard-set.js';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KyselyMetadataStore } from '../../src/adapters/db/kysely-metadata-store.js';
import { parseFileSearch } from '../../src/domain/file-search.js';
import { FileSearchService } from '../../src/services/file-search.service.js';
import { postgresUnavailableReason, REQUIRE_SCALE } from '../helpers/backends.js';
import { storedFile } from '../helpers/stored-file.js';

const ADMIN_URL = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const reason = await postgresUnavailableReason();
if (reason !== null && !REQUIRE_SCALE) console.warn(`[trove tests] skipping file search without pg_trgm: ${reason}`);

async function admin<T>(database: string | null, work: (client: pg.Client) => Promise<T>): Promise<T> {
  const url = new URL(ADMIN_URL);
  if (database) url.pathname = `/${database}`;
  const client = new pg.Client({ connectionString: url.toString() });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

/**
 * A database role that may create tables but not extensions (no CREATE on the database), as on a
 * managed server that offers no pg_trgm: the migration still succeeds, search works, and
 * `fuzziness: true` matches exactly, says so, and is warned about once. Installing the extension
 * and its index afterwards, as the README tells, brings typo tolerance.
 */
describe.skipIf(reason !== null && !REQUIRE_SCALE)('file search on PostgreSQL without pg_trgm', () => {
  const name = `trove_nt_${randomBytes(4).toString('hex')}`;
  let url: string;
  let store: KyselyMetadataStore;

  beforeAll(async () => {
    await admin(null, async (client) => {
      await client.query(`create role ${name} login`);
      await client.query(`create database ${name}`);
    });
    await admin(name, (client) => client.query(`grant create on schema public to ${name}`));
    const target = new URL(ADMIN_URL);
    target.username = name;
    target.password = '';
    target.pathname = `/${name}`;
    url = target.toString();
    store = new KyselyMetadataStore({ kind: 'postgres', url, poolSize: 2 });
  });

  afterAll(async () => {
    await store?.close();
    await admin(null, async (client) => {
      await client.query(`drop database if exists ${name} with (force)`);
      await client.query(`drop role if exists ${name}`);
    });
  });

  it('migrates, searches, and matches exactly when asked for typo tolerance', async () => {
    expect(await store.migrate()).toContain('0006-search');
    const installed = await admin(name, (client) => client.query("select 1 from pg_extension where extname = 'pg_trgm'"));
    expect(installed.rowCount).toBe(0);
    expect(await store.fileSearch.supportsFuzziness()).toBe(false);

    const project = await store.projects.create({ name: 'p', publicKey: `pk_${name}` });
    await store.files.insertMany([storedFile({ projectId: project.id, originalFilename: 'sunset-beach.jpg' }), storedFile({ projectId: project.id, originalFilename: 'notes.txt' })]);
    const run = async (body: unknown) => {
      const { criteria, paging } = parseFileSearch(body, {});
      return store.fileSearch.search(project.id, criteria, paging, new Date().toISOString());
    };
    expect((await run({ query: 'unset' })).files.map((file) => file.originalFilename)).toEqual(['sunset-beach.jpg']);
    expect(await run({ query: 'sunsett', fuzziness: true })).toEqual({ files: [], total: 0, alternatives: {}, fuzzy: false });
    expect((await run({ query: 'sunset', fuzziness: true })).files.map((file) => file.originalFilename)).toEqual(['sunset-beach.jpg']);

    const warnings: string[] = [];
    const service = new FileSearchService(await KyselyShardSet.open(store, { configured: [], poolSize: 1, cacheTtlMs: 1_000 }), { now: () => new Date() }, { warn: (_object, message) => warnings.push(message) });
    await service.checkFuzziness();
    const answer = await service.search(project, { query: 'sunsett', fuzziness: true }, {});
    expect(answer.fuzzinessUnavailable).toBe(true);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toContain('pg_trgm');
  });

  it('tolerates typos once the extension and its index are installed as the README says', async () => {
    await admin(name, async (client) => {
      await client.query('create extension pg_trgm');
      await client.query('create index file_search_vocabulary_trgm_idx on file_search_vocabulary using gin (word gin_trgm_ops)');
    });
    // What a database can do is learnt once per store: a restarted server opens a new one.
    await store.close();
    store = new KyselyMetadataStore({ kind: 'postgres', url, poolSize: 2 });
    expect(await store.fileSearch.supportsFuzziness()).toBe(true);
    const project = (await store.projects.findByPublicKey(`pk_${name}`))!;
    const { criteria, paging } = parseFileSearch({ query: 'sunsett', fuzziness: true }, {});
    const result = await store.fileSearch.search(project.id, criteria, paging, new Date().toISOString());
    expect(result).toMatchObject({ alternatives: { sunsett: ['sunset'] }, fuzzy: true, total: 1 });
  });
});
