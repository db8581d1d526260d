import { createHmac } from 'node:crypto';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  ConversionType,
  conversionInfo,
  conversionJobStatus,
  convert,
  copyFileToLocalStorage,
  createWebhook,
  deleteFile,
  deleteFiles,
  deleteGroup,
  deleteMetadata,
  deleteWebhook,
  fileInfo,
  getMetadata,
  getMetadataValue,
  getTags,
  groupInfo,
  listOfFiles,
  listOfGroups,
  listOfWebhooks,
  paginate,
  replaceTags,
  storeFile,
  storeFiles,
  updateMetadata,
  updateTags,
  updateWebhook,
  UploadcareAuthSchema,
  UploadcareSimpleAuthSchema,
  type UserSettings,
  WebhookEvent,
} from '@uploadcare/rest-client';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { availableBackends } from '../helpers/backends.js';
import { makeJpeg } from '../helpers/images.js';
import { startTrove, type TestTrove } from '../helpers/trove-server.js';
import { uploadFile } from '../helpers/upload-http.js';

const backends = await availableBackends();

interface Received {
  headers: IncomingMessage['headers'];
  body: string;
}

/**
 * The public @uploadcare/rest-client SDK, unchanged, pointed at Trove by `apiBaseURL` only, with
 * both of Uploadcare's authentication schemes.
 */
