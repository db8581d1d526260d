import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { fairShare } from '../../src/domain/slot-share.js';
import type { SlotDecision, SlotLease, SlotLedger } from '../../src/ports/slot-ledger.js';

/**
 * Nodes of one cluster: each call makes a ledger as one process would (its own connection, for
 * Redis), all sharing the same state.
 */
interface SlotLedgerFixture {
  node(options: { slots: number; nodeTtlMs?: number }): Promise<SlotLedger>;
  /** Resolves once the node's change notices are being listened to (a subscription confirmed). */
  listening(ledger: SlotLedger): Promise<void>;
  cleanup(): Promise<void>;
}

function project(): string {
  return `proj_${randomBytes(4).toString('hex')}`;
}

function leaseOf(decision: SlotDecision): SlotLease {
  if (!decision.granted) throw new Error(`expected a grant, got ${JSON.stringify(decision)}`);
  return decision.lease;
}

/** Takes slots for the project until the ledger refuses; returns the leases and the refusal. */
async function takeAll(ledger: SlotLedger, projectId: string, demand: number): Promise<{ leases: SlotLease[]; refusal: SlotDecision }> {
  const leases: SlotLease[] = [];
  for (let i = 0; i < 64; i++) {
    const decision = await ledger.acquire(projectId, demand);
    if (!decision.granted) return { leases, refusal: decision };
    leases.push(decision.lease);
  }
  throw new Error('the ledger never refused');
}

