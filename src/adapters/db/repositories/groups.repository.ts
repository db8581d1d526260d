import type { Kysely } from 'kysely';
import type { GroupMember, GroupRecord, GroupsRepository } from '../../../ports/repositories.js';
import type { Database } from '../schema.js';

export class KyselyGroupsRepository implements GroupsRepository {
  constructor(private readonly db: Kysely<Database>) {}

  async create(group: GroupRecord, members: GroupMember[]): Promise<void> {
    await this.db.transaction().execute(async (trx) => {
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
      group: {
        id: row.id,
        projectId: row.project_id,
        filesCount: Number(row.files_count),
        datetimeCreated: row.datetime_created,
        datetimeStored: row.datetime_stored,
      },
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
}
