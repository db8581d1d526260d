/**
 * The REST API v0.7 against bad, hostile and cross-project input, with raw HTTP requests: every
 * refusal is a JSON `{detail}` with the right status, typed exactly `application/json`, and
 * leaves the data of every project as it was.
 */
import { createHash, createHmac, randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { availableBackends } from '../helpers/backends.js';
import { startTrove, type TestTrove } from '../helpers/trove-server.js';
import { sleep, uploadFile } from '../helpers/upload-http.js';

const backends = await availableBackends();

const V07 = 'application/vnd.uploadcare-v0.7+json';
const ACCEPT_MESSAGE = 'Incorrect Accept header provided. Make sure to specify API version. Refer to REST API docs for details.';
const INCORRECT = 'Incorrect authentication credentials.';
const INVALID_SIGNATURE = 'Invalid signature. Please check your Secret key.';

interface Keys {
  publicKey: string;
  secretKey: string;
}

interface SignOptions {
  /** The date sent and signed; default now. */
  date?: string;
  /** Where the date travels; default X-Uploadcare-Date (what the JS SDK sends). */
  dateHeader?: 'x-uploadcare-date' | 'date' | null;
  /** Signs with this secret instead of the caller's. */
  secret?: string;
  /** Signs this body instead of the one sent. */
  signedBody?: string;
  /** Signs this request target instead of the one sent. */
  signedUri?: string;
}

interface CallOptions {
  /** Whose keys authenticate (Simple scheme unless `signed`); null sends no Authorization. */
  keys?: Keys | null;
  /** A literal Authorization header, instead of one built from keys. */
  authorization?: string;
  json?: unknown;
  raw?: string;
  contentType?: string | null;
  accept?: string | null;
  signed?: SignOptions;
  /** Extra request headers. */
  headers?: Record<string, string>;
}

interface Answer<T = Record<string, unknown>> {
  method: string;
  path: string;
  status: number;
  contentType: string | null;
  retryAfter: string | null;
  text: string;
  body: T;
}

interface RestFile {
  uuid: string;
  datetime_stored: string | null;
  datetime_removed: string | null;
  metadata: Record<string, string> | null;
}

interface RestWebhook {
  id: number;
  event: string;
  target_url: string;
  is_active: boolean;
  signing_secret: string | null;
  updated: string;
}

interface RestDelivery {
  id: string;
  status: string;
  attempts: number;
  last_status_code: number | null;
  last_error: string | null;
  attempt_log: Array<{ attempt: number; status_code: number | null; error: string | null }>;
}

function md5Hex(body: string): string {
  return createHash('md5').update(body).digest('hex');
}

/** Uploadcare's signed scheme: hex HMAC-SHA1 of METHOD, md5(body), Content-Type, date and URI, one per line. */
function restSignature(secret: string, method: string, body: string, contentType: string, date: string, uri: string): string {
  return createHmac('sha1', secret).update([method, md5Hex(body), contentType, date, uri].join('\n')).digest('hex');
}

async function restCall(baseUrl: string, defaultKeys: Keys, method: string, path: string, options: CallOptions = {}): Promise<Answer> {
  const keys = options.keys === undefined ? defaultKeys : options.keys;
  const body = options.raw ?? (options.json === undefined ? undefined : JSON.stringify(options.json));
  const contentType = options.contentType === undefined ? 'application/json' : options.contentType;
  const headers: Record<string, string> = { ...options.headers };
  const accept = options.accept === undefined ? V07 : options.accept;
  if (accept !== null) headers.accept = accept;
  if (contentType !== null) headers['content-type'] = contentType;
  if (options.signed) {
    const sign = options.signed;
    const date = sign.date ?? new Date().toUTCString();
    const dateHeader = sign.dateHeader === undefined ? 'x-uploadcare-date' : sign.dateHeader;
    if (dateHeader !== null) headers[dateHeader] = date;
    if (keys) {
      const signature = restSignature(sign.secret ?? keys.secretKey, method, sign.signedBody ?? body ?? '', contentType ?? '', date, sign.signedUri ?? path);
      headers.authorization = `Uploadcare ${keys.publicKey}:${signature}`;
    }
  } else if (keys) {
    headers.authorization = `Uploadcare.Simple ${keys.publicKey}:${keys.secretKey}`;
  }
  // A literal header replaces the computed one; a `signed` date header still travels with it.
  if (options.authorization !== undefined) headers.authorization = options.authorization;
  const response = await fetch(`${baseUrl}${path}`, { method, headers, ...(body === undefined ? {} : { body }) });
  const text = await response.text();
  const type = response.headers.get('content-type');
  let parsed: unknown;
  if (text !== '' && type?.startsWith('application/json')) parsed = JSON.parse(text);
  return { method, path, status: response.status, contentType: type, retryAfter: response.headers.get('retry-after'), text, body: parsed as Record<string, unknown> };
}

/** A REST error: the status, exactly `application/json`, and a body of `detail` alone. */
function expectDetail(answer: Answer, status: number, detail: string | RegExp): void {
  const where = `${answer.method} ${answer.path} → ${answer.status} ${answer.text.slice(0, 300)}`;
  expect(answer.status, where).toBe(status);
  expect(answer.contentType, where).toBe('application/json');
  expect(Object.keys(answer.body as object), where).toEqual(['detail']);
  const text = (answer.body as { detail: unknown }).detail;
  expect(typeof text, where).toBe('string');
  if (typeof detail === 'string') expect(text, where).toBe(detail);
  else expect(text, where).toMatch(detail);
}

function expectOk(answer: Answer, status = 200): void {
  expect(answer.status, `${answer.method} ${answer.path} → ${answer.status} ${answer.text.slice(0, 300)}`).toBe(status);
}

async function createGroup(trove: TestTrove, publicKey: string, files: string[]): Promise<string> {
  const form = new FormData();
  form.set('pub_key', publicKey);
  for (const file of files) form.append('files[]', file);
  const response = await fetch(`${trove.uploadUrl}/group/`, { method: 'POST', body: form });
  const text = await response.text();
  expect(response.status, text).toBe(200);
  return (JSON.parse(text) as { id: string }).id;
}

async function waitFor<T>(find: () => Promise<T | undefined>, timeoutMs = 8_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const found = await find();
    if (found !== undefined) return found;
    if (Date.now() > deadline) throw new Error('timed out waiting');
    await sleep(100);
  }
}

interface Receiver {
  port: number;
  hits: string[];
  close(): Promise<void>;
}

