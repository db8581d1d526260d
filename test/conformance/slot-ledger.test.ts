import { describe, expect, it } from 'vitest';
import { RedisConnection } from '../../src/adapters/redis/redis-connection.js';
import { MemorySlotBoard, MemorySlotLedger } from '../../src/adapters/slots/memory.slot-ledger.js';
import { RedisSlotLedger } from '../../src/adapters/slots/redis.slot-ledger.js';
import { FairScheduler } from '../../src/services/transform/fair-scheduler.js';
import type { SlotLedger } from '../../src/ports/slot-ledger.js';
import { connectTestRedis, describeWhenRedis, testRedisPrefix } from '../helpers/test-redis.js';
import { freePort } from '../helpers/ports.js';
import { runSlotLedgerConformance } from './slot-ledger.suite.js';

const describeRedis = await describeWhenRedis('slot ledger');

runSlotLedgerConformance('memory', async () => {
  const board = new MemorySlotBoard();
  return {
    node: async ({ slots, nodeTtlMs = 60_000 }) => new MemorySlotLedger({ board, slots, nodeTtlMs }),
    listening: async () => undefined,
    cleanup: async () => undefined,
  };
});

describeRedis('Redis slot ledger', () => {
  // Two ledgers on two connections under one prefix are two nodes of one cluster.
  runSlotLedgerConformance('redis', async () => {
    const prefix = testRedisPrefix();
    const nodes: Array<{ ledger: RedisSlotLedger; connection: RedisConnection }> = [];
    const connections = new Map<SlotLedger, RedisConnection>();
    return {
      node: async ({ slots, nodeTtlMs = 60_000 }) => {
        const connection = await connectTestRedis(prefix);
        const ledger = new RedisSlotLedger(connection, { slots, nodeTtlMs });
        nodes.push({ ledger, connection });
        connections.set(ledger, connection);
        return ledger;
      },
      listening: async (ledger) => {
        await connections.get(ledger)!.channels.settled(2_000);
      },
      cleanup: async () => {
        const first = nodes[0]?.connection;
        if (first) {
          await first.waitUntilUp(2_000);
          const keys = await first.client.keys(`${prefix}*`);
          if (keys.length > 0) await first.client.del(...keys);
        }
        for (const { ledger, connection } of nodes) {
          await ledger.close();
          await connection.close();
        }
      },
    };
  });

  it('fails open when Redis is unreachable: grants at once, counts the failure, and its release does not throw', async () => {
    const connection = new RedisConnection({ url: `redis://127.0.0.1:${await freePort()}`, connectTimeoutMs: 200, commandTimeoutMs: 200 });
    const failures: string[] = [];
    const ledger = new RedisSlotLedger(connection, { slots: 1, nodeTtlMs: 1_000, onFailure: (operation) => failures.push(operation) });
    try {
      const started = performance.now();
      const decisions = [await ledger.acquire('p', 5), await ledger.acquire('p', 5), await ledger.acquire('p', 5)];
      expect(performance.now() - started).toBeLessThan(1_000);
      expect(decisions.every((decision) => decision.granted && decision.failedOpen)).toBe(true);
      for (const decision of decisions) if (decision.granted) await expect(decision.lease.release()).resolves.toBeUndefined();
      await ledger.reportDemand(new Map([['p', 0]]));
      await ledger.heartbeat(new Map());
      expect(failures).toEqual(['slots.acquire', 'slots.acquire', 'slots.acquire', 'slots.demand', 'slots.heartbeat']);
    } finally {
      await ledger.close();
      await connection.close();
    }
  });

  it('lets the scheduler run every task, one slot at a time, while Redis is unreachable', async () => {
    const connection = new RedisConnection({ url: `redis://127.0.0.1:${await freePort()}`, connectTimeoutMs: 200, commandTimeoutMs: 200 });
    const failures: string[] = [];
    const scheduler = new FairScheduler({ concurrency: 1, maxQueuedPerProject: 10, idleProjectBurst: 0 }, new RedisSlotLedger(connection, { slots: 1, nodeTtlMs: 1_000, onFailure: (operation) => failures.push(operation) }));
    scheduler.start();
    try {
      let running = 0;
      let peak = 0;
      const results = await Promise.all(
        Array.from({ length: 4 }, (_, i) =>
          scheduler.run(i % 2 === 0 ? 'A' : 'B', 'interactive', async () => {
            peak = Math.max(peak, ++running);
            await new Promise((resolve) => setTimeout(resolve, 5));
            running--;
            return i;
          }),
        ),
      );
      expect(results).toEqual([0, 1, 2, 3]);
      expect(peak).toBe(1);
      expect(failures.filter((operation) => operation === 'slots.acquire')).toHaveLength(4);
    } finally {
      await scheduler.close();
      await connection.close();
    }
  });

  it('does not fail open on a connection that is up: slots are counted', async () => {
    const prefix = testRedisPrefix();
    const connection = await connectTestRedis(prefix);
    const ledger = new RedisSlotLedger(connection, { slots: 1, nodeTtlMs: 5_000 });
    try {
      expect(await ledger.acquire('p', 5)).toMatchObject({ granted: true, failedOpen: false });
      expect(await ledger.acquire('p', 5)).toEqual({ granted: false, share: 1, held: 1 });
    } finally {
      await ledger.close();
      const keys = await connection.client.keys(`${prefix}*`);
      if (keys.length > 0) await connection.client.del(...keys);
      await connection.close();
    }
  });
});

describe('memory slot ledger', () => {
  it('keeps the scheduler of one process to its own slots: one node, no expiry while it works', async () => {
    const ledger = new MemorySlotLedger({ slots: 2, nodeTtlMs: 6_000 });
    const [a, b] = ['A', 'B'];
    expect(await ledger.acquire(a, 10)).toMatchObject({ granted: true });
    expect(await ledger.acquire(a, 10)).toMatchObject({ granted: true });
    expect(await ledger.acquire(a, 10)).toEqual({ granted: false, share: 2, held: 2 });
    // A quiet project is never refused its first slot.
    expect(await ledger.acquire(b, 1)).toMatchObject({ granted: true });
  });
});
