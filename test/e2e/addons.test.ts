import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { availableBackends } from '../helpers/backends.js';
import { makeJpeg } from '../helpers/images.js';
import { describeWhenClamd, EICAR, EICAR_SIGNATURE, startClamd, type TestClamd } from '../helpers/clamd.js';
import { startTrove, type TestTrove } from '../helpers/trove-server.js';
import { closedPort, expectDeliveryError, sleep, uploadFile, UUID_RE } from '../helpers/upload-http.js';
import { DOCUMENT_LANE, VIDEO_LANE } from '../../src/jobs/catalogue.js';

const backends = await availableBackends();

interface Keys {
  publicKey: string;
  secretKey: string;
}

interface Answer {
  status: number;
  body: Record<string, unknown>;
  headers: Headers;
}

async function rest(trove: TestTrove, method: string, path: string, options: { keys?: Keys; json?: unknown; raw?: string } = {}): Promise<Answer> {
  const keys = options.keys ?? trove;
  const response = await fetch(`${trove.url}${path}`, {
    method,
    headers: {
      accept: 'application/vnd.uploadcare-v0.7+json',
      authorization: `Uploadcare.Simple ${keys.publicKey}:${keys.secretKey}`,
      ...(options.json !== undefined || options.raw !== undefined ? { 'content-type': 'application/json' } : {}),
    },
    ...(options.json !== undefined ? { body: JSON.stringify(options.json) } : options.raw !== undefined ? { body: options.raw } : {}),
  });
  const text = await response.text();
  return { status: response.status, body: text === '' ? {} : (JSON.parse(text) as Record<string, unknown>), headers: response.headers };
}

function expectDetail(answer: Answer, status: number, ...parts: string[]): void {
  expect(answer.status, JSON.stringify(answer.body)).toBe(status);
  expect(typeof answer.body.detail).toBe('string');
  for (const part of parts) expect(answer.body.detail).toContain(part);
}

const execute = (trove: TestTrove, addon: string, json: unknown, keys?: Keys) => rest(trove, 'POST', `/addons/${addon}/execute/`, { json, ...(keys ? { keys } : {}) });
const status = (trove: TestTrove, addon: string, query: string, keys?: Keys) => rest(trove, 'GET', `/addons/${addon}/execute/status/${query}`, keys ? { keys } : {});

