import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import http, { type IncomingHttpHeaders } from 'node:http';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { formatVariant } from '../../src/services/transform/accept-variant.js';
import { makeJpeg, makePngWithAlpha } from '../helpers/images.js';
import { startOriginRecorder, type OriginRecorder } from '../helpers/origin-recorder.js';
import { startTrove, type TestTrove } from '../helpers/trove-server.js';
import { sleep, uploadFile } from '../helpers/upload-http.js';
import { describeWhenShield, startShield, type TestShield } from '../helpers/varnish.js';

/** Accept headers real browsers send for images, by the class Trove's format/auto negotiates. */
const BROWSERS = {
  avif: [
    'image/avif,image/webp,image/apng,image/svg+xml,image/*,*/*;q=0.8', // Chrome 120, Edge
    'image/avif,image/webp,*/*', // Firefox 120
    'image/webp,image/avif,image/jxl,image/heic,image/heic-sequence,video/*;q=0.8,image/png,image/svg+xml,image/*;q=0.8,*/*;q=0.5', // Safari 17
  ],
  webp: [
    'image/webp,image/apng,image/*,*/*;q=0.8', // Chrome 80
    'image/webp,*/*', // Firefox 90
    'image/webp,image/png,image/svg+xml,image/*;q=0.8,video/*;q=0.8,*/*;q=0.5', // Safari 14
  ],
  basic: [
    'image/png,image/svg+xml,image/*;q=0.8,video/*;q=0.8,*/*;q=0.5', // Safari 13
    'image/png, image/svg+xml, image/jxr, image/*;q=0.8, */*;q=0.5', // Internet Explorer 11
    '*/*', // curl, old Firefox
  ],
} as const;

interface Answer {
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

/** GET (or another method) with node:http, so header values go out byte for byte (Latin-1) and may repeat. */
function request(url: string, headers: Record<string, string | string[]> = {}, method = 'GET'): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const outgoing = http.request(url, { method, headers, agent: false }, (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('end', () => resolve({ status: response.statusCode ?? 0, headers: response.headers, body: Buffer.concat(chunks) }));
      response.on('error', reject);
    });
    outgoing.setTimeout(10_000, () => outgoing.destroy(new Error(`no answer from ${url}`)));
    outgoing.on('error', reject);
    outgoing.end();
  });
}

function purge(shield: TestShield, headers: Record<string, string>): Promise<Answer> {
  return request(`${shield.url}/`, headers, 'PURGE');
}

async function transformations(trove: TestTrove): Promise<number> {
  const text = await (await fetch(`${trove.url}/metrics`)).text();
  return Number(/^trove_transform_duration_seconds_count (\d+)$/m.exec(text)?.[1] ?? 0);
}

async function eventually(check: () => boolean, withinMs = 3_000): Promise<void> {
  const started = Date.now();
  while (!check()) {
    if (Date.now() - started > withinMs) throw new Error(`not true within ${withinMs} ms`);
    await sleep(25);
  }
}

