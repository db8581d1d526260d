import type { JobRegistration, JobRegistry } from '../ports/job-queue.js';
import { FILE_PURGE_JOB, type FileManagementService } from '../services/file-management.service.js';
import { WEBHOOK_DELIVERY_JOB, WEBHOOK_RETRY, type WebhookService } from '../services/webhook.service.js';

/** Every job Trove enqueues. A name without exactly one registration stops Trove at start. */
export const JOB_NAMES = [WEBHOOK_DELIVERY_JOB, FILE_PURGE_JOB] as const;

export function buildJobRegistry(services: { webhooks: WebhookService; files: FileManagementService }): JobRegistry {
  const registrations: Array<[string, JobRegistration]> = [
    [
      WEBHOOK_DELIVERY_JOB,
      {
        handler: (job) => services.webhooks.deliver(job),
        retry: WEBHOOK_RETRY,
        // Longer than one attempt's deadline (TROVE_WEBHOOK_TIMEOUT, at most a few minutes in practice).
        visibilityTimeoutMs: 5 * 60_000,
      },
    ],
    [
      FILE_PURGE_JOB,
      {
        handler: (job) => services.files.purge(job),
        retry: { maxAttempts: 10, baseDelayMs: 5_000, maxDelayMs: 3_600_000 },
        visibilityTimeoutMs: 10 * 60_000,
      },
    ],
  ];
  return checkRegistry(registrations);
}

export function checkRegistry(registrations: ReadonlyArray<readonly [string, JobRegistration]>): JobRegistry {
  const registry = new Map<string, JobRegistration>();
  for (const [name, registration] of registrations) {
    if (registry.has(name)) throw new Error(`Job "${name}" has two handlers.`);
    registry.set(name, registration);
  }
  for (const name of JOB_NAMES) {
    if (!registry.has(name)) throw new Error(`Job "${name}" has no handler.`);
  }
  for (const name of registry.keys()) {
    if (!(JOB_NAMES as readonly string[]).includes(name)) throw new Error(`Job "${name}" is registered but not declared in JOB_NAMES.`);
  }
  return registry;
}
