import type { Kysely, Selectable } from 'kysely';
import type { ContentInfo } from '../../../domain/content-info.js';
import type { StoredFile } from '../../../domain/file.js';
import type { FilesRepository } from '../../../ports/repositories.js';
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
    });
  }

  async findForProject(projectId: string, uuid: string): Promise<StoredFile | null> {
    const row = await this.db
      .selectFrom('files')
      .selectAll()
      .where('uuid', '=', uuid)
      .where('project_id', '=', projectId)
      .where('datetime_removed', 'is', null)
      .executeTakeFirst();
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

  async findManyForProject(projectId: string, uuids: string[]): Promise<StoredFile[]> {
    if (uuids.length === 0) return [];
    const found: StoredFile[] = [];
    // Chunked so a 1000-file group stays under SQLite's bound-parameter limit.
    for (let i = 0; i < uuids.length; i += 500) {
      const rows = await this.db
        .selectFrom('files')
        .selectAll()
        .where('project_id', '=', projectId)
        .where('uuid', 'in', uuids.slice(i, i + 500))
        .where('datetime_removed', 'is', null)
        .execute();
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
    await this.db.deleteFrom('files').where('uuid', '=', uuid).execute();
  }
}
