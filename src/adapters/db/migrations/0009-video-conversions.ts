import type { Kysely } from 'kysely';

/**
 * Video conversion jobs (`POST /convert/video/`): polled by their token, found again by the key of
 * their request so the same request twice is one conversion.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('video_conversions')
    .addColumn('token', 'text', (c) => c.primaryKey())
    .addColumn('project_id', 'text', (c) => c.notNull().references('projects.id').onDelete('cascade'))
    .addColumn('request_key', 'text', (c) => c.notNull())
    .addColumn('source_uuid', 'text', (c) => c.notNull())
    .addColumn('plan', 'text', (c) => c.notNull())
    .addColumn('store', 'integer', (c) => c.notNull())
    .addColumn('result_uuid', 'text', (c) => c.notNull())
    .addColumn('thumbnails_group_id', 'text', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('error', 'text')
    .addColumn('progress', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('updated_at', 'text', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('video_conversions_request_idx').on('video_conversions').columns(['project_id', 'request_key']).unique().execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('video_conversions').execute();
}
