import type { Kysely } from 'kysely';

/**
 * In the main database: how far each region's copy of the configuration has applied the change log,
 * as its syncer reports it. A move between shards waits for every active copy to have applied its
 * switch before deleting the old copy of the project's rows (a region reading an older copy would
 * still send the project's requests to the old shard).
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('config_copies')
    .addColumn('region', 'text', (c) => c.primaryKey())
    .addColumn('last_seq', 'bigint', (c) => c.notNull())
    .addColumn('updated_at', 'text', (c) => c.notNull())
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('config_copies').execute();
}
