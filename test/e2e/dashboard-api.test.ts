import http, { type IncomingHttpHeaders } from 'node:http';
import { brotliDecompressSync, gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { availableBackends } from '../helpers/backends.js';
import { makeJpeg } from '../helpers/images.js';
import { startTrove, type TestTrove } from '../helpers/trove-server.js';
import { expectDeliveryError, uploadFile } from '../helpers/upload-http.js';
import { DEFAULT_TRANSFORM, transformIssues, transformUrl } from '../../web/dashboard/lib/transform-url.js';

const backends = await availableBackends();
const REST_ACCEPT = 'application/vnd.uploadcare-v0.7+json';
const ADMIN_PASSWORD = 'correct horse battery staple';

/** A browser's view of Trove: one cookie jar, the CSRF token it learnt at sign-in. */
class Browser {
  private static made = 0;
  cookie: string | null = null;
  csrf: string | null = null;
  /** Each browser signs in from an address of its own (the server trusts X-Forwarded-For here), as sign-ins are throttled per address. */
  private readonly address = `10.0.${Math.floor(Browser.made / 250)}.${(Browser.made++ % 250) + 1}`;

  constructor(private readonly base: string) {}

  async signIn(body: Record<string, unknown>): Promise<Response> {
    const response = await fetch(`${this.base}/dashboard/api/session`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-forwarded-for': this.address },
      body: JSON.stringify(body),
    });
    const setCookie = response.headers.get('set-cookie');
    if (response.ok && setCookie) {
      this.cookie = setCookie.split(';')[0]!;
      this.csrf = ((await response.clone().json()) as { csrf_token: string }).csrf_token;
    }
    return response;
  }

  /** A REST or session call with the cookie and, unless told otherwise, the CSRF header. */
  call(path: string, init: { method?: string; body?: unknown; csrf?: string | null; accept?: string } = {}): Promise<Response> {
    const headers: Record<string, string> = { accept: init.accept ?? REST_ACCEPT };
    if (this.cookie) headers.cookie = this.cookie;
    const csrf = init.csrf === undefined ? this.csrf : init.csrf;
    if (csrf) headers['x-csrf-token'] = csrf;
    if (init.body !== undefined) headers['content-type'] = 'application/json';
    return fetch(`${this.base}${path}`, {
      method: init.method ?? 'GET',
      headers,
      ...(init.body !== undefined ? { body: JSON.stringify(init.body) } : {}),
    });
  }

  async json<T>(path: string, init: Parameters<Browser['call']>[1] = {}, status = 200): Promise<T> {
    const response = await this.call(path, init);
    const text = await response.text();
    expect(response.status, `${init.method ?? 'GET'} ${path}: ${text}`).toBe(status);
    return (text ? JSON.parse(text) : null) as T;
  }
}

/** A GET without fetch's automatic decompression, to see the bytes as sent. */
function rawGet(url: string, headers: Record<string, string>): Promise<{ status: number; headers: IncomingHttpHeaders; body: Buffer }> {
  return new Promise((resolve, reject) => {
    http
      .get(url, { headers }, (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('end', () => resolve({ status: response.statusCode ?? 0, headers: response.headers, body: Buffer.concat(chunks) }));
      })
      .on('error', reject);
  });
}

interface RestFile {
  uuid: string;
  original_filename: string;
  tags: string[];
  metadata: Record<string, string>;
}

interface FileList {
  next: string | null;
  total: number;
  results: RestFile[];
}

