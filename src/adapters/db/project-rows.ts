import { createHash } from 'node:crypto';
import { sql, type Kysely, type RawBuilder } from 'kysely';
import type { ProjectRowCopier, StoredOriginal, TableComparison } from '../../ports/shards.js';
import { isPostgres } from './dialect.js';
import { FENCED_TABLES } from './migrations/0015-shards.js';
import { toFile } from './repositories/files.repository.js';
import type { Database } from './schema.js';
import { indexFiles, unindexFiles } from './search/search-index.js';
import type { KyselyShardSet } from './shard-set.js';

/**
 * One table of a project's rows: its key, and how its rows are found (by `project_id`, or through a
 * parent that has one). Parents come before their children: rows are written in this order and
 * deleted in reverse. The search index is not copied: it is rebuilt from the files.
 */
interface ProjectTable {
  name: keyof Database & string;
  key: readonly string[];
  parent?: { table: string; column: string; key: string };
}

const PROJECT_TABLES: readonly ProjectTable[] = [
  { name: 'files', key: ['uuid'] },
  { name: 'multipart_uploads', key: ['uuid'] },
  { name: 'multipart_parts', key: ['upload_uuid', 'part_number'], parent: { table: 'multipart_uploads', column: 'upload_uuid', key: 'uuid' } },
  { name: 'from_url_tasks', key: ['token'] },
  { name: 'groups', key: ['id'] },
  { name: 'group_files', key: ['group_id', 'position'], parent: { table: 'groups', column: 'group_id', key: 'id' } },
  { name: 'project_file_counts', key: ['project_id'] },
  { name: 'webhooks', key: ['id'] },
  { name: 'webhook_deliveries', key: ['id'] },
  { name: 'webhook_attempts', key: ['id'], parent: { table: 'webhook_deliveries', column: 'delivery_id', key: 'id' } },
  { name: 'event_outbox', key: ['id'] },
  { name: 'usage_daily', key: ['project_id', 'day'] },
  { name: 'addon_requests', key: ['request_id'] },
  { name: 'video_conversions', key: ['token'] },
  { name: 'document_conversions', key: ['token'] },
  { name: 'image_analysis', key: ['file_uuid'] },
  { name: 'face_detections', key: ['file_uuid'] },
];

// Every fenced table is copied (and nothing the fence does not cover is left behind).
for (const table of FENCED_TABLES) {
  if (!PROJECT_TABLES.some((t) => t.name === table)) throw new Error(`project-rows: table ${table} is fenced but not copied`);
}

/** Rows read or written per statement: bounded memory, and within both engines' parameter limits. */
const PAGE = 200;

type Row = Record<string, unknown>;

function aborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw signal.reason instanceof Error ? signal.reason : new Error('The move was interrupted.');
}

/** Rows of the project in this table, after `after` (a key), in key order. */
function pageQuery(table: ProjectTable, projectId: string, after: unknown[] | null): RawBuilder<Row> {
  const keys = sql.join(table.key.map((column) => sql.ref(`t.${column}`)));
  const owned = table.parent
    ? sql`${sql.ref(`t.${table.parent.column}`)} in (select ${sql.ref(table.parent.key)} from ${sql.table(table.parent.table)} where project_id = ${projectId})`
    : sql`t.project_id = ${projectId}`;
  const position = after === null ? sql`` : sql` and (${keys}) > (${sql.join(after)})`;
  return sql<Row>`select t.* from ${sql.table(table.name)} t where ${owned}${position} order by ${keys} limit ${PAGE}`;
}

function keyOf(table: ProjectTable, row: Row): unknown[] {
  return table.key.map((column) => row[column]);
}

function keyText(table: ProjectTable, row: Row): string {
  return JSON.stringify(keyOf(table, row));
}

/** Rows of `db` with these keys (a page of the other side's). */
async function rowsWithKeys(db: Kysely<Database>, table: ProjectTable, keys: unknown[][]): Promise<Map<string, Row>> {
  if (keys.length === 0) return new Map();
  const columns = sql.join(table.key.map((column) => sql.ref(column)));
  const tuples = sql.join(keys.map((key) => sql`(${sql.join(key)})`));
  const { rows } = await sql<Row>`select * from ${sql.table(table.name)} where (${columns}) in (${tuples})`.execute(db);
  return new Map(rows.map((row) => [keyText(table, row), row]));
}