describe.each(backends)('@uploadcare/rest-client against Trove (%s)', (backend) => {
  let trove: TestTrove;
  let simple: UserSettings;
  let signed: UserSettings;
  let receiver: Server;
  let receiverUrl: string;
  const received: Received[] = [];

  beforeAll(async () => {
    receiver = createServer((request, response) => {
      let body = '';
      request.on('data', (chunk: Buffer) => (body += chunk.toString('utf8')));
      request.on('end', () => {
        received.push({ headers: request.headers, body });
        response.writeHead(200).end('ok');
      });
    });
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
    receiverUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hooks`;
    // Webhook receivers on loopback are refused by default (SSRF protection); this test's receiver is one.
    trove = await startTrove({ backend, env: { TROVE_FETCH_ALLOW_PRIVATE: 'true' } });
    simple = { authSchema: new UploadcareSimpleAuthSchema({ publicKey: trove.publicKey, secretKey: trove.secretKey }), apiBaseURL: `${trove.url}/api/` };
    signed = { authSchema: new UploadcareAuthSchema({ publicKey: trove.publicKey, secretKey: trove.secretKey }), apiBaseURL: `${trove.url}/` };
  }, 60_000);

  afterAll(async () => {
    await trove?.close();
    await new Promise((resolve) => receiver?.close(resolve));
  });

  it('lists files with totals and pages through them with the SDK paginator', async () => {
    const uuids: string[] = [];
    for (let i = 0; i < 5; i += 1) uuids.push(await uploadFile(trove, Buffer.from(`file ${i}`), `f${i}.txt`, { UPLOADCARE_STORE: i < 3 ? '1' : '0' }));
    const page = await listOfFiles({ limit: 2, ordering: '-datetime_uploaded' }, signed);
    expect(page.results).toHaveLength(2);
    expect(page.total).toBeGreaterThanOrEqual(5);
    expect(page.totals.stored).toBeGreaterThanOrEqual(3);
    expect(page.totals.unstored).toBeGreaterThanOrEqual(2);
    expect(page.results[0]!.uuid).toBe(uuids[4]);
    expect(page.next).toMatch(/^http:\/\/.+\/files\/\?/);

    const seen: string[] = [];
    for await (const each of paginate(listOfFiles)({ limit: 2 }, simple)) seen.push(...each.results.map((f) => f.uuid));
    expect(new Set(seen).size).toBe(seen.length);
    for (const uuid of uuids) expect(seen).toContain(uuid);

    const stored = await listOfFiles({ stored: true, limit: 100 }, signed);
    expect(stored.results.every((f) => f.datetimeStored !== null)).toBe(true);
    expect(stored.total).toBe(stored.totals.stored);
  });

  it('pages correctly through files that share one upload instant', async () => {
    const form = new FormData();
    form.set('UPLOADCARE_PUB_KEY', trove.publicKey);
    for (let i = 0; i < 7; i += 1) form.append(`file${i}`, new Blob([`same instant ${i}`]), `same${i}.txt`);
    const response = await fetch(`${trove.uploadUrl}/base/`, { method: 'POST', body: form });
    const batch = Object.values((await response.json()) as Record<string, string>);
    const seen: string[] = [];
    for await (const each of paginate(listOfFiles)({ limit: 3 }, signed)) seen.push(...each.results.map((f) => f.uuid));
    for (const uuid of batch) expect(seen.filter((s) => s === uuid)).toHaveLength(1);
  });

  it('reads, stores and deletes one file; a deleted file is gone from the CDN and reported as removed', async () => {
    const uuid = await uploadFile(trove, await makeJpeg({ width: 120, height: 80 }), 'photo.jpg', { UPLOADCARE_STORE: '0' });
    const info = await fileInfo({ uuid }, signed);
    expect(info).toMatchObject({ uuid, isImage: true, mimeType: 'image/jpeg', originalFilename: 'photo.jpg', datetimeStored: null, datetimeRemoved: null });
    expect(info.contentInfo?.image).toMatchObject({ width: 120, height: 80 });
    expect(info.originalFileUrl).toBe(`${trove.url}/${uuid}/photo.jpg`);
    // No add-on ran on it: an empty object, as Uploadcare answers.
    expect((await fileInfo({ uuid, include: 'appdata' }, signed)).appdata).toEqual({});

    const stored = await storeFile({ uuid }, simple);
    expect(stored.datetimeStored).not.toBeNull();
    expect((await fetch(`${trove.url}/${uuid}/-/resize/60x/`)).status).toBe(200);

    const removed = await deleteFile({ uuid }, signed);
    expect(removed.datetimeRemoved).not.toBeNull();
    expect((await fetch(`${trove.url}/${uuid}/`)).status).toBe(404);
    expect((await fetch(`${trove.url}/${uuid}/-/resize/60x/`)).status).toBe(404);
    expect((await fileInfo({ uuid }, signed)).datetimeRemoved).not.toBeNull();
    const removedList = await listOfFiles({ removed: true, limit: 100 }, signed);
    expect(removedList.results.map((f) => f.uuid)).toContain(uuid);
  });

  it('stores and deletes in batches, naming each problem uuid', async () => {
    const a = await uploadFile(trove, Buffer.from('a'), 'a.txt', { UPLOADCARE_STORE: '0' });
    const b = await uploadFile(trove, Buffer.from('b'), 'b.txt', { UPLOADCARE_STORE: '0' });
    const missing = '00000000-0000-4000-8000-000000000000';
    const storedBatch = await storeFiles({ uuids: [a, b, missing, 'not-a-uuid'] }, signed);
    expect(storedBatch.result.map((f) => f.uuid).sort()).toEqual([a, b].sort());
    expect(storedBatch.result.every((f) => f.datetimeStored !== null)).toBe(true);
    expect(storedBatch.problems).toEqual({ [missing]: 'Missing in the project', 'not-a-uuid': 'Invalid' });
    const deletedBatch = await deleteFiles({ uuids: [a, b] }, simple);
    expect(deletedBatch.result.every((f) => f.datetimeRemoved !== null)).toBe(true);
    await expect(storeFiles({ uuids: Array.from({ length: 101 }, () => a) }, signed)).rejects.toThrow(/Maximum UUIDs per request is exceeded/);
  });

  it('manages metadata key by key', async () => {
    const uuid = await uploadFile(trove, Buffer.from('m'), 'm.txt', { 'metadata[kind]': 'note' });
    expect(await getMetadata({ uuid }, signed)).toEqual({ kind: 'note' });
    expect(await updateMetadata({ uuid, key: 'pet', value: 'cat' }, signed)).toBe('cat');
    expect(await updateMetadata({ uuid, key: 'pet', value: 'dog' }, simple)).toBe('dog');
    expect(await getMetadataValue({ uuid, key: 'pet' }, signed)).toBe('dog');
    await deleteMetadata({ uuid, key: 'kind' }, signed);
    expect(await getMetadata({ uuid }, signed)).toEqual({ pet: 'dog' });
    await expect(getMetadataValue({ uuid, key: 'kind' }, signed)).rejects.toThrow(/Not found/);
    await expect(updateMetadata({ uuid, key: 'bad key!', value: 'x' }, signed)).rejects.toThrow(/letters, digits/);
  });

  it('reads and replaces tags, normalised, with what each call added and deleted', async () => {
    const uuid = await uploadFile(trove, Buffer.from('t'), 't.txt', { tags: ' Cats ,2026,cats' });
    expect(await getTags({ uuid }, signed)).toEqual({ tags: ['cats', '2026'] });
    expect(await replaceTags({ uuid, tags: ['  Zebra', 'apple', 'ZEBRA', '', 'cats', 'm.n_o-p'] }, signed)).toEqual({
      tags: ['zebra', 'apple', 'cats', 'm.n_o-p'],
      added: ['apple', 'm.n_o-p', 'zebra'],
      deleted: ['2026'],
    });
    expect(await getTags({ uuid }, simple)).toEqual({ tags: ['zebra', 'apple', 'cats', 'm.n_o-p'] });
    // The file's own answer and the `tag` filter see the stored form.
    expect((await fileInfo({ uuid }, signed)).tags).toEqual(['zebra', 'apple', 'cats', 'm.n_o-p']);
    const filtered = (await (await fetch(`${trove.url}/files/?tag=%20ZEBRA`, { headers: restHeaders(trove) })).json()) as { results: Array<{ uuid: string }> };
    expect(filtered.results.map((file) => file.uuid)).toEqual([uuid]);
    // An empty list clears.
    expect(await replaceTags({ uuid, tags: [] }, simple)).toEqual({ tags: [], added: [], deleted: ['apple', 'cats', 'm.n_o-p', 'zebra'] });
    expect(await getTags({ uuid }, signed)).toEqual({ tags: [] });
  });

  it('writes nothing for the same set again, and one file.info_updated event for a change', async () => {
    const target = `${receiverUrl}/tags`;
    const created = await fetch(`${trove.url}/webhooks/`, {
      method: 'POST',
      headers: { ...restHeaders(trove), 'content-type': 'application/json' },
      body: JSON.stringify({ target_url: target, event: 'file.info_updated', is_active: true }),
    });
    expect(created.status).toBe(201);
    const hook = (await created.json()) as { id: number };
    const uuid = await uploadFile(trove, Buffer.from('same'), 'same.txt', { tags: 'b,a' });
    // Any case, any order: the same set.
    expect(await replaceTags({ uuid, tags: ['A', ' B '] }, signed)).toEqual({ tags: ['b', 'a'], added: [], deleted: [] });
    expect(await updateTags({ uuid }, signed)).toEqual({ tags: ['b', 'a'], added: [], deleted: [] });
    expect(await updateTags({ uuid, add: ['a'], delete: ['missing'] }, signed)).toEqual({ tags: ['b', 'a'], added: [], deleted: [] });
    expect(await replaceTags({ uuid, tags: ['a', 'c'] }, signed)).toEqual({ tags: ['a', 'c'], added: ['c'], deleted: ['b'] });
    // Events go out in order: had the no-ops written any, they would have arrived before this one.
    const events = () => received.filter((r) => r.body.includes(uuid) && r.body.includes('file.info_updated'));
    await waitFor(() => (events().length > 0 ? true : undefined));
    expect(events()).toHaveLength(1);
    expect((await fetch(`${trove.url}/webhooks/${hook.id}/`, { method: 'DELETE', headers: restHeaders(trove) })).status).toBeLessThan(300);
  });

  it('updates tags: deletions first, then additions, skipping present and absent ones', async () => {
    const uuid = await uploadFile(trove, Buffer.from('p'), 'p.txt', { tags: 'red,green,blue' });
    // "green" is deleted and added back: it moves to the end and is neither added nor deleted.
    expect(await updateTags({ uuid, add: ['Green', 'yellow', 'red'], delete: ['green', 'BLUE', 'purple'] }, signed)).toEqual({
      tags: ['red', 'green', 'yellow'],
      added: ['yellow'],
      deleted: ['blue'],
    });
    expect(await updateTags({ uuid, add: ['white'] }, simple)).toEqual({ tags: ['red', 'green', 'yellow', 'white'], added: ['white'], deleted: [] });
    expect(await updateTags({ uuid, delete: ['red', 'white'] }, simple)).toEqual({ tags: ['green', 'yellow'], added: [], deleted: ['red', 'white'] });
    expect(await getTags({ uuid }, signed)).toEqual({ tags: ['green', 'yellow'] });
  });

  it('holds a file to 50 tags and refuses a bad tag by name, changing nothing', async () => {
    const uuid = await uploadFile(trove, Buffer.from('l'), 'l.txt');
    const fifty = Array.from({ length: 50 }, (_, i) => `t${i}`);
    expect((await replaceTags({ uuid, tags: fifty }, signed)).tags).toHaveLength(50);
    // 51 given, 50 once repeats are dropped.
    expect((await replaceTags({ uuid, tags: [...fifty, 'T0'] }, signed)).added).toEqual([]);
    await expect(replaceTags({ uuid, tags: [...fifty, 't50'] }, signed)).rejects.toMatchObject({ status: 400 });
    await expect(replaceTags({ uuid, tags: [...fifty, 't50'] }, signed)).rejects.toThrow(/at most 50 tags/);
    await expect(updateTags({ uuid, add: ['one-more'] }, signed)).rejects.toThrow(/at most 50 tags; this would leave it 51/);
    expect((await updateTags({ uuid, add: ['one-more'], delete: ['t0'] }, signed)).tags).toHaveLength(50);

    for (const bad of ['good boy', 'café', 'a+b', 'me@home']) {
      await expect(replaceTags({ uuid, tags: ['fine', bad] }, signed), bad).rejects.toMatchObject({ status: 400 });
      await expect(updateTags({ uuid, add: [bad] }, signed), bad).rejects.toThrow(`Tag ${JSON.stringify(bad)} may contain only Latin letters, digits`);
    }
    await expect(replaceTags({ uuid, tags: ['x'.repeat(101)] }, signed)).rejects.toThrow(/a tag has at most 100/);
    expect((await replaceTags({ uuid, tags: ['X'.repeat(100)] }, signed)).tags).toEqual(['x'.repeat(100)]);
    await expect(getTags({ uuid: '00000000-0000-4000-8000-000000000000' }, signed)).rejects.toMatchObject({ status: 404 });
    await expect(replaceTags({ uuid: '00000000-0000-4000-8000-000000000000', tags: [] }, signed)).rejects.toMatchObject({ status: 404 });
    await deleteFile({ uuid }, signed);
    await expect(getTags({ uuid }, signed)).rejects.toMatchObject({ status: 404 });
    await expect(updateTags({ uuid, add: ['x'] }, signed)).rejects.toMatchObject({ status: 404 });
  });

  it('keeps every tag and metadata key of concurrent edits of one file', async () => {
    const uuid = await uploadFile(trove, Buffer.from('busy'), 'busy.txt');
    await Promise.all(Array.from({ length: 12 }, (_, i) => updateTags({ uuid, add: [`tag${i}`] }, i % 2 === 0 ? signed : simple)));
    expect((await getTags({ uuid }, signed)).tags.slice().sort()).toEqual(Array.from({ length: 12 }, (_, i) => `tag${i}`).sort());
    await Promise.all(Array.from({ length: 12 }, (_, i) => updateMetadata({ uuid, key: `key${i}`, value: `v${i}` }, i % 2 === 0 ? signed : simple)));
    expect(Object.keys(await getMetadata({ uuid }, signed)).sort()).toEqual(Array.from({ length: 12 }, (_, i) => `key${i}`).sort());
  });

  it('answers document conversion of a broken PDF with a failed job, and a video conversion of it in `problems`', async () => {
    const uuid = await uploadFile(trove, Buffer.from('%PDF-1.4\n%%EOF\n'), 'doc.pdf');
    const type = ConversionType.DOCUMENT;
    const path = `${uuid}/${type}/-/format/png/`;
    const accepted = await convert({ type, paths: [path] }, signed);
    expect(accepted.problems).toEqual({});
    let status = await conversionJobStatus({ type, token: accepted.result[0]!.token }, signed);
    for (let i = 0; i < 300 && (status.status === 'pending' || status.status === 'processing'); i += 1) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      status = await conversionJobStatus({ type, token: accepted.result[0]!.token }, simple);
    }
    expect(status).toMatchObject({ status: 'failed', error: expect.stringMatching(/cannot be read/) });
    const refused = await convert({ type, paths: [`${uuid}/${type}/`] }, simple);
    expect(refused.problems[`${uuid}/${type}/`]).toMatch(/format is required/);
    await expect(conversionJobStatus({ type, token: 123 }, signed)).rejects.toMatchObject({ status: 404 });
    expect((await conversionInfo({ uuid }, signed)).format.name).toBe('pdf');
    const video = await convert({ type: ConversionType.VIDEO, paths: [`${uuid}/video/`] }, signed);
    expect(video.result).toEqual([]);
    expect(video.problems[`${uuid}/video/`]).toMatch(/is not a video/);
  });

  it('copies a file, baking CDN operations into the copy', async () => {
    const uuid = await uploadFile(trove, await makeJpeg({ width: 400, height: 300 }), 'big.jpg');
    const plain = await copyFileToLocalStorage({ source: uuid, store: true }, signed);
    expect(plain.result.uuid).not.toBe(uuid);
    expect(plain.result.datetimeStored).not.toBeNull();
    const resized = await copyFileToLocalStorage({ source: `${trove.url}/${uuid}/-/resize/100x/-/format/png/`, store: false, metadata: { origin: 'copy' } }, signed);
    const bytes = Buffer.from(await (await fetch(`${trove.url}/${resized.result.uuid}/`)).arrayBuffer());
    const meta = await sharp(bytes).metadata();
    expect([meta.format, meta.width, meta.height]).toEqual(['png', 100, 75]);
    expect(resized.result.metadata).toMatchObject({ origin: 'copy' });
    expect(resized.result.mimeType).toBe('image/png');
  });

  it('computes derivatives ahead of time, so the first request for one is a hit', async () => {
    const uuid = await uploadFile(trove, await makeJpeg({ width: 300, height: 200 }), 'eager.jpg');
    const misses = () => trove.ctx.metrics.derivativeLookups.miss;
    const before = misses();
    const response = await fetch(`${trove.url}/files/${uuid}/derivatives/`, {
      method: 'POST',
      headers: { ...restHeaders(trove), 'content-type': 'application/json' },
      body: JSON.stringify({ operations: ['-/resize/120x/', 'scale_crop/50x50/-/format/png'] }),
    });
    expect(response.status).toBe(202);
    const body = (await response.json()) as { derivatives: string[] };
    expect(body.derivatives).toEqual([`${trove.url}/${uuid}/-/resize/120x/`, `${trove.url}/${uuid}/-/scale_crop/50x50/-/format/png/`]);
    await waitFor(() => (misses() - before >= 2 ? true : undefined));
    const png = await fetch(`${trove.url}/${uuid}/-/scale_crop/50x50/-/format/png/`);
    expect(png.headers.get('content-type')).toBe('image/png');
    expect(misses() - before).toBe(2);
    const bad = await fetch(`${trove.url}/files/${uuid}/derivatives/`, {
      method: 'POST',
      headers: { ...restHeaders(trove), 'content-type': 'application/json' },
      body: JSON.stringify({ operations: ['-/resize/abc/'] }),
    });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { detail: string }).detail).toMatch(/operations\[0\]/);
  });

  it('lists, reads and deletes groups', async () => {
    const a = await uploadFile(trove, Buffer.from('g1'), 'g1.txt');
    const b = await uploadFile(trove, Buffer.from('g2'), 'g2.txt');
    const form = new FormData();
    form.set('pub_key', trove.publicKey);
    form.append('files[]', a);
    form.append('files[]', `${b}/-/resize/10x/`);
    const created = (await (await fetch(`${trove.uploadUrl}/group/`, { method: 'POST', body: form })).json()) as { id: string };
    const list = await listOfGroups({ limit: 100 }, signed);
    expect(list.results.map((g) => g.id)).toContain(created.id);
    const info = await groupInfo({ uuid: created.id }, signed);
    expect(info.filesCount).toBe(2);
    expect(info.files?.map((f) => f?.uuid)).toEqual([a, b]);
    await deleteGroup({ uuid: created.id }, signed);
    await expect(groupInfo({ uuid: created.id }, signed)).rejects.toThrow(/Not found/);
    expect((await fetch(`${trove.url}/${a}/`)).status).toBe(200);
  });

  it('manages webhooks and delivers signed file events to them', async () => {
    const hook = await createWebhook({ targetUrl: receiverUrl, event: WebhookEvent.FILE_UPLOADED, signingSecret: 'whsec-test' }, signed);
    expect(hook).toMatchObject({ targetUrl: receiverUrl, event: 'file.uploaded', isActive: true });
    expect((await listOfWebhooks({}, signed)).map((h) => h.id)).toContain(hook.id);
    const updated = await updateWebhook({ id: hook.id, isActive: true, signingSecret: 'whsec-2' }, signed);
    expect(updated.signingSecret).toBe('whsec-2');

    const uuid = await uploadFile(trove, Buffer.from('event me'), 'event.txt');
    const delivery = await waitFor(() => received.find((r) => r.body.includes(uuid)));
    const payload = JSON.parse(delivery.body) as { hook: { event: string; target: string }; data: { uuid: string }; file: string };
    expect(payload.hook).toMatchObject({ event: 'file.uploaded', target: receiverUrl });
    expect(payload.data.uuid).toBe(uuid);
    expect(payload.file).toBe(`http://localhost:${trove.ctx.config.port}/${uuid}/event.txt`);
    const expected = createHmac('sha256', 'whsec-2').update(delivery.body).digest('hex');
    expect(delivery.headers['x-uc-signature']).toBe(`v1=${expected}`);

    // The attempt is recorded once the receiver's answer is back, a moment after it got the body.
    const logged = await waitFor(async () => {
      const log = (await (await fetch(`${trove.url}/webhooks/${hook.id}/deliveries/`, { headers: restHeaders(trove) })).json()) as {
        results: Array<{ status: string; attempt_log: Array<{ status_code: number }> }>;
      };
      return log.results[0]?.status === 'delivered' ? log.results[0] : undefined;
    });
    expect(logged.attempt_log[0]!.status_code).toBe(200);

    const metrics = await (await fetch(`${trove.url}/metrics`)).text();
    expect(metrics).toMatch(/trove_jobs\{state="dead"\} 0/);

    await deleteWebhook({ targetUrl: receiverUrl }, signed);
    expect((await listOfWebhooks({}, signed)).map((h) => h.id)).not.toContain(hook.id);
  });
});

function restHeaders(trove: TestTrove): Record<string, string> {
  return { accept: 'application/vnd.uploadcare-v0.7+json', authorization: `Uploadcare.Simple ${trove.publicKey}:${trove.secretKey}` };
}

async function waitFor<T>(find: () => T | undefined | Promise<T | undefined>, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const found = await find();
    if (found !== undefined) return found;
    if (Date.now() > deadline) throw new Error('timed out waiting');
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
