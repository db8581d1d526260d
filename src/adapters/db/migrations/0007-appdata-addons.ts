import type { Kysely } from 'kysely';

/**
 * Add-ons: what they write on files (`appdata`, JSON text) and where a file stands with the virus
 * scanner, the projects' scan-on-upload settings, who caused a recorded event (webhook `initiator`),
 * and the execution requests clients poll. One column per statement: SQLite adds columns one at a time.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('files').addColumn('appdata', 'text').execute();
  await db.schema.alterTable('files').addColumn('scan_status', 'text').execute();
  await db.schema.alterTable('projects').addColumn('scan_on_upload', 'integer', (c) => c.notNull().defaultTo(0)).execute();
  await db.schema.alterTable('projects').addColumn('purge_infected', 'integer', (c) => c.notNull().defaultTo(0)).execute();
  await db.schema.alterTable('event_outbox').addColumn('initiator', 'text').execute();
  await db.schema
    .createTable('addon_requests')
    .addColumn('request_id', 'text', (c) => c.primaryKey())
    .addColumn('project_id', 'text', (c) => c.notNull().references('projects.id').onDelete('cascade'))
    .addColumn('addon_name', 'text', (c) => c.notNull())
    .addColumn('file_uuid', 'text', (c) => c.notNull())
    .addColumn('params', 'text', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('error', 'text')
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('updated_at', 'text', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('addon_requests_updated_idx').on('addon_requests').columns(['status', 'updated_at']).execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('addon_requests').execute();
  await db.schema.alterTable('event_outbox').dropColumn('initiator').execute();
  await db.schema.alterTable('projects').dropColumn('purge_infected').execute();
  await db.schema.alterTable('projects').dropColumn('scan_on_upload').execute();
  await db.schema.alterTable('files').dropColumn('scan_status').execute();
  await db.schema.alterTable('files').dropColumn('appdata').execute();
}