async function upsert(db: Kysely<Database>, table: ProjectTable, rows: Row[]): Promise<void> {
  if (rows.length === 0) return;
  const columns = Object.keys(rows[0]!);
  const values = sql.join(rows.map((row) => sql`(${sql.join(columns.map((column) => row[column]))})`));
  const updates = columns.filter((column) => !table.key.includes(column)).map((column) => sql`${sql.ref(column)} = excluded.${sql.ref(column)}`);
  const conflict = updates.length > 0 ? sql`do update set ${sql.join(updates)}` : sql`do nothing`;
  await sql`insert into ${sql.table(table.name)} (${sql.join(columns.map((column) => sql.ref(column)))}) values ${values} on conflict (${sql.join(table.key.map((column) => sql.ref(column)))}) ${conflict}`.execute(db);
}

/**
 * Upserts a page; while the project keeps writing, a row can appear after its parent's table was
 * copied (a new file's analysis), and fails its foreign key. Such rows are left for the next sync:
 * the one with writes paused copies the parent first, and the comparison after it proves nothing
 * was left out.
 */
async function upsertPresentParents(db: Kysely<Database>, table: ProjectTable, rows: Row[]): Promise<void> {
  try {
    await upsert(db, table, rows);
  } catch (error) {
    if (!isForeignKeyViolation(error)) throw error;
    for (const row of rows) {
      await upsert(db, table, [row]).catch((rowError: unknown) => {
        if (!isForeignKeyViolation(rowError)) throw rowError;
      });
    }
  }
}

async function deleteKeys(db: Kysely<Database>, table: ProjectTable, keys: unknown[][]): Promise<void> {
  if (keys.length === 0) return;
  const columns = sql.join(table.key.map((column) => sql.ref(column)));
  await sql`delete from ${sql.table(table.name)} where (${columns}) in (${sql.join(keys.map((key) => sql`(${sql.join(key)})`))})`.execute(db);
}

/** Pages through the project's rows of one table, in key order. */
async function* pages(db: Kysely<Database>, table: ProjectTable, projectId: string, signal?: AbortSignal): AsyncGenerator<Row[]> {
  let after: unknown[] | null = null;
  for (;;) {
    aborted(signal);
    const { rows } = await pageQuery(table, projectId, after).execute(db);
    if (rows.length === 0) return;
    yield rows;
    if (rows.length < PAGE) return;
    after = keyOf(table, rows.at(-1)!);
  }
}

const same = (a: Row, b: Row): boolean => JSON.stringify(a) === JSON.stringify(b);

/** A row whose parent the target lacks: PostgreSQL's 23503, SQLite's SQLITE_CONSTRAINT_FOREIGNKEY. */
function isForeignKeyViolation(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return code === '23503' || code === 'SQLITE_CONSTRAINT_FOREIGNKEY';
}

/**
 * Copies, compares and removes a project's rows between two shard databases of one engine. Every
 * operation is idempotent, so a move interrupted anywhere runs again from its last recorded phase.
 */
export class KyselyProjectRowCopier implements ProjectRowCopier {
  constructor(private readonly shards: KyselyShardSet) {}

  async sync(projectId: string, from: string, to: string, options: { signal?: AbortSignal; onRows?: (table: string, rows: number) => void } = {}): Promise<void> {
    const source = await this.db(from);
    const target = await this.db(to);
    await this.copyRows(projectId, source, target, options);
    for (const table of [...PROJECT_TABLES].reverse()) {
      for await (const page of pages(target, table, projectId, options.signal)) {
        const kept = await rowsWithKeys(source, table, page.map((row) => keyOf(table, row)));
        await deleteKeys(target, table, page.filter((row) => !kept.has(keyText(table, row))).map((row) => keyOf(table, row)));
      }
    }
    await this.reindex(projectId, target, options.signal);
  }

  /** Parents first (their children's foreign keys need them); stale rows go afterwards, children first. */
  private async copyRows(projectId: string, source: Kysely<Database>, target: Kysely<Database>, options: { signal?: AbortSignal; onRows?: (table: string, rows: number) => void }): Promise<void> {
    for (const table of PROJECT_TABLES) {
      let copied = 0;
      for await (const page of pages(source, table, projectId, options.signal)) {
        const present = await rowsWithKeys(target, table, page.map((row) => keyOf(table, row)));
        const changed = page.filter((row) => {
          const there = present.get(keyText(table, row));
          return there === undefined || !same(there, row);
        });
        await upsertPresentParents(target, table, changed);
        copied += page.length;
        options.onRows?.(table.name, copied);
      }
    }
  }

