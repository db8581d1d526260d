import { randomUUID } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { WebhookEvent, WebhookInitiator } from '../../../domain/webhook.js';
import type { EventOutboxRepository, NewOutboxEvent, OutboxEvent } from '../../../ports/repositories.js';
import { readJson } from '../json-columns.js';
import type { Database } from '../schema.js';

/** Rows per INSERT, far below either database's bound-parameter limit. */
const INSERT_CHUNK = 100;

export class KyselyEventOutboxRepository implements EventOutboxRepository {
  constructor(private readonly db: Kysely<Database>) {}

  async append(events: NewOutboxEvent[]): Promise<void> {
    const rows = events.map((event) => ({
      id: randomUUID(),
      project_id: event.projectId,
      event: event.event,
      file_uuid: event.fileUuid,
      previous_values: event.previousValues ? JSON.stringify(event.previousValues) : null,
      initiator: event.initiator ? JSON.stringify(event.initiator) : null,
      created_at: event.createdAt,
    }));
    for (let i = 0; i < rows.length; i += INSERT_CHUNK) await this.db.insertInto('event_outbox').values(rows.slice(i, i + INSERT_CHUNK)).execute();
  }

  async oldest(limit: number): Promise<OutboxEvent[]> {
    const rows = await this.db.selectFrom('event_outbox').selectAll().orderBy('created_at').orderBy('id').limit(limit).execute();
    return rows.map((row) => {
      const initiator = readJson<WebhookInitiator | null>(row.initiator, null);
      return {
        id: row.id,
        projectId: row.project_id,
        event: row.event as WebhookEvent,
        fileUuid: row.file_uuid,
        previousValues: readJson<Record<string, unknown> | null>(row.previous_values, null),
        ...(initiator ? { initiator } : {}),
        createdAt: row.created_at,
      };
    });
  }

  async remove(id: string): Promise<void> {
    await this.db.deleteFrom('event_outbox').where('id', '=', id).execute();
  }
}
