import { createHash, timingSafeEqual } from 'node:crypto';

/** Secrets, tokens and signatures as they arrive: text (compared as UTF-8) or bytes. */
type Secret = string | Buffer;

function digestOf(value: Secret): Buffer {
  return createHash('sha256').update(value).digest();
}

/**
 * Whether two secrets are equal, in time that says nothing about where they differ or how long
 * either is: both sides are hashed to 32 bytes first, so the comparison always sees equal lengths.
 */
export function constantTimeEqual(a: Secret, b: Secret): boolean {
  return timingSafeEqual(digestOf(a), digestOf(b));
}

/**
 * Whether `given` equals any of `candidates`. Every candidate is compared, match or not, so the time
 * taken tells neither which one matched nor whether any did.
 */
export function matchesAny(candidates: Iterable<Secret>, given: Secret): boolean {
  return firstMatch(candidates, (candidate) => candidate, given) !== undefined;
}

/**
 * The first item whose secret equals `given`, or undefined. Like matchesAny, it compares every
 * item's secret before answering.
 */
export function firstMatch<T>(items: Iterable<T>, secretOf: (item: T) => Secret, given: Secret): T | undefined {
  const givenDigest = digestOf(given);
  let found: T | undefined;
  for (const item of items) {
    if (timingSafeEqual(digestOf(secretOf(item)), givenDigest) && found === undefined) found = item;
  }
  return found;
}
