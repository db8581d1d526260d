/**
 * Project storages and `POST /files/remote_copy/` over real HTTP, against a real S3 server standing
 * in for the project's bucket (s3rver, which accepts only the access key `S3RVER`, so a wrong key is
 * a real refusal). Every refusal is checked to leave the bucket and the storages as they were.
 */
import { createHash, randomBytes } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { Readable } from 'node:stream';
import { CreateBucketCommand, GetObjectCommand, HeadObjectCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { S3RemoteStorageConnector } from '../../src/adapters/remote-storage/s3.remote-storage.js';
import { systemClock } from '../../src/lib/clock.js';
import { ProjectStorageService } from '../../src/services/project-storage.service.js';
import { AppError } from '../../src/errors.js';
import { availableBackends } from '../helpers/backends.js';
import { makeJpeg } from '../helpers/images.js';
import { startS3Server, type TestS3Server } from '../helpers/s3-server.js';
import { startTrove, type TestTrove } from '../helpers/trove-server.js';
import { closedPort, uploadFile } from '../helpers/upload-http.js';

const backends = await availableBackends();

const V07 = 'application/vnd.uploadcare-v0.7+json';
const STORAGE_KEY = randomBytes(32).toString('base64');
const MiB = 1024 * 1024;

interface Keys {
  publicKey: string;
  secretKey: string;
}

interface Answer<T> {
  status: number;
  contentType: string | null;
  body: T;
  text: string;
}

interface RestStorage {
  name: string;
  bucket: string;
  prefix: string;
  region: string;
  endpoint: string | null;
  force_path_style: boolean;
  pattern: string;
  created_at: string;
  [field: string]: unknown;
}

async function rest<T = Record<string, unknown>>(trove: TestTrove, method: string, path: string, options: { json?: unknown; keys?: Keys } = {}): Promise<Answer<T>> {
  const keys = options.keys ?? trove;
  const response = await fetch(`${trove.url}${path}`, {
    method,
    headers: {
      Accept: V07,
      Authorization: `Uploadcare.Simple ${keys.publicKey}:${keys.secretKey}`,
      ...(options.json === undefined ? {} : { 'Content-Type': 'application/json' }),
    },
    body: options.json === undefined ? undefined : JSON.stringify(options.json),
  });
  const text = await response.text();
  return { status: response.status, contentType: response.headers.get('content-type'), body: (text ? JSON.parse(text) : null) as T, text };
}

function expectDetail(answer: Answer<unknown>, status: number, detail: string | RegExp): void {
  expect(answer.status, answer.text).toBe(status);
  expect(answer.contentType).toBe('application/json');
  const message = (answer.body as { detail?: unknown }).detail;
  expect(typeof message, answer.text).toBe('string');
  if (typeof detail === 'string') expect(message).toBe(detail);
  else expect(message).toMatch(detail);
}

/** The part of an s3rver request a test looks at. */
interface SeenRequest {
  method: string;
  path: string;
  acl: string | undefined;
  accessKey: string | undefined;
}

function seen(request: IncomingMessage): SeenRequest {
  const credential = /Credential=([^/]+)\//.exec(request.headers.authorization ?? '')?.[1];
  return { method: request.method ?? '', path: decodeURIComponent((request.url ?? '').split('?')[0]!), acl: request.headers['x-amz-acl'] as string | undefined, accessKey: credential };
}

describe.each(backends)('project storages and remote copies (%s)', (backend) => {
  let trove: TestTrove;
  let target: TestS3Server;
  let bucketClient: S3Client;
  const requests: SeenRequest[] = [];
  let jpeg: Buffer;
  let photo: string;
  let other: Keys;

  const storageBody = (name: string, prefix: string, extra: Record<string, unknown> = {}) => ({
    name,
    bucket: target.bucket,
    prefix,
    region: target.region,
    endpoint: target.endpoint,
    force_path_style: true,
    access_key_id: target.accessKeyId,
    secret_access_key: target.secretAccessKey,
    ...extra,
  });

  async function register(name: string, prefix: string, extra: Record<string, unknown> = {}, keys?: Keys): Promise<RestStorage> {
    const answer = await rest<RestStorage>(trove, 'POST', '/project/storages/', { json: storageBody(name, prefix, extra), ...(keys ? { keys } : {}) });
    expect(answer.status, answer.text).toBe(201);
    return answer.body;
  }

  async function keysUnder(prefix: string): Promise<string[]> {
    const listed = await bucketClient.send(new ListObjectsV2Command({ Bucket: target.bucket, Prefix: `${prefix}/` }));
    return (listed.Contents ?? []).map((object) => object.Key ?? '').sort();
  }

  async function objectBytes(key: string): Promise<{ bytes: Buffer; contentType: string | undefined }> {
    const object = await bucketClient.send(new GetObjectCommand({ Bucket: target.bucket, Key: key }));
    return { bytes: Buffer.from(await object.Body!.transformToByteArray()), contentType: object.ContentType };
  }

  beforeAll(async () => {
    target = await startS3Server();
    target.observe((request) => requests.push(seen(request)));
    bucketClient = new S3Client({
      endpoint: target.endpoint,
      region: target.region,
      forcePathStyle: true,
      credentials: { accessKeyId: target.accessKeyId, secretAccessKey: target.secretAccessKey },
    });
    trove = await startTrove({
      backend,
      env: { TROVE_STORAGE_CREDENTIALS_KEY: STORAGE_KEY, TROVE_RATE_LIMIT_REST_WRITE: 'off', TROVE_RATE_LIMIT_REST_READ: 'off' },
    });
    jpeg = await makeJpeg({ width: 64, height: 48 });
    photo = await uploadFile(trove, jpeg, 'Holiday photo (1).JPEG', { UPLOADCARE_STORE: '1' }, { type: 'image/jpeg' });
    const created = await trove.ctx.services.projects.create({ name: 'Another tenant' });
    other = { publicKey: created.project.publicKey, secretKey: created.secrets[0]!.secret };
  }, 60_000);

  afterAll(async () => {
    await trove?.close();
    bucketClient?.destroy();
    await target?.stop();
  });

  it('registers a storage after writing to it, and never answers its credentials', async () => {
    const before = requests.length;
    const created = await register('backup', 'reg', { region: 'us-east-1', pattern: '${uuid}${ext}' });
    expect(created).toEqual({
      name: 'backup',
      bucket: target.bucket,
      prefix: 'reg',
      region: 'us-east-1',
      endpoint: target.endpoint,
      force_path_style: true,
      pattern: '${uuid}${ext}',
      created_at: expect.stringMatching(/^\d{4}-\d{2}-\d{2}T/) as string,
    });
    // The check wrote an object under the prefix with the storage's own key, then deleted it.
    const checks = requests.slice(before).filter((r) => r.path === `/${target.bucket}/reg/.trove-write-check`);
    expect(checks.map((r) => r.method)).toEqual(['PUT', 'DELETE']);
    expect(checks.every((r) => r.accessKey === target.accessKeyId)).toBe(true);
    expect(await keysUnder('reg')).toEqual([]);

    const listed = await rest<{ results: RestStorage[] }>(trove, 'GET', '/project/storages/');
    expect(listed.status).toBe(200);
    expect(listed.body.results.map((s) => s.name)).toContain('backup');
    for (const answer of [listed.text, JSON.stringify(created)]) {
      expect(answer).not.toContain(target.secretAccessKey);
      expect(answer).not.toMatch(/access_key|secret/);
    }

    // Kept sealed: the row holds neither the access key nor the secret.
    const project = await trove.ctx.services.projects.findByPublicKey(trove.publicKey);
    const row = await trove.ctx.metadata.storages.find(project.id, 'backup');
    expect(row?.sealedCredentials).toMatch(/^v1\./);
    expect(row?.sealedCredentials).not.toContain(target.accessKeyId);
    // Under another server key the credentials do not open, and the storage says why.
    const otherKey = new ProjectStorageService(trove.ctx.metadata.storages, new S3RemoteStorageConnector({ allowPrivate: true }), randomBytes(32), systemClock);
    const unreadable = await otherKey.open(project, 'backup').catch((error: unknown) => error);
    expect(unreadable).toBeInstanceOf(AppError);
    expect(unreadable).toMatchObject({ code: 'STORAGE_CREDENTIALS_UNREADABLE', statusCode: 409 });
  });

  it('refuses a storage it cannot write to, naming what failed, and registers nothing', async () => {
    const attempts: Array<[Record<string, unknown>, RegExp]> = [
      [{ access_key_id: 'WRONGKEY' }, /Could not write to bucket "trove-test" at http:\/\/127\.0\.0\.1:\d+: the storage rejected the credentials .*InvalidAccessKeyId/],
      [{ bucket: 'no-such-bucket' }, /Could not write to bucket "no-such-bucket" .*the bucket does not exist/],
      [{ endpoint: `http://127.0.0.1:${await closedPort()}` }, /Could not write to .*the storage could not be reached/],
      // A metadata address stays closed even where private addresses are allowed.
      [{ endpoint: 'http://169.254.169.254' }, /the endpoint host 169\.254\.169\.254 is not allowed: .*cloud instance metadata/],
    ];
    for (const [change, message] of attempts) {
      const answer = await rest(trove, 'POST', '/project/storages/', { json: storageBody('broken', 'broken', change) });
      expectDetail(answer, 400, message);
      expect((answer.body as { detail: string }).detail).toContain('Nothing was registered.');
    }
    const listed = await rest<{ results: RestStorage[] }>(trove, 'GET', '/project/storages/');
    expect(listed.body.results.map((s) => s.name)).not.toContain('broken');
    expect(await keysUnder('broken')).toEqual([]);

    await register('taken', 'taken');
    expectDetail(await rest(trove, 'POST', '/project/storages/', { json: storageBody('taken', 'elsewhere') }), 409, /already has a storage named "taken"/);
  });

  it('refuses malformed registrations before reaching any storage', async () => {
    const before = requests.length;
    const cases: Array<[unknown, RegExp]> = [
      [[], /Expected JSON object/],
      [{ ...storageBody('ok', 'p'), name: '../etc' }, /`name` must be 1–64 letters/],
      [{ ...storageBody('ok', 'p'), bucket: 'x' }, /`bucket` must be an S3 bucket name/],
      [{ ...storageBody('ok', 'p'), prefix: 'a/../b' }, /`prefix` must be folder names/],
      [{ ...storageBody('ok', 'p'), endpoint: 'file:///etc/passwd' }, /`endpoint` must be an http\(s\) URL/],
      [{ ...storageBody('ok', 'p'), endpoint: 'http://user:pw@127.0.0.1:9000' }, /must not carry credentials/],
      [{ ...storageBody('ok', 'p'), pattern: '${secret}' }, /unknown variable \$\{secret\}/],
      [{ ...storageBody('ok', 'p'), region: 'x'.repeat(65) }, /`region` must be a string of at most 64 characters/],
      [{ ...storageBody('ok', 'p'), force_path_style: 'yes' }, /`force_path_style` must be true or false/],
      [{ ...storageBody('ok', 'p'), secret_access_key: 'x'.repeat(1025) }, /`secret_access_key` must be 1–1024/],
      [{ ...storageBody('ok', 'p'), acl: 'public-read' }, /Unknown field `acl`/],
      [{ name: 'ok', bucket: 'b' }, /`bucket`|`access_key_id` is required/],
    ];
    for (const [json, message] of cases) expectDetail(await rest(trove, 'POST', '/project/storages/', { json }), 400, message);
    expect(requests.length).toBe(before);
  });

  it('copies an original under ${default}, public-read; the same copy again leaves the object alone with a 200', async () => {
    await register('originals', 'orig');
    const before = requests.length;
    const copy = await rest<{ type: string; result: string }>(trove, 'POST', '/files/remote_copy/', { json: { source: photo, target: 'originals' } });
    expect(copy.status, copy.text).toBe(201);
    expect(copy.contentType).toBe('application/json');
    const key = `orig/${photo}/Holidayphoto1.JPEG`;
    expect(copy.body).toEqual({ type: 'url', result: `s3://${target.bucket}/${key}` });
    const stored = await objectBytes(key);
    expect(stored.bytes.equals(jpeg)).toBe(true);
    expect(stored.contentType).toBe('image/jpeg');
    const writes = requests.slice(before).filter((r) => r.method === 'PUT' && r.path === `/${target.bucket}/${key}`);
    expect(writes.map((r) => r.acl)).toEqual(['public-read']);

    const again = await rest(trove, 'POST', '/files/remote_copy/', { json: { source: `${trove.url}/${photo}/`, target: 'originals', make_public: 'true' } });
    expect(again.status, again.text).toBe(200);
    expect(again.body).toEqual({ type: 'url', result: `s3://${target.bucket}/${key}` });
    expect(requests.slice(before).filter((r) => r.method === 'PUT' && r.path === `/${target.bucket}/${key}`)).toHaveLength(1);
  });

  it('copies the derivative a CDN URL with operations names, baked, under its effects and its format’s extension', async () => {
    await register('derived', 'drv');
    const source = `${trove.url}/${photo}/-/resize/20x/-/format/png/preview.png`;
    const copy = await rest<{ result: string }>(trove, 'POST', '/files/remote_copy/', { json: { source, target: 'derived' } });
    expect(copy.status, copy.text).toBe(201);
    const key = `drv/${photo}/Holidayphoto1/-/resize/20x/-/format/png.png`;
    expect(copy.body.result).toBe(`s3://${target.bucket}/${key}`);
    const stored = await objectBytes(key);
    expect(stored.contentType).toBe('image/png');
    const meta = await sharp(stored.bytes).metadata();
    expect(meta).toMatchObject({ format: 'png', width: 20, height: 15 });

    // Other operations are another object; operations that change nothing copy the original.
    const grey = await rest<{ result: string }>(trove, 'POST', '/files/remote_copy/', { json: { source: `${photo}/-/grayscale/`, target: 'derived', pattern: '${uuid}${effects}${ext}' } });
    expect(grey.status, grey.text).toBe(201);
    expect(grey.body.result).toBe(`s3://${target.bucket}/drv/${photo}/-/grayscale.JPEG`);
    const greyObject = await objectBytes(`drv/${photo}/-/grayscale.JPEG`);
    expect(greyObject.contentType).toBe('image/jpeg');
    expect(greyObject.bytes.equals(jpeg)).toBe(false);
    const inline = await rest<{ result: string }>(trove, 'POST', '/files/remote_copy/', { json: { source: `${photo}/-/inline/yes/`, target: 'derived', pattern: 'inline/${auto_filename}' } });
    expect(inline.status, inline.text).toBe(201);
    expect((await objectBytes('drv/inline/Holidayphoto1.JPEG')).bytes.equals(jpeg)).toBe(true);
  });

  it('names objects by the pattern given, else the storage’s own; make_public=false sends no ACL', async () => {
    await register('patterned', 'pat', { pattern: 'by-storage/${uuid}${ext}' });
    const before = requests.length;
    const own = await rest<{ result: string }>(trove, 'POST', '/files/remote_copy/', { json: { source: photo, target: 'patterned', make_public: false } });
    expect(own.status, own.text).toBe(201);
    expect(own.body.result).toBe(`s3://${target.bucket}/pat/by-storage/${photo}.JPEG`);
    const given = await rest<{ result: string }>(trove, 'POST', '/files/remote_copy/', {
      json: { source: photo, target: 'patterned', pattern: 'given/${filename}-${uuid}', make_public: 'false' },
    });
    expect(given.status, given.text).toBe(201);
    expect(given.body.result).toBe(`s3://${target.bucket}/pat/given/Holidayphoto1-${photo}`);
    const writes = requests.slice(before).filter((r) => r.method === 'PUT' && r.path.startsWith(`/${target.bucket}/pat/`));
    expect(writes).toHaveLength(2);
    expect(writes.map((r) => r.acl)).toEqual([undefined, undefined]);
    expect(await keysUnder('pat')).toEqual([`pat/by-storage/${photo}.JPEG`, `pat/given/Holidayphoto1-${photo}`]);
  });

  it('streams a large original to the storage in parts, and leaves nothing when the stored bytes fall short', { timeout: 120_000 }, async () => {
    await register('large', 'big');
    const bytes = randomBytes(20 * MiB);
    const uuid = await uploadFile(trove, bytes, 'dump.bin', { UPLOADCARE_STORE: '1' });
    const before = requests.length;
    const copy = await rest<{ result: string }>(trove, 'POST', '/files/remote_copy/', { json: { source: uuid, target: 'large', make_public: false } });
    expect(copy.status, copy.text).toBe(201);
    const key = `big/${uuid}/dump.bin`;
    const stored = await objectBytes(key);
    expect(stored.bytes.length).toBe(bytes.length);
    expect(createHash('sha256').update(stored.bytes).digest('hex')).toBe(createHash('sha256').update(bytes).digest('hex'));
    // More than one part went out: the original was never sent as one buffered body.
    const parts = requests.slice(before).filter((r) => r.method === 'PUT' && r.path === `/${target.bucket}/${key}`);
    expect(parts.length).toBeGreaterThan(1);

    // The stored original loses its tail: the copy fails and the bucket gets no object.
    const cut = await uploadFile(trove, randomBytes(12 * MiB), 'cut.bin', { UPLOADCARE_STORE: '1' });
    const record = await (await trove.projectShard()).files.findLive(cut);
    await trove.ctx.blobs.put(record!.blobKey, Readable.from([randomBytes(10 * MiB)]));
    const failed = await rest(trove, 'POST', '/files/remote_copy/', { json: { source: cut, target: 'large' } });
    expectDetail(failed, 500, `Stored bytes of ${cut} do not match the recorded size; nothing was copied.`);
    expect(await keysUnder(`big/${cut}`)).toEqual([]);
    await expect(bucketClient.send(new HeadObjectCommand({ Bucket: target.bucket, Key: `big/${cut}/cut.bin` }))).rejects.toMatchObject({ $metadata: { httpStatusCode: 404 } });
  });

  it('refuses bad copies in Uploadcare’s wording, and writes nothing', async () => {
    await register('strict', 'strict');
    const removed = await uploadFile(trove, jpeg, 'gone.jpg', { UPLOADCARE_STORE: '1' }, { type: 'image/jpeg' });
    expect((await rest(trove, 'DELETE', `/files/${removed}/storage/`)).status).toBe(200);
    const before = requests.length;
    const copy = (json: unknown) => rest(trove, 'POST', '/files/remote_copy/', { json });
    expectDetail(await copy({ target: 'strict' }), 400, '`source` parameter is required.');
    expectDetail(await copy({ source: '', target: 'strict' }), 400, '`source` parameter is required.');
    expectDetail(await copy({ source: 'not-a-file', target: 'strict' }), 400, 'Bad `source` parameter. Use UUID or CDN URL.');
    expectDetail(await copy({ source: 42, target: 'strict' }), 400, 'Bad `source` parameter. Use UUID or CDN URL.');
    expectDetail(await copy({ source: photo }), 400, '`target` parameter is required.');
    expectDetail(await copy({ source: photo, target: '' }), 400, '`target` parameter is required.');
    expectDetail(await copy({ source: photo, target: ['strict'] }), 400, '`target` must be the name of a storage of this project.');
    expectDetail(await copy({ source: photo, target: 'nowhere' }), 400, 'This project has no storage named "nowhere"; list them with GET /project/storages/.');
    expectDetail(await copy({ source: photo, target: 'strict', make_public: 'yes' }), 400, '`make_public` parameter should be `true` or `false`.');
    expectDetail(await copy({ source: photo, target: 'strict', pattern: '${uuid}/${name}' }), 400, /^Bad `pattern` parameter: unknown variable \$\{name\}; use any of \$\{default\}/);
    expectDetail(await copy({ source: photo, target: 'strict', pattern: 7 }), 400, /^Bad `pattern` parameter: it must be a string/);
    expectDetail(await copy({ source: photo, target: 'strict', pattern: '../${uuid}' }), 400, /names the object key "strict\/\.\.\/[0-9a-f-]{36}", which is not allowed: it has a `\.` or `\.\.` path segment/);
    expectDetail(await copy({ source: photo, target: 'strict', pattern: 'x'.repeat(1100) }), 400, /^Bad `pattern` parameter: it must be a string of at most 512/);
    expectDetail(await copy({ source: `${photo}/-/resize/abc/`, target: 'strict' }), 400, 'Bad `source` parameter: its CDN operations are not valid.');
    expectDetail(await copy({ source: removed, target: 'strict' }), 404, 'Not found.');
    expectDetail(await copy({ source: '00000000-0000-4000-8000-000000000000', target: 'strict' }), 404, 'Not found.');
    expectDetail(await copy([photo]), 400, 'Expected JSON object.');
    const raw = await fetch(`${trove.url}/files/remote_copy/`, {
      method: 'POST',
      headers: { Accept: V07, Authorization: `Uploadcare.Simple ${trove.publicKey}:${trove.secretKey}`, 'Content-Type': 'application/json' },
      body: '{"source": "',
    });
    expect(raw.status).toBe(400);
    // Nothing reached the bucket but the lookups of keys that were allowed.
    expect(requests.slice(before).filter((r) => r.method !== 'HEAD' && r.method !== 'GET')).toEqual([]);
    expect(await keysUnder('strict')).toEqual([]);
  });

  it('answers hostile input quickly with a 400, and one of many racing registrations of a name wins', async () => {
    const started = Date.now();
    const copy = (json: unknown) => rest(trove, 'POST', '/files/remote_copy/', { json });
    expectDetail(await copy({ source: `${'/-'.repeat(250_000)}/${photo}`, target: 'x' }), 400, 'Bad `source` parameter. Use UUID or CDN URL.');
    expectDetail(await copy({ source: `${photo}/${'-/resize/10x/'.repeat(5000)}`, target: 'x' }), 400, 'Bad `source` parameter: its CDN operations are not valid.');
    // A NUL is refused by the REST pipeline before any storage is looked up; other control characters are shown as U+FFFD.
    expectDetail(await copy({ source: photo, target: `evil\u0000${'n'.repeat(10_000)}` }), 400, /^body\.target contains a NUL character/);
    expectDetail(await copy({ source: photo, target: `evil\u0001${'n'.repeat(10_000)}` }), 400, /^This project has no storage named "evil\uFFFDn{115}…"; list them/);
    expectDetail(await copy({ source: photo, target: 'x', pattern: '${'.repeat(200) }), 400, /^Bad `pattern` parameter: a `\$\{` is not closed/);
    expectDetail(await copy({ source: photo, target: 'x', make_public: { nested: [1, 2, 3] } }), 400, '`make_public` parameter should be `true` or `false`.');
    expectDetail(await rest(trove, 'POST', '/project/storages/', { json: { ...storageBody('evil', 'e'), prefix: '../'.repeat(100) } }), 400, /`prefix` must be folder names/);
    expectDetail(await rest(trove, 'POST', '/project/storages/', { json: { ...storageBody('evil', 'e'), endpoint: `http://${'a'.repeat(3000)}.example` } }), 400, /`endpoint` must be a string of at most 2048 characters/);
    expect(Date.now() - started).toBeLessThan(5_000);

    const racing = await Promise.all(Array.from({ length: 6 }, (_, i) => rest(trove, 'POST', '/project/storages/', { json: storageBody('raced', `race-${i}`) })));
    expect(racing.map((answer) => answer.status).sort()).toEqual([201, 409, 409, 409, 409, 409]);
    const listed = await rest<{ results: RestStorage[] }>(trove, 'GET', '/project/storages/');
    expect(listed.body.results.filter((storage) => storage.name === 'raced')).toHaveLength(1);
  });

  it('keeps projects apart: a storage name of one project means nothing to another', async () => {
    await register('shared-name', 'tenant-a');
    const theirPhoto = await uploadFile(trove, jpeg, 'theirs.jpg', { UPLOADCARE_STORE: '1' }, { publicKey: other.publicKey, type: 'image/jpeg' });
    expect((await rest<{ results: RestStorage[] }>(trove, 'GET', '/project/storages/', { keys: other })).body.results).toEqual([]);
    const foreignTarget = await rest(trove, 'POST', '/files/remote_copy/', { keys: other, json: { source: theirPhoto, target: 'shared-name' } });
    expectDetail(foreignTarget, 400, 'This project has no storage named "shared-name"; list them with GET /project/storages/.');
    expectDetail(await rest(trove, 'DELETE', '/project/storages/shared-name/', { keys: other }), 404, 'This project has no storage named "shared-name".');

    // The other project may use the same name for its own storage, and still not reach this project's files.
    await register('shared-name', 'tenant-b', {}, other);
    expectDetail(await rest(trove, 'POST', '/files/remote_copy/', { keys: other, json: { source: photo, target: 'shared-name' } }), 404, 'Not found.');
    expectDetail(await rest(trove, 'POST', '/files/remote_copy/', { keys: other, json: { source: `${trove.url}/${photo}/-/resize/10x/`, target: 'shared-name' } }), 404, 'Not found.');
    const mine = await rest<{ results: RestStorage[] }>(trove, 'GET', '/project/storages/');
    expect(mine.body.results.find((s) => s.name === 'shared-name')?.prefix).toBe('tenant-a');
    const theirs = await rest<{ results: RestStorage[] }>(trove, 'GET', '/project/storages/', { keys: other });
    expect(theirs.body.results.map((s) => [s.name, s.prefix])).toEqual([['shared-name', 'tenant-b']]);
    expect(await keysUnder('tenant-b')).toEqual([]);
    expect(await keysUnder('tenant-a')).toEqual([]);
    // Each project's copy goes to its own storage of that name.
    expect((await rest(trove, 'POST', '/files/remote_copy/', { keys: other, json: { source: theirPhoto, target: 'shared-name' } })).status).toBe(201);
    expect(await keysUnder('tenant-b')).toEqual([`tenant-b/${theirPhoto}/theirs.jpg`]);
    expect(await keysUnder('tenant-a')).toEqual([]);
  });

  it('forgets a removed storage; what it copied stays in the bucket', async () => {
    await register('temporary', 'tmp');
    expect((await rest(trove, 'POST', '/files/remote_copy/', { json: { source: photo, target: 'temporary' } })).status).toBe(201);
    const removed = await rest(trove, 'DELETE', '/project/storages/temporary/');
    expect(removed.status).toBe(204);
    expect(removed.text).toBe('');
    expectDetail(await rest(trove, 'DELETE', '/project/storages/temporary/'), 404, 'This project has no storage named "temporary".');
    expectDetail(await rest(trove, 'DELETE', '/project/storages/..%2F..%2Fx/'), 404, 'This project has no storage of this name.');
    expectDetail(await rest(trove, 'POST', '/files/remote_copy/', { json: { source: photo, target: 'temporary' } }), 400, /no storage named "temporary"/);
    expect(await keysUnder('tmp')).toEqual([`tmp/${photo}/Holidayphoto1.JPEG`]);
  });

  it('copies into a second bucket of the same service, each storage with its own settings', async () => {
    await bucketClient.send(new CreateBucketCommand({ Bucket: 'second-bucket' }));
    await register('second', '', { bucket: 'second-bucket', pattern: 'flat-${filename}${ext}' });
    const copy = await rest<{ result: string }>(trove, 'POST', '/files/remote_copy/', { json: { source: photo, target: 'second' } });
    expect(copy.status, copy.text).toBe(201);
    expect(copy.body.result).toBe('s3://second-bucket/flat-Holidayphoto1.JPEG');
    const object = await bucketClient.send(new GetObjectCommand({ Bucket: 'second-bucket', Key: 'flat-Holidayphoto1.JPEG' }));
    expect(Buffer.from(await object.Body!.transformToByteArray()).equals(jpeg)).toBe(true);
  });
});

describe('project storages on a server that keeps private addresses closed, or has no key', () => {
  let closed: TestTrove;
  let keyless: TestTrove;
  let target: TestS3Server;

  beforeAll(async () => {
    target = await startS3Server();
    closed = await startTrove({ env: { TROVE_STORAGE_CREDENTIALS_KEY: STORAGE_KEY, TROVE_FETCH_ALLOW_PRIVATE: 'false' } });
    keyless = await startTrove();
  }, 60_000);

  afterAll(async () => {
    await closed?.close();
    await keyless?.close();
    await target?.stop();
  });

  const body = (endpoint: string) => ({
    name: 'local',
    bucket: target.bucket,
    endpoint,
    force_path_style: true,
    access_key_id: target.accessKeyId,
    secret_access_key: target.secretAccessKey,
  });

  it('refuses endpoints on loopback and private networks, by address and by name, before any byte is sent', async () => {
    let reached = 0;
    const stop = target.observe(() => reached++);
    const port = new URL(target.endpoint).port;
    for (const [endpoint, message] of [
      [target.endpoint, /the endpoint host 127\.0\.0\.1 is not allowed: 127\.0\.0\.1 is loopback 127\.0\.0\.0\/8 \(private addresses are not allowed\)/],
      [`http://localhost:${port}`, /the endpoint host localhost resolves to (127\.0\.0\.1|::1), which is not allowed/],
      [`http://[::ffff:127.0.0.1]:${port}`, /is not allowed: .*embedding 127\.0\.0\.1/],
      ['http://10.1.2.3:9000', /10\.1\.2\.3 is private 10\.0\.0\.0\/8/],
      ['http://2130706433:9000', /the endpoint host 127\.0\.0\.1 is not allowed/],
    ] as const) {
      expectDetail(await rest(closed, 'POST', '/project/storages/', { json: body(endpoint) }), 400, message);
    }
    stop();
    expect(reached).toBe(0);
    expect((await rest<{ results: unknown[] }>(closed, 'GET', '/project/storages/')).body.results).toEqual([]);
  });

  it('says the server has no key configured, and keeps nothing', async () => {
    const answer = await rest(keyless, 'POST', '/project/storages/', { json: body(target.endpoint) });
    expectDetail(answer, 501, /^This server has no TROVE_STORAGE_CREDENTIALS_KEY configured, so it cannot keep storage credentials/);
    expect((await rest<{ results: unknown[] }>(keyless, 'GET', '/project/storages/')).body.results).toEqual([]);
    expectDetail(await rest(keyless, 'POST', '/files/remote_copy/', { json: { source: '00000000-0000-4000-8000-000000000000', target: 'local' } }), 404, 'Not found.');
  });
});
