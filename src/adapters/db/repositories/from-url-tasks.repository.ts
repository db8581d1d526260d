import type { Kysely, Selectable } from 'kysely';
import type { FromUrlTask, FromUrlTaskStatus, FromUrlTasksRepository } from '../../../ports/repositories.js';
import type { Database, FromUrlTasksTable } from '../schema.js';

function toTask(row: Selectable<FromUrlTasksTable>): FromUrlTask {
  return {
    token: row.token,
    projectId: row.project_id,
    sourceUrl: row.source_url,
    status: row.status as FromUrlTaskStatus,
    done: Number(row.done),
    total: row.total === null ? null : Number(row.total),
    fileUuid: row.file_uuid,
    error: row.error,
    errorCode: row.error_code,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

export class KyselyFromUrlTasksRepository implements FromUrlTasksRepository {
  constructor(private readonly db: Kysely<Database>) {}

  async create(task: FromUrlTask): Promise<void> {
    await this.db
      .insertInto('from_url_tasks')
      .values({
        token: task.token,
        project_id: task.projectId,
        source_url: task.sourceUrl,
        status: task.status,
        done: task.done,
        total: task.total,
        file_uuid: task.fileUuid,
        error: task.error,
        error_code: task.errorCode,
        created_at: task.createdAt,
        updated_at: task.updatedAt,
      })
      .execute();
  }

  async find(token: string): Promise<FromUrlTask | null> {
    const row = await this.db.selectFrom('from_url_tasks').selectAll().where('token', '=', token).executeTakeFirst();
    return row ? toTask(row) : null;
  }

  async update(
    token: string,
    patch: Partial<Pick<FromUrlTask, 'status' | 'done' | 'total' | 'fileUuid' | 'error' | 'errorCode'>>,
  ): Promise<void> {
    const values: Partial<FromUrlTasksTable> = { updated_at: new Date().toISOString() };
    if (patch.status !== undefined) values.status = patch.status;
    if (patch.done !== undefined) values.done = patch.done;
    if (patch.total !== undefined) values.total = patch.total;
    if (patch.fileUuid !== undefined) values.file_uuid = patch.fileUuid;
    if (patch.error !== undefined) values.error = patch.error;
    if (patch.errorCode !== undefined) values.error_code = patch.errorCode;
    await this.db.updateTable('from_url_tasks').set(values).where('token', '=', token).execute();
  }

  async listStale(olderThan: string, limit: number): Promise<FromUrlTask[]> {
    const rows = await this.db
      .selectFrom('from_url_tasks')
      .selectAll()
      .where('status', 'in', ['waiting', 'progress'])
      .where('updated_at', '<', olderThan)
      .limit(limit)
      .execute();
    return rows.map(toTask);
  }

  async deleteFinishedBefore(before: string): Promise<number> {
    const result = await this.db
      .deleteFrom('from_url_tasks')
      .where('status', 'in', ['success', 'error'])
      .where('updated_at', '<', before)
      .executeTakeFirst();
    return Number(result.numDeletedRows);
  }
}
