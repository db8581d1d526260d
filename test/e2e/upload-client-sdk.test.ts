import { createHash, randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { UploadClient } from '@uploadcare/upload-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { availableBackends } from '../helpers/backends.js';
import { makeJpeg, makePngWithAlpha } from '../helpers/images.js';
import { startTrove, type TestTrove } from '../helpers/trove-server.js';

const backends = await availableBackends();
const sha256 = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');

/**
 * The public @uploadcare/upload-client SDK, unchanged, pointed at Trove by its baseURL only.
 * Every upload path it has: direct, multipart, from URL, info, group, group info.
 */
describe.each(backends)('@uploadcare/upload-client against Trove (%s)', (backend) => {
  let trove: TestTrove;
  let client: UploadClient;
  let origin: Server;
  let originUrl: string;
  const remotePng: { bytes: Buffer } = { bytes: Buffer.alloc(0) };

  beforeAll(async () => {
    trove = await startTrove({ backend });
    client = new UploadClient({
      publicKey: trove.publicKey,
      baseURL: trove.uploadUrl,
      baseCDN: trove.url,
      // From-URL status is followed by polling (the push channel is a hosted service Trove does not run).
      pollingTimeoutMilliseconds: 20_000,
    });
    remotePng.bytes = await makePngWithAlpha(64, 48);
    origin = createServer((request, response) => {
      if (request.url === '/pictures/logo.png') {
        response.writeHead(200, { 'content-type': 'image/png', 'content-length': remotePng.bytes.length });
        response.end(remotePng.bytes);
        return;
      }
      response.writeHead(404).end();
    });
    await new Promise<void>((resolve) => origin.listen(0, '127.0.0.1', resolve));
    originUrl = `http://127.0.0.1:${(origin.address() as AddressInfo).port}`;
  });

  afterAll(async () => {
    if (origin) await new Promise((resolve) => origin.close(resolve));
    await trove?.close();
  });

  it('uploads a small file directly (/base/) and serves it back', async () => {
    const jpeg = await makeJpeg({ width: 320, height: 200 });
    const file = await client.uploadFile(jpeg, { fileName: 'holiday.jpg', contentType: 'image/jpeg', metadata: { album: 'summer' } });
    expect(file.uuid).toMatch(/^[0-9a-f-]{36}$/);
    expect(file.size).toBe(jpeg.length);
    expect(file.isImage).toBe(true);
    expect(file.isStored).toBe(true);
    expect(file.mimeType).toBe('image/jpeg');
    expect(file.originalFilename).toBe('holiday.jpg');
    expect(file.imageInfo).toMatchObject({ width: 320, height: 200, format: 'JPEG' });
    expect(file.metadata).toEqual({ album: 'summer' });
    expect(file.cdnUrl).toBe(`${trove.url}/${file.uuid}/`);
    const delivered = Buffer.from(await (await fetch(file.cdnUrl)).arrayBuffer());
    expect(sha256(delivered)).toBe(sha256(jpeg));
  });

  it('uploads a large file through multipart, parts in parallel', async () => {
    const bytes = randomBytes(12 * 1024 * 1024 + 12345);
    const progress: number[] = [];
    const file = await client.uploadFile(bytes, {
      fileName: 'archive.bin',
      multipartMinFileSize: 10 * 1024 * 1024,
      multipartChunkSize: 5 * 1024 * 1024,
      maxConcurrentRequests: 3,
      onProgress: (p) => {
        if (p.isComputable) progress.push(p.value);
      },
    });
    expect(file.size).toBe(bytes.length);
    expect(file.mimeType).toBe('application/octet-stream');
    expect(progress.at(-1)).toBe(1);
    const info = await client.info(file.uuid);
    expect(info.size).toBe(bytes.length);
    const delivered = Buffer.from(await (await fetch(`${trove.url}/${file.uuid}/`)).arrayBuffer());
    expect(delivered.length).toBe(bytes.length);
    expect(sha256(delivered)).toBe(sha256(bytes));
  });

  it('uploads from a URL and recognises a duplicate', async () => {
    const file = await client.uploadFile(`${originUrl}/pictures/logo.png`, {
      checkForUrlDuplicates: true,
      saveUrlForRecurrentUploads: true,
    });
    expect(file.size).toBe(remotePng.bytes.length);
    expect(file.mimeType).toBe('image/png');
    expect(file.originalFilename).toBe('logo.png');
    expect(file.imageInfo).toMatchObject({ width: 64, height: 48, format: 'PNG' });
    const again = await client.uploadFile(`${originUrl}/pictures/logo.png`, {
      checkForUrlDuplicates: true,
      saveUrlForRecurrentUploads: true,
    });
    expect(again.uuid).toBe(file.uuid);
  });

  it('reports a failed URL download as an error', async () => {
    await expect(client.uploadFile(`${originUrl}/missing.png`)).rejects.toThrow(/404/);
  });

  it('creates a group and reads it back', async () => {
    const a = await client.uploadFile(Buffer.from('first file'), { fileName: 'a.txt' });
    const b = await client.uploadFile(Buffer.from('second file'), { fileName: 'b.txt' });
    const group = await client.group([a.uuid, `${b.uuid}/-/inline/yes/`]);
    expect(group.id).toMatch(/^[0-9a-f-]{36}~2$/);
    expect(Number(group.filesCount)).toBe(2);
    expect(group.files[0]?.uuid).toBe(a.uuid);
    expect(group.files[1]?.defaultEffects).toBe('-/inline/yes/');
    const info = await client.groupInfo(group.id);
    expect(info.id).toBe(group.id);
    expect(info.files.map((f) => f?.uuid)).toEqual([a.uuid, b.uuid]);
    // The group's CDN URL serves its members by position, with each member's own operations applied.
    expect(group.cdnUrl).toBe(`${trove.url}/${group.id}/`);
    expect(await (await fetch(`${group.cdnUrl}nth/0/`)).text()).toBe('first file');
    const second = await fetch(`${group.cdnUrl}nth/1/`);
    expect(await second.text()).toBe('second file');
    expect(second.headers.get('content-disposition')).toMatch(/^inline/);
    expect((await fetch(`${group.cdnUrl}nth/2/`)).status).toBe(404);
    expect((await fetch(group.cdnUrl)).status).toBe(404);
  });

  it('uploads several files as a group in one call', async () => {
    const group = await client.uploadFileGroup([Buffer.from('x'), Buffer.from('y'), Buffer.from('z')]);
    expect(group.filesCount).toBe(3);
    expect(group.files.every((f) => f.uuid.length === 36)).toBe(true);
  });

  it('surfaces Upload API errors with their Uploadcare codes', async () => {
    const stranger = new UploadClient({ publicKey: 'not-a-real-key', baseURL: trove.uploadUrl });
    await expect(stranger.uploadFile(Buffer.from('nope'))).rejects.toMatchObject({ code: 'ProjectPublicKeyInvalidError' });
  });
});
