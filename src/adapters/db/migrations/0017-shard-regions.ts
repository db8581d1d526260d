import type { Kysely } from 'kysely';

/**
 * The region of each shard: a project lives on one shard, and the originals of its files in the
 * storage of that shard's region. Null is the default region (TROVE_DEFAULT_REGION), where every
 * shard was before regions existed, so renaming the default region strands nothing.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('shards').addColumn('region', 'text').execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('shards').dropColumn('region').execute();
}
