import type { Kysely, Selectable } from 'kysely';
import type { MultipartPart, MultipartRepository, MultipartUpload } from '../../../ports/repositories.js';
import { fromFlag, readJson, toFlag } from '../json-columns.js';
import type { Database, MultipartUploadsTable } from '../schema.js';
import { storedBlobKey } from './files.repository.js';

function toUpload(row: Selectable<MultipartUploadsTable>, blobRoot: string): MultipartUpload {
  return {
    uuid: row.uuid,
    projectId: row.project_id,
    blobKey: blobRoot + row.blob_key,
    blobUploadId: row.blob_upload_id,
    partToken: row.part_token,
    size: Number(row.size),
    partSize: Number(row.part_size),
    partCount: Number(row.part_count),
    originalFilename: row.original_filename,
    store: fromFlag(row.store),
    metadata: readJson<Record<string, string>>(row.metadata, {}),
    tags: readJson<string[]>(row.tags, []),
    source: row.source,
    createdAt: row.created_at,
    expiresAt: row.expires_at,
  };
}

export class KyselyMultipartRepository implements MultipartRepository {
  constructor(
    private readonly db: Kysely<Database>,
    /** The root of the keys of this shard's region (empty: the default region). */
    private readonly blobRoot = '',
  ) {}

  private readonly toUpload = (row: Selectable<MultipartUploadsTable>): MultipartUpload => toUpload(row, this.blobRoot);

  async create(upload: MultipartUpload): Promise<void> {
    await this.db
      .insertInto('multipart_uploads')
      .values({
        uuid: upload.uuid,
        project_id: upload.projectId,
        blob_key: storedBlobKey(this.blobRoot, upload.blobKey),
        blob_upload_id: upload.blobUploadId,
        part_token: upload.partToken,
        size: upload.size,
        part_size: upload.partSize,
        part_count: upload.partCount,
        original_filename: upload.originalFilename,
        store: toFlag(upload.store),
        metadata: JSON.stringify(upload.metadata),
        tags: JSON.stringify(upload.tags),
        source: upload.source,
        created_at: upload.createdAt,
        expires_at: upload.expiresAt,
      })
      .execute();
  }

  async find(uuid: string): Promise<MultipartUpload | null> {
    const row = await this.db.selectFrom('multipart_uploads').selectAll().where('uuid', '=', uuid).executeTakeFirst();
    return row ? this.toUpload(row) : null;
  }

  async savePart(uuid: string, part: MultipartPart): Promise<void> {
    await this.db
      .insertInto('multipart_parts')
      .values({ upload_uuid: uuid, part_number: part.partNumber, etag: part.etag, size: part.size })
      .onConflict((oc) => oc.columns(['upload_uuid', 'part_number']).doUpdateSet({ etag: part.etag, size: part.size }))
      .execute();
  }

  async listParts(uuid: string): Promise<MultipartPart[]> {
    const rows = await this.db
      .selectFrom('multipart_parts')
      .select(['part_number', 'etag', 'size'])
      .where('upload_uuid', '=', uuid)
      .orderBy('part_number')
      .execute();
    return rows.map((r) => ({ partNumber: Number(r.part_number), etag: r.etag, size: Number(r.size) }));
  }

  async delete(uuid: string): Promise<boolean> {
    await this.db.deleteFrom('multipart_parts').where('upload_uuid', '=', uuid).execute();
    const result = await this.db.deleteFrom('multipart_uploads').where('uuid', '=', uuid).executeTakeFirst();
    return Number(result.numDeletedRows) > 0;
  }

  async listExpired(now: string, limit: number): Promise<MultipartUpload[]> {
    const rows = await this.db
      .selectFrom('multipart_uploads')
      .selectAll()
      .where('expires_at', '<=', now)
      .orderBy('expires_at')
      .limit(limit)
      .execute();
    return rows.map(this.toUpload);
  }
}
