/**
 * The S3 connector of project storages against an in-process S3 server, with the resolver replaced
 * so host names mean what each test says: every address of a host is judged by the fetcher's
 * address policy on every connection, and a refused host never receives a byte.
 */
import { createServer, type Server } from 'node:net';
import { Readable } from 'node:stream';
import { GetObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { S3RemoteStorageConnector } from '../../src/adapters/remote-storage/s3.remote-storage.js';
import { RemoteStorageError, type RemoteStorageTarget } from '../../src/ports/remote-storage.js';
import { startS3Server, type TestS3Server } from '../helpers/s3-server.js';

describe('S3 connector of project storages', () => {
  let s3: TestS3Server;
  let port: string;
  let reached = 0;
  const resolved: string[] = [];
  let silent: Server;
  let silentPort: number;

  const resolverOf = (addresses: Record<string, string[]>) => async (hostname: string) => {
    resolved.push(hostname);
    const found = addresses[hostname];
    if (!found) throw new Error(`no such host ${hostname}`);
    return found;
  };

  const targetAt = (endpoint: string, accessKeyId?: string): RemoteStorageTarget => ({
    bucket: s3.bucket,
    region: s3.region,
    endpoint,
    forcePathStyle: true,
    credentials: { accessKeyId: accessKeyId ?? s3.accessKeyId, secretAccessKey: s3.secretAccessKey },
  });

  async function failure(work: Promise<unknown>): Promise<RemoteStorageError> {
    const error = await work.then(
      () => null,
      (caught: unknown) => caught,
    );
    expect(error).toBeInstanceOf(RemoteStorageError);
    return error as RemoteStorageError;
  }

  beforeAll(async () => {
    s3 = await startS3Server();
    s3.observe(() => reached++);
    port = new URL(s3.endpoint).port;
    // Accepts connections and never answers.
    silent = createServer(() => undefined);
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    silentPort = (silent.address() as { port: number }).port;
  });

  afterAll(async () => {
    await s3?.stop();
    silent?.close();
  });

  it('connects through its own lookup: a name only the resolver knows reaches the server', async () => {
    const connector = new S3RemoteStorageConnector({ allowPrivate: true, resolver: resolverOf({ 'storage.test': ['127.0.0.1'] }) });
    const bucket = connector.open(targetAt(`http://storage.test:${port}`));
    try {
      await bucket.checkWrite('lookup/.trove-write-check');
      expect(await bucket.exists('lookup/.trove-write-check')).toBe(false);
      await bucket.put('lookup/object.txt', Readable.from([Buffer.from('hello')]), { contentType: 'text/plain', size: 5, publicRead: false });
      expect(await bucket.exists('lookup/object.txt')).toBe(true);
    } finally {
      bucket.close();
    }
    expect(resolved).toContain('storage.test');
  });

  it('refuses a host with any forbidden address, before a byte is sent', async () => {
    const before = reached;
    const closed = new S3RemoteStorageConnector({ allowPrivate: false, resolver: resolverOf({ 'storage.test': ['127.0.0.1'] }) });
    const loopback = await failure(closed.open(targetAt(`http://storage.test:${port}`)).checkWrite('x/.trove-write-check'));
    expect(loopback.code).toBe('ENDPOINT_FORBIDDEN');
    expect(loopback.message).toBe('the endpoint host storage.test resolves to 127.0.0.1, which is not allowed: 127.0.0.1 is loopback 127.0.0.0/8 (private addresses are not allowed)');

    // Allowing private networks never opens cloud metadata, even as the second address of a name.
    const open = new S3RemoteStorageConnector({ allowPrivate: true, resolver: resolverOf({ 'mixed.test': ['127.0.0.1', '169.254.169.254'] }) });
    const metadata = await failure(open.open(targetAt(`http://mixed.test:${port}`)).checkWrite('x/.trove-write-check'));
    expect(metadata.code).toBe('ENDPOINT_FORBIDDEN');
    expect(metadata.message).toContain('169.254.169.254 is cloud instance metadata');

    // An address literal never reaches a lookup: it is judged when the bucket is opened.
    expect(() => closed.open(targetAt(`http://127.0.0.1:${port}`))).toThrow(/the endpoint host 127\.0\.0\.1 is not allowed/);
    expect(() => open.open(targetAt('http://[fd00:ec2::254]:80'))).toThrow(/AWS instance metadata over IPv6/);
    expect(reached).toBe(before);
  });

  it('says a host that does not resolve, or does not answer, is unreachable', { timeout: 30_000 }, async () => {
    const connector = new S3RemoteStorageConnector({ allowPrivate: true, resolver: resolverOf({ 'silent.test': ['127.0.0.1'] }), checkTimeoutMs: 500 });
    const unknown = await failure(connector.open(targetAt('http://nowhere.test:9000')).checkWrite('x'));
    expect(unknown.code).toBe('UNREACHABLE');
    expect(unknown.message).toContain('could not resolve nowhere.test');
    const started = Date.now();
    const hanging = await failure(connector.open(targetAt(`http://silent.test:${silentPort}`)).checkWrite('x'));
    expect(hanging.code).toBe('UNREACHABLE');
    expect(hanging.message).toMatch(/did not answer in time/);
    expect(Date.now() - started).toBeLessThan(10_000);
  });

  it('names what the service refused: credentials, bucket', async () => {
    const connector = new S3RemoteStorageConnector({ allowPrivate: true });
    const wrongKey = await failure(connector.open(targetAt(s3.endpoint, 'NOT-S3RVER')).checkWrite('x/.trove-write-check'));
    expect(wrongKey.code).toBe('CREDENTIALS_REJECTED');
    const noBucket = await failure(connector.open({ ...targetAt(s3.endpoint), bucket: 'missing-bucket' }).checkWrite('x/.trove-write-check'));
    expect(noBucket.code).toBe('BUCKET_NOT_FOUND');
  });

  it('leaves no object when the body fails midway or falls short, large or small', { timeout: 60_000 }, async () => {
    const connector = new S3RemoteStorageConnector({ allowPrivate: true });
    const bucket = connector.open(targetAt(s3.endpoint));
    const reader = new S3Client({ endpoint: s3.endpoint, region: s3.region, forcePathStyle: true, credentials: { accessKeyId: s3.accessKeyId, secretAccessKey: s3.secretAccessKey } });
    try {
      const broken = new Error('the source broke');
      async function* failing(): AsyncGenerator<Buffer> {
        yield Buffer.alloc(9 * 1024 * 1024, 1);
        throw broken;
      }
      await expect(bucket.put('fail/large.bin', Readable.from(failing()), { contentType: 'application/octet-stream', publicRead: false })).rejects.toBe(broken);
      await expect(bucket.put('fail/short.bin', Readable.from([Buffer.alloc(10)]), { contentType: 'application/octet-stream', size: 11, publicRead: false })).rejects.toThrow(/expected exactly 11/);
      for (const key of ['fail/large.bin', 'fail/short.bin']) {
        expect(await bucket.exists(key), key).toBe(false);
        await expect(reader.send(new GetObjectCommand({ Bucket: s3.bucket, Key: key }))).rejects.toMatchObject({ name: 'NoSuchKey' });
      }
    } finally {
      bucket.close();
      reader.destroy();
    }
  });
});
