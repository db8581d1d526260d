import { type Kysely, sql } from 'kysely';
import type { FileCounts, FileCountersRepository } from '../../../ports/repositories.js';
import type { Database } from '../schema.js';

export class KyselyFileCountersRepository implements FileCountersRepository {
  constructor(private readonly db: Kysely<Database>) {}

  async apply(projectId: string, delta: FileCounts): Promise<void> {
    await this.db
      .insertInto('project_file_counts')
      .values({ project_id: projectId, stored: Math.max(0, delta.stored), unstored: Math.max(0, delta.unstored), removed: Math.max(0, delta.removed) })
      .onConflict((oc) =>
        oc.column('project_id').doUpdateSet({
          stored: sql<number>`project_file_counts.stored + ${delta.stored}`,
          unstored: sql<number>`project_file_counts.unstored + ${delta.unstored}`,
          removed: sql<number>`project_file_counts.removed + ${delta.removed}`,
        }),
      )
      .execute();
  }

  async counts(projectId: string): Promise<FileCounts> {
    const row = await this.db.selectFrom('project_file_counts').selectAll().where('project_id', '=', projectId).executeTakeFirst();
    return row ? { stored: Number(row.stored), unstored: Number(row.unstored), removed: Number(row.removed) } : { stored: 0, unstored: 0, removed: 0 };
  }

  async liveTotal(): Promise<number> {
    const row = await this.db
      .selectFrom('project_file_counts')
      .select((eb) => eb.fn.coalesce(eb.fn.sum<number>(sql`stored + unstored`), eb.lit(0)).as('live'))
      .executeTakeFirst();
    return Number(row?.live ?? 0);
  }
}
