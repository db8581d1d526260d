/**
 * CachePurgeService on a real job queue (SQLite), the in-process rate limiter and real adapters
 * against provider stand-ins: purges wait for their provider's budget instead of being dropped, a
 * failed call is retried, and a purge for a provider no longer configured is dropped with a count.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KyselyMetadataStore } from '../../src/adapters/db/kysely-metadata-store.js';
import type { SqlJobQueue } from '../../src/adapters/queue/sql.job-queue.js';
import { MemoryRateLimiter } from '../../src/adapters/rate-limit/memory.rate-limiter.js';
import { parseCloudflareSetting, parseShieldSetting, type PurgeConfig } from '../../src/config/purge-settings.js';
import { CDN_PURGE_JOB, type JobSettings } from '../../src/jobs/catalogue.js';
import { bindJob, enqueueJob } from '../../src/jobs/typed-jobs.js';
import { CachePurgeService, type PurgeOutcome } from '../../src/services/cache-purge.service.js';
import { createPurgeTargets } from '../../src/wiring/purge.js';
import { purgeSettingFor, startPurgeStandIn, type PurgeStandIn } from '../helpers/purge-stand-ins.js';

const SETTINGS: JobSettings = { webhooks: { timeoutMs: 1_000, retryBaseMs: 1_000 }, transform: { timeoutMs: 1_000 }, purge: { timeoutMs: 1_000 } };

describe('CachePurgeService', () => {
  let dir: string;
  let store: KyselyMetadataStore;
  let queue: SqlJobQueue;
  let cloudflare: PurgeStandIn;
  let shield: PurgeStandIn;
  let service: CachePurgeService;
  const outcomes: Array<[string, PurgeOutcome]> = [];

  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'trove-purge-service-'));
    store = new KyselyMetadataStore({ kind: 'sqlite', path: path.join(dir, 'trove.db') });
    await store.migrate();
    queue = store.createJobQueue({ pollIntervalMs: 50 });
    [cloudflare, shield] = await Promise.all([startPurgeStandIn('cloudflare'), startPurgeStandIn('shield')]);
    const config: PurgeConfig = {
      shield: parseShieldSetting(purgeSettingFor(shield)),
      http: null,
      // Two requests a second, one at a time.
      cloudflare: parseCloudflareSetting(purgeSettingFor(cloudflare, 'rate=2/s&burst=1')),
      fastly: null,
      cloudfront: null,
      timeoutMs: 1_000,
    };
    service = new CachePurgeService(
      queue,
      createPurgeTargets(config).targets,
      new MemoryRateLimiter(),
      { queued: () => undefined, finished: (provider, outcome) => outcomes.push([provider, outcome]) },
      { warn: () => undefined },
      { deliveryPrefix: '' },
    );
    const registration = bindJob(CDN_PURGE_JOB, (job) => service.run(job), SETTINGS);
    // Retries 20 ms apart: the policy's shape, shortened for the test.
    await queue.startWorker(new Map([[CDN_PURGE_JOB.name, { ...registration, retry: { maxAttempts: 3, baseDelayMs: 20, maxDelayMs: 20 } }]]), { concurrency: 4 });
  });
  afterAll(async () => {
    await queue?.stopWorker(1_000);
    await queue?.close();
    await store?.close();
    await Promise.all([cloudflare?.close(), shield?.close()]);
    await rm(dir, { recursive: true, force: true });
  });

  it('sends a provider’s purges as its budget allows, waiting rather than dropping any', async () => {
    const uuids = ['a', 'b', 'c'].map((letter) => `${letter.repeat(8)}-0000-4000-8000-000000000000`);
    for (const uuid of uuids) await service.purgeFiles([uuid]);
    const received = await cloudflare.waitFor((all) => all.length === 3, 5_000);
    expect(new Set(received.flatMap((r) => r.tags))).toEqual(new Set(uuids.map((uuid) => `f:${uuid}`)));
    const times = received.map((r) => r.at).sort((x, y) => x - y);
    // Burst 1 at 2/s: each request at least ~500 ms after the one before.
    expect(times[1]! - times[0]!).toBeGreaterThanOrEqual(400);
    expect(times[2]! - times[1]!).toBeGreaterThanOrEqual(400);
    // The shield has no budget: all three went out at once.
    await shield.waitFor((all) => all.length === 3, 2_000);
  });

  it('retries a call that failed', async () => {
    shield.received.length = 0;
    shield.failNext('error');
    await service.purgeGroup('3addab78-6368-4c55-ac08-22412b6a2a4c~2');
    const received = await shield.waitFor((all) => all.length === 2, 5_000);
    expect(received.map((r) => r.headers['xkey-purge'])).toEqual(['g:3addab78-6368-4c55-ac08-22412b6a2a4c~2', 'g:3addab78-6368-4c55-ac08-22412b6a2a4c~2']);
    expect(outcomes).toContainEqual(['shield', 'failed']);
  });

  it('drops, and counts, a purge for a provider that is no longer configured', async () => {
    await enqueueJob(queue, CDN_PURGE_JOB, { provider: 'fastly', tags: ['f:x'], paths: [] });
    const deadline = Date.now() + 3_000;
    while (!outcomes.some(([provider, outcome]) => provider === 'fastly' && outcome === 'dropped')) {
      if (Date.now() > deadline) throw new Error('the purge was not dropped');
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    expect((await queue.counts()).dead).toBe(0);
  });
});
