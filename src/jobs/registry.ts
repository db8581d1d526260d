import type { JobRegistration, JobRegistry } from '../ports/job-queue.js';
import { EAGER_TRANSFORM_JOB, type EagerTransformService } from '../services/eager-transform.service.js';
import { FILE_PURGE_JOB, type FileManagementService } from '../services/file-management.service.js';
import { WEBHOOK_DELIVERY_JOB, type WebhookService } from '../services/webhook.service.js';

/** Every job Trove enqueues. A name without exactly one registration stops Trove at start. */
export const JOB_NAMES = [WEBHOOK_DELIVERY_JOB, FILE_PURGE_JOB, EAGER_TRANSFORM_JOB] as const;

export function buildJobRegistry(services: { webhooks: WebhookService; files: FileManagementService; eager: EagerTransformService; transformTimeoutMs: number }): JobRegistry {
  const registrations: Array<[string, JobRegistration]> = [
    [
      WEBHOOK_DELIVERY_JOB,
      { handler: (job) => services.webhooks.deliver(job), ...services.webhooks.jobRegistration() },
    ],
    [
      FILE_PURGE_JOB,
      {
        handler: (job) => services.files.purge(job),
        retry: { maxAttempts: 10, baseDelayMs: 5_000, maxDelayMs: 3_600_000 },
        visibilityTimeoutMs: 10 * 60_000,
      },
    ],
    [
      EAGER_TRANSFORM_JOB,
      {
        handler: (job) => services.eager.run(job),
        retry: { maxAttempts: 5, baseDelayMs: 5_000, maxDelayMs: 300_000 },
        // A transformation is bounded by its own timeout; its wait in the scheduler's queue is not.
        visibilityTimeoutMs: 10 * 60_000 + services.transformTimeoutMs,
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
