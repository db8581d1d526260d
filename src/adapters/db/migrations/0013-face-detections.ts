import type { Kysely } from 'kysely';

/**
 * The faces found in an image file, one row per file: detected once (after upload, or on the first
 * transformation that needs them) and read by every transformation after. A row records a failed
 * detection too, so an image that cannot be analysed is not decoded again on every request. The row
 * goes with the file (foreign key), and the services delete it when the file is removed.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('face_detections')
    .addColumn('file_uuid', 'text', (c) => c.primaryKey().references('files.uuid').onDelete('cascade'))
    .addColumn('project_id', 'text', (c) => c.notNull().references('projects.id').onDelete('cascade'))
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('version', 'text', (c) => c.notNull())
    .addColumn('frame_width', 'integer')
    .addColumn('frame_height', 'integer')
    .addColumn('faces', 'text', (c) => c.notNull())
    .addColumn('reason', 'text')
    .addColumn('detected_at', 'text', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('face_detections_project_idx').on('face_detections').columns(['project_id', 'file_uuid']).execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('face_detections').execute();
}