  async compare(projectId: string, from: string, to: string): Promise<TableComparison[]> {
    const source = await this.db(from);
    const target = await this.db(to);
    const result: TableComparison[] = [];
    for (const table of PROJECT_TABLES) {
      const [a, b] = await Promise.all([this.digest(source, table, projectId), this.digest(target, table, projectId)]);
      result.push({ table: table.name, sourceRows: a.rows, targetRows: b.rows, sourceChecksum: a.checksum, targetChecksum: b.checksum });
    }
    return result;
  }

  async remove(projectId: string, shard: string, options: { signal?: AbortSignal } = {}): Promise<void> {
    const db = await this.db(shard);
    for (const table of [...PROJECT_TABLES].reverse()) {
      for (;;) {
        aborted(options.signal);
        const { rows } = await pageQuery(table, projectId, null).execute(db);
        if (rows.length === 0) break;
        if (table.name === 'files') await unindexFiles(db, rows.map((row) => String(row.uuid)));
        await deleteKeys(db, table, rows.map((row) => keyOf(table, row)));
      }
    }
    await this.forgetVocabulary(db, projectId);
  }

  async fence(projectId: string, shard: string, state: 'paused' | 'departed'): Promise<void> {
    const db = await this.db(shard);
    await db
      .insertInto('shard_fences')
      .values({ project_id: projectId, state, created_at: new Date().toISOString() })
      .onConflict((oc) => oc.column('project_id').doUpdateSet({ state }))
      .execute();
    if (isPostgres(db)) {
      // A writer that passed the fence's check before it committed still holds its row locks: SHARE
      // waits for every such transaction to end, so nothing it writes can land after the sync.
      const tables = sql.join(PROJECT_TABLES.map((table) => sql.table(table.name)));
      await db.transaction().execute(async (trx) => {
        await sql`lock table ${tables} in share mode`.execute(trx);
      });
    }
    // SQLite: the fence's own write waited for the database's one writer, and every later write sees it.
  }

  async unfence(projectId: string, shard: string): Promise<void> {
    const db = await this.db(shard);
    await db.deleteFrom('shard_fences').where('project_id', '=', projectId).execute();
  }

  async dropAnchor(projectId: string, shard: string): Promise<void> {
    if (shard === 'main') return;
    const db = await this.db(shard);
    await db.deleteFrom('projects').where('id', '=', projectId).execute();
  }

  async originals(projectId: string, shard: string, after: string | null, limit: number): Promise<StoredOriginal[]> {
    const db = await this.db(shard);
    let query = db.selectFrom('files').select(['uuid', 'blob_key', 'size']).where('project_id', '=', projectId);
    if (after !== null) query = query.where('uuid', '>', after);
    const rows = await query.orderBy('uuid').limit(limit).execute();
    return rows.map((row) => ({ uuid: row.uuid, key: row.blob_key, size: Number(row.size) }));
  }

  private async db(shard: string): Promise<Kysely<Database>> {
    return (await this.shards.openedShard(shard)).store.db;
  }

  /** The target's search index of the project, rebuilt from its files. */
  private async reindex(projectId: string, db: Kysely<Database>, signal?: AbortSignal): Promise<void> {
    await this.forgetVocabulary(db, projectId);
    const files = PROJECT_TABLES[0]!;
    for await (const page of pages(db, files, projectId, signal)) {
      await unindexFiles(db, page.map((row) => String(row.uuid)));
      await indexFiles(db, page.map((row) => toFile(row as Parameters<typeof toFile>[0])));
    }
  }

  private async forgetVocabulary(db: Kysely<Database>, projectId: string): Promise<void> {
    await db.deleteFrom('file_search_vocabulary').where('project_id', '=', projectId).execute();
    if (!isPostgres(db)) await db.deleteFrom('file_search_trigrams').where('project_id', '=', projectId).execute();
  }

  /**
   * Rows, and the XOR of each row's SHA-256: equal on both shards when the copy is whole, whatever
   * order each database pages in (two databases may sort text by different collations).
   */
  private async digest(db: Kysely<Database>, table: ProjectTable, projectId: string): Promise<{ rows: number; checksum: string }> {
    const sum = Buffer.alloc(32);
    let rows = 0;
    for await (const page of pages(db, table, projectId)) {
      for (const row of page) {
        const digest = createHash('sha256').update(JSON.stringify(row)).digest();
        for (let i = 0; i < 32; i++) sum[i]! ^= digest[i]!;
      }
      rows += page.length;
    }
    return { rows, checksum: sum.toString('hex') };
  }
}
