/**
 * Reliability of `trove serve` as real processes against real services: two nodes sharing
 * PostgreSQL, S3 and Redis; webhook deliveries surviving `kill -9`; Redis and PostgreSQL going away
 * and coming back while a node keeps serving.
 *
 * The machine's own PostgreSQL (5432) and Redis (6379) are only ever used, never stopped: a case
 * that stops a service starts a private instance of it on a spare port and folder.
 *
 * Needs a build (`npm run build`). Missing services skip their case with a message, or fail it when
 * TROVE_TEST_REQUIRE_SCALE=1.
 */
import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import SqliteDatabase from 'better-sqlite3';
import { Redis } from 'ioredis';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { createTestDatabase, postgresUnavailableReason, REQUIRE_SCALE } from '../helpers/backends.js';
import { redisUnavailableReason } from '../helpers/test-redis.js';
import { makeJpeg } from '../helpers/images.js';
import { startS3Server } from '../helpers/s3-server.js';
import {
  countFilesUnder,
  metricValue,
  ownPostgresUnavailableReason,
  redisServerBinary,
  scrapeMetrics,
  sleep,
  spawnTrove,
  startOwnPostgres,
  startOwnRedis,
  stopAllProcesses,
  tempDir,
  waitFor,
  type TroveNode,
} from '../helpers/service-processes.js';

/** The machine's Redis, on a database index of its own (FLUSHDB'd before use): Trove's key prefix is fixed. */
const SHARED_REDIS_URL = process.env.TEST_SCALE_REDIS_URL ?? 'redis://127.0.0.1:6379/7';

// ---------------------------------------------------------------------------------------------
// Clean-up: every case releases what it started in `finally`; afterAll catches the rest.

const deferred: Array<() => Promise<unknown>> = [];
function defer(release: () => Promise<unknown>): () => Promise<void> {
  let done = false;
  const once = async () => {
    if (done) return;
    done = true;
    const index = deferred.indexOf(once);
    if (index >= 0) deferred.splice(index, 1);
    await release();
  };
  deferred.push(once);
  return once;
}

async function releaseAll(): Promise<void> {
  const errors: unknown[] = [];
  // Processes first (nodes before the services they use), then databases, buckets, sockets.
  try {
    await stopAllProcesses();
  } catch (error) {
    errors.push(error);
  }
  for (const release of [...deferred].reverse()) {
    try {
      await release();
    } catch (error) {
      errors.push(error);
    }
  }
  if (errors.length > 0) throw new AggregateError(errors, 'clean-up failed');
}

afterAll(releaseAll, 90_000);

// ---------------------------------------------------------------------------------------------
// Availability

interface SkipContext {
  skip(note?: string): never;
}

/** Skips the case (or fails it under TROVE_TEST_REQUIRE_SCALE=1) when `reason` is not null. */
function requireService(ctx: SkipContext, reason: string | null): void {
  if (reason === null) return;
  if (REQUIRE_SCALE) throw new Error(`${reason} (required: TROVE_TEST_REQUIRE_SCALE=1)`);
  console.warn(`[trove tests] skipping a scale-out reliability case: ${reason}. Set TROVE_TEST_REQUIRE_SCALE=1 to make this an error.`);
  ctx.skip(reason);
}


// ---------------------------------------------------------------------------------------------
// HTTP helpers

interface Keys {
  publicKey: string;
  secretKey: string;
}

function newKeys(): Keys {
  return { publicKey: `pk_${randomBytes(8).toString('hex')}`, secretKey: `sk_${randomBytes(16).toString('hex')}` };
}

function restHeaders(keys: Keys, json = false): Record<string, string> {
  return {
    authorization: `Uploadcare.Simple ${keys.publicKey}:${keys.secretKey}`,
    accept: 'application/vnd.uploadcare-v0.7+json',
    ...(json ? { 'content-type': 'application/json' } : {}),
  };
}

function uploadForm(keys: Keys, bytes: Uint8Array, filename: string, type: string): FormData {
  const copy = new Uint8Array(bytes.byteLength);
  copy.set(bytes);
  const form = new FormData();
  form.set('UPLOADCARE_PUB_KEY', keys.publicKey);
  form.set('UPLOADCARE_STORE', '1');
  form.set('file', new Blob([copy], { type }), filename);
  return form;
}

function postUpload(node: TroveNode, keys: Keys, bytes: Uint8Array, filename = 'photo.jpg', type = 'image/jpeg'): Promise<Response> {
  return fetch(`${node.url}/upload/base/`, { method: 'POST', body: uploadForm(keys, bytes, filename, type), headers: { connection: 'close' } });
}