async function startReceiver(): Promise<Receiver> {
  const hits: string[] = [];
  const server: Server = createServer((request, response) => {
    hits.push(`${request.method} ${request.url}`);
    request.resume();
    request.on('end', () => response.writeHead(200).end('ok'));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    hits,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

describe.each(backends)('REST API bad input (%s)', (backend) => {
  let trove: TestTrove;
  let A: Keys;
  let B: Keys;
  let receiver: Receiver;
  const answers: Answer[] = [];

  async function call(method: string, path: string, options: CallOptions = {}): Promise<Answer> {
    const answer = await restCall(trove.url, A, method, path, options);
    answers.push(answer);
    return answer;
  }

  async function fileOf(uuid: string, keys: Keys = A): Promise<RestFile> {
    const answer = await call('GET', `/files/${uuid}/`, { keys });
    expectOk(answer);
    return answer.body as unknown as RestFile;
  }

  async function fileTotals(keys: Keys = A): Promise<{ total: number; totals: Record<string, number> }> {
    const answer = await call('GET', '/files/?limit=1', { keys });
    expectOk(answer);
    return { total: answer.body.total as number, totals: answer.body.totals as Record<string, number> };
  }

  async function webhooksOf(keys: Keys = A): Promise<RestWebhook[]> {
    const answer = await call('GET', '/webhooks/', { keys });
    expectOk(answer);
    return answer.body as unknown as RestWebhook[];
  }

  beforeAll(async () => {
    // Production defaults for outgoing requests (no loopback or private targets); this suite's
    // request volume is far above the default REST budgets, which get a server of their own below.
    trove = await startTrove({ backend, env: { TROVE_FETCH_ALLOW_PRIVATE: 'false', TROVE_RATE_LIMIT_REST_READ: 'off', TROVE_RATE_LIMIT_REST_WRITE: 'off' } });
    A = { publicKey: trove.publicKey, secretKey: trove.secretKey };
    const other = await trove.ctx.services.projects.create({ name: 'project B' });
    B = { publicKey: other.project.publicKey, secretKey: other.secrets[0]!.secret };
    receiver = await startReceiver();
  }, 60_000);

  afterAll(async () => {
    await trove?.close();
    await receiver?.close();
  });

  it('refuses a NUL character anywhere in a query or JSON body with a 400 naming where, changing nothing', async () => {
    const uuid = await uploadFile(trove, Buffer.from('nul target'), 'nul.txt');
    const nul = /contains a NUL character/;
    expectDetail(await call('GET', '/files/?search=a%00b'), 400, /^query\.search contains a NUL character/);
    expectDetail(await call('PUT', '/project/', { json: { name: 'a\u0000b' } }), 400, /^body\.name contains/);
    expectDetail(await call('POST', '/webhooks/', { json: { target_url: 'https://example.com/a\u0000', event: 'file.uploaded' } }), 400, nul);
    expectDetail(await call('PUT', `/files/${uuid}/metadata/k/`, { json: 'v\u0000' }), 400, /^body contains/);
    // Search answers its refusals keyed by field.
    const searched = await call('POST', '/files/search/', { json: { exact: { 'metadata[a]': ['x\u0000'] } } });
    expect(searched.status).toBe(400);
    expect(JSON.stringify(searched.body.exact)).toMatch(/Contains a NUL character/);
    // Deep nesting costs its size, not more: the path stops growing.
    const deep = `${'['.repeat(5000)}"\u0000"${']'.repeat(5000)}`;
    const answer = await call('POST', '/files/search/', { raw: deep });
    expect(answer.status).toBe(400);
    expect((await call('GET', '/project/')).body.name).not.toContain('\u0000');
    expect(await webhooksOf()).toEqual(expect.not.arrayContaining([expect.objectContaining({ target_url: 'https://example.com/a\u0000' })]));
    expect((await fileOf(uuid)).metadata).toEqual({});
  });

  describe('authentication', () => {
    let unstored: string;

    beforeAll(async () => {
      unstored = await uploadFile(trove, Buffer.from('auth target'), 'auth.txt', { UPLOADCARE_STORE: '0' });
    });

    it('a request without Authorization is 401 {detail}', async () => {
      expectDetail(await call('GET', '/files/', { keys: null }), 401, INCORRECT);
      expectDetail(await call('PUT', `/files/${unstored}/storage/`, { keys: null }), 401, INCORRECT);
      expect((await fileOf(unstored)).datetime_stored).toBeNull();
    });

    it.each([
      ['another scheme', 'Bearer abc'],
      ['no secret part', 'Uploadcare.Simple onlypublickey'],
      ['an empty value', 'Uploadcare '],
    ])('an Authorization header with %s is 401', async (_name, authorization) => {
      expectDetail(await call('GET', '/project/', { authorization }), 401, INCORRECT);
    });

    it('an unknown public key is 401 "Public key … not found."', async () => {
      expectDetail(await call('GET', '/files/', { keys: { publicKey: 'pk_nobody_has_this', secretKey: A.secretKey } }), 401, 'Public key pk_nobody_has_this not found.');
      expectDetail(
        await call('GET', '/files/', { keys: { publicKey: 'pk_nobody_has_this', secretKey: A.secretKey }, signed: {} }),
        401,
        'Public key pk_nobody_has_this not found.',
      );
    });

    it('a wrong secret (Simple) is 401, and another project’s secret is no better', async () => {
      expectDetail(await call('GET', '/files/', { keys: { publicKey: A.publicKey, secretKey: 'sk_wrong' } }), 401, INCORRECT);
      expectDetail(await call('GET', '/files/', { keys: { publicKey: A.publicKey, secretKey: B.secretKey } }), 401, INCORRECT);
      expectDetail(await call('PUT', `/files/${unstored}/storage/`, { keys: { publicKey: A.publicKey, secretKey: B.secretKey } }), 401, INCORRECT);
      expect((await fileOf(unstored)).datetime_stored).toBeNull();
    });

    it('a correctly signed request is accepted, dated by X-Uploadcare-Date or by Date', async () => {
      const listed = await call('GET', '/files/?limit=1&stored=false', { signed: {} });
      expectOk(listed);
      expect(listed.body.per_page).toBe(1);
      expectOk(await call('GET', '/project/', { signed: { dateHeader: 'date' } }));
      expectOk(await call('GET', `/files/${unstored}/`, { signed: { dateHeader: 'date' }, contentType: null }));
      // A body is part of what is signed.
      const batch = await call('PUT', '/files/storage/', { json: [randomUUID()], signed: {} });
      expectOk(batch);
      expect(Object.values(batch.body.problems as Record<string, string>)).toEqual(['Missing in the project']);
    });

    it('a signature made with the wrong secret is 401 "Invalid signature…"', async () => {
      expectDetail(await call('GET', '/files/', { signed: { secret: 'sk_wrong' } }), 401, INVALID_SIGNATURE);
      expectDetail(await call('GET', '/files/', { signed: { secret: B.secretKey } }), 401, INVALID_SIGNATURE);
      expectDetail(await call('GET', '/files/', { authorization: `Uploadcare ${A.publicKey}:not-hex-at-all`, signed: {} }), 401, INVALID_SIGNATURE);
    });

    it('a signature over another request target or method is 401', async () => {
      expectDetail(await call('GET', '/files/?limit=2', { signed: { signedUri: '/files/?limit=1' } }), 401, INVALID_SIGNATURE);
      expectDetail(await call('GET', '/files/?limit=1&stored=true', { signed: { signedUri: '/files/?limit=1' } }), 401, INVALID_SIGNATURE);
      const date = new Date().toUTCString();
      const signature = restSignature(A.secretKey, 'GET', '', 'application/json', date, `/files/${unstored}/storage/`);
      const replayed = await call('PUT', `/files/${unstored}/storage/`, {
        authorization: `Uploadcare ${A.publicKey}:${signature}`,
        signed: { date },
      });
      // A GET's signature replayed on a PUT of the same path.
      expectDetail(replayed, 401, INVALID_SIGNATURE);
      expect((await fileOf(unstored)).datetime_stored).toBeNull();
    });

    it('a signed request dated 16 minutes away from the server clock is 401', async () => {
      const old = new Date(Date.now() - 16 * 60_000).toUTCString();
      const future = new Date(Date.now() + 16 * 60_000).toUTCString();
      expectDetail(await call('GET', '/files/', { signed: { date: old } }), 401, /15 minutes/);
      expectDetail(await call('GET', '/files/', { signed: { date: old, dateHeader: 'date' } }), 401, /15 minutes/);
      expectDetail(await call('GET', '/files/', { signed: { date: future } }), 401, /15 minutes/);
      // X-Uploadcare-Date is the signed date when both are sent: a fresh Date header cannot rescue a stale one.
      expectDetail(await call('GET', '/files/', { signed: { date: old }, headers: { date: new Date().toUTCString() } }), 401, /15 minutes/);
      // 14 minutes is still inside the window.
      expectOk(await call('GET', '/files/', { signed: { date: new Date(Date.now() - 14 * 60_000).toUTCString() } }));
    });

    it('a signed request with a malformed or missing date is 401', async () => {
      expectDetail(await call('GET', '/files/', { signed: { date: 'yesterday' } }), 401, /^Incorrect authentication credentials\..*date/i);
      expectDetail(await call('GET', '/files/', { signed: { date: new Date().toISOString() } }), 401, /date/i);
      expectDetail(await call('GET', '/files/', { signed: { dateHeader: null } }), 401, /date/i);
    });

    it('a body changed after signing is 401 and does nothing', async () => {
      const decoy = randomUUID();
      const answer = await call('PUT', '/files/storage/', { json: [unstored], signed: { signedBody: JSON.stringify([decoy]) } });
      expectDetail(answer, 401, INVALID_SIGNATURE);
      const metadata = await call('PUT', `/files/${unstored}/metadata/k/`, { json: 'evil', signed: { signedBody: JSON.stringify('fine') } });
      expectDetail(metadata, 401, INVALID_SIGNATURE);
      const file = await fileOf(unstored);
      expect(file.datetime_stored).toBeNull();
      expect(file.metadata).toEqual({});
    });

    it('a revoked secret key stops working once the 5 s key cache has passed', async () => {
      const added = await trove.ctx.services.projects.addSecret(B.publicKey);
      const extra: Keys = { publicKey: B.publicKey, secretKey: added.secret };
      expectOk(await call('GET', '/project/', { keys: extra }));
      expectOk(await call('GET', '/project/', { keys: extra, signed: {} }));
      await trove.ctx.services.projects.revokeSecret(B.publicKey, added.id);
      trove.clock.advance(5_100);
      expectDetail(await call('GET', '/project/', { keys: extra }), 401, INCORRECT);
      expectDetail(await call('GET', '/project/', { keys: extra, signed: {} }), 401, INVALID_SIGNATURE);
      // The project's other key is untouched.
      const project = await call('GET', '/project/', { keys: B });
      expectOk(project);
      expect(project.body.pub_key).toBe(B.publicKey);
    });

    it('a project whose only secret key was revoked answers 401 "Secret key not found."', async () => {
      const created = await trove.ctx.services.projects.create({ name: 'keyless' });
      const keys: Keys = { publicKey: created.project.publicKey, secretKey: created.secrets[0]!.secret };
      expectOk(await call('GET', '/project/', { keys }));
      await trove.ctx.services.projects.revokeSecret(keys.publicKey, created.secrets[0]!.id);
      trove.clock.advance(5_100);
      expectDetail(await call('GET', '/project/', { keys }), 401, 'Secret key not found.');
      expectDetail(await call('GET', '/project/', { keys, signed: {} }), 401, 'Secret key not found.');
    });
  });

  describe('Accept header and content type', () => {
    it.each([
      ['missing', null],
      ['application/json', 'application/json'],
      ['v0.6', 'application/vnd.uploadcare-v0.6+json'],
      ['*/*', '*/*'],
    ])('Accept %s is 406 with Uploadcare’s message', async (_name, accept) => {
      expectDetail(await call('GET', '/files/', { accept }), 406, ACCEPT_MESSAGE);
      expectDetail(await call('GET', '/project/', { accept, signed: {} }), 406, ACCEPT_MESSAGE);
    });

    it('a write with a wrong Accept header does nothing', async () => {
      const uuid = await uploadFile(trove, Buffer.from('accept'), 'accept.txt', { UPLOADCARE_STORE: '0' });
      expectDetail(await call('PUT', `/files/${uuid}/storage/`, { accept: 'application/vnd.uploadcare-v0.6+json' }), 406, ACCEPT_MESSAGE);
      expectDetail(await call('PUT', '/files/storage/', { accept: null, json: [uuid] }), 406, ACCEPT_MESSAGE);
      expect((await fileOf(uuid)).datetime_stored).toBeNull();
    });

    it('v0.7 among other media types, or with parameters, is accepted', async () => {
      expectOk(await call('GET', '/project/', { accept: `application/json, ${V07}` }));
      expectOk(await call('GET', '/project/', { accept: `${V07}; q=0.9` }));
    });

    it('JSON answers are typed exactly application/json', async () => {
      const answer = await call('GET', '/project/');
      expectOk(answer);
      expect(answer.contentType).toBe('application/json');
      expect(answer.body.pub_key).toBe(A.publicKey);
      const list = await call('GET', '/files/?limit=1');
      expect(list.contentType).toBe('application/json');
    });
  });

  describe('tenant isolation', () => {
    let fileA: string;
    let storedA: string;
    let groupA: string;
    let hookA: RestWebhook;
    let deliveryA: string;
    let fileB: string;
    const hookTarget = () => `http://127.0.0.1:${receiver.port}/tenant-a`;

    beforeAll(async () => {
      fileA = await uploadFile(trove, Buffer.from('belongs to A'), 'a.txt', { UPLOADCARE_STORE: '0', 'metadata[owner]': 'A' });
      storedA = await uploadFile(trove, Buffer.from('stored in A'), 'a2.txt', { UPLOADCARE_STORE: '1' });
      fileB = await uploadFile(trove, Buffer.from('belongs to B'), 'b.txt', { UPLOADCARE_STORE: '1' }, { publicKey: B.publicKey });
      groupA = await createGroup(trove, A.publicKey, [fileA, storedA]);
      const created = await call('POST', '/webhooks/', { json: { target_url: hookTarget(), event: 'file.info_updated', signing_secret: 'secret-of-a' } });
      expectOk(created, 201);
      hookA = created.body as unknown as RestWebhook;
      // An event of A, so that A's webhook has a delivery.
      const trigger = await uploadFile(trove, Buffer.from('trigger'), 't.txt');
      expectOk(await call('PUT', `/files/${trigger}/metadata/x/`, { json: 'y' }), 201);
      deliveryA = await waitFor(async () => {
        const log = await call('GET', `/webhooks/${hookA.id}/deliveries/`);
        return (log.body as { results: RestDelivery[] }).results[0]?.id;
      });
    });

    async function expectAUntouched(): Promise<void> {
      const file = await fileOf(fileA);
      expect(file.datetime_stored).toBeNull();
      expect(file.datetime_removed).toBeNull();
      expect(file.metadata).toEqual({ owner: 'A' });
      const stored = await fileOf(storedA);
      expect(stored.datetime_stored).not.toBeNull();
      expect(stored.datetime_removed).toBeNull();
      const group = await call('GET', `/groups/${groupA}/`);
      expectOk(group);
      expect((group.body.files as Array<{ uuid: string }>).map((f) => f.uuid)).toEqual([fileA, storedA]);
      const hook = (await webhooksOf(A)).find((h) => h.id === hookA.id);
      expect(hook).toMatchObject({ target_url: hookA.target_url, event: hookA.event, is_active: true, signing_secret: 'secret-of-a', updated: hookA.updated });
    }

    it("B's keys cannot read, store or delete A's files", async () => {
      for (const uuid of [fileA, storedA, fileA.toUpperCase()]) {
        expectDetail(await call('GET', `/files/${uuid}/`, { keys: B }), 404, 'Not found.');
        expectDetail(await call('GET', `/files/${uuid}/?include=appdata`, { keys: B, signed: {} }), 404, 'Not found.');
        expectDetail(await call('PUT', `/files/${uuid}/storage/`, { keys: B }), 404, 'Not found.');
        expectDetail(await call('DELETE', `/files/${uuid}/storage/`, { keys: B }), 404, 'Not found.');
      }
      await expectAUntouched();
    });

    it("B's batches report A's files as missing and change nothing", async () => {
      for (const method of ['PUT', 'DELETE']) {
        const answer = await call(method, '/files/storage/', { keys: B, json: [fileA, storedA, `${trove.url}/${fileA}/`] });
        expectOk(answer);
        expect(answer.contentType).toBe('application/json');
        expect(answer.body).toEqual({ status: 'ok', problems: { [fileA]: 'Missing in the project', [storedA]: 'Missing in the project' }, result: [] });
      }
      // A batch mixing B's own file with A's acts on B's file alone.
      const mixed = await call('PUT', '/files/storage/', { keys: B, json: [fileB, fileA] });
      expectOk(mixed);
      expect((mixed.body.result as RestFile[]).map((f) => f.uuid)).toEqual([fileB]);
      expect(mixed.body.problems).toEqual({ [fileA]: 'Missing in the project' });
      await expectAUntouched();
    });

    it("B cannot copy A's file, by uuid or by CDN URL", async () => {
      const totalsA = await fileTotals(A);
      const totalsB = await fileTotals(B);
      expectDetail(await call('POST', '/files/local_copy/', { keys: B, json: { source: fileA, store: true } }), 404, 'Not found.');
      expectDetail(await call('POST', '/files/local_copy/', { keys: B, json: { source: `${trove.url}/${storedA}/-/resize/10x/` } }), 404, 'Not found.');
      expectDetail(await call('POST', `/files/${storedA}/derivatives/`, { keys: B, json: { operations: ['-/resize/10x/'] } }), 404, 'Not found.');
      expect(await fileTotals(A)).toEqual(totalsA);
      expect(await fileTotals(B)).toEqual(totalsB);
    });

    it("B cannot read or change A's metadata", async () => {
      expectDetail(await call('GET', `/files/${fileA}/metadata/`, { keys: B }), 404, 'Not found.');
      expectDetail(await call('GET', `/files/${fileA}/metadata/owner/`, { keys: B }), 404, 'Not found.');
      expectDetail(await call('PUT', `/files/${fileA}/metadata/owner/`, { keys: B, json: 'B' }), 404, 'Not found.');
      expectDetail(await call('PUT', `/files/${fileA}/metadata/extra/`, { keys: B, json: 'B' }), 404, 'Not found.');
      expectDetail(await call('DELETE', `/files/${fileA}/metadata/owner/`, { keys: B }), 404, 'Not found.');
      expectDetail(await call('GET', `/files/${fileA}/tags/`, { keys: B }), 404, 'Not found.');
      expectDetail(await call('PUT', `/files/${fileA}/tags/`, { keys: B, json: { tags: ['b'] } }), 404, 'Not found.');
      expectDetail(await call('PATCH', `/files/${fileA}/tags/`, { keys: B, json: { add: ['b'] } }), 404, 'Not found.');
      await expectAUntouched();
    });

    it("B cannot read or delete A's group", async () => {
      expectDetail(await call('GET', `/groups/${groupA}/`, { keys: B }), 404, 'Not found.');
      expectDetail(await call('DELETE', `/groups/${groupA}/`, { keys: B }), 404, 'Not found.');
      await expectAUntouched();
    });

    it("B cannot change, unsubscribe, read the log of, or replay A's webhook", async () => {
      expectDetail(await call('PUT', `/webhooks/${hookA.id}/`, { keys: B, json: { target_url: 'https://attacker.example/', is_active: false } }), 404, 'Not found.');
      expectDetail(await call('PUT', `/webhooks/${hookA.id}/`, { keys: B, json: {} }), 404, 'Not found.');
      expectDetail(await call('DELETE', '/webhooks/unsubscribe/', { keys: B, json: { target_url: hookA.target_url } }), 404, 'Not found.');
      expectDetail(await call('GET', `/webhooks/${hookA.id}/deliveries/`, { keys: B }), 404, 'Not found.');
      expectDetail(await call('POST', `/webhooks/${hookA.id}/deliveries/${deliveryA}/replay/`, { keys: B }), 404, 'Not found.');
      // Through a webhook of B's own: A's delivery is still not B's.
      const own = await call('POST', '/webhooks/', { keys: B, json: { target_url: 'https://b.example/hook', event: 'file.stored' } });
      expectOk(own, 201);
      expectDetail(await call('POST', `/webhooks/${own.body.id}/deliveries/${deliveryA}/replay/`, { keys: B }), 404, 'Not found.');
      const ownLog = await call('GET', `/webhooks/${own.body.id}/deliveries/`, { keys: B });
      expectOk(ownLog);
      expect(ownLog.body.results).toEqual([]);
      await expectAUntouched();
    });

    it('the same target URL in both projects: B unsubscribing removes only B’s webhook', async () => {
      const mirror = await call('POST', '/webhooks/', { keys: B, json: { target_url: hookA.target_url, event: 'file.info_updated' } });
      expectOk(mirror, 201);
      expect(mirror.body.id).not.toBe(hookA.id);
      expect(mirror.body.signing_secret).toBeNull();
      expect(await call('DELETE', '/webhooks/unsubscribe/', { keys: B, json: { target_url: hookA.target_url } })).toMatchObject({ status: 204, text: '' });
      expect((await webhooksOf(B)).map((h) => h.id)).not.toContain(mirror.body.id);
      await expectAUntouched();
    });

    it("B's lists never show A's files, groups or webhooks", async () => {
      const groupB = await createGroup(trove, B.publicKey, [fileB]);
      for (const query of ['', '?stored=true', '?stored=false', '?removed=true', '?ordering=-datetime_uploaded&limit=1000']) {
        const list = await call('GET', `/files/${query}`, { keys: B });
        expectOk(list);
        const uuids = (list.body.results as RestFile[]).map((f) => f.uuid);
        expect(uuids).not.toContain(fileA);
        expect(uuids).not.toContain(storedA);
        if (query === '' || query === '?stored=true') expect(uuids).toEqual([fileB]);
      }
      const totals = await fileTotals(B);
      expect(totals).toEqual({ total: 1, totals: { stored: 1, unstored: 0, removed: 0 } });
      const groups = await call('GET', '/groups/?limit=1000', { keys: B });
      expectOk(groups);
      expect((groups.body.results as Array<{ id: string }>).map((g) => g.id)).toEqual([groupB]);
      expect(groups.body.total).toBe(1);
      const hooks = await webhooksOf(B);
      expect(hooks.map((h) => h.id)).not.toContain(hookA.id);
      expect(JSON.stringify(hooks)).not.toContain('secret-of-a');
      const project = await call('GET', '/project/', { keys: B });
      expect(project.body).toMatchObject({ name: 'project B', pub_key: B.publicKey });
      // And A's lists do not show B's.
      const listA = await call('GET', '/files/?limit=1000');
      expect((listA.body.results as RestFile[]).map((f) => f.uuid)).not.toContain(fileB);
      const groupsA = await call('GET', '/groups/?limit=1000');
      expect((groupsA.body.results as Array<{ id: string }>).map((g) => g.id)).not.toContain(groupB);
    });

    it("A's file events are delivered to A's webhooks only, never to B's", async () => {
      const ownB = await call('POST', '/webhooks/', { keys: B, json: { target_url: 'https://b.example/stored', event: 'file.stored' } });
      expectOk(ownB, 201);
      const hookOfA = await call('POST', '/webhooks/', { json: { target_url: `http://127.0.0.1:${receiver.port}/a-stored`, event: 'file.stored' } });
      expectOk(hookOfA, 201);
      const uuid = await uploadFile(trove, Buffer.from('stored later'), 'later.txt', { UPLOADCARE_STORE: '0' });
      expectOk(await call('PUT', `/files/${uuid}/storage/`));
      await waitFor(async () => {
        const log = await call('GET', `/webhooks/${hookOfA.body.id}/deliveries/`);
        return (log.body as { results: RestDelivery[] }).results[0];
      });
      const logB = await call('GET', `/webhooks/${ownB.body.id}/deliveries/`, { keys: B });
      expectOk(logB);
      expect(logB.body.results).toEqual([]);
      expect(await call('DELETE', '/webhooks/unsubscribe/', { json: { target_url: hookOfA.body.target_url } })).toMatchObject({ status: 204 });
    });

    it("A's own keys still do everything B was refused (the refusals were not blanket)", async () => {
      expectOk(await call('GET', `/webhooks/${hookA.id}/deliveries/`));
      expectOk(await call('GET', `/files/${fileA}/metadata/owner/`));
      expectOk(await call('POST', `/webhooks/${hookA.id}/deliveries/${deliveryA}/replay/`), 202);
      await expectAUntouched();
    });
  });

  describe('bad parameters', () => {
    let target: string;

    beforeAll(async () => {
      target = await uploadFile(trove, Buffer.from('param target'), 'p.txt', { UPLOADCARE_STORE: '0', 'metadata[keep]': 'me' });
    });

    async function expectTargetUntouched(): Promise<void> {
      const file = await fileOf(target);
      expect(file.datetime_stored).toBeNull();
      expect(file.datetime_removed).toBeNull();
      expect(file.metadata).toEqual({ keep: 'me' });
    }

    it.each([
      ['limit=0', /`limit`/],
      ['limit=1001', /`limit`/],
      ['limit=abc', /`limit`/],
      ['limit=-1', /`limit`/],
      ['limit=10.5', /`limit`/],
      ['ordering=size', /`ordering`/],
      ['ordering=-size', /`ordering`/],
      ['stored=maybe', /`stored`/],
      ['removed=maybe', /`removed`/],
      ['from=yesterday', /`from`/],
      ['from=2024-13-45T00:00:00Z', /`from`/],
      [`from=${encodeURIComponent('2024-01-01T00:00:00Z~not-a-uuid')}`, /`from`/],
    ])('GET /files/?%s is 400 naming the parameter', async (query, detail) => {
      expectDetail(await call('GET', `/files/?${query}`), 400, detail);
    });

    it.each([
      ['limit=0', /`limit`/],
      ['limit=1001', /`limit`/],
      ['limit=abc', /`limit`/],
      ['ordering=datetime_uploaded', /`ordering`/],
      ['from=yesterday', /`from`/],
      [`from=${encodeURIComponent(`2024-01-01T00:00:00Z~${randomUUID()}`)}`, /`from`/],
    ])('GET /groups/?%s is 400 naming the parameter', async (query, detail) => {
      expectDetail(await call('GET', `/groups/?${query}`), 400, detail);
    });

    it('a well-formed cursor is accepted', async () => {
      expectOk(await call('GET', `/files/?from=${encodeURIComponent(`2024-01-01T00:00:00.000Z~${randomUUID()}`)}`));
      expectOk(await call('GET', '/files/?from=2024-01-01T00:00:00Z&limit=1000&ordering=-datetime_uploaded&stored=false&removed=0'));
    });

    it.each([
      ['not JSON', 'this is not json', 'Expected JSON object.'],
      ['a JSON object', JSON.stringify({ uuids: ['x'] }), 'Expected list of UUIDs'],
      ['a JSON string', JSON.stringify('x'), 'Expected list of UUIDs'],
      ['an empty array', '[]', 'List of UUIDs can not be empty'],
      ['101 uuids', JSON.stringify(Array.from({ length: 101 }, () => randomUUID())), 'Maximum UUIDs per request is exceeded. The limit is 100'],
    ])('a batch body that is %s is 400', async (_name, raw, detail) => {
      for (const method of ['PUT', 'DELETE']) {
        expectDetail(await call(method, '/files/storage/', { raw }), 400, detail);
      }
      await expectTargetUntouched();
    });

    it('101 uuids are refused as a whole: the valid one among them is not acted on', async () => {
      const uuids = [target, ...Array.from({ length: 100 }, () => randomUUID())];
      expectDetail(await call('PUT', '/files/storage/', { json: uuids }), 400, 'Maximum UUIDs per request is exceeded. The limit is 100');
      expectDetail(await call('DELETE', '/files/storage/', { json: uuids, signed: {} }), 400, 'Maximum UUIDs per request is exceeded. The limit is 100');
      await expectTargetUntouched();
    });

    it('a batch without a body is 400', async () => {
      expectDetail(await call('PUT', '/files/storage/'), 400, 'Expected list of UUIDs');
      expectDetail(await call('DELETE', '/files/storage/', { contentType: null }), 400, 'Expected list of UUIDs');
    });

    it('non-string batch items are reported Invalid, and a uuid hidden inside one is not acted on', async () => {
      const items = [123, null, { uuid: target }, [target], true];
      for (const method of ['PUT', 'DELETE']) {
        const answer = await call(method, '/files/storage/', { json: items });
        expectOk(answer);
        expect(answer.body.result).toEqual([]);
        expect(answer.body.problems).toEqual({
          '123': 'Invalid',
          null: 'Invalid',
          [JSON.stringify({ uuid: target })]: 'Invalid',
          [JSON.stringify([target])]: 'Invalid',
          true: 'Invalid',
        });
      }
      await expectTargetUntouched();
    });

    it('local_copy refuses a missing or bad source, a bad store flag, bad metadata', async () => {
      const before = await fileTotals();
      expectDetail(await call('POST', '/files/local_copy/', { json: {} }), 400, '`source` parameter is required.');
      expectDetail(await call('POST', '/files/local_copy/', { json: { source: '' } }), 400, '`source` parameter is required.');
      expectDetail(await call('POST', '/files/local_copy/'), 400, '`source` parameter is required.');
      expectDetail(await call('POST', '/files/local_copy/', { json: { source: 'not-a-uuid' } }), 400, 'Bad `source` parameter. Use UUID or CDN URL.');
      expectDetail(await call('POST', '/files/local_copy/', { json: { source: 42 } }), 400, 'Bad `source` parameter. Use UUID or CDN URL.');
      expectDetail(await call('POST', '/files/local_copy/', { json: { source: `${trove.url}/${target}/-/resize/abc/` } }), 400, /source/);
      expectDetail(await call('POST', '/files/local_copy/', { json: { source: target, store: 'maybe' } }), 400, '`store` parameter should be `true` or `false`.');
      expectDetail(await call('POST', '/files/local_copy/', { json: { source: target, metadata: 'x' } }), 400, /`metadata`/);
      expectDetail(await call('POST', '/files/local_copy/', { json: { source: target, metadata: ['x'] } }), 400, /`metadata`/);
      expectDetail(await call('POST', '/files/local_copy/', { json: { source: target, metadata: { n: 1 } } }), 400, /"n"/);
      expectDetail(await call('POST', '/files/local_copy/', { json: { source: target, metadata: { 'bad key': 'v' } } }), 400, /bad key/);
      expectDetail(await call('POST', '/files/local_copy/', { json: [target] }), 400, 'Expected JSON object.');
      expectDetail(await call('POST', '/files/local_copy/', { json: { source: randomUUID() } }), 404, 'Not found.');
      expect(await fileTotals()).toEqual(before);
    });

    it('local_copy from a file of another project is 404', async () => {
      const fileOfB = await uploadFile(trove, Buffer.from('B only'), 'b-only.txt', {}, { publicKey: B.publicKey });
      const before = await fileTotals();
      expectDetail(await call('POST', '/files/local_copy/', { json: { source: fileOfB, store: true } }), 404, 'Not found.');
      expect(await fileTotals()).toEqual(before);
    });

    it.each([
      ['a number', '123'],
      ['an object', JSON.stringify({ value: 'x' })],
      ['an array', JSON.stringify(['x'])],
      ['null', 'null'],
      ['true', 'true'],
    ])('metadata PUT with %s as body is 400', async (_name, raw) => {
      expectDetail(await call('PUT', `/files/${target}/metadata/keep/`, { raw }), 400, 'The request body must be a JSON string: the metadata value.');
      expectDetail(await call('PUT', `/files/${target}/metadata/fresh/`, { raw }), 400, 'The request body must be a JSON string: the metadata value.');
      await expectTargetUntouched();
    });

    it('metadata PUT with no body, or a body that is not JSON, is 400', async () => {
      expectDetail(await call('PUT', `/files/${target}/metadata/keep/`), 400, /JSON string/);
      expectDetail(await call('PUT', `/files/${target}/metadata/keep/`, { raw: 'plain text' }), 400, 'Expected JSON object.');
      expectDetail(await call('PUT', `/files/${target}/metadata/keep/`, { raw: 'plain text', contentType: 'text/plain' }), 400, /JSON string/);
      await expectTargetUntouched();
    });

    it.each([
      ['a space and !', 'bad%20key!', /may contain only/],
      ['a slash', 'a%2Fb', /may contain only/],
      ['non-ASCII letters', encodeURIComponent('ключ'), /may contain only/],
      ['65 characters', 'k'.repeat(65), /longer than 64/],
    ])('a metadata key with %s is 400', async (_name, key, detail) => {
      expectDetail(await call('PUT', `/files/${target}/metadata/${key}/`, { json: 'value' }), 400, detail);
      await expectTargetUntouched();
    });

    it('a metadata value of 513 characters, or empty, is 400; 512 is fine', async () => {
      expectDetail(await call('PUT', `/files/${target}/metadata/keep/`, { json: 'v'.repeat(513) }), 400, /longer than 512/);
      expectDetail(await call('PUT', `/files/${target}/metadata/other/`, { json: 'v'.repeat(513) }), 400, /longer than 512/);
      expectDetail(await call('PUT', `/files/${target}/metadata/other/`, { json: '' }), 400, /must not be empty/);
      await expectTargetUntouched();
      const uuid = await uploadFile(trove, Buffer.from('512'), '512.txt');
      const answer = await call('PUT', `/files/${uuid}/metadata/long/`, { json: 'v'.repeat(512) });
      expectOk(answer, 201);
      expect(answer.body).toBe('v'.repeat(512));
      expect(answer.contentType).toBe('application/json');
    });

    it.each([
      ['a string', '"pets"', 'Expected a JSON object {"tags": [...]} with the array of tags.'],
      ['null', 'null', 'Expected a JSON object {"tags": [...]} with the array of tags.'],
      ['no tags', '{}', '`tags` must be a JSON array of tag strings, e.g. ["cats", "2026"].'],
      ['tags null', '{"tags": null}', '`tags` must be a JSON array of tag strings, e.g. ["cats", "2026"].'],
      ['tags a string', '{"tags": "pets"}', '`tags` must be a JSON array of tag strings, e.g. ["cats", "2026"].'],
      ['a number among tags', '{"tags": ["ok", 7]}', 'tags[1] must be a string; got 7.'],
      ['a space inside a tag', '{"tags": ["ok", " Good Boy "]}', 'Tag "good boy" may contain only Latin letters, digits, "-", "_" and "." (no spaces or other characters).'],
      ['a plus', '["a+b"]', 'Tag "a+b" may contain only Latin letters, digits, "-", "_" and "." (no spaces or other characters).'],
      ['101 characters', JSON.stringify({ tags: ['t'.repeat(101)] }), `Tag "${'t'.repeat(40)}…" is 101 characters long; a tag has at most 100.`],
      ['51 tags', JSON.stringify({ tags: Array.from({ length: 51 }, (_, i) => `t${i}`) }), 'A file has at most 50 tags; this would leave it 51.'],
    ])('tags PUT with %s is 400, saying what is wrong', async (_name, raw, detail) => {
      expectDetail(await call('PUT', `/files/${target}/tags/`, { raw }), 400, detail);
      await expectTargetUntouched();
    });

    it.each([
      ['a list', '["a"]', 'Expected a JSON object {"add": [...], "delete": [...]}.'],
      ['add a string', '{"add": "a"}', '`add` must be a JSON array of tag strings, e.g. ["cats", "2026"].'],
      ['delete null', '{"delete": null}', '`delete` must be a JSON array of tag strings, e.g. ["cats", "2026"].'],
      ['a number to delete', '{"delete": [1]}', 'delete[0] must be a string; got 1.'],
      ['an @ to add', '{"add": ["me@home"]}', 'Tag "me@home" may contain only Latin letters, digits, "-", "_" and "." (no spaces or other characters).'],
    ])('tags PATCH with %s is 400, saying what is wrong', async (_name, raw, detail) => {
      expectDetail(await call('PATCH', `/files/${target}/tags/`, { raw }), 400, detail);
      await expectTargetUntouched();
    });

    it('a 51st metadata key is 400; changing one of 50 is fine', async () => {
      const fields: Record<string, string> = {};
      for (let i = 0; i < 50; i += 1) fields[`metadata[k${i}]`] = `v${i}`;
      const uuid = await uploadFile(trove, Buffer.from('fifty'), 'fifty.txt', fields);
      expectDetail(await call('PUT', `/files/${uuid}/metadata/k50/`, { json: 'one too many' }), 400, /At most 50/);
      expectOk(await call('PUT', `/files/${uuid}/metadata/k0/`, { json: 'changed' }), 200);
      const metadata = await call('GET', `/files/${uuid}/metadata/`);
      expectOk(metadata);
      expect(Object.keys(metadata.body as object)).toHaveLength(50);
      expect(metadata.body).toMatchObject({ k0: 'changed', k49: 'v49' });
      expect(metadata.body).not.toHaveProperty('k50');
    });

    it('metadata keys named like Object.prototype members are plain keys', async () => {
      const uuid = await uploadFile(trove, Buffer.from('proto'), 'proto.txt');
      expectDetail(await call('GET', `/files/${uuid}/metadata/constructor/`), 404, 'Not found.');
      expectDetail(await call('GET', `/files/${uuid}/metadata/__proto__/`), 404, 'Not found.');
      expectDetail(await call('DELETE', `/files/${uuid}/metadata/toString/`), 404, 'Not found.');
      expectOk(await call('PUT', `/files/${uuid}/metadata/constructor/`, { json: 'c' }), 201);
      expectOk(await call('PUT', `/files/${uuid}/metadata/__proto__/`, { json: 'p' }), 201);
      const value = await call('GET', `/files/${uuid}/metadata/__proto__/`);
      expectOk(value);
      expect(value.body).toBe('p');
      const all = await call('GET', `/files/${uuid}/metadata/`);
      expect(JSON.parse(all.text)).toEqual(JSON.parse('{"constructor":"c","__proto__":"p"}'));
      expect(Object.keys(JSON.parse(all.text) as object).sort()).toEqual(['__proto__', 'constructor']);
    });

    describe('webhooks', () => {
      let existing: RestWebhook;

      beforeAll(async () => {
        // Inactive: the suite's later file events need not go anywhere.
        const created = await call('POST', '/webhooks/', { json: { target_url: 'https://hooks.example/existing', event: 'file.stored', signing_secret: 's', is_active: false } });
        expectOk(created, 201);
        existing = created.body as unknown as RestWebhook;
      });

      async function expectHooksUnchanged(before: RestWebhook[]): Promise<void> {
        expect(await webhooksOf()).toEqual(before);
      }

      it.each([
        ['no target_url', { event: 'file.uploaded' }, '`target_url` is missing.'],
        ['an empty target_url', { target_url: '', event: 'file.uploaded' }, '`target_url` is missing.'],
        ['an ftp:// target_url', { target_url: 'ftp://hooks.example/x', event: 'file.uploaded' }, /http/],
        ['a javascript: target_url', { target_url: 'javascript:alert(1)', event: 'file.uploaded' }, /http/],
        ['a target_url with credentials', { target_url: 'https://user:pass@hooks.example/x', event: 'file.uploaded' }, /credentials/],
        ['a relative target_url', { target_url: '/hooks', event: 'file.uploaded' }, /`target_url`/],
        ['a target_url of 256 characters', { target_url: `https://hooks.example/${'a'.repeat(256 - 22)}`, event: 'file.uploaded' }, /`target_url`/],
        ['a numeric target_url', { target_url: 12, event: 'file.uploaded' }, /`target_url`/],
        ['event file.exploded', { target_url: 'https://hooks.example/new', event: 'file.exploded' }, /`event` must be one of/],
        ['a signing_secret of 33 characters', { target_url: 'https://hooks.example/new', event: 'file.uploaded', signing_secret: 's'.repeat(33) }, /`signing_secret`/],
        ['is_active "maybe"', { target_url: 'https://hooks.example/new', event: 'file.uploaded', is_active: 'maybe' }, /`is_active`/],
        ['version 0.6', { target_url: 'https://hooks.example/new', event: 'file.uploaded', version: '0.6' }, /`version`/],
        ['a duplicate (target_url, event)', { target_url: 'https://hooks.example/existing', event: 'file.stored' }, /already exists/],
      ])('creating a webhook with %s is 400 and creates nothing', async (_name, json, detail) => {
        const before = await webhooksOf();
        expectDetail(await call('POST', '/webhooks/', { json }), 400, detail);
        await expectHooksUnchanged(before);
      });

      it('a form-encoded webhook with a bad event is 400 too', async () => {
        const before = await webhooksOf();
        const raw = new URLSearchParams({ target_url: 'https://hooks.example/form', event: 'file.exploded' }).toString();
        expectDetail(await call('POST', '/webhooks/', { raw, contentType: 'application/x-www-form-urlencoded' }), 400, /`event`/);
        await expectHooksUnchanged(before);
      });

      it.each([
        ['an ftp:// target_url', { target_url: 'ftp://hooks.example/x' }, /http/],
        ['credentials in target_url', { target_url: 'https://u:p@hooks.example/x' }, /credentials/],
        ['event file.exploded', { event: 'file.exploded' }, /`event`/],
        ['a signing_secret of 33 characters', { signing_secret: 'x'.repeat(33) }, /`signing_secret`/],
        ['is_active "maybe"', { is_active: 'maybe' }, /`is_active`/],
      ])('updating a webhook with %s is 400 and changes nothing', async (_name, json, detail) => {
        const before = await webhooksOf();
        expectDetail(await call('PUT', `/webhooks/${existing.id}/`, { json }), 400, detail);
        await expectHooksUnchanged(before);
      });

      // POST refuses a second webhook for the same (target_url, event) of a project, and Uploadcare
      // documents that pair as unique; PUT must not be a way around it (each event would then be
      // sent twice to the same receiver).
      it('updating a webhook into a duplicate (target_url, event) is 400 and changes nothing', async () => {
        const second = await call('POST', '/webhooks/', { json: { target_url: 'https://hooks.example/second', event: 'file.stored' } });
        expectOk(second, 201);
        const third = await call('POST', '/webhooks/', { json: { target_url: existing.target_url, event: 'file.deleted' } });
        expectOk(third, 201);
        const before = await webhooksOf();
        try {
          expectDetail(await call('PUT', `/webhooks/${second.body.id}/`, { json: { target_url: existing.target_url } }), 400, /already exists/);
          expectDetail(await call('PUT', `/webhooks/${third.body.id}/`, { json: { event: 'file.stored' } }), 400, /already exists/);
          await expectHooksUnchanged(before);
        } finally {
          for (const hook of await webhooksOf()) {
            if (hook.id === second.body.id || hook.id === third.body.id) {
              await call('PUT', `/webhooks/${hook.id}/`, { json: { is_active: false } });
            }
          }
        }
      });

      it('updating an unknown webhook is 404', async () => {
        const before = await webhooksOf();
        for (const id of ['999999', '999999999999999', '0', 'abc', '1.5', '9999999999999999999']) {
          expectDetail(await call('PUT', `/webhooks/${id}/`, { json: { is_active: false } }), 404, 'Not found.');
        }
        expectDetail(await call('GET', '/webhooks/999999/deliveries/'), 404, 'Not found.');
        expectDetail(await call('POST', `/webhooks/999999/deliveries/${randomUUID()}/replay/`), 404, 'Not found.');
        expectDetail(await call('POST', `/webhooks/${existing.id}/deliveries/${randomUUID()}/replay/`), 404, 'Not found.');
        expectDetail(await call('POST', `/webhooks/${existing.id}/deliveries/not-a-delivery-id/replay/`), 404, 'Not found.');
        await expectHooksUnchanged(before);
      });

      it('unsubscribing needs a target_url that exists', async () => {
        const before = await webhooksOf();
        expectDetail(await call('DELETE', '/webhooks/unsubscribe/', { json: {} }), 400, '`target_url` is missing.');
        expectDetail(await call('DELETE', '/webhooks/unsubscribe/'), 400, '`target_url` is missing.');
        expectDetail(await call('DELETE', '/webhooks/unsubscribe/', { json: { target_url: 7 } }), 400, '`target_url` is missing.');
        expectDetail(await call('DELETE', '/webhooks/unsubscribe/', { json: { target_url: 'https://hooks.example/never' } }), 404, 'Not found.');
        await expectHooksUnchanged(before);
      });

      it.each([
        ['limit=0'],
        ['limit=101'],
        ['limit=abc'],
      ])('the delivery log refuses %s', async (query) => {
        expectDetail(await call('GET', `/webhooks/${existing.id}/deliveries/?${query}`), 400, /`limit`/);
      });
    });

    it('a malformed JSON body is 400 "Expected JSON object."', async () => {
      const before = await webhooksOf();
      expectDetail(await call('POST', '/webhooks/', { raw: '{"target_url": "https://hooks.example/x",' }), 400, 'Expected JSON object.');
      expectDetail(await call('POST', '/webhooks/', { json: ['https://hooks.example/x'] }), 400, 'Expected JSON object.');
      expectDetail(await call('PUT', `/files/${target}/metadata/keep/`, { raw: '"unterminated' }), 400, 'Expected JSON object.');
      expectDetail(await call('POST', '/files/local_copy/', { raw: '{source:' }), 400, 'Expected JSON object.');
      expect(await webhooksOf()).toEqual(before);
      await expectTargetUntouched();
    });

    it('a 2 MB JSON body is refused with a JSON 413 and the server carries on', async () => {
      const before = await webhooksOf();
      const raw = JSON.stringify({ target_url: 'https://hooks.example/huge', event: 'file.uploaded', padding: 'x'.repeat(2 * 1024 * 1024) });
      expectDetail(await call('POST', '/webhooks/', { raw }), 413, /too large/);
      expectDetail(await call('PUT', '/files/storage/', { raw: JSON.stringify([target, 'x'.repeat(2 * 1024 * 1024)]) }), 413, /too large/);
      expectDetail(await call('PUT', `/files/${target}/metadata/keep/`, { raw: JSON.stringify('x'.repeat(2 * 1024 * 1024)), signed: {} }), 413, /too large/);
      expect(await webhooksOf()).toEqual(before);
      await expectTargetUntouched();
      expectOk(await call('GET', '/project/'));
      expectOk(await call('GET', '/project/', { signed: {} }));
    });
  });

  describe('removed files', () => {
    let uuid: string;
    let removedAt: string;
    let storedAt: string | null;

    beforeAll(async () => {
      uuid = await uploadFile(trove, Buffer.from('soon gone'), 'gone.txt', { UPLOADCARE_STORE: '1', 'metadata[k]': 'v' });
      expect((await fetch(`${trove.url}/${uuid}/`)).status).toBe(200);
      const removed = await call('DELETE', `/files/${uuid}/storage/`);
      expectOk(removed);
      removedAt = removed.body.datetime_removed as string;
      storedAt = removed.body.datetime_stored as string | null;
      expect(removedAt).toEqual(expect.any(String));
    });

    it('deleting again is 200 with the same datetime_removed, singly and in a batch', async () => {
      const again = await call('DELETE', `/files/${uuid}/storage/`);
      expectOk(again);
      expect(again.body.datetime_removed).toBe(removedAt);
      expect(again.body.original_file_url).toBeNull();
      const signedAgain = await call('DELETE', `/files/${uuid}/storage/`, { signed: {} });
      expectOk(signedAgain);
      expect(signedAgain.body.datetime_removed).toBe(removedAt);
      const batch = await call('DELETE', '/files/storage/', { json: [uuid] });
      expectOk(batch);
      expect(batch.body.problems).toEqual({});
      expect((batch.body.result as RestFile[]).map((f) => [f.uuid, f.datetime_removed])).toEqual([[uuid, removedAt]]);
      const info = await fileOf(uuid);
      expect(info.datetime_removed).toBe(removedAt);
      expect((await fileTotals()).totals.removed).toBeGreaterThanOrEqual(1);
    });

    it('storing a removed file is 404, singly; a batch reports it missing', async () => {
      expectDetail(await call('PUT', `/files/${uuid}/storage/`), 404, 'Not found.');
      const batch = await call('PUT', '/files/storage/', { json: [uuid] });
      expectOk(batch);
      expect(batch.body).toEqual({ status: 'ok', problems: { [uuid]: 'Missing in the project' }, result: [] });
      const info = await fileOf(uuid);
      expect(info.datetime_removed).toBe(removedAt);
      expect(info.datetime_stored).toBe(storedAt);
    });

    it('metadata of a removed file is 404 on every endpoint', async () => {
      expectDetail(await call('GET', `/files/${uuid}/metadata/`), 404, 'Not found.');
      expectDetail(await call('GET', `/files/${uuid}/metadata/k/`), 404, 'Not found.');
      expectDetail(await call('PUT', `/files/${uuid}/metadata/k/`, { json: 'w' }), 404, 'Not found.');
      expectDetail(await call('PUT', `/files/${uuid}/metadata/new/`, { json: 'w' }), 404, 'Not found.');
      expectDetail(await call('DELETE', `/files/${uuid}/metadata/k/`), 404, 'Not found.');
      expect((await fileOf(uuid)).metadata).toEqual({ k: 'v' });
    });

    it('a removed file cannot be copied or pre-rendered, and the CDN answers 404', async () => {
      expectDetail(await call('POST', '/files/local_copy/', { json: { source: uuid } }), 404, 'Not found.');
      expectDetail(await call('POST', `/files/${uuid}/derivatives/`, { json: { operations: ['-/resize/10x/'] } }), 404, 'Not found.');
      expect((await fetch(`${trove.url}/${uuid}/`)).status).toBe(404);
      expect((await fetch(`${trove.url}/${uuid}/gone.txt`)).status).toBe(404);
    });

    it('the removed file is listed only with removed=true', async () => {
      const live = await call('GET', '/files/?limit=1000');
      expect((live.body.results as RestFile[]).map((f) => f.uuid)).not.toContain(uuid);
      const removed = await call('GET', '/files/?removed=true&limit=1000');
      expect((removed.body.results as RestFile[]).map((f) => f.uuid)).toContain(uuid);
    });
  });

  describe('webhook targets on private addresses (SSRF)', () => {
    it('a loopback webhook can be created, but no delivery to it is ever sent', async () => {
      const loopback = /127\.0\.0\.1|::1|7f00|loopback/;
      const targets: Array<[string, RegExp]> = [
        [`http://127.0.0.1:${receiver.port}/ssrf`, loopback],
        [`http://localhost:${receiver.port}/ssrf`, loopback],
        [`http://[::ffff:127.0.0.1]:${receiver.port}/ssrf`, loopback],
        [`http://2130706433:${receiver.port}/ssrf`, loopback],
        ['http://169.254.169.254/latest/meta-data/', /169\.254\.169\.254/],
        [`http://10.0.0.1:${receiver.port}/ssrf`, /10\.0\.0\.1/],
      ];
      const hooks: Array<RestWebhook & { address: RegExp }> = [];
      for (const [target_url, address] of targets) {
        const created = await call('POST', '/webhooks/', { json: { target_url, event: 'file.uploaded' } });
        expectOk(created, 201);
        hooks.push({ ...(created.body as unknown as RestWebhook), address });
      }
      const hitsBefore = receiver.hits.length;
      const uuid = await uploadFile(trove, Buffer.from('ssrf'), 'ssrf.txt');

      for (const hook of hooks) {
        const delivery = await waitFor(async () => {
          const log = await call('GET', `/webhooks/${hook.id}/deliveries/`);
          expectOk(log);
          const entry = (log.body as { results: Array<RestDelivery & { payload: { data: { uuid: string } } }> }).results.find((d) => d.payload.data.uuid === uuid);
          return entry && entry.attempt_log.length > 0 ? entry : undefined;
        });
        expect(delivery.status, JSON.stringify(delivery)).not.toBe('delivered');
        expect(delivery.last_status_code).toBeNull();
        expect(delivery.last_error).toMatch(/not allowed/);
        expect(delivery.last_error).toMatch(hook.address);
        expect(delivery.attempt_log[0]).toMatchObject({ attempt: 1, status_code: null, error: delivery.last_error });

        // A replay is refused the same way.
        expectOk(await call('POST', `/webhooks/${hook.id}/deliveries/${delivery.id}/replay/`), 202);
        await waitFor(async () => {
          const log = await call('GET', `/webhooks/${hook.id}/deliveries/`);
          const entry = (log.body as { results: RestDelivery[] }).results.find((d) => d.id === delivery.id);
          return entry && entry.attempt_log.length >= 2 ? entry : undefined;
        }).then((entry) => {
          expect(entry.status).not.toBe('delivered');
          expect(entry.attempt_log.every((attempt) => attempt.status_code === null && /not allowed/.test(attempt.error ?? ''))).toBe(true);
        });
      }
      await sleep(200);
      expect(receiver.hits.slice(hitsBefore)).toEqual([]);
      for (const [target_url] of targets) {
        expect(await call('DELETE', '/webhooks/unsubscribe/', { json: { target_url } })).toMatchObject({ status: 204, text: '' });
      }
    });
  });

  describe('every answer', () => {
    it('is typed exactly application/json (204s have no body)', () => {
      expect(answers.length).toBeGreaterThan(100);
      for (const answer of answers) {
        const where = `${answer.method} ${answer.path} → ${answer.status}`;
        if (answer.status === 204) expect(answer.text, where).toBe('');
        else expect(answer.contentType, where).toBe('application/json');
      }
    });

    it('never contains a secret key, and no 5xx happened', () => {
      for (const answer of answers) {
        const where = `${answer.method} ${answer.path} → ${answer.status}`;
        expect(answer.status, where).toBeLessThan(500);
        expect(answer.text, where).not.toContain(A.secretKey);
        expect(answer.text, where).not.toContain(B.secretKey);
      }
    });
  });
});

describe.each(backends)('REST API rate limits (%s)', (backend) => {
  let trove: TestTrove;
  let A: Keys;
  let B: Keys;

  const call = (method: string, path: string, options: CallOptions = {}) => restCall(trove.url, A, method, path, options);

  function expectThrottled(answer: Answer): number {
    expect(answer.status, answer.text).toBe(429);
    expect(answer.contentType).toBe('application/json');
    expect(answer.retryAfter).toMatch(/^[1-9]\d*$/);
    const seconds = Number(answer.retryAfter);
    expectDetail(answer, 429, `Request was throttled. Expected available in ${seconds} second${seconds === 1 ? '' : 's'}.`);
    return seconds;
  }

  beforeAll(async () => {
    trove = await startTrove({ backend, env: { TROVE_RATE_LIMIT_REST_READ: '1:3', TROVE_RATE_LIMIT_REST_WRITE: '1:2' } });
    A = { publicKey: trove.publicKey, secretKey: trove.secretKey };
    const other = await trove.ctx.services.projects.create({ name: 'project B' });
    B = { publicKey: other.project.publicKey, secretKey: other.secrets[0]!.secret };
  }, 60_000);

  afterAll(async () => {
    await trove?.close();
  });

  it('reads beyond the burst are 429 with Retry-After; writes and other projects have their own budgets', async () => {
    for (let i = 0; i < 3; i += 1) expectOk(await call('GET', '/project/'));
    const retryAfter = expectThrottled(await call('GET', '/files/'));
    expect(retryAfter).toBeLessThanOrEqual(1);
    expectThrottled(await call('GET', '/project/', { signed: {} }));

    // Project B's budget is its own.
    for (let i = 0; i < 3; i += 1) expectOk(await call('GET', '/project/', { keys: B }));

    // Writes are budgeted apart from reads.
    expectOk(await call('PUT', '/files/storage/', { json: [randomUUID()] }));
    expectOk(await call('PUT', '/files/storage/', { json: [randomUUID()] }));
    expectThrottled(await call('PUT', '/files/storage/', { json: [randomUUID()] }));
    expectOk(await call('PUT', '/files/storage/', { keys: B, json: [randomUUID()] }));

    // The budget comes back at the announced time.
    await sleep(retryAfter * 1000 + 50);
    expectOk(await call('GET', '/project/'));
  });

  it('requests that fail authentication do not spend the project’s budget', async () => {
    const third = await trove.ctx.services.projects.create({ name: 'project C' });
    const C: Keys = { publicKey: third.project.publicKey, secretKey: third.secrets[0]!.secret };
    for (let i = 0; i < 5; i += 1) expectDetail(await call('GET', '/project/', { keys: { publicKey: C.publicKey, secretKey: 'wrong' } }), 401, INCORRECT);
    for (let i = 0; i < 3; i += 1) expectOk(await call('GET', '/project/', { keys: C }));
    expectThrottled(await call('GET', '/project/', { keys: C }));
  });
});
