import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { InvalidBlobKeyError } from '../../src/adapters/blob/blob-key.js';
import { BlobSizeMismatchError, PartSizeMismatchError } from '../../src/adapters/blob/errors.js';
import type { BlobStore, CompletedPart } from '../../src/ports/blob-store.js';

interface BlobStoreFixture {
  store: BlobStore;
  cleanup: () => Promise<void>;
  /**
   * Optional: names of temp files or staging entries the adapter keeps out of sight. Every
   * failed or aborted write must leave this empty.
   */
  listLeftovers?: () => Promise<string[]>;
  /** Optional: bytes the adapter holds on disk for unfinished writes (allocated blocks, not apparent sizes). */
  stagedBytes?: () => Promise<number>;
}

const MIB = 1024 * 1024;
/** Real S3 refuses non-final parts under 5 MiB, so multipart tests use sizes it would accept. */
const PART_BYTES = 5 * MIB;

const UNSAFE_KEYS = ['../x', '/abs', 'a/../../b', 'a\\b', 'a//b', '', 'a\u0000b', 'a/./b', 'a/', '..', 'a\nb'];

/** Behaviour every BlobStore adapter must share; run it against each with a fresh store per test. */
export function runBlobStoreConformance(name: string, setup: () => Promise<BlobStoreFixture>): void {
  describe(`BlobStore conformance: ${name}`, () => {
    let fixture: BlobStoreFixture;
    let store: BlobStore;

    beforeEach(async () => {
      fixture = await setup();
      store = fixture.store;
    });

    afterEach(async () => {
      await fixture.cleanup();
    });

    async function expectNoLeftovers(): Promise<void> {
      if (fixture.listLeftovers) expect(await fixture.listLeftovers()).toEqual([]);
    }

    it('round-trips binary data streamed in odd-sized chunks', async () => {
      const data = randomBytes(3 * MIB + 7);
      const info = await store.put('originals/ab/round-trip', streamOf(data, 65_537), {
        contentType: 'application/octet-stream',
      });
      expect(info).toEqual({ size: data.length });
      expect(await store.head('originals/ab/round-trip')).toEqual({ size: data.length });
      expect((await readBlob(store, 'originals/ab/round-trip')).equals(data)).toBe(true);

      await store.delete('originals/ab/round-trip');
      expect(await store.head('originals/ab/round-trip')).toBeNull();
      expect(await store.get('originals/ab/round-trip')).toBeNull();
    });

    it('stores an empty object', async () => {
      expect(await store.put('empty', streamOf(Buffer.alloc(0)))).toEqual({ size: 0 });
      expect(await store.head('empty')).toEqual({ size: 0 });
      expect((await readBlob(store, 'empty')).length).toBe(0);
    });

    it('accepts a put whose announced size matches', async () => {
      const data = randomBytes(100_000);
      expect(await store.put('sized', streamOf(data), { size: data.length })).toEqual({ size: data.length });
      expect((await readBlob(store, 'sized')).equals(data)).toBe(true);
    });

    it('serves inclusive byte ranges', async () => {
      const data = randomBytes(MIB + 3);
      await store.put('ranged', streamOf(data));
      const last = data.length - 1;

      expect(await readBlob(store, 'ranged', { start: 0, end: 0 })).toEqual(data.subarray(0, 1));
      expect(await readBlob(store, 'ranged', { start: 1000, end: 50_000 })).toEqual(data.subarray(1000, 50_001));
      expect(await readBlob(store, 'ranged', { start: last, end: last })).toEqual(data.subarray(last));
      expect((await readBlob(store, 'ranged', { start: 0, end: last })).equals(data)).toBe(true);
      // An end past the object is clipped, as in HTTP.
      expect(await readBlob(store, 'ranged', { start: last - 1, end: last + 100 })).toEqual(data.subarray(last - 1));
    });

    it('rejects a malformed range', async () => {
      await store.put('ranged', streamOf(Buffer.from('abc')));
      await expect(store.get('ranged', { start: 2, end: 1 })).rejects.toThrow();
      await expect(store.get('ranged', { start: -1, end: 1 })).rejects.toThrow();
    });

    it('answers null for a missing key', async () => {
      expect(await store.get('missing/key')).toBeNull();
      expect(await store.get('missing/key', { start: 0, end: 10 })).toBeNull();
      expect(await store.head('missing/key')).toBeNull();
    });

    it('deletes idempotently', async () => {
      await store.delete('never/existed');
      await store.put('to-delete', streamOf(Buffer.from('x')));
      await store.delete('to-delete');
      await store.delete('to-delete');
      expect(await store.head('to-delete')).toBeNull();
    });

    it('overwrites an existing key', async () => {
      await store.put('overwritten', streamOf(randomBytes(200_000)));
      const replacement = randomBytes(1234);
      expect(await store.put('overwritten', streamOf(replacement))).toEqual({ size: replacement.length });
      expect(await store.head('overwritten')).toEqual({ size: replacement.length });
      expect((await readBlob(store, 'overwritten')).equals(replacement)).toBe(true);
    });

    it('deletes by prefix, counting, and leaves other keys alone', async () => {
      const keys = ['d/x/1', 'd/x/2', 'd/x/sub/3', 'd/xy/4', 'd/y/5', 'e/1', 'dx'];
      for (const key of keys) await store.put(key, streamOf(Buffer.from(key)));

      expect(await store.deletePrefix('d/x/')).toBe(3);
      for (const key of ['d/x/1', 'd/x/2', 'd/x/sub/3']) expect(await store.head(key)).toBeNull();
      for (const key of ['d/xy/4', 'd/y/5', 'e/1', 'dx']) expect(await store.head(key)).not.toBeNull();

      // A plain key prefix matches by name, not by directory.
      expect(await store.deletePrefix('d/x')).toBe(1);
      expect(await store.head('d/xy/4')).toBeNull();
      expect(await store.head('d/y/5')).not.toBeNull();

      expect(await store.deletePrefix('nothing/here/')).toBe(0);
      expect((await readBlob(store, 'e/1')).toString()).toBe('e/1');
    });

    it('refuses unsafe prefixes', async () => {
      for (const prefix of ['', '/', '../', 'a/../../', '/abs/', 'a//', 'a\\b/']) {
        await expect(store.deletePrefix(prefix), `prefix ${JSON.stringify(prefix)}`).rejects.toThrow(
          InvalidBlobKeyError,
        );
      }
    });

    it('rejects unsafe keys on every operation', async () => {
      for (const key of UNSAFE_KEYS) {
        const label = `key ${JSON.stringify(key)}`;
        await expect(store.put(key, streamOf(Buffer.from('x'))), label).rejects.toThrow(InvalidBlobKeyError);
        await expect(store.get(key), label).rejects.toThrow(InvalidBlobKeyError);
        await expect(store.head(key), label).rejects.toThrow(InvalidBlobKeyError);
        await expect(store.delete(key), label).rejects.toThrow(InvalidBlobKeyError);
        await expect(store.createMultipart(key, { size: 1 }), label).rejects.toThrow(InvalidBlobKeyError);
      }
    });

    it('leaves nothing when the input stream errors midway', async () => {
      const failing = failingStream(randomBytes(2 * MIB), MIB, new Error('client went away'));
      await expect(store.put('failed/put', failing)).rejects.toThrow('client went away');
      expect(await store.head('failed/put')).toBeNull();
      expect(await store.get('failed/put')).toBeNull();
      await expectNoLeftovers();
    });

    it('leaves nothing when the input stream is destroyed without an error (client abort)', async () => {
      const aborted = failingStream(randomBytes(2 * MIB), MIB, undefined);
      await expect(store.put('aborted/put', aborted)).rejects.toThrow();
      expect(await store.head('aborted/put')).toBeNull();
      await expectNoLeftovers();
    });

    it('leaves nothing when a large put fails after several parts', async () => {
      // Large enough that an S3 adapter has already started a multipart upload.
      const failing = failingStream(randomBytes(20 * MIB), 18 * MIB, new Error('late failure'));
      await expect(store.put('failed/large', failing)).rejects.toThrow('late failure');
      expect(await store.head('failed/large')).toBeNull();
      await expectNoLeftovers();
    });

    it('keeps the previous object when an overwrite fails', async () => {
      const original = randomBytes(50_000);
      await store.put('kept', streamOf(original));
      const failing = failingStream(randomBytes(MIB), 300_000, new Error('boom'));
      await expect(store.put('kept', failing)).rejects.toThrow('boom');
      expect((await readBlob(store, 'kept')).equals(original)).toBe(true);
      await expectNoLeftovers();
    });

    it('rejects a put whose body differs from the announced size', async () => {
      await expect(store.put('short', streamOf(randomBytes(1000)), { size: 1001 })).rejects.toThrow(
        BlobSizeMismatchError,
      );
      await expect(store.put('long', streamOf(randomBytes(1002)), { size: 1001 })).rejects.toThrow(
        BlobSizeMismatchError,
      );
      expect(await store.head('short')).toBeNull();
      expect(await store.head('long')).toBeNull();
      await expectNoLeftovers();
    });

    it('assembles a multipart upload from parallel, out-of-order and re-sent parts', async () => {
      const data = randomBytes(2 * PART_BYTES + MIB + 13);
      const key = 'originals/cd/multipart';
      const { uploadId } = await store.createMultipart(key, { size: data.length, contentType: 'video/mp4' });
      const ranges = partRanges(data.length, PART_BYTES);
      expect(ranges).toHaveLength(3);

      // A first attempt at part 2 with the wrong bytes; the re-send below must replace it.
      const second = ranges[1]!;
      await store.uploadPart(key, uploadId, second, streamOf(Buffer.alloc(second.size, 0xee)));
      expect(await store.head(key)).toBeNull();

      const order = [ranges[2]!, ranges[0]!, ranges[1]!];
      const completed = await Promise.all(
        order.map((part) =>
          store.uploadPart(key, uploadId, part, streamOf(data.subarray(part.offset, part.offset + part.size), 100_003)),
        ),
      );
      for (const [index, part] of order.entries()) {
        expect(completed[index]?.partNumber).toBe(part.partNumber);
        expect(typeof completed[index]?.etag).toBe('string');
      }
      expect(await store.head(key)).toBeNull();

      const sorted: CompletedPart[] = [...completed].sort((a, b) => a.partNumber - b.partNumber);
      expect(await store.completeMultipart(key, uploadId, sorted)).toEqual({ size: data.length });
      expect(await store.head(key)).toEqual({ size: data.length });
      expect((await readBlob(store, key)).equals(data)).toBe(true);
      await expectNoLeftovers();
    });

    it('aborts a multipart upload without leaving anything, idempotently', async () => {
      const key = 'originals/ef/aborted';
      const { uploadId } = await store.createMultipart(key, { size: PART_BYTES + 10 });
      const part = { partNumber: 1, offset: 0, size: PART_BYTES };
      await store.uploadPart(key, uploadId, part, streamOf(randomBytes(PART_BYTES)));
      await store.abortMultipart(key, uploadId);
      await store.abortMultipart(key, uploadId);
      expect(await store.head(key)).toBeNull();
      expect(await store.get(key)).toBeNull();
      await expectNoLeftovers();
    });

    it('rejects a part that delivers the wrong byte count, and accepts a correct re-send', async () => {
      const data = randomBytes(MIB);
      const key = 'originals/gh/mismatch';
      const { uploadId } = await store.createMultipart(key, { size: data.length });
      const part = { partNumber: 1, offset: 0, size: data.length };

      await expect(store.uploadPart(key, uploadId, part, streamOf(data.subarray(0, 1000)))).rejects.toThrow(
        PartSizeMismatchError,
      );
      await expect(
        store.uploadPart(key, uploadId, part, streamOf(Buffer.concat([data, Buffer.from('extra')]))),
      ).rejects.toThrow(PartSizeMismatchError);
      expect(await store.head(key)).toBeNull();

      const completed = await store.uploadPart(key, uploadId, part, streamOf(data));
      expect(await store.completeMultipart(key, uploadId, [completed])).toEqual({ size: data.length });
      expect((await readBlob(store, key)).equals(data)).toBe(true);
      await expectNoLeftovers();
    });

    it('rejects a part whose body stream fails', async () => {
      const key = 'originals/ij/failing-part';
      const { uploadId } = await store.createMultipart(key, { size: MIB });
      const failing = failingStream(randomBytes(MIB), 200_000, new Error('part body failed'));
      await expect(store.uploadPart(key, uploadId, { partNumber: 1, offset: 0, size: MIB }, failing)).rejects.toThrow(
        'part body failed',
      );
      await store.abortMultipart(key, uploadId);
      expect(await store.head(key)).toBeNull();
      await expectNoLeftovers();
    });

    it('keeps nothing of a part cut off midway while its upload stays open', async () => {
      const key = 'originals/kl/cut-part';
      const data = randomBytes(PART_BYTES + MIB);
      const { uploadId } = await store.createMultipart(key, { size: data.length });
      const first = { partNumber: 1, offset: 0, size: PART_BYTES };
      const second = { partNumber: 2, offset: PART_BYTES, size: MIB };
      const before = await fixture.stagedBytes?.();
      const cut = failingStream(data.subarray(0, PART_BYTES), 3 * MIB, new Error('client went away'));
      await expect(store.uploadPart(key, uploadId, first, cut)).rejects.toThrow('client went away');
      if (before !== undefined) expect(await fixture.stagedBytes?.()).toBe(before);

      const parts = [
        await store.uploadPart(key, uploadId, first, streamOf(data.subarray(0, PART_BYTES))),
        await store.uploadPart(key, uploadId, second, streamOf(data.subarray(PART_BYTES))),
      ];
      expect(await store.completeMultipart(key, uploadId, parts)).toEqual({ size: data.length });
      expect((await readBlob(store, key)).equals(data)).toBe(true);
      await expectNoLeftovers();
    });

    it('answers ping', async () => {
      await expect(store.ping()).resolves.toBeUndefined();
    });
  });
}

