import type { Kysely } from 'kysely';
import type { GroupListQuery, GroupMember, GroupRecord, GroupsRepository } from '../../../ports/repositories.js';
import { atomically } from '../atomically.js';
import type { Database, GroupsTable } from '../schema.js';

function toGroup(row: GroupsTable): GroupRecord {
  return {
    id: row.id,
    projectId: row.project_id,
    filesCount: Number(row.files_count),
    datetimeCreated: row.datetime_created,
    datetimeStored: row.datetime_stored,
  };
}

export class KyselyGroupsRepository implements GroupsRepository {
  constructor(private readonly db: Kysely<Database>) {}

  async create(group: GroupRecord, members: GroupMember[]): Promise<void> {
    await atomically(this.db, async (trx) => {
      await trx
        .insertInto('groups')
        .values({
          id: group.id,
          project_id: group.projectId,
          files_count: group.filesCount,
          datetime_created: group.datetimeCreated,
          datetime_stored: group.datetimeStored,
        })
        .execute();
      for (let i = 0; i < members.length; i += 200) {
        await trx
          .insertInto('group_files')
          .values(
            members.slice(i, i + 200).map((m) => ({
              group_id: group.id,
              position: m.position,
              file_uuid: m.fileUuid,
              effects: m.effects,
            })),
          )
          .execute();
      }
    });
  }

  async findForProject(projectId: string, id: string): Promise<{ group: GroupRecord; members: GroupMember[] } | null> {
    const row = await this.db
      .selectFrom('groups')
      .selectAll()
      .where('id', '=', id)
      .where('project_id', '=', projectId)
      .executeTakeFirst();
    if (!row) return null;
    const members = await this.db
      .selectFrom('group_files')
      .select(['position', 'file_uuid', 'effects'])
      .where('group_id', '=', id)
      .orderBy('position')
      .execute();
    return {
      group: toGroup(row),
      members: members.map((m) => ({ position: Number(m.position), fileUuid: m.file_uuid, effects: m.effects })),
    };
  }

  async findMember(id: string, position: number): Promise<GroupMember | null> {
    const row = await this.db
      .selectFrom('group_files')
      .select(['position', 'file_uuid', 'effects'])
      .where('group_id', '=', id)
      .where('position', '=', position)
      .executeTakeFirst();
    return row ? { position: Number(row.position), fileUuid: row.file_uuid, effects: row.effects } : null;
  }

  async list(projectId: string, query: GroupListQuery): Promise<GroupRecord[]> {
    const descending = query.order === 'desc';
    const op = descending ? '<' : '>';
    let select = this.db.selectFrom('groups').selectAll().where('project_id', '=', projectId);
    if (query.after) {
      const { datetime, id } = query.after;
      select =
        id === null
          ? select.where('datetime_created', descending ? '<=' : '>=', datetime)
          : select
              // The redundant bound lets the index start at the cursor instead of filtering every row before it.
              .where('datetime_created', descending ? '<=' : '>=', datetime)
              .where((eb) => eb.or([eb('datetime_created', op, datetime), eb.and([eb('datetime_created', '=', datetime), eb('id', op, id)])]));
    }
    const direction = descending ? 'desc' : 'asc';
    const rows = await select.orderBy('datetime_created', direction).orderBy('id', direction).limit(query.limit).execute();
    return rows.map(toGroup);
  }

  async count(projectId: string): Promise<number> {
    const row = await this.db.selectFrom('groups').select((eb) => eb.fn.countAll<number>().as('n')).where('project_id', '=', projectId).executeTakeFirst();
    return Number(row?.n ?? 0);
  }

  async delete(projectId: string, id: string): Promise<boolean> {
    return atomically(this.db, async (trx) => {
      const found = await trx.selectFrom('groups').select('id').where('id', '=', id).where('project_id', '=', projectId).executeTakeFirst();
      if (!found) return false;
      await trx.deleteFrom('group_files').where('group_id', '=', id).execute();
      await trx.deleteFrom('groups').where('id', '=', id).execute();
      return true;
    });
  }
}
