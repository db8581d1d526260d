import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, postgresUnavailableReason, REQUIRE_SCALE } from '../helpers/backends.js';
import { startTcpProxy, type TcpProxy } from '../helpers/tcp-proxy.js';
import { startTrove, type TestTrove } from '../helpers/trove-server.js';
import { buildForm, getInfo, sleep, uploadFile, UUID_RE } from '../helpers/upload-http.js';

const REST_ACCEPT = 'application/vnd.uploadcare-v0.7+json';
/** A request that takes longer is hanging: below the pool's 5 s connect timeout, so waiting it out fails too. */
const ANSWER_WITHIN_MS = 4_000;
/** What `shardUnavailable` prints: the shard's name, then the database error that made it so. */
const SHARD_B_DOWN = /Shard "b", which holds this project's files, is unavailable: .*(ECONNREFUSED|Connection terminated)/;

const reason = await postgresUnavailableReason();
const skip = reason !== null && !REQUIRE_SCALE;
if (skip) console.warn(`[trove tests] skipping the shard outage suite: ${reason}. Set TROVE_TEST_REQUIRE_SCALE=1 to make this an error.`);

interface Answer {
  status: number;
  headers: Headers;
  text: string;
  bytes: Buffer;
  ms: number;
}

/** Any request, timed; aborted (and so failing the test) long before the test timeout if nothing answers. */
async function timed(url: string, init: RequestInit = {}): Promise<Answer> {
  const started = performance.now();
  const response = await fetch(url, { ...init, signal: AbortSignal.timeout(10_000) });
  const bytes = Buffer.from(await response.arrayBuffer());
  return { status: response.status, headers: response.headers, text: bytes.toString('utf8'), bytes, ms: performance.now() - started };
}

interface Project {
  publicKey: string;
  secretKey: string;
}

function upload(trove: TestTrove, project: Project, bytes: Uint8Array, filename: string): Promise<Answer> {
  return timed(`${trove.uploadUrl}/base/`, { method: 'POST', body: buildForm(trove, [{ bytes, filename, type: 'text/plain' }], { publicKey: project.publicKey }) });
}

function listFiles(trove: TestTrove, project: Project): Promise<Answer> {
  return timed(`${trove.url}/files/?limit=100&ordering=datetime_uploaded`, {
    headers: { accept: REST_ACCEPT, authorization: `Uploadcare.Simple ${project.publicKey}:${project.secretKey}` },
  });
}

function listedUuids(answer: Answer): string[] {
  return (JSON.parse(answer.text) as { results: Array<{ uuid: string }> }).results.map((file) => file.uuid);
}

interface ReadyBody {
  status: 'ready' | 'degraded';
  checks: Record<string, { name: string; ok: boolean; error?: string; ms: number }>;
}

async function ready(trove: TestTrove): Promise<{ answer: Answer; body: ReadyBody }> {
  const answer = await timed(`${trove.url}/ready`);
  return { answer, body: JSON.parse(answer.text) as ReadyBody };
}

function text(content: string): Uint8Array {
  return new TextEncoder().encode(content);
}

/**
 * Project A lives on shard `b`, reached through a TCP proxy the test can cut; project B lives on
 * `main`. The cases run in order: both healthy, `b` cut off (first under a held connection), `b` back.
 */
