/**
 * Two Trove nodes on one database and one Redis: a project change made through one node reaches the
 * project caches of the other over the event bus. Each node's clock stands still, so a cache that
 * was not told would keep its copy for good.
 */
import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { TroveEvent } from '../../src/ports/event-bus.js';
import { describeWhenRedis, REDIS_URL } from '../helpers/test-redis.js';
import { startTrove, type TestTrove } from '../helpers/trove-server.js';

const describeRedis = await describeWhenRedis('shared cache');
const REST_ACCEPT = 'application/vnd.uploadcare-v0.7+json';

describeRedis('project caches shared by two nodes', () => {
  let a: TestTrove;
  let b: TestTrove;
  /** The project both nodes serve: the first node's default project. */
  let publicKey: string;

  beforeAll(async () => {
    // No worker role: the job queue of this Redis may be shared with other runs.
    const shared = { REDIS_URL, TROVE_ROLES: 'upload,api,delivery' };
    a = await startTrove({ env: shared });
    publicKey = a.publicKey;
    b = await startTrove({ env: { ...shared, DATA_DIR: a.dataDir, TROVE_PUBLIC_KEY: a.publicKey, TROVE_SECRET_KEY: a.secretKey } });
    // Pub/sub subscriptions are confirmed asynchronously: wait until the second node hears the first.
    const marker: TroveEvent = { type: 'project.changed', projectId: `marker-${randomBytes(4).toString('hex')}` };
    let heard = false;
    const stop = b.ctx.events.subscribe((event) => {
      if (event.type === 'project.changed' && event.projectId === marker.projectId) heard = true;
    });
    for (let tries = 0; !heard && tries < 50; tries++) {
      await a.ctx.events.publish(marker);
      await sleep(100);
    }
    stop();
    if (!heard) throw new Error('the second node does not hear the first over Redis');
  });

  afterAll(async () => {
    await b?.close();
    await a?.close();
  });

  const restProject = (trove: TestTrove, secret: string) =>
    fetch(`${trove.url}/project/`, { headers: { accept: REST_ACCEPT, authorization: `Uploadcare.Simple ${publicKey}:${secret}` } });

  const upload = (trove: TestTrove) => {
    const form = new FormData();
    form.append('UPLOADCARE_PUB_KEY', publicKey);
    form.append('file', new Blob([randomBytes(64)], { type: 'application/octet-stream' }), 'file.bin');
    return fetch(`${trove.uploadUrl}/base/`, { method: 'POST', body: form });
  };

  it('a secret key revoked through one node stops working on the other at once', async () => {
    const added = await a.ctx.services.projects.addSecret(publicKey);
    // The other node learns the key, and keeps the project's key list in its cache.
    await expect.poll(async () => (await restProject(b, added.secret)).status, { timeout: 2_000 }).toBe(200);
    expect((await restProject(b, added.secret)).status).toBe(200);

    await a.ctx.services.projects.revokeSecret(publicKey, added.id);

    await expect.poll(async () => (await restProject(b, added.secret)).status, { timeout: 2_000, interval: 50 }).toBe(401);
    expect((await restProject(b, a.secretKey)).status).toBe(200);
  });

  it('an upload setting changed through one node applies to uploads on the other', async () => {
    const before = await upload(b);
    expect(before.status, await before.text()).toBe(200);

    await a.ctx.services.projects.update(publicKey, { signedUploads: true });

    await expect.poll(async () => {
      const response = await upload(b);
      return response.status === 200 ? 200 : ((await response.json()) as { error?: { error_code?: string } }).error?.error_code ?? response.status;
    }, { timeout: 2_000, interval: 50 }).toBe('SignatureRequiredError');
  });
});
