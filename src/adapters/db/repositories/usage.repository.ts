import { type Kysely, sql } from 'kysely';
import type { DailyDeliveries, DailyUploads, UsageRepository } from '../../../ports/repositories.js';
import { atomically } from '../atomically.js';
import type { Database } from '../schema.js';

export class KyselyUsageRepository implements UsageRepository {
  constructor(private readonly db: Kysely<Database>) {}

  async addDeliveries(counts: DailyDeliveries[]): Promise<void> {
    if (counts.length === 0) return;
    await atomically(this.db, async (trx) => {
      for (const count of counts) {
        await trx
          .insertInto('usage_daily')
          .values({ project_id: count.projectId, day: count.day, deliveries: count.deliveries, cache_hits: count.cacheHits, cache_misses: count.cacheMisses })
          .onConflict((oc) =>
            oc.columns(['project_id', 'day']).doUpdateSet({
              deliveries: sql<number>`usage_daily.deliveries + ${count.deliveries}`,
              cache_hits: sql<number>`usage_daily.cache_hits + ${count.cacheHits}`,
              cache_misses: sql<number>`usage_daily.cache_misses + ${count.cacheMisses}`,
            }),
          )
          .execute();
      }
    });
  }

  async deliveriesSince(projectId: string, fromDay: string): Promise<DailyDeliveries[]> {
    const rows = await this.db
      .selectFrom('usage_daily')
      .selectAll()
      .where('project_id', '=', projectId)
      .where('day', '>=', fromDay)
      .orderBy('day')
      .execute();
    return rows.map((row) => ({
      projectId: row.project_id,
      day: row.day,
      deliveries: Number(row.deliveries),
      cacheHits: Number(row.cache_hits),
      cacheMisses: Number(row.cache_misses),
    }));
  }

  async uploadsSince(projectId: string, fromDay: string): Promise<DailyUploads[]> {
    const day = sql<string>`substr(datetime_uploaded, 1, 10)`;
    const rows = await this.db
      .selectFrom('files')
      .select([day.as('day'), sql<number>`count(*)`.as('uploads'), sql<number>`coalesce(sum(size), 0)`.as('bytes')])
      .where('project_id', '=', projectId)
      .where('datetime_uploaded', '>=', fromDay)
      .groupBy(day)
      .orderBy(day)
      .execute();
    return rows.map((row) => ({ day: row.day, uploads: Number(row.uploads), uploadBytes: Number(row.bytes) }));
  }

  async bytes(projectId: string): Promise<{ stored: number; unstored: number }> {
    const rows = await this.db
      .selectFrom('files')
      .select([sql<number>`case when datetime_stored is null then 0 else 1 end`.as('stored'), sql<number>`coalesce(sum(size), 0)`.as('bytes')])
      .where('project_id', '=', projectId)
      .where('datetime_removed', 'is', null)
      .groupBy(sql`case when datetime_stored is null then 0 else 1 end`)
      .execute();
    const result = { stored: 0, unstored: 0 };
    for (const row of rows) result[Number(row.stored) === 1 ? 'stored' : 'unstored'] = Number(row.bytes);
    return result;
  }

  async projectsOfFiles(uuids: string[]): Promise<Map<string, string>> {
    const found = new Map<string, string>();
    for (let i = 0; i < uuids.length; i += 500) {
      const rows = await this.db.selectFrom('files').select(['uuid', 'project_id']).where('uuid', 'in', uuids.slice(i, i + 500)).execute();
      for (const row of rows) found.set(row.uuid, row.project_id);
    }
    return found;
  }

  async totals(): Promise<{ files: number; bytes: number }> {
    const row = await this.db
      .selectFrom('files')
      .select((eb) => [eb.fn.countAll<number>().as('files'), eb.fn.coalesce(eb.fn.sum<number>('size'), eb.lit(0)).as('bytes')])
      .where('datetime_removed', 'is', null)
      .executeTakeFirst();
    return { files: Number(row?.files ?? 0), bytes: Number(row?.bytes ?? 0) };
  }
}
