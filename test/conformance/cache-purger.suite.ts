/**
 * The contract of every CachePurger adapter, run against a local stand-in of its provider that checks
 * the documented request shape: a purge within the adapter's limits is accepted and reaches the
 * provider whole; a refusal, a 429, silence, an endless answer and a closed port each end in a
 * PurgeError (with a retry delay only for the 429), within the call's deadline.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { purgeOfFiles, splitPurge } from '../../src/domain/cache-tags.js';
import { PurgeError, type CachePurger } from '../../src/ports/cache-purger.js';
import { startPurgeStandIn, type PurgeStandIn, type StandInKind } from '../helpers/purge-stand-ins.js';

interface CachePurgerFixture {
  kind: StandInKind;
  /** The adapter, configured as an operator would, for a provider at `baseUrl`. */
  create(standIn: PurgeStandIn, timeoutMs: number): CachePurger;
  /** Reads its answer itself (false: an SDK does, and bounds it by the deadline only). */
  boundsAnswer: boolean;
}

const UUIDS = ['3addab78-6368-4c55-ac08-22412b6a2a4c', '9b9f4483-77b8-40ae-a198-272ba41280ae'];

async function rejection(promise: Promise<unknown>): Promise<PurgeError> {
  const error = await promise.then(
    () => null,
    (reason: unknown) => reason,
  );
  expect(error).toBeInstanceOf(PurgeError);
  return error as PurgeError;
}

export function runCachePurgerConformance(name: string, fixture: CachePurgerFixture): void {
  describe(`CachePurger conformance: ${name}`, () => {
    let standIn: PurgeStandIn;
    let purger: CachePurger;

    beforeAll(async () => {
      standIn = await startPurgeStandIn(fixture.kind);
      purger = fixture.create(standIn, 500);
    });
    afterAll(async () => {
      await standIn?.close();
    });
    beforeEach(() => {
      standIn.received.length = 0;
      standIn.mode = 'ok';
    });

    it('sends a purge the provider accepts, with every tag or path it takes', async () => {
      const purge = purgeOfFiles(UUIDS, '');
      const [batch] = splitPurge(purge, purger.limits);
      await purger.purge(batch!);
      expect(standIn.malformed).toEqual([]);
      expect(standIn.received).toHaveLength(1);
      const [received] = standIn.received;
      if (purger.limits.maxTags > 0) expect(received!.tags).toEqual(['f:3addab78-6368-4c55-ac08-22412b6a2a4c', 'f:9b9f4483-77b8-40ae-a198-272ba41280ae']);
      if (purger.limits.maxPaths > 0) expect(received!.paths).toEqual(['/3addab78-6368-4c55-ac08-22412b6a2a4c*', '/9b9f4483-77b8-40ae-a198-272ba41280ae*']);
    });

    it('takes a batch as large as its limits say in one request', async () => {
      const uuids = Array.from({ length: 400 }, (_, i) => `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`);
      const batches = splitPurge(purgeOfFiles(uuids, '/cdn'), purger.limits);
      await purger.purge(batches[0]!);
      expect(standIn.malformed).toEqual([]);
      expect(standIn.received).toHaveLength(1);
      const expected = Math.min(400, purger.limits.maxTags > 0 ? purger.limits.maxTags : purger.limits.maxPaths);
      const received = standIn.received[0]!;
      expect(purger.limits.maxTags > 0 ? received.tags.length : received.paths.length).toBe(expected);
      if (purger.limits.maxPaths > 0) expect(received.paths[0]).toBe('/cdn/00000000-0000-4000-8000-000000000000*');
    });

    it('turns a refusal into a PurgeError that is not put off', async () => {
      standIn.mode = 'error';
      const error = await rejection(purger.purge(purgeOfFiles(UUIDS, '')));
      expect(error.retryAfterMs).toBeNull();
      expect(error.message).toMatch(/40[13]|500|AccessDenied|not allowed|refused/i);
    });

    it('turns a rate-limit answer (429) into a PurgeError that says when to call again', async () => {
      standIn.mode = 'rate-limited';
      const error = await rejection(purger.purge(purgeOfFiles(UUIDS, '')));
      expect(error.retryAfterMs).toBeGreaterThan(0);
      if (fixture.boundsAnswer) expect(error.retryAfterMs).toBe(7_000);
    });

    it('gives up on a provider that does not answer within the deadline', async () => {
      standIn.mode = 'hang';
      const started = Date.now();
      const error = await rejection(purger.purge(purgeOfFiles(UUIDS, '')));
      expect(Date.now() - started).toBeLessThan(3_000);
      expect(error.retryAfterMs).toBeNull();
    });

    it.runIf(fixture.boundsAnswer)('stops reading an answer that does not end', async () => {
      standIn.mode = 'huge';
      const error = await rejection(purger.purge(purgeOfFiles(UUIDS, '')));
      expect(error.message).toMatch(/larger than|no answer within/);
    });

    it('fails with a PurgeError when the provider cannot be reached', async () => {
      const closed = await startPurgeStandIn(fixture.kind);
      await closed.close();
      const unreachable = fixture.create(closed, 500);
      const error = await rejection(unreachable.purge(purgeOfFiles(UUIDS, '')));
      expect(error.retryAfterMs).toBeNull();
    });
  });
}