describe.skipIf(skip)('a shard database that goes down (PostgreSQL)', () => {
  let mainDatabase: { url: string; drop(): Promise<void> } | undefined;
  let shardDatabase: { url: string; drop(): Promise<void> } | undefined;
  let proxy: TcpProxy | undefined;
  let trove: TestTrove | undefined;
  let projectA: Project;
  let projectB: Project;
  const fileA = { uuid: '', bytes: text('project A, on shard b') };
  const fileB = { uuid: '', bytes: text('project B, on main') };

  const server = (): TestTrove => {
    if (!trove) throw new Error('the server did not start');
    return trove;
  };

  beforeAll(async () => {
    mainDatabase = await createTestDatabase();
    shardDatabase = await createTestDatabase();
    proxy = await startTcpProxy();
    const proxied = new URL(shardDatabase.url);
    proxied.hostname = '127.0.0.1';
    proxied.port = String(proxy.port);
    trove = await startTrove({ backend: 'scale', env: { DATABASE_URL: mainDatabase.url, TROVE_SHARDS: `b=${proxied.toString()}` } });
    projectA = { publicKey: trove.publicKey, secretKey: trove.secretKey };
    const created = await trove.ctx.services.projects.create({ name: 'other', shard: 'main' });
    projectB = { publicKey: created.project.publicKey, secretKey: created.secrets[0]!.secret };
  });

  afterAll(async () => {
    await trove?.close();
    await proxy?.stop();
    await mainDatabase?.drop().catch(() => undefined);
    await shardDatabase?.drop().catch(() => undefined);
  });

  it('serves both projects while every shard answers', async () => {
    const trove = server();
    expect((await trove.projectShard(projectA.publicKey)).shardName).toBe('b');
    expect((await trove.projectShard(projectB.publicKey)).shardName).toBe('main');

    fileA.uuid = await uploadFile(trove, fileA.bytes, 'a.txt', {}, { publicKey: projectA.publicKey, type: 'text/plain' });
    fileB.uuid = await uploadFile(trove, fileB.bytes, 'b.txt', {}, { publicKey: projectB.publicKey, type: 'text/plain' });
    // Delivered once now, so the outage below meets A's file in the delivery caches.
    const delivered = await timed(`${trove.url}/${fileA.uuid}/`);
    expect(delivered.status, delivered.text).toBe(200);
    expect(delivered.bytes.equals(Buffer.from(fileA.bytes))).toBe(true);

    const listed = await listFiles(trove, projectA);
    expect(listed.status, listed.text).toBe(200);
    expect(listedUuids(listed)).toEqual([fileA.uuid]);

    const { answer, body } = await ready(trove);
    expect(answer.status, answer.text).toBe(200);
    expect(body.checks['shard:b'], answer.text).toMatchObject({ name: 'shard:b', ok: true });
    expect(body.checks['shard:b']?.error).toBeUndefined();
  });

  it('fails work that held a connection to b when b went away, and only that work', async () => {
    const trove = server();
    // A connection checked out of b's pool (here inside a transaction, as any query in flight is)
    // when its database goes away. pg reports that as an 'error' event on the client: nothing may
    // leave it unhandled, or the whole process goes down with one shard.
    const uncaught: unknown[] = [];
    const record = (error: unknown) => uncaught.push(error);
    process.prependListener('uncaughtException', record);
    try {
      const shard = await trove.projectShard(projectA.publicKey);
      let holding!: () => void;
      const held = new Promise<void>((resolve) => (holding = resolve));
      let gone!: () => void;
      const wentAway = new Promise<void>((resolve) => (gone = resolve));
      const work = shard.transaction(async (tx) => {
        expect(await tx.files.findLive(fileA.uuid)).toMatchObject({ uuid: fileA.uuid });
        holding();
        await wentAway;
        return tx.files.findLive(fileA.uuid);
      });
      await held;
      await proxy!.stop();
      // Long enough for the reset to reach the client's socket and its events to run.
      await sleep(200);
      gone();
      await expect(work).rejects.toMatchObject({ code: 'SHARD_UNAVAILABLE', statusCode: 503 });
      expect(uncaught.map(String)).toEqual([]);
    } finally {
      process.off('uncaughtException', record);
    }
  });

  it('with shard b down, fails only its projects, each request at once, with 503 SHARD_UNAVAILABLE', async () => {
    const trove = server();
    await proxy!.stop();

    // Project B, on main, carries on: upload, info, delivery of a file never delivered before
    // (so looked up across the shards, `b` failing), and listing.
    const uploadedB = await upload(trove, projectB, text('uploaded during the outage'), 'during.txt');
    expect(uploadedB.status, uploadedB.text).toBe(200);
    expect(uploadedB.ms).toBeLessThan(ANSWER_WITHIN_MS);
    const duringB = (JSON.parse(uploadedB.text) as { file: string }).file;
    expect(duringB).toMatch(UUID_RE);

    const info = await getInfo(trove, duringB, projectB.publicKey);
    expect(info.status).toBe(200);
    expect(await info.json()).toMatchObject({ uuid: duringB, size: 'uploaded during the outage'.length });

    for (const uuid of [duringB, fileB.uuid]) {
      const delivered = await timed(`${trove.url}/${uuid}/`);
      expect(delivered.status, `${uuid}: ${delivered.text}`).toBe(200);
      expect(delivered.ms).toBeLessThan(ANSWER_WITHIN_MS);
    }
    expect((await timed(`${trove.url}/${fileB.uuid}/`)).bytes.equals(Buffer.from(fileB.bytes))).toBe(true);

    const listedB = await listFiles(trove, projectB);
    expect(listedB.status, listedB.text).toBe(200);
    expect(listedB.ms).toBeLessThan(ANSWER_WITHIN_MS);
    expect(listedUuids(listedB)).toEqual([fileB.uuid, duringB]);

    // Project A, on b: its upload is refused in the Upload API's error shape, naming shard and cause.
    const originalsBefore = await trove.countOriginals();
    const uploadedA = await upload(trove, projectA, text('refused'), 'refused.txt');
    expect(uploadedA.status, uploadedA.text).toBe(503);
    expect(uploadedA.ms).toBeLessThan(ANSWER_WITHIN_MS);
    expect(uploadedA.headers.get('retry-after')).toBe('5');
    expect(uploadedA.headers.get('content-type') ?? '').toMatch(/application\/json/);
    const uploadError = (JSON.parse(uploadedA.text) as { error: { status_code: number; error_code: string; content: string } }).error;
    expect(uploadError).toMatchObject({ status_code: 503, error_code: 'SHARD_UNAVAILABLE' });
    expect(uploadError.content).toMatch(SHARD_B_DOWN);
    // The bytes it had already written to the blob store are discarded with it.
    expect(await trove.countOriginals()).toBe(originalsBefore);

    // The REST API's error shape is Uploadcare's `{ detail }`: it carries the message, not the code.
    const listedA = await listFiles(trove, projectA);
    expect(listedA.status, listedA.text).toBe(503);
    expect(listedA.ms).toBeLessThan(ANSWER_WITHIN_MS);
    expect(listedA.headers.get('retry-after')).toBe('5');
    expect(listedA.headers.get('content-type')).toBe('application/json');
    expect((JSON.parse(listedA.text) as { detail: string }).detail).toMatch(SHARD_B_DOWN);

    // A uuid no shard that answers has: it may be on b, so the answer is b's outage, not a 404.
    const unknown = await timed(`${trove.url}/${randomUUID()}/`);
    expect(unknown.status, unknown.text).toBe(503);
    expect(unknown.ms).toBeLessThan(ANSWER_WITHIN_MS);
    expect(unknown.headers.get('retry-after')).toBe('5');
    const deliveryError = JSON.parse(unknown.text) as { code: string; message: string; details?: { shard?: string } };
    expect(deliveryError).toMatchObject({ code: 'SHARD_UNAVAILABLE', details: { shard: 'b' } });
    expect(deliveryError.message).toMatch(SHARD_B_DOWN);

    // A's file delivered before the outage: its record is still in the delivery record cache (30 s,
    // on the server's clock), so it is served without asking b.
    const cached = await timed(`${trove.url}/${fileA.uuid}/`);
    expect(cached.status, cached.text).toBe(200);
    expect(cached.bytes.equals(Buffer.from(fileA.bytes))).toBe(true);
    // Once that cache entry is too old, the lookup has to ask b, and gets its outage.
    trove.clock.advance(31_000);
    const uncached = await timed(`${trove.url}/${fileA.uuid}/`);
    expect(uncached.status, uncached.text).toBe(503);
    expect(uncached.ms).toBeLessThan(ANSWER_WITHIN_MS);
    expect((JSON.parse(uncached.text) as { code: string }).code).toBe('SHARD_UNAVAILABLE');
  });

  it('reports shard b in /ready as failing, which degrades the node without making it unready', async () => {
    const { answer, body } = await ready(server());
    expect(answer.ms).toBeLessThan(ANSWER_WITHIN_MS);
    // An optional check failing: ready (200), status degraded; the main database still answers.
    expect(answer.status, answer.text).toBe(200);
    expect(body.status).toBe('degraded');
    expect(body.checks.database, answer.text).toMatchObject({ ok: true });
    expect(body.checks['shard:b'], answer.text).toMatchObject({ name: 'shard:b', ok: false });
    expect(body.checks['shard:b']?.error).toMatch(SHARD_B_DOWN);
  });

  it('serves project A again within seconds once shard b is back', async () => {
    const trove = server();
    await proxy!.start();
    const started = Date.now();
    let uploaded: Answer | undefined;
    while (Date.now() - started < 15_000) {
      uploaded = await upload(trove, projectA, text('after the outage'), 'after.txt');
      if (uploaded.status === 200) break;
      await sleep(250);
    }
    expect(uploaded?.status, uploaded?.text).toBe(200);
    const afterA = (JSON.parse(uploaded!.text) as { file: string }).file;

    const listed = await listFiles(trove, projectA);
    expect(listed.status, listed.text).toBe(200);
    // The uploads refused during the outage left no file behind.
    expect(listedUuids(listed)).toEqual([fileA.uuid, afterA]);

    for (const uuid of [fileA.uuid, afterA]) {
      const delivered = await timed(`${trove.url}/${uuid}/`);
      expect(delivered.status, `${uuid}: ${delivered.text}`).toBe(200);
    }
    const { body } = await ready(trove);
    expect(body.checks['shard:b']).toMatchObject({ ok: true });
  });
});
