import { createHash, createHmac, randomUUID } from 'node:crypto';
import type { StoredFile } from '../domain/file.js';
import type { Project } from '../domain/project.js';
import { type PublicBases, toRestFile } from '../domain/rest-file.js';
import {
  API_INITIATOR,
  isWebhookEvent,
  MAX_SIGNING_SECRET_LENGTH,
  MAX_TARGET_URL_LENGTH,
  type Webhook,
  type WebhookAttempt,
  type WebhookDelivery,
  type WebhookEvent,
  type WebhookInitiator,
} from '../domain/webhook.js';
import { createAppError } from '../errors.js';
import { FetchError, type GuardedFetcher } from '../ports/fetcher.js';
import { WEBHOOK_DELIVERY_JOB, type WebhookDeliveryPayload } from '../jobs/catalogue.js';
import { enqueueJob } from '../jobs/typed-jobs.js';
import type { JobQueue, RetryPolicy, RunningJob } from '../ports/job-queue.js';
import type { OutboxEvent, WebhookPatch, WebhooksRepository } from '../ports/repositories.js';
import type { ShardResolver } from '../ports/shards.js';
import { isHomeShard, shardForJob, sumOverShards } from './shard-lookup.js';
import type { Clock } from '../lib/clock.js';

export interface WebhookInput {
  targetUrl?: unknown;
  event?: unknown;
  isActive?: unknown;
  signingSecret?: unknown;
  version?: unknown;
}

export interface DeliveryLogEntry extends WebhookDelivery {
  attemptLog: WebhookAttempt[];
}

interface WebhookSettings {
  /** Deadline of one delivery attempt. */
  timeoutMs: number;
  /** Where file URLs in payloads point. */
  bases: PublicBases;
  retry: RetryPolicy;
}

/** Webhook subscriptions of a project, and the delivery of file events to them. */
export class WebhookService {
  constructor(
    private readonly shards: ShardResolver,
    private readonly jobs: JobQueue,
    private readonly fetcher: GuardedFetcher,
    private readonly clock: Clock,
    private readonly settings: WebhookSettings,
  ) {}

  async list(project: Project): Promise<Webhook[]> {
    return (await this.hooksOf(project)).list(project.id);
  }

  async create(project: Project, input: WebhookInput): Promise<Webhook> {
    if (input.targetUrl === undefined || input.targetUrl === null || input.targetUrl === '') {
      throw createAppError('TARGET_URL_MISSING', 400, '`target_url` is missing.');
    }
    const targetUrl = checkTargetUrl(input.targetUrl);
    const event = input.event === undefined ? 'file.uploaded' : checkEvent(input.event);
    if (await (await this.hooksOf(project)).findByTarget(project.id, targetUrl, event)) {
      throw createAppError('WEBHOOK_EXISTS', 400, `A webhook for ${event} to this target_url already exists.`);
    }
    return (await this.hooksOf(project)).create({
      projectId: project.id,
      targetUrl,
      event,
      isActive: input.isActive === undefined ? true : checkBoolean(input.isActive, 'is_active'),
      signingSecret: input.signingSecret === undefined || input.signingSecret === null ? null : checkSecret(input.signingSecret),
      version: input.version === undefined || input.version === '' ? '0.7' : checkVersion(input.version),
      at: this.clock.now().toISOString(),
    });
  }

  async update(project: Project, id: number, input: WebhookInput): Promise<Webhook> {
    const patch: WebhookPatch = {};
    if (input.targetUrl !== undefined) patch.targetUrl = checkTargetUrl(input.targetUrl);
    if (input.event !== undefined) patch.event = checkEvent(input.event);
    if (input.isActive !== undefined) patch.isActive = checkBoolean(input.isActive, 'is_active');
    if (input.signingSecret !== undefined) patch.signingSecret = input.signingSecret === null || input.signingSecret === '' ? null : checkSecret(input.signingSecret);
    const current = await (await this.hooksOf(project)).find(project.id, id);
    if (!current) throw createAppError('NOT_FOUND', 404, 'Not found.');
    const target = patch.targetUrl ?? current.targetUrl;
    const event = patch.event ?? current.event;
    const clash = await (await this.hooksOf(project)).findByTarget(project.id, target, event);
    if (clash && clash.id !== id) throw createAppError('WEBHOOK_EXISTS', 400, `A webhook for ${event} to this target_url already exists.`);
    const updated = await (await this.hooksOf(project)).update(project.id, id, patch, this.clock.now().toISOString());
    if (!updated) throw createAppError('NOT_FOUND', 404, 'Not found.');
    return updated;
  }

  async remove(project: Project, id: number): Promise<void> {
    if (!(await (await this.hooksOf(project)).delete(project.id, id))) throw createAppError('NOT_FOUND', 404, 'Not found.');
  }