async function upload(node: TroveNode, keys: Keys, bytes: Uint8Array, filename = 'photo.jpg', type = 'image/jpeg'): Promise<string> {
  const response = await postUpload(node, keys, bytes, filename, type);
  const text = await response.text();
  if (response.status !== 200) throw new Error(`upload to ${node.url} answered ${response.status}: ${text}`);
  const uuid = (JSON.parse(text) as { file?: string }).file;
  if (!uuid) throw new Error(`upload answered without a file uuid: ${text}`);
  return uuid;
}

async function get(url: string, headers: Record<string, string> = {}): Promise<{ status: number; body: Buffer; headers: Headers }> {
  const response = await fetch(url, { headers: { connection: 'close', ...headers } });
  return { status: response.status, body: Buffer.from(await response.arrayBuffer()), headers: response.headers };
}

interface ReadyBody {
  status: string;
  checks: Record<string, { ok: boolean; error?: string }>;
}

async function ready(node: TroveNode): Promise<{ status: number; body: ReadyBody }> {
  const response = await fetch(`${node.url}/ready`, { headers: { connection: 'close' } });
  return { status: response.status, body: (await response.json()) as ReadyBody };
}

function s3StorageEnv(s3: { bucket: string; endpoint: string; region: string; accessKeyId: string; secretAccessKey: string }): Record<string, string> {
  return {
    STORAGE_URL: `s3://${s3.bucket}?endpoint=${encodeURIComponent(s3.endpoint)}&region=${s3.region}&forcePathStyle=true`,
    AWS_ACCESS_KEY_ID: s3.accessKeyId,
    AWS_SECRET_ACCESS_KEY: s3.secretAccessKey,
  };
}


