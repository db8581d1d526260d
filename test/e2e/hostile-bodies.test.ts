/**
 * Request bodies a parser cannot handle, parts nobody reads, early refusals of large bodies and
 * uploads cut off midway: each gets a clear JSON 4xx, promptly, and leaves nothing behind.
 */
import http from 'node:http';
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { availableBackends } from '../helpers/backends.js';
import { startTrove, type TestTrove } from '../helpers/trove-server.js';
import {
  expectNothingLeft,
  fileInfo,
  leftovers,
  multipartBody,
  rawRequest,
  sleep,
  startedMultipart,
  type RawResponse,
} from '../helpers/upload-http.js';

const backends = await availableBackends();
const MiB = 1024 * 1024;

/** Every route of the Upload API that reads a form body. */
const FORM_ROUTES = ['/base/', '/group/', '/multipart/start/', '/multipart/complete/', '/from_url/'];

function formRequest(trove: TestTrove, route: string, boundary: string, body: Buffer, timeoutMs = 5_000): Promise<RawResponse | null> {
  return rawRequest(`${trove.uploadUrl}${route}`, {
    headers: { 'content-type': `multipart/form-data; boundary=${boundary}`, 'content-length': body.length },
    chunks: [body],
    timeoutMs,
  });
}

function uploadError(response: RawResponse | null): { status_code: number; content: string; error_code: string } {
  expect(response).not.toBeNull();
  expect(response!.headers['content-type']).toMatch(/^application\/json/);
  return (JSON.parse(response!.body.toString('utf8')) as { error: { status_code: number; content: string; error_code: string } }).error;
}

/**
 * Sends `body` the way a client on a network does, in pieces as the socket drains, and reports what
 * came back: the answer, or the socket error that replaced it.
 */
function sendStreamed(url: string, headers: Record<string, string | number>, body: Buffer, method = 'POST'): Promise<{ status?: number; text?: string; error?: string }> {
  return new Promise((resolve) => {
    const target = new URL(url);
    const request = http.request(
      { host: target.hostname, port: target.port, path: `${target.pathname}${target.search}`, method, headers, agent: false },
      (response) => {
        let text = '';
        response.setEncoding('utf8');
        response.on('data', (chunk: string) => (text += chunk));
        response.on('end', () => resolve({ status: response.statusCode, text }));
        response.on('error', (error: NodeJS.ErrnoException) => resolve({ error: error.code ?? error.message }));
      },
    );
    request.on('error', (error: NodeJS.ErrnoException) => resolve({ error: error.code ?? error.message }));
    let offset = 0;
    const pump = () => {
      while (offset < body.length) {
        const more = request.write(body.subarray(offset, offset + 64 * 1024));
        offset += 64 * 1024;
        if (!more) {
          request.once('drain', pump);
          return;
        }
      }
      request.end();
    };
    pump();
  });
}

/**
 * A client that sends the head of a request, leaves the answer unread while the server decides,
 * then sends the rest, and only then reads. A server that closed its socket after answering makes
 * the kernel answer the late bytes with a reset, which throws away the unread answer: exactly what a
 * client on a real network suffers when it is still sending as the refusal arrives.
 */
async function sendLateAndRead(url: string, head: string, rest: Buffer): Promise<{ status: number | null; text: string; error?: string }> {
  const target = new URL(url);
  const socket = net.connect(Number(target.port), target.hostname);
  const chunks: Buffer[] = [];
  let error: string | undefined;
  socket.on('error', (e: NodeJS.ErrnoException) => (error ??= e.code ?? e.message));
  const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
  socket.pause();
  await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
  socket.on('data', (chunk: Buffer) => chunks.push(chunk));
  socket.write(head);
  await sleep(300);
  socket.write(rest, () => undefined);
  await sleep(300);
  socket.resume();
  await Promise.race([closed, sleep(12_000)]);
  socket.destroy();
  const text = Buffer.concat(chunks).toString('latin1');
  const status = /^HTTP\/1\.1 (\d{3})/.exec(text);
  return { status: status ? Number(status[1]) : null, text, ...(error ? { error } : {}) };
}

