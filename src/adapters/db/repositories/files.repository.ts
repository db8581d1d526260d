import { randomUUID } from 'node:crypto';
import { type Kysely, type Selectable, type Transaction, sql } from 'kysely';
import type { ContentInfo } from '../../../domain/content-info.js';
import type { StoredFile } from '../../../domain/file.js';
import type { WebhookEvent } from '../../../domain/webhook.js';
import type { FileCounts, FileListQuery, FilesRepository } from '../../../ports/repositories.js';
import { fromFlag, readJson, toFlag } from '../json-columns.js';
import type { Database, FilesTable } from '../schema.js';

function toFile(row: Selectable<FilesTable>): StoredFile {
  return {
    uuid: row.uuid,
    projectId: row.project_id,
    size: Number(row.size),
    mimeType: row.mime_type,
    isImage: fromFlag(row.is_image),
    originalFilename: row.original_filename,
    filename: row.filename,
    sha256: row.sha256,
    blobKey: row.blob_key,
    contentInfo: readJson<ContentInfo | null>(row.content_info, null),
    metadata: readJson<Record<string, string>>(row.metadata, {}),
    tags: readJson<string[]>(row.tags, []),
    source: row.source,
    sourceUrl: row.source_url,
    datetimeUploaded: row.datetime_uploaded,
    datetimeStored: row.datetime_stored,
    datetimeRemoved: row.datetime_removed,
    expiresAt: row.expires_at,
  };
}

function toRow(file: StoredFile): FilesTable {
  return {
    uuid: file.uuid,
    project_id: file.projectId,
    size: file.size,
    mime_type: file.mimeType,
    is_image: toFlag(file.isImage),
    original_filename: file.originalFilename,
    filename: file.filename,
    sha256: file.sha256,
    blob_key: file.blobKey,
    content_info: file.contentInfo ? JSON.stringify(file.contentInfo) : null,
    metadata: JSON.stringify(file.metadata),
    tags: JSON.stringify(file.tags),
    source: file.source,
    source_url: file.sourceUrl,
    datetime_uploaded: file.datetimeUploaded,
    datetime_stored: file.datetimeStored,
    datetime_removed: file.datetimeRemoved,
    expires_at: file.expiresAt,
  };
}

export class KyselyFilesRepository implements FilesRepository {
  constructor(private readonly db: Kysely<Database>) {}

  async insertMany(files: StoredFile[]): Promise<void> {
    if (files.length === 0) return;
    await this.db.transaction().execute(async (trx) => {
      for (let i = 0; i < files.length; i += 50) {
        await trx.insertInto('files').values(files.slice(i, i + 50).map(toRow)).execute();
      }
      const byProject = new Map<string, FileCounts>();
      for (const file of files) {
        const delta = byProject.get(file.projectId) ?? { stored: 0, unstored: 0, removed: 0 };
        if (file.datetimeStored) delta.stored += 1;
        else delta.unstored += 1;
        byProject.set(file.projectId, delta);
      }
      for (const [projectId, delta] of byProject) await addCounts(trx, projectId, delta);
      const events = files.flatMap((file) => [
        outboxRow(file, 'file.uploaded', file.datetimeUploaded),
        ...(file.datetimeStored ? [outboxRow(file, 'file.stored', file.datetimeStored)] : []),
      ]);
      for (let i = 0; i < events.length; i += 100) await trx.insertInto('event_outbox').values(events.slice(i, i + 100)).execute();
    });
  }

  async list(projectId: string, query: FileListQuery): Promise<StoredFile[]> {
    const descending = query.order === 'desc';
    let select = this.matching(projectId, query);
    if (query.after) {
      const { datetime, uuid } = query.after;
      const op = descending ? '<' : '>';
      select =
        uuid === null
          ? select.where('datetime_uploaded', descending ? '<=' : '>=', datetime)
          : select
              // The redundant bound lets the index start at the cursor instead of filtering every row before it.
              .where('datetime_uploaded', descending ? '<=' : '>=', datetime)
              .where((eb) => eb.or([eb('datetime_uploaded', op, datetime), eb.and([eb('datetime_uploaded', '=', datetime), eb('uuid', op, uuid)])]));
    }
    const direction = descending ? 'desc' : 'asc';
    const rows = await select.orderBy('datetime_uploaded', direction).orderBy('uuid', direction).limit(query.limit).execute();
    return rows.map(toFile);
  }

  async countMatching(projectId: string, query: Pick<FileListQuery, 'stored' | 'removed' | 'filters'>): Promise<number> {
    const row = await this.matching(projectId, query).clearSelect().select(sql<number>`count(*)`.as('n')).executeTakeFirst();
    return Number(row?.n ?? 0);
  }