/** A webhook receiver on loopback: records the file uuid of every body and answers 200. */
async function startReceiver(): Promise<{ url: string; delivered: Map<string, number>; release: () => Promise<void> }> {
  const delivered = new Map<string, number>();
  const server: Server = createServer((request, response) => {
    let body = '';
    request.on('data', (chunk: Buffer) => (body += chunk.toString('utf8')));
    request.on('end', () => {
      try {
        const uuid = (JSON.parse(body) as { data?: { uuid?: string } }).data?.uuid;
        if (uuid) delivered.set(uuid, (delivered.get(uuid) ?? 0) + 1);
      } catch {
        // not a webhook body
      }
      response.writeHead(200).end('ok');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const release = defer(
    () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  );
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks`, delivered, release };
}

async function createWebhook(node: TroveNode, keys: Keys, targetUrl: string): Promise<number> {
  const created = await fetch(`${node.url}/webhooks/`, {
    method: 'POST',
    headers: { ...restHeaders(keys, true), connection: 'close' },
    body: JSON.stringify({ target_url: targetUrl, event: 'file.uploaded' }),
  });
  const text = await created.text();
  if (created.status !== 201) throw new Error(`POST /webhooks/ answered ${created.status}: ${text}`);
  return (JSON.parse(text) as { id: number }).id;
}

interface LoggedDelivery {
  status: string;
  attempts: number;
  payload: { data: { uuid: string } };
}

async function deliveryLog(node: TroveNode, keys: Keys, hookId: number): Promise<LoggedDelivery[]> {
  const response = await fetch(`${node.url}/webhooks/${hookId}/deliveries/?limit=100`, { headers: { ...restHeaders(keys), connection: 'close' } });
  if (response.status !== 200) throw new Error(`delivery log answered ${response.status}`);
  return ((await response.json()) as { results: LoggedDelivery[] }).results;
}

const TRANSFORM = '-/resize/300x/-/format/jpeg/';

/** One line per case with the numbers worth watching over time. */
function summary(name: string, facts: Record<string, unknown>): void {
  console.info(`[scale-out] ${name}: ${JSON.stringify(facts)}`);
}

// ---------------------------------------------------------------------------------------------

describe('Trove scale-out reliability (real processes)', () => {
  it('two nodes share PostgreSQL, S3 and Redis: 50 concurrent requests make one transformation; a delete on one node is seen by the other within a second', async (ctx) => {
    requireService(ctx, await postgresUnavailableReason());
    requireService(ctx, await redisUnavailableReason(SHARED_REDIS_URL));
    const releases: Array<() => Promise<void>> = [];
    try {
      const redis = new Redis(SHARED_REDIS_URL, { maxRetriesPerRequest: 1 });
      // Runs last: after the nodes have stopped, nothing is left in the borrowed database index.
      releases.push(defer(() => redis.flushdb().then(() => redis.quit()).catch(() => redis.disconnect())));
      await redis.flushdb();

      const database = await createTestDatabase();
      releases.push(defer(() => database.drop()));
      const s3 = await startS3Server();
      releases.push(defer(() => s3.stop()));
      const keys = newKeys();
      const shared = {
        DATABASE_URL: database.url,
        ...s3StorageEnv(s3),
        REDIS_URL: SHARED_REDIS_URL,
        TROVE_PUBLIC_KEY: keys.publicKey,
        TROVE_SECRET_KEY: keys.secretKey,
        LOG_LEVEL: 'warn',
      };
      const dirA = await tempDir('trove-node-a-');
      releases.push(dirA.remove);
      const dirB = await tempDir('trove-node-b-');
      releases.push(dirB.remove);
      // A migrates and creates the project; B starts on the ready database.
      const a = await spawnTrove({ name: 'node A', env: { ...shared, DATA_DIR: dirA.path } });
      releases.push(a.stop);
      const b = await spawnTrove({ name: 'node B', env: { ...shared, DATA_DIR: dirB.path } });
      releases.push(b.stop);

      const jpeg = await makeJpeg({ width: 1200, height: 800, noise: true });
      const uuid = await upload(a, keys, jpeg);
      // B knows the file (shared database and bucket) and now holds it in its memory caches.
      const originalOnB = await get(`${b.url}/${uuid}/`);
      expect(originalOnB.status).toBe(200);
      expect(originalOnB.body.equals(jpeg)).toBe(true);

      const derivative = (node: TroveNode) => `${node.url}/${uuid}/${TRANSFORM}`;
      const answers = await Promise.all(
        Array.from({ length: 50 }, (_, i) => get(derivative(i % 2 === 0 ? a : b)).then((r) => ({ status: r.status, bytes: r.body, node: i % 2 === 0 ? 'A' : 'B' }))),
      );
      const statuses = answers.map((r) => r.status);
      expect(statuses.filter((s) => s !== 200), `non-200 answers: ${JSON.stringify(statuses)}`).toEqual([]);
      // Every answer is the same image.
      const first = answers[0]!.bytes;
      expect(answers.every((r) => r.bytes.equals(first))).toBe(true);

      const [metricsA, metricsB] = await Promise.all([scrapeMetrics(a.url), scrapeMetrics(b.url)]);
      const lookups = (text: string) => ({
        miss: metricValue(text, 'trove_derivative_cache_total', { result: 'miss' }),
        l1: metricValue(text, 'trove_derivative_cache_total', { result: 'l1' }),
        l2: metricValue(text, 'trove_derivative_cache_total', { result: 'l2' }),
        transforms: metricValue(text, 'trove_transform_duration_seconds_count'),
      });
      const onA = lookups(metricsA);
      const onB = lookups(metricsB);
      expect(onA.miss + onB.miss, `misses A=${onA.miss} B=${onB.miss}`).toBe(1);
      expect(onA.transforms + onB.transforms, `transformations A=${onA.transforms} B=${onB.transforms}`).toBe(1);

      // B serves the derivative from memory from now on (fast lane), the strongest cache to invalidate.
      expect((await get(derivative(b))).status).toBe(200);

      const removed = await fetch(`${a.url}/files/${uuid}/storage/`, { method: 'DELETE', headers: { ...restHeaders(keys), connection: 'close' } });
      expect(removed.status, await removed.clone().text()).toBe(200);
      const deletedAt = Date.now();
      const gone = await waitFor(
        'node B to answer 404 for the deleted file and its derivative',
        async () => {
          const [original, transformed] = await Promise.all([get(`${b.url}/${uuid}/`), get(derivative(b))]);
          return original.status === 404 && transformed.status === 404 ? Date.now() - deletedAt : undefined;
        },
        5_000,
        25,
      );
      summary('two nodes', { lookupsA: onA, lookupsB: onB, deleteSeenOnBAfterMs: gone });
      expect(gone, `node B still served the deleted file ${gone} ms after the delete`).toBeLessThanOrEqual(1_000);
      // And it stays gone on both nodes (no cache tier brings it back).
      for (const node of [a, b]) {
        expect((await get(`${node.url}/${uuid}/`)).status).toBe(404);
        expect((await get(derivative(node))).status).toBe(404);
      }
    } finally {
      for (const release of releases.reverse()) await release().catch(() => undefined);
    }
  }, 60_000);

  it('webhook deliveries pending when the node is killed with SIGKILL are all delivered after a restart', async () => {
    const releases: Array<() => Promise<void>> = [];
    try {
      // The receiver fails (slowly, so attempts are in flight) until it is told to accept.
      let accepting = false;
      let inFlight = 0;
      const failedAttempts = new Map<string, number>();
      const delivered = new Map<string, number>();
      const receiver: Server = createServer((request, response) => {
        let body = '';
        inFlight++;
        request.on('data', (chunk: Buffer) => (body += chunk.toString('utf8')));
        request.on('end', () => {
          let uuid = '?';
          try {
            uuid = (JSON.parse(body) as { data?: { uuid?: string } }).data?.uuid ?? '?';
          } catch {
            // counted under '?'
          }
          if (accepting) {
            delivered.set(uuid, (delivered.get(uuid) ?? 0) + 1);
            inFlight--;
            response.writeHead(200).end('ok');
            return;
          }
          failedAttempts.set(uuid, (failedAttempts.get(uuid) ?? 0) + 1);
          setTimeout(() => {
            inFlight--;
            if (!response.destroyed) response.writeHead(503).end('try later');
          }, 400);
        });
        request.on('error', () => undefined);
      });
      await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
      releases.push(
        defer(
          () =>
            new Promise<void>((resolve) => {
              receiver.closeAllConnections();
              receiver.close(() => resolve());
            }),
        ),
      );
      const targetUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hooks`;

      const keys = newKeys();
      const dir = await tempDir('trove-webhooks-');
      releases.push(dir.remove);
      const node = await spawnTrove({
        name: 'webhook node',
        env: {
          DATA_DIR: dir.path,
          TROVE_PUBLIC_KEY: keys.publicKey,
          TROVE_SECRET_KEY: keys.secretKey,
          TROVE_FETCH_ALLOW_PRIVATE: 'true',
          // Short enough for a test: first retry after 1 s; a lost attempt is taken again after 3 × 1 s + 5 s.
          TROVE_WEBHOOK_RETRY_BASE: '1s',
          TROVE_WEBHOOK_TIMEOUT: '1s',
          LOG_LEVEL: 'warn',
        },
      });
      releases.push(node.stop);

      const created = await fetch(`${node.url}/webhooks/`, {
        method: 'POST',
        headers: { ...restHeaders(keys, true), connection: 'close' },
        body: JSON.stringify({ target_url: targetUrl, event: 'file.uploaded' }),
      });
      expect(created.status, await created.clone().text()).toBe(201);
      const hookId = ((await created.json()) as { id: number }).id;

      const uuids: string[] = [];
      for (let i = 0; i < 20; i += 4) {
        uuids.push(...(await Promise.all(Array.from({ length: 4 }, (_, j) => upload(node, keys, Buffer.from(`event file ${i + j}`), `e${i + j}.txt`, 'text/plain')))));
      }
      expect(new Set(uuids).size).toBe(20);

      // Every event has been attempted (and refused) at least once, and an attempt is in flight now.
      await waitFor('a failed attempt for each of the 20 events', () => uuids.every((u) => (failedAttempts.get(u) ?? 0) >= 1), 20_000);
      await waitFor('a delivery attempt in flight', () => inFlight > 0, 10_000, 5);
      await node.killHard();
      const killedAt = Date.now();

      // What the crash left in the database: pending deliveries, jobs waiting or holding a lease.
      const db = new SqliteDatabase(path.join(dir.path, 'trove.db'));
      let pendingDeliveries: number;
      let jobStates: Array<{ status: string; n: number }>;
      try {
        pendingDeliveries = (db.prepare(`select count(*) as n from webhook_deliveries where status = 'pending'`).get() as { n: number }).n;
        jobStates = db.prepare(`select status, count(*) as n from jobs where name = 'webhook.deliver' group by status`).all() as Array<{ status: string; n: number }>;
      } finally {
        db.close();
      }
      expect(pendingDeliveries, 'deliveries pending at the moment of the crash').toBe(20);
      expect(jobStates.reduce((sum, s) => sum + s.n, 0), `jobs at the crash: ${JSON.stringify(jobStates)}`).toBe(20);

      accepting = true;
      await node.restart();
      const everyDelivered = await waitFor(
        'every one of the 20 events to be delivered after the restart',
        () => (uuids.every((u) => delivered.has(u)) ? Date.now() - killedAt : undefined),
        45_000,
        100,
      );
      expect(uuids.filter((u) => !delivered.has(u))).toEqual([]);
      summary('webhooks after kill -9', {
        jobsAtCrash: Object.fromEntries(jobStates.map((s) => [s.status, s.n])),
        failedAttemptsBeforeCrash: [...failedAttempts.values()].reduce((a, b) => a + b, 0),
        allDeliveredMsAfterKill: everyDelivered,
        duplicates: [...delivered.values()].filter((n) => n > 1).length,
      });

      // The delivery log agrees: all delivered, none failed. The receiver has each request before Trove
      // has read its answer and recorded the attempt, so the log may trail it by a moment.
      let results: Array<{ status: string; payload: { data: { uuid: string } } }> = [];
      await waitFor(
        'the delivery log to record every delivery',
        async () => {
          const log = await fetch(`${node.url}/webhooks/${hookId}/deliveries/?limit=100`, { headers: { ...restHeaders(keys), connection: 'close' } });
          expect(log.status).toBe(200);
          results = ((await log.json()) as { results: typeof results }).results;
          return results.every((r) => r.status === 'delivered') ? true : undefined;
        },
        10_000,
        100,
      ).catch(() => undefined);
      expect(results).toHaveLength(20);
      expect(results.filter((r) => r.status !== 'delivered').map((r) => `${r.payload.data.uuid}: ${r.status}`)).toEqual([]);
    } finally {
      for (const release of releases.reverse()) await release().catch(() => undefined);
    }
  }, 90_000);

  it('keeps serving while its Redis is stopped, reports degraded readiness, logs it, and recovers when Redis returns', async (ctx) => {
    requireService(ctx, redisServerBinary() ? null : 'redis-server is not installed');
    const releases: Array<() => Promise<void>> = [];
    try {
      const redis = await startOwnRedis();
      releases.push(redis.release);
      const keys = newKeys();
      const dir = await tempDir('trove-redis-node-');
      releases.push(dir.remove);
      const node = await spawnTrove({
        name: 'redis node',
        env: { DATA_DIR: dir.path, REDIS_URL: redis.url(0), TROVE_PUBLIC_KEY: keys.publicKey, TROVE_SECRET_KEY: keys.secretKey, LOG_LEVEL: 'info' },
      });
      releases.push(node.stop);
      await waitFor('the node to be ready with Redis', async () => (await ready(node)).body.status === 'ready', 10_000);

      const uuid = await upload(node, keys, await makeJpeg({ width: 900, height: 600, noise: true }));
      const url = `${node.url}/${uuid}/${TRANSFORM}`;
      const warm = await get(url);
      expect(warm.status).toBe(200);
      expect((await get(url)).status).toBe(200);

      await redis.stop();
      const downAt = Date.now();
      const degraded = await waitFor(
        '/ready to report Redis down',
        async () => {
          const answer = await ready(node);
          return answer.body.checks.redis?.ok === false ? answer : undefined;
        },
        10_000,
      );
      expect(degraded.status).toBe(200);
      expect(degraded.body.status).toBe('degraded');
      expect(degraded.body.checks.database?.ok).toBe(true);
      expect(degraded.body.checks.storage?.ok).toBe(true);

      // Cached derivative: still served, same bytes.
      const hit = await get(url);
      expect(hit.status).toBe(200);
      expect(hit.body.equals(warm.body)).toBe(true);
      // Uploads (rate limits fail open) and their delivery.
      const text = Buffer.from('uploaded while Redis is away');
      const during = await upload(node, keys, text, 'during.txt', 'text/plain');
      const original = await get(`${node.url}/${during}/`);
      expect(original.status).toBe(200);
      expect(original.body.equals(text)).toBe(true);
      // A new transformation (locks fail open) works too.
      expect((await get(`${node.url}/${uuid}/-/resize/120x/-/format/png/`)).status).toBe(200);
      const requestsTook = Date.now() - downAt;

      // The operator can tell from the log.
      await waitFor('a log line about Redis being unreachable', () => /Redis unreachable/i.test(node.output()), 5_000);
      const line = node.logLines().find((l) => typeof l.msg === 'string' && /Redis unreachable/i.test(l.msg));
      expect(line?.level).toBeGreaterThanOrEqual(40);

      // A real outage lasts: long enough for the reconnect backoff to reach its cap. Hits keep coming meanwhile.
      let hitsDuringOutage = 0;
      while (Date.now() - downAt < 4_000) {
        expect((await get(url)).status).toBe(200);
        hitsDuringOutage++;
        await sleep(200);
      }
      expect((await ready(node)).body.checks.redis?.ok).toBe(false);

      await redis.start();
      const restartedAt = Date.now();
      const recoveredIn = await waitFor(
        '/ready to recover once Redis is back',
        async () => {
          const answer = await ready(node);
          return answer.status === 200 && answer.body.status === 'ready' ? Date.now() - restartedAt : undefined;
        },
        15_000,
      );
      const warnings = node.logLines().filter((l) => Number(l.level) >= 40);
      summary('Redis outage', {
        requestsDuringOutageMs: requestsTook,
        readyRecoveredMs: recoveredIn,
        outageMs: restartedAt - downAt,
        hitsDuringOutage,
        redisUnreachableLines: warnings.filter((l) => /Redis unreachable/i.test(String(l.msg))).length,
        jobQueueErrorLines: warnings.filter((l) => /job queue error/i.test(String(l.msg))).length,
      });
      expect(recoveredIn, `/ready recovered ${recoveredIn} ms after Redis came back`).toBeLessThanOrEqual(5_000);
      // The log line is written when the connection's ready event fires, which may come a moment after a
      // command already went through.
      await waitFor('the node to log that Redis is back', () => /Redis is back/.test(node.output()), 5_000);
      expect(requestsTook).toBeLessThan(10_000);
      // Still serving after the round trip.
      expect((await get(url)).status).toBe(200);
      await upload(node, keys, Buffer.from('after Redis came back'), 'after.txt', 'text/plain');
    } finally {
      for (const release of releases.reverse()) await release().catch(() => undefined);
    }
  }, 60_000);

  it('answers uploads with 503 + Retry-After and leaves no bytes while PostgreSQL is stopped, keeps cache hits, and recovers without a restart', async (ctx) => {
    requireService(ctx, ownPostgresUnavailableReason());
    const releases: Array<() => Promise<void>> = [];
    try {
      const postgres = await startOwnPostgres();
      releases.push(postgres.release);
      const keys = newKeys();
      const dir = await tempDir('trove-pg-node-');
      releases.push(dir.remove);
      const node = await spawnTrove({
        name: 'postgres node',
        env: { DATA_DIR: dir.path, DATABASE_URL: postgres.url, TROVE_PUBLIC_KEY: keys.publicKey, TROVE_SECRET_KEY: keys.secretKey, LOG_LEVEL: 'warn' },
      });
      releases.push(node.stop);
      const pid = node.child.pid;
      const blobs = path.join(dir.path, 'blobs');
      const originals = () => countFilesUnder(path.join(blobs, 'originals'));
      // Temporary files of writes in progress (derivatives are written to the store in the background too).
      const staging = () => countFilesUnder(path.join(blobs, '.staging'));

      const jpeg = await makeJpeg({ width: 900, height: 600, noise: true });
      const uuid = await upload(node, keys, jpeg);
      const url = `${node.url}/${uuid}/${TRANSFORM}`;
      const warm = await get(url);
      expect(warm.status).toBe(200);
      expect((await get(url)).status).toBe(200);
      const before = await originals();
      expect(before).toBe(1);

      await postgres.stop();

      for (let i = 0; i < 3; i++) {
        const response = await postUpload(node, keys, jpeg, `outage-${i}.jpg`);
        const body = await response.text();
        expect(response.status, `upload during the outage: ${body}`).toBe(503);
        expect(response.headers.get('content-type') ?? '').toMatch(/application\/json/);
        expect(() => JSON.parse(body) as unknown).not.toThrow();
        expect(Number(response.headers.get('retry-after'))).toBeGreaterThan(0);
      }
      // Nothing half-saved: no original was added and no temporary file stays behind.
      await waitFor('the staging folder to be empty', async () => (await staging()) === 0, 2_000);
      expect(await originals()).toBe(before);

      // The cached derivative is still served, and readiness says the database is down.
      const hit = await get(url);
      expect(hit.status).toBe(200);
      expect(hit.body.equals(warm.body)).toBe(true);
      const duringOutage = await ready(node);
      expect(duringOutage.status).toBe(503);
      expect(duringOutage.body.checks.database?.ok).toBe(false);
      expect(node.child.exitCode, `the node exited during the outage:\n${node.output().slice(-3_000)}`).toBeNull();

      await postgres.start();
      const restartedAt = Date.now();
      const after = await waitFor(
        'an upload to succeed once PostgreSQL is back',
        async () => {
          const response = await postUpload(node, keys, Buffer.from('after the outage'), 'after.txt', 'text/plain');
          const body = await response.text();
          return response.status === 200 ? (JSON.parse(body) as { file: string }).file : undefined;
        },
        20_000,
        250,
      );
      const recoveredIn = Date.now() - restartedAt;
      summary('PostgreSQL outage', { uploadsRecoveredMs: recoveredIn });
      expect(node.child.pid).toBe(pid);
      expect(node.child.exitCode).toBeNull();
      expect((await get(`${node.url}/${after}/`)).body.toString()).toBe('after the outage');
      expect((await ready(node)).status).toBe(200);
      expect(recoveredIn).toBeLessThan(20_000);
    } finally {
      for (const release of releases.reverse()) await release().catch(() => undefined);
    }
  }, 90_000);
  // -------------------------------------------------------------------------------------------
  // Durability cases (see the README: webhook deliveries are "at least once … and survive restarts
  // and crashes"): events are recorded with the change itself and dispatched from there.

  it('records the webhook events of an acknowledged upload durably: SIGKILL right after the response loses none', async () => {
    const releases: Array<() => Promise<void>> = [];
    try {
      const receiver = await startReceiver();
      releases.push(receiver.release);
      const keys = newKeys();
      const dir = await tempDir('trove-ack-kill-');
      releases.push(dir.remove);
      const node = await spawnTrove({
        name: 'ack-kill node',
        env: {
          DATA_DIR: dir.path,
          TROVE_PUBLIC_KEY: keys.publicKey,
          TROVE_SECRET_KEY: keys.secretKey,
          TROVE_FETCH_ALLOW_PRIVATE: 'true',
          TROVE_WEBHOOK_RETRY_BASE: '1s',
          TROVE_WEBHOOK_TIMEOUT: '1s',
          LOG_LEVEL: 'warn',
        },
      });
      releases.push(node.stop);
      const hookId = await createWebhook(node, keys, receiver.url);

      // One request with 100 files: 100 acknowledged uploads, 100 events owed.
      const form = new FormData();
      form.set('UPLOADCARE_PUB_KEY', keys.publicKey);
      for (let i = 0; i < 100; i++) form.set(`file${i}`, new Blob([`acknowledged ${i}`], { type: 'text/plain' }), `a${i}.txt`);
      const response = await fetch(`${node.url}/upload/base/`, { method: 'POST', body: form, headers: { connection: 'close' } });
      const text = await response.text();
      await node.killHard();
      expect(response.status, text).toBe(200);
      const uuids = Object.values(JSON.parse(text) as Record<string, string>);
      expect(uuids).toHaveLength(100);

      await node.restart();
      // Either everything arrives, or the node has nothing left to send (every recorded delivery done).
      await waitFor(
        'every event delivered, or no delivery left to make',
        async () => {
          if (uuids.every((u) => receiver.delivered.has(u))) return true;
          const log = await deliveryLog(node, keys, hookId);
          return log.length < uuids.length && log.every((d) => d.status === 'delivered');
        },
        30_000,
        250,
      );
      const recorded = new Set((await deliveryLog(node, keys, hookId)).map((d) => d.payload.data.uuid));
      const lost = uuids.filter((u) => !receiver.delivered.has(u));
      summary('events after SIGKILL right after the response', { acknowledged: uuids.length, recorded: recorded.size, lost: lost.length });
      expect(lost, `${lost.length} of ${uuids.length} acknowledged uploads never produced their file.uploaded event (${uuids.length - recorded.size} were never recorded)`).toEqual([]);
    } finally {
      for (const release of releases.reverse()) await release().catch(() => undefined);
    }
  }, 60_000);

  it('delivers the webhook of an upload made while Redis was down once Redis is back', async (ctx) => {
    requireService(ctx, redisServerBinary() ? null : 'redis-server is not installed');
    const releases: Array<() => Promise<void>> = [];
    try {
      const receiver = await startReceiver();
      releases.push(receiver.release);
      const redis = await startOwnRedis();
      releases.push(redis.release);
      const keys = newKeys();
      const dir = await tempDir('trove-redis-hook-');
      releases.push(dir.remove);
      const node = await spawnTrove({
        name: 'redis webhook node',
        env: {
          DATA_DIR: dir.path,
          REDIS_URL: redis.url(0),
          TROVE_PUBLIC_KEY: keys.publicKey,
          TROVE_SECRET_KEY: keys.secretKey,
          TROVE_FETCH_ALLOW_PRIVATE: 'true',
          TROVE_WEBHOOK_RETRY_BASE: '1s',
          TROVE_WEBHOOK_TIMEOUT: '1s',
          LOG_LEVEL: 'warn',
        },
      });
      releases.push(node.stop);
      await waitFor('the node to be ready with Redis', async () => (await ready(node)).body.status === 'ready', 10_000);
      const hookId = await createWebhook(node, keys, receiver.url);
      const before = await upload(node, keys, Buffer.from('before the outage'), 'before.txt', 'text/plain');
      await waitFor('the event of an upload before the outage', () => receiver.delivered.has(before), 10_000);

      await redis.stop();
      await waitFor('/ready to report Redis down', async () => (await ready(node)).body.checks.redis?.ok === false, 10_000);
      // README: uploads keep working while Redis is down; their events are still owed.
      const during = await upload(node, keys, Buffer.from('during the outage'), 'during.txt', 'text/plain');
      await redis.start();
      await waitFor('/ready to recover', async () => (await ready(node)).body.status === 'ready', 15_000);
      const arrived = await waitFor('the event of the upload made during the outage', () => receiver.delivered.has(during), 12_000).catch(() => false);
      const entry = (await deliveryLog(node, keys, hookId)).find((d) => d.payload.data.uuid === during);
      summary('upload during a Redis outage', { delivered: arrived, delivery: entry ? { status: entry.status, attempts: entry.attempts } : null });
      expect(arrived, `delivery of ${during}: ${entry ? `${entry.status} after ${entry.attempts} attempts` : 'not recorded'}`).toBe(true);
    } finally {
      for (const release of releases.reverse()) await release().catch(() => undefined);
    }
  }, 60_000);

  it('a delete while Redis is down either answers 503 + Retry-After or still purges the bytes once Redis is back', async (ctx) => {
    requireService(ctx, redisServerBinary() ? null : 'redis-server is not installed');
    const releases: Array<() => Promise<void>> = [];
    try {
      const redis = await startOwnRedis();
      releases.push(redis.release);
      const keys = newKeys();
      const dir = await tempDir('trove-redis-delete-');
      releases.push(dir.remove);
      const node = await spawnTrove({
        name: 'redis delete node',
        env: { DATA_DIR: dir.path, REDIS_URL: redis.url(0), TROVE_PUBLIC_KEY: keys.publicKey, TROVE_SECRET_KEY: keys.secretKey, LOG_LEVEL: 'warn' },
      });
      releases.push(node.stop);
      await waitFor('the node to be ready with Redis', async () => (await ready(node)).body.status === 'ready', 10_000);
      const originals = () => countFilesUnder(path.join(dir.path, 'blobs', 'originals'));
      const uuid = await upload(node, keys, Buffer.from('delete me'), 'delete.txt', 'text/plain');
      expect(await originals()).toBe(1);

      await redis.stop();
      await waitFor('/ready to report Redis down', async () => (await ready(node)).body.checks.redis?.ok === false, 10_000);
      const removed = await fetch(`${node.url}/files/${uuid}/storage/`, { method: 'DELETE', headers: { ...restHeaders(keys), connection: 'close' } });
      const removedBody = await removed.text();
      const outcome = { status: removed.status, retryAfter: removed.headers.get('retry-after'), body: removedBody.slice(0, 200) };

      await redis.start();
      await waitFor('/ready to recover', async () => (await ready(node)).body.status === 'ready', 15_000);
      // A client retries what was not confirmed.
      const again = removed.status === 200 ? null : await fetch(`${node.url}/files/${uuid}/storage/`, { method: 'DELETE', headers: { ...restHeaders(keys), connection: 'close' } });
      const purged = await waitFor('the bytes of the deleted file to be purged', async () => (await originals()) === 0, 10_000).catch(() => false);
      summary('delete during a Redis outage', { ...outcome, retryStatus: again?.status ?? null, bytesPurged: purged });

      expect(outcome.status === 200 || (outcome.status === 503 && Number(outcome.retryAfter) > 0), `DELETE during the outage: ${JSON.stringify(outcome)}`).toBe(true);
      expect(purged, 'the deleted file\'s original is still in storage after Redis came back and the delete was retried').toBe(true);
    } finally {
      for (const release of releases.reverse()) await release().catch(() => undefined);
    }
  }, 60_000);

  it('several nodes starting at once on a fresh PostgreSQL database all start and share one default project', async (ctx) => {
    requireService(ctx, await postgresUnavailableReason());
    const rounds: string[] = [];
    let failure: string | null = null;
    // The race is timing-dependent: up to 4 rounds of 4 simultaneous first starts, stopping at the first problem.
    for (let round = 0; round < 4 && failure === null; round++) {
      const releases: Array<() => Promise<void>> = [];
      try {
        const database = await createTestDatabase();
        releases.push(defer(() => database.drop()));
        // Odd rounds fix the keys (TROVE_PUBLIC_KEY/SECRET_KEY), even rounds let the nodes generate them.
        const keys = round % 2 === 1 ? newKeys() : null;
        const dirs = await Promise.all([0, 1, 2, 3].map(() => tempDir('trove-first-start-')));
        for (const d of dirs) releases.push(d.remove);
        const started = await Promise.allSettled(
          dirs.map((d, i) =>
            spawnTrove({
              name: `node ${i} (round ${round})`,
              // Four first starts share two cores (each compiling the sources): give them time.
              startTimeoutMs: 90_000,
              env: {
                DATA_DIR: d.path,
                DATABASE_URL: database.url,
                LOG_LEVEL: 'warn',
                ...(keys ? { TROVE_PUBLIC_KEY: keys.publicKey, TROVE_SECRET_KEY: keys.secretKey } : {}),
              },
            }),
          ),
        );
        for (const s of started) if (s.status === 'fulfilled') releases.push(s.value.stop);
        const crashed = started.flatMap((s) => (s.status === 'rejected' ? [String((s.reason as Error).message).split('\n').slice(0, 2).join(' ')] : []));
        const client = new pg.Client({ connectionString: database.url });
        await client.connect();
        const projects = Number((await client.query<{ n: string }>('select count(*) as n from projects')).rows[0]?.n);
        await client.end();
        rounds.push(`round ${round} (${keys ? 'fixed keys' : 'generated keys'}): ${dirs.length - crashed.length}/${dirs.length} started, ${projects} project(s)`);
        if (crashed.length > 0) failure = `${rounds.at(-1)}; ${crashed.join('; ')}`;
        else if (projects !== 1) failure = `${rounds.at(-1)}: each node created its own default project`;
      } finally {
        for (const release of releases.reverse()) await release().catch(() => undefined);
      }
    }
    summary('simultaneous first start', { rounds });
    expect(failure).toBeNull();
  }, 420_000);
});
