import type { Kysely, Selectable } from 'kysely';
import { hashChunks, type ImageAnalysis } from '../../../domain/image-analysis.js';
import type { AnalysisTarget, HashCandidate, ImageAnalysisRepository } from '../../../ports/repositories.js';
import { atomically } from '../atomically.js';
import { readJson } from '../json-columns.js';
import type { Database, ImageAnalysisTable } from '../schema.js';

const CHUNK_COLUMNS = ['phash_0', 'phash_1', 'phash_2', 'phash_3'] as const;

function toAnalysis(row: Selectable<ImageAnalysisTable>): ImageAnalysis {
  return {
    projectId: row.project_id,
    fileUuid: row.file_uuid,
    thumbhash: row.thumbhash,
    blurhash: row.blurhash,
    dominantColor: row.dominant_color,
    palette: readJson<string[]>(row.palette, []),
    phash: row.phash,
    version: row.version,
    createdAt: row.created_at,
    computedAt: row.computed_at,
  };
}

export class KyselyImageAnalysisRepository implements ImageAnalysisRepository {
  constructor(private readonly db: Kysely<Database>) {}

  async save(analysis: ImageAnalysis): Promise<boolean> {
    const [phash0, phash1, phash2, phash3] = hashChunks(analysis.phash);
    const computed = {
      thumbhash: analysis.thumbhash,
      blurhash: analysis.blurhash,
      dominant_color: analysis.dominantColor,
      palette: JSON.stringify(analysis.palette),
      phash: analysis.phash,
      phash_0: phash0,
      phash_1: phash1,
      phash_2: phash2,
      phash_3: phash3,
      version: analysis.version,
      computed_at: analysis.computedAt,
    };
    return atomically(this.db, async (db) => {
      const live = await db
        .selectFrom('files')
        .select('uuid')
        .where('uuid', '=', analysis.fileUuid)
        .where('project_id', '=', analysis.projectId)
        .where('datetime_removed', 'is', null)
        .executeTakeFirst();
      if (!live) return false;
      await db
        .insertInto('image_analysis')
        .values({ file_uuid: analysis.fileUuid, project_id: analysis.projectId, created_at: analysis.createdAt, ...computed })
        .onConflict((oc) => oc.column('file_uuid').doUpdateSet(computed))
        .execute();
      return true;
    });
  }

  async find(projectId: string, fileUuid: string): Promise<ImageAnalysis | null> {
    const row = await this.db.selectFrom('image_analysis').selectAll().where('file_uuid', '=', fileUuid).where('project_id', '=', projectId).executeTakeFirst();
    return row ? toAnalysis(row) : null;
  }

  async findMany(projectId: string, fileUuids: string[]): Promise<ImageAnalysis[]> {
    if (fileUuids.length === 0) return [];
    const rows = await this.db.selectFrom('image_analysis').selectAll().where('project_id', '=', projectId).where('file_uuid', 'in', fileUuids).execute();
    return rows.map(toAnalysis);
  }

  async deleteForFiles(projectId: string, fileUuids: string[]): Promise<number> {
    if (fileUuids.length === 0) return 0;
    const result = await this.db.deleteFrom('image_analysis').where('project_id', '=', projectId).where('file_uuid', 'in', fileUuids).executeTakeFirst();
    return Number(result.numDeletedRows);
  }

  async candidates(projectId: string, chunkValues: number[][], stored: boolean | null): Promise<HashCandidate[]> {
    // One indexed lookup per chunk, (project_id, phash_i) IN (…); the union drops the rows found twice.
    const lookups = CHUNK_COLUMNS.flatMap((column, i) => {
      const values = chunkValues[i] ?? [];
      return values.length === 0 ? [] : [this.db.selectFrom('image_analysis').select('file_uuid').where('project_id', '=', projectId).where(column, 'in', values)];
    });
    const [first, ...rest] = lookups;
    if (!first) return [];
    const matching = rest.reduce((union, lookup) => union.union(lookup), first);
    let select = this.db
      .selectFrom('image_analysis')
      .innerJoin('files', 'files.uuid', 'image_analysis.file_uuid')
      .select(['image_analysis.file_uuid', 'image_analysis.phash_0', 'image_analysis.phash_1', 'image_analysis.phash_2', 'image_analysis.phash_3'])
      .where('image_analysis.file_uuid', 'in', matching)
      .where('files.datetime_removed', 'is', null);
    if (stored !== null) select = select.where('files.datetime_stored', stored ? 'is not' : 'is', null);
    const rows = await select.execute();
    return rows.map((row) => ({ fileUuid: row.file_uuid, chunks: [Number(row.phash_0), Number(row.phash_1), Number(row.phash_2), Number(row.phash_3)] }));
  }

  async listUnanalysed(query: { projectId: string | null; version: string; afterUuid: string | null; limit: number }): Promise<AnalysisTarget[]> {
    let select = this.db
      .selectFrom('files')
      .leftJoin('image_analysis', (join) => join.onRef('image_analysis.file_uuid', '=', 'files.uuid').on('image_analysis.version', '=', query.version))
      .select(['files.project_id', 'files.uuid'])
      .where('files.is_image', '=', 1)
      .where('files.datetime_removed', 'is', null)
      .where('image_analysis.file_uuid', 'is', null);
    if (query.projectId !== null) select = select.where('files.project_id', '=', query.projectId);
    if (query.afterUuid !== null) select = select.where('files.uuid', '>', query.afterUuid);
    const rows = await select.orderBy('files.uuid').limit(query.limit).execute();
    return rows.map((row) => ({ projectId: row.project_id, uuid: row.uuid }));
  }
}
