import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { connect } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ClusterLockService, serveClusterLocks } from '../../src/adapters/lock/cluster.lock.js';
import { MemoryLockService } from '../../src/adapters/lock/memory.lock.js';
import { RedisLockService } from '../../src/adapters/lock/redis.lock.js';
import type { RedisHealthChange } from '../../src/adapters/redis/redis-health.js';
import { RedisConnection, type RedisCommandErrorReport, type RedisConnectionOptions } from '../../src/adapters/redis/redis-connection.js';
import type { LockService } from '../../src/ports/lock-service.js';
import { MemoryCluster } from '../helpers/memory-cluster.js';
import { connectTestRedis as connectRedis, describeWhenRedis, testRedisPrefix } from '../helpers/test-redis.js';
import { freePort } from '../helpers/ports.js';

const PREFIX = testRedisPrefix();
const describeRedis = await describeWhenRedis('lock');
const connectTestRedis = (options: Partial<RedisConnectionOptions> = {}) => connectRedis(PREFIX, options);

async function waitForListener(port: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const accepted = await new Promise<boolean>((resolve) => {
      const socket = connect(port, '127.0.0.1');
      socket.once('connect', () => {
        socket.destroy();
        resolve(true);
      });
      socket.once('error', () => resolve(false));
    });
    if (accepted) return;
    if (Date.now() > deadline) throw new Error(`nothing listens on port ${port}`);
    await sleep(20);
  }
}

async function timed<T>(work: Promise<T>): Promise<{ value: T; ms: number }> {
  const started = performance.now();
  const value = await work;
  return { value, ms: performance.now() - started };
}

let keyCounter = 0;
function uniqueKey(): string {
  keyCounter += 1;
  return `derivative-${keyCounter}-${randomBytes(3).toString('hex')}`;
}

interface LockFixture {
  locks: LockService;
  /** Another process's view of the same locks, for adapters that share them between processes. */
  peer?: LockService;
  cleanup: () => Promise<void>;
}

