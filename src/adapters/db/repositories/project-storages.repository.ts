import type { Kysely, Selectable } from 'kysely';
import type { ProjectStorageRecord, ProjectStoragesRepository } from '../../../ports/repositories.js';
import { fromFlag, toFlag } from '../json-columns.js';
import type { Database, ProjectStoragesTable } from '../schema.js';

function toRecord(row: Selectable<ProjectStoragesTable>): ProjectStorageRecord {
  return {
    projectId: row.project_id,
    name: row.name,
    bucket: row.bucket,
    prefix: row.prefix,
    region: row.region,
    endpoint: row.endpoint,
    forcePathStyle: fromFlag(row.force_path_style),
    pattern: row.pattern,
    sealedCredentials: row.credentials,
    createdAt: row.created_at,
  };
}

export class KyselyProjectStoragesRepository implements ProjectStoragesRepository {
  constructor(private readonly db: Kysely<Database>) {}

  async create(record: ProjectStorageRecord): Promise<boolean> {
    const result = await this.db
      .insertInto('project_storages')
      .values({
        project_id: record.projectId,
        name: record.name,
        bucket: record.bucket,
        prefix: record.prefix,
        region: record.region,
        endpoint: record.endpoint,
        force_path_style: toFlag(record.forcePathStyle),
        pattern: record.pattern,
        credentials: record.sealedCredentials,
        created_at: record.createdAt,
      })
      // Two registrations racing for one name: the first wins, the second learns it from the count.
      .onConflict((oc) => oc.columns(['project_id', 'name']).doNothing())
      .executeTakeFirst();
    return Number(result.numInsertedOrUpdatedRows ?? 0) === 1;
  }

  async list(projectId: string): Promise<ProjectStorageRecord[]> {
    const rows = await this.db.selectFrom('project_storages').selectAll().where('project_id', '=', projectId).orderBy('name').execute();
    return rows.map(toRecord);
  }

  async find(projectId: string, name: string): Promise<ProjectStorageRecord | null> {
    const row = await this.db.selectFrom('project_storages').selectAll().where('project_id', '=', projectId).where('name', '=', name).executeTakeFirst();
    return row ? toRecord(row) : null;
  }

  async delete(projectId: string, name: string): Promise<boolean> {
    const result = await this.db.deleteFrom('project_storages').where('project_id', '=', projectId).where('name', '=', name).executeTakeFirst();
    return Number(result.numDeletedRows) > 0;
  }
}
