import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { AppContext } from '../../../context.js';
import type { Webhook, WebhookDelivery } from '../../../domain/webhook.js';
import { createAppError } from '../../../errors.js';
import type { DeliveryLogEntry, WebhookInput } from '../../../services/webhook.service.js';
import { bodyObject } from './files.js';
import { projectOf } from './rest-request.js';
import { queryOf, restRoute } from './rest-params.js';

function toRestWebhook(hook: Webhook) {
  return {
    id: hook.id,
    project: hook.projectId,
    created: hook.createdAt,
    updated: hook.updatedAt,
    event: hook.event,
    target_url: hook.targetUrl,
    is_active: hook.isActive,
    signing_secret: hook.signingSecret,
    version: hook.version,
  };
}

function toRestDelivery(delivery: WebhookDelivery | DeliveryLogEntry) {
  return {
    id: delivery.id,
    webhook_id: delivery.webhookId,
    event: delivery.event,
    target_url: delivery.targetUrl,
    status: delivery.status,
    attempts: delivery.attempts,
    last_status_code: delivery.lastStatusCode,
    last_error: delivery.lastError,
    created: delivery.createdAt,
    updated: delivery.updatedAt,
    delivered: delivery.deliveredAt,
    payload: JSON.parse(delivery.payload) as unknown,
    ...('attemptLog' in delivery
      ? {
          attempt_log: delivery.attemptLog.map((a) => ({ attempt: a.attempt, status_code: a.statusCode, latency_ms: a.latencyMs, error: a.error, created: a.createdAt })),
        }
      : {}),
  };
}

function webhookInput(body: unknown): WebhookInput {
  const fields = bodyObject(body);
  return { targetUrl: fields.target_url, event: fields.event, isActive: fields.is_active, signingSecret: fields.signing_secret, version: fields.version };
}

function idParam(request: FastifyRequest): number {
  const raw = (request.params as { id?: string }).id ?? '';
  if (!/^\d{1,15}$/.test(raw)) throw createAppError('NOT_FOUND', 404, 'Not found.');
  return Number(raw);
}

/** `/webhooks/…`: subscriptions (Uploadcare), plus Trove's delivery log and replay. */
export function registerRestWebhooks(app: FastifyInstance, ctx: AppContext): void {
  const webhooks = () => ctx.services.webhooks;

  app.get('/webhooks/', restRoute('List webhooks'), async (request) => (await webhooks().list(projectOf(request))).map(toRestWebhook));

  app.post('/webhooks/', restRoute('Create a webhook', '`target_url`, `event`, `is_active`, `signing_secret` (JSON or form-encoded). Events: `file.uploaded`, `file.stored`, `file.deleted`, `file.info_updated`, and `file.infected`, which is accepted for Uploadcare compatibility but never sent yet: no virus scanner runs in Trove.'), async (request, reply) => {
    const hook = await webhooks().create(projectOf(request), webhookInput(request.body));
    return reply.code(201).send(toRestWebhook(hook));
  });

  app.put('/webhooks/:id/', restRoute('Update a webhook'), async (request) => toRestWebhook(await webhooks().update(projectOf(request), idParam(request), webhookInput(request.body))));

  app.delete('/webhooks/:id/', restRoute('Delete one webhook (Trove)', 'Uploadcare deletes by target URL (`/webhooks/unsubscribe/`), which removes every event sent there; this removes just one subscription.'), async (request, reply) => {
    await webhooks().remove(projectOf(request), idParam(request));
    return reply.code(204).send();
  });

  app.delete('/webhooks/unsubscribe/', restRoute('Delete webhooks by target URL'), async (request, reply) => {
    await webhooks().unsubscribe(projectOf(request), bodyObject(request.body).target_url);
    return reply.code(204).send();
  });

  app.get(
    '/webhooks/:id/deliveries/',
    restRoute('Delivery log of a webhook (Trove)', 'Newest first; every attempt with status, latency and error. `limit` (1–100), `before` (a `created` time).'),
    async (request) => {
      const query = queryOf(request);
      const limit = query.limit === undefined ? 50 : Number(query.limit);
      if (!Number.isInteger(limit) || limit < 1 || limit > 100) throw createAppError('PARAMETER_INVALID', 400, '`limit` must be an integer from 1 to 100.');
      const before = query.before && Number.isFinite(Date.parse(query.before)) ? new Date(query.before).toISOString() : null;
      const log = await webhooks().deliveryLog(projectOf(request), idParam(request), { limit, before });
      return { results: log.map(toRestDelivery) };
    },
  );

  app.post('/webhooks/:id/deliveries/:delivery/replay/', restRoute('Send a delivery again (Trove)'), async (request, reply) => {
    const deliveryId = (request.params as { delivery?: string }).delivery ?? '';
    const delivery = await webhooks().replay(projectOf(request), idParam(request), deliveryId);
    return reply.code(202).send(toRestDelivery(delivery));
  });
}
