import { type Kysely, type Selectable, sql } from 'kysely';
import type { DeliveryStatus, Webhook, WebhookAttempt, WebhookDelivery, WebhookEvent } from '../../../domain/webhook.js';
import type { AttemptOutcome, NewWebhook, WebhookPatch, WebhooksRepository } from '../../../ports/repositories.js';
import { fromFlag, toFlag } from '../json-columns.js';
import { atomically } from '../atomically.js';
import type { Database, WebhookAttemptsTable, WebhookDeliveriesTable, WebhooksTable } from '../schema.js';

function toWebhook(row: Selectable<WebhooksTable>): Webhook {
  return {
    id: Number(row.id),
    projectId: row.project_id,
    targetUrl: row.target_url,
    event: row.event as WebhookEvent,
    isActive: fromFlag(row.is_active),
    signingSecret: row.signing_secret,
    version: row.version,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

function toDelivery(row: Selectable<WebhookDeliveriesTable>): WebhookDelivery {
  return {
    id: row.id,
    webhookId: Number(row.webhook_id),
    projectId: row.project_id,
    event: row.event as WebhookEvent,
    targetUrl: row.target_url,
    payload: row.payload,
    status: row.status as DeliveryStatus,
    attempts: Number(row.attempts),
    lastStatusCode: row.last_status_code === null ? null : Number(row.last_status_code),
    lastError: row.last_error,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    deliveredAt: row.delivered_at,
  };
}

function toAttempt(row: Selectable<WebhookAttemptsTable>): WebhookAttempt {
  return {
    id: row.id,
    deliveryId: row.delivery_id,
    attempt: Number(row.attempt),
    statusCode: row.status_code === null ? null : Number(row.status_code),
    latencyMs: Number(row.latency_ms),
    error: row.error,
    createdAt: row.created_at,
  };
}

export class KyselyWebhooksRepository implements WebhooksRepository {
  constructor(private readonly db: Kysely<Database>) {}

  async create(webhook: NewWebhook): Promise<Webhook> {
    return atomically(this.db, async (trx) => {
      // Integer ids like Uploadcare's, from a counter row both SQLite and PostgreSQL update atomically.
      const next = await trx
        .insertInto('id_sequences')
        .values({ name: 'webhooks', value: 1 })
        .onConflict((oc) => oc.column('name').doUpdateSet({ value: sql<number>`id_sequences.value + 1` }))
        .returning('value')
        .executeTakeFirstOrThrow();
      const row = await trx
        .insertInto('webhooks')
        .values({
          id: Number(next.value),
          project_id: webhook.projectId,
          target_url: webhook.targetUrl,
          event: webhook.event,
          is_active: toFlag(webhook.isActive),
          signing_secret: webhook.signingSecret,
          version: webhook.version,
          created_at: webhook.at,
          updated_at: webhook.at,
        })
        .returningAll()
        .executeTakeFirstOrThrow();
      return toWebhook(row);
    });
  }

  async list(projectId: string): Promise<Webhook[]> {
    const rows = await this.db.selectFrom('webhooks').selectAll().where('project_id', '=', projectId).orderBy('id').execute();
    return rows.map(toWebhook);
  }

  async find(projectId: string, id: number): Promise<Webhook | null> {
    const row = await this.db.selectFrom('webhooks').selectAll().where('project_id', '=', projectId).where('id', '=', id).executeTakeFirst();
    return row ? toWebhook(row) : null;
  }

  async findByTarget(projectId: string, targetUrl: string, event: WebhookEvent): Promise<Webhook | null> {
    const row = await this.db
      .selectFrom('webhooks')
      .selectAll()
      .where('project_id', '=', projectId)
      .where('target_url', '=', targetUrl)
      .where('event', '=', event)
      .executeTakeFirst();
    return row ? toWebhook(row) : null;
  }

  async update(projectId: string, id: number, patch: WebhookPatch, at: string): Promise<Webhook | null> {
    const row = await this.db
      .updateTable('webhooks')
      .set({
        ...(patch.targetUrl !== undefined ? { target_url: patch.targetUrl } : {}),
        ...(patch.event !== undefined ? { event: patch.event } : {}),
        ...(patch.isActive !== undefined ? { is_active: toFlag(patch.isActive) } : {}),
        ...(patch.signingSecret !== undefined ? { signing_secret: patch.signingSecret } : {}),
        updated_at: at,
      })
      .where('project_id', '=', projectId)
      .where('id', '=', id)
      .returningAll()
      .executeTakeFirst();
    return row ? toWebhook(row) : null;
  }

  async delete(projectId: string, id: number): Promise<boolean> {
    const rows = await this.db.deleteFrom('webhooks').where('project_id', '=', projectId).where('id', '=', id).returning('id').execute();
    return rows.length > 0;
  }

  async deleteByTarget(projectId: string, targetUrl: string): Promise<number> {
    const rows = await this.db
      .deleteFrom('webhooks')
      .where('project_id', '=', projectId)
      .where('target_url', '=', targetUrl)
      .returning('id')
      .execute();
    return rows.length;
  }

  async active(projectId: string, event: WebhookEvent): Promise<Webhook[]> {
    const rows = await this.db
      .selectFrom('webhooks')
      .selectAll()
      .where('project_id', '=', projectId)
      .where('event', '=', event)
      .where('is_active', '=', 1)
      .execute();
    return rows.map(toWebhook);
  }

  async createDeliveries(deliveries: WebhookDelivery[]): Promise<void> {
    if (deliveries.length === 0) return;
    await this.db
      .insertInto('webhook_deliveries')
      .values(
        deliveries.map((d) => ({
          id: d.id,
          webhook_id: d.webhookId,
          project_id: d.projectId,
          event: d.event,
          target_url: d.targetUrl,
          payload: d.payload,
          status: d.status,
          attempts: d.attempts,
          last_status_code: d.lastStatusCode,
          last_error: d.lastError,
          created_at: d.createdAt,
          updated_at: d.updatedAt,
          delivered_at: d.deliveredAt,
        })),
      )
      .onConflict((oc) => oc.column('id').doNothing())
      .execute();
  }

  async listStalePending(before: string, limit: number): Promise<WebhookDelivery[]> {
    const rows = await this.db
      .selectFrom('webhook_deliveries')
      .selectAll()
      .where('status', '=', 'pending')
      .where('updated_at', '<', before)
      .orderBy('updated_at')
      .limit(limit)
      .execute();
    return rows.map(toDelivery);
  }

  async findDelivery(id: string): Promise<WebhookDelivery | null> {
    const row = await this.db.selectFrom('webhook_deliveries').selectAll().where('id', '=', id).executeTakeFirst();
    return row ? toDelivery(row) : null;
  }

  async recordAttempt({ attempt, status }: AttemptOutcome): Promise<void> {
    await atomically(this.db, async (trx) => {
      await trx
        .insertInto('webhook_attempts')
        .values({
          id: attempt.id,
          delivery_id: attempt.deliveryId,
          attempt: attempt.attempt,
          status_code: attempt.statusCode,
          latency_ms: attempt.latencyMs,
          error: attempt.error,
          created_at: attempt.createdAt,
        })
        .execute();
      await trx
        .updateTable('webhook_deliveries')
        .set({
          status,
          attempts: sql<number>`attempts + 1`,
          last_status_code: attempt.statusCode,
          last_error: attempt.error,
          updated_at: attempt.createdAt,
          ...(status === 'delivered' ? { delivered_at: attempt.createdAt } : {}),
        })
        .where('id', '=', attempt.deliveryId)
        .execute();
    });
  }

  async reopenDelivery(id: string, at: string): Promise<void> {
    await this.db.updateTable('webhook_deliveries').set({ status: 'pending', updated_at: at }).where('id', '=', id).execute();
  }

  async listDeliveries(projectId: string, webhookId: number, options: { limit: number; before: string | null }): Promise<WebhookDelivery[]> {
    let select = this.db
      .selectFrom('webhook_deliveries')
      .selectAll()
      .where('project_id', '=', projectId)
      .where('webhook_id', '=', webhookId);
    if (options.before) select = select.where('created_at', '<', options.before);
    const rows = await select.orderBy('created_at', 'desc').orderBy('id', 'desc').limit(options.limit).execute();
    return rows.map(toDelivery);
  }

  async listAttempts(deliveryIds: string[]): Promise<WebhookAttempt[]> {
    if (deliveryIds.length === 0) return [];
    const rows = await this.db
      .selectFrom('webhook_attempts')
      .selectAll()
      .where('delivery_id', 'in', deliveryIds)
      .orderBy('delivery_id')
      .orderBy('attempt')
      .execute();
    return rows.map(toAttempt);
  }
}
