/**
 * A project's share of a cluster's transform slots: a max-min fair split ("water filling").
 * Projects are taken from the smallest demand up; one whose demand fits in an equal split of what
 * is left gets all of it, and the others split the rest equally. The share of a project above that
 * level is the level rounded up, and never less than one slot, so every project with work can
 * always start something and rounding never leaves a slot idle.
 *
 * Example: 4 slots, A wants 300, B wants 1 → B gets 1, A's share is 3. Three projects each wanting
 * 100 of 4 slots → ⌈4/3⌉ = 2 each (shares are caps, not reservations; their sum may exceed the total).
 * When every demand fits, the share is the whole total.
 *
 * `src/adapters/slots/redis.slot-ledger.ts` computes the same in Lua; the conformance suite checks
 * that both agree.
 */
export function fairShare(totalSlots: number, demands: Iterable<number>): number {
  const sorted = [...demands].filter((demand) => demand > 0).sort((a, b) => a - b);
  let remaining = totalSlots;
  for (let index = 0; index < sorted.length; index++) {
    const equalSplit = remaining / (sorted.length - index);
    if (sorted[index]! > equalSplit) return Math.max(1, Math.ceil(equalSplit));
    remaining -= sorted[index]!;
  }
  return Math.max(1, totalSlots);
}
