import type { Kysely } from 'kysely';

/**
 * Document conversion jobs (`POST /convert/document/`): polled by their token, found again by the key
 * of their request so the same request twice is one conversion, and by their source for the
 * groups of pages `GET /convert/document/<uuid>/` lists.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('document_conversions')
    .addColumn('token', 'text', (c) => c.primaryKey())
    .addColumn('project_id', 'text', (c) => c.notNull().references('projects.id').onDelete('cascade'))
    .addColumn('request_key', 'text', (c) => c.notNull())
    .addColumn('source_uuid', 'text', (c) => c.notNull())
    .addColumn('format', 'text', (c) => c.notNull())
    .addColumn('page', 'integer')
    .addColumn('store', 'integer', (c) => c.notNull())
    .addColumn('save_in_group', 'integer', (c) => c.notNull())
    .addColumn('result_uuid', 'text', (c) => c.notNull())
    .addColumn('group_id', 'text')
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('error', 'text')
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('updated_at', 'text', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('document_conversions_request_idx').on('document_conversions').columns(['project_id', 'request_key']).unique().execute();
  await db.schema.createIndex('document_conversions_source_idx').on('document_conversions').columns(['project_id', 'source_uuid']).execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('document_conversions').execute();
}