describe.each(backends)('dashboard session and REST extensions (%s)', (backend) => {
  let trove: TestTrove;
  let browser: Browser;
  const uuids: Record<string, string> = {};

  beforeAll(async () => {
    // A side limit other than the default, to see the page take the server's own.
    trove = await startTrove({ backend, env: { TROVE_ADMIN_PASSWORD: ADMIN_PASSWORD, TROVE_TRUST_PROXY: 'true', TROVE_MAX_OUTPUT_DIMENSION: '6000' } });
    const jpeg = await makeJpeg({ width: 64, height: 48 });
    uuids.cat = await uploadFile(trove, jpeg, 'Cat_Photo.jpg', { 'metadata[subject]': 'kitten', tags: 'pets,cats', UPLOADCARE_STORE: '1' });
    uuids.dog = await uploadFile(trove, jpeg, 'dog.jpg', { tags: 'pets', UPLOADCARE_STORE: '0' });
    uuids.pdf = await uploadFile(trove, Buffer.from('%PDF-1.4\n%%EOF\n'), 'report_100%.pdf', { UPLOADCARE_STORE: '1' });
    browser = new Browser(trove.url);
    const response = await browser.signIn({ pub_key: trove.publicKey, secret_key: trove.secretKey });
    expect(response.status).toBe(200);
  }, 60_000);

  afterAll(async () => {
    await trove?.close();
  });

  describe('session', () => {
    it('sets an HTTP-only, same-site cookie and tells the page its CSRF token', async () => {
      const other = new Browser(trove.url);
      const response = await other.signIn({ pub_key: trove.publicKey, secret_key: trove.secretKey });
      const cookie = response.headers.get('set-cookie') ?? '';
      expect(cookie).toMatch(/^trove_session=[A-Za-z0-9_-]{40,}; Path=\/; HttpOnly; SameSite=Strict; Max-Age=43200$/);
      const info = (await response.json()) as { admin: boolean; csrf_token: string; project: { pub_key: string } };
      expect(info).toMatchObject({ admin: false, project: { pub_key: trove.publicKey } });
      expect(JSON.stringify(info)).not.toContain(trove.secretKey);
      const again = await other.json<{ csrf_token: string }>('/dashboard/api/session', { accept: 'application/json', csrf: null });
      expect(again.csrf_token).toBe(info.csrf_token);
    });

    it('refuses wrong keys, unknown projects and malformed bodies with a clear message', async () => {
      const stranger = new Browser(trove.url);
      for (const body of [
        { pub_key: trove.publicKey, secret_key: 'nope' },
        { pub_key: 'no-such-project', secret_key: trove.secretKey },
      ]) {
        const response = await stranger.signIn(body);
        expect(response.status).toBe(401);
        expect(response.headers.get('set-cookie')).toBeNull();
        expect(((await response.json()) as { message: string }).message).toBe('Wrong public key or secret key.');
      }
      for (const body of [{}, { pub_key: trove.publicKey }, { secret_key: 1, pub_key: 'x' }, { password: '' }]) {
        const response = await stranger.signIn(body);
        expect(response.status).toBe(400);
        expect(((await response.json()) as { message: string }).message).toMatch(/pub_key|secret_key|password/);
      }
      const notJson = await fetch(`${trove.url}/dashboard/api/session`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{' });
      expect(notJson.status).toBe(400);
    });

    it('needs the CSRF token on every REST call made with the cookie, reads too', async () => {
      for (const csrf of [null, 'wrong-token']) {
        const read = await browser.call('/files/', { csrf });
        expect(read.status).toBe(403);
        expect(((await read.json()) as { detail: string }).detail).toMatch(/X-CSRF-Token/);
        const write = await browser.call(`/files/${uuids.dog}/storage/`, { method: 'PUT', csrf });
        expect(write.status).toBe(403);
      }
      const info = await browser.json<RestFile>(`/files/${uuids.dog}/`);
      expect(info.uuid).toBe(uuids.dog);
    });

    it('a made-up or expired cookie is a 401, not a session', async () => {
      const forged = new Browser(trove.url);
      forged.cookie = 'trove_session=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA';
      forged.csrf = browser.csrf;
      expect((await forged.call('/files/')).status).toBe(401);
      expect((await forged.call('/dashboard/api/session', { accept: 'application/json' })).status).toBe(401);

      const later = new Browser(trove.url);
      await later.signIn({ pub_key: trove.publicKey, secret_key: trove.secretKey });
      trove.clock.advance(12 * 3_600_000 + 1_000);
      try {
        expect((await later.call('/files/')).status).toBe(401);
      } finally {
        trove.clock.advance(-(12 * 3_600_000 + 1_000));
      }
    });

    it('signing out ends the session for good', async () => {
      const leaving = new Browser(trove.url);
      await leaving.signIn({ pub_key: trove.publicKey, secret_key: trove.secretKey });
      expect((await leaving.call('/dashboard/api/session', { method: 'DELETE', accept: 'application/json', csrf: null })).status).toBe(403);
      const out = await leaving.call('/dashboard/api/session', { method: 'DELETE', accept: 'application/json' });
      expect(out.status).toBe(204);
      expect(out.headers.get('set-cookie')).toMatch(/^trove_session=; .*Max-Age=0/);
      expect((await leaving.call('/files/')).status).toBe(401);
    });

    it('the admin password opens every project and may switch between them; a key session may not', async () => {
      const second = await trove.ctx.services.projects.create({ name: 'Second project' });
      const admin = new Browser(trove.url);
      expect((await admin.signIn({ password: 'wrong password!' })).status).toBe(401);
      const signedIn = await admin.signIn({ password: ADMIN_PASSWORD });
      expect(signedIn.status).toBe(200);
      const info = (await signedIn.json()) as { admin: boolean; projects: Array<{ pub_key: string }> };
      expect(info.admin).toBe(true);
      expect(info.projects.map((p) => p.pub_key)).toEqual(expect.arrayContaining([trove.publicKey, second.project.publicKey]));

      const switched = await admin.json<{ project: { pub_key: string } }>('/dashboard/api/session', {
        method: 'PUT',
        accept: 'application/json',
        body: { pub_key: second.project.publicKey },
      });
      expect(switched.project.pub_key).toBe(second.project.publicKey);
      const list = await admin.json<FileList>('/files/');
      expect(list.total).toBe(0);
      expect((await admin.call(`/files/${uuids.cat}/`)).status).toBe(404);

      const refused = await browser.call('/dashboard/api/session', { method: 'PUT', accept: 'application/json', body: { pub_key: second.project.publicKey } });
      expect(refused.status).toBe(403);
    });

    it('revoking the key a session signed in with ends that session', async () => {
      const created = await browser.json<{ id: string; secret: string }>('/project/secrets/', { method: 'POST' }, 201);
      const temporary = new Browser(trove.url);
      expect((await temporary.signIn({ pub_key: trove.publicKey, secret_key: created.secret })).status).toBe(200);
      expect((await temporary.call('/files/')).status).toBe(200);
      expect((await browser.call(`/project/secrets/${created.id}/`, { method: 'DELETE' })).status).toBe(204);
      expect((await temporary.call('/files/')).status).toBe(401);
      expect((await browser.call('/files/')).status).toBe(200);
    });

    it('grants the dashboard signed uploads that the Upload API accepts', async () => {
      const grant = await browser.json<{ signature: string; expire: number }>('/dashboard/api/upload-signature', { accept: 'application/json' });
      expect(grant.signature).toMatch(/^[0-9a-f]{64}$/);
      expect(grant.expire).toBeGreaterThan(trove.clock.now().getTime() / 1000 + 25 * 60);
      await browser.json('/project/', { method: 'PUT', body: { signed_uploads: true } });
      try {
        const unsigned = new FormData();
        unsigned.set('UPLOADCARE_PUB_KEY', trove.publicKey);
        unsigned.set('file', new Blob([new Uint8Array(10)]), 'a.bin');
        expect((await fetch(`${trove.uploadUrl}/base/`, { method: 'POST', body: unsigned })).status).toBe(403);
        const signed = new FormData();
        signed.set('UPLOADCARE_PUB_KEY', trove.publicKey);
        signed.set('signature', grant.signature);
        signed.set('expire', String(grant.expire));
        signed.set('file', new Blob([new Uint8Array(10)]), 'a.bin');
        const response = await fetch(`${trove.uploadUrl}/base/`, { method: 'POST', body: signed });
        expect(response.status, await response.clone().text()).toBe(200);
      } finally {
        await browser.json('/project/', { method: 'PUT', body: { signed_uploads: false } });
      }
      expect((await browser.call('/dashboard/api/upload-signature', { accept: 'application/json', csrf: null })).status).toBe(403);
    });

    it('throttles sign-in attempts from one address', async () => {
      const guesser = new Browser(trove.url);
      const statuses: number[] = [];
      for (let i = 0; i < 14; i += 1) statuses.push((await guesser.signIn({ pub_key: trove.publicKey, secret_key: `guess-${i}` })).status);
      expect(statuses).toContain(429);
      const throttled = await guesser.signIn({ pub_key: trove.publicKey, secret_key: 'x' });
      expect(throttled.status).toBe(429);
      expect(Number(throttled.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
      expect(((await throttled.json()) as { message: string }).message).toMatch(/Too many sign-in attempts/);
      // Another address is not held back by this one's attempts.
      expect((await new Browser(trove.url).signIn({ pub_key: trove.publicKey, secret_key: trove.secretKey })).status).toBe(200);
    });

    it('tells the page the server\'s side limit, which the playground checks the sizes it builds against', async () => {
      const html = await (await fetch(`${trove.url}/dashboard/files/${uuids.cat}`)).text();
      const boot = JSON.parse(/<script type="application\/json" id="trove-boot">(.*?)<\/script>/s.exec(html)?.[1] ?? 'null') as { maxOutputDimension: number; cdnBase: string };
      expect(boot.maxOutputDimension).toBe(6000);
      const at = (resizeWidth: number) => ({ ...DEFAULT_TRANSFORM, resizeWidth });
      expect(transformIssues(at(6000), boot.maxOutputDimension)).toEqual([]);
      expect(transformIssues(at(6001), boot.maxOutputDimension)).toEqual([{ field: 'resizeWidth', message: 'Width must be from 1 to 6000.' }]);
      // The URL the playground builds for the size it flags is the one the server refuses, naming the same limit.
      const refused = await expectDeliveryError(await fetch(transformUrl(boot.cdnBase, uuids.cat!, at(6001))), 400);
      expect(refused.message).toContain('width 6001 is larger than the 6000 px allowed per side');
    });

    it('unknown dashboard API paths are JSON 404s, and every page path serves the page', async () => {
      const missing = await fetch(`${trove.url}/dashboard/api/nothing`);
      expect(missing.status).toBe(404);
      expect(((await missing.json()) as { message: string }).message).toMatch(/No dashboard API/);
      for (const path of ['/dashboard', '/dashboard/files/abc', '/dashboard/webhooks']) {
        const page = await fetch(`${trove.url}${path}`);
        expect(page.status).toBe(200);
        expect(page.headers.get('content-type')).toMatch(/^text\/html/);
        expect(page.headers.get('content-security-policy')).toContain("script-src 'self'");
        expect(page.headers.get('x-frame-options')).toBe('DENY');
        expect(await page.text()).toContain('/dashboard/assets/dashboard.js');
      }
      const script = await fetch(`${trove.url}/dashboard/assets/dashboard.js`);
      expect(script.status).toBe(200);
      expect(script.headers.get('content-type')).toMatch(/^text\/javascript/);
      const etag = script.headers.get('etag')!;
      expect((await fetch(`${trove.url}/dashboard/assets/dashboard.js`, { headers: { 'if-none-match': etag } })).status).toBe(304);
      expect((await fetch(`${trove.url}/dashboard/assets/../../etc/passwd`)).status).toBe(404);
      expect((await fetch(`${trove.url}/dashboard/assets/secret.js`)).status).toBe(404);
      const widget = await fetch(`${trove.url}/widget.js`, { headers: { origin: 'https://elsewhere.example' } });
      expect(widget.status).toBe(200);
      expect(widget.headers.get('access-control-allow-origin')).toBe('*');
      // The server's own paths are written into the bundle it serves.
      expect(await widget.text()).not.toContain('__TROVE_SERVER_PATHS__');
      const plain = await rawGet(`${trove.url}/widget.js`, {});
      const brotli = await rawGet(`${trove.url}/widget.js`, { 'accept-encoding': 'gzip, br' });
      const gzip = await rawGet(`${trove.url}/widget.js`, { 'accept-encoding': 'gzip, br;q=0' });
      expect(plain.headers['content-encoding']).toBeUndefined();
      expect(brotli.headers['content-encoding']).toBe('br');
      expect(gzip.headers['content-encoding']).toBe('gzip');
      expect(brotliDecompressSync(brotli.body).equals(plain.body)).toBe(true);
      expect(gunzipSync(gzip.body).equals(plain.body)).toBe(true);
      expect(brotli.body.length).toBeLessThan(plain.body.length / 2);
      expect(new Set([plain.headers.etag, brotli.headers.etag, gzip.headers.etag]).size).toBe(3);
      const revalidated = await rawGet(`${trove.url}/widget.js`, { 'accept-encoding': 'br', 'if-none-match': String(brotli.headers.etag) });
      expect(revalidated.status).toBe(304);
    });
  });

  describe('file search, tags and filters', () => {
    it('search matches filenames, metadata and tags, case-insensitively, and counts the matches', async () => {
      const byName = await browser.json<FileList>('/files/?search=cat_PHOTO');
      expect(byName.results.map((f) => f.uuid)).toEqual([uuids.cat]);
      expect(byName.total).toBe(1);
      const byMetadata = await browser.json<FileList>('/files/?search=KITTEN');
      expect(byMetadata.results.map((f) => f.uuid)).toEqual([uuids.cat]);
      const byTag = await browser.json<FileList>('/files/?search=pets&ordering=datetime_uploaded');
      expect(byTag.results.map((f) => f.uuid)).toEqual([uuids.cat, uuids.dog]);
      expect(byTag.total).toBe(2);
      // LIKE's wildcards are searched for literally.
      expect((await browser.json<FileList>('/files/?search=100%25')).results.map((f) => f.uuid)).toEqual([uuids.pdf]);
      expect((await browser.json<FileList>('/files/?search=_')).results.map((f) => f.uuid).sort()).toEqual([uuids.cat, uuids.pdf].sort());
      expect((await browser.json<FileList>('/files/?search=%25%25')).total).toBe(0);
    });

    it('tag, mime_type and to narrow the list, and next links keep them', async () => {
      expect((await browser.json<FileList>('/files/?tag=cats')).results.map((f) => f.uuid)).toEqual([uuids.cat]);
      expect((await browser.json<FileList>('/files/?tag=cat')).total).toBe(0);
      expect((await browser.json<FileList>('/files/?mime_type=application/pdf')).results.map((f) => f.uuid)).toEqual([uuids.pdf]);
      const images = await browser.json<FileList>('/files/?mime_type=image/*&limit=1&ordering=datetime_uploaded');
      expect(images.total).toBe(2);
      expect(images.results.map((f) => f.uuid)).toEqual([uuids.cat]);
      expect(images.next).toContain('mime_type=image%2F*');
      const second = await browser.json<FileList>(new URL(images.next!).pathname + new URL(images.next!).search);
      expect(second.results.map((f) => f.uuid)).toEqual([uuids.dog]);
      expect(second.next).toBeNull();
      expect((await browser.json<FileList>('/files/?to=2000-01-01T00:00:00Z')).total).toBe(0);
      // `since` bounds from below in either order (Uploadcare's `from` is an upper bound newest-first).
      const now = trove.clock.now().toISOString();
      expect((await browser.json<FileList>(`/files/?since=${now}&ordering=-datetime_uploaded`)).total).toBe(0);
      const all = await browser.json<FileList>('/files/?since=2000-01-01T00:00:00Z&ordering=-datetime_uploaded');
      const ours = new Set(Object.values(uuids));
      expect(all.results.map((f) => f.uuid).filter((uuid) => ours.has(uuid))).toEqual([uuids.pdf, uuids.dog, uuids.cat]);
      expect((await browser.json<FileList>('/files/?stored=false&tag=pets')).results.map((f) => f.uuid)).toEqual([uuids.dog]);
    });

    it('bad filters are 400s that name the parameter', async () => {
      for (const [query, name] of [
        ['mime_type=image', 'mime_type'],
        ['mime_type=%27%3B--/x', 'mime_type'],
        ['to=yesterday', 'to'],
        [`search=${'x'.repeat(201)}`, 'search'],
        ['tag=a,b', 'tag'],
      ] as const) {
        const response = await browser.call(`/files/?${query}`);
        expect(response.status, query).toBe(400);
        expect(((await response.json()) as { detail: string }).detail).toContain(`\`${name}\``);
      }
    });

    it('PUT /files/:uuid/tags/ replaces the tags and checks them; Uploadcare keys see them too', async () => {
      const updated = await browser.json<{ tags: string[]; added: string[]; deleted: string[] }>(`/files/${uuids.dog}/tags/`, {
        method: 'PUT',
        body: { tags: ['pets', ' Good_Boy ', 'pets', ''] },
      });
      expect(updated).toEqual({ tags: ['pets', 'good_boy'], added: ['good_boy'], deleted: [] });
      // A bare array is read as the list too.
      expect(await browser.json(`/files/${uuids.dog}/tags/`, { method: 'PUT', body: ['PETS', 'good_boy'] })).toEqual({ tags: ['pets', 'good_boy'], added: [], deleted: [] });
      expect((await browser.json<RestFile>(`/files/${uuids.dog}/`)).tags).toEqual(['pets', 'good_boy']);
      // The filter is normalised as tags are.
      expect((await browser.json<FileList>('/files/?tag=%20Good_Boy%20')).results.map((f) => f.uuid)).toEqual([uuids.dog]);
      for (const body of ['pets', null, { tags: 'pets' }, { tags: null }, {}, ['good boy'], ['a,b'], [7], { tags: [7] }, Array.from({ length: 51 }, (_, i) => `t${i}`), ['x'.repeat(101)]]) {
        const response = await browser.call(`/files/${uuids.dog}/tags/`, { method: 'PUT', body });
        expect(response.status, JSON.stringify(body)).toBe(400);
      }
      expect((await browser.call('/files/00000000-0000-4000-8000-000000000000/tags/', { method: 'PUT', body: { tags: [] } })).status).toBe(404);
      // PATCH works with the session too: deletions first, then additions.
      expect(await browser.json(`/files/${uuids.dog}/tags/`, { method: 'PATCH', body: { add: ['good_boy', 'walked'], delete: ['good_boy'] } })).toEqual({
        tags: ['pets', 'good_boy', 'walked'],
        added: ['walked'],
        deleted: [],
      });
      // Uploadcare's keys see them too.
      const withKeys = await fetch(`${trove.url}/files/${uuids.dog}/`, {
        headers: { accept: REST_ACCEPT, authorization: `Uploadcare.Simple ${trove.publicKey}:${trove.secretKey}` },
      });
      expect(((await withKeys.json()) as RestFile).tags).toEqual(['pets', 'good_boy', 'walked']);
    });
  });

  describe('project settings and keys', () => {
    it('PUT /project/ changes settings that uploads then follow', async () => {
      const project = await browser.json<Record<string, unknown>>('/project/', {
        method: 'PUT',
        body: { name: 'Renamed', autostore_enabled: false, max_file_size: 2048, allowed_mime_types: ['image/*'] },
      });
      expect(project).toMatchObject({ name: 'Renamed', autostore_enabled: false, max_file_size: 2048, allowed_mime_types: ['image/*'], signed_uploads: false });
      const tooBig = new FormData();
      tooBig.set('UPLOADCARE_PUB_KEY', trove.publicKey);
      tooBig.set('file', new Blob([new Uint8Array(4096)]), 'big.bin');
      const refused = await fetch(`${trove.uploadUrl}/base/`, { method: 'POST', body: tooBig });
      expect(refused.status).toBe(413);
      await browser.json('/project/', { method: 'PUT', body: { max_file_size: null, allowed_mime_types: null, autostore_enabled: true } });
      expect(await browser.json('/project/')).toMatchObject({ max_file_size: null, allowed_mime_types: null, autostore_enabled: true });
    });

    it('refuses bad settings with a message naming the field', async () => {
      for (const [body, name] of [
        [{ name: '' }, 'name'],
        [{ autostore_enabled: 'yes' }, 'autostore_enabled'],
        [{ max_file_size: -1 }, 'max_file_size'],
        [{ max_file_size: 1e18 }, 'max_file_size'],
        [{ allowed_mime_types: 'image/*' }, 'allowed_mime_types'],
        [{ allowed_mime_types: ['images'] }, 'allowed_mime_types'],
        [{ owner: 'me' }, 'owner'],
      ] as const) {
        const response = await browser.call('/project/', { method: 'PUT', body });
        expect(response.status, JSON.stringify(body)).toBe(400);
        expect(((await response.json()) as { detail: string }).detail).toContain(`\`${name}\``);
      }
      expect((await browser.call('/project/', { method: 'PUT', body: [1] })).status).toBe(400);
    });

    it('lists keys by hint only, shows a new secret once, and keeps the last key', async () => {
      const listed = await browser.json<{ results: Array<{ id: string; hint: string }> }>('/project/secrets/');
      expect(listed.results.length).toBeGreaterThanOrEqual(1);
      expect(JSON.stringify(listed)).not.toContain(trove.secretKey);
      expect(listed.results.some((key) => key.hint === `…${trove.secretKey.slice(-4)}`)).toBe(true);

      const created = await browser.json<{ id: string; secret: string }>('/project/secrets/', { method: 'POST' }, 201);
      expect(created.secret).toMatch(/^[0-9a-f]{40}$/);
      const signed = await fetch(`${trove.url}/project/`, { headers: { accept: REST_ACCEPT, authorization: `Uploadcare.Simple ${trove.publicKey}:${created.secret}` } });
      expect(signed.status).toBe(200);
      expect((await browser.call(`/project/secrets/${created.id}/`, { method: 'DELETE' })).status).toBe(204);
      expect((await browser.call(`/project/secrets/${created.id}/`, { method: 'DELETE' })).status).toBe(404);

      const second = await trove.ctx.services.projects.create({ name: 'Lonely' });
      const lonely = new Browser(trove.url);
      await lonely.signIn({ pub_key: second.project.publicKey, secret_key: second.secrets[0]!.secret });
      const last = await lonely.call(`/project/secrets/${second.secrets[0]!.id}/`, { method: 'DELETE' });
      expect(last.status).toBe(409);
      expect(((await last.json()) as { detail: string }).detail).toMatch(/last active secret key/);
      // Another project's key id is not this project's to revoke.
      expect((await lonely.call(`/project/secrets/${listed.results[0]!.id}/`, { method: 'DELETE' })).status).toBe(404);
    });
  });

  describe('webhooks', () => {
    it('DELETE /webhooks/:id/ removes one subscription and leaves the others on the same URL', async () => {
      const target = 'https://hooks.example.com/trove';
      const uploaded = await browser.json<{ id: number }>('/webhooks/', { method: 'POST', body: { target_url: target, event: 'file.uploaded' } }, 201);
      const stored = await browser.json<{ id: number }>('/webhooks/', { method: 'POST', body: { target_url: target, event: 'file.stored' } }, 201);
      expect((await browser.call(`/webhooks/${uploaded.id}/`, { method: 'DELETE' })).status).toBe(204);
      expect((await browser.call(`/webhooks/${uploaded.id}/`, { method: 'DELETE' })).status).toBe(404);
      const left = await browser.json<Array<{ id: number }>>('/webhooks/');
      expect(left.map((hook) => hook.id)).toEqual([stored.id]);
      const second = await trove.ctx.services.projects.create({ name: 'Other tenant' });
      const other = new Browser(trove.url);
      await other.signIn({ pub_key: second.project.publicKey, secret_key: second.secrets[0]!.secret });
      expect((await other.call(`/webhooks/${stored.id}/`, { method: 'DELETE' })).status).toBe(404);
      expect((await browser.call(`/webhooks/${stored.id}/`, { method: 'DELETE' })).status).toBe(204);
    });
  });

  describe('usage', () => {
    it('counts uploads per day, deliveries, cache hits and misses, and bytes stored', async () => {
      const derivative = `${trove.url}/${uuids.cat}/-/resize/32x/`;
      expect((await fetch(derivative)).status).toBe(200); // computed: a miss
      expect((await fetch(derivative)).status).toBe(200); // from memory: a hit
      expect((await fetch(`${trove.url}/${uuids.cat}/`)).status).toBe(200); // the original
      const usage = await browser.json<{
        files: { stored: number; unstored: number };
        bytes: { stored: number; unstored: number };
        days: Array<{ date: string; uploads: number; deliveries: number; cache_hits: number; cache_misses: number }>;
        cache_hit_ratio: number | null;
      }>('/project/usage/?days=7');
      expect(usage.days).toHaveLength(7);
      const today = usage.days.at(-1)!;
      expect(today.date).toBe(trove.clock.now().toISOString().slice(0, 10));
      expect(today.uploads).toBeGreaterThanOrEqual(3);
      expect(today.deliveries).toBe(3);
      expect(today.cache_misses).toBe(1);
      expect(today.cache_hits).toBe(1);
      expect(usage.cache_hit_ratio).toBe(0.5);
      expect(usage.files.stored).toBeGreaterThanOrEqual(2);
      expect(usage.bytes.stored).toBeGreaterThan(0);
      expect(usage.days.slice(0, -1).every((day) => day.deliveries === 0)).toBe(true);
      for (const days of ['0', '367', 'x', '-1']) expect((await browser.call(`/project/usage/?days=${days}`)).status).toBe(400);
    });
  });
});
