/**
 * `copyFileToRemoteStorage` of the public @uploadcare/rest-client SDK, unchanged, against Trove:
 * both authentication schemes, what it sends by default (no `make_public`, no `pattern`), CDN URLs
 * with operations, and the errors it raises. The storage is registered through Trove's typed client.
 */
import { randomBytes } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { GetObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { copyFileToRemoteStorage, RestClientError, UploadcareAuthSchema, UploadcareSimpleAuthSchema, type UserSettings } from '@uploadcare/rest-client';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TroveApiError, TroveClient } from '../../client/trove-client.js';
import { availableBackends } from '../helpers/backends.js';
import { makeJpeg } from '../helpers/images.js';
import { startS3Server, type TestS3Server } from '../helpers/s3-server.js';
import { startTrove, type TestTrove } from '../helpers/trove-server.js';
import { uploadFile } from '../helpers/upload-http.js';

const backends = await availableBackends();

describe.each(backends)('copyFileToRemoteStorage of @uploadcare/rest-client against Trove (%s)', (backend) => {
  let trove: TestTrove;
  let target: TestS3Server;
  let bucketClient: S3Client;
  let simple: UserSettings;
  let signed: UserSettings;
  let jpeg: Buffer;
  let uuid: string;
  const acls: Array<{ path: string; acl: string | undefined }> = [];

  const objectBytes = async (key: string): Promise<Buffer> => {
    const object = await bucketClient.send(new GetObjectCommand({ Bucket: target.bucket, Key: key }));
    return Buffer.from(await object.Body!.transformToByteArray());
  };

  beforeAll(async () => {
    target = await startS3Server();
    target.observe((request: IncomingMessage) => {
      if (request.method === 'PUT') acls.push({ path: decodeURIComponent((request.url ?? '').split('?')[0]!), acl: request.headers['x-amz-acl'] as string | undefined });
    });
    bucketClient = new S3Client({
      endpoint: target.endpoint,
      region: target.region,
      forcePathStyle: true,
      credentials: { accessKeyId: target.accessKeyId, secretAccessKey: target.secretAccessKey },
    });
    trove = await startTrove({ backend, env: { TROVE_STORAGE_CREDENTIALS_KEY: randomBytes(32).toString('hex') } });
    simple = { authSchema: new UploadcareSimpleAuthSchema({ publicKey: trove.publicKey, secretKey: trove.secretKey }), apiBaseURL: `${trove.url}/` };
    signed = { authSchema: new UploadcareAuthSchema({ publicKey: trove.publicKey, secretKey: trove.secretKey }), apiBaseURL: `${trove.url}/` };

    const client = new TroveClient({ baseUrl: trove.url, headers: { Authorization: `Uploadcare.Simple ${trove.publicKey}:${trove.secretKey}` } });
    const storage = await client.createProjectStorage({
      body: {
        name: 'mytarget',
        bucket: target.bucket,
        prefix: 'sdk',
        endpoint: target.endpoint,
        region: target.region,
        force_path_style: true,
        access_key_id: target.accessKeyId,
        secret_access_key: target.secretAccessKey,
      },
    });
    expect(storage).toMatchObject({ name: 'mytarget', prefix: 'sdk', pattern: '${default}' });
    expect((await client.listProjectStorages()).results.map((s) => s.name)).toEqual(['mytarget']);
    const refused = await client
      .createProjectStorage({ body: { name: 'mytarget', bucket: target.bucket, endpoint: target.endpoint, force_path_style: true, access_key_id: 'S3RVER', secret_access_key: 'S3RVER' } })
      .catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(TroveApiError);
    expect((refused as TroveApiError).status).toBe(409);

    jpeg = await makeJpeg({ width: 120, height: 80 });
    uuid = await uploadFile(trove, jpeg, 'image.jpg', {}, { type: 'image/jpeg' });
  }, 60_000);

  afterAll(async () => {
    await trove?.close();
    bucketClient?.destroy();
    await target?.stop();
  });

  it('copies a file by uuid with the defaults, signed: the answer is the s3 URL, the object public', async () => {
    const copied = await copyFileToRemoteStorage({ source: uuid, target: 'mytarget' }, signed);
    expect(copied).toEqual({ type: 'url', result: `s3://${target.bucket}/sdk/${uuid}/image.jpg` });
    expect((await objectBytes(`sdk/${uuid}/image.jpg`)).equals(jpeg)).toBe(true);
    expect(acls.filter((a) => a.path === `/${target.bucket}/sdk/${uuid}/image.jpg`).map((a) => a.acl)).toEqual(['public-read']);
  });

  it('answers the same URL for a copy that already exists, with either scheme', async () => {
    const again = await copyFileToRemoteStorage({ source: uuid, target: 'mytarget' }, simple);
    expect(again).toEqual({ type: 'url', result: `s3://${target.bucket}/sdk/${uuid}/image.jpg` });
    expect(acls.filter((a) => a.path === `/${target.bucket}/sdk/${uuid}/image.jpg`)).toHaveLength(1);
  });

  it('copies the derivative of a CDN URL, private, under the pattern given', async () => {
    const copied = await copyFileToRemoteStorage(
      { source: `${trove.url}/${uuid}/-/scale_crop/40x40/center/-/format/webp/`, target: 'mytarget', makePublic: false, pattern: 'thumbs/${uuid}${effects}${ext}' },
      signed,
    );
    const key = `sdk/thumbs/${uuid}/-/scale_crop/40x40/center/-/format/webp.webp`;
    expect(copied).toEqual({ type: 'url', result: `s3://${target.bucket}/${key}` });
    const meta = await sharp(await objectBytes(key)).metadata();
    expect([meta.format, meta.width, meta.height]).toEqual(['webp', 40, 40]);
    expect(acls.filter((a) => a.path === `/${target.bucket}/${key}`).map((a) => a.acl)).toEqual([undefined]);
  });

  it('raises the SDK’s error with Trove’s message for a storage the project does not have, and for a bad pattern', async () => {
    const unknown = await copyFileToRemoteStorage({ source: uuid, target: 'elsewhere' }, signed).catch((error: unknown) => error);
    expect(unknown).toBeInstanceOf(RestClientError);
    expect((unknown as RestClientError).status).toBe(400);
    expect((unknown as RestClientError).message).toContain('This project has no storage named "elsewhere"');

    const pattern = await copyFileToRemoteStorage({ source: uuid, target: 'mytarget', pattern: '${uuid}/${size}' }, simple).catch((error: unknown) => error);
    expect(pattern).toBeInstanceOf(RestClientError);
    expect((pattern as RestClientError).message).toContain('Bad `pattern` parameter: unknown variable ${size}');

    const missing = await copyFileToRemoteStorage({ source: '6b2b6b5c-0000-4000-8000-000000000000', target: 'mytarget' }, simple).catch((error: unknown) => error);
    expect((missing as RestClientError).status).toBe(404);
  });
});
