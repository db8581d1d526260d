import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FsBlobStore } from '../../src/adapters/blob/fs.blob-store.js';
import { derivativeBlobKey } from '../../src/domain/blob-layout.js';
import { DerivativeCache } from '../../src/services/transform/derivative-cache.js';
import { readStream } from '../../src/lib/read-stream.js';

describe('derivative envelopes in the blob store', () => {
  let root: string;
  let blobs: FsBlobStore;
  const settings = { l1Bytes: 1024 * 1024, l1MaxEntryBytes: 512 * 1024, l2MaxEntryBytes: 512 * 1024 };

  beforeAll(async () => {
    root = await mkdtemp(path.join(tmpdir(), 'trove-envelope-'));
    blobs = new FsBlobStore({ root });
  });
  afterAll(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it('stores the project with the derivative (TRV2), so a hit from the store can name it', async () => {
    const key = derivativeBlobKey('3addab78-6368-4c55-ac08-22412b6a2a4c', 'abc', 'webp');
    const writer = new DerivativeCache(blobs, settings);
    await writer.put(key, { data: Buffer.from('pixels'), contentType: 'image/webp', temporary: true, projectId: 'project-42' });
    const stored = await readStream((await blobs.get(key))!, 1024);
    expect(stored!.subarray(0, 4).toString()).toBe('TRV2');
    const reader = new DerivativeCache(blobs, settings);
    const hit = await reader.getL2(key);
    expect(hit).toEqual({ data: Buffer.from('pixels'), contentType: 'image/webp', temporary: true, projectId: 'project-42' });
    expect(reader.getL1(key)?.projectId).toBe('project-42');
  });

  it('still reads envelopes written before they carried the project (TRV1), without one', async () => {
    const key = derivativeBlobKey('9b9f4483-77b8-40ae-a198-272ba41280ae', 'def', 'png');
    const type = Buffer.from('image/png');
    const trv1 = Buffer.concat([Buffer.from('TRV1'), Buffer.from([0, type.length]), type, Buffer.from('old-bytes')]);
    await blobs.put(key, Readable.from([trv1]));
    const hit = await new DerivativeCache(blobs, settings).getL2(key);
    expect(hit).toEqual({ data: Buffer.from('old-bytes'), contentType: 'image/png', temporary: false, projectId: null });
  });
});
