/**
 * Two nodes on one data folder and one lock service: a miss that loses the race to another node's
 * whole transformation (looked in the blob store before the other stored, took the lock after the
 * other released it) must take the stored result, not transform a second time.
 */
import { afterAll, beforeAll, expect, it, describe } from 'vitest';
import { MemoryLockService } from '../../src/adapters/lock/memory.lock.js';
import type { LockHandle, LockService } from '../../src/ports/lock-service.js';
import { makeJpeg } from '../helpers/images.js';
import { startTrove, type TestTrove } from '../helpers/trove-server.js';
import { uploadFile } from '../helpers/upload-http.js';

/** Lets a hook run (the other node's whole miss) just before the first derivative lock is taken. */
class RacingLocks implements LockService {
  beforeFirstAcquire: ((key: string) => Promise<void>) | null = null;

  constructor(private readonly inner: LockService) {}

  async tryAcquire(key: string, ttlMs: number): Promise<LockHandle | null> {
    const hook = this.beforeFirstAcquire;
    this.beforeFirstAcquire = null;
    if (hook) await hook(key);
    return this.inner.tryAcquire(key, ttlMs);
  }

  waitForRelease(key: string, timeoutMs: number): Promise<boolean> {
    return this.inner.waitForRelease(key, timeoutMs);
  }
}

async function transformations(trove: TestTrove): Promise<number> {
  const text = await (await fetch(`${trove.url}/metrics`)).text();
  return Number(/^trove_transform_duration_seconds_count (\d+)$/m.exec(text)?.[1] ?? 0);
}

describe('single-flight across nodes', () => {
  const shared = new MemoryLockService();
  const racing = new RacingLocks(shared);
  let a: TestTrove;
  let b: TestTrove;

  beforeAll(async () => {
    a = await startTrove({ locks: shared, env: { TROVE_ROLES: 'upload,api,delivery' } });
    b = await startTrove({
      locks: racing,
      env: { TROVE_ROLES: 'upload,api,delivery', DATA_DIR: a.dataDir, TROVE_PUBLIC_KEY: a.publicKey, TROVE_SECRET_KEY: a.secretKey },
    });
  });

  afterAll(async () => {
    await b?.close();
    await a?.close();
  });

  it('a node that takes the lock after another finished reads the stored derivative', async () => {
    const uuid = await uploadFile(a, await makeJpeg({ width: 400, height: 300 }), 'race.jpg');
    const path = `/${uuid}/-/resize/120x/-/format/png/`;
    racing.beforeFirstAcquire = async (key) => {
      const response = await fetch(`${a.url}${path}`);
      expect(response.status).toBe(200);
      // A holds the lock until the derivative is in the blob store: once it is free again, it is there.
      expect(await shared.waitForRelease(key, 5_000)).toBe(true);
    };
    const fromB = await fetch(`${b.url}${path}`);
    expect(fromB.status).toBe(200);
    expect(racing.beforeFirstAcquire).toBeNull();
    expect((await transformations(a)) + (await transformations(b))).toBe(1);
  });
});
