import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import type { HttpContext } from '../../http-context.js';
import type { Webhook, WebhookDelivery } from '../../../domain/webhook.js';
import type { DeliveryLogEntry, WebhookInput } from '../../../services/webhook.service.js';
import { projectOf } from './rest-request.js';
import { limitOf, restRoute } from './rest-params.js';
import {
  DeliveryLogQuerySchema,
  DeliveryLogSchema,
  DeliveryParamsSchema,
  NoContentSchema,
  UnsubscribeBodySchema,
  WebhookCreateBodySchema,
  WebhookDeliverySchema,
  WebhookListSchema,
  WebhookParamsSchema,
  WebhookSchema,
  WebhookUpdateBodySchema,
  restBodyErrorResponses,
  restErrorResponses,
  type RestWebhook,
  type RestWebhookDelivery,
  type WebhookCreateBody,
} from './schemas.js';

function toRestWebhook(hook: Webhook): RestWebhook {
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

function toRestDelivery(delivery: WebhookDelivery | DeliveryLogEntry): RestWebhookDelivery {
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

function webhookInput(fields: WebhookCreateBody): WebhookInput {
  return { targetUrl: fields.target_url, event: fields.event, isActive: fields.is_active, signingSecret: fields.signing_secret, version: fields.version };
}

/** `/webhooks/…`: subscriptions (Uploadcare), plus Trove's delivery log and replay. */
export function registerRestWebhooks(fastify: FastifyInstance, ctx: HttpContext): void {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  const webhooks = () => ctx.services.webhooks;

  app.get(
    '/webhooks/',
    restRoute({ operationId: 'listWebhooks', summary: 'List webhooks', response: { 200: WebhookListSchema, ...restErrorResponses } }),
    async (request) => (await webhooks().list(projectOf(request))).map(toRestWebhook),
  );

  app.post(
    '/webhooks/',
    restRoute({
      operationId: 'createWebhook',
      summary: 'Create a webhook',
      description:
        '`target_url`, `event`, `is_active`, `signing_secret` (JSON or form-encoded). Events: `file.uploaded`, `file.stored`, `file.deleted`, `file.info_updated`, and `file.infected`, which is accepted for Uploadcare compatibility but never sent yet: no virus scanner runs in Trove.',
      body: WebhookCreateBodySchema,
      response: { 201: WebhookSchema, ...restBodyErrorResponses },
    }),
    async (request, reply) => {
      const hook = await webhooks().create(projectOf(request), webhookInput(request.body));
      return reply.code(201).send(toRestWebhook(hook));
    },
  );

  app.put(
    '/webhooks/:id/',
    restRoute({
      operationId: 'updateWebhook',
      summary: 'Update a webhook',
      params: WebhookParamsSchema,
      body: WebhookUpdateBodySchema,
      response: { 200: WebhookSchema, ...restBodyErrorResponses },
    }),
    async (request) => toRestWebhook(await webhooks().update(projectOf(request), Number(request.params.id), webhookInput(request.body))),
  );

  app.delete(
    '/webhooks/:id/',
    restRoute({
      operationId: 'deleteWebhook',
      summary: 'Delete one webhook (Trove)',
      description: 'Uploadcare deletes by target URL (`/webhooks/unsubscribe/`), which removes every event sent there; this removes just one subscription.',
      params: WebhookParamsSchema,
      response: { 204: NoContentSchema, ...restErrorResponses },
    }),
    async (request, reply) => {
      await webhooks().remove(projectOf(request), Number(request.params.id));
      return reply.code(204).send();
    },
  );

  app.delete(
    '/webhooks/unsubscribe/',
    restRoute({
      operationId: 'unsubscribeWebhooks',
      summary: 'Delete webhooks by target URL',
      body: UnsubscribeBodySchema,
      response: { 204: NoContentSchema, ...restBodyErrorResponses },
    }),
    async (request, reply) => {
      await webhooks().unsubscribe(projectOf(request), request.body.target_url);
      return reply.code(204).send();
    },
  );

  app.get(
    '/webhooks/:id/deliveries/',
    restRoute({
      operationId: 'listWebhookDeliveries',
      summary: 'Delivery log of a webhook (Trove)',
      description: 'Newest first; every attempt with status, latency and error. `limit` (1–100), `before` (a `created` time).',
      params: WebhookParamsSchema,
      querystring: DeliveryLogQuerySchema,
      response: { 200: DeliveryLogSchema, ...restErrorResponses },
    }),
    async (request) => {
      const { limit, before } = request.query;
      // An unreadable `before` is ignored rather than refused, as it always was.
      const beforeTime = before && Number.isFinite(Date.parse(before)) ? new Date(before).toISOString() : null;
      const log = await webhooks().deliveryLog(projectOf(request), Number(request.params.id), { limit: limitOf(limit, 50), before: beforeTime });
      return { results: log.map(toRestDelivery) };
    },
  );

  app.post(
    '/webhooks/:id/deliveries/:delivery/replay/',
    restRoute({
      operationId: 'replayWebhookDelivery',
      summary: 'Send a delivery again (Trove)',
      params: DeliveryParamsSchema,
      response: { 202: WebhookDeliverySchema, ...restErrorResponses },
    }),
    async (request, reply) => {
      const delivery = await webhooks().replay(projectOf(request), Number(request.params.id), request.params.delivery);
      return reply.code(202).send(toRestDelivery(delivery));
    },
  );
}
