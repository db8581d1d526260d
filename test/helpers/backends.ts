import pg from 'pg';

export type BackendName = 'embedded' | 'scale';

/** Where the scale-out suites find PostgreSQL; a fresh database is created per server. */
const TEST_POSTGRES_URL = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

/** Set in CI: a missing PostgreSQL then fails the run instead of skipping the scale-out suites. */
export const REQUIRE_SCALE = process.env.TROVE_TEST_REQUIRE_SCALE === '1';

let postgresStatus: Promise<string | null> | null = null;

/** null when PostgreSQL answers, else why not. */
export function postgresUnavailableReason(): Promise<string | null> {
  postgresStatus ??= (async () => {
    const client = new pg.Client({ connectionString: TEST_POSTGRES_URL, connectionTimeoutMillis: 2_000 });
    try {
      await client.connect();
      await client.query('select 1');
      return null;
    } catch (error) {
      return `PostgreSQL at ${TEST_POSTGRES_URL} is not reachable (${(error as Error).message})`;
    } finally {
      await client.end().catch(() => undefined);
    }
  })();
  return postgresStatus;
}

/**
 * The backends a suite runs against: always the embedded one; the scale-out one (PostgreSQL +
 * S3) when PostgreSQL is reachable, or always when REQUIRE_SCALE is set (then a missing server fails).
 */
export async function availableBackends(): Promise<BackendName[]> {
  const reason = await postgresUnavailableReason();
  if (reason === null || REQUIRE_SCALE) return ['embedded', 'scale'];
  console.warn(`[trove tests] skipping the scale-out (PostgreSQL + S3) suites: ${reason}. Set TROVE_TEST_REQUIRE_SCALE=1 to make this an error.`);
  return ['embedded'];
}

export async function createTestDatabase(): Promise<{ url: string; drop(): Promise<void> }> {
  const name = `trove_test_${Date.now().toString(36)}_${Math.random().toString(36).slice(2, 8)}`;
  const admin = new pg.Client({ connectionString: TEST_POSTGRES_URL, connectionTimeoutMillis: 5_000 });
  await admin.connect();
  try {
    await admin.query(`create database ${name}`);
  } finally {
    await admin.end();
  }
  const url = new URL(TEST_POSTGRES_URL);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    async drop() {
      const client = new pg.Client({ connectionString: TEST_POSTGRES_URL });
      await client.connect();
      try {
        await client.query(`drop database if exists ${name} with (force)`);
      } finally {
        await client.end();
      }
    },
  };
}
