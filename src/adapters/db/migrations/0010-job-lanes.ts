import type { Kysely } from 'kysely';

/**
 * Job lanes: a named lane (video) has leases of its own, and its jobs are taken by turn, a number
 * given at enqueue so that projects (fairness keys) take turns; the default lane stays in due order.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('jobs').addColumn('lane', 'text').execute();
  await db.schema.alterTable('jobs').addColumn('fairness_key', 'text').execute();
  await db.schema.alterTable('jobs').addColumn('turn', 'bigint').execute();
  // A lane's claim walks its own waiting jobs by turn, not the default lane's backlog.
  await db.schema.createIndex('jobs_lane_status_turn_idx').on('jobs').columns(['lane', 'status', 'turn']).execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropIndex('jobs_lane_status_turn_idx').execute();
  await db.schema.alterTable('jobs').dropColumn('turn').execute();
  await db.schema.alterTable('jobs').dropColumn('fairness_key').execute();
  await db.schema.alterTable('jobs').dropColumn('lane').execute();
}