  async unsubscribe(project: Project, targetUrl: unknown): Promise<void> {
    if (typeof targetUrl !== 'string' || targetUrl === '') throw createAppError('TARGET_URL_MISSING', 400, '`target_url` is missing.');
    const removed = await (await this.hooksOf(project)).deleteByTarget(project.id, targetUrl);
    if (removed === 0) throw createAppError('NOT_FOUND', 404, 'Not found.');
  }

  /**
   * One delivery per active subscription for a recorded event, and its job. Delivery ids derive
   * from the event and the subscription, so dispatching the same event again (after a crash or a
   * queue outage) adds no delivery and, through the dedupe key, no second job.
   */
  async dispatch(project: Project, event: OutboxEvent, file: StoredFile): Promise<number> {
    const hooks = await (await this.hooksOf(project)).active(project.id, event.event);
    if (hooks.length === 0) return 0;
    const at = this.clock.now().toISOString();
    const deliveries: WebhookDelivery[] = hooks.map((hook) => ({
      id: deliveryId(event.id, hook.id),
      webhookId: hook.id,
      projectId: project.id,
      event: event.event,
      targetUrl: hook.targetUrl,
      payload: JSON.stringify(this.payload(project, hook, event.event, file, event.initiator ?? API_INITIATOR, event.previousValues ?? undefined)),
      status: 'pending',
      attempts: 0,
      lastStatusCode: null,
      lastError: null,
      createdAt: at,
      updatedAt: at,
      deliveredAt: null,
    }));
    await (await this.hooksOf(project)).createDeliveries(deliveries);
    for (const delivery of deliveries) await this.enqueue(delivery.id, project.id);
    return deliveries.length;
  }

  /** Queues again pending deliveries nobody has touched for `idleMs`: their job was lost with the queue's data. */
  async requeueStale(idleMs: number): Promise<number> {
    const before = new Date(this.clock.now().getTime() - idleMs).toISOString();
    return sumOverShards(this.shards, async (shard) => {
      const stale = await shard.webhooks.listStalePending(before, 100);
      let queued = 0;
      for (const delivery of stale) {
        // A moving project's copy on its new shard is not sent twice.
        if (!(await isHomeShard(this.shards, shard, delivery.projectId))) continue;
        await this.enqueue(delivery.id, delivery.projectId);
        queued += 1;
      }
      return queued;
    });
  }

  /** The project's subscriptions and deliveries, on its shard. */
  private async hooksOf(project: Project): Promise<WebhooksRepository> {
    return (await this.shards.forProject(project.id)).webhooks;
  }

  private enqueue(id: string, projectId: string): Promise<string> {
    return enqueueJob(this.jobs, WEBHOOK_DELIVERY_JOB, { deliveryId: id, projectId }, { dedupeKey: `webhook:${id}` });
  }

  /** The job handler: one attempt; a failure throws so the queue retries with backoff. */
  async deliver(job: RunningJob<WebhookDeliveryPayload>): Promise<void> {
    const found = await shardForJob(this.shards, job.payload.projectId, (shard) => shard.webhooks.findDelivery(job.payload.deliveryId));
    // At-least-once queues may hand a job out twice; a delivered event is not sent again.
    if (!found || found.record.status === 'delivered') return;
    const delivery = found.record;
    const hook = await found.shard.webhooks.find(delivery.projectId, delivery.webhookId);
    const started = performance.now();
    let statusCode: number | null = null;
    let error: string | null = null;
    if (!hook) {
      error = 'The webhook was deleted before this event could be delivered.';
    } else {
      try {
        const headers: Record<string, string> = { 'content-type': 'application/json' };
        if (hook.signingSecret) headers['x-uc-signature'] = `v1=${createHmac('sha256', hook.signingSecret).update(delivery.payload).digest('hex')}`;
        const response = await this.fetcher.fetch(delivery.targetUrl, { timeoutMs: this.settings.timeoutMs, maxBytes: 64 * 1024, maxRedirects: 0 }, undefined, {
          method: 'POST',
          headers,
          body: Buffer.from(delivery.payload),
        });
        statusCode = response.status;
        response.body.destroy();
      } catch (caught) {
        if (caught instanceof FetchError) {
          statusCode = caught.status ?? null;
          error = caught.message;
        } else {
          error = caught instanceof Error ? caught.message : String(caught);
        }
      }
    }
    const delivered = error === null && statusCode !== null && statusCode >= 200 && statusCode < 300;
    const lastAttempt = !hook || job.attempt >= this.settings.retry.maxAttempts;
    // Looked up again: the attempt may have outlasted a move of the project to another shard.
    await (await this.shards.forProject(delivery.projectId)).webhooks.recordAttempt({
      attempt: {
        id: randomUUID(),
        deliveryId: delivery.id,
        attempt: delivery.attempts + 1,
        statusCode,
        latencyMs: Math.round(performance.now() - started),
        error,
        createdAt: this.clock.now().toISOString(),
      },
      status: delivered ? 'delivered' : lastAttempt ? 'failed' : 'pending',
    });
    if (!delivered && !lastAttempt) throw new Error(error ?? `The receiver answered HTTP ${statusCode}.`);
  }

