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
import { KyselyFilesRepository } from './repositories/files.repository.js';
import { KyselyFromUrlTasksRepository } from './repositories/from-url-tasks.repository.js';
import { KyselyGroupsRepository } from './repositories/groups.repository.js';
import { KyselyMultipartRepository } from './repositories/multipart.repository.js';
import { KyselyProjectsRepository } from './repositories/projects.repository.js';
import { KyselyWebhooksRepository } from './repositories/webhooks.repository.js';
import { KyselyEventOutboxRepository } from './repositories/event-outbox.repository.js';
import { KyselyDashboardSessionsRepository } from './repositories/dashboard-sessions.repository.js';
import { KyselyUsageRepository } from './repositories/usage.repository.js';
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
  return new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
}

export class KyselyMetadataStore implements MetadataStore {
  readonly dialect: 'sqlite' | 'postgres';
  readonly projects: KyselyProjectsRepository;
  readonly files: KyselyFilesRepository;
  readonly multipart: KyselyMultipartRepository;
  readonly fromUrlTasks: KyselyFromUrlTasksRepository;
  readonly groups: KyselyGroupsRepository;
  readonly webhooks: KyselyWebhooksRepository;
  readonly outbox: KyselyEventOutboxRepository;
  readonly sessions: KyselyDashboardSessionsRepository;
  readonly usage: KyselyUsageRepository;
  private readonly db: Kysely<Database>;

  constructor(config: DatabaseConfig) {
    this.dialect = config.kind;
    this.db = createKysely(config);
    this.projects = new KyselyProjectsRepository(this.db);
    this.files = new KyselyFilesRepository(this.db);
    this.multipart = new KyselyMultipartRepository(this.db);
    this.fromUrlTasks = new KyselyFromUrlTasksRepository(this.db);
    this.groups = new KyselyGroupsRepository(this.db);
    this.webhooks = new KyselyWebhooksRepository(this.db);
    this.outbox = new KyselyEventOutboxRepository(this.db);
    this.sessions = new KyselyDashboardSessionsRepository(this.db);
    this.usage = new KyselyUsageRepository(this.db);
  }

  /** Applies pending migrations; returns the names applied. */
  async migrate(): Promise<string[]> {
    const migrator = new Migrator({
      db: this.db,
      provider: migrationProvider,
      migrationTableName: 'trove_migrations',
      migrationLockTableName: 'trove_migrations_lock',
    });
    const { error, results } = await migrator.migrateToLatest();
    if (error) throw error instanceof Error ? error : new Error(String(error));
    return (results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName);
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