  updateTags(projectId: string, uuid: string, tags: string[], previous: string[], at: string): Promise<StoredFile | null> {
    return this.updateInfo(projectId, uuid, { tags: JSON.stringify(tags) }, { tags: previous }, at);
  }

  /** The project's files that pass a query's state and search filters. */
  private matching(projectId: string, query: Pick<FileListQuery, 'stored' | 'removed' | 'filters'>) {
    let select = this.db.selectFrom('files').selectAll().where('project_id', '=', projectId);
    select = query.removed ? select.where('datetime_removed', 'is not', null) : select.where('datetime_removed', 'is', null);
    if (query.stored === true) select = select.where('datetime_stored', 'is not', null);
    if (query.stored === false) select = select.where('datetime_stored', 'is', null);
    const filters = query.filters;
    if (!filters) return select;
    if (filters.before) select = select.where('datetime_uploaded', '<', filters.before);
    if (filters.since) select = select.where('datetime_uploaded', '>=', filters.since);
    if (filters.text) {
      const pattern = `%${escapeLike(filters.text.toLowerCase())}%`;
      // JSON text of metadata and tags is searched as written: keys, values and tags all match.
      select = select.where((eb) =>
        eb.or([
          eb(sql`lower(original_filename)`, 'like', sql`${pattern} escape '\\'`),
          eb(sql`lower(metadata)`, 'like', sql`${pattern} escape '\\'`),
          eb(sql`lower(tags)`, 'like', sql`${pattern} escape '\\'`),
        ]),
      );
    }
    if (filters.tag) {
      // Tags are stored as a JSON array: the quoted tag matches one element exactly.
      select = select.where(sql`tags`, 'like', sql`${`%${escapeLike(JSON.stringify(filters.tag))}%`} escape '\\'`);
    }
    if (filters.mimeTypes && filters.mimeTypes.length > 0) {
      const types = filters.mimeTypes;
      select = select.where((eb) =>
        eb.or(types.map((type) => (type.endsWith('/*') ? eb('mime_type', 'like', sql<string>`${`${escapeLike(type.slice(0, -1))}%`} escape '\\'`) : eb('mime_type', '=', type)))),
      );
    }
    return select;
  }

  async counts(projectId: string): Promise<FileCounts> {
    const row = await this.db.selectFrom('project_file_counts').selectAll().where('project_id', '=', projectId).executeTakeFirst();
    return row ? { stored: Number(row.stored), unstored: Number(row.unstored), removed: Number(row.removed) } : { stored: 0, unstored: 0, removed: 0 };
  }

  async markStored(projectId: string, uuids: string[], at: string): Promise<StoredFile[]> {
    if (uuids.length === 0) return [];
    return this.db.transaction().execute(async (trx) => {
      const rows = await trx
        .updateTable('files')
        .set({ datetime_stored: at, expires_at: null })
        .where('project_id', '=', projectId)
        .where('uuid', 'in', uuids)
        .where('datetime_removed', 'is', null)
        .where('datetime_stored', 'is', null)
        .returningAll()
        .execute();
      if (rows.length > 0) await addCounts(trx, projectId, { stored: rows.length, unstored: -rows.length, removed: 0 });
      const files = rows.map(toFile);
      if (files.length > 0) await trx.insertInto('event_outbox').values(files.map((file) => outboxRow(file, 'file.stored', at))).execute();
      return files;
    });
  }

  async markRemoved(projectId: string, uuids: string[], at: string): Promise<StoredFile[]> {
    if (uuids.length === 0) return [];
    return this.db.transaction().execute(async (trx) => {
      const rows = await trx
        .updateTable('files')
        .set({ datetime_removed: at, expires_at: null })
        .where('project_id', '=', projectId)
        .where('uuid', 'in', uuids)
        .where('datetime_removed', 'is', null)
        .returningAll()
        .execute();
      const stored = rows.filter((row) => row.datetime_stored !== null).length;
      if (rows.length > 0) await addCounts(trx, projectId, { stored: -stored, unstored: -(rows.length - stored), removed: rows.length });
      const files = rows.map(toFile);
      if (files.length > 0) await trx.insertInto('event_outbox').values(files.map((file) => outboxRow(file, 'file.deleted', at))).execute();
      return files;
    });
  }

  updateMetadata(projectId: string, uuid: string, metadata: Record<string, string>, previous: Record<string, string>, at: string): Promise<StoredFile | null> {
    return this.updateInfo(projectId, uuid, { metadata: JSON.stringify(metadata) }, { metadata: previous }, at);
  }

