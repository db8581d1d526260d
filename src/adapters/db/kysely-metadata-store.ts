import fs from 'node:fs';
import path from 'node:path';
import SqliteDatabase from 'better-sqlite3';
import { Kysely, Migrator, PostgresDialect, SqliteDialect, sql } from 'kysely';
import pg from 'pg';
import type { DatabaseConfig } from '../../config/config.js';
import type { MetadataStore } from '../../ports/repositories.js';
import { SqlJobQueue, type SqlJobQueueOptions } from '../queue/sql.job-queue.js';
import { CachedSqliteDatabase } from './cached-sqlite-database.js';
import { migrationProvider } from './migrations/index.js';
import { KyselyRepositories } from './kysely-repositories.js';
import { SearchCapabilities } from './search/file-search.repository.js';
import type { Database } from './schema.js';

const PG_INT8_OID = 20;

function createKysely(config: DatabaseConfig): Kysely<Database> {
  if (config.kind === 'sqlite') {
    fs.mkdirSync(path.dirname(config.path), { recursive: true });
    const database = new SqliteDatabase(config.path);
    // WAL lets delivery reads run while an upload commits; NORMAL is durable at each checkpoint
    // and survives a process crash, which is what the embedded mode promises.
    database.pragma('journal_mode = WAL');
    database.pragma('synchronous = NORMAL');
    database.pragma('foreign_keys = ON');
    database.pragma('busy_timeout = 5000');
    return new Kysely<Database>({ dialect: new SqliteDialect({ database: new CachedSqliteDatabase(database) }) });
  }
  const pool = new pg.Pool({
    connectionString: config.url,
    max: config.poolSize,
    connectionTimeoutMillis: 5_000,
    // bigint columns hold byte sizes, far below 2^53: read them as numbers, not strings.
    types: {
      getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
        oid === PG_INT8_OID ? (value: string) => Number(value) : pg.types.getTypeParser(oid, format)) as typeof pg.types.getTypeParser,
    },
  });
  // An idle client that loses its server must not crash the process; the next query reports it.
  pool.on('error', () => undefined);
  // Nor may one in use (pg-pool listens only while a client idles): the query in flight is rejected,
  // and the client, no longer queryable, is dropped when it is released.
  pool.on('connect', (client) => client.on('error', () => undefined));
  return new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
}

/** Tries of a SQLite migration that another process is running at the same moment (250 ms apart). */
const SQLITE_MIGRATION_ATTEMPTS = 20;

export class KyselyMetadataStore extends KyselyRepositories implements MetadataStore {
  readonly dialect: 'sqlite' | 'postgres';

  /** `blobRoot`: for a shard of a region other than the default one, the root of that region's blob keys. */
  constructor(config: DatabaseConfig, options: { blobRoot?: string } = {}) {
    const db = createKysely(config);
    super(db, new SearchCapabilities(db), options.blobRoot ?? '');
    this.dialect = config.kind;
  }

  /** Applies pending migrations; returns the names applied. */
  async migrate(): Promise<string[]> {
    const migrator = new Migrator({
      db: this.db,
      provider: migrationProvider,
      migrationTableName: 'trove_migrations',
      migrationLockTableName: 'trove_migrations_lock',
    });
    for (let attempt = 1; ; attempt++) {
      const { error, results } = await migrator.migrateToLatest();
      if (!error) return (results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName);
      // SQLite has no migration lock across processes: two commands started at once on a new file
      // both migrate, and the later one meets the other's tables. It waits for the other to finish.
      if (this.dialect !== 'sqlite' || attempt >= SQLITE_MIGRATION_ATTEMPTS || !/already exists|duplicate column|UNIQUE constraint failed|SQLITE_BUSY|database is locked/i.test(String(error))) {
        throw error instanceof Error ? error : new Error(String(error));
      }
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  }

  async ping(): Promise<void> {
    await sql`select 1`.execute(this.db);
  }

  /**
   * A job queue in this database's `jobs` table (run migrate() first). It shares this store's
   * connection: close the queue before the store, and only the store closes the database.
   */
  createJobQueue(options: Omit<SqlJobQueueOptions, 'dialect'> = {}): SqlJobQueue {
    return new SqlJobQueue(this.db, { ...options, dialect: this.dialect });
  }

  async close(): Promise<void> {
    await this.db.destroy();
  }
}
