import type { Kysely } from 'kysely';

/**
 * `GET /convert/video/` lists a project's conversions newest first, of one source or of all: each
 * index hands a page over in order, starting at its cursor, without reading the rows before it.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.createIndex('video_conversions_project_created_idx').on('video_conversions').columns(['project_id', 'created_at', 'token']).execute();
  await db.schema
    .createIndex('video_conversions_source_created_idx')
    .on('video_conversions')
    .columns(['project_id', 'source_uuid', 'created_at', 'token'])
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropIndex('video_conversions_source_created_idx').execute();
  await db.schema.dropIndex('video_conversions_project_created_idx').execute();
}