/** Behaviour every LockService adapter shares. */
function runLockConformance(name: string, setup: () => Promise<LockFixture>): void {
  describe(`LockService conformance: ${name}`, () => {
    let fixture: LockFixture;
    let locks: LockService;

    beforeEach(async () => {
      fixture = await setup();
      locks = fixture.locks;
    });

    afterEach(async () => {
      await fixture.cleanup();
    });

    it('grants a free key once, and keys are independent', async () => {
      const key = uniqueKey();
      const held = await locks.tryAcquire(key, 5_000);
      expect(held).not.toBeNull();
      expect(await locks.tryAcquire(key, 5_000)).toBeNull();
      const other = await locks.tryAcquire(uniqueKey(), 5_000);
      expect(other).not.toBeNull();
      await held?.release();
      await other?.release();
    });

    it('frees the key on release, and a second release is harmless', async () => {
      const key = uniqueKey();
      const first = await locks.tryAcquire(key, 5_000);
      await first?.release();
      const second = await locks.tryAcquire(key, 5_000);
      expect(second).not.toBeNull();
      await first?.release();
      expect(await locks.tryAcquire(key, 5_000)).toBeNull();
      await second?.release();
    });

    it('expires a lock whose holder never releases it', async () => {
      const key = uniqueKey();
      expect(await locks.tryAcquire(key, 100)).not.toBeNull();
      await sleep(180);
      const next = await locks.tryAcquire(key, 5_000);
      expect(next).not.toBeNull();
      await next?.release();
    });

    it('does not let a holder whose lock expired release its successor', async () => {
      const key = uniqueKey();
      const stale = await locks.tryAcquire(key, 100);
      await sleep(180);
      const successor = await locks.tryAcquire(key, 5_000);
      expect(successor).not.toBeNull();
      await stale?.release();
      expect(await locks.tryAcquire(key, 5_000)).toBeNull();
      await successor?.release();
    });

    it('answers a wait on a free key at once', async () => {
      const { value, ms } = await timed(locks.waitForRelease(uniqueKey(), 2_000));
      expect(value).toBe(true);
      expect(ms).toBeLessThan(300);
    });

    it('wakes every waiter soon after the release', async () => {
      const key = uniqueKey();
      const held = await locks.tryAcquire(key, 5_000);
      const started = performance.now();
      const waits = [locks.waitForRelease(key, 3_000), locks.waitForRelease(key, 3_000), locks.waitForRelease(key, 3_000)];
      await sleep(100);
      await held?.release();
      expect(await Promise.all(waits)).toEqual([true, true, true]);
      expect(performance.now() - started).toBeLessThan(600);
    });

    it('gives up after the timeout while the lock is held', async () => {
      const key = uniqueKey();
      const held = await locks.tryAcquire(key, 5_000);
      const { value, ms } = await timed(locks.waitForRelease(key, 200));
      expect(value).toBe(false);
      expect(ms).toBeGreaterThanOrEqual(190);
      expect(ms).toBeLessThan(700);
      await held?.release();
    });

    it('lets exactly one of many concurrent contenders in', async () => {
      const key = uniqueKey();
      const handles = await Promise.all(Array.from({ length: 20 }, () => locks.tryAcquire(key, 5_000)));
      const granted = handles.filter((handle) => handle !== null);
      expect(granted).toHaveLength(1);
      await granted[0]?.release();
    });

    it('excludes another process, and wakes its waiter soon after the release', async (context) => {
      const peer = fixture.peer;
      if (!peer) return context.skip('one process only');
      const key = uniqueKey();
      const held = await locks.tryAcquire(key, 5_000);
      expect(held).not.toBeNull();
      expect(await peer.tryAcquire(key, 5_000)).toBeNull();
      const waiting = timed(peer.waitForRelease(key, 3_000));
      await sleep(100);
      await held?.release();
      const { value, ms } = await waiting;
      expect(value).toBe(true);
      expect(ms).toBeLessThan(600);
      const next = await peer.tryAcquire(key, 5_000);
      expect(next).not.toBeNull();
      expect(await locks.tryAcquire(key, 5_000)).toBeNull();
      await next?.release();
    });

    it('lets exactly one of many contenders from several processes in', async (context) => {
      const peer = fixture.peer;
      if (!peer) return context.skip('one process only');
      const key = uniqueKey();
      const handles = await Promise.all(Array.from({ length: 20 }, (_, index) => (index % 2 === 0 ? locks : peer).tryAcquire(key, 5_000)));
      expect(handles.filter((handle) => handle !== null)).toHaveLength(1);
    });
  });
}

runLockConformance('memory', async () => ({ locks: new MemoryLockService(), cleanup: async () => undefined }));

runLockConformance('cluster', async () => {
  const node = new MemoryCluster();
  serveClusterLocks(node.primary);
  const first = node.connectWorker();
  const second = node.connectWorker();
  return {
    locks: new ClusterLockService({ channel: first.channel }),
    peer: new ClusterLockService({ channel: second.channel }),
    cleanup: async () => {
      first.disconnect();
      second.disconnect();
    },
  };
});

