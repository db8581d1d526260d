/** Events a webhook can subscribe to (Uploadcare REST API v0.7). */
export const WEBHOOK_EVENTS = ['file.uploaded', 'file.stored', 'file.deleted', 'file.info_updated', 'file.infected'] as const;
export type WebhookEvent = (typeof WEBHOOK_EVENTS)[number];

export function isWebhookEvent(value: unknown): value is WebhookEvent {
  return typeof value === 'string' && (WEBHOOK_EVENTS as readonly string[]).includes(value);
}

export interface Webhook {
  id: number;
  projectId: string;
  targetUrl: string;
  event: WebhookEvent;
  isActive: boolean;
  /** Key of the `X-Uc-Signature` HMAC; null: deliveries are unsigned. */
  signingSecret: string | null;
  version: string;
  createdAt: string;
  updatedAt: string;
}

export type DeliveryStatus = 'pending' | 'delivered' | 'failed';

/** One event for one subscription; retried until delivered or out of attempts. */
export interface WebhookDelivery {
  id: string;
  webhookId: number;
  projectId: string;
  event: WebhookEvent;
  targetUrl: string;
  /** The exact JSON body sent (and signed) on every attempt. */
  payload: string;
  status: DeliveryStatus;
  attempts: number;
  lastStatusCode: number | null;
  lastError: string | null;
  createdAt: string;
  updatedAt: string;
  deliveredAt: string | null;
}

export interface WebhookAttempt {
  id: string;
  deliveryId: string;
  attempt: number;
  /** HTTP status of the receiver's answer; null when there was none (refused, timeout, blocked). */
  statusCode: number | null;
  latencyMs: number;
  error: string | null;
  createdAt: string;
}

/** Uploadcare limits: target_url up to 255 characters, signing_secret up to 32. */
export const MAX_TARGET_URL_LENGTH = 255;
export const MAX_SIGNING_SECRET_LENGTH = 32;

/** Who caused a file event, as Uploadcare's webhook payloads say (`initiator`). */
export interface WebhookInitiator {
  type: 'api' | 'system' | 'addon';
  detail: { request_id: string | null; addon_name: string | null; source_file_uuid: string | null };
}

/** Changes made through the REST or Upload API. */
export const API_INITIATOR: WebhookInitiator = { type: 'api', detail: { request_id: null, addon_name: null, source_file_uuid: null } };

export function addonInitiator(addonName: string, requestId: string): WebhookInitiator {
  return { type: 'addon', detail: { request_id: requestId, addon_name: addonName, source_file_uuid: null } };
}
