import { createHash } from 'node:crypto';

/**
 * Rendezvous (highest random weight) hashing: every node gets a score for the key, and the nodes in
 * descending score order are where the key goes, first choice first. Each key's order depends on the
 * node names only, not on the list's order or length: adding a node moves only the keys it now wins
 * (about 1/n of them), and removing one moves only the keys it held.
 */
export class RendezvousHash {
  private readonly seeds: Array<{ node: string; seed: Buffer }>;

  constructor(nodes: readonly string[]) {
    this.seeds = [...new Set(nodes)].map((node) => ({ node, seed: Buffer.from(`${node}\n`) }));
  }

  get size(): number {
    return this.seeds.length;
  }

  /** Every node, in the order the key should try them. */
  rank(key: string): string[] {
    const scored = this.seeds.map(({ node, seed }) => ({ node, score: scoreOf(seed, key) }));
    // Ties (a 48-bit collision) fall back to the name, so every process agrees on the order.
    scored.sort((a, b) => b.score - a.score || (a.node < b.node ? -1 : a.node > b.node ? 1 : 0));
    return scored.map((entry) => entry.node);
  }
}

/** 48 well-mixed bits of SHA-1(node, key) as a number: exact in a double, no BigInt on the hot path. */
function scoreOf(seed: Buffer, key: string): number {
  return createHash('sha1').update(seed).update(key).digest().readUIntBE(0, 6);
}
