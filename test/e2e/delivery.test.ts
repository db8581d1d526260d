/**
 * Delivery of originals: bytes, caching headers, dispositions, conditional and range requests,
 * script-carrying files, errors, and temporary files that expire.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { availableBackends } from '../helpers/backends.js';
import { makePdf, makePng, makeSvg } from '../helpers/images.js';
import { startTrove, type TestTrove } from '../helpers/trove-server.js';
import { expectDeliveryError, getInfo, sha256Hex, uploadFile } from '../helpers/upload-http.js';

const backends = await availableBackends();
const YEAR = 31_536_000;

function maxAgeOf(cacheControl: string | null): number | null {
  const match = /max-age=(\d+)/.exec(cacheControl ?? '');
  return match ? Number(match[1]) : null;
}

describe.each(backends)('delivery of originals (%s)', (backend) => {
  let trove: TestTrove;
  let png: Buffer;
  let pngUuid: string;
  let pdfUuid: string;
  let binary: Buffer;
  let binaryUuid: string;

  beforeAll(async () => {
    trove = await startTrove({ backend, env: { TROVE_UNSTORED_FILE_TTL: '1h' } });
    png = await makePng(40, 30);
    binary = randomBytes(5000);
    [pngUuid, pdfUuid, binaryUuid] = await Promise.all([
      uploadFile(trove, png, 'picture.png', {}, { type: 'image/png' }),
      uploadFile(trove, makePdf(), 'doc.pdf', {}, { type: 'application/pdf' }),
      uploadFile(trove, binary, 'data.bin'),
    ]);
  });
  afterAll(async () => {
    await trove?.close();
  });

  describe('GET /:uuid/', () => {
    it('serves the exact bytes with strong caching and safety headers', async () => {
      const response = await fetch(`${trove.url}/${pngUuid}/`);
      expect(response.status).toBe(200);
      const body = Buffer.from(await response.arrayBuffer());
      expect(body.equals(png)).toBe(true);
      expect(response.headers.get('content-type')).toBe('image/png');
      expect(response.headers.get('content-length')).toBe(String(png.length));
      const etag = response.headers.get('etag');
      expect(etag).toMatch(/^"[^"]+"$/);
      expect(etag!.startsWith('W/')).toBe(false);
      const cacheControl = response.headers.get('cache-control') ?? '';
      expect(cacheControl).toContain(`max-age=${YEAR}`);
      expect(cacheControl).toContain('immutable');
      expect(response.headers.get('x-content-type-options')).toBe('nosniff');
      expect(response.headers.get('accept-ranges')).toBe('bytes');
    });

    it('sniffs the Content-Type from the bytes, not from the upload', async () => {
      const uuid = await uploadFile(trove, png, 'lies.txt', {}, { type: 'text/plain' });
      const response = await fetch(`${trove.url}/${uuid}/`);
      expect(response.status).toBe(200);
      expect(response.headers.get('content-type')).toBe('image/png');
      await response.arrayBuffer();
    });

    it('answers the same resource without the trailing slash', async () => {
      const response = await fetch(`${trove.url}/${pngUuid}`);
      expect(response.status).toBe(200);
      expect(Buffer.from(await response.arrayBuffer()).equals(png)).toBe(true);
    });
  });

  describe('Content-Disposition', () => {
    it('names the download after the filename in the URL', async () => {
      const response = await fetch(`${trove.url}/${pngUuid}/custom-name.png`);
      expect(response.status).toBe(200);
      const disposition = response.headers.get('content-disposition') ?? '';
      expect(disposition).toMatch(/^inline;/);
      expect(disposition).toContain('filename="custom-name.png"');
      expect(Buffer.from(await response.arrayBuffer()).equals(png)).toBe(true);
    });

    it('cleans a name from the URL exactly as a stored name: no bidi override reaches the header', async () => {
      // U+202E renders "evil\u202Egnp.exe" as "evilexe.png".
      const stored = await uploadFile(trove, png, 'evil\u202Egnp.exe', {}, { type: 'image/png' });
      const fromStore = await fetch(`${trove.url}/${stored}/`);
      await fromStore.arrayBuffer();
      const expected = `inline; filename="evilgnp.exe"; filename*=UTF-8''evilgnp.exe`;
      expect(fromStore.headers.get('content-disposition')).toBe(expected);
      for (const path of [`${pngUuid}/evil%E2%80%AEgnp.exe`, `${pngUuid}/-/inline/yes/evil%E2%80%AEgnp.exe`]) {
        const response = await fetch(`${trove.url}/${path}`);
        await response.arrayBuffer();
        expect(response.headers.get('content-disposition')).toBe(expected);
      }
      // Transformed: the route, then the same URL from the memory tier (fast lane).
      for (let attempt = 0; attempt < 2; attempt++) {
        const response = await fetch(`${trove.url}/${pngUuid}/-/resize/20x/evil%E2%80%AEgnp.exe`);
        await response.arrayBuffer();
        expect(response.headers.get('content-disposition')).toBe(expected);
      }
      // Nothing usable left: the stored name, as without a name in the URL.
      const empty = await fetch(`${trove.url}/${pngUuid}/%E2%80%AE`);
      await empty.arrayBuffer();
      expect(empty.headers.get('content-disposition')).toContain('filename="picture.png"');
    });

    it('uses the original filename by default', async () => {
      const response = await fetch(`${trove.url}/${pngUuid}/`);
      expect(response.headers.get('content-disposition')).toContain('filename="picture.png"');
      await response.arrayBuffer();
    });

    it('shows images inline and downloads a PDF as an attachment', async () => {
      const image = await fetch(`${trove.url}/${pngUuid}/`);
      expect(image.headers.get('content-disposition')).toMatch(/^inline;/);
      await image.arrayBuffer();
      const pdf = await fetch(`${trove.url}/${pdfUuid}/`);
      expect(pdf.status).toBe(200);
      expect(pdf.headers.get('content-type')).toBe('application/pdf');
      expect(pdf.headers.get('content-disposition')).toMatch(/^attachment;/);
      await pdf.arrayBuffer();
    });

    it('/-/inline/yes/ shows a PDF inline and /-/inline/no/ downloads an image', async () => {
      const pdf = await fetch(`${trove.url}/${pdfUuid}/-/inline/yes/`);
      expect(pdf.status).toBe(200);
      expect(pdf.headers.get('content-disposition')).toMatch(/^inline;/);
      await pdf.arrayBuffer();
      const image = await fetch(`${trove.url}/${pngUuid}/-/inline/no/`);
      expect(image.status).toBe(200);
      expect(image.headers.get('content-disposition')).toMatch(/^attachment;/);
      await image.arrayBuffer();
      const named = await fetch(`${trove.url}/${pngUuid}/-/inline/no/save-me.png`);
      expect(named.status).toBe(200);
      expect(named.headers.get('content-disposition')).toMatch(/^attachment;.*filename="save-me\.png"/);
      await named.arrayBuffer();
    });
  });

  describe('conditional requests and HEAD', () => {
    it('If-None-Match with the ETag is 304 without a body', async () => {
      const first = await fetch(`${trove.url}/${pngUuid}/`);
      const etag = first.headers.get('etag')!;
      await first.arrayBuffer();
      const response = await fetch(`${trove.url}/${pngUuid}/`, { headers: { 'if-none-match': etag } });
      expect(response.status).toBe(304);
      expect(response.headers.get('etag')).toBe(etag);
      expect((await response.arrayBuffer()).byteLength).toBe(0);
    });

    it('If-None-Match with another ETag serves the file', async () => {
      const response = await fetch(`${trove.url}/${pngUuid}/`, { headers: { 'if-none-match': '"something-else"' } });
      expect(response.status).toBe(200);
      expect(Buffer.from(await response.arrayBuffer()).equals(png)).toBe(true);
    });

    it('HEAD answers the same headers with no body', async () => {
      const get = await fetch(`${trove.url}/${pngUuid}/`);
      await get.arrayBuffer();
      const head = await fetch(`${trove.url}/${pngUuid}/`, { method: 'HEAD' });
      expect(head.status).toBe(200);
      expect(head.headers.get('content-length')).toBe(String(png.length));
      for (const name of ['content-type', 'etag', 'cache-control', 'content-disposition', 'accept-ranges', 'x-content-type-options']) {
        expect(head.headers.get(name), name).toBe(get.headers.get(name));
      }
      expect((await head.arrayBuffer()).byteLength).toBe(0);
    });
  });

  describe('Range', () => {
    const size = 5000;

    async function ranged(range: string): Promise<Response> {
      return fetch(`${trove.url}/${binaryUuid}/`, { headers: { range } });
    }

    it('bytes=0-9 is 206 with the first ten bytes', async () => {
      const response = await ranged('bytes=0-9');
      expect(response.status).toBe(206);
      expect(response.headers.get('content-range')).toBe(`bytes 0-9/${size}`);
      expect(response.headers.get('content-length')).toBe('10');
      expect(Buffer.from(await response.arrayBuffer()).equals(binary.subarray(0, 10))).toBe(true);
    });

    it('bytes=-5 is the last five bytes', async () => {
      const response = await ranged('bytes=-5');
      expect(response.status).toBe(206);
      expect(response.headers.get('content-range')).toBe(`bytes ${size - 5}-${size - 1}/${size}`);
      expect(Buffer.from(await response.arrayBuffer()).equals(binary.subarray(size - 5))).toBe(true);
    });

    it('bytes=10- is the rest of the file', async () => {
      const response = await ranged('bytes=10-');
      expect(response.status).toBe(206);
      expect(response.headers.get('content-range')).toBe(`bytes 10-${size - 1}/${size}`);
      expect(response.headers.get('content-length')).toBe(String(size - 10));
      expect(Buffer.from(await response.arrayBuffer()).equals(binary.subarray(10))).toBe(true);
    });

    it('a single byte (bytes=0-0) is exactly one byte', async () => {
      const response = await ranged('bytes=0-0');
      expect(response.status).toBe(206);
      expect(response.headers.get('content-range')).toBe(`bytes 0-0/${size}`);
      expect(Buffer.from(await response.arrayBuffer()).equals(binary.subarray(0, 1))).toBe(true);
    });

    it('a range starting at the size is 416 with Content-Range bytes */size', async () => {
      const response = await ranged(`bytes=${size}-`);
      expect(response.status).toBe(416);
      expect(response.headers.get('content-range')).toBe(`bytes */${size}`);
      await response.arrayBuffer();
    });

    it('several ranges are answered with the whole file', async () => {
      const response = await ranged('bytes=0-1,5-6');
      expect(response.status).toBe(200);
      expect(response.headers.get('content-range')).toBeNull();
      expect(Buffer.from(await response.arrayBuffer()).equals(binary)).toBe(true);
    });

    it('If-Range with a stale ETag ignores the range', async () => {
      const response = await fetch(`${trove.url}/${binaryUuid}/`, { headers: { range: 'bytes=0-9', 'if-range': '"stale"' } });
      expect(response.status).toBe(200);
      expect(Buffer.from(await response.arrayBuffer()).equals(binary)).toBe(true);
    });

    it('If-Range with the current ETag honours the range', async () => {
      const etag = `"${sha256Hex(binary)}"`;
      const head = await fetch(`${trove.url}/${binaryUuid}/`, { method: 'HEAD' });
      expect(head.headers.get('etag')).toBe(etag);
      const response = await fetch(`${trove.url}/${binaryUuid}/`, { headers: { range: 'bytes=0-9', 'if-range': etag } });
      expect(response.status).toBe(206);
      expect(Buffer.from(await response.arrayBuffer()).equals(binary.subarray(0, 10))).toBe(true);
    });
  });

  describe('files that carry scripts', () => {
    it('an SVG with <script> is served as image/svg+xml under a sandboxing CSP', async () => {
      const svg = makeSvg({ script: true });
      const uuid = await uploadFile(trove, svg, 'evil.svg', {}, { type: 'image/svg+xml' });
      const response = await fetch(`${trove.url}/${uuid}/`);
      expect(response.status).toBe(200);
      expect(response.headers.get('content-type')).toMatch(/^image\/svg\+xml(;|$)/);
      const csp = response.headers.get('content-security-policy') ?? '';
      expect(csp).toContain('sandbox');
      expect(csp).toContain("default-src 'none'");
      expect(csp).not.toMatch(/script-src/);
      expect(response.headers.get('x-content-type-options')).toBe('nosniff');
      expect(Buffer.from(await response.arrayBuffer()).equals(svg)).toBe(true);
    });

    it('an HTML upload is served as an attachment under a sandboxing CSP', async () => {
      const html = Buffer.from('<!DOCTYPE html><html><body><script>alert(document.cookie)</script></body></html>\n');
      const uuid = await uploadFile(trove, html, 'page.html', {}, { type: 'text/html' });
      const response = await fetch(`${trove.url}/${uuid}/`);
      expect(response.status).toBe(200);
      expect(response.headers.get('content-type')).toMatch(/^text\/html/);
      expect(response.headers.get('content-disposition')).toMatch(/^attachment;/);
      const csp = response.headers.get('content-security-policy') ?? '';
      expect(csp).toContain('sandbox');
      expect(csp).toContain("default-src 'none'");
      await response.arrayBuffer();
    });
  });

  describe('errors', () => {
    it('an unknown uuid is a JSON 404', async () => {
      await expectDeliveryError(await fetch(`${trove.url}/${randomUUID()}/`), 404);
    });

    it('a path that is not a uuid is a JSON 404', async () => {
      await expectDeliveryError(await fetch(`${trove.url}/not-a-uuid/`), 404);
    });

    it('HEAD of an unknown uuid is 404', async () => {
      const response = await fetch(`${trove.url}/${randomUUID()}/`, { method: 'HEAD' });
      expect(response.status).toBe(404);
    });

    it('an unknown operation is a JSON 400 naming it', async () => {
      const error = await expectDeliveryError(await fetch(`${trove.url}/${pngUuid}/-/levitate/100x/`), 400);
      expect(error.message).toContain('levitate');
    });
  });

  describe('temporary files', () => {
    it('are served with a short cache life, vanish at expiry and are swept with their bytes', async () => {
      const bytes = randomBytes(700);
      const uuid = await uploadFile(trove, bytes, 'temp.bin', { UPLOADCARE_STORE: '0' });
      const served = await fetch(`${trove.url}/${uuid}/`);
      expect(served.status).toBe(200);
      expect(Buffer.from(await served.arrayBuffer()).equals(bytes)).toBe(true);
      const maxAge = maxAgeOf(served.headers.get('cache-control'));
      expect(maxAge).not.toBeNull();
      expect(maxAge!).toBeLessThan(YEAR);
      expect(maxAge!).toBeLessThanOrEqual(3600);
      expect(served.headers.get('cache-control')).not.toContain('immutable');

      trove.clock.advance(2 * 3_600_000);
      await expectDeliveryError(await fetch(`${trove.url}/${uuid}/`), 404);

      const before = await trove.countOriginals();
      const report = await trove.ctx.services.sweeper.sweep();
      expect(report.expiredFiles).toBeGreaterThanOrEqual(1);
      expect(await trove.countOriginals()).toBe(before - 1);
      expect((await getInfo(trove, uuid)).status).toBe(404);

      // Stored files are untouched by the sweep.
      const stored = await fetch(`${trove.url}/${pngUuid}/`);
      expect(stored.status).toBe(200);
      await stored.arrayBuffer();
    });

    it('an expired temporary file is gone from the Upload API too, before the sweep', async () => {
      const uuid = await uploadFile(trove, randomBytes(300), 'temp2.bin', { UPLOADCARE_STORE: '0' });
      expect((await getInfo(trove, uuid)).status).toBe(200);
      trove.clock.advance(2 * 3_600_000);
      await expectDeliveryError(await fetch(`${trove.url}/${uuid}/`), 404);

      // Delivery already says 404; the Upload API must agree rather than describe a dead file…
      const info = await getInfo(trove, uuid);
      expect(info.status, await info.text()).toBe(404);

      // …and must not let a new group reference it.
      const form = new FormData();
      form.append('pub_key', trove.publicKey);
      form.append('files[]', uuid);
      const group = await fetch(`${trove.uploadUrl}/group/`, { method: 'POST', body: form });
      const text = await group.text();
      expect(group.status, text).toBe(400);
      expect(text).toContain('GroupFilesNotFoundError');
    });
  });
});