describe('cluster locks when the primary does not answer (fail open)', () => {
  const IPC_TIMEOUT_MS = 150;

  it('grants the lock after the IPC timeout, and releasing it does not throw', async () => {
    // A primary that never serves locks: nobody answers.
    const node = new MemoryCluster();
    const locks = new ClusterLockService({ channel: node.connectWorker().channel, ipcTimeoutMs: IPC_TIMEOUT_MS });
    const key = uniqueKey();
    const { value: first, ms } = await timed(locks.tryAcquire(key, 5_000));
    expect(first).not.toBeNull();
    expect(ms).toBeGreaterThanOrEqual(IPC_TIMEOUT_MS - 10);
    expect(ms).toBeLessThan(IPC_TIMEOUT_MS + 300);
    expect(await locks.tryAcquire(key, 5_000)).not.toBeNull();
    await expect(first?.release()).resolves.toBeUndefined();
  });

  it('stops waiting after the wait plus the IPC timeout', async () => {
    const node = new MemoryCluster();
    const locks = new ClusterLockService({ channel: node.connectWorker().channel, ipcTimeoutMs: IPC_TIMEOUT_MS });
    const { value, ms } = await timed(locks.waitForRelease(uniqueKey(), 100));
    expect(value).toBe(false);
    expect(ms).toBeGreaterThanOrEqual(100 + IPC_TIMEOUT_MS - 10);
    expect(ms).toBeLessThan(100 + IPC_TIMEOUT_MS + 300);
  });

  it('answers at once when there is no primary at all', async () => {
    const node = new MemoryCluster();
    const worker = node.connectWorker();
    worker.disconnect();
    const locks = new ClusterLockService({ channel: worker.channel, ipcTimeoutMs: 10_000 });
    const { value, ms } = await timed(locks.tryAcquire(uniqueKey(), 5_000));
    expect(value).not.toBeNull();
    expect(await locks.waitForRelease(uniqueKey(), 5_000)).toBe(false);
    expect(ms).toBeLessThan(100);
  });

  describe('and then answers late', () => {
    let node: MemoryCluster;
    let late: ClusterLockService;
    let other: ClusterLockService;

    beforeEach(() => {
      node = new MemoryCluster();
      serveClusterLocks(node.primary);
      late = new ClusterLockService({ channel: node.connectWorker().channel, ipcTimeoutMs: IPC_TIMEOUT_MS });
      other = new ClusterLockService({ channel: node.connectWorker().channel });
    });

    it('keeps the late grant with the fail-open handle, so releasing it frees the key', async () => {
      const key = uniqueKey();
      node.stall();
      const held = await late.tryAcquire(key, 30_000);
      expect(held).not.toBeNull();
      node.resume();
      // The primary reads the stalled request first and grants the key to the worker that stopped waiting.
      expect(await other.tryAcquire(key, 30_000)).toBeNull();
      await held?.release();
      const next = await other.tryAcquire(key, 30_000);
      expect(next).not.toBeNull();
      await next?.release();
    });

    it('hands back a grant that arrives after the fail-open handle was released', async () => {
      const key = uniqueKey();
      node.stall();
      const held = await late.tryAcquire(key, 30_000);
      await held?.release();
      node.resume();
      // The primary grants the stalled request first; the grant must come straight back.
      expect(await other.waitForRelease(key, 1_000)).toBe(true);
      const next = await other.tryAcquire(key, 30_000);
      expect(next).not.toBeNull();
      await next?.release();
    });
  });
});

describeRedis('Redis locks', () => {
  runLockConformance('redis', async () => {
    const connection = await connectTestRedis();
    const peerConnection = await connectTestRedis({ connectionName: 'trove-test-peer' });
    const locks = new RedisLockService(connection);
    const peer = new RedisLockService(peerConnection);
    return {
      locks,
      peer,
      cleanup: async () => {
        locks.close();
        peer.close();
        await Promise.all([connection.close(), peerConnection.close()]);
      },
    };
  });

  describe('across nodes', () => {
    // Two connections stand for two nodes; polling is slowed right down so that only a release
    // notice can wake a waiter in time.
    let nodeA: RedisConnection;
    let nodeB: RedisConnection;
    let locksA: RedisLockService;
    let locksB: RedisLockService;

    beforeAll(async () => {
      nodeA = await connectTestRedis({ connectionName: 'trove-test-a' });
      nodeB = await connectTestRedis({ connectionName: 'trove-test-b' });
      locksA = new RedisLockService(nodeA, { pollIntervalMs: 10_000 });
      locksB = new RedisLockService(nodeB, { pollIntervalMs: 10_000 });
    });

    afterAll(async () => {
      locksA.close();
      locksB.close();
      await Promise.all([nodeA.close(), nodeB.close()]);
    });

    it('excludes a second node and wakes its waiter through the release notice', async () => {
      const key = uniqueKey();
      // The first wait subscribes to release notices; let the subscription settle first.
      expect(await locksB.waitForRelease(uniqueKey(), 1_000)).toBe(true);
      expect(await nodeB.channels.settled(2_000)).toBe(true);

      const held = await locksA.tryAcquire(key, 5_000);
      expect(held).not.toBeNull();
      expect(await locksB.tryAcquire(key, 5_000)).toBeNull();
      const waiting = timed(locksB.waitForRelease(key, 5_000));
      await sleep(100);
      const releasedAt = performance.now();
      await held?.release();
      const { value } = await waiting;
      expect(value).toBe(true);
      expect(performance.now() - releasedAt).toBeLessThan(300);
      const next = await locksB.tryAcquire(key, 5_000);
      expect(next).not.toBeNull();
      await next?.release();
    });
  });

  describe('without release notices', () => {
    let connection: RedisConnection;
    let locks: RedisLockService;

    beforeAll(async () => {
      connection = await connectTestRedis();
      locks = new RedisLockService(connection, { pollIntervalMs: 50 });
    });

    afterAll(async () => {
      locks.close();
      await connection.close();
    });

    it('finds an expired lock by polling', async () => {
      const key = uniqueKey();
      await locks.tryAcquire(key, 150);
      const { value, ms } = await timed(locks.waitForRelease(key, 3_000));
      expect(value).toBe(true);
      expect(ms).toBeLessThan(500);
    });

    it('finds a key deleted behind its back by polling', async () => {
      const key = uniqueKey();
      await locks.tryAcquire(key, 10_000);
      const waiting = timed(locks.waitForRelease(key, 3_000));
      await sleep(100);
      await connection.client.del(connection.key(`lock:${key}`));
      const { value, ms } = await waiting;
      expect(value).toBe(true);
      expect(ms).toBeLessThan(400);
    });
  });
});

