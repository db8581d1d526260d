import { sql, type Kysely } from 'kysely';
import { isPostgres } from '../dialect.js';

/**
 * The configuration change log, and where a region's copy of the configuration says how far it got.
 *
 * - `config_changes` (in the main database): one row per change of a project's settings, keys or
 *   storages, or of the shard map, in commit order (`seq`). Triggers write it, so every path that
 *   changes configuration (the services, the CLI, a hand-written SQL migration that updates every
 *   project at once) is logged. A region's syncer reads it to keep its copy current.
 * - `config_replica_state` (in a region's configuration copy): the last change applied and when the
 *   copy last caught up, from which the staleness each region exports is computed. A database with
 *   a row here is a copy: the triggers log nothing of what its syncer writes.
 */

/** Tables whose rows are configuration, and the column naming the project each row belongs to (null: app-wide). */
const LOGGED_TABLES = [
  { table: 'projects', project: 'id' },
  { table: 'secret_keys', project: 'project_id' },
  { table: 'project_storages', project: 'project_id' },
  { table: 'shards', project: null },
] as const;

export async function up(db: Kysely<unknown>): Promise<void> {
  const postgres = isPostgres(db);
  if (postgres) {
    await sql`create table config_changes (seq bigserial primary key, project_id text, created_at text not null)`.execute(db);
  } else {
    await sql`create table config_changes (seq integer primary key autoincrement, project_id text, created_at text not null)`.execute(db);
  }
  await db.schema
    .createTable('config_replica_state')
    .addColumn('name', 'text', (c) => c.primaryKey())
    .addColumn('last_seq', 'bigint', (c) => c.notNull())
    .addColumn('caught_up_at', 'text')
    .addColumn('updated_at', 'text', (c) => c.notNull())
    .execute();

  for (const { table, project } of LOGGED_TABLES) {
    if (postgres) {
      const of = (row: 'new' | 'old') => (project === null ? 'null' : `${row}.${project}`);
      await sql
        .raw(
          `create function trove_log_${table}() returns trigger language plpgsql as $$
          begin
            -- A region's copy is written by its syncer: its writes are not changes of its own.
            if exists (select 1 from config_replica_state) then return null; end if;
            insert into config_changes (project_id, created_at)
              values (case when tg_op = 'DELETE' then ${of('old')} else ${of('new')} end, to_char(clock_timestamp() at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'));
            return null;
          end $$`,
        )
        .execute(db);
      await sql.raw(`create trigger ${table}_log after insert or update or delete on ${table} for each row execute function trove_log_${table}()`).execute(db);
      continue;
    }
    for (const [operation, row] of [['insert', 'new'], ['update', 'new'], ['delete', 'old']] as const) {
      const projectId = project === null ? 'null' : `${row}.${project}`;
      await sql
        .raw(
          `create trigger ${table}_log_${operation} after ${operation} on ${table}
           when not exists (select 1 from config_replica_state)
           begin insert into config_changes (project_id, created_at) values (${projectId}, strftime('%Y-%m-%dT%H:%M:%fZ', 'now')); end`,
        )
        .execute(db);
    }
  }
}

export async function down(db: Kysely<unknown>): Promise<void> {
  const postgres = isPostgres(db);
  for (const { table } of LOGGED_TABLES) {
    if (postgres) {
      await sql.raw(`drop trigger if exists ${table}_log on ${table}`).execute(db);
      await sql.raw(`drop function if exists trove_log_${table}()`).execute(db);
    } else {
      for (const operation of ['insert', 'update', 'delete']) await sql.raw(`drop trigger if exists ${table}_log_${operation}`).execute(db);
    }
  }
  await db.schema.dropTable('config_replica_state').execute();
  await db.schema.dropTable('config_changes').execute();
}