/** The real shield (deploy/shield, Varnish) in front of a real Trove, with a recorder counting what reaches Trove. */
describeWhenShield('shield cache')('shield cache (Varnish in front of Trove)', () => {
  let trove: TestTrove;
  let origin: OriginRecorder;
  let shield: TestShield;
  /** A second shield whose objects go stale after a second, that caches nothing above 16 KiB and allows no purges from here. */
  let staleOrigin: OriginRecorder;
  let staleShield: TestShield;
  let photo: string;
  let photoBytes: Buffer;
  let logo: string;
  let other: string;
  /** Only the purge test requests this file. */
  let purgeable: string;

  beforeAll(async () => {
    trove = await startTrove();
    [origin, staleOrigin] = await Promise.all([startOriginRecorder(trove.url), startOriginRecorder(trove.url)]);
    // Both shields start while the files upload; whichever started is stopped by afterAll even when the other did not.
    const shields = Promise.allSettled([
      startShield(origin.address),
      startShield(staleOrigin.address, { SHIELD_MAX_TTL: '1s', SHIELD_GRACE: '1h', SHIELD_PURGE_ALLOW: '192.0.2.1/32', SHIELD_MAX_OBJECT_SIZE: '16K' }),
    ]);
    try {
      photoBytes = await makeJpeg({ width: 320, height: 240, noise: true });
      photo = await uploadFile(trove, photoBytes, 'photo.jpg', { UPLOADCARE_STORE: '1' });
      logo = await uploadFile(trove, await makePngWithAlpha(120, 80), 'logo.png', { UPLOADCARE_STORE: '1' });
      other = await uploadFile(trove, await makeJpeg({ width: 200, height: 100 }), 'other.jpg', { UPLOADCARE_STORE: '1' });
      purgeable = await uploadFile(trove, await makeJpeg({ width: 150, height: 100 }), 'purgeable.jpg', { UPLOADCARE_STORE: '1' });
    } finally {
      const [main, stale] = await shields;
      if (main.status === 'fulfilled') shield = main.value;
      if (stale.status === 'fulfilled') staleShield = stale.value;
      for (const started of [main, stale]) if (started.status === 'rejected') throw started.reason;
    }
  });

  afterAll(async () => {
    await Promise.all([shield?.stop(), staleShield?.stop()]);
    await Promise.all([origin?.close(), staleOrigin?.close()]);
    await trove?.close();
  });

  it('hits never reach Trove: originals, derivatives and format/auto under many Accept headers are fetched once per object', async () => {
    const original = `/${photo}/`;
    const derivative = `/${photo}/-/resize/200x/-/format/jpeg/`;
    const auto = `/${photo}/-/resize/160x/-/format/auto/`;
    const transformsBefore = await transformations(trove);

    const originals = [];
    for (let i = 0; i < 4; i++) originals.push(await request(`${shield.url}${original}`));
    expect(originals.map((a) => a.status)).toEqual([200, 200, 200, 200]);
    expect(originals.map((a) => a.headers['x-cache'])).toEqual(['MISS', 'HIT', 'HIT', 'HIT']);
    expect(originals.map((a) => a.headers['x-cache-hits'])).toEqual(['0', '1', '2', '3']);
    for (const answer of originals) expect(answer.body.equals(photoBytes)).toBe(true);

    const derivatives = [];
    for (let i = 0; i < 4; i++) derivatives.push(await request(`${shield.url}${derivative}`));
    expect(derivatives.map((a) => a.headers['x-cache'])).toEqual(['MISS', 'HIT', 'HIT', 'HIT']);
    expect((await sharp(derivatives[3]!.body).metadata()).width).toBe(200);
    for (const answer of derivatives) expect(answer.body.equals(derivatives[0]!.body)).toBe(true);

    // Every browser twice, and a Range request on the original: all from the shield.
    for (const accept of [...BROWSERS.avif, ...BROWSERS.webp, ...BROWSERS.basic, ...BROWSERS.avif, ...BROWSERS.webp, ...BROWSERS.basic]) {
      const answer = await request(`${shield.url}${auto}`, { accept });
      expect(answer.status).toBe(200);
    }
    const range = await request(`${shield.url}${original}`, { range: 'bytes=0-99' });
    expect(range.status).toBe(206);
    expect(range.body.equals(photoBytes.subarray(0, 100))).toBe(true);

    expect(origin.count(original)).toBe(1);
    expect(origin.count(derivative)).toBe(1);
    // One per Accept class, however many browsers asked.
    expect(origin.count(auto)).toBe(3);
    // Trove's own count agrees: one transformation for the derivative, one per class for format/auto.
    expect((await transformations(trove)) - transformsBefore).toBe(4);
  });

  it('sends Trove one canonical Accept per class, and each class gets its format from one shared object', async () => {
    const url = `/${photo}/-/resize/100x/-/format/auto/`;
    const expected = { avif: 'image/avif', webp: 'image/webp', basic: 'image/jpeg' } as const;
    for (const [name, accepts] of Object.entries(BROWSERS) as [keyof typeof BROWSERS, readonly string[]][]) {
      const before = origin.count(url);
      const answers = [];
      for (const accept of accepts) answers.push(await request(`${shield.url}${url}`, { accept }));
      expect(answers.map((a) => a.headers['content-type'])).toEqual(accepts.map(() => expected[name]));
      expect(answers.map((a) => a.headers['x-cache'])).toEqual(['MISS', 'HIT', 'HIT']);
      expect(answers.map((a) => a.headers.vary)).toEqual(['Accept', 'Accept', 'Accept']);
      expect(answers[1]!.body.equals(answers[0]!.body) && answers[2]!.body.equals(answers[0]!.body)).toBe(true);
      expect(answers.map((a) => a.headers.etag)).toEqual(accepts.map(() => expect.stringMatching(new RegExp(`-auto-${name}"$`))));
      expect((await sharp(answers[0]!.body).metadata()).format).toBe(name === 'basic' ? 'jpeg' : name === 'avif' ? 'heif' : 'webp');
      expect(origin.count(url)).toBe(before + 1);
    }
    const seen = origin.requests.filter((r) => r.url === url).map((r) => r.headers.accept);
    expect(seen).toEqual(['image/avif,image/webp', 'image/webp', '*/*']);
  });

  it("classes every Accept header exactly as Trove's formatVariant does (q=0, case, spacing, first occurrence, odd numbers)", async () => {
    const url = `/${other}/-/resize/50x/-/format/auto/`;
    const cases: (string | string[])[] = [
      '',
      'IMAGE/AVIF',
      ' image/avif ;q=0.5',
      'image/avif;q=0',
      'image/avif;Q=0,image/webp',
      'image/avif;q=0.000, image/avif',
      'image/avif; level=1; q=0',
      'image/avif;q=0;q=1',
      'image/avif;q=1;q=0',
      'image/avif;q=',
      'image/avif;q',
      'image/avif;q=abc',
      'image/avif;q=-1',
      'image/avif;q=+.5',
      'image/avif;q=1.',
      'image/avif;q=.',
      'image/avif;q=1e3',
      'image/avif;q=0e5',
      'image/avif;q=1e-5',
      'image/avif;q=0x1',
      'image/avif;q=0X0',
      'image/avif;q=0o7',
      'image/avif;q=0b0',
      'image/avif;q=0b10',
      'image/avif;q=1_0',
      'image/avif;q=Infinity',
      'image/avif;q= 0.5 ',
      'image/avif;q=0 ',
      'image/avif;qq=0',
      'image/avif \xa0;\xa0q=0.5',
      'image/avif\xa0',
      'image/avif;q=\xa00\xa0',
      'image/avifx,image/webp;q=0.2',
      'image/avif2, image/WebP;q=0',
      'text/html;image/avif,image/webp;q=0',
      'image/*',
      '*/*;q=1, image/*',
      ',,image/webp',
      'image/webp;q=0.001',
      'image/webp;q=00.0e1',
      'image/webp;charset=x;q=0,image/avif;q=0',
      ['image/png', 'image/webp'],
      ['image/avif;q=0', 'image/avif'],
    ];
    for (const accept of cases) {
      const answer = await request(`${shield.url}${url}`, { accept });
      const joined = Array.isArray(accept) ? accept.join(', ') : accept;
      // Node reads a header as Latin-1 and joins repeated Accept headers with ", ", as Trove receives them.
      const variant = formatVariant('auto', joined);
      expect({ accept: joined, status: answer.status, etag: answer.headers.etag }).toEqual({
        accept: joined,
        status: 200,
        etag: expect.stringMatching(new RegExp(`-${variant}"$`)),
      });
    }
    expect(origin.count(url)).toBeLessThanOrEqual(3);
  });

  it('agrees with formatVariant on 400 Accept headers put together at random from the pieces that matter', async () => {
    const url = `/${other}/-/resize/50x/-/format/auto/`;
    let seed = 20_261_203;
    const pick = <T,>(items: readonly T[]): T => {
      seed = (seed * 1_103_515_245 + 12_345) % 2_147_483_648;
      return items[(seed >>> 16) % items.length]!;
    };
    const spaces = ['', '', ' ', '\t', '\xa0', '  '];
    const types = ['image/avif', 'image/webp', 'IMAGE/AVIF', 'Image/WebP', 'image/png', 'image/*', '*/*', 'image/avifs', 'text/html'];
    const qs = ['0', '1', '0.5', '0.000', '.5', '+1', '-1', '', 'abc', '1e-2', '0e1', '0x0', '0x10', '0b1', '0o0', 'Infinity', ' 0 ', '1.', '00'];
    const params = () => pick([';q=', ';Q=', '; q=', ';level=1;q=', ';q=1;q=']) + pick(qs);
    const cases: string[] = [];
    for (let i = 0; i < 400; i++) {
      const parts: string[] = [];
      const count = 1 + (i % 4);
      for (let p = 0; p < count; p++) {
        const withParams = pick([true, false, false]);
        parts.push(`${pick(spaces)}${pick(types)}${pick(spaces)}${withParams ? params() : ''}${pick(spaces)}`);
      }
      cases.push(parts.join(pick([',', ', ', ',,'])));
    }
    const mismatches: string[] = [];
    for (const accept of cases) {
      const answer = await request(`${shield.url}${url}`, { accept });
      const variant = formatVariant('auto', accept);
      if (!String(answer.headers.etag).endsWith(`-${variant}"`)) mismatches.push(`${JSON.stringify(accept)}: ${answer.headers.etag} (Trove: ${variant})`);
    }
    expect(mismatches).toEqual([]);
    // Every class was seen at least once, so the comparison covered all three.
    expect(new Set(cases.map((accept) => formatVariant('auto', accept)))).toEqual(new Set(['auto-avif', 'auto-webp', 'auto-basic']));
  });

  it('sends one request per key to Trove while the others wait (request coalescing)', async () => {
    const url = `/${photo}/-/resize/90x/-/format/png/`;
    origin.delayMs = 400;
    try {
      const answers = await Promise.all(Array.from({ length: 20 }, () => request(`${shield.url}${url}`)));
      expect(answers.map((a) => a.status)).toEqual(answers.map(() => 200));
      for (const answer of answers) expect(answer.body.equals(answers[0]!.body)).toBe(true);
      expect(answers.filter((a) => a.headers['x-cache'] === 'MISS')).toHaveLength(1);
    } finally {
      origin.delayMs = 0;
    }
    expect(origin.count(url)).toBe(1);
  });

  it('serves the stale object when Trove answers 5xx or is down, and keeps trying in the background', async () => {
    const url = `/${photo}/-/resize/40x/-/format/jpeg/`;
    const fresh = await request(`${staleShield.url}${url}`);
    expect(fresh.status).toBe(200);
    expect(fresh.headers['cache-control']).toBe('public, max-age=31536000, immutable');
    await sleep(1_300); // past SHIELD_MAX_TTL=1s, within SHIELD_GRACE=1h
    try {
      staleOrigin.mode = 'error';
      const during5xx = await request(`${staleShield.url}${url}`);
      expect(during5xx.status).toBe(200);
      expect(during5xx.body.equals(fresh.body)).toBe(true);
      // The refresh went to the origin, got a 503, and was abandoned: the stale copy stays.
      await eventually(() => staleOrigin.count(url) === 2);
      await sleep(100);
      const after5xx = await request(`${staleShield.url}${url}`);
      expect(after5xx.status).toBe(200);
      expect(after5xx.body.equals(fresh.body)).toBe(true);
      await eventually(() => staleOrigin.count(url) === 3);
      await sleep(100);

      // A 429 (the project's miss budget spent) keeps the stale copy too.
      staleOrigin.errorStatus = 429;
      const during429 = await request(`${staleShield.url}${url}`);
      expect([during429.status, during429.body.equals(fresh.body)]).toEqual([200, true]);
      await eventually(() => staleOrigin.count(url) === 4);
      await sleep(100);
      const after429 = await request(`${staleShield.url}${url}`);
      expect([after429.status, after429.body.equals(fresh.body)]).toEqual([200, true]);
      staleOrigin.errorStatus = 503;

      staleOrigin.mode = 'drop';
      const whileDown = await request(`${staleShield.url}${url}`);
      expect(whileDown.status).toBe(200);
      expect(whileDown.body.equals(fresh.body)).toBe(true);
      expect(whileDown.headers['x-cache']).toBe('HIT');

      // Without a stale copy, an origin error reaches the client and is not cached.
      const uncached = `/${photo}/-/resize/41x/-/format/jpeg/`;
      staleOrigin.mode = 'error';
      expect((await request(`${staleShield.url}${uncached}`)).status).toBe(503);
      staleOrigin.mode = 'forward';
      expect((await request(`${staleShield.url}${uncached}`)).status).toBe(200);
    } finally {
      staleOrigin.mode = 'forward';
      staleOrigin.errorStatus = 503;
    }
    // Once Trove is back, the next refresh replaces the stale object.
    const countBefore = staleOrigin.count(url);
    await request(`${staleShield.url}${url}`);
    await eventually(() => staleOrigin.count(url) === countBefore + 1);
  });

  it('ignores cookies and tracking parameters, keeps other parameters, and never caches or forwards Set-Cookie', async () => {
    const path = `/${photo}/-/resize/120x/-/format/jpeg/`;
    const first = await request(`${shield.url}${path}?utm_source=news&utm_medium=mail&fbclid=abc`, { cookie: 'session=1; _ga=x' });
    expect(first.status).toBe(200);
    const second = await request(`${shield.url}${path}?gclid=x&_ga=1.2&msclkid=y&mc_cid=1&mc_eid=2&ref=twitter&UTM_Campaign=z`, {
      cookie: 'session=2',
    });
    expect(second.headers['x-cache']).toBe('HIT');
    expect(second.body.equals(first.body)).toBe(true);
    expect(origin.count(path)).toBe(1);
    const reached = origin.requests.find((r) => r.url === path)!;
    expect(reached.headers.cookie).toBeUndefined();

    const kept = await request(`${shield.url}${path}?utm_campaign=x&keep=1&ref_src=y&fbclid`);
    expect(kept.headers['x-cache']).toBe('MISS');
    expect(origin.count(`${path}?keep=1`)).toBe(1);

    const emptied = await request(`${shield.url}${path}?`);
    expect(emptied.headers['x-cache']).toBe('HIT');

    origin.extraHeaders.set(`/${logo}/`, { 'set-cookie': 'tracker=1; Path=/' });
    try {
      const answers = [await request(`${shield.url}/${logo}/`), await request(`${shield.url}/${logo}/`)];
      expect(answers.map((a) => a.headers['set-cookie'])).toEqual([undefined, undefined]);
      expect(answers.map((a) => a.headers['x-cache'])).toEqual(['MISS', 'HIT']);
      expect(origin.count(`/${logo}/`)).toBe(1);
    } finally {
      origin.extraHeaders.delete(`/${logo}/`);
    }
  });

  it("purges by tag: the file tag read from the URL, and the tags of Trove's Surrogate-Key", async () => {
    const urls = [`/${purgeable}/`, `/${purgeable}/-/resize/80x/-/format/jpeg/`, `/${purgeable}/-/resize/80x/-/format/auto/`];
    const keep = `/${photo}/-/resize/200x/-/format/jpeg/`;
    // Without Trove's Surrogate-Key the shield tags these by the file named in the URL.
    origin.extraHeaders.set(`/${purgeable}/`, { 'surrogate-key': undefined, 'cache-tag': undefined });
    for (const url of [...urls, keep]) await request(`${shield.url}${url}`, { accept: BROWSERS.avif[0] });
    await request(`${shield.url}${urls[2]}`, { accept: BROWSERS.webp[0] });
    for (const url of urls) expect((await request(`${shield.url}${url}`, { accept: BROWSERS.avif[1] })).headers['x-cache']).toBe('HIT');

    const purged = await purge(shield, { 'xkey-purge': `f:${purgeable.toUpperCase()} f:${purgeable} f:unknown` });
    expect(purged.status).toBe(200);
    expect(purged.headers['content-type']).toBe('application/json');
    // The original, the JPEG derivative and two format/auto variants (avif and webp).
    expect(JSON.parse(purged.body.toString())).toEqual({ purged: 4 });
    origin.extraHeaders.delete(`/${purgeable}/`);
    const before = urls.map((url) => origin.count(url));
    for (const url of urls) expect((await request(`${shield.url}${url}`, { accept: BROWSERS.avif[2] })).headers['x-cache']).toBe('MISS');
    expect(urls.map((url) => origin.count(url))).toEqual(before.map((n) => n + 1));
    expect((await request(`${shield.url}${keep}`)).headers['x-cache']).toBe('HIT');

    // Trove's own tags (Surrogate-Key, space-separated) are indexed too, and stay on the answer.
    const tagged = `/${logo}/-/resize/60x/-/format/png/`;
    origin.extraHeaders.set(tagged, { 'surrogate-key': `p:project-1 f:${logo} v:${logo}/abc-png`, 'cache-tag': 'p:project-1' });
    try {
      const answer = await request(`${shield.url}${tagged}`);
      expect(answer.headers['surrogate-key']).toBe(`p:project-1 f:${logo} v:${logo}/abc-png`);
      expect(answer.headers['cache-tag']).toBe('p:project-1');
      expect(answer.headers.xkey).toBeUndefined();
    } finally {
      origin.extraHeaders.delete(tagged);
    }
    expect(JSON.parse((await purge(shield, { 'xkey-purge': `v:${logo}/abc-png` })).body.toString())).toEqual({ purged: 1 });
    expect((await request(`${shield.url}${tagged}`)).headers['x-cache']).toBe('MISS');
    expect(JSON.parse((await purge(shield, { 'xkey-purge': 'p:unknown' })).body.toString())).toEqual({ purged: 0 });

    // A soft purge keeps the object for grace: it is served once more while Trove is asked again.
    const soft = await purge(shield, { 'xkey-purge': `f:${photo}`, 'xkey-soft': '1' });
    expect(soft.status).toBe(200);
    expect(JSON.parse(soft.body.toString()).purged).toBeGreaterThan(0);
    const countBefore = origin.count(keep);
    const stale = await request(`${shield.url}${keep}`);
    expect([stale.status, stale.headers['x-cache']]).toEqual([200, 'HIT']);
    await eventually(() => origin.count(keep) === countBefore + 1);
  });

  it('refuses a purge without tags (400) and from an address outside SHIELD_PURGE_ALLOW (403)', async () => {
    const missing = await purge(shield, {});
    expect(missing.status).toBe(400);
    expect(JSON.parse(missing.body.toString()).detail).toContain('Xkey-Purge');
    expect((await purge(shield, { 'xkey-purge': ' , ' })).status).toBe(400);
    // A purge is a purge on every path, the health path included.
    const onHealth = await request(`${shield.url}/shield-health`, { 'xkey-purge': 'p:nothing' }, 'PURGE');
    expect([onHealth.status, onHealth.body.toString()]).toEqual([200, '{"purged": 0}']);
    const refused = await purge(staleShield, { 'xkey-purge': `f:${photo}` });
    expect(refused.status).toBe(403);
    expect(JSON.parse(refused.body.toString()).detail).toContain('may not purge');
    expect(origin.requests.some((r) => r.method === 'PURGE') || staleOrigin.requests.some((r) => r.method === 'PURGE')).toBe(false);
  });

  it('caches only what Trove says is cacheable: no Authorization, no other methods, no errors but a short 404', async () => {
    const url = `/${logo}/`;
    const authorized = [
      await request(`${shield.url}${url}`, { authorization: 'Uploadcare.Simple a:b' }),
      await request(`${shield.url}${url}`, { authorization: 'Uploadcare.Simple a:b' }),
    ];
    expect(authorized.map((a) => a.headers['x-cache'])).toEqual(['PASS', 'PASS']);
    const before = origin.count(url);
    await request(`${shield.url}${url}`, {}, 'POST');
    await request(`${shield.url}${url}`, {}, 'POST');
    expect(origin.count(url)).toBe(before + 2);

    const missing = '/00000000-0000-4000-8000-000000000000/';
    expect((await request(`${shield.url}${missing}`)).status).toBe(404);
    expect((await request(`${shield.url}${missing}`)).status).toBe(404);
    expect(origin.count(missing)).toBe(1);

    const invalid = `/${logo}/-/resize/abc/`;
    const refusals = [await request(`${shield.url}${invalid}`), await request(`${shield.url}${invalid}`)];
    expect(refusals.map((a) => a.status)).toEqual([400, 400]);
    expect(origin.count(invalid)).toBe(2);

    const noStore = `/${logo}/-/resize/30x/-/format/png/`;
    origin.extraHeaders.set(noStore, { 'cache-control': 'no-store' });
    try {
      await request(`${shield.url}${noStore}`);
      await request(`${shield.url}${noStore}`);
    } finally {
      origin.extraHeaders.delete(noStore);
    }
    expect(origin.count(noStore)).toBe(2);

    const failing = `/${logo}/-/resize/31x/-/format/png/`;
    origin.mode = 'error';
    try {
      expect((await request(`${shield.url}${failing}`)).status).toBe(503);
      expect((await request(`${shield.url}${failing}`)).status).toBe(503);
    } finally {
      origin.mode = 'forward';
    }
    expect(origin.count(failing)).toBe(2);
  });

  it('answers HEAD from the cached object, and streams objects above SHIELD_MAX_OBJECT_SIZE through without caching them', async () => {
    const small = `/${logo}/-/resize/20x/-/format/png/`;
    const head = await request(`${shield.url}${small}`, {}, 'HEAD');
    expect([head.status, head.headers['x-cache'], head.body.length]).toEqual([200, 'MISS', 0]);
    const get = await request(`${shield.url}${small}`);
    expect([get.status, get.headers['x-cache'], Number(get.headers['content-length'])]).toEqual([200, 'HIT', get.body.length]);
    expect(origin.requests.filter((r) => r.url === small).map((r) => r.method)).toEqual(['GET']);

    expect(photoBytes.length).toBeGreaterThan(16 * 1024);
    const large = `/${photo}/`;
    const answers = [await request(`${staleShield.url}${large}`), await request(`${staleShield.url}${large}`)];
    expect(answers.map((a) => [a.status, a.headers['x-cache'], a.body.equals(photoBytes)])).toEqual([
      [200, 'PASS', true],
      [200, 'PASS', true],
    ]);
    const range = await request(`${staleShield.url}${large}`, { range: 'bytes=10-19' });
    expect(range.status).toBe(206);
    expect(range.body.equals(photoBytes.subarray(10, 20))).toBe(true);
    expect(staleOrigin.count(large)).toBe(3);
    expect(staleOrigin.requests.filter((r) => r.url === large).at(-1)?.headers.range).toBe('bytes=10-19');
  });

  it('answers /shield-health itself', async () => {
    const before = origin.requests.length;
    const health = await request(`${shield.url}/shield-health`);
    expect([health.status, health.body.toString()]).toEqual([200, 'ok']);
    expect(origin.requests.length).toBe(before);
  });
});

