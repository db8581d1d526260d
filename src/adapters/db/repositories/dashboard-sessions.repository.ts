import type { Kysely, Selectable } from 'kysely';
import type { DashboardSession } from '../../../domain/dashboard-session.js';
import type { DashboardSessionsRepository } from '../../../ports/repositories.js';
import { fromFlag, toFlag } from '../json-columns.js';
import type { DashboardSessionsTable, Database } from '../schema.js';

function toSession(row: Selectable<DashboardSessionsTable>): DashboardSession {
  return {
    id: row.id,
    projectId: row.project_id,
    admin: fromFlag(row.admin),
    secretKeyId: row.secret_key_id,
    csrfToken: row.csrf_token,
    createdAt: row.created_at,
    expiresAt: row.expires_at,
  };
}

export class KyselyDashboardSessionsRepository implements DashboardSessionsRepository {
  constructor(private readonly db: Kysely<Database>) {}

  async create(session: DashboardSession): Promise<void> {
    await this.db
      .insertInto('dashboard_sessions')
      .values({
        id: session.id,
        project_id: session.projectId,
        admin: toFlag(session.admin),
        secret_key_id: session.secretKeyId,
        csrf_token: session.csrfToken,
        created_at: session.createdAt,
        expires_at: session.expiresAt,
      })
      .execute();
  }

  async find(id: string, now: string): Promise<DashboardSession | null> {
    const row = await this.db.selectFrom('dashboard_sessions').selectAll().where('id', '=', id).where('expires_at', '>', now).executeTakeFirst();
    return row ? toSession(row) : null;
  }

  async setProject(id: string, projectId: string): Promise<void> {
    await this.db.updateTable('dashboard_sessions').set({ project_id: projectId }).where('id', '=', id).execute();
  }

  async delete(id: string): Promise<void> {
    await this.db.deleteFrom('dashboard_sessions').where('id', '=', id).execute();
  }

  async deleteExpired(now: string): Promise<number> {
    const result = await this.db.deleteFrom('dashboard_sessions').where('expires_at', '<=', now).executeTakeFirst();
    return Number(result.numDeletedRows);
  }
}
