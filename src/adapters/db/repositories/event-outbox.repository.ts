import type { Kysely } from 'kysely';
import type { WebhookEvent } from '../../../domain/webhook.js';
import type { EventOutboxRepository, OutboxEvent } from '../../../ports/repositories.js';
import { readJson } from '../json-columns.js';
import type { Database } from '../schema.js';

export class KyselyEventOutboxRepository implements EventOutboxRepository {
  constructor(private readonly db: Kysely<Database>) {}

  async oldest(limit: number): Promise<OutboxEvent[]> {
    const rows = await this.db.selectFrom('event_outbox').selectAll().orderBy('created_at').orderBy('id').limit(limit).execute();
    return rows.map((row) => ({
      id: row.id,
      projectId: row.project_id,
      event: row.event as WebhookEvent,
      fileUuid: row.file_uuid,
      previousValues: readJson<Record<string, unknown> | null>(row.previous_values, null),
      createdAt: row.created_at,
    }));
  }

  async remove(id: string): Promise<void> {
    await this.db.deleteFrom('event_outbox').where('id', '=', id).execute();
  }
}