/** Behaviour every SlotLedger adapter shares. */
export function runSlotLedgerConformance(name: string, setup: () => Promise<SlotLedgerFixture>): void {
  describe(`SlotLedger conformance: ${name}`, () => {
    let fixture: SlotLedgerFixture;

    beforeEach(async () => {
      fixture = await setup();
    });

    afterEach(async () => {
      await fixture.cleanup();
    });

    it('lets a project alone use every slot of every node, then refuses with its share and holding', async () => {
      const first = await fixture.node({ slots: 3 });
      const second = await fixture.node({ slots: 1 });
      await second.heartbeat(new Map());
      const a = project();
      const { leases, refusal } = await takeAll(first, a, 10);
      expect(leases).toHaveLength(4);
      expect(refusal).toEqual({ granted: false, share: 4, held: 4 });
    });

    it('splits the slots max-min: a small demand is met in full, the rest goes to the large one', async () => {
      const first = await fixture.node({ slots: 3 });
      const second = await fixture.node({ slots: 1 });
      const [a, b] = [project(), project()];
      const held = await takeAll(first, a, 10);
      expect(held.leases).toHaveLength(3);
      // B's request counts at once: it is granted, and A's share shrinks to 4 − 1 = 3.
      leaseOf(await second.acquire(b, 1));
      expect(await first.acquire(a, 10)).toEqual({ granted: false, share: 3, held: 3 });
      // Asking again is more demand: B's 2 against A's 10 make the equal split 2 each.
      leaseOf(await second.acquire(b, 1));
      expect(await second.acquire(b, 1)).toEqual({ granted: false, share: 2, held: 2 });
    });

    it('computes the share as fairShare does, from the demand of every node', async () => {
      const first = await fixture.node({ slots: 4 });
      const second = await fixture.node({ slots: 3 });
      await second.heartbeat(new Map());
      const cases: Array<{ others: number[]; demand: number }> = [
        { others: [], demand: 20 },
        { others: [1, 2], demand: 20 },
        { others: [9, 9], demand: 9 },
        { others: [3, 40, 40], demand: 40 },
        { others: [1], demand: 3 },
      ];
      for (const { others, demand } of cases) {
        const target = project();
        const demands = new Map(others.map((count) => [project(), count]));
        // Half of each other project's demand on each node: the ledger adds them up.
        await first.reportDemand(new Map([...demands].map(([p, count]) => [p, Math.ceil(count / 2)])));
        await second.reportDemand(new Map([...demands].map(([p, count]) => [p, Math.floor(count / 2)])));
        const { leases, refusal } = await takeAll(first, target, demand);
        // Each grant is one more slot held; asking beyond the stated demand counts as demand too.
        let expected = 0;
        while (expected < fairShare(7, [...others, Math.max(demand, expected + 1)])) expected++;
        const share = fairShare(7, [...others, Math.max(demand, expected + 1)]);
        expect(refusal, JSON.stringify({ others, demand })).toEqual({ granted: false, share, held: expected });
        expect(leases).toHaveLength(expected);
        for (const lease of leases) await lease.release();
        await first.reportDemand(new Map([...demands.keys(), target].map((p) => [p, 0])));
        await second.reportDemand(new Map([...demands.keys()].map((p) => [p, 0])));
      }
    });

    it('gives a released slot back once, to whichever node asks next', async () => {
      const first = await fixture.node({ slots: 1 });
      const second = await fixture.node({ slots: 1 });
      await second.heartbeat(new Map());
      const a = project();
      const { leases } = await takeAll(first, a, 5);
      expect(leases).toHaveLength(2);
      expect((await second.acquire(a, 5)).granted).toBe(false);
      await leases[0]!.release();
      await leases[0]!.release();
      leaseOf(await second.acquire(a, 5));
      // The second release of the same lease gave nothing back.
      expect((await second.acquire(a, 5)).granted).toBe(false);
    });

    it('replaces a node\'s account on heartbeat, so a lost release does not hold a slot for ever', async () => {
      const ledger = await fixture.node({ slots: 2 });
      const a = project();
      const { leases } = await takeAll(ledger, a, 5);
      expect(leases).toHaveLength(2);
      // The node says it runs one of A's tasks (the other release was lost).
      await ledger.heartbeat(new Map([[a, { waiting: 3, running: 1 }]]));
      leaseOf(await ledger.acquire(a, 5));
      expect((await ledger.acquire(a, 5)).granted).toBe(false);
    });

    it('drops a node that stops renewing its registration, with the slots it held', async () => {
      const dying = await fixture.node({ slots: 3, nodeTtlMs: 300 });
      const live = await fixture.node({ slots: 1, nodeTtlMs: 60_000 });
      const a = project();
      expect((await takeAll(dying, a, 10)).leases).toHaveLength(3);
      const mine = leaseOf(await live.acquire(a, 10));
      expect(await live.acquire(a, 10)).toEqual({ granted: false, share: 4, held: 4 });
      await sleep(450);
      // One node of 1 slot is left, and A holds that one.
      expect(await live.acquire(a, 10)).toEqual({ granted: false, share: 1, held: 1 });
      await mine.release();
      leaseOf(await live.acquire(a, 10));
    });

    it('forgets demand that a node withdraws, and a node that closes', async () => {
      const first = await fixture.node({ slots: 2 });
      const second = await fixture.node({ slots: 2 });
      const [a, b] = [project(), project()];
      await second.reportDemand(new Map([[b, 10]]));
      expect((await takeAll(first, a, 10)).refusal).toEqual({ granted: false, share: 2, held: 2 });
      await second.reportDemand(new Map([[b, 0]]));
      expect((await takeAll(first, a, 10)).refusal).toEqual({ granted: false, share: 4, held: 4 });
      await second.close();
      expect((await takeAll(first, a, 10)).refusal).toEqual({ granted: false, share: 2, held: 4 });
    });

    it('tells other nodes when a slot comes free after a refusal', async () => {
      const first = await fixture.node({ slots: 1 });
      const second = await fixture.node({ slots: 1 });
      const a = project();
      const notices: number[] = [];
      const stop = second.onChange(() => notices.push(Date.now()));
      await fixture.listening(second);
      const { leases } = await takeAll(first, a, 5);
      const started = Date.now();
      await leases[0]!.release();
      for (let waited = 0; notices.length === 0 && waited < 1_000; waited += 10) await sleep(10);
      expect(notices.length).toBeGreaterThan(0);
      expect(notices[0]! - started).toBeLessThan(500);
      stop();
    });
  });
}
