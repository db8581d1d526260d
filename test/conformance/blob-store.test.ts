import { S3ServiceException, type S3Client } from '@aws-sdk/client-s3';
import { mkdtemp, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { InvalidBlobKeyError } from '../../src/adapters/blob/blob-key.js';
import { InvalidUploadIdError } from '../../src/adapters/blob/errors.js';
import { FS_STAGING_DIR, FsBlobStore } from '../../src/adapters/blob/fs.blob-store.js';
import { RegionalBlobStore } from '../../src/adapters/blob/regional.blob-store.js';
import { S3BlobStore, type S3BlobStoreOptions } from '../../src/adapters/blob/s3.blob-store.js';
import { allocatedBytes } from '../helpers/disk-usage.js';
import { startS3Server, type TestS3Server } from '../helpers/s3-server.js';
import { runBlobStoreConformance, streamOf } from './blob-store.suite.js';

async function makeFsStore(): Promise<{ root: string; store: FsBlobStore; cleanup: () => Promise<void> }> {
  const root = await mkdtemp(path.join(tmpdir(), 'trove-fs-blob-'));
  const store = new FsBlobStore({ root });
  return {
    root,
    store,
    cleanup: async () => {
      await store.close();
      await rm(root, { recursive: true, force: true });
    },
  };
}

async function listStaging(root: string): Promise<string[]> {
  try {
    return await readdir(path.join(root, FS_STAGING_DIR));
  } catch {
    return [];
  }
}

describe('FsBlobStore', () => {
  runBlobStoreConformance('fs', async () => {
    const { root, store, cleanup } = await makeFsStore();
    return { store, cleanup, listLeftovers: () => listStaging(root), stagedBytes: () => allocatedBytes(path.join(root, FS_STAGING_DIR)) };
  });

  describe('filesystem specifics', () => {
    let fixture: Awaited<ReturnType<typeof makeFsStore>>;
    beforeEach(async () => {
      fixture = await makeFsStore();
    });
    afterEach(async () => {
      await fixture.cleanup();
    });

    it('keeps keys out of its staging directory', async () => {
      const { store } = fixture;
      await expect(store.put(`${FS_STAGING_DIR}/x`, streamOf(Buffer.from('x')))).rejects.toThrow(InvalidBlobKeyError);
      await expect(store.get(FS_STAGING_DIR)).rejects.toThrow(InvalidBlobKeyError);
      await expect(store.deletePrefix(`${FS_STAGING_DIR}/`)).rejects.toThrow(InvalidBlobKeyError);
    });

    it('never lets a prefix delete reach the staging directory', async () => {
      const { root, store } = fixture;
      const { uploadId } = await store.createMultipart('k', { size: 3 });
      expect(await store.deletePrefix('.sta')).toBe(0);
      expect(await listStaging(root)).toEqual([`mp-${uploadId}`]);
      await store.abortMultipart('k', uploadId);
    });

    it('validates upload ids before building paths from them', async () => {
      const { store } = fixture;
      for (const uploadId of ['../../etc/passwd', 'x', 'UPPERCASE-ID-1234', 'a/b-12345678', '']) {
        const body = streamOf(Buffer.from('x'));
        await expect(store.uploadPart('k', uploadId, { partNumber: 1, offset: 0, size: 1 }, body)).rejects.toThrow(
          InvalidUploadIdError,
        );
        await expect(store.completeMultipart('k', uploadId, [])).rejects.toThrow(InvalidUploadIdError);
        await expect(store.abortMultipart('k', uploadId)).rejects.toThrow(InvalidUploadIdError);
      }
    });

    it('refuses a part that would extend past the announced size', async () => {
      const { store } = fixture;
      const { uploadId } = await store.createMultipart('k', { size: 10 });
      await expect(
        store.uploadPart('k', uploadId, { partNumber: 2, offset: 8, size: 3 }, streamOf(Buffer.from('abc'))),
      ).rejects.toThrow(/past the upload size/);
      await store.abortMultipart('k', uploadId);
    });

    it('treats a directory as a missing object', async () => {
      const { store } = fixture;
      await store.put('dir/child', streamOf(Buffer.from('x')));
      expect(await store.get('dir')).toBeNull();
      expect(await store.head('dir')).toBeNull();
      await store.delete('dir');
      expect(await store.head('dir/child')).toEqual({ size: 1 });
    });

    it('removes emptied prefix directories, so later puts recreate them', async () => {
      const { root, store } = fixture;
      await store.put('derivatives/u1/a', streamOf(Buffer.from('a')));
      await store.put('derivatives/u1/b/c', streamOf(Buffer.from('c')));
      expect(await store.deletePrefix('derivatives/u1/')).toBe(2);
      expect(await readdir(path.join(root, 'derivatives'))).toEqual([]);
      await store.put('derivatives/u1/a', streamOf(Buffer.from('again')));
      expect(await store.head('derivatives/u1/a')).toEqual({ size: 5 });
    });

    it('recreates a staging directory removed while running', async () => {
      const { root, store } = fixture;
      await store.put('first', streamOf(Buffer.from('1')));
      await rm(path.join(root, FS_STAGING_DIR), { recursive: true });
      expect(await store.put('second', streamOf(Buffer.from('22')))).toEqual({ size: 2 });
    });

    it('creates a missing root on ping (a fresh install is ready) and fails when the root is not a directory', async () => {
      const { root } = fixture;
      await new FsBlobStore({ root: path.join(root, 'fresh', 'blobs') }).ping();
      expect((await stat(path.join(root, 'fresh', 'blobs'))).isDirectory()).toBe(true);
      await writeFile(path.join(root, 'file'), 'x');
      await expect(new FsBlobStore({ root: path.join(root, 'file') }).ping()).rejects.toThrow();
    });
  });
});

/** Every file under `root` but the staging directory, as keys relative to it. */
async function listKeys(root: string, dir = ''): Promise<string[]> {
  const entries = await readdir(path.join(root, dir), { withFileTypes: true }).catch(() => []);
  const keys: string[] = [];
  for (const entry of entries) {
    const key = dir === '' ? entry.name : `${dir}/${entry.name}`;
    if (key === FS_STAGING_DIR) continue;
    if (entry.isDirectory()) keys.push(...(await listKeys(root, key)));
    else keys.push(key);
  }
  return keys;
}

describe('RegionalBlobStore over filesystem stores', () => {
  // The node serves in `west`: the suite's originals go to the default region's store, every other
  // key to west's; `east` is declared but never named by the suite's keys, so it must stay empty.
  runBlobStoreConformance('regional (fs)', async () => {
    const regions = await Promise.all(['default', 'west', 'east'].map(async (name) => ({ name, ...(await makeFsStore()) })));
    const store = new RegionalBlobStore(new Map(regions.map((region) => [region.name, region.store])), 'default', 'west');
    const root = (name: string) => regions.find((region) => region.name === name)?.root ?? '';
    return {
      store,
      cleanup: async () => {
        try {
          expect((await listKeys(root('default'))).filter((key) => !key.startsWith('originals/'))).toEqual([]);
          expect((await listKeys(root('west'))).filter((key) => key.startsWith('originals/'))).toEqual([]);
          expect(await listKeys(root('east'))).toEqual([]);
          expect(await listStaging(root('east'))).toEqual([]);
        } finally {
          for (const region of regions) await region.cleanup();
        }
      },
      listLeftovers: async () => (await Promise.all(regions.map(async (region) => (await listStaging(region.root)).map((name) => `${region.name}:${name}`)))).flat(),
      stagedBytes: async () => {
        const bytes = await Promise.all(regions.map((region) => allocatedBytes(path.join(region.root, FS_STAGING_DIR))));
        return bytes.reduce((sum, value) => sum + value, 0);
      },
    };
  });
});

describe('S3BlobStore on s3rver', () => {
  let server: TestS3Server;
  let storeCount = 0;

  function makeS3Store(overrides: Partial<S3BlobStoreOptions> = {}): S3BlobStore {
    storeCount += 1;
    return new S3BlobStore({
      bucket: server.bucket,
      prefix: `conformance-${storeCount}`,
      endpoint: server.endpoint,
      region: server.region,
      forcePathStyle: true,
      credentials: { accessKeyId: server.accessKeyId, secretAccessKey: server.secretAccessKey },
      requestChecksum: 'when_required',
      ...overrides,
    });
  }

  beforeAll(async () => {
    server = await startS3Server();
  });

  afterAll(async () => {
    await server?.stop();
  });

  // One server, and a fresh key prefix per test: isolates tests and exercises `prefix`.
  runBlobStoreConformance('s3', async () => {
    const store = makeS3Store();
    return { store, cleanup: () => store.close() };
  });

  describe('S3 specifics', () => {
    let store: S3BlobStore;
    afterEach(async () => {
      await store.close();
    });

    it('deletes a prefix holding more than one listing page', async () => {
      store = makeS3Store();
      const keys = Array.from({ length: 1003 }, (_, i) => `many/${String(i).padStart(4, '0')}`);
      await forEachConcurrently(keys, 16, (key) => store.put(key, Readable.from([Buffer.from(key)])));
      await store.put('other/kept', Readable.from([Buffer.from('kept')]));
      expect(await store.deletePrefix('many/')).toBe(keys.length);
      expect(await store.head('many/0000')).toBeNull();
      expect(await store.head('many/1002')).toBeNull();
      expect(await store.head('other/kept')).toEqual({ size: 4 });
    });

    it('falls back to single deletes when DeleteObjects is not implemented', async () => {
      store = makeS3Store();
      let batchCalls = 0;
      // Reaching into the private client is the least invasive way to fake an older server.
      const client = (store as unknown as { client: S3Client }).client;
      client.middlewareStack.add(
        (next, context) => async (args) => {
          if (context.commandName === 'DeleteObjectsCommand') {
            batchCalls += 1;
            throw new S3ServiceException({
              name: 'NotImplemented',
              $fault: 'server',
              $metadata: { httpStatusCode: 501 },
              message: 'not implemented',
            });
          }
          return next(args);
        },
        { step: 'initialize', name: 'fakeMissingDeleteObjects' },
      );
      for (const key of ['p/1', 'p/2', 'p/3']) await store.put(key, Readable.from([Buffer.from(key)]));
      expect(await store.deletePrefix('p/')).toBe(3);
      for (const key of ['q/1', 'q/2']) await store.put(key, Readable.from([Buffer.from(key)]));
      expect(await store.deletePrefix('q/')).toBe(2);
      expect(batchCalls).toBe(1);
      expect(await store.head('p/1')).toBeNull();
      expect(await store.head('q/2')).toBeNull();
    });

    it('keeps each store inside its prefix', async () => {
      store = makeS3Store({ prefix: 'tenant-a/' });
      const neighbour = makeS3Store({ prefix: 'tenant-b' });
      try {
        await store.put('same/key', Readable.from([Buffer.from('a')]));
        await neighbour.put('same/key', Readable.from([Buffer.from('bb')]));
        expect(await store.deletePrefix('same/')).toBe(1);
        expect(await neighbour.head('same/key')).toEqual({ size: 2 });
      } finally {
        await neighbour.deletePrefix('same/');
        await neighbour.close();
      }
    });

    it('refuses an unsafe key prefix at construction', () => {
      store = makeS3Store();
      expect(() => makeS3Store({ prefix: '../escape' })).toThrow(InvalidBlobKeyError);
    });

    it('fails ping for a missing bucket', async () => {
      store = makeS3Store({ bucket: 'no-such-bucket' });
      await expect(store.ping()).rejects.toThrow();
    });
  });
});

async function forEachConcurrently<T>(items: T[], concurrency: number, task: (item: T) => Promise<unknown>) {
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < items.length) {
        const item = items[next] as T;
        next += 1;
        await task(item);
      }
    }),
  );
}
