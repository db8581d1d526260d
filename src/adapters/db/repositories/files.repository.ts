import { type Kysely, type Selectable, sql } from 'kysely';
import { SCAN_STATUSES, type AddonName, type AppData, type AppDataEntry, type ScanStatus } from '../../../domain/addons.js';
import type { ContentInfo } from '../../../domain/content-info.js';
import type { StoredFile } from '../../../domain/file.js';
import type { FileInfoPatch, FileListQuery, FilesRepository } from '../../../ports/repositories.js';
import { atomically } from '../atomically.js';
import { keyWithinRegion } from '../../../domain/blob-layout.js';
import { createAppError } from '../../../errors.js';
import { fromFlag, readJson, toFlag } from '../json-columns.js';
import type { Database, FilesTable } from '../schema.js';
import { indexFiles, markStored, unindexFiles } from '../search/search-index.js';

/** A file as its row holds it; `blobRoot` is the root of the keys of its shard's region. */
export function toFile(row: Selectable<FilesTable>, blobRoot = ''): StoredFile {
  return {
    uuid: row.uuid,
    projectId: row.project_id,
    size: Number(row.size),
    mimeType: row.mime_type,
    isImage: fromFlag(row.is_image),
    originalFilename: row.original_filename,
    filename: row.filename,
    sha256: row.sha256,
    blobKey: blobRoot + row.blob_key,
    contentInfo: readJson<ContentInfo | null>(row.content_info, null),
    metadata: readJson<Record<string, string>>(row.metadata, {}),
    tags: readJson<string[]>(row.tags, []),
    appdata: readAppData(row.appdata),
    scanStatus: readScanStatus(row.scan_status),
    source: row.source,
    sourceUrl: row.source_url,
    datetimeUploaded: row.datetime_uploaded,
    datetimeStored: row.datetime_stored,
    datetimeRemoved: row.datetime_removed,
    expiresAt: row.expires_at,
  };
}

/** A corrupt or non-object value reads as no application data. */
function readAppData(raw: string | null): AppData {
  const value = readJson<unknown>(raw, {});
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? value : {};
}

function readScanStatus(raw: string | null): ScanStatus | null {
  return SCAN_STATUSES.find((status) => status === raw) ?? null;
}

/** Retries of an appdata write that lost a race to another write of the same file. */
const APPDATA_WRITE_ATTEMPTS = 5;

function toRow(file: StoredFile, blobRoot: string): FilesTable {
  return {
    uuid: file.uuid,
    project_id: file.projectId,
    size: file.size,
    mime_type: file.mimeType,
    is_image: toFlag(file.isImage),
    original_filename: file.originalFilename,
    filename: file.filename,
    sha256: file.sha256,
    blob_key: storedBlobKey(blobRoot, file.blobKey),
    content_info: file.contentInfo ? JSON.stringify(file.contentInfo) : null,
    metadata: JSON.stringify(file.metadata),
    tags: JSON.stringify(file.tags),
    appdata: Object.keys(file.appdata).length > 0 ? JSON.stringify(file.appdata) : null,
    scan_status: file.scanStatus,
    source: file.source,
    source_url: file.sourceUrl,
    datetime_uploaded: file.datetimeUploaded,
    datetime_stored: file.datetimeStored,
    datetime_removed: file.datetimeRemoved,
    expires_at: file.expiresAt,
  };
}

/**
 * A key relative to the shard's region. A key of another region means the project moved between
 * regions while its file was uploading: the upload is refused, to be sent again.
 */
export function storedBlobKey(blobRoot: string, key: string): string {
  const within = keyWithinRegion(blobRoot, key);
  if (within === null) throw createAppError('PROJECT_MOVING', 503, 'The project moved to another region while this file was uploading: upload it again.');
  return within;
}

export class KyselyFilesRepository implements FilesRepository {
  constructor(
    private readonly db: Kysely<Database>,
    /** The root of the keys of this shard's region (empty: the default region). */
    private readonly blobRoot = '',
  ) {}

  private readonly toFile = (row: Selectable<FilesTable>): StoredFile => toFile(row, this.blobRoot);

