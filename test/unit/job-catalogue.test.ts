import { createHash, randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { assertValidRegistration } from '../../src/adapters/queue/retry-delay.js';
import { loadConfig } from '../../src/config/load-config.js';
import { createTrove } from '../../src/context.js';
import { originalBlobKey } from '../../src/domain/blob-layout.js';
import { purgeOfFiles } from '../../src/domain/cache-tags.js';
import {
  ADDON_EXECUTE_JOB,
  ADDON_RETRY,
  CDN_PURGE_JOB,
  DOCUMENT_CONVERT_JOB,
  EAGER_TRANSFORM_JOB,
  FILE_PURGE_JOB,
  JOB_NAMES,
  JOBS,
  VIDEO_CONVERT_JOB,
  VIDEO_HLS_JOB,
  IMAGE_ANALYZE_JOB,
  FACES_DETECT_JOB,
  WEBHOOK_DELIVERY_JOB,
  webhookRetryPolicy,
  type JobDefinition,
} from '../../src/jobs/catalogue.js';
import { checkRegistry } from '../../src/jobs/registry.js';
import { bindJob, payloadProblem } from '../../src/jobs/typed-jobs.js';
import type { JobPayload, JobRegistration } from '../../src/ports/job-queue.js';

const DEFAULTS = loadConfig({ DATA_DIR: tmpdir() });

describe('the job catalogue', () => {
  it('names every job once, each with an object schema and a policy the queues accept', () => {
    expect(JOB_NAMES).toEqual(JOBS.map((job) => job.name));
    expect(new Set(JOB_NAMES).size).toBe(JOBS.length);
    expect([...JOB_NAMES].sort()).toEqual(['addon.execute', 'cdn.purge', 'document.convert', 'faces.detect', 'file.purge', 'image.analyze', 'transform.eager', 'video.convert', 'video.hls', 'webhook.deliver']);
    for (const job of JOBS) {
      expect(job.payload.type, job.name).toBe('object');
      expect(() => assertValidRegistration(job.name, job.policy(DEFAULTS)), job.name).not.toThrow();
    }
  });

  it('gives each job the lease and retries its handler needs', () => {
    const webhook = WEBHOOK_DELIVERY_JOB.policy(DEFAULTS);
    expect(webhook.retry).toEqual(webhookRetryPolicy(DEFAULTS.webhooks.retryBaseMs));
    // A lease shorter than the handler's deadline would hand a running job to a second worker.
    expect(webhook.visibilityTimeoutMs).toBeGreaterThan(DEFAULTS.webhooks.timeoutMs);
    expect(EAGER_TRANSFORM_JOB.policy(DEFAULTS).visibilityTimeoutMs).toBeGreaterThan(DEFAULTS.transform.timeoutMs);
    // Two exchanges with clamd (its version, then the scan) fit in one lease.
    const scanning = loadConfig({ DATA_DIR: tmpdir(), TROVE_CLAMD_URL: 'tcp://127.0.0.1:3310', TROVE_CLAMD_TIMEOUT: '90s' });
    expect(ADDON_EXECUTE_JOB.policy(scanning)).toEqual({ retry: ADDON_RETRY, visibilityTimeoutMs: 2 * 90_000 + 30_000 });
    expect(ADDON_EXECUTE_JOB.policy(DEFAULTS).visibilityTimeoutMs).toBeGreaterThan(2 * 60_000);
    const purge: JobDefinition = FILE_PURGE_JOB;
    expect(purge.policy(DEFAULTS)).toEqual({
      retry: { maxAttempts: 10, baseDelayMs: 5_000, maxDelayMs: 3_600_000 },
      visibilityTimeoutMs: 600_000,
    });
    // A purge waits up to 30 s for its provider's budget, then calls it within TROVE_PURGE_TIMEOUT.
    expect(CDN_PURGE_JOB.policy(DEFAULTS).visibilityTimeoutMs).toBeGreaterThan(30_000 + DEFAULTS.purge.timeoutMs);
    // A process leases as many video jobs as it has slots, so a leased one starts at once and runs within TROVE_VIDEO_TIMEOUT.
    const slow = loadConfig({ DATA_DIR: tmpdir(), TROVE_VIDEO_TIMEOUT: '2h', TROVE_VIDEO_CONCURRENCY: '2' });
    expect(VIDEO_CONVERT_JOB.policy(slow).visibilityTimeoutMs).toBeGreaterThan(2 * 3_600_000);
    expect(VIDEO_HLS_JOB.policy(slow).visibilityTimeoutMs).toBeGreaterThan(2 * 3_600_000);
    // Video jobs run in their own lane, so they hold none of the default lane's leases.
    expect([VIDEO_CONVERT_JOB.lane, VIDEO_HLS_JOB.lane]).toEqual(['video', 'video']);
    // Document conversions have a lane of their own too, and a lease of minutes: LibreOffice's deadline and the pages after it, twice.
    expect(DOCUMENT_CONVERT_JOB.lane).toBe('document');
    const documentLease = DOCUMENT_CONVERT_JOB.policy(DEFAULTS).visibilityTimeoutMs;
    expect(documentLease).toBe(2 * (DEFAULTS.documents.libreOfficeTimeoutMs + 10 * 60_000));
    expect(documentLease).toBeLessThan(3_600_000);
  });

  describe('accepts what each producer sends', () => {
    // Built as the producers build them: the delivery id as WebhookService derives it from an event
    // and a hook, the purge from a stored file, the eager path as EagerTransformService normalises it.
    const uuid = randomUUID();
    const hex = createHash('sha256').update(`${randomUUID()}:7`).digest('hex');
    const deliveryId = `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
    const produced: Array<[JobDefinition, JobPayload]> = [
      [WEBHOOK_DELIVERY_JOB, { deliveryId }],
      [FILE_PURGE_JOB, { uuid, blobKey: originalBlobKey(uuid) }],
      [EAGER_TRANSFORM_JOB, { uuid, path: '-/resize/200x/-/format/webp/' }],
      [ADDON_EXECUTE_JOB, { requestId: randomUUID() }],
      [CDN_PURGE_JOB, { provider: 'cloudflare', ...purgeOfFiles([uuid], '') }],
      [VIDEO_CONVERT_JOB, { token: '123456789' }],
      [VIDEO_HLS_JOB, { uuid: '00000000-0000-4000-8000-000000000000' }],
      [IMAGE_ANALYZE_JOB, { projectId: 'p', uuid: '00000000-0000-4000-8000-000000000000' }],
      [FACES_DETECT_JOB, { projectId: 'p', uuid: '00000000-0000-4000-8000-000000000000' }],
      [DOCUMENT_CONVERT_JOB, { token: '123456789' }],
    ];

    it('covers every job', () => {
      expect(produced.map(([job]) => job.name).sort()).toEqual([...JOB_NAMES].sort());
    });

    it.each(produced.map(([job, payload]) => [job.name, job, payload] as const))('%s', (_name, job, payload) => {
      expect(payloadProblem(job, payload)).toBeNull();
    });
  });

  it('names the job and each wrong field when it refuses a payload', () => {
    expect(payloadProblem(FILE_PURGE_JOB, { uuid: 42, blobKey: 'originals/ab/abc' })).toBe('payload of file.purge: /uuid must be string');
    const missing = payloadProblem(EAGER_TRANSFORM_JOB, { uuid: randomUUID() });
    expect(missing).toMatch(/^payload of transform\.eager: /);
    expect(missing).toContain('path');
    expect(payloadProblem(WEBHOOK_DELIVERY_JOB, { deliveryId: null })).toBe('payload of webhook.deliver: /deliveryId must be string');
    // A field added by a newer producer does not make the job dead on an older worker.
    expect(payloadProblem(FILE_PURGE_JOB, { uuid: 'u', blobKey: 'k', reason: 'expired' })).toBeNull();
  });

  it('has bound handlers run only on payloads that fit', async () => {
    const seen: string[] = [];
    const registration = bindJob(FILE_PURGE_JOB, async (job) => void seen.push(job.payload.blobKey), DEFAULTS);
    const run = { id: 'j1', name: FILE_PURGE_JOB.name, attempt: 1, enqueuedAt: new Date().toISOString() };
    expect(registration.checkPayload({ uuid: 'u' })).toBe('payload of file.purge: / must have required properties blobKey');
    await expect(registration.handler({ ...run, payload: { uuid: 'u' } })).rejects.toThrow(/payload of file\.purge/);
    await registration.handler({ ...run, payload: { uuid: 'u', blobKey: 'k' } });
    expect(seen).toEqual(['k']);
  });
});

describe('the job registry', () => {
  const registrationOf = (job: JobDefinition): JobRegistration => bindJob(job, async () => undefined, DEFAULTS);

  it('is built by Trove with one registration per job of the catalogue, on its policy', async () => {
    const dataDir = await mkdtemp(path.join(tmpdir(), 'trove-jobs-'));
    const config = loadConfig({ DATA_DIR: dataDir, LOG_LEVEL: 'silent' });
    const ctx = await createTrove(config);
    try {
      expect([...ctx.jobRegistry.keys()].sort()).toEqual([...JOB_NAMES].sort());
      for (const job of JOBS) {
        const { retry, visibilityTimeoutMs } = ctx.jobRegistry.get(job.name)!;
        expect({ retry, visibilityTimeoutMs }, job.name).toEqual(job.policy(config));
      }
    } finally {
      await ctx.close();
      await rm(dataDir, { recursive: true, force: true });
    }
  });

  it('refuses a job without a handler, with two, or outside the catalogue', () => {
    const all = JOBS.map((job) => [job.name, registrationOf(job)] as const);
    expect(checkRegistry(all).size).toBe(JOBS.length);
    expect(() => checkRegistry(all.slice(1))).toThrow(`Job "${JOBS[0]!.name}" has no handler.`);
    expect(() => checkRegistry([...all, all[0]!])).toThrow(/has two handlers/);
    expect(() => checkRegistry([...all, ['mystery', registrationOf(FILE_PURGE_JOB)]])).toThrow(/"mystery" is registered but not in the job catalogue/);
  });
});
