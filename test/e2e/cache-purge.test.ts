/**
 * Cache tags and purges over real HTTP: delivery answers name what they hold (Surrogate-Key,
 * Cache-Tag) on originals, derivatives, memory hits and revalidations; a REST delete reaches the
 * shield and every configured CDN (stand-ins checking each provider's request shape) within a
 * second; a batch delete is one request per provider; a 429 is retried after its Retry-After.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { randomUUID } from 'node:crypto';
import { CLAMAV_ADDON, clamavAppData } from '../../src/domain/addons.js';
import { addonInitiator } from '../../src/domain/webhook.js';
import { writeAppData } from '../../src/services/file-changes.js';
import { availableBackends } from '../helpers/backends.js';
import { makePng } from '../helpers/images.js';
import { purgeSettingFor, startPurgeStandIn, type PurgeStandIn, type StandInKind } from '../helpers/purge-stand-ins.js';
import { startTrove, type TestTrove } from '../helpers/trove-server.js';
import { uploadFile } from '../helpers/upload-http.js';

const backends = await availableBackends();
const KINDS: StandInKind[] = ['shield', 'http', 'cloudflare', 'fastly', 'cloudfront'];
const REST_ACCEPT = 'application/vnd.uploadcare-v0.7+json';

describe.each(backends)('cache tags and purges (%s)', (backend) => {
  let trove: TestTrove;
  let standIns: Record<StandInKind, PurgeStandIn>;
  let projectId: string;

  function rest(path: string, init: RequestInit = {}): Promise<Response> {
    return fetch(`${trove.url}${path}`, {
      ...init,
      headers: { accept: REST_ACCEPT, 'content-type': 'application/json', authorization: `Uploadcare.Simple ${trove.publicKey}:${trove.secretKey}` },
    });
  }

  /** Whether the stand-in accepted a purge of this file (its tag, or its path for CloudFront). */
  function purgedFile(standIn: PurgeStandIn, uuid: string): boolean {
    return standIn.received.some((r) => (standIn.kind === 'cloudfront' ? r.paths.includes(`/${uuid}*`) : r.tags.includes(`f:${uuid}`)));
  }

  function expectTags(response: Response, tags: string[]): void {
    expect(response.headers.get('surrogate-key')).toBe(tags.join(' '));
    expect(response.headers.get('cache-tag')).toBe(tags.join(','));
  }

  beforeAll(async () => {
    const started = await Promise.all(KINDS.map((kind) => startPurgeStandIn(kind)));
    standIns = Object.fromEntries(started.map((standIn) => [standIn.kind, standIn])) as Record<StandInKind, PurgeStandIn>;
    trove = await startTrove({
      backend,
      env: {
        TROVE_PURGE_SHIELD: purgeSettingFor(standIns.shield),
        TROVE_PURGE_HTTP: purgeSettingFor(standIns.http),
        TROVE_PURGE_CLOUDFLARE: purgeSettingFor(standIns.cloudflare, 'rate=50/s'),
        TROVE_PURGE_FASTLY: purgeSettingFor(standIns.fastly),
        TROVE_PURGE_CLOUDFRONT: purgeSettingFor(standIns.cloudfront),
      },
    });
    projectId = (await trove.ctx.services.projects.findByPublicKey(trove.publicKey)).id;
  });
  afterAll(async () => {
    await trove?.close();
    await Promise.all(Object.values(standIns ?? {}).map((standIn) => standIn.close()));
  });
  beforeEach(() => {
    for (const standIn of Object.values(standIns)) {
      standIn.received.length = 0;
      standIn.mode = 'ok';
    }
  });

  it('tags originals and derivatives, on misses, memory hits and revalidations, then purges a REST delete everywhere within a second', async () => {
    const uuid = await uploadFile(trove, await makePng(64, 48), 'tagged.png', {}, { type: 'image/png' });

    const original = await fetch(`${trove.url}/${uuid}/`);
    expect(original.status).toBe(200);
    expectTags(original, [`p:${projectId}`, `f:${uuid}`, `v:${uuid}/original`]);
    const range = await fetch(`${trove.url}/${uuid}/`, { headers: { range: 'bytes=0-9' } });
    expect(range.status).toBe(206);
    expectTags(range, [`p:${projectId}`, `f:${uuid}`, `v:${uuid}/original`]);
    const notModified = await fetch(`${trove.url}/${uuid}/`, { headers: { 'if-none-match': original.headers.get('etag')! } });
    expect(notModified.status).toBe(304);
    expectTags(notModified, [`p:${projectId}`, `f:${uuid}`, `v:${uuid}/original`]);

    const url = `${trove.url}/${uuid}/-/resize/20x/-/format/webp/`;
    const miss = await fetch(url);
    expect(miss.status).toBe(200);
    const etag = miss.headers.get('etag')!;
    expect(etag).toMatch(/^"[0-9a-f]{32}-webp"$/);
    const derivativeTags = [`p:${projectId}`, `f:${uuid}`, `v:${uuid}/${etag.slice(1, -1)}`];
    expectTags(miss, derivativeTags);

    // The second request is answered by the fast lane from memory.
    const l1Before = trove.ctx.metrics.derivativeLookups.l1;
    const hit = await fetch(url);
    expect(hit.status).toBe(200);
    expect(trove.ctx.metrics.derivativeLookups.l1).toBe(l1Before + 1);
    expectTags(hit, derivativeTags);
    const hitAgain = await fetch(url);
    expectTags(hitAgain, derivativeTags);
    const revalidated = await fetch(url, { headers: { 'if-none-match': etag } });
    expect(revalidated.status).toBe(304);
    expectTags(revalidated, derivativeTags);

    // From the blob store (L2) after memory is dropped: the envelope names the project.
    trove.ctx.services.transform.clearMemoryTier();
    const fromStore = await fetch(url);
    expect(fromStore.status).toBe(200);
    expectTags(fromStore, derivativeTags);

    const deletedAt = Date.now();
    const deleted = await rest(`/files/${uuid}/storage/`, { method: 'DELETE' });
    expect(deleted.status).toBe(200);
    await Promise.all(KINDS.map((kind) => standIns[kind].waitFor(() => purgedFile(standIns[kind], uuid), 1_000)));
    for (const kind of KINDS) {
      const standIn = standIns[kind];
      expect(standIn.malformed, kind).toEqual([]);
      const first = standIn.received.find(() => true)!;
      expect(first.at - deletedAt, kind).toBeLessThan(1_000);
    }
    expect(standIns.shield.received[0]!.headers['xkey-purge']).toBe(`f:${uuid}`);
    expect(JSON.parse(standIns.http.received[0]!.body)).toEqual({ tags: [`f:${uuid}`], paths: [`/${uuid}*`] });
    expect(JSON.parse(standIns.cloudflare.received[0]!.body)).toEqual({ tags: [`f:${uuid}`] });
    expect(standIns.fastly.received[0]!.headers['surrogate-key']).toBe(`f:${uuid}`);
    expect(standIns.cloudfront.received[0]!.paths).toEqual([`/${uuid}*`]);
  });

  it('purges a batch delete with one request per provider', async () => {
    const png = await makePng(8, 8);
    const uuids = await Promise.all([1, 2, 3].map((n) => uploadFile(trove, png, `batch-${n}.png`, {}, { type: 'image/png' })));
    const deleted = await rest('/files/storage/', { method: 'DELETE', body: JSON.stringify(uuids) });
    expect(deleted.status).toBe(200);
    await Promise.all(KINDS.map((kind) => standIns[kind].waitFor(() => uuids.every((uuid) => purgedFile(standIns[kind], uuid)), 2_000)));
    for (const kind of KINDS) expect(standIns[kind].received, kind).toHaveLength(1);
    expect(new Set(standIns.cloudflare.received[0]!.tags)).toEqual(new Set(uuids.map((uuid) => `f:${uuid}`)));
  });

  it('tags a group member with its group, and purges the group’s URLs when the group is deleted', async () => {
    const uuid = await uploadFile(trove, await makePng(8, 8), 'member.png', {}, { type: 'image/png' });
    const form = new FormData();
    form.append('pub_key', trove.publicKey);
    form.append('files[]', uuid);
    const group = (await (await fetch(`${trove.uploadUrl}/group/`, { method: 'POST', body: form })).json()) as { id: string };
    const member = await fetch(`${trove.url}/${group.id}/nth/0/`);
    expect(member.status).toBe(200);
    expectTags(member, [`p:${projectId}`, `f:${uuid}`, `g:${group.id}`, `v:${uuid}/original`]);
    const memberDerivative = await fetch(`${trove.url}/${group.id}/nth/0/-/resize/4x/`);
    expect(memberDerivative.status).toBe(200);
    expect(memberDerivative.headers.get('surrogate-key')).toBe(`p:${projectId} f:${uuid} g:${group.id} v:${uuid}/${memberDerivative.headers.get('etag')!.slice(1, -1)}`);

    expect((await rest(`/groups/${group.id}/`, { method: 'DELETE' })).status).toBe(204);
    await standIns.shield.waitFor((received) => received.some((r) => r.tags.includes(`g:${group.id}`)), 1_000);
    await standIns.cloudfront.waitFor((received) => received.some((r) => r.paths.includes(`/${group.id}*`)), 1_000);
  });

  it('purges a file a virus scan finds infected, from its file.infected event', async () => {
    const uuid = await uploadFile(trove, await makePng(8, 8), 'infected.png', {}, { type: 'image/png' });
    // The verdict as AddonService writes it after clamd's answer (no clamd is needed to record one).
    const at = new Date().toISOString();
    const entry = clamavAppData({ infected: true, signature: 'Win.Test.EICAR_HDB-1' }, 'ClamAV 1.0', at, undefined);
    const written = await writeAppData(
      await trove.projectShard(),
      { projectId, uuid },
      { addon: CLAMAV_ADDON, entry, scanStatus: 'infected', infected: true },
      addonInitiator(CLAMAV_ADDON, randomUUID()),
      at,
    );
    expect(written?.scanStatus).toBe('infected');
    trove.ctx.dispatcher.nudge();
    await Promise.all(KINDS.map((kind) => standIns[kind].waitFor(() => purgedFile(standIns[kind], uuid), 1_000)));
  });

  it('purges a temporary file the sweep removes after its expiry', async () => {
    const uuid = await uploadFile(trove, await makePng(8, 8), 'temporary.png', { UPLOADCARE_STORE: '0' }, { type: 'image/png' });
    trove.clock.advance(2 * 24 * 3_600_000);
    const report = await trove.ctx.services.sweeper.sweep();
    expect(report.expiredFiles).toBeGreaterThanOrEqual(1);
    await Promise.all(KINDS.map((kind) => standIns[kind].waitFor(() => purgedFile(standIns[kind], uuid), 1_000)));
  });

  it('retries a purge the provider answered 429 after its Retry-After, and counts it', async () => {
    const uuid = await uploadFile(trove, await makePng(8, 8), 'limited.png', {}, { type: 'image/png' });
    standIns.cloudflare.retryAfterSeconds = 1;
    standIns.cloudflare.failNext('rate-limited');
    await rest(`/files/${uuid}/storage/`, { method: 'DELETE' });
    const [refused, accepted] = await standIns.cloudflare.waitFor((received) => received.length >= 2, 5_000);
    expect(refused!.tags).toEqual([`f:${uuid}`]);
    expect(accepted!.tags).toEqual([`f:${uuid}`]);
    expect(accepted!.at - refused!.at).toBeGreaterThanOrEqual(900);
    const metrics = await (await fetch(`${trove.url}/metrics`)).text();
    expect(metrics).toMatch(/trove_cache_purges_total\{provider="cloudflare",outcome="deferred"\} [1-9]/);
    expect(metrics).toMatch(/trove_cache_purges_total\{provider="shield",outcome="purged"\} [1-9]/);
    expect(metrics).toMatch(/trove_cache_purge_duration_seconds_count\{provider="fastly"\} [1-9]/);
    expect(metrics).toMatch(/trove_cache_purges_queued_total\{provider="cloudfront"\} [1-9]/);
  });
});
