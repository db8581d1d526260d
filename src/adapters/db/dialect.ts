import { PostgresAdapter, type Kysely } from 'kysely';

/** Whether a Kysely handle (the database or one of its transactions) talks to PostgreSQL rather than SQLite. */
export function isPostgres<DB>(db: Kysely<DB>): boolean {
  return db.getExecutor().adapter instanceof PostgresAdapter;
}
