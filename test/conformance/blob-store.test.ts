import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe } from 'vitest';
import { FS_STAGING_DIR, FsBlobStore } from '../../src/adapters/blob/fs.blob-store.js';
import { S3BlobStore } from '../../src/adapters/blob/s3.blob-store.js';
import { startS3Server, type TestS3Server } from '../helpers/s3-server.js';
import { runBlobStoreConformance } from './blob-store.suite.js';

describe('FsBlobStore', () => {
  runBlobStoreConformance('fs', async () => {
    const root = await mkdtemp(path.join(tmpdir(), 'trove-fs-blob-'));
    const store = new FsBlobStore({ root });
    return {
      store,
      cleanup: async () => {
        await store.close();
        await rm(root, { recursive: true, force: true });
      },
      listLeftovers: async () => {
        try {
          return await readdir(path.join(root, FS_STAGING_DIR));
        } catch {
          return [];
        }
      },
    };
  });
});

describe('S3BlobStore on s3rver', () => {
  let server: TestS3Server;
  let storeCount = 0;

  beforeAll(async () => {
    server = await startS3Server();
  });

  afterAll(async () => {
    await server?.stop();
  });

  // One server, and a fresh key prefix per test: isolates tests and exercises `prefix`.
  runBlobStoreConformance('s3', async () => {
    storeCount += 1;
    const store = new S3BlobStore({
      bucket: server.bucket,
      prefix: `conformance-${storeCount}`,
      endpoint: server.endpoint,
      region: server.region,
      forcePathStyle: true,
      credentials: { accessKeyId: server.accessKeyId, secretAccessKey: server.secretAccessKey },
      requestChecksum: 'when_required',
    });
    return { store, cleanup: () => store.close() };
  });
});
