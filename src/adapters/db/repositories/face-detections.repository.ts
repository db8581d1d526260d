import type { Kysely, Selectable } from 'kysely';
import type { Box, StoredFaces } from '../../../domain/faces.js';
import type { FaceDetectionsRepository } from '../../../ports/repositories.js';
import { atomically } from '../atomically.js';
import { readJson } from '../json-columns.js';
import type { Database, FaceDetectionsTable } from '../schema.js';

type BoxRow = [number, number, number, number];

function toStored(row: Selectable<FaceDetectionsTable>): StoredFaces {
  if (row.status !== 'done' || row.frame_width === null || row.frame_height === null) {
    return { status: 'failed', version: row.version, reason: row.reason ?? 'unknown' };
  }
  const boxes = readJson<BoxRow[]>(row.faces, []);
  const faces: Box[] = boxes.map(([left, top, width, height]) => ({ left, top, width, height }));
  return { status: 'done', version: row.version, frame: { width: row.frame_width, height: row.frame_height }, faces };
}

export class KyselyFaceDetectionsRepository implements FaceDetectionsRepository {
  constructor(private readonly db: Kysely<Database>) {}

  async save(projectId: string, fileUuid: string, detection: StoredFaces, at: string): Promise<boolean> {
    const values = {
      status: detection.status,
      version: detection.version,
      frame_width: detection.status === 'done' ? detection.frame.width : null,
      frame_height: detection.status === 'done' ? detection.frame.height : null,
      faces: JSON.stringify(detection.status === 'done' ? detection.faces.map((face): BoxRow => [face.left, face.top, face.width, face.height]) : []),
      reason: detection.status === 'failed' ? detection.reason : null,
      detected_at: at,
    };
    return atomically(this.db, async (db) => {
      const live = await db
        .selectFrom('files')
        .select('uuid')
        .where('uuid', '=', fileUuid)
        .where('project_id', '=', projectId)
        .where('datetime_removed', 'is', null)
        .executeTakeFirst();
      if (!live) return false;
      await db
        .insertInto('face_detections')
        .values({ file_uuid: fileUuid, project_id: projectId, ...values })
        .onConflict((oc) => oc.column('file_uuid').doUpdateSet(values))
        .execute();
      return true;
    });
  }

  async find(projectId: string, fileUuid: string): Promise<StoredFaces | null> {
    const row = await this.db.selectFrom('face_detections').selectAll().where('file_uuid', '=', fileUuid).where('project_id', '=', projectId).executeTakeFirst();
    return row ? toStored(row) : null;
  }

  async deleteForFiles(projectId: string, fileUuids: string[]): Promise<number> {
    if (fileUuids.length === 0) return 0;
    const result = await this.db.deleteFrom('face_detections').where('project_id', '=', projectId).where('file_uuid', 'in', fileUuids).executeTakeFirst();
    return Number(result.numDeletedRows);
  }
}
