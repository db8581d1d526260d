import { sql, type Kysely } from 'kysely';

/**
 * Durable background jobs for the SQL job queue. A finished job is deleted, so the table holds only
 * pending, running and dead jobs. Scheduling times are epoch milliseconds (bigint) rather than the
 * ISO text used elsewhere: the claim query compares and adds to them on every poll, and integers
 * compare the same way on SQLite and PostgreSQL.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('jobs')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('payload', 'text', (c) => c.notNull())
    // waiting (due or delayed) | active (taken; its lease ends at locked_until) | dead (retries exhausted)
    .addColumn('status', 'text', (c) => c.notNull())
    // Runs started so far; a lease that expires counts as a run.
    .addColumn('attempt', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('run_at', 'bigint', (c) => c.notNull())
    .addColumn('locked_until', 'bigint')
    .addColumn('dedupe_key', 'text')
    .addColumn('last_error', 'text')
    .addColumn('enqueued_at', 'text', (c) => c.notNull())
    .addColumn('updated_at', 'text', (c) => c.notNull())
    .execute();
  // The claim query looks for due waiting jobs and for active jobs whose lease ran out.
  await db.schema.createIndex('jobs_status_run_at_idx').on('jobs').columns(['status', 'run_at']).execute();
  await db.schema.createIndex('jobs_status_locked_until_idx').on('jobs').columns(['status', 'locked_until']).execute();
  // One pending job per dedupe key; a job that is running or dead no longer holds its key.
  await db.schema
    .createIndex('jobs_pending_dedupe_key_idx')
    .on('jobs')
    .column('dedupe_key')
    .unique()
    .where(sql.ref('status'), '=', 'waiting')
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('jobs').execute();
}