/** A byte stream over `data`, delivered in chunks of `chunkSize`. */
export function streamOf(data: Buffer, chunkSize = 64 * 1024): Readable {
  function* chunks(): Generator<Buffer> {
    for (let offset = 0; offset < data.length; offset += chunkSize) yield data.subarray(offset, offset + chunkSize);
  }
  return Readable.from(chunks(), { objectMode: false });
}

/** Delivers `data` until `failAfter` bytes, then errors with `error` (or is destroyed without one). */
function failingStream(data: Buffer, failAfter: number, error: Error | undefined): Readable {
  const chunkSize = 64 * 1024;
  let offset = 0;
  return new Readable({
    read() {
      if (offset >= failAfter) {
        // Asynchronously, like a socket reset arriving between chunks.
        setImmediate(() => this.destroy(error));
        return;
      }
      const end = Math.min(offset + chunkSize, failAfter, data.length);
      this.push(data.subarray(offset, end));
      offset = end;
    },
  });
}

async function readBlob(store: BlobStore, key: string, range?: { start: number; end: number }): Promise<Buffer> {
  const stream = await store.get(key, range);
  if (!stream) throw new Error(`expected ${key} to exist`);
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk)));
  return Buffer.concat(chunks);
}

function partRanges(total: number, partSize: number): Array<{ partNumber: number; offset: number; size: number }> {
  const parts = [];
  for (let offset = 0, partNumber = 1; offset < total; offset += partSize, partNumber += 1) {
    parts.push({ partNumber, offset, size: Math.min(partSize, total - offset) });
  }
  return parts;
}
