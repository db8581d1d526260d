import { describe, expect, it } from 'vitest';
import { RendezvousHash } from '../../src/lib/rendezvous-hash.js';

const KEYS = Array.from({ length: 20_000 }, (_, i) => `derivatives/${i.toString(16).padStart(8, '0')}-0000-4000-8000-000000000000/abc${i}-webp`);
const NODES = ['http://10.0.0.5:3000', 'http://10.0.0.6:3000', 'http://10.0.0.7:3000', 'http://10.0.0.8:3000'];

function owners(ring: RendezvousHash): Map<string, string> {
  return new Map(KEYS.map((key) => [key, ring.rank(key)[0]!]));
}

describe('RendezvousHash', () => {
  it('ranks every node once, the same way every time and whatever the order the nodes are listed in', () => {
    const a = new RendezvousHash(NODES);
    const b = new RendezvousHash([...NODES].reverse());
    for (const key of KEYS.slice(0, 500)) {
      const rank = a.rank(key);
      expect([...rank].sort()).toEqual([...NODES].sort());
      expect(b.rank(key)).toEqual(rank);
      expect(a.rank(key)).toEqual(rank);
    }
  });

  it('spreads keys evenly: each of 4 nodes gets 25 % ± 2 %', () => {
    const counts = new Map<string, number>();
    for (const owner of owners(new RendezvousHash(NODES)).values()) counts.set(owner, (counts.get(owner) ?? 0) + 1);
    expect(counts.size).toBe(4);
    for (const count of counts.values()) expect(Math.abs(count / KEYS.length - 0.25)).toBeLessThan(0.02);
  });

  it('spreads second choices evenly too, so a failed node’s keys do not all land on one neighbour', () => {
    const ring = new RendezvousHash(NODES);
    const next = new Map<string, number>();
    for (const key of KEYS) {
      const [first, second] = ring.rank(key);
      if (first === NODES[0]) next.set(second!, (next.get(second!) ?? 0) + 1);
    }
    expect(next.size).toBe(3);
    const total = [...next.values()].reduce((a, b) => a + b, 0);
    for (const count of next.values()) expect(Math.abs(count / total - 1 / 3)).toBeLessThan(0.04);
  });

  it('adding a node moves only the keys it now wins (about 1/n), and all of them to the new node', () => {
    const before = owners(new RendezvousHash(NODES));
    const added = 'http://10.0.0.9:3000';
    const after = owners(new RendezvousHash([...NODES, added]));
    let moved = 0;
    for (const [key, owner] of after) {
      if (owner === before.get(key)) continue;
      moved++;
      expect(owner).toBe(added);
    }
    expect(Math.abs(moved / KEYS.length - 1 / 5)).toBeLessThan(0.02);
  });

  it('removing a node moves only the keys it held; the others stay where they were', () => {
    const before = owners(new RendezvousHash(NODES));
    const removed = NODES[2]!;
    const after = owners(new RendezvousHash(NODES.filter((node) => node !== removed)));
    for (const [key, owner] of after) {
      if (before.get(key) === removed) expect(owner).not.toBe(removed);
      else expect(owner).toBe(before.get(key));
    }
  });

  it('a removed node’s keys go to their second choice, the node a delivery node fails over to', () => {
    const ring = new RendezvousHash(NODES);
    const smaller = new RendezvousHash(NODES.slice(1));
    for (const key of KEYS.slice(0, 2_000)) {
      const rank = ring.rank(key);
      expect(smaller.rank(key)[0]).toBe(rank[0] === NODES[0] ? rank[1] : rank[0]);
    }
  });

  it('keeps working with one node and counts nodes once', () => {
    expect(new RendezvousHash(['http://a:1']).rank('k')).toEqual(['http://a:1']);
    expect(new RendezvousHash(['http://a:1', 'http://a:1', 'http://b:1']).size).toBe(2);
  });
});