describe.each(backends)('hostile request bodies (%s)', (backend) => {
  let trove: TestTrove;

  beforeAll(async () => {
    trove = await startTrove({ backend, env: { TROVE_MULTIPART_MIN_FILE_SIZE: '1MiB', TROVE_MULTIPART_MIN_PART_SIZE: '1MiB' } });
  });
  afterAll(async () => {
    await trove?.close();
  });

  describe('bodies the form parser refuses', () => {
    it.each(FORM_ROUTES)('a boundary longer than 70 characters is a 400 naming the limit on %s', async (route) => {
      for (const length of [71, 1_000]) {
        const boundary = 'b'.repeat(length);
        const body = multipartBody(boundary, [{ name: 'UPLOADCARE_PUB_KEY', value: trove.publicKey }]);
        const response = await formRequest(trove, route, boundary, body);
        expect(response?.status).toBe(400);
        const error = uploadError(response);
        expect(error.error_code).toBe('PostRequestParserFailedError');
        expect(error.content).toContain(`${length} characters long; at most 70`);
      }
    });

    it.each(FORM_ROUTES)('a part without a name or headers is a 400 that says so on %s', async (route) => {
      const boundary = 'plain-boundary';
      const body = Buffer.from(`--${boundary}\r\nContent-Type: text/plain\r\n\r\n${'z'.repeat(40_000)}\r\n--${boundary}--\r\n`);
      const response = await formRequest(trove, route, boundary, body);
      expect(response?.status).toBe(400);
      expect(uploadError(response).content).toMatch(/no Content-Disposition/);
    });
  });

  it('a body that ends inside a second, empty file part is a 400 and the server keeps running', async () => {
    const boundary = 'b';
    const body = Buffer.from(
      `--b\r\nContent-Disposition: form-data; name="file"; filename="a.txt"\r\n\r\nabc\r\n` +
        `--b\r\nContent-Disposition: form-data; name="file"; filename="b.txt"\r\n\r\n`,
    );
    for (const route of FORM_ROUTES) {
      const response = await formRequest(trove, route, boundary, body);
      expect(response?.status).toBe(400);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect((await fetch(`${trove.url}/health`)).status).toBe(200);
  });

  describe('parts with odd names are read, never left waiting', () => {
    const oddNames = [`filename*=UTF-8''%0d%0a`, `filename*=UTF-8''%01%02%1b`, `filename*=UTF-8''%ff%fe`, `filename*=koi8-r''%01`, `filename="a\\"b"`];

    it.each(oddNames)('POST /base/ answers at once for a 40 KB file part with %s, and the stored name is clean', async (disposition) => {
      const boundary = 'odd-boundary';
      const body = Buffer.concat([
        Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="UPLOADCARE_PUB_KEY"\r\n\r\n${trove.publicKey}\r\n`),
        Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="file"; ${disposition}\r\nContent-Type: text/plain\r\n\r\n`),
        Buffer.alloc(40_000, 0x61),
        Buffer.from(`\r\n--${boundary}--\r\n`),
      ]);
      const started = Date.now();
      const response = await formRequest(trove, '/base/', boundary, body);
      expect(Date.now() - started).toBeLessThan(5_000);
      expect(response?.status).toBe(200);
      const uuid = (JSON.parse(response!.body.toString('utf8')) as { file: string }).file;
      const info = await fileInfo(trove, uuid);
      expect(info.size).toBe(40_000);
      // Control characters never survive into a stored name.
      expect(info.original_filename).not.toMatch(/[\u0000-\u001f\u007f]/);
    });

    it.each(FORM_ROUTES.filter((route) => route !== '/base/'))('%s refuses a file part promptly instead of waiting on it', async (route) => {
      const boundary = 'odd-boundary';
      const body = Buffer.concat([
        Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="file"; filename*=UTF-8''%0d%0a\r\n\r\n`),
        Buffer.alloc(40_000, 0x61),
        Buffer.from(`\r\n--${boundary}--\r\n`),
      ]);
      const response = await formRequest(trove, route, boundary, body);
      expect(response?.status).toBe(400);
      expect(uploadError(response).content).toMatch(/must not be a file/);
    });
  });

  describe('early refusals reach the client', () => {
    it('a wrong public key before a 4 MiB file is answered with the 403, every time', async () => {
      const boundary = 'early-boundary';
      const body = multipartBody(boundary, [
        { name: 'UPLOADCARE_PUB_KEY', value: 'not-a-key' },
        { name: 'file', filename: 'big.bin', bytes: Buffer.alloc(4 * MiB, 1) },
      ]);
      const before = await leftovers(trove);
      for (let attempt = 0; attempt < 8; attempt++) {
        const result = await sendStreamed(`${trove.uploadUrl}/base/`, { 'content-type': `multipart/form-data; boundary=${boundary}`, 'content-length': body.length }, body);
        expect(result.error).toBeUndefined();
        expect(result.status).toBe(403);
      }
      await expectNothingLeft(trove, before);
    });

    it('a refusal sent while the client is still sending reaches it (no reset), on upload, part and REST routes', async () => {
      const boundary = 'late-boundary';
      const formHead = (publicKey: string) =>
        `POST /upload/base/ HTTP/1.1\r\nHost: trove\r\nContent-Type: multipart/form-data; boundary=${boundary}\r\nContent-Length: ${4 * MiB + 1_000}\r\n\r\n` +
        `--${boundary}\r\nContent-Disposition: form-data; name="UPLOADCARE_PUB_KEY"\r\n\r\n${publicKey}\r\n` +
        `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="big.bin"\r\n\r\n`;
      const wrongKey = await sendLateAndRead(trove.url, formHead('not-a-key'), Buffer.alloc(2 * MiB, 1));
      expect(wrongKey.error).toBeUndefined();
      expect(wrongKey.status).toBe(403);
      expect(wrongKey.text).toContain('UPLOADCARE_PUB_KEY');

      const started = await startedMultipart(trove, { filename: 'late.bin', size: String(2 * MiB), content_type: 'application/octet-stream', part_size: String(MiB) });
      const part = new URL(started.parts[0]!);
      const wrongToken = await sendLateAndRead(
        trove.url,
        `PUT ${part.pathname}?token=wrong HTTP/1.1\r\nHost: trove\r\nContent-Length: ${MiB}\r\n\r\n`,
        Buffer.alloc(MiB / 2),
      );
      expect(wrongToken.error).toBeUndefined();
      expect(wrongToken.status).toBe(403);

      const tooLong = await sendLateAndRead(
        trove.url,
        `POST /files/local_copy/ HTTP/1.1\r\nHost: trove\r\nContent-Type: application/json\r\nAccept: application/vnd.uploadcare-v0.7+json\r\nContent-Length: ${4 * MiB}\r\n\r\n${' '.repeat(1_100_000)}`,
        Buffer.alloc(MiB, 0x20),
      );
      expect(tooLong.error).toBeUndefined();
      expect(tooLong.status).toBe(413);
    });

    it('a part PUT with a wrong token or a wrong length is answered, not reset', async () => {
      const size = 2 * MiB;
      const started = await startedMultipart(trove, { filename: 'p.bin', size: String(size), content_type: 'application/octet-stream', part_size: String(MiB) });
      const part = new URL(started.parts[0]!);
      const wrongToken = await sendStreamed(`${part.origin}${part.pathname}?token=wrong`, { 'content-length': MiB }, Buffer.alloc(MiB), 'PUT');
      expect(wrongToken).toMatchObject({ status: 403 });
      const wrongLength = await sendStreamed(part.href, { 'content-length': 3 * MiB }, Buffer.alloc(3 * MiB), 'PUT');
      expect(wrongLength).toMatchObject({ status: 400 });
    });

    it('an over-long urlencoded body is a 413 the client reads', async () => {
      const body = Buffer.alloc(4 * MiB, 0x61);
      const result = await sendStreamed(`${trove.uploadUrl}/from_url/`, { 'content-type': 'application/x-www-form-urlencoded', 'content-length': body.length }, body);
      expect(result.error).toBeUndefined();
      expect(result.status).toBe(413);
    });

    it('an over-long REST body is a 413 the client reads', async () => {
      const body = Buffer.alloc(4 * MiB, 0x20);
      const result = await sendStreamed(
        `${trove.url}/files/local_copy/`,
        { 'content-type': 'application/json', accept: 'application/vnd.uploadcare-v0.7+json', 'content-length': body.length },
        body,
      );
      expect(result.error).toBeUndefined();
      expect(result.status).toBe(413);
    });
  });

  describe('requests Node itself would answer without a body', () => {
    it('an Expect other than 100-continue is a 417 that says why', async () => {
      const response = await rawRequest(`${trove.uploadUrl}/base/`, { headers: { expect: 'something-else', 'content-length': 0 }, chunks: [] });
      expect(response?.status).toBe(417);
      expect(response?.headers['content-type']).toMatch(/^application\/json/);
      expect(JSON.parse(response!.body.toString('utf8'))).toMatchObject({ message: expect.stringContaining('100-continue') });
    });

    it('an HTTP/1.1 request without a Host header is a JSON 400 that says so', async () => {
      const answer = await sendLateAndRead(trove.url, 'POST /upload/base/ HTTP/1.1\r\nContent-Length: 0\r\n\r\n', Buffer.alloc(0));
      expect(answer.status).toBe(400);
      expect(answer.text).toMatch(/content-type: application\/json/i);
      expect(answer.text).toContain('Host header');
    });

    it('an OPTIONS request without the preflight headers is not a bare text/plain 400', async () => {
      const response = await rawRequest(`${trove.uploadUrl}/base/`, { method: 'OPTIONS', chunks: [] });
      expect(response?.status).toBeLessThan(400);
    });

    it('a request line Node cannot parse is a JSON 400', async () => {
      const answer = await sendLateAndRead(trove.url, 'POST /upload/base/ HTTP/1.1\r\nHost: x\r\nContent-Length: nope\r\n\r\n', Buffer.alloc(0));
      expect(answer.status).toBe(400);
      expect(answer.text).toMatch(/content-type: application\/json/i);
    });
  });

  describe('uploads cut off midway leave nothing', () => {
    it('a part PUT aborted midway keeps none of its bytes, and the part can be sent again', async () => {
      const size = 8 * MiB;
      const partSize = 4 * MiB;
      const started = await startedMultipart(trove, { filename: 'cut.bin', size: String(size), content_type: 'application/octet-stream', part_size: String(partSize) });
      const before = await trove.stagedBytes();
      const cut = await rawRequest(started.parts[0]!, {
        method: 'PUT',
        headers: { 'content-length': partSize },
        chunks: [Buffer.alloc(3 * MiB, 7)],
        mode: 'destroy',
        destroyAfterMs: 300,
      });
      expect(cut).toBeNull();
      const deadline = Date.now() + 2_000;
      while (Date.now() < deadline && (await trove.stagedBytes()) !== before) await sleep(50);
      expect(await trove.stagedBytes()).toBe(before);

      for (const url of started.parts) {
        const response = await fetch(url, { method: 'PUT', body: Buffer.alloc(partSize, 7) });
        expect(response.status).toBe(200);
      }
      const complete = await fetch(`${trove.uploadUrl}/multipart/complete/`, {
        method: 'POST',
        body: new URLSearchParams({ UPLOADCARE_PUB_KEY: trove.publicKey, uuid: started.uuid }),
      });
      expect(complete.status).toBe(200);
      expect(((await complete.json()) as { size: number }).size).toBe(size);
      expect(await trove.stagedBytes()).toBe(0);
    });

    it('a direct upload cut off midway leaves no bytes, temp files or records', async () => {
      const before = await leftovers(trove);
      const boundary = 'cut-boundary';
      const body = multipartBody(boundary, [
        { name: 'UPLOADCARE_PUB_KEY', value: trove.publicKey },
        { name: 'file', filename: 'cut.bin', bytes: Buffer.alloc(2 * MiB, 3) },
      ]);
      const cut = await rawRequest(`${trove.uploadUrl}/base/`, {
        headers: { 'content-type': `multipart/form-data; boundary=${boundary}`, 'content-length': body.length },
        chunks: [body.subarray(0, MiB)],
        mode: 'destroy',
        destroyAfterMs: 200,
      });
      expect(cut).toBeNull();
      await expectNothingLeft(trove, before, 3_000);
    });
  });
});
