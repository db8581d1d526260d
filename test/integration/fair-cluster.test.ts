/**
 * Two nodes on one data folder and one Redis: each registers its transformation slots in the
 * shared slot ledger at start, exposes the scheduler's metrics, and withdraws when it closes.
 */
import { Redis } from 'ioredis';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { makeJpeg } from '../helpers/images.js';
import { describeWhenRedis } from '../helpers/test-redis.js';
import { startTrove, type TestTrove } from '../helpers/trove-server.js';
import { uploadFile } from '../helpers/upload-http.js';

/** A database index of its own, emptied before and after: Trove's key prefix is fixed. */
const REDIS_URL = process.env.TEST_FAIR_REDIS_URL ?? 'redis://127.0.0.1:6379/13';
const describeRedis = await describeWhenRedis('fair cluster');

describeRedis('fair scheduling across two nodes sharing Redis', () => {
  let redis: Redis;
  let a: TestTrove;
  let b: TestTrove;
  let bClosed = false;

  beforeAll(async () => {
    redis = new Redis(REDIS_URL, { maxRetriesPerRequest: 1 });
    await redis.flushdb();
    const env = { TROVE_ROLES: 'upload,api,delivery', REDIS_URL, TROVE_TRANSFORM_CONCURRENCY: '2' };
    a = await startTrove({ env });
    b = await startTrove({ env: { ...env, TROVE_TRANSFORM_CONCURRENCY: '3', DATA_DIR: a.dataDir, TROVE_PUBLIC_KEY: a.publicKey, TROVE_SECRET_KEY: a.secretKey } });
  });

  afterAll(async () => {
    if (!bClosed) await b?.close();
    await a?.close();
    await redis.flushdb();
    await redis.quit();
  });

  it('registers both nodes\' slots, serves transformations through the ledger, exposes the metrics, and withdraws on close', async () => {
    // The first heartbeat is sent at start, without waiting for a request.
    await expect.poll(() => redis.hvals('trove:slots:nodes'), { timeout: 3_000 }).toHaveLength(2);
    expect((await redis.hvals('trove:slots:nodes')).map(Number).sort()).toEqual([2, 3]);

    const uuid = await uploadFile(a, await makeJpeg({ width: 400, height: 300 }), 'fair.jpg');
    const answers = await Promise.all(
      Array.from({ length: 8 }, (_, i) => fetch(`${(i % 2 === 0 ? a : b).url}/${uuid}/-/resize/${100 + i}x/-/format/png/`).then((r) => r.status)),
    );
    expect(answers).toEqual(Array(8).fill(200));
    // Every slot taken was given back.
    await expect.poll(async () => Object.values(await redis.hgetall('trove:slots:held')), { timeout: 2_000 }).toEqual([]);

    const text = await (await fetch(`${a.url}/metrics`)).text();
    expect(text).toMatch(/^trove_transform_slots_in_use 0$/m);
    expect(text).toContain('# TYPE trove_transform_slot_denials_total counter');
    expect(text).toContain('# TYPE trove_transform_slot_ledger_failures_total counter');
    expect(text).toContain('# TYPE trove_transform_queue_depth gauge');

    await b.close();
    bClosed = true;
    expect((await redis.hvals('trove:slots:nodes')).map(Number)).toEqual([2]);
  });
});
