/** Seeded randomness: every case draws from its own stream, so one case replays alone from (seed, index). */
export type Rng = () => number;

/** mulberry32: small and fast; plenty for exploring grammars. */
export function mulberry32(seed: number): Rng {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A well-mixed 32-bit seed for case `index` of run `seed` (neighbouring indexes share no prefix). */
export function caseSeed(seed: number, index: number): number {
  let h = (seed ^ 0x9e3779b9) >>> 0;
  h = Math.imul(h ^ (index >>> 0), 0x85ebca6b) >>> 0;
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35) >>> 0;
  h = Math.imul(h ^ Math.floor(index / 4294967296), 0x27d4eb2f) >>> 0;
  return (h ^ (h >>> 16)) >>> 0;
}

export function caseRng(seed: number, index: number): Rng {
  return mulberry32(caseSeed(seed, index));
}

export function int(rng: Rng, lo: number, hi: number): number {
  return lo + Math.floor(rng() * (hi - lo + 1));
}

export function pick<T>(rng: Rng, items: readonly T[]): T {
  return items[Math.floor(rng() * items.length)]!;
}

export function chance(rng: Rng, p: number): boolean {
  return rng() < p;
}

/** Picks by weight: `[[weight, value], …]`. */
export function weighted<T>(rng: Rng, table: ReadonlyArray<readonly [number, T]>): T {
  let total = 0;
  for (const [w] of table) total += w;
  let roll = rng() * total;
  for (const [w, value] of table) {
    roll -= w;
    if (roll < 0) return value;
  }
  return table[table.length - 1]![1];
}
