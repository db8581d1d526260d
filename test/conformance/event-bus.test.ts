import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ClusterEventBus, relayClusterEvents } from '../../src/adapters/events/cluster.event-bus.js';
import { MemoryEventBus } from '../../src/adapters/events/memory.event-bus.js';
import { RedisEventBus } from '../../src/adapters/events/redis.event-bus.js';
import { RedisConnection, type RedisConnectionOptions } from '../../src/adapters/redis/redis-connection.js';
import { MemoryCluster } from '../helpers/memory-cluster.js';
import { connectTestRedis as connectRedis, describeWhenRedis, REDIS_URL, testRedisPrefix } from '../helpers/test-redis.js';
import { freePort } from '../helpers/ports.js';
import type { EventBus, TroveEvent } from '../../src/ports/event-bus.js';

const PREFIX = testRedisPrefix();
const describeRedis = await describeWhenRedis('event bus');
const connectTestRedis = (options: Partial<RedisConnectionOptions> = {}) => connectRedis(PREFIX, options);

function evicted(): TroveEvent {
  return { type: 'file.evicted', uuid: randomBytes(8).toString('hex') };
}

/** Collects what a listener hears. */
function recorder(): { events: TroveEvent[]; listener: (event: TroveEvent) => void } {
  const events: TroveEvent[] = [];
  return { events, listener: (event) => events.push(event) };
}

async function until(condition: () => boolean, timeoutMs = 2_000): Promise<void> {
  await expect.poll(condition, { timeout: timeoutMs, interval: 5 }).toBe(true);
}

interface BusFixture {
  bus: EventBus;
  /** Buses of other processes on the same channel, for adapters that carry events between processes. */
  peers?: EventBus[];
  /** Resolves once subscriptions made so far receive events (pub/sub confirms asynchronously). */
  settle: () => Promise<void>;
  cleanup: () => Promise<void>;
}

/** Behaviour every EventBus adapter shares. */
function runEventBusConformance(name: string, setup: () => Promise<BusFixture>): void {
  describe(`EventBus conformance: ${name}`, () => {
    let fixture: BusFixture;
    let bus: EventBus;

    beforeEach(async () => {
      fixture = await setup();
      bus = fixture.bus;
    });

    afterEach(async () => {
      await fixture.cleanup();
    });

    /**
     * Events on one bus arrive in publish order, so once a marker published last has arrived,
     * anything that was going to arrive before it has too: "not received" can be checked without
     * guessing a delay.
     */
    async function flush(seen: TroveEvent[]): Promise<void> {
      const marker: TroveEvent = { type: 'project.changed', projectId: `marker-${randomBytes(4).toString('hex')}` };
      await bus.publish(marker);
      await until(() => seen.some((event) => event.type === 'project.changed' && event.projectId === marker.projectId));
      seen.splice(seen.findIndex((event) => event.type === 'project.changed' && event.projectId === marker.projectId), 1);
    }

    it('delivers an event, of each type, to the publishing process itself', async () => {
      const heard = recorder();
      bus.subscribe(heard.listener);
      await fixture.settle();
      const first = evicted();
      const second: TroveEvent = { type: 'project.changed', projectId: 'proj_1' };
      await bus.publish(first);
      await bus.publish(second);
      await until(() => heard.events.length === 2);
      expect(heard.events).toEqual([first, second]);
    });

    it('gives every listener its own copy, and stops after unsubscribe', async () => {
      const a = recorder();
      const b = recorder();
      const stopA = bus.subscribe(a.listener);
      bus.subscribe(b.listener);
      await fixture.settle();
      const event = evicted();
      await bus.publish(event);
      await until(() => a.events.length === 1 && b.events.length === 1);

      stopA();
      stopA();
      const later = evicted();
      await bus.publish(later);
      await flush(b.events);
      expect(b.events).toEqual([event, later]);
      expect(a.events).toEqual([event]);
    });

    it('keeps delivering when a listener throws, and publish still resolves', async () => {
      const heard = recorder();
      bus.subscribe(() => {
        throw new Error('listener bug');
      });
      bus.subscribe(heard.listener);
      await fixture.settle();
      const event = evicted();
      await expect(bus.publish(event)).resolves.toBeUndefined();
      await until(() => heard.events.length === 1);
      expect(heard.events).toEqual([event]);
    });

    it('goes quiet after close, without throwing', async () => {
      const heard = recorder();
      bus.subscribe(heard.listener);
      await fixture.settle();
      await bus.close();
      await expect(bus.publish(evicted())).resolves.toBeUndefined();
      await sleep(100);
      expect(heard.events).toEqual([]);
    });

    it('delivers each event, published by any process, once to every process', async (context) => {
      const peers = fixture.peers ?? [];
      if (peers.length === 0) return context.skip('one process only');
      const buses = [bus, ...peers];
      const heard = buses.map((each) => {
        const record = recorder();
        each.subscribe(record.listener);
        return record;
      });
      await fixture.settle();
      const published = buses.map(() => evicted());
      await Promise.all(buses.map((each, index) => each.publish(published[index] as TroveEvent)));
      await until(() => heard.every((record) => record.events.length >= buses.length));
      // Each publisher's events arrive in order, so once a last marker from every process has
      // arrived, any echo or duplicate of the events before it has too.
      const markers = buses.map((): TroveEvent => ({ type: 'project.changed', projectId: `marker-${randomBytes(4).toString('hex')}` }));
      await Promise.all(buses.map((each, index) => each.publish(markers[index] as TroveEvent)));
      await until(() => heard.every((record) => markers.every((marker) => record.events.some((event) => JSON.stringify(event) === JSON.stringify(marker)))));
      const sorted = (events: TroveEvent[]) => events.map((event) => JSON.stringify(event)).sort();
      for (const record of heard) expect(sorted(record.events)).toEqual(sorted([...published, ...markers]));
    });
  });
}