  async insertMany(files: StoredFile[]): Promise<void> {
    if (files.length === 0) return;
    // Chunked so one statement stays under SQLite's bound-parameter limit; one transaction makes them all visible at once.
    await atomically(this.db, async (db) => {
      for (let i = 0; i < files.length; i += 50) await db.insertInto('files').values(files.slice(i, i + 50).map((file) => toRow(file, this.blobRoot))).execute();
      await indexFiles(db, files);
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
    return rows.map(this.toFile);
  }

  async countMatching(projectId: string, query: Pick<FileListQuery, 'stored' | 'removed' | 'filters'>): Promise<number> {
    const row = await this.matching(projectId, query).clearSelect().select(sql<number>`count(*)`.as('n')).executeTakeFirst();
    return Number(row?.n ?? 0);
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

  async setStored(projectId: string, uuids: string[], at: string): Promise<StoredFile[]> {
    if (uuids.length === 0) return [];
    return atomically(this.db, async (db) => {
      const rows = await db
        .updateTable('files')
        .set({ datetime_stored: at, expires_at: null })
        .where('project_id', '=', projectId)
        .where('uuid', 'in', uuids)
        .where('datetime_removed', 'is', null)
        .where('datetime_stored', 'is', null)
        .returningAll()
        .execute();
      await markStored(db, rows.map((row) => row.uuid));
      return rows.map(this.toFile);
    });
  }

  async setRemoved(projectId: string, uuids: string[], at: string): Promise<StoredFile[]> {
    if (uuids.length === 0) return [];
    return atomically(this.db, async (db) => {
      const rows = await db
        .updateTable('files')
        .set({ datetime_removed: at, expires_at: null })
        .where('project_id', '=', projectId)
        .where('uuid', 'in', uuids)
        .where('datetime_removed', 'is', null)
        .returningAll()
        .execute();
      // Search finds live files only.
      await unindexFiles(db, rows.map((row) => row.uuid));
      return rows.map(this.toFile);
    });
  }

  async updateInfo(projectId: string, uuid: string, patch: FileInfoPatch, expected: FileInfoPatch = {}): Promise<StoredFile | null> {
    const values: Partial<Pick<FilesTable, 'metadata' | 'tags'>> = {};
    if (patch.metadata !== undefined) values.metadata = JSON.stringify(patch.metadata);
    if (patch.tags !== undefined) values.tags = JSON.stringify(patch.tags);
    if (Object.keys(values).length === 0) return this.findForProject(projectId, uuid);
    return atomically(this.db, async (db) => {
      let update = db
        .updateTable('files')
        .set(values)
        .where('project_id', '=', projectId)
        .where('uuid', '=', uuid)
        .where('datetime_removed', 'is', null);
      // Every write of these columns is JSON.stringify of the value, so the text read back compares exactly.
      if (expected.metadata !== undefined) update = update.where('metadata', '=', JSON.stringify(expected.metadata));
      if (expected.tags !== undefined) update = update.where('tags', '=', JSON.stringify(expected.tags));
      const row = await update.returningAll().executeTakeFirst();
      if (!row) return null;
      const file = this.toFile(row);
      // Metadata and tags are searched: the index is rewritten with the change.
      await unindexFiles(db, [file.uuid]);
      await indexFiles(db, [file]);
      return file;
    });
  }

  async writeAppData(
    projectId: string,
    uuid: string,
    addon: AddonName,
    entry: AppDataEntry,
    scanStatus: ScanStatus | null,
  ): Promise<{ before: StoredFile; after: StoredFile } | null> {
    for (let attempt = 0; attempt < APPDATA_WRITE_ATTEMPTS; attempt += 1) {
      const row = await this.db
        .selectFrom('files')
        .selectAll()
        .where('project_id', '=', projectId)
        .where('uuid', '=', uuid)
        .where('datetime_removed', 'is', null)
        .executeTakeFirst();
      if (!row) return null;
      const before = this.toFile(row);
      const next = JSON.stringify({ ...before.appdata, [addon]: entry });
      // Compare-and-set on the text read: a concurrent write of another add-on makes this match nothing, and the loop merges again.
      const updated = await this.db
        .updateTable('files')
        .set({ appdata: next, scan_status: scanStatus })
        .where('project_id', '=', projectId)
        .where('uuid', '=', uuid)
        .where('datetime_removed', 'is', null)
        .where(sql<string>`coalesce(appdata, '')`, '=', row.appdata ?? '')
        .returningAll()
        .executeTakeFirst();
      if (updated) return { before, after: this.toFile(updated) };
    }
    throw new Error(`The appdata of file ${uuid} kept changing under ${APPDATA_WRITE_ATTEMPTS} writes in a row.`);
  }

  async moveScanStatus(projectId: string, uuid: string, from: ScanStatus, to: ScanStatus): Promise<StoredFile | null> {
    const row = await this.db
      .updateTable('files')
      .set({ scan_status: to })
      .where('project_id', '=', projectId)
      .where('uuid', '=', uuid)
      .where('scan_status', '=', from)
      .returningAll()
      .executeTakeFirst();
    return row ? this.toFile(row) : null;
  }

  async findForProject(projectId: string, uuid: string, options: { includeRemoved?: boolean } = {}): Promise<StoredFile | null> {
    let select = this.db.selectFrom('files').selectAll().where('uuid', '=', uuid).where('project_id', '=', projectId);
    if (!options.includeRemoved) select = select.where('datetime_removed', 'is', null);
    const row = await select.executeTakeFirst();
    return row ? this.toFile(row) : null;
  }

  async findLive(uuid: string): Promise<StoredFile | null> {
    const row = await this.db
      .selectFrom('files')
      .selectAll()
      .where('uuid', '=', uuid)
      .where('datetime_removed', 'is', null)
      .executeTakeFirst();
    return row ? this.toFile(row) : null;
  }

  async findManyForProject(projectId: string, uuids: string[], options: { includeRemoved?: boolean } = {}): Promise<StoredFile[]> {
    if (uuids.length === 0) return [];
    const found: StoredFile[] = [];
    // Chunked so a 1000-file group stays under SQLite's bound-parameter limit.
    for (let i = 0; i < uuids.length; i += 500) {
      let select = this.db.selectFrom('files').selectAll().where('project_id', '=', projectId).where('uuid', 'in', uuids.slice(i, i + 500));
      if (!options.includeRemoved) select = select.where('datetime_removed', 'is', null);
      const rows = await select.execute();
      found.push(...rows.map(this.toFile));
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
    return row ? this.toFile(row) : null;
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
    return rows.map(this.toFile);
  }

  async deleteRow(uuid: string): Promise<StoredFile | null> {
    // Group memberships stay: a group is immutable and reports a removed member as null.
    return atomically(this.db, async (db) => {
      await unindexFiles(db, [uuid]);
      const row = await db.deleteFrom('files').where('uuid', '=', uuid).returningAll().executeTakeFirst();
      return row ? this.toFile(row) : null;
    });
  }
}

/** Escapes LIKE's wildcards (with backslash, named in each ESCAPE clause). */
function escapeLike(text: string): string {
  return text.replace(/[\\%_]/g, (char) => `\\${char}`);
}
