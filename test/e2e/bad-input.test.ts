/**
 * Every bad input gets a clear JSON 4xx, and leaves no bytes, temp files or records behind.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { availableBackends } from '../helpers/backends.js';
import { makePng } from '../helpers/images.js';
import { startTrove, type TestTrove } from '../helpers/trove-server.js';
import {
  buildForm,
  closedPort,
  expectNothingLeft,
  expectUploadError,
  getInfo,
  leftovers,
  multipartBody,
  multipartComplete,
  multipartStart,
  postBase,
  putPart,
  rawRequest,
  sha256Hex,
  sleep,
  startFromUrl,
  startOrigin,
  startedMultipart,
  uploadFile,
  uploadSignature,
  waitForFromUrl,
  updateDefaultProject,
  type Leftovers,
  type OriginServer,
} from '../helpers/upload-http.js';

const backends = await availableBackends();
const MiB = 1024 * 1024;

async function expectHealthy(trove: TestTrove): Promise<void> {
  const response = await fetch(`${trove.url}/health`);
  expect(response.status).toBe(200);
}

describe.each(backends)('bad input (%s)', (backend) => {
  let trove: TestTrove;
  let before: Leftovers;

  beforeAll(async () => {
    trove = await startTrove({
      backend,
      env: {
        TROVE_MAX_DIRECT_UPLOAD_SIZE: '1MiB',
        TROVE_MAX_FILES_PER_REQUEST: '3',
        TROVE_FETCH_MAX_SIZE: '1MiB',
      },
    });
  });
  afterAll(async () => {
    await trove?.close();
  });
  beforeEach(async () => {
    before = await leftovers(trove);
  });

  describe('public key', () => {
    it('a missing UPLOADCARE_PUB_KEY is 400 ProjectPublicKeyRequiredError', async () => {
      const response = await postBase(trove, buildForm(trove, [{ bytes: randomBytes(100) }], { publicKey: null }));
      await expectUploadError(response, 400, 'ProjectPublicKeyRequiredError');
      await expectNothingLeft(trove, before);
    });

    it.each([
      ['before', false],
      ['after', true],
    ])('an unknown key sent %s the file is 403 ProjectPublicKeyInvalidError', async (_where, keyAfterFiles) => {
      const response = await postBase(
        trove,
        buildForm(trove, [{ bytes: randomBytes(100) }], { publicKey: 'pk_nobody_has_this_key', keyAfterFiles }),
      );
      await expectUploadError(response, 403, 'ProjectPublicKeyInvalidError');
      await expectNothingLeft(trove, before);
    });
  });

  describe('size limits', () => {
    it.each([
      ['before', false],
      ['after', true],
    ])('a 2 MiB file over the 1 MiB direct limit, key %s the file, is 413 and leaves nothing', async (_where, keyAfterFiles) => {
      const response = await postBase(trove, buildForm(trove, [{ bytes: randomBytes(2 * MiB) }], { keyAfterFiles }));
      await expectUploadError(response, 413, 'FileSizeLimitExceededError');
      await expectNothingLeft(trove, before);
      await expectHealthy(trove);
    });

    it.each([
      ['before', false],
      ['after', true],
    ])("a file over the project's max_file_size, key %s the file, is 413", async (_where, keyAfterFiles) => {
      await updateDefaultProject(trove, { maxFileSize: 1000 });
      try {
        const response = await postBase(trove, buildForm(trove, [{ bytes: randomBytes(2000) }], { keyAfterFiles }));
        const error = await expectUploadError(response, 413, 'FileSizeLimitExceededError');
        expect(error.content).toMatch(/1000/);
        await expectNothingLeft(trove, before);
      } finally {
        await updateDefaultProject(trove, { maxFileSize: null });
      }
    });
  });

  describe('missing or broken bodies', () => {
    it('an empty file is 400 FileRequiredError', async () => {
      const response = await postBase(trove, buildForm(trove, [{ bytes: new Uint8Array(0), filename: 'empty.txt' }]));
      await expectUploadError(response, 400, 'FileRequiredError');
      await expectNothingLeft(trove, before);
    });

    it('a form without any file field is 400 FileRequiredError', async () => {
      const response = await postBase(trove, buildForm(trove, [], { fields: { UPLOADCARE_STORE: '1' } }));
      await expectUploadError(response, 400, 'FileRequiredError');
      await expectNothingLeft(trove, before);
    });

    it('a body whose boundary differs from the declared one is 400 PostRequestParserFailedError', async () => {
      const body = multipartBody('actual-boundary', [
        { name: 'UPLOADCARE_PUB_KEY', value: trove.publicKey },
        { name: 'file', filename: 'x.bin', bytes: randomBytes(2000) },
      ]);
      const response = await rawRequest(`${trove.uploadUrl}/base/`, {
        headers: { 'content-type': 'multipart/form-data; boundary=declared-boundary', 'content-length': body.length },
        chunks: [body],
      });
      expect(response).not.toBeNull();
      expect(response!.status, response!.body.toString()).toBe(400);
      const parsed = JSON.parse(response!.body.toString()) as { error: { error_code: string; content: string } };
      expect(parsed.error.error_code).toBe('PostRequestParserFailedError');
      expect(parsed.error.content.length).toBeGreaterThan(0);
      await expectNothingLeft(trove, before);
      await expectHealthy(trove);
    });

    it.each([
      ['key first', true],
      ['file first', false],
    ])('a form cut off mid-file (%s, complete HTTP body) is 400 PostRequestParserFailedError', async (_label, keyFirst) => {
      const key = { name: 'UPLOADCARE_PUB_KEY', value: trove.publicKey };
      const file = { name: 'file', filename: 'x.bin', bytes: randomBytes(4000) };
      const full = multipartBody('cut-boundary', keyFirst ? [key, file] : [file, key]);
      const body = full.subarray(0, keyFirst ? full.length - 2000 : 2000);
      const response = await rawRequest(`${trove.uploadUrl}/base/`, {
        headers: { 'content-type': 'multipart/form-data; boundary=cut-boundary', 'content-length': body.length },
        chunks: [body],
      });
      expect(response).not.toBeNull();
      expect(response!.status, response!.body.toString()).toBe(400);
      const parsed = JSON.parse(response!.body.toString()) as { error: { error_code: string; content: string } };
      expect(parsed.error.error_code).toBe('PostRequestParserFailedError');
      expect(parsed.error.content.length).toBeGreaterThan(0);
      await expectNothingLeft(trove, before);
      await expectHealthy(trove);
    });

    it('plain text sent as multipart/form-data is 400 PostRequestParserFailedError', async () => {
      const body = Buffer.from('this is not a multipart body at all');
      const response = await rawRequest(`${trove.uploadUrl}/base/`, {
        headers: { 'content-type': 'multipart/form-data; boundary=xyz', 'content-length': body.length },
        chunks: [body],
      });
      expect(response).not.toBeNull();
      expect(response!.status, response!.body.toString()).toBe(400);
      const parsed = JSON.parse(response!.body.toString()) as { error: { error_code: string; content: string } };
      expect(parsed.error.error_code).toBe('PostRequestParserFailedError');
      expect(parsed.error.content.length).toBeGreaterThan(0);
      await expectNothingLeft(trove, before);
      await expectHealthy(trove);
    });

    it('a JSON body to /base/ is a JSON 4xx', async () => {
      const response = await fetch(`${trove.uploadUrl}/base/`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ UPLOADCARE_PUB_KEY: trove.publicKey, file: 'aGVsbG8=' }),
      });
      const text = await response.text();
      expect(response.status, text).toBeGreaterThanOrEqual(400);
      expect(response.status, text).toBeLessThan(500);
      const body = JSON.parse(text) as { error: { error_code: string; content: string; status_code: number } };
      expect(body.error.status_code).toBe(response.status);
      expect(body.error.error_code.length).toBeGreaterThan(0);
      expect(body.error.content.length).toBeGreaterThan(0);
      await expectNothingLeft(trove, before);
    });

    it('two files under one field name are refused, or every stored file is reported', async () => {
      const response = await postBase(
        trove,
        buildForm(trove, [
          { field: 'file', bytes: randomBytes(200), filename: 'one.bin' },
          { field: 'file', bytes: randomBytes(200), filename: 'two.bin' },
        ]),
      );
      const text = await response.text();
      if (response.status === 200) {
        // No stored file may be left without the uuid that reaches it.
        const reported = Object.keys(JSON.parse(text) as Record<string, string>).length;
        const now = await leftovers(trove);
        expect(now.records - before.records, text).toBe(reported);
        expect(now.originals - before.originals, text).toBe(reported);
      } else {
        expect(response.status, text).toBe(400);
        await expectNothingLeft(trove, before);
      }
    });

    it('more files than TROVE_MAX_FILES_PER_REQUEST is 400 RequestFileNumberLimitExceededError', async () => {
      const files = Array.from({ length: 4 }, (_, i) => ({ field: `f${i}`, bytes: randomBytes(500), filename: `${i}.bin` }));
      const response = await postBase(trove, buildForm(trove, files));
      await expectUploadError(response, 400, 'RequestFileNumberLimitExceededError');
      await expectNothingLeft(trove, before);
    });
  });

  describe('metadata', () => {
    const manyKeys: Record<string, string> = {};
    for (let i = 0; i < 51; i++) manyKeys[`metadata[k${i}]`] = 'v';

    it.each([
      ['a key with a space', 'FileMetadataKeyForbiddenError', { 'metadata[bad key]': 'v' }],
      ['a 65-character key', 'FileMetadataKeyLengthTooBigError', { [`metadata[${'k'.repeat(65)}]`]: 'v' }],
      ['a 513-character value', 'FileMetadataValueLengthTooBigError', { 'metadata[key]': 'v'.repeat(513) }],
      ['51 keys', 'FileMetadataKeysNumberTooBigError', manyKeys],
    ])('%s is 400 %s', async (_label, code, fields) => {
      const response = await postBase(trove, buildForm(trove, [{ bytes: randomBytes(300) }], { fields }));
      await expectUploadError(response, 400, code);
      await expectNothingLeft(trove, before);
    });
  });

  describe('signatures', () => {
    beforeAll(async () => {
      await updateDefaultProject(trove, { signedUploads: true });
    });
    afterAll(async () => {
      await updateDefaultProject(trove, { signedUploads: false });
    });

    const future = () => String(Math.floor(trove.clock.now().getTime() / 1000) + 600);
    const past = () => String(Math.floor(trove.clock.now().getTime() / 1000) - 600);

    it.each([
      ['no signature', 'SignatureRequiredError', () => ({}), /signature/i],
      [
        'a wrong signature',
        'SignatureInvalidError',
        () => {
          const expire = future();
          return { signature: uploadSignature('not-the-secret', expire), expire };
        },
        /invalid/i,
      ],
      [
        'an expired signature',
        'SignatureExpirationError',
        () => {
          const expire = past();
          return { signature: uploadSignature(trove.secretKey, expire), expire };
        },
        /expired/i,
      ],
      [
        'a non-numeric expire',
        'SignatureExpirationInvalidError',
        () => ({ signature: uploadSignature(trove.secretKey, 'tomorrow'), expire: 'tomorrow' }),
        /expire/i,
      ],
    ])('%s is 403 %s', async (_label, code, fields, message) => {
      const response = await postBase(trove, buildForm(trove, [{ bytes: randomBytes(300) }], { fields: fields() }));
      const error = await expectUploadError(response, 403, code);
      expect(error.content).toMatch(message);
      await expectNothingLeft(trove, before);
    });
  });

  describe('client hangs up mid-upload', () => {
    it.each([
      ['key first', true],
      ['file first', false],
    ])('leaves no bytes or record behind (%s)', async (_label, keyFirst) => {
      const boundary = `abort-${randomUUID()}`;
      const head = Buffer.from(
        `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="big.bin"\r\n` +
          'Content-Type: application/octet-stream\r\n\r\n',
      );
      const key = Buffer.from(
        `--${boundary}\r\nContent-Disposition: form-data; name="UPLOADCARE_PUB_KEY"\r\n\r\n${trove.publicKey}\r\n`,
      );
      // Below the 1 MiB direct limit, so the server is still waiting for bytes when the socket dies.
      const partial = randomBytes(600 * 1024);
      const chunks = keyFirst ? [key, head, partial] : [head, partial];
      const pending = rawRequest(`${trove.uploadUrl}/base/`, {
        headers: { 'content-type': `multipart/form-data; boundary=${boundary}`, 'content-length': 5 * MiB },
        chunks,
        mode: 'destroy',
        destroyAfterMs: 400,
      });
      if (trove.backend === 'embedded') {
        // The bytes are really in flight: a temp file exists while the server waits for the rest.
        await sleep(200);
        expect(await trove.countStagingFiles()).toBe(before.staging + 1);
      }
      expect(await pending).toBeNull();
      await sleep(500);
      await expectNothingLeft(trove, before, 3_000);
      await expectHealthy(trove);
    });
  });

  describe('client hang-ups are not dependency outages', () => {
    it('an aborted upload is not counted as ServiceUnavailable', async () => {
      const boundary = `abort-${randomUUID()}`;
      const body = Buffer.concat([
        Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="UPLOADCARE_PUB_KEY"\r\n\r\n${trove.publicKey}\r\n`),
        Buffer.from(
          `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="big.bin"\r\n` +
            'Content-Type: application/octet-stream\r\n\r\n',
        ),
        randomBytes(300 * 1024),
      ]);
      const response = await rawRequest(`${trove.uploadUrl}/base/`, {
        headers: { 'content-type': `multipart/form-data; boundary=${boundary}`, 'content-length': 5 * MiB },
        chunks: [body],
        mode: 'destroy',
        destroyAfterMs: 200,
      });
      expect(response).toBeNull();
      await sleep(300);
      await expectNothingLeft(trove, before, 3_000);
      // The client went away; no database or storage was unreachable.
      const metrics = await (await fetch(`${trove.url}/metrics`)).text();
      const outages = metrics.split('\n').filter((line) => line.startsWith('trove_upload_failures_total') && line.includes('ServiceUnavailable'));
      expect(outages).toEqual([]);
    });
  });

  describe('multipart', () => {
    const size = 11 * MiB;
    const partSize = 5 * MiB;

    it('a size below the multipart minimum is 400 MultipartFileSizeTooSmallError', async () => {
      const response = await multipartStart(trove, { filename: 'a.bin', size: '1000', content_type: 'application/octet-stream' });
      await expectUploadError(response, 400, 'MultipartFileSizeTooSmallError');
    });

    it('a part_size below the minimum is 400 MultipartPartSizeTooSmallError', async () => {
      const response = await multipartStart(trove, {
        filename: 'a.bin',
        size: String(size),
        content_type: 'application/octet-stream',
        part_size: String(MiB),
      });
      await expectUploadError(response, 400, 'MultipartPartSizeTooSmallError');
    });

    it('complete with a part missing is 400 MultipartFileCompletionFailedError naming the part', async () => {
      const bytes = randomBytes(size);
      const part = (index: number) => bytes.subarray(index * partSize, Math.min(size, (index + 1) * partSize));
      const started = await startedMultipart(trove, {
        filename: 'a.bin',
        size: String(size),
        content_type: 'application/octet-stream',
        part_size: String(partSize),
      });
      expect(started.parts).toHaveLength(3);
      expect((await putPart(started.parts[0]!, part(0))).status).toBe(200);
      expect((await putPart(started.parts[2]!, part(2))).status).toBe(200);
      const response = await multipartComplete(trove, started.uuid);
      const error = await expectUploadError(response, 400, 'MultipartFileCompletionFailedError');
      expect(error.content).toMatch(/\b1\b/);
      expect(error.content).not.toMatch(/\b0\b|\b2\b/);
      const now = await leftovers(trove);
      expect({ originals: now.originals, records: now.records }).toEqual({ originals: before.originals, records: before.records });
      expect((await getInfo(trove, started.uuid)).status).toBe(404);

      // The refused complete keeps the upload: sending the missing part lets it finish.
      expect((await putPart(started.parts[1]!, part(1))).status).toBe(200);
      const retried = await multipartComplete(trove, started.uuid);
      const text = await retried.text();
      expect(retried.status, text).toBe(200);
      expect((JSON.parse(text) as { sha256: string }).sha256).toBe(sha256Hex(bytes));
    });

    it('an abandoned upload is swept after TROVE_MULTIPART_EXPIRY with its parts', async () => {
      const started = await startedMultipart(trove, { filename: 'a.bin', size: String(size), part_size: String(partSize) });
      expect((await putPart(started.parts[2]!, randomBytes(size - 2 * partSize))).status).toBe(200);
      if (trove.backend === 'embedded') expect(await trove.countStagingFiles()).toBeGreaterThan(before.staging);
      trove.clock.advance(25 * 3_600_000);
      const report = await trove.ctx.services.sweeper.sweep();
      expect(report.expiredMultipartUploads).toBeGreaterThanOrEqual(1);
      const now = await leftovers(trove);
      expect(now.staging).toBeLessThanOrEqual(before.staging);
      expect({ originals: now.originals, records: now.records }).toEqual({ originals: before.originals, records: before.records });
      const late = await putPart(started.parts[0]!, randomBytes(partSize));
      await expectUploadError(late, 404, 'MultipartFileNotFoundError');
      await expectUploadError(await multipartComplete(trove, started.uuid), 404, 'MultipartFileNotFoundError');
    });

    it('complete of an upload past its expiry is 404 even before the sweep', async () => {
      const bytes = randomBytes(size);
      const started = await startedMultipart(trove, { filename: 'late.bin', size: String(size), part_size: String(partSize) });
      const puts = await Promise.all(
        started.parts.map((url, i) => putPart(url, bytes.subarray(i * partSize, Math.min(size, (i + 1) * partSize)))),
      );
      expect(puts.map((p) => p.status)).toEqual([200, 200, 200]);
      trove.clock.advance(25 * 3_600_000);
      // Parts are already refused once the upload expired; completing must be refused the same way.
      await expectUploadError(await putPart(started.parts[0]!, bytes.subarray(0, partSize)), 404, 'MultipartFileNotFoundError');
      await expectUploadError(await multipartComplete(trove, started.uuid), 404, 'MultipartFileNotFoundError');
      const now = await leftovers(trove);
      expect({ originals: now.originals, records: now.records }).toEqual({ originals: before.originals, records: before.records });
    });

    it('a part PUT with a wrong token is 403', async () => {
      const started = await startedMultipart(trove, { filename: 'a.bin', size: String(size), part_size: String(partSize) });
      const url = new URL(started.parts[2]!);
      url.searchParams.set('token', 'wrong-token');
      const response = await putPart(url.toString(), randomBytes(size - 2 * partSize));
      const text = await response.text();
      expect(response.status, text).toBe(403);
      const body = JSON.parse(text) as { error: { error_code: string; content: string } };
      expect(body.error.error_code.length).toBeGreaterThan(0);
      expect(body.error.content.length).toBeGreaterThan(0);
    });

    it('a part with the wrong byte count is 400 MultipartPartSizeInvalidError', async () => {
      const started = await startedMultipart(trove, { filename: 'a.bin', size: String(size), part_size: String(partSize) });
      const response = await putPart(started.parts[2]!, randomBytes(1000));
      await expectUploadError(response, 400, 'MultipartPartSizeInvalidError');
    });

    it('a chunked part body shorter than the part is 400 MultipartPartSizeInvalidError', async () => {
      const started = await startedMultipart(trove, { filename: 'a.bin', size: String(size), part_size: String(partSize) });
      const url = new URL(started.parts[2]!);
      const response = await rawRequest(url.toString(), {
        method: 'PUT',
        headers: { 'content-type': 'application/octet-stream', 'transfer-encoding': 'chunked' },
        chunks: [randomBytes(1000)],
      });
      expect(response).not.toBeNull();
      expect(response!.status, response!.body.toString()).toBe(400);
      const body = JSON.parse(response!.body.toString()) as { error: { error_code: string } };
      expect(body.error.error_code).toBe('MultipartPartSizeInvalidError');
      await expectHealthy(trove);
    });

    it('complete for an unknown uuid is 404', async () => {
      const response = await multipartComplete(trove, randomUUID());
      await expectUploadError(response, 404, 'MultipartFileNotFoundError');
    });
  });

  describe('from_url', () => {
    let origin: OriginServer;
    let png: Buffer;

    beforeAll(async () => {
      png = await makePng();
      origin = await startOrigin((request, response) => {
        if (request.url === '/big') {
          // 3 MiB, chunked (no Content-Length), so only the streaming limit can stop it.
          response.writeHead(200, { 'content-type': 'application/octet-stream' });
          let sent = 0;
          const chunk = randomBytes(64 * 1024);
          const pump = () => {
            while (sent < 3 * MiB) {
              sent += chunk.length;
              if (!response.write(chunk)) {
                response.once('drain', pump);
                return;
              }
            }
            response.end();
          };
          response.on('error', () => undefined);
          pump();
          return;
        }
        if (request.url === '/x.png') {
          response.writeHead(200, { 'content-type': 'image/png' }).end(png);
          return;
        }
        response.writeHead(404, { 'content-type': 'text/plain' }).end('nope');
      });
    });
    afterAll(async () => {
      await origin?.close();
    });

    it('an ftp:// source_url is 400 URLSchemeInvalidError at start', async () => {
      const response = await startFromUrl(trove, { source_url: 'ftp://x/y' });
      await expectUploadError(response, 400, 'URLSchemeInvalidError');
    });

    it('a missing source_url is 400 SourceURLRequiredError', async () => {
      const response = await startFromUrl(trove, {});
      await expectUploadError(response, 400, 'SourceURLRequiredError');
    });

    it('the cloud metadata address is refused even when private addresses are allowed', async () => {
      const response = await startFromUrl(trove, { source_url: 'http://169.254.169.254/latest/meta-data/' });
      const text = await response.text();
      if (response.status === 200) {
        const { token } = JSON.parse(text) as { token: string };
        const status = await waitForFromUrl(trove, token);
        expect(status.status).toBe('error');
        expect(status.error_code).toBe('URLHostPrivateIPForbiddenError');
      } else {
        expect(response.status, text).toBe(400);
        expect(text).toContain('URLHostPrivateIPForbiddenError');
      }
      await expectNothingLeft(trove, before);
    });

    it('an unreachable host ends in status error', async () => {
      const port = await closedPort();
      const response = await startFromUrl(trove, { source_url: `http://127.0.0.1:${port}/x.png` });
      expect(response.status).toBe(200);
      const { token } = (await response.json()) as { token: string };
      const status = await waitForFromUrl(trove, token);
      expect(status.status).toBe('error');
      expect(typeof status.error_code).toBe('string');
      expect(status.error_code!.length).toBeGreaterThan(0);
      expect(status.error!.length).toBeGreaterThan(0);
      await expectNothingLeft(trove, before);
    });

    it('a body larger than TROVE_FETCH_MAX_SIZE ends in DownloadFileSizeLimitExceededError and leaves nothing', async () => {
      const response = await startFromUrl(trove, { source_url: `${origin.url}/big` });
      expect(response.status).toBe(200);
      const { token } = (await response.json()) as { token: string };
      const status = await waitForFromUrl(trove, token);
      expect(status.status).toBe('error');
      expect(status.error_code).toBe('DownloadFileSizeLimitExceededError');
      expect(status.error!.length).toBeGreaterThan(0);
      await expectNothingLeft(trove, before);
    });

    it('a URL answering 404 ends in status error', async () => {
      const response = await startFromUrl(trove, { source_url: `${origin.url}/missing.png` });
      expect(response.status).toBe(200);
      const { token } = (await response.json()) as { token: string };
      const status = await waitForFromUrl(trove, token);
      expect(status.status).toBe('error');
      expect(status.error_code).toBe('DownloadFileNotFoundError');
      await expectNothingLeft(trove, before);
    });
  });

  describe('groups and tenant isolation', () => {
    let other: { publicKey: string };
    let otherFile: string;
    let ownFile: string;

    beforeAll(async () => {
      const created = await trove.ctx.services.projects.create({ name: 'other' });
      other = { publicKey: created.project.publicKey };
      otherFile = await uploadFile(trove, randomBytes(100), 'other.bin', {}, { publicKey: other.publicKey });
      ownFile = await uploadFile(trove, randomBytes(100), 'own.bin');
    });

    function createGroup(publicKey: string, files: string[]): Promise<Response> {
      const form = new FormData();
      form.append('pub_key', publicKey);
      for (const file of files) form.append('files[]', file);
      return fetch(`${trove.uploadUrl}/group/`, { method: 'POST', body: form });
    }

    it("a group with another project's file is 400 GroupFilesNotFoundError", async () => {
      const response = await createGroup(trove.publicKey, [ownFile, otherFile]);
      const error = await expectUploadError(response, 400, 'GroupFilesNotFoundError');
      expect(error.content).toContain(otherFile);
    });

    it('a garbage entry is 400 GroupFilesInvalidError', async () => {
      const response = await createGroup(trove.publicKey, [ownFile, 'definitely not a file']);
      await expectUploadError(response, 400, 'GroupFilesInvalidError');
    });

    it('no files is 400 FilesRequiredError', async () => {
      const response = await createGroup(trove.publicKey, []);
      await expectUploadError(response, 400, 'FilesRequiredError');
    });

    it('group info for an unknown id is 404 GroupNotFoundError', async () => {
      const query = new URLSearchParams({ pub_key: trove.publicKey, group_id: `${randomUUID()}~1` });
      const response = await fetch(`${trove.uploadUrl}/group/info/?${query}`);
      await expectUploadError(response, 404, 'GroupNotFoundError');
    });

    it("group info for another project's group is 404", async () => {
      const created = await createGroup(other.publicKey, [otherFile]);
      expect(created.status).toBe(200);
      const { id } = (await created.json()) as { id: string };
      const query = new URLSearchParams({ pub_key: trove.publicKey, group_id: id });
      const response = await fetch(`${trove.uploadUrl}/group/info/?${query}`);
      await expectUploadError(response, 404, 'GroupNotFoundError');
    });

    it("/info/ of another project's file is 404 FileNotFoundError", async () => {
      const response = await getInfo(trove, otherFile, trove.publicKey);
      await expectUploadError(response, 404, 'FileNotFoundError');
      expect((await getInfo(trove, otherFile, other.publicKey)).status).toBe(200);
    });
  });
});

describe('from_url with private addresses forbidden (embedded)', () => {
  let trove: TestTrove;
  let origin: OriginServer;

  beforeAll(async () => {
    trove = await startTrove({ backend: 'embedded', env: { TROVE_FETCH_ALLOW_PRIVATE: 'false' } });
    const png = await makePng();
    origin = await startOrigin((_request, response) => {
      response.writeHead(200, { 'content-type': 'image/png' }).end(png);
    });
  });
  afterAll(async () => {
    await origin?.close();
    await trove?.close();
  });

  it.each([
    ['a loopback address', () => `http://127.0.0.1:${origin.port}/x.png`],
    ['the cloud metadata address', () => 'http://169.254.169.254/latest/meta-data/'],
  ])('%s ends in URLHostPrivateIPForbiddenError', async (_label, url) => {
    const before = await leftovers(trove);
    const response = await startFromUrl(trove, { source_url: url() });
    const text = await response.text();
    if (response.status === 200) {
      const { token } = JSON.parse(text) as { token: string };
      const status = await waitForFromUrl(trove, token);
      expect(status.status).toBe('error');
      expect(status.error_code).toBe('URLHostPrivateIPForbiddenError');
      expect(status.error!.length).toBeGreaterThan(0);
    } else {
      expect(response.status, text).toBe(400);
      expect(text).toContain('URLHostPrivateIPForbiddenError');
    }
    await expectNothingLeft(trove, before);
  });
});
