/**
 * A whole cluster on one machine: an api + upload + worker node, a delivery node that sends its
 * misses to two transform-only nodes, and the Varnish shield in front of delivery, all on shared
 * PostgreSQL, S3 and Redis. A file deleted through the api node must stop being delivered
 * everywhere (the delivery node's memory, the blob store's derivatives, the shield) within a second.
 * Skipped, with a message, without PostgreSQL, Redis or varnishd (a failure when CI requires them).
 */
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { postgresUnavailableReason, REQUIRE_SCALE } from '../helpers/backends.js';
import { makeJpeg } from '../helpers/images.js';
import { redisUnavailableReason } from '../helpers/test-redis.js';
import { createSharedScaleBackend, startTransformNode, startTrove, type SharedScaleBackend, type TestTransformNode, type TestTrove } from '../helpers/trove-server.js';
import { uploadFile } from '../helpers/upload-http.js';
import { freePort } from '../helpers/ports.js';
import { describeWhenShield, startShield, type TestShield } from '../helpers/varnish.js';

const REDIS = process.env.TEST_CLUSTER_REDIS_URL ?? 'redis://127.0.0.1:6379/11';
const SECRET = 'cluster-test-internal-secret-0123456789abcdef';
const REST_ACCEPT = 'application/vnd.uploadcare-v0.7+json';

const unavailable = (await postgresUnavailableReason()) ?? (await redisUnavailableReason(REDIS));
if (unavailable && !REQUIRE_SCALE) console.warn(`[trove tests] skipping the cluster deletion suite: ${unavailable}`);
const describeCluster = unavailable !== null && !REQUIRE_SCALE ? describeWhenShield('cluster').skip : describeWhenShield('cluster');

let shared: SharedScaleBackend;
let api: TestTrove;
let delivery: TestTrove;
let transformNodes: TestTransformNode[] = [];
let shield: TestShield;

async function get(url: string, accept?: string): Promise<{ status: number; cache: string | null; tags: string | null }> {
  const response = await fetch(url, accept ? { headers: { accept } } : {});
  await response.arrayBuffer();
  return { status: response.status, cache: response.headers.get('x-cache'), tags: response.headers.get('surrogate-key') };
}

describeCluster('a cluster of api, delivery, two transform nodes and the shield', () => {
  beforeAll(async () => {
    const redis = new Redis(REDIS, { maxRetriesPerRequest: 1 });
    await redis.flushdb();
    redis.disconnect();
    shared = await createSharedScaleBackend();
    const keys = { TROVE_PUBLIC_KEY: `pk_${randomBytes(8).toString('hex')}`, TROVE_SECRET_KEY: `sk_${randomBytes(16).toString('hex')}` };
    transformNodes = await Promise.all([0, 1].map(() => startTransformNode({ env: { ...shared.storageEnv, REDIS_URL: REDIS, TROVE_INTERNAL_SECRET: SECRET } })));
    const shieldPort = await freePort();
    api = await startTrove({
      backend: 'scale',
      shared,
      env: { ...keys, REDIS_URL: REDIS, TROVE_ROLES: 'api,upload,worker', TROVE_PURGE_SHIELD: `http://127.0.0.1:${shieldPort}` },
    });
    delivery = await startTrove({
      backend: 'scale',
      shared,
      env: {
        ...keys,
        REDIS_URL: REDIS,
        TROVE_ROLES: 'delivery',
        TROVE_TRANSFORM_NODES: transformNodes.map((node) => node.url).join(','),
        TROVE_INTERNAL_SECRET: SECRET,
      },
    });
    shield = await startShield(delivery.url.replace('http://', ''), { SHIELD_LISTEN: `127.0.0.1:${shieldPort}` });
  }, 120_000);

  afterAll(async () => {
    await shield?.stop();
    await delivery?.close();
    await api?.close();
    for (const node of transformNodes) await node.close();
    await shared?.close();
  }, 60_000);

  it('stops delivering a deleted file on the delivery node and in the shield within a second', async () => {
    const uuid = await uploadFile(api, await makeJpeg({ width: 400, height: 300, noise: true }), 'photo.jpg', { UPLOADCARE_STORE: '1' });
    const paths = [`/${uuid}/`, `/${uuid}/-/resize/200x/-/format/jpeg/`, `/${uuid}/-/resize/120x/-/format/webp/`, `/${uuid}/-/resize/160x/-/format/auto/`];
    const transformedBefore = await Promise.all(transformNodes.map((node) => node.metric('trove_transform_duration_seconds_count')));
    for (const path of paths) {
      expect(await get(`${shield.url}${path}`, 'image/avif,image/webp,*/*')).toMatchObject({ status: 200, cache: 'MISS' });
      const hit = await get(`${shield.url}${path}`, 'image/avif,image/webp,*/*');
      expect(hit).toMatchObject({ status: 200, cache: 'HIT' });
      expect(hit.tags).toContain(`f:${uuid}`);
      // The delivery node's own copy, which the shield's next miss would reach.
      expect((await get(`${delivery.url}${path}`, 'image/avif,image/webp,*/*')).status).toBe(200);
    }
    const transformedAfter = await Promise.all(transformNodes.map((node) => node.metric('trove_transform_duration_seconds_count')));
    // Three derivatives, each computed by the transform tier exactly once (the delivery node computes nothing itself).
    expect(transformedAfter.reduce((a, b) => a + b, 0) - transformedBefore.reduce((a, b) => a + b, 0)).toBe(3);

    const started = performance.now();
    const deleted = await fetch(`${api.url}/files/${uuid}/storage/`, {
      method: 'DELETE',
      headers: { accept: REST_ACCEPT, authorization: `Uploadcare.Simple ${api.publicKey}:${api.secretKey}` },
    });
    expect(deleted.status).toBe(200);
    let gone = false;
    let elapsed = 0;
    while (!gone && elapsed < 5_000) {
      const answers = await Promise.all(paths.flatMap((path) => [get(`${shield.url}${path}`, 'image/avif,image/webp,*/*'), get(`${delivery.url}${path}`, 'image/avif,image/webp,*/*')]));
      gone = answers.every((answer) => answer.status === 404);
      elapsed = performance.now() - started;
      if (!gone) await new Promise((resolve) => setTimeout(resolve, 25));
    }
    expect(gone).toBe(true);
    if (process.env.TROVE_TEST_REPORT === '1') console.info(`cluster deletion: every URL gone from the shield and the delivery node ${Math.round(elapsed)} ms after the DELETE was sent`);
    expect(elapsed).toBeLessThan(1_000);
  }, 60_000);
});