async function until<T>(what: string, probe: () => Promise<T | undefined | null | false>, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

describe('add-ons on a server without ClamAV', () => {
  let trove: TestTrove;
  beforeAll(async () => {
    trove = await startTrove();
  }, 60_000);
  afterAll(async () => trove?.close());

  it('stays ready and says in /ready that each add-on is unavailable, and why', async () => {
    const response = await fetch(`${trove.url}/ready`);
    expect(response.status).toBe(200);
    const ready = (await response.json()) as { status: string; addons: Record<string, { available: boolean; reason?: string }> };
    expect(ready.status).toBe('ready');
    expect(ready.addons.uc_clamav_virus_scan).toEqual({ available: false, reason: expect.stringContaining('TROVE_CLAMD_URL is not set') });
    for (const name of ['aws_rekognition_detect_labels', 'aws_rekognition_detect_moderation_labels', 'remove_bg']) {
      expect(ready.addons[name]?.available, name).toBe(false);
      expect(ready.addons[name]?.reason, name).toContain('no offline engine');
    }
  });

  it('answers execute with a 503 naming the add-on as unavailable on this server', async () => {
    const uuid = await uploadFile(trove, Buffer.from('some text'), 'a.txt');
    const clamav = await execute(trove, 'uc_clamav_virus_scan', { target: uuid });
    expectDetail(clamav, 503, 'uc_clamav_virus_scan', 'not available on this server', 'TROVE_CLAMD_URL');
    expect(clamav.headers.get('content-type')).toBe('application/json');
    for (const name of ['aws_rekognition_detect_labels', 'aws_rekognition_detect_moderation_labels', 'remove_bg']) {
      expectDetail(await execute(trove, name, { target: uuid }), 503, name, 'not available on this server');
    }
    // Nothing was recorded: there is no request to poll.
    expect((await status(trove, 'uc_clamav_virus_scan', `?request_id=${crypto.randomUUID()}`)).body).toEqual({ status: 'unknown' });
  });

  it('refuses to turn scan-on-upload on without a scanner, and keeps the other settings editable', async () => {
    expectDetail(await rest(trove, 'PUT', '/project/', { json: { scan_on_upload: true } }), 503, 'uc_clamav_virus_scan');
    const project = await rest(trove, 'PUT', '/project/', { json: { purge_infected: true, scan_on_upload: false } });
    expect(project.status).toBe(200);
    expect(project.body).toMatchObject({ scan_on_upload: false, purge_infected: true });
  });

  it('reports a configured clamd that does not answer as unavailable and the node degraded, still 200', async () => {
    const port = await closedPort();
    const other = await startTrove({ env: { TROVE_CLAMD_URL: `tcp://127.0.0.1:${port}` } });
    try {
      const response = await fetch(`${other.url}/ready`);
      expect(response.status).toBe(200);
      const ready = (await response.json()) as { status: string; addons: Record<string, { available: boolean; reason?: string }> };
      expect(ready.status).toBe('degraded');
      expect(ready.addons.uc_clamav_virus_scan?.available).toBe(false);
      expect(ready.addons.uc_clamav_virus_scan?.reason).toContain(`tcp://127.0.0.1:${port} does not answer`);
    } finally {
      await other.close();
    }
  });
});

describeWhenClamd('add-on')('add-ons over HTTP with a real clamd', () => {
  let clamd: TestClamd;
  beforeAll(async () => {
    clamd = await startClamd();
  }, 60_000);
  afterAll(async () => clamd?.stop());

  describe.each(backends)('%s', (backend) => {
    let trove: TestTrove;
    let other: Keys;

    beforeAll(async () => {
      // A small stream limit, so a file over it is at hand; EICAR and the clean files are far below it.
      trove = await startTrove({ backend, env: { TROVE_CLAMD_URL: clamd.unixUrl, TROVE_CLAMD_MAX_STREAM: '64KiB' } });
      const created = await trove.ctx.services.projects.create({ name: 'someone else' });
      other = { publicKey: created.project.publicKey, secretKey: created.secrets[0]!.secret };
    }, 60_000);
    afterAll(async () => trove?.close());

    it('reports the add-on available in /ready, with the engine', async () => {
      const ready = (await (await fetch(`${trove.url}/ready`)).json()) as { status: string; addons: Record<string, { available: boolean; engine?: string }> };
      expect(ready.status).toBe('ready');
      expect(ready.addons.uc_clamav_virus_scan?.available).toBe(true);
      expect(ready.addons.uc_clamav_virus_scan?.engine).toMatch(/^ClamAV \d+\.\d+.* at unix:/);
      expect(ready.addons.remove_bg?.available).toBe(false);
    });

    it('refuses hostile execute requests with clear 4xx answers', async () => {
      const mine = await uploadFile(trove, Buffer.from('mine'), 'mine.txt');
      const theirs = await uploadFile(trove, Buffer.from('theirs'), 'theirs.txt', {}, { publicKey: other.publicKey });
      expectDetail(await execute(trove, 'no_such_addon', { target: mine }), 404, 'no_such_addon', 'uc_clamav_virus_scan');
      expectDetail(await execute(trove, 'x'.repeat(90), { target: mine }), 404, 'xxxx');
      expectDetail(await execute(trove, 'uc_clamav_virus_scan', { target: 'not-a-uuid' }), 400, '`target`');
      expectDetail(await execute(trove, 'uc_clamav_virus_scan', {}), 400, '`target` is required');
      expectDetail(await execute(trove, 'uc_clamav_virus_scan', { target: 42 }), 400, '`target`');
      expectDetail(await execute(trove, 'uc_clamav_virus_scan', { target: 'a'.repeat(100_000) }), 400, '`target`');
      expectDetail(await execute(trove, 'uc_clamav_virus_scan', [mine]), 400, 'Expected JSON object');
      expectDetail(await rest(trove, 'POST', '/addons/uc_clamav_virus_scan/execute/', { raw: '{"target":' }), 400);
      expectDetail(await execute(trove, 'uc_clamav_virus_scan', { target: mine, params: 'purge' }), 400, '`params`');
      expectDetail(await execute(trove, 'uc_clamav_virus_scan', { target: mine, params: { purge_infected: 'yes' } }), 400, 'purge_infected');
      expectDetail(await execute(trove, 'uc_clamav_virus_scan', { target: mine, params: { delete_everything: true } }), 400, 'delete_everything');
      // Another project's file is not found, exactly as an unknown one.
      expectDetail(await execute(trove, 'uc_clamav_virus_scan', { target: theirs }), 404, 'Not found.');
      expectDetail(await execute(trove, 'uc_clamav_virus_scan', { target: crypto.randomUUID() }), 404, 'Not found.');
      expect((await rest(trove, 'DELETE', `/files/${mine}/storage/`)).status).toBe(200);
      expectDetail(await execute(trove, 'uc_clamav_virus_scan', { target: mine }), 404, 'removed');
      // The other project can scan its own file; upper-case uuids name the same file.
      const ok = await execute(trove, 'uc_clamav_virus_scan', { target: theirs.toUpperCase() }, other);
      expect(ok.status).toBe(200);
      expect(ok.body.request_id).toMatch(UUID_RE);
    });

    it('refuses hostile status requests, and never shows one project another’s request', async () => {
      const uuid = await uploadFile(trove, Buffer.from('poll me'), 'poll.txt');
      const started = await execute(trove, 'uc_clamav_virus_scan', { target: uuid });
      const requestId = String(started.body.request_id);
      expectDetail(await status(trove, 'uc_clamav_virus_scan', ''), 400, '`request_id` is required');
      expectDetail(await status(trove, 'uc_clamav_virus_scan', '?request_id=nope'), 400, '`request_id` must be a UUID');
      expectDetail(await status(trove, 'uc_clamav_virus_scan', `?request_id=${'1'.repeat(500)}`), 400);
      expectDetail(await status(trove, 'no_such_addon', `?request_id=${requestId}`), 404, 'no_such_addon');
      expect((await status(trove, 'uc_clamav_virus_scan', `?request_id=${crypto.randomUUID()}`)).body).toEqual({ status: 'unknown' });
      expect((await status(trove, 'uc_clamav_virus_scan', `?request_id=${requestId}`, other)).body).toEqual({ status: 'unknown' });
      expect((await status(trove, 'remove_bg', `?request_id=${requestId}`)).body).toEqual({ status: 'unknown' });
      const done = await until('the scan', async () => {
        const answer = await status(trove, 'uc_clamav_virus_scan', `?request_id=${requestId.toUpperCase()}`);
        return answer.body.status === 'in_progress' ? null : answer.body;
      });
      expect(done).toEqual({ status: 'done' });
    });

    it('ends a scan of a file over the stream limit in error, saying why, without delivering a verdict', async () => {
      const uuid = await uploadFile(trove, Buffer.alloc(100 * 1024, 'a'), 'big.txt');
      const requestId = String((await execute(trove, 'uc_clamav_virus_scan', { target: uuid })).body.request_id);
      const ended = await until('the scan', async () => {
        const answer = await status(trove, 'uc_clamav_virus_scan', `?request_id=${requestId}`);
        return answer.body.status === 'in_progress' ? null : answer.body;
      });
      expect(ended.status).toBe('error');
      expect(ended.error).toContain('accepts at most 65536');
      const info = await rest(trove, 'GET', `/files/${uuid}/?include=appdata`);
      expect(info.body.appdata).toEqual({});
      expect(info.body.is_infected).toBeNull();
      // Not held: this file was never waiting for an upload scan.
      expect((await fetch(`${trove.url}/${uuid}/`)).status).toBe(200);
    });

    it('holds each new upload until its scan finds it clean, when the project scans on upload', async () => {
      const settings = await rest(trove, 'PUT', '/project/', { json: { scan_on_upload: true, purge_infected: false } });
      expect(settings.body).toMatchObject({ scan_on_upload: true, purge_infected: false });
      // With the worker stopped, the scans wait: what the server answers meanwhile is what a client sees before a scan ends.
      await trove.ctx.jobs.stopWorker(5_000);
      let clean: string;
      let infected: string;
      let tooBig: string;
      let photo: string;
      try {
        photo = await uploadFile(trove, await makeJpeg({ width: 64, height: 48 }), 'photo.jpg', {}, { type: 'image/jpeg' });
        clean = await uploadFile(trove, Buffer.from('a perfectly fine upload\n'), 'fine.txt');
        infected = await uploadFile(trove, EICAR, 'eicar.com');
        tooBig = await uploadFile(trove, Buffer.alloc(100 * 1024, 'b'), 'big.txt');
        for (const uuid of [clean, infected, tooBig]) {
          const held = await fetch(`${trove.url}/${uuid}/`);
          expect(held.headers.get('retry-after')).toBe('5');
          const body = await expectDeliveryError(held, 423);
          expect(body.code).toBe('FILE_SCAN_PENDING');
          expect(body.message).toContain('being scanned');
          expect((await fetch(`${trove.url}/${uuid}/file.txt`, { method: 'HEAD' })).status).toBe(423);
          const info = await rest(trove, 'GET', `/files/${uuid}/`);
          expect(info.body).toMatchObject({ is_ready: false, is_infected: null });
        }
        // A copy would be a way round the hold.
        const copy = await rest(trove, 'POST', '/files/local_copy/', { json: { source: clean } });
        expect(copy.status).toBe(423);
        // The hold is checked before the target storage is even looked up.
        const remote = await rest(trove, 'POST', '/files/remote_copy/', { json: { source: clean, target: 'backups' } });
        expect(remote.status).toBe(423);
        // So would a transformation, a revalidation or a group's member URL.
        expect((await expectDeliveryError(await fetch(`${trove.url}/${photo}/-/resize/32x/`), 423)).code).toBe('FILE_SCAN_PENDING');
        expect((await fetch(`${trove.url}/${photo}/-/resize/32x/`, { headers: { 'if-none-match': '"anything"' } })).status).toBe(423);
        const form = new FormData();
        form.append('pub_key', trove.publicKey);
        form.append('files[]', photo);
        const group = (await (await fetch(`${trove.uploadUrl}/group/`, { method: 'POST', body: form })).json()) as { id: string };
        expect((await fetch(`${trove.url}/${group.id}/nth/0/`)).status).toBe(423);
        const uploadInfo = (await (await fetch(`${trove.uploadUrl}/info/?pub_key=${trove.publicKey}&file_id=${photo}`)).json()) as { is_ready: boolean };
        expect(uploadInfo.is_ready).toBe(false);
      } finally {
        await trove.ctx.jobs.startWorker(trove.ctx.jobRegistry, { concurrency: 8, lanes: new Map([[VIDEO_LANE, 1], [DOCUMENT_LANE, 1]]) });
      }
      await until('the clean upload to be released', async () => (await fetch(`${trove.url}/${clean}/`)).status === 200);
      await until('the photo to be released', async () => (await fetch(`${trove.url}/${photo}/-/resize/32x/`)).status === 200);
      const released = await rest(trove, 'GET', `/files/${clean}/?include=appdata`);
      expect(released.body).toMatchObject({ is_ready: true, is_infected: false, appdata: { uc_clamav_virus_scan: { data: { infected: false, infected_with: '' } } } });

      await until('the infected upload to be judged', async () => (await rest(trove, 'GET', `/files/${infected}/`)).body.is_infected === true);
      const refused = await expectDeliveryError(await fetch(`${trove.url}/${infected}/`), 403);
      expect(refused.code).toBe('FILE_INFECTED');
      expect(refused.message).toContain(EICAR_SIGNATURE);
      // Kept for review: the project does not purge.
      expect((await rest(trove, 'GET', `/files/${infected}/`)).body.datetime_removed).toBeNull();

      // A scan that cannot be completed keeps the file held, saying so.
      await until('the too-big upload’s scan to fail', async () => (await fetch(`${trove.url}/${tooBig}/`)).headers.get('retry-after') === null);
      const failed = await expectDeliveryError(await fetch(`${trove.url}/${tooBig}/`), 423);
      expect(failed.message).toContain('could not be completed');
      expect((await rest(trove, 'GET', `/files/${tooBig}/`)).body).toMatchObject({ is_ready: true, is_infected: null });
    });

    it('deletes an infected upload when the project purges, and the clean ones stay', async () => {
      expect((await rest(trove, 'PUT', '/project/', { json: { scan_on_upload: true, purge_infected: true } })).status).toBe(200);
      const infected = await uploadFile(trove, EICAR, 'eicar.txt');
      const clean = await uploadFile(trove, Buffer.from('clean again'), 'clean.txt');
      await until('the infected upload to be removed', async () => (await rest(trove, 'GET', `/files/${infected}/`)).body.datetime_removed !== null);
      expect((await fetch(`${trove.url}/${infected}/`)).status).toBe(404);
      await until('the clean upload to be released', async () => (await fetch(`${trove.url}/${clean}/`)).status === 200);
      expect((await rest(trove, 'PUT', '/project/', { json: { scan_on_upload: false } })).status).toBe(200);
      // Off again: new uploads are delivered at once, unscanned.
      const unscanned = await uploadFile(trove, Buffer.from('not scanned'), 'later.txt');
      expect((await fetch(`${trove.url}/${unscanned}/`)).status).toBe(200);
      expect((await rest(trove, 'GET', `/files/${unscanned}/`)).body).toMatchObject({ is_ready: true, is_infected: null });
    });
  });
});