describe('Redis locks when Redis is unreachable (fail open)', () => {
  let connection: RedisConnection;
  let locks: RedisLockService;
  const changes: RedisHealthChange[] = [];

  beforeAll(async () => {
    connection = new RedisConnection({
      url: `redis://127.0.0.1:${await freePort()}`,
      keyPrefix: PREFIX,
      onHealthChange: (change) => changes.push(change),
    });
    locks = new RedisLockService(connection);
  });

  afterAll(async () => {
    locks.close();
    await connection.close();
  });

  it('reports the connection down, with the reason', async () => {
    await expect.poll(() => connection.state, { timeout: 2_000 }).toBe('down');
    expect(connection.isUp()).toBe(false);
    expect(connection.lastError?.message).toMatch(/ECONNREFUSED/);
    expect(changes).toEqual([{ state: 'down', previous: 'connecting', error: connection.lastError }]);
    await expect(connection.ping()).rejects.toThrow(/unreachable/);
  });

  it('grants every lock at once, and releasing it does not throw', async () => {
    const key = uniqueKey();
    const { value: first, ms } = await timed(locks.tryAcquire(key, 5_000));
    expect(first).not.toBeNull();
    expect(ms).toBeLessThan(1_000);
    expect(await locks.tryAcquire(key, 5_000)).not.toBeNull();
    await expect(first?.release()).resolves.toBeUndefined();
  });

  it('stops waiting at once', async () => {
    const { value, ms } = await timed(locks.waitForRelease(uniqueKey(), 5_000));
    expect(value).toBe(false);
    expect(ms).toBeLessThan(1_000);
  });

  it('reports one transition however many requests fail', async () => {
    await Promise.all(Array.from({ length: 10 }, () => locks.tryAcquire(uniqueKey(), 1_000)));
    await sleep(300);
    expect(changes).toHaveLength(1);
  });
});

const hasRedisServer = spawnSync('which', ['redis-server']).status === 0;

