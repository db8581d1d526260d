import type { Migration, MigrationProvider } from 'kysely';
import * as initial from './0001-initial.js';

/** Migrations are imported statically so they ship inside the build and run the same from src/ and dist/. */
const MIGRATIONS: Record<string, Migration> = {
  '0001-initial': initial,
};

export const migrationProvider: MigrationProvider = {
  getMigrations: async () => MIGRATIONS,
};
