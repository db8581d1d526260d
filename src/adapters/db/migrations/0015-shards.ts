import { sql, type Kysely } from 'kysely';
import { isPostgres } from '../dialect.js';

/**
 * Shards. Every database (the main one and each shard) gets the same schema, so one migration list
 * serves all and each database tracks its own progress; what each database holds is decided by the
 * code (the main database: projects, keys, settings, sessions and the shard map; a shard: its
 * projects' files and everything hanging off them).
 *
 * - `shards`: the shard map, in the main database (shards added by `trove shards add`). `ordinal`
 *   numbers shards for good, so ids a shard hands out (webhooks) never collide with another's.
 * - `projects.shard`: the shard holding the project's files ('main': the main database itself).
 *   On a shard, `projects` holds only an anchor row per project it hosts (its foreign keys need one);
 *   the settings read are always the main database's.
 * - `project_moves`: a move in progress or ended, so an interrupted move resumes or rolls back.
 * - `shard_fences`: a project whose writes this database refuses. `paused` (a move's final sync and
 *   switch) refuses every write; `departed` (the shard the project left) refuses all but deletions,
 *   which the move's clean-up makes. Triggers on every table of a project's rows check it, so no
 *   write path, however stale its idea of the project's shard, can add a row the move would miss.
 */

/** Tables holding one project's rows under a `project_id` column; child tables are fenced through their parent. */
export const FENCED_TABLES = [
  'files',
  'multipart_uploads',
  'from_url_tasks',
  'groups',
  'project_file_counts',
  'webhooks',
  'webhook_deliveries',
  'event_outbox',
  'usage_daily',
  'addon_requests',
  'video_conversions',
  'document_conversions',
  'image_analysis',
  'face_detections',
] as const;

/** Child tables and how each finds its project: parent table, child column, parent key. */
const FENCED_CHILDREN = [
  { table: 'multipart_parts', parent: 'multipart_uploads', column: 'upload_uuid', key: 'uuid' },
  { table: 'group_files', parent: 'groups', column: 'group_id', key: 'id' },
  { table: 'webhook_attempts', parent: 'webhook_deliveries', column: 'delivery_id', key: 'id' },
] as const;

/** The text of the error a fenced write raises; the shard adapter recognises it. */
export const FENCE_MESSAGE = 'trove: writes to this project are paused on this shard';

export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('shards')
    .addColumn('name', 'text', (c) => c.primaryKey())
    .addColumn('url', 'text', (c) => c.notNull())
    .addColumn('ordinal', 'integer', (c) => c.notNull().unique())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .execute();
  await db.schema.alterTable('projects').addColumn('shard', 'text', (c) => c.notNull().defaultTo('main')).execute();
  await db.schema
    .createTable('project_moves')
    .addColumn('project_id', 'text', (c) => c.primaryKey())
    .addColumn('from_shard', 'text', (c) => c.notNull())
    .addColumn('to_shard', 'text', (c) => c.notNull())
    .addColumn('phase', 'text', (c) => c.notNull())
    .addColumn('detail', 'text')
    .addColumn('started_at', 'text', (c) => c.notNull())
    .addColumn('updated_at', 'text', (c) => c.notNull())
    .execute();
  await db.schema
    .createTable('shard_fences')
    .addColumn('project_id', 'text', (c) => c.primaryKey())
    .addColumn('state', 'text', (c) => c.notNull())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .execute();

  if (isPostgres(db)) {
    await sql
      .raw(
        `create function trove_project_fence() returns trigger language plpgsql as $$
        declare pid text;
        begin
          if tg_op = 'DELETE' then pid := old.project_id; else pid := new.project_id; end if;
          if exists (select 1 from shard_fences where project_id = pid and (tg_op <> 'DELETE' or state = 'paused')) then
            raise exception '${FENCE_MESSAGE}' using errcode = 'P0001';
          end if;
          if tg_op = 'DELETE' then return old; end if;
          return new;
        end $$`,
      )
      .execute(db);
    for (const table of FENCED_TABLES) {
      await sql
        .raw(`create trigger ${table}_fence before insert or update or delete on ${table} for each row execute function trove_project_fence()`)
        .execute(db);
    }
    for (const child of FENCED_CHILDREN) {
      const row = (version: 'new' | 'old', fences: string): string =>
        `exists (select 1 from ${child.parent} p join shard_fences f on f.project_id = p.project_id where p.${child.key} = ${version}.${child.column}${fences})`;
      await sql
        .raw(
          `create function trove_${child.table}_fence() returns trigger language plpgsql as $$
          begin
            if (tg_op <> 'DELETE' and ${row('new', '')}) or (tg_op = 'DELETE' and ${row('old', " and f.state = 'paused'")}) then
              raise exception '${FENCE_MESSAGE}' using errcode = 'P0001';
            end if;
            if tg_op = 'DELETE' then return old; end if;
            return new;
          end $$`,
        )
        .execute(db);
      await sql
        .raw(`create trigger ${child.table}_fence before insert or update or delete on ${child.table} for each row execute function trove_${child.table}_fence()`)
        .execute(db);
    }
    return;
  }

  const raise = `select raise(abort, '${FENCE_MESSAGE}')`;
  for (const table of FENCED_TABLES) {
    for (const [operation, version] of [['insert', 'new'], ['update', 'new'], ['delete', 'old']] as const) {
      await sql
        .raw(
          `create trigger ${table}_fence_${operation} before ${operation} on ${table}
           when exists (select 1 from shard_fences where project_id = ${version}.project_id${operation === 'delete' ? " and state = 'paused'" : ''})
           begin ${raise}; end`,
        )
        .execute(db);
    }
  }
  for (const child of FENCED_CHILDREN) {
    for (const [operation, version] of [['insert', 'new'], ['update', 'new'], ['delete', 'old']] as const) {
      await sql
        .raw(
          `create trigger ${child.table}_fence_${operation} before ${operation} on ${child.table}
           when exists (select 1 from ${child.parent} p join shard_fences f on f.project_id = p.project_id where p.${child.key} = ${version}.${child.column}${operation === 'delete' ? " and f.state = 'paused'" : ''})
           begin ${raise}; end`,
        )
        .execute(db);
    }
  }
}

export async function down(db: Kysely<unknown>): Promise<void> {
  const postgres = isPostgres(db);
  for (const table of [...FENCED_TABLES, ...FENCED_CHILDREN.map((c) => c.table)]) {
    if (postgres) await sql.raw(`drop trigger if exists ${table}_fence on ${table}`).execute(db);
    else for (const operation of ['insert', 'update', 'delete']) await sql.raw(`drop trigger if exists ${table}_fence_${operation}`).execute(db);
  }
  if (postgres) {
    await sql.raw('drop function if exists trove_project_fence()').execute(db);
    for (const child of FENCED_CHILDREN) await sql.raw(`drop function if exists trove_${child.table}_fence()`).execute(db);
  }
  await db.schema.dropTable('shard_fences').execute();
  await db.schema.dropTable('project_moves').execute();
  await db.schema.alterTable('projects').dropColumn('shard').execute();
  await db.schema.dropTable('shards').execute();
}
