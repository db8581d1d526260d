import type { Kysely, Selectable } from 'kysely';
import { isAddonName, type AddonName, type AddonRequest, type AddonRequestStatus } from '../../../domain/addons.js';
import type { AddonRequestsRepository } from '../../../ports/repositories.js';
import { readJson } from '../json-columns.js';
import type { AddonRequestsTable, Database } from '../schema.js';

function toRequest(row: Selectable<AddonRequestsTable>): AddonRequest | null {
  // A row of an add-on this build does not know names nothing it can run or answer for.
  if (!isAddonName(row.addon_name)) return null;
  const params = readJson<{ purgeInfected?: unknown }>(row.params, {});
  return {
    requestId: row.request_id,
    projectId: row.project_id,
    addonName: row.addon_name,
    fileUuid: row.file_uuid,
    params: { purgeInfected: params.purgeInfected === true },
    status: row.status === 'done' || row.status === 'error' ? row.status : 'in_progress',
    error: row.error,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

export class KyselyAddonRequestsRepository implements AddonRequestsRepository {
  constructor(private readonly db: Kysely<Database>) {}

  async create(request: AddonRequest): Promise<boolean> {
    const result = await this.db
      .insertInto('addon_requests')
      .values({
        request_id: request.requestId,
        project_id: request.projectId,
        addon_name: request.addonName,
        file_uuid: request.fileUuid,
        params: JSON.stringify(request.params),
        status: request.status,
        error: request.error,
        created_at: request.createdAt,
        updated_at: request.updatedAt,
      })
      .onConflict((oc) => oc.column('request_id').doNothing())
      .executeTakeFirst();
    return Number(result.numInsertedOrUpdatedRows ?? 0n) > 0;
  }

  async find(projectId: string, addonName: AddonName, requestId: string): Promise<AddonRequest | null> {
    const row = await this.db
      .selectFrom('addon_requests')
      .selectAll()
      .where('request_id', '=', requestId)
      .where('project_id', '=', projectId)
      .where('addon_name', '=', addonName)
      .executeTakeFirst();
    return row ? toRequest(row) : null;
  }

  async findById(requestId: string): Promise<AddonRequest | null> {
    const row = await this.db.selectFrom('addon_requests').selectAll().where('request_id', '=', requestId).executeTakeFirst();
    return row ? toRequest(row) : null;
  }

  async finish(requestId: string, status: Exclude<AddonRequestStatus, 'in_progress'>, error: string | null, at: string): Promise<void> {
    await this.db.updateTable('addon_requests').set({ status, error, updated_at: at }).where('request_id', '=', requestId).execute();
  }

  async deleteFinishedBefore(before: string): Promise<number> {
    const result = await this.db
      .deleteFrom('addon_requests')
      .where('status', 'in', ['done', 'error'])
      .where('updated_at', '<', before)
      .executeTakeFirst();
    return Number(result.numDeletedRows);
  }
}