runEventBusConformance('memory', async () => {
  const bus = new MemoryEventBus();
  return { bus, settle: async () => undefined, cleanup: () => bus.close() };
});

runEventBusConformance('cluster', async () => {
  const node = new MemoryCluster();
  relayClusterEvents(node.primary);
  const workers = [node.connectWorker(), node.connectWorker(), node.connectWorker()];
  const [bus, ...peers] = workers.map((worker) => new ClusterEventBus(worker.channel));
  if (!bus) throw new Error('no worker');
  return {
    bus,
    peers,
    settle: async () => undefined,
    cleanup: async () => {
      await Promise.all([bus, ...peers].map((each) => each.close()));
      for (const worker of workers) worker.disconnect();
    },
  };
});

describeRedis('Redis event bus', () => {
  runEventBusConformance('redis', async () => {
    const connection = await connectTestRedis();
    const peerConnection = await connectTestRedis({ connectionName: 'trove-test-peer' });
    const bus = new RedisEventBus(connection);
    const peer = new RedisEventBus(peerConnection);
    return {
      bus,
      peers: [peer],
      settle: async () => {
        expect(await bus.ready()).toBe(true);
        expect(await peer.ready()).toBe(true);
      },
      cleanup: async () => {
        await Promise.all([bus.close(), peer.close()]);
        await Promise.all([connection.close(), peerConnection.close()]);
      },
    };
  });

  describe('across nodes', () => {
    // Separate connections stand for separate processes or nodes.
    let nodeA: RedisConnection;
    let nodeB: RedisConnection;
    let busA: RedisEventBus;
    let busB: RedisEventBus;

    beforeAll(async () => {
      nodeA = await connectTestRedis({ connectionName: 'trove-test-a' });
      nodeB = await connectTestRedis({ connectionName: 'trove-test-b' });
      busA = new RedisEventBus(nodeA);
      busB = new RedisEventBus(nodeB);
    });

    afterAll(async () => {
      await Promise.all([busA.close(), busB.close()]);
      await Promise.all([nodeA.close(), nodeB.close()]);
    });

    it('delivers each event, published by either node, to both', async () => {
      const onA = recorder();
      const onB = recorder();
      const stopA = busA.subscribe(onA.listener);
      const stopB = busB.subscribe(onB.listener);
      expect(await busA.ready()).toBe(true);
      expect(await busB.ready()).toBe(true);

      const fromA = evicted();
      const fromB: TroveEvent = { type: 'project.changed', projectId: 'proj_2' };
      await busA.publish(fromA);
      await busB.publish(fromB);
      await until(() => onA.events.length === 2 && onB.events.length === 2);
      expect(onA.events).toEqual([fromA, fromB]);
      expect(onB.events).toEqual([fromA, fromB]);
      stopA();
      stopB();
    });

    it('ignores malformed messages on the channel', async () => {
      const heard = recorder();
      const stop = busB.subscribe(heard.listener);
      expect(await busB.ready()).toBe(true);
      const channel = nodeA.key('events');
      for (const junk of ['not json', 'null', '42', '[]', '{"type":"file.evicted"}', '{"type":"file.evicted","uuid":7}', '{"type":"unknown.event","uuid":"x"}']) {
        await nodeA.client.publish(channel, junk);
      }
      const good = evicted();
      // Extra fields from a newer publisher are dropped rather than passed through.
      await nodeA.client.publish(channel, JSON.stringify({ ...good, extra: true }));
      await until(() => heard.events.length >= 1);
      await sleep(50);
      expect(heard.events).toEqual([good]);
      stop();
    });

    it('keeps a subscription made while a fresh connection is still connecting', async () => {
      // However the subscribe calls interleave with the connection's handshake, the server must
      // end up with the subscription.
      for (let round = 0; round < 12; round += 1) {
        const fresh = new RedisConnection({ url: REDIS_URL, keyPrefix: PREFIX });
        const bus = new RedisEventBus(fresh);
        try {
          bus.subscribe(() => undefined);
          await sleep(round % 4);
          expect(await bus.ready()).toBe(true);
          const reply = (await nodeA.client.call('PUBSUB', 'NUMSUB', fresh.key('events'))) as [string, number];
          // nodeA and nodeB may be listening on the same channel from earlier tests.
          expect(Number(reply[1])).toBeGreaterThanOrEqual(1);
          const heard = recorder();
          bus.subscribe(heard.listener);
          const event = evicted();
          await nodeA.client.publish(fresh.key('events'), JSON.stringify(event));
          await until(() => heard.events.length === 1);
        } finally {
          await bus.close();
          await fresh.close();
        }
      }
    });

    it('keeps deployments with different prefixes apart', async () => {
      const other = await connectTestRedis({ keyPrefix: `${PREFIX}other:` });
      const otherBus = new RedisEventBus(other);
      try {
        const mine = recorder();
        const theirs = recorder();
        const stopMine = busA.subscribe(mine.listener);
        otherBus.subscribe(theirs.listener);
        expect(await busA.ready()).toBe(true);
        expect(await otherBus.ready()).toBe(true);
        const event = evicted();
        await busA.publish(event);
        const marker = evicted();
        await otherBus.publish(marker);
        await until(() => mine.events.length === 1 && theirs.events.length === 1);
        expect(mine.events).toEqual([event]);
        expect(theirs.events).toEqual([marker]);
        stopMine();
      } finally {
        await otherBus.close();
        await other.close();
      }
    });
  });
});

describe('Redis event bus when Redis is unreachable', () => {
  let connection: RedisConnection;
  let bus: RedisEventBus;

  beforeAll(async () => {
    connection = new RedisConnection({ url: `redis://127.0.0.1:${await freePort()}`, keyPrefix: PREFIX });
    bus = new RedisEventBus(connection);
  });

  afterAll(async () => {
    await bus.close();
    await connection.close();
  });

  it('publishes without throwing or waiting, and the publishing process still hears its own event', async () => {
    await expect.poll(() => connection.state, { timeout: 2_000 }).toBe('down');
    const heard = recorder();
    bus.subscribe(heard.listener);
    const event = evicted();
    const started = performance.now();
    await expect(bus.publish(event)).resolves.toBeUndefined();
    expect(performance.now() - started).toBeLessThan(1_000);
    expect(heard.events).toEqual([event]);
    expect(connection.isUp()).toBe(false);
  });

  it('reports its subscription as not confirmed within the wait', async () => {
    expect(await bus.ready(200)).toBe(false);
  });
});
