import type { Kysely, Selectable } from 'kysely';
import type { MovePhase, ProjectMove, ProjectMovesRepository } from '../../../ports/shards.js';
import { atomically } from '../atomically.js';
import type { Database, ProjectMovesTable } from '../schema.js';

const PHASES: readonly MovePhase[] = ['copying', 'paused', 'switched', 'done', 'rolled_back'];

function toMove(row: Selectable<ProjectMovesTable>): ProjectMove {
  const phase = PHASES.find((p) => p === row.phase);
  if (!phase) throw new Error(`project_moves: unknown phase "${row.phase}"`);
  return { projectId: row.project_id, from: row.from_shard, to: row.to_shard, phase, detail: row.detail, startedAt: row.started_at, updatedAt: row.updated_at };
}

export class KyselyProjectMovesRepository implements ProjectMovesRepository {
  constructor(private readonly db: Kysely<Database>) {}

  async find(projectId: string): Promise<ProjectMove | null> {
    const row = await this.db.selectFrom('project_moves').selectAll().where('project_id', '=', projectId).executeTakeFirst();
    return row ? toMove(row) : null;
  }

  async start(move: ProjectMove): Promise<void> {
    const row = {
      project_id: move.projectId,
      from_shard: move.from,
      to_shard: move.to,
      phase: move.phase,
      detail: move.detail,
      started_at: move.startedAt,
      updated_at: move.updatedAt,
    };
    await this.db
      .insertInto('project_moves')
      .values(row)
      .onConflict((oc) => oc.column('project_id').doUpdateSet({ from_shard: row.from_shard, to_shard: row.to_shard, phase: row.phase, detail: row.detail, started_at: row.started_at, updated_at: row.updated_at }))
      .execute();
  }

  async setPhase(projectId: string, phase: MovePhase, detail: string | null, at: string): Promise<void> {
    await this.db.updateTable('project_moves').set({ phase, detail, updated_at: at }).where('project_id', '=', projectId).execute();
  }

  async switchShard(projectId: string, to: string, at: string): Promise<void> {
    await atomically(this.db, async (trx) => {
      await trx.updateTable('projects').set({ shard: to }).where('id', '=', projectId).execute();
      await trx.updateTable('project_moves').set({ phase: 'switched', detail: null, updated_at: at }).where('project_id', '=', projectId).execute();
    });
  }
}
