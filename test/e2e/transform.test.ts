import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { gifBomb, webpBomb } from '../helpers/animation-bombs.js';
import { parseUploadcarePath } from '../../src/domain/transform/uploadcare-parser.js';
import { availableBackends } from '../helpers/backends.js';
import { makeAnimatedGif, makeJpeg, makePngWithAlpha } from '../helpers/images.js';
import { avifSequence, manyPageTiff } from '../helpers/page-bombs.js';
import { startTrove, type TestTrove } from '../helpers/trove-server.js';
import { expectDeliveryError, fileInfo, sleep, uploadFile } from '../helpers/upload-http.js';

const backends = await availableBackends();

async function metric(trove: TestTrove, name: string, labels: string): Promise<number> {
  const text = await (await fetch(`${trove.url}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(`${name}{${labels}}`));
  return line ? Number(line.split(' ').at(-1)) : 0;
}

/** Transformations run so far (the engine's duration histogram counts every one). */
async function transformations(trove: TestTrove): Promise<number> {
  const text = await (await fetch(`${trove.url}/metrics`)).text();
  return Number(/^trove_transform_duration_seconds_count (\d+)$/m.exec(text)?.[1] ?? 0);
}

async function imageOf(response: Response) {
  const data = Buffer.from(await response.arrayBuffer());
  return { data, meta: await sharp(data, { animated: true }).metadata() };
}

/** On-the-fly transformations over real HTTP: Uploadcare's CDN grammar, caches, negotiation, limits. */
describe.each(backends)('image transformations (%s)', (backend) => {
  let trove: TestTrove;
  let photo: string;
  let logo: string;
  let animation: string;
  let document: string;

  beforeAll(async () => {
    trove = await startTrove({ backend, env: { TROVE_MAX_SOURCE_PIXELS: '4000000' } });
    photo = await uploadFile(trove, await makeJpeg({ width: 1200, height: 800, noise: true }), 'photo.jpg');
    logo = await uploadFile(trove, await makePngWithAlpha(300, 200), 'logo.png');
    animation = await uploadFile(trove, await makeAnimatedGif({ width: 64, height: 48, frames: 3 }), 'anim.gif');
    // Not an image and not a PDF (whose first page the CDN draws): image operations do not apply.
    document = await uploadFile(trove, Buffer.from('plain words, not an image\n'), 'notes.txt');
  });

  afterAll(async () => {
    await trove?.close();
  });

  it('resizes by the URL and caches the result (L1 hit the second time)', async () => {
    const url = `${trove.url}/${photo}/-/resize/300x/-/format/jpeg/`;
    const first = await fetch(url);
    expect(first.status).toBe(200);
    expect(first.headers.get('content-type')).toBe('image/jpeg');
    expect(first.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
    expect(first.headers.get('etag')).toMatch(/^"[A-Za-z0-9_-]+"$/);
    const { meta } = await imageOf(first);
    expect([meta.width, meta.height]).toEqual([300, 200]);
    const hitsBefore = await metric(trove, 'trove_derivative_cache_total', 'result="l1"');
    const second = await fetch(url);
    expect(second.headers.get('etag')).toBe(first.headers.get('etag'));
    await second.arrayBuffer();
    expect(await metric(trove, 'trove_derivative_cache_total', 'result="l1"')).toBe(hitsBefore + 1);
    const notModified = await fetch(url, { headers: { 'if-none-match': first.headers.get('etag')! } });
    expect(notModified.status).toBe(304);
  });

  it('answers a memory hit with exactly the headers of the full route (fast lane)', async () => {
    const url = `${trove.url}/${photo}/-/resize/222x/-/format/auto/named.webp`;
    const headersOf = (r: Response) => {
      const h = Object.fromEntries(r.headers.entries());
      delete h.date;
      return h;
    };
    const viaRoute = await fetch(url, { headers: { accept: 'image/webp' } });
    const routeBody = Buffer.from(await viaRoute.arrayBuffer());
    const viaFastLane = await fetch(url, { headers: { accept: 'image/webp' } });
    expect(Buffer.from(await viaFastLane.arrayBuffer()).equals(routeBody)).toBe(true);
    expect(headersOf(viaFastLane)).toEqual(headersOf(viaRoute));
    expect(viaFastLane.headers.get('content-disposition')).toContain('named.webp');
    const head = await fetch(url, { method: 'HEAD', headers: { accept: 'image/webp' } });
    expect(head.headers.get('content-length')).toBe(String(routeBody.length));
    const cached = await fetch(url, { headers: { accept: 'image/webp', 'if-none-match': viaRoute.headers.get('etag')! } });
    expect(cached.status).toBe(304);
  });

  it('keeps negotiating format/auto per request once the URL is answered from memory', async () => {
    const url = `${trove.url}/${photo}/-/resize/111x/-/format/auto/`;
    const accepts = { 'image/avif,image/webp,*/*': 'image/avif', 'image/webp,*/*': 'image/webp', '*/*': 'image/jpeg', 'image/avif;q=0,image/webp': 'image/webp' };
    // Three rounds: the first computes, the later ones are memory hits remembered per URL and Accept.
    for (let round = 0; round < 3; round += 1) {
      for (const [accept, type] of Object.entries(accepts)) {
        const response = await fetch(url, { headers: { accept } });
        expect(response.status).toBe(200);
        expect(response.headers.get('content-type')).toBe(type);
        expect(response.headers.get('vary')).toBe('Accept');
        expect(response.headers.get('etag')).toContain(type === 'image/jpeg' ? 'auto-basic' : `auto-${type.slice(6)}`);
        expect((await imageOf(response)).meta.width).toBe(111);
      }
    }
    const noAccept = await fetch(url);
    expect(noAccept.headers.get('content-type')).toBe('image/jpeg');
    await noAccept.arrayBuffer();
  });

  it('negotiates format/auto from Accept and says Vary: Accept', async () => {
    const url = `${trove.url}/${photo}/-/preview/200x200/-/format/auto/`;
    const avif = await fetch(url, { headers: { accept: 'image/avif,image/webp,*/*' } });
    expect(avif.headers.get('content-type')).toBe('image/avif');
    expect(avif.headers.get('vary')).toBe('Accept');
    const webp = await fetch(url, { headers: { accept: 'image/webp,*/*' } });
    expect(webp.headers.get('content-type')).toBe('image/webp');
    const plain = await fetch(url, { headers: { accept: '*/*' } });
    expect(plain.headers.get('content-type')).toBe('image/jpeg');
    const alpha = await fetch(`${trove.url}/${logo}/-/resize/100x/-/format/auto/`, { headers: { accept: '*/*' } });
    expect(alpha.headers.get('content-type')).toBe('image/png');
    expect((await imageOf(alpha)).meta.hasAlpha).toBe(true);
  });

  it('reads the trailing slash: the last operation keeps its parameters, with or without a filename', async () => {
    const slash = await imageOf(await fetch(`${trove.url}/${photo}/-/preview/100x100/`));
    expect(Math.max(slash.meta.width, slash.meta.height)).toBe(100);
    const named = await fetch(`${trove.url}/${photo}/-/preview/100x100/thumb.jpg`);
    expect(named.headers.get('content-disposition')).toContain('thumb.jpg');
    expect((await imageOf(named)).meta.width).toBe(100);
  });

  it('crops and scales to an exact box', async () => {
    const response = await fetch(`${trove.url}/${photo}/-/scale_crop/160x160/center/-/format/png/`);
    const { meta } = await imageOf(response);
    expect([meta.width, meta.height, meta.format]).toEqual([160, 160, 'png']);
  });

  it('keeps animation through a resize', async () => {
    const response = await fetch(`${trove.url}/${animation}/-/resize/32x/-/format/gif/`);
    expect(response.status).toBe(200);
    const { meta } = await imageOf(response);
    expect(meta.pages).toBe(3);
    expect(meta.width).toBe(32);
  });

  it('answers -/json/ with image facts', async () => {
    const response = await fetch(`${trove.url}/${photo}/-/json/`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^application\/json/);
    expect(await response.json()).toMatchObject({ width: 1200, height: 800 });
  });

  it('names a bad operation or parameter in a 400', async () => {
    const unknown = await expectDeliveryError(await fetch(`${trove.url}/${photo}/-/levitate/3/`), 400);
    expect(unknown.message).toContain('levitate');
    const bad = await expectDeliveryError(await fetch(`${trove.url}/${photo}/-/resize/800y/`), 400);
    expect(bad.message).toContain('resize');
  });

  it('refuses image operations on a file that is not an image', async () => {
    const error = await expectDeliveryError(await fetch(`${trove.url}/${document}/-/resize/100x/`), 400);
    expect(error.code).toBe('NOT_AN_IMAGE');
  });

  it('refuses a source above the pixel limit before decoding it', async () => {
    const huge = await uploadFile(trove, await makeJpeg({ width: 2500, height: 2000 }), 'huge.jpg');
    const error = await expectDeliveryError(await fetch(`${trove.url}/${huge}/-/resize/100x/`), 422);
    expect(error.code).toBe('SOURCE_TOO_LARGE');
  });

  it('refuses animation bombs from their headers, on every path that would decode them', async () => {
    // 1200 frames on a 2000×2000 canvas in about 28 kB: more frames than the default 1000.
    const manyFrames = gifBomb({ width: 2000, height: 2000, frames: 1200 });
    expect(manyFrames.length).toBeLessThan(30_000);
    const frames = await uploadFile(trove, manyFrames, 'frames.gif');
    // 200 frames of 2000×2000: 800 million pixels to decode, over the default 500 million.
    const pixels = await uploadFile(trove, await webpBomb({ width: 2000, height: 2000, frames: 200 }), 'pixels.webp');
    const tooManyFrames = 'the animation has 1200 frames, more than the 1000 frames allowed';
    const tooManyPixels = 'the animation has 200 frames of 2000×2000 = 800000000 pixels to decode, more than the 500000000 pixels allowed';
    const rejectionsBefore = await metric(trove, 'trove_transform_rejections_total', 'code="SOURCE_TOO_LARGE"');
    const started = performance.now();

    for (const path of [`${frames}/-/resize/100x/-/format/gif/`, `${frames}/-/resize/100x/-/format/jpeg/`, `${frames}/-/json/`, `${frames}/-/main_colors/`, `${photo}/-/overlay/${frames}/`]) {
      const error = await expectDeliveryError(await fetch(`${trove.url}/${path}`), 422);
      expect([path, error.code, error.message]).toEqual([path, 'SOURCE_TOO_LARGE', tooManyFrames]);
    }
    for (const [path, accept] of [[`${pixels}/-/resize/100x/-/format/webp/`, '*/*'], [`${pixels}/-/resize/100x/-/format/auto/`, 'image/webp'], [`${pixels}/-/resize/100x/-/format/gif/-/json/`, '*/*']] as const) {
      const error = await expectDeliveryError(await fetch(`${trove.url}/${path}`, { headers: { accept } }), 422);
      expect([path, error.code, error.message]).toEqual([path, 'SOURCE_TOO_LARGE', tooManyPixels]);
    }
    expect(performance.now() - started).toBeLessThan(5_000);
    // A still decodes one frame, which is within every limit.
    const still = await fetch(`${trove.url}/${pixels}/-/resize/100x/-/format/jpeg/`);
    expect(still.status).toBe(200);
    expect((await imageOf(still)).meta).toMatchObject({ width: 100, format: 'jpeg' });

    const rest = { accept: 'application/vnd.uploadcare-v0.7+json', authorization: `Uploadcare.Simple ${trove.publicKey}:${trove.secretKey}`, 'content-type': 'application/json' };
    const copy = await fetch(`${trove.url}/files/local_copy/`, {
      method: 'POST',
      headers: rest,
      body: JSON.stringify({ source: `${trove.url}/${pixels}/-/resize/100x/-/format/gif/` }),
    });
    expect(copy.status).toBe(422);
    expect(await copy.text()).toContain(tooManyPixels);
    const eager = await fetch(`${trove.url}/files/${frames}/derivatives/`, { method: 'POST', headers: rest, body: JSON.stringify({ operations: ['-/resize/120x/'] }) });
    expect(eager.status).toBe(202);
    // 8 delivery refusals and the copy above, then the background job's.
    const expected = rejectionsBefore + 10;
    for (let waited = 0; waited < 10_000 && (await metric(trove, 'trove_transform_rejections_total', 'code="SOURCE_TOO_LARGE"')) < expected; waited += 100) await sleep(100);
    expect(await metric(trove, 'trove_transform_rejections_total', 'code="SOURCE_TOO_LARGE"')).toBe(expected);
  });

  it('allows a side of 6000 px under the default output limit (8192)', async () => {
    const response = await fetch(`${trove.url}/${photo}/-/resize/6000x40/-/format/jpeg/`);
    expect(response.status).toBe(200);
    expect((await imageOf(response)).meta).toMatchObject({ width: 6000, height: 40 });
  });

  it('refuses a TIFF of very many pages and a HEIF sequence of very many frames from their structure, and takes their uploads quickly', async () => {
    // The bounds leave room for a busy machine; without the structure counters the header reads alone
    // take about 4 s for the two uploads and about 20 s for the refusals.
    // 50 000 pages in 3.9 MB: libvips spends over a second visiting them on every header read.
    const manyPages = manyPageTiff({ pages: 50_000, width: 300, height: 200 }).bytes;
    // Under a kilobyte, declaring 4 million frames: about three seconds of libheif's parsing per read.
    const manyFrames = await avifSequence(4_000_000);
    let started = performance.now();
    const pages = await uploadFile(trove, manyPages, 'pages.tiff');
    const frames = await uploadFile(trove, manyFrames, 'frames.avif');
    expect(performance.now() - started).toBeLessThan(2_500);
    expect((await fileInfo(trove, pages)).image_info).toMatchObject({ format: 'TIFF', width: 300, height: 200, sequence: true });
    expect((await fileInfo(trove, frames)).image_info).toMatchObject({ format: 'AVIF', width: 8, height: 8, sequence: true });

    const refusals = [
      [pages, 'the TIFF has more than the 1000 pages allowed'],
      [frames, 'the image sequence has 4000000 frames, more than the 1000 frames allowed'],
    ] as const;
    started = performance.now();
    for (const [uuid, message] of refusals) {
      for (const path of [`${uuid}/-/resize/100x/`, `${uuid}/-/preview/-/format/jpeg/`, `${uuid}/-/json/`, `${uuid}/-/main_colors/`, `${photo}/-/overlay/${uuid}/`]) {
        const error = await expectDeliveryError(await fetch(`${trove.url}/${path}`), 422);
        expect([path, error.code, error.message]).toEqual([path, 'SOURCE_TOO_LARGE', message]);
      }
    }
    expect(performance.now() - started).toBeLessThan(4_000);
    // The original is still served as it was uploaded.
    const original = await fetch(`${trove.url}/${pages}/`, { method: 'HEAD' });
    expect([original.status, original.headers.get('content-length')]).toEqual([200, String(manyPages.length)]);
  });

  it('runs one transformation for many identical concurrent requests', async () => {
    const url = `${trove.url}/${photo}/-/resize/123x/-/format/webp/`;
    const missesBefore = await metric(trove, 'trove_derivative_cache_total', 'result="miss"');
    const responses = await Promise.all(Array.from({ length: 25 }, () => fetch(url)));
    const etags = new Set(responses.map((r) => r.headers.get('etag')));
    await Promise.all(responses.map((r) => r.arrayBuffer()));
    expect(responses.every((r) => r.status === 200)).toBe(true);
    expect(etags.size).toBe(1);
    expect(await metric(trove, 'trove_derivative_cache_total', 'result="miss"')).toBe(missesBefore + 1);
  });

  it('answers If-None-Match for a derivative in no cache without transforming it or reading storage', async () => {
    const image = await uploadFile(trove, await makeJpeg({ width: 400, height: 300 }), 'revalidated.jpg');
    const url = `${trove.url}/${image}/-/resize/155x/-/format/auto/`;
    const webp = { accept: 'image/webp,*/*' };
    const first = await fetch(url, { headers: webp });
    const etag = first.headers.get('etag')!;
    await first.arrayBuffer();
    await trove.ctx.services.transform.drain();
    // Gone from memory and from the blob store: a full request would transform again.
    await trove.ctx.services.transform.purge(image);

    const { blobs } = trove.ctx;
    const get = blobs.get.bind(blobs);
    const reads: string[] = [];
    blobs.get = (key, range) => {
      reads.push(key);
      return get(key, range);
    };
    const transformationsBefore = await transformations(trove);
    const missesBefore = trove.ctx.metrics.derivativeLookups.miss;
    try {
      for (const method of ['GET', 'HEAD']) {
        const notModified = await fetch(url, { method, headers: { ...webp, 'if-none-match': `"other", ${etag}` } });
        expect(notModified.status).toBe(304);
        expect(notModified.headers.get('etag')).toBe(etag);
        expect(notModified.headers.get('vary')).toBe('Accept');
        expect(notModified.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
      }
      expect(reads).toEqual([]);
    } finally {
      blobs.get = get;
    }
    expect(await transformations(trove)).toBe(transformationsBefore);
    expect(trove.ctx.metrics.derivativeLookups.miss).toBe(missesBefore);

    // Another format class is another derivative with its own ETag: the WebP one does not match it.
    const avif = await fetch(url, { headers: { accept: 'image/avif,image/webp,*/*', 'if-none-match': etag } });
    expect(avif.status).toBe(200);
    expect(avif.headers.get('content-type')).toBe('image/avif');
    await avif.arrayBuffer();
    // Computed again, the derivative has the ETag it had: it comes from the key, not the bytes.
    const again = await fetch(url, { headers: webp });
    expect([again.status, again.headers.get('etag')]).toEqual([200, etag]);
    await again.arrayBuffer();
    expect(await transformations(trove)).toBe(transformationsBefore + 2);

    // What would make the answer differ is still an error, never a 304.
    const foreign = await trove.ctx.services.projects.create({ name: 'another project' });
    const theirs = await uploadFile(trove, await makePngWithAlpha(30, 20), 'theirs.png', {}, { publicKey: foreign.project.publicKey });
    const rest = trove.ctx.config.transform;
    const tagged = (uuid: string, path: string) => ({ 'if-none-match': trove.ctx.services.transform.tagOf(uuid, parseUploadcarePath(path, rest), undefined).etag });
    const overlay = `-/overlay/${theirs}/-/format/png/`;
    expect((await expectDeliveryError(await fetch(`${trove.url}/${image}/${overlay}`, { headers: tagged(image, overlay) }), 400)).message).toContain('not an image of this project');
    expect((await expectDeliveryError(await fetch(`${trove.url}/${document}/-/resize/10x/`, { headers: tagged(document, '-/resize/10x/') }), 400)).code).toBe('NOT_AN_IMAGE');
    const deleted = await fetch(`${trove.url}/files/${image}/storage/`, {
      method: 'DELETE',
      headers: { accept: 'application/vnd.uploadcare-v0.7+json', authorization: `Uploadcare.Simple ${trove.publicKey}:${trove.secretKey}` },
    });
    expect(deleted.status).toBe(200);
    await expectDeliveryError(await fetch(url, { headers: { ...webp, 'if-none-match': etag } }), 404);
  });

  it('serves from the blob store (L2) after the memory tier is gone', async () => {
    const url = `${trove.url}/${photo}/-/resize/77x/-/format/png/`;
    const first = await fetch(url);
    const bytes = Buffer.from(await first.arrayBuffer());
    await trove.ctx.services.transform.drain();
    const l2Before = await metric(trove, 'trove_derivative_cache_total', 'result="l2"');
    trove.ctx.services.transform.clearMemoryTier();
    const again = await fetch(url);
    expect(Buffer.from(await again.arrayBuffer()).equals(bytes)).toBe(true);
    expect(await metric(trove, 'trove_derivative_cache_total', 'result="l2"')).toBe(l2Before + 1);
  });

  it('serves the original when re-encoding without geometry would only make it bigger', async () => {
    const tiny = await sharp({ create: { width: 8, height: 8, channels: 3, background: '#336699' } }).png({ compressionLevel: 9 }).toBuffer();
    const uuid = await uploadFile(trove, tiny, 'tiny.png');
    const response = await fetch(`${trove.url}/${uuid}/-/quality/best/-/format/png/`);
    expect(Buffer.from(await response.arrayBuffer()).length).toBeLessThanOrEqual(tiny.length);
  });

  it('forgets derivatives of a file that expired', async () => {
    const temporary = await uploadFile(trove, await makeJpeg({ width: 400, height: 300 }), 't.jpg', { UPLOADCARE_STORE: '0' });
    const url = `${trove.url}/${temporary}/-/resize/50x/-/format/jpeg/`;
    const response = await fetch(url);
    expect(response.headers.get('cache-control')).toBe('public, max-age=600');
    await response.arrayBuffer();
    trove.clock.advance(25 * 3_600_000);
    await trove.ctx.services.sweeper.sweep();
    expect((await fetch(url)).status).toBe(404);
  });
});

/** TROVE_MAX_OUTPUT_DIMENSION is the one limit on requested sides: the URL parser is given it too. */
describe.each(backends)('a configured output limit (%s)', (backend) => {
  let trove: TestTrove;
  let photo: string;

  beforeAll(async () => {
    trove = await startTrove({ backend, env: { TROVE_MAX_OUTPUT_DIMENSION: '4000' } });
    photo = await uploadFile(trove, await makeJpeg({ width: 600, height: 400 }), 'photo.jpg');
  });

  afterAll(async () => {
    await trove?.close();
  });

  it('refuses a larger side with a 400 naming the limit, on delivery, eager derivatives and copies', async () => {
    const message = 'resize: width 6000 is larger than the 4000 px allowed per side.';
    const error = await expectDeliveryError(await fetch(`${trove.url}/${photo}/-/resize/6000x40/-/format/jpeg/`), 400);
    expect([error.code, error.message]).toEqual(['INVALID_OPERATION', message]);
    const rest = { accept: 'application/vnd.uploadcare-v0.7+json', authorization: `Uploadcare.Simple ${trove.publicKey}:${trove.secretKey}`, 'content-type': 'application/json' };
    const eager = await fetch(`${trove.url}/files/${photo}/derivatives/`, { method: 'POST', headers: rest, body: JSON.stringify({ operations: ['-/resize/6000x40/'] }) });
    expect(eager.status).toBe(400);
    expect(((await eager.json()) as { detail: string }).detail).toBe(`operations[0]: ${message}`);
    const copy = await fetch(`${trove.url}/files/local_copy/`, { method: 'POST', headers: rest, body: JSON.stringify({ source: `${photo}/-/resize/6000x40/` }) });
    expect(copy.status).toBe(400);
    expect(((await copy.json()) as { detail: string }).detail).toBe('Bad `source` parameter: its CDN operations are not valid.');

    const within = await fetch(`${trove.url}/${photo}/-/resize/4000x40/-/format/jpeg/`);
    expect(within.status).toBe(200);
    expect((await imageOf(within)).meta).toMatchObject({ width: 4000, height: 40 });
  });
});