  async deliveryLog(project: Project, webhookId: number, options: { limit: number; before: string | null }): Promise<DeliveryLogEntry[]> {
    if (!(await (await this.hooksOf(project)).find(project.id, webhookId))) throw createAppError('NOT_FOUND', 404, 'Not found.');
    const deliveries = await (await this.hooksOf(project)).listDeliveries(project.id, webhookId, options);
    const attempts = await (await this.hooksOf(project)).listAttempts(deliveries.map((d) => d.id));
    return deliveries.map((delivery) => ({ ...delivery, attemptLog: attempts.filter((a) => a.deliveryId === delivery.id) }));
  }

  /** Sends a past delivery again (after a receiver outage, or to test a receiver). */
  async replay(project: Project, webhookId: number, deliveryId: string): Promise<WebhookDelivery> {
    const delivery = await (await this.hooksOf(project)).findDelivery(deliveryId);
    if (!delivery || delivery.projectId !== project.id || delivery.webhookId !== webhookId) throw createAppError('NOT_FOUND', 404, 'Not found.');
    await (await this.hooksOf(project)).reopenDelivery(delivery.id, this.clock.now().toISOString());
    // Not deduplicated: a replay runs now, even while a retry of the same delivery waits its turn.
    await enqueueJob(this.jobs, WEBHOOK_DELIVERY_JOB, { deliveryId: delivery.id, projectId: project.id });
    return { ...delivery, status: 'pending' };
  }

  private payload(project: Project, hook: Webhook, event: WebhookEvent, file: StoredFile, initiator: WebhookInitiator, previousValues?: Record<string, unknown>) {
    const data = toRestFile(file, this.settings.bases, { appdata: true });
    return {
      initiator,
      hook: {
        id: hook.id,
        project_id: project.id,
        project_pub_key: project.publicKey,
        target: hook.targetUrl,
        event,
        is_active: hook.isActive,
        version: hook.version,
        created_at: hook.createdAt,
        updated_at: hook.updatedAt,
      },
      data,
      file: `${this.settings.bases.cdnBase}/${file.uuid}/${encodeURIComponent(file.filename)}`,
      ...(previousValues ? { previous_values: previousValues } : {}),
    };
  }
}

function deliveryId(eventId: string, webhookId: number): string {
  const hex = createHash('sha256').update(`${eventId}:${webhookId}`).digest('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
}

function checkTargetUrl(value: unknown): string {
  if (typeof value !== 'string' || value.length > MAX_TARGET_URL_LENGTH) {
    throw createAppError('TARGET_URL_INVALID', 400, `\`target_url\` must be an http(s) URL of at most ${MAX_TARGET_URL_LENGTH} characters.`);
  }
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw createAppError('TARGET_URL_INVALID', 400, '`target_url` is not a valid URL.');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw createAppError('TARGET_URL_INVALID', 400, '`target_url` must use http or https.');
  if (url.username || url.password) throw createAppError('TARGET_URL_INVALID', 400, '`target_url` must not carry credentials.');
  return value;
}

function checkEvent(value: unknown): WebhookEvent {
  if (!isWebhookEvent(value)) {
    throw createAppError('EVENT_INVALID', 400, '`event` must be one of file.uploaded, file.stored, file.deleted, file.info_updated, file.infected.');
  }
  return value;
}

function checkBoolean(value: unknown, name: string): boolean {
  if (value === true || value === 'true' || value === '1') return true;
  if (value === false || value === 'false' || value === '0') return false;
  throw createAppError('PARAMETER_INVALID', 400, `\`${name}\` should be \`true\` or \`false\`.`);
}

function checkSecret(value: unknown): string {
  if (typeof value !== 'string' || value.length === 0 || value.length > MAX_SIGNING_SECRET_LENGTH) {
    throw createAppError('SIGNING_SECRET_INVALID', 400, `\`signing_secret\` must be a string of 1 to ${MAX_SIGNING_SECRET_LENGTH} characters.`);
  }
  return value;
}

function checkVersion(value: unknown): string {
  if (value !== '0.7') throw createAppError('VERSION_INVALID', 400, '`version` must be "0.7".');
  return value;
}