const START_SCRIPT = fileURLToPath(new URL('../../deploy/shield/start.sh', import.meta.url));

/** Runs the start script in a way that must fail before varnishd is started; resolves with its exit code and stderr. */
function refusedStart(env: Record<string, string>): Promise<{ code: number; stderr: string }> {
  return new Promise((resolve) => {
    execFile('bash', [START_SCRIPT], { env: { ...process.env, SHIELD_WORK_DIR: '/nonexistent/trove-shield', ...env }, timeout: 10_000 }, (error, _stdout, stderr) => {
      resolve({ code: typeof error?.code === 'number' ? error.code : 0, stderr });
    });
  });
}

describe('shield start script (deploy/shield/start.sh)', () => {
  it('refuses to start, saying what to install, without varnishd or without the xkey vmod', async () => {
    const noVarnish = await refusedStart({ SHIELD_VARNISHD: '/nonexistent/varnishd' });
    expect(noVarnish.code).toBe(1);
    expect(noVarnish.stderr).toContain('varnishd was not found (looked at /nonexistent/varnishd)');
    expect(noVarnish.stderr).toContain('apt-get install varnish varnish-modules');
    // /bin/true stands in for varnishd: the script must stop at the vmod check, before running anything.
    const noXkey = await refusedStart({ SHIELD_VARNISHD: '/bin/true', SHIELD_VMOD_PATH: '/nonexistent/vmods' });
    expect(noXkey.code).toBe(1);
    expect(noXkey.stderr).toContain('the xkey vmod (libvmod_xkey.so) was not found in /nonexistent/vmods');
    expect(noXkey.stderr).toContain('apt-get install varnish-modules');
  });

  it.skipIf(process.getuid?.() !== 0)("refuses, as root, a working directory that Varnish's unprivileged users cannot enter", async () => {
    const closed = await mkdtemp(path.join(tmpdir(), 'trove-shield-closed-')); // mode 0700
    try {
      const refused = await refusedStart({ SHIELD_VARNISHD: '/nonexistent/varnishd', SHIELD_WORK_DIR: path.join(closed, 'shield') });
      expect(refused.code).toBe(1);
      expect(refused.stderr).toContain(`${closed} may not be entered by others`);
    } finally {
      await rm(closed, { recursive: true, force: true });
    }
  });

  it.each([
    [{ SHIELD_MAX_TTL: '1 day' }, 'SHIELD_MAX_TTL=1 day is not a duration'],
    [{ SHIELD_GRACE: '-5s' }, 'SHIELD_GRACE=-5s is not a duration'],
    [{ TROVE_ORIGIN: 'http://127.0.0.1:3000' }, 'TROVE_ORIGIN=http://127.0.0.1:3000 is not host:port'],
    [{ SHIELD_PURGE_ALLOW: '127.0.0.1/32,everyone' }, "SHIELD_PURGE_ALLOW entry 'everyone' is not an IP address or CIDR"],
    [{ SHIELD_PURGE_ALLOW: ' , ' }, 'SHIELD_PURGE_ALLOW is empty'],
    [{ SHIELD_MAX_OBJECT_SIZE: '64 MB' }, 'SHIELD_MAX_OBJECT_SIZE=64 MB is not a size'],
  ])('refuses a bad value: %o', async (env, message) => {
    // Settings are checked before anything is looked for or started.
    const refused = await refusedStart({ SHIELD_VARNISHD: '/nonexistent/varnishd', ...env });
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain(message);
    expect(refused.stderr).not.toContain('varnishd was not found');
  });
});
