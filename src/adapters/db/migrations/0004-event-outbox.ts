import type { Kysely } from 'kysely';

/**
 * File events written in the same transaction as the change they describe, so an acknowledged
 * upload, store, delete or metadata change never loses its webhooks or purge, whatever crashes next.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('event_outbox')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('project_id', 'text', (c) => c.notNull())
    .addColumn('event', 'text', (c) => c.notNull())
    .addColumn('file_uuid', 'text', (c) => c.notNull())
    .addColumn('previous_values', 'text')
    .addColumn('created_at', 'text', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('event_outbox_created_idx').on('event_outbox').columns(['created_at', 'id']).execute();
  await db.schema.createIndex('webhook_deliveries_status_idx').on('webhook_deliveries').columns(['status', 'updated_at']).execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropIndex('webhook_deliveries_status_idx').execute();
  await db.schema.dropTable('event_outbox').execute();
}