  /** Changes a live file's metadata or tags and records `file.info_updated` with what they were, in one transaction. */
  private updateInfo(
    projectId: string,
    uuid: string,
    values: Partial<Pick<FilesTable, 'metadata' | 'tags'>>,
    previousValues: Record<string, unknown>,
    at: string,
  ): Promise<StoredFile | null> {
    return this.db.transaction().execute(async (trx) => {
      const row = await trx
        .updateTable('files')
        .set(values)
        .where('project_id', '=', projectId)
        .where('uuid', '=', uuid)
        .where('datetime_removed', 'is', null)
        .returningAll()
        .executeTakeFirst();
      if (!row) return null;
      const file = toFile(row);
      await trx.insertInto('event_outbox').values(outboxRow(file, 'file.info_updated', at, previousValues)).execute();
      return file;
    });
  }

  async findForProject(projectId: string, uuid: string, options: { includeRemoved?: boolean } = {}): Promise<StoredFile | null> {
    let select = this.db.selectFrom('files').selectAll().where('uuid', '=', uuid).where('project_id', '=', projectId);
    if (!options.includeRemoved) select = select.where('datetime_removed', 'is', null);
    const row = await select.executeTakeFirst();
    return row ? toFile(row) : null;
  }

  async findLive(uuid: string): Promise<StoredFile | null> {
    const row = await this.db
      .selectFrom('files')
      .selectAll()
      .where('uuid', '=', uuid)
      .where('datetime_removed', 'is', null)
      .executeTakeFirst();
    return row ? toFile(row) : null;
  }

  async findManyForProject(projectId: string, uuids: string[], options: { includeRemoved?: boolean } = {}): Promise<StoredFile[]> {
    if (uuids.length === 0) return [];
    const found: StoredFile[] = [];
    // Chunked so a 1000-file group stays under SQLite's bound-parameter limit.
    for (let i = 0; i < uuids.length; i += 500) {
      let select = this.db.selectFrom('files').selectAll().where('project_id', '=', projectId).where('uuid', 'in', uuids.slice(i, i + 500));
      if (!options.includeRemoved) select = select.where('datetime_removed', 'is', null);
      const rows = await select.execute();
      found.push(...rows.map(toFile));
    }
    return found;
  }

  async findBySourceUrl(projectId: string, sourceUrl: string): Promise<StoredFile | null> {
    const row = await this.db
      .selectFrom('files')
      .selectAll()
      .where('project_id', '=', projectId)
      .where('source_url', '=', sourceUrl)
      .where('datetime_removed', 'is', null)
      .orderBy('datetime_uploaded', 'desc')
      .executeTakeFirst();
    return row ? toFile(row) : null;
  }

  async listExpired(now: string, limit: number): Promise<StoredFile[]> {
    const rows = await this.db
      .selectFrom('files')
      .selectAll()
      .where('expires_at', 'is not', null)
      .where('expires_at', '<=', now)
      .where('datetime_stored', 'is', null)
      .orderBy('expires_at')
      .limit(limit)
      .execute();
    return rows.map(toFile);
  }

  async deleteRow(uuid: string): Promise<void> {
    // Group memberships stay: a group is immutable and reports a removed member as null.
    await this.db.transaction().execute(async (trx) => {
      const row = await trx.deleteFrom('files').where('uuid', '=', uuid).returning(['project_id', 'datetime_stored', 'datetime_removed']).executeTakeFirst();
      if (!row) return;
      const delta = { stored: 0, unstored: 0, removed: 0 };
      if (row.datetime_removed !== null) delta.removed = -1;
      else if (row.datetime_stored !== null) delta.stored = -1;
      else delta.unstored = -1;
      await addCounts(trx, row.project_id, delta);
    });
  }
}

function outboxRow(file: StoredFile, event: WebhookEvent, at: string, previousValues?: Record<string, unknown>) {
  return {
    id: randomUUID(),
    project_id: file.projectId,
    event,
    file_uuid: file.uuid,
    previous_values: previousValues ? JSON.stringify(previousValues) : null,
    created_at: at,
  };
}

/** Keeps a project's counters in step with its files, inside the transaction that changed them. */
/** Escapes LIKE's wildcards (with backslash, named in each ESCAPE clause). */
function escapeLike(text: string): string {
  return text.replace(/[\\%_]/g, (char) => `\\${char}`);
}

async function addCounts(trx: Transaction<Database>, projectId: string, delta: FileCounts): Promise<void> {
  await trx
    .insertInto('project_file_counts')
    .values({ project_id: projectId, stored: Math.max(0, delta.stored), unstored: Math.max(0, delta.unstored), removed: Math.max(0, delta.removed) })
    .onConflict((oc) =>
      oc.column('project_id').doUpdateSet({
        stored: sql<number>`project_file_counts.stored + ${delta.stored}`,
        unstored: sql<number>`project_file_counts.unstored + ${delta.unstored}`,
        removed: sql<number>`project_file_counts.removed + ${delta.removed}`,
      }),
    )
    .execute();
}