describe.skipIf(!hasRedisServer)('Redis locks through an outage and back', () => {
  let port: number;
  let server: ChildProcess | null = null;
  let connection: RedisConnection;
  let locks: RedisLockService;
  const changes: RedisHealthChange[] = [];
  const commandErrors: RedisCommandErrorReport[] = [];

  async function releaseSubscribers(): Promise<number> {
    const reply = (await connection.client.call('PUBSUB', 'NUMSUB', connection.key('lock-released'))) as [string, number];
    return Number(reply[1]);
  }

  async function startServer(): Promise<void> {
    const args = ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--enable-debug-command', 'local'];
    const child = spawn('redis-server', args, {
      stdio: 'ignore',
    });
    server = child;
    await new Promise<void>((resolve, reject) => {
      child.once('spawn', resolve);
      child.once('error', reject);
    });
    await waitForListener(port, 5_000);
  }

  async function stopServer(): Promise<void> {
    const child = server;
    server = null;
    if (!child || child.exitCode !== null) return;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill('SIGKILL');
    await exited;
  }

  beforeAll(async () => {
    port = await freePort();
    await startServer();
    connection = new RedisConnection({
      url: `redis://127.0.0.1:${port}`,
      keyPrefix: PREFIX,
      maxReconnectDelayMs: 200,
      onHealthChange: (change) => changes.push(change),
      onCommandError: (report) => commandErrors.push(report),
    });
    locks = new RedisLockService(connection, { pollIntervalMs: 10_000 });
    expect(await connection.waitUntilUp(5_000)).toBe(true);
  });

  afterAll(async () => {
    locks.close();
    await connection.close();
    await stopServer();
  });

  it('goes down, fails open, comes back, and locks and notices work again', async () => {
    const key = uniqueKey();
    expect(changes.map((change) => `${change.previous}->${change.state}`)).toEqual(['connecting->up']);
    // The first wait subscribes this process to release notices.
    expect(await locks.waitForRelease(uniqueKey(), 1_000)).toBe(true);
    await expect.poll(releaseSubscribers, { timeout: 2_000 }).toBe(1);
    const held = await locks.tryAcquire(key, 30_000);
    expect(held).not.toBeNull();
    expect(await locks.tryAcquire(key, 30_000)).toBeNull();

    await stopServer();
    await expect.poll(() => connection.state, { timeout: 3_000 }).toBe('down');
    const { value: duringOutage, ms } = await timed(locks.tryAcquire(key, 30_000));
    expect(duringOutage).not.toBeNull();
    expect(ms).toBeLessThan(1_000);
    await expect(connection.ping()).rejects.toThrow();

    await startServer();
    expect(await connection.waitUntilUp(5_000)).toBe(true);
    await expect(connection.ping()).resolves.toBeUndefined();
    expect(changes.map((change) => `${change.previous}->${change.state}`)).toEqual(['connecting->up', 'up->down', 'down->up']);

    // The restarted server is empty: the key is free again, and exclusion works as before.
    const after = await locks.tryAcquire(key, 30_000);
    expect(after).not.toBeNull();
    expect(await locks.tryAcquire(key, 30_000)).toBeNull();

    // The subscriber reconnected and resubscribed on its own (the restarted server knew no
    // subscriptions), and a release notice still wakes a waiter: polling is too slow to explain a quick wake.
    await expect.poll(releaseSubscribers, { timeout: 3_000 }).toBe(1);
    const waiting = timed(locks.waitForRelease(key, 5_000));
    await sleep(100);
    await after?.release();
    const { value: woke, ms: waited } = await waiting;
    expect(woke).toBe(true);
    expect(waited).toBeLessThan(600);
  });

  it('does not let a stalled Redis stall a request, and reports the slowness once', async () => {
    const key = uniqueKey();
    const blocker = new RedisConnection({ url: `redis://127.0.0.1:${port}`, keyPrefix: PREFIX, commandTimeoutMs: 5_000 });
    try {
      expect(await blocker.waitUntilUp(3_000)).toBe(true);
      const stall = blocker.client.call('DEBUG', 'SLEEP', '1');
      await sleep(50);
      const { value, ms } = await timed(locks.tryAcquire(key, 30_000));
      expect(value).not.toBeNull();
      expect(ms).toBeLessThan(connection.commandTimeoutMs + 300);
      await locks.tryAcquire(key, 30_000);
      await stall;
      expect(connection.isUp()).toBe(true);
      expect(commandErrors.map((report) => report.operation)).toEqual(['lock.acquire']);
      expect(commandErrors[0]?.error.message).toMatch(/timed out/i);
    } finally {
      await blocker.close();
    }
  });
});
