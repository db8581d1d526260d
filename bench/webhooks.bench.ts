/**
 * Webhook throughput: BENCH_EVENTS file.uploaded events, produced the honest way (small files
 * uploaded through POST /upload/base/, several per request), delivered to a local receiver that
 * answers 200 at once; first with the embedded job queue (SQLite), then with BullMQ (Redis).
 *
 *   npm run build && npm run bench:webhooks      (BENCH_EVENTS=10000 BENCH_FILES_PER_REQUEST=50 BENCH_UPLOAD_CONCURRENCY=4 BENCH_DRAIN_SECONDS=100 BENCH_REDIS_DB=14)
 *
 * Two phases per queue, on the same data:
 * - live: the worker runs while the files are uploaded. How long the uploads took, when every event
 *   had been recorded and queued, events/s delivered, and the delay from each upload's response to
 *   its event's arrival at the receiver (p50/p99/max). When the worker keeps up, the delivered rate
 *   is the rate at which uploads produce events, not the queue's ceiling; hence:
 * - backlog: Trove runs without its worker role while another BENCH_EVENTS files are uploaded, is
 *   stopped once every event is queued, and started again with the worker, which drains the backlog:
 *   events/s the queue delivers when it has work waiting.
 *
 * The BullMQ runs use redis://127.0.0.1:6379/<BENCH_REDIS_DB> and FLUSH that database before and after. Both
 * keep their metadata (deliveries) in SQLite; the bench reads that file (read-only) to see when every
 * event was recorded. A phase that has not delivered everything BENCH_DRAIN_SECONDS after its
 * uploads ended (or sees nothing arrive for 20 s) reports what it achieved.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { Agent, createServer, request as httpRequest, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { availableParallelism, loadavg } from 'node:os';
import path from 'node:path';
import SqliteDatabase from 'better-sqlite3';
import { Redis } from 'ioredis';
import { RATE_LIMITS_OFF, percentile, printTable, startTroveProcess, type TroveProcess } from './lib/trove-process.js';

const EVENTS = Number(process.env.BENCH_EVENTS ?? 10_000);
const FILES_PER_REQUEST = Number(process.env.BENCH_FILES_PER_REQUEST ?? 50);
const UPLOAD_CONCURRENCY = Number(process.env.BENCH_UPLOAD_CONCURRENCY ?? 4);
const DRAIN_SECONDS = Number(process.env.BENCH_DRAIN_SECONDS ?? 100);
const REDIS_DB = Number(process.env.BENCH_REDIS_DB ?? 14);
const STALL_MS = 20_000;
const FILE_BYTES = 256;
const BOUNDARY = '----trove-bench-webhooks';
const WITHOUT_WORKER = 'upload,api,delivery';

/** Arrivals at the receiver, keyed by the file uuid in the payload. */
class Receiver {
  readonly arrivals = new Map<string, number>();
  duplicates = 0;
  unreadable = 0;
  private readonly server = createServer((request, response) => this.handle(request, response));

  async start(): Promise<void> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
  }

  url(run: string): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/hook/${run}`;
  }

  reset(): void {
    this.arrivals.clear();
    this.duplicates = this.unreadable = 0;
  }

  private handle(request: IncomingMessage, response: ServerResponse): void {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const at = performance.now();
      response.writeHead(200, { 'content-type': 'text/plain' }).end('ok');
      try {
        const uuid = (JSON.parse(Buffer.concat(chunks).toString('utf8')) as { data?: { uuid?: string } }).data?.uuid;
        if (!uuid) this.unreadable++;
        else if (this.arrivals.has(uuid)) this.duplicates++;
        else this.arrivals.set(uuid, at);
      } catch {
        this.unreadable++;
      }
    });
  }

  close(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

const agent = new Agent({ keepAlive: true, maxSockets: 64 });

function send(url: string, method: string, headers: Record<string, string | number>, body: Buffer): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const request = httpRequest(url, { method, headers, agent }, (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('end', () => resolve({ status: response.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }));
      response.on('error', reject);
    });
    request.on('error', reject);
    request.end(body);
  });
}

/** One multipart body with `count` small files in fields file0…file<count-1>, built before the clock starts. */
function uploadBody(publicKey: string, count: number): Buffer {
  const parts: Buffer[] = [Buffer.from(`--${BOUNDARY}\r\nContent-Disposition: form-data; name="UPLOADCARE_PUB_KEY"\r\n\r\n${publicKey}\r\n`)];
  for (let i = 0; i < count; i++) {
    parts.push(
      Buffer.from(
        `--${BOUNDARY}\r\nContent-Disposition: form-data; name="file${i}"; filename="event-${i}.bin"\r\nContent-Type: application/octet-stream\r\n\r\n`,
      ),
      randomBytes(FILE_BYTES),
      Buffer.from('\r\n'),
    );
  }
  parts.push(Buffer.from(`--${BOUNDARY}--\r\n`));
  return Buffer.concat(parts);
}

function uploadBodies(publicKey: string): Buffer[] {
  const requests = Math.ceil(EVENTS / FILES_PER_REQUEST);
  return Array.from({ length: requests }, (_, i) => uploadBody(publicKey, Math.min(FILES_PER_REQUEST, EVENTS - i * FILES_PER_REQUEST)));
}

/** Sends the bodies, UPLOAD_CONCURRENCY at a time; returns when each file's upload answered. */
async function uploadAll(trove: TroveProcess, bodies: Buffer[]): Promise<Map<string, number>> {
  const uploadedAt = new Map<string, number>();
  let next = 0;
  async function uploader() {
    while (next < bodies.length) {
      const body = bodies[next++]!;
      const response = await send(
        `${trove.uploadUrl}/base/`,
        'POST',
        { 'content-type': `multipart/form-data; boundary=${BOUNDARY}`, 'content-length': body.length },
        body,
      );
      const at = performance.now();
      if (response.status !== 200) throw new Error(`POST /upload/base/: ${response.status} ${response.text}`);
      for (const uuid of Object.values(JSON.parse(response.text) as Record<string, string>)) uploadedAt.set(uuid, at);
    }
  }
  await Promise.all(Array.from({ length: UPLOAD_CONCURRENCY }, uploader));
  if (uploadedAt.size !== EVENTS) throw new Error(`${uploadedAt.size} files uploaded, expected ${EVENTS}`);
  return uploadedAt;
}

/** Waits until `count` events arrived, the budget after `since` is spent, or nothing arrives for STALL_MS. */
async function waitForArrivals(receiver: Receiver, count: number, since: number): Promise<void> {
  let seen = receiver.arrivals.size;
  let seenAt = performance.now();
  while (receiver.arrivals.size < count && performance.now() - since < DRAIN_SECONDS * 1000) {
    await sleep(100);
    if (receiver.arrivals.size !== seen) {
      seen = receiver.arrivals.size;
      seenAt = performance.now();
    }
    if (performance.now() - seenAt > STALL_MS) break;
  }
}

/** Watches the delivery rows in Trove's SQLite file (every 50 ms); notes when there are `target` of them. */
class DeliveryRows {
  private readonly db: SqliteDatabase.Database;
  private readonly timer: NodeJS.Timeout;
  private readonly countStatement: SqliteDatabase.Statement;
  count = 0;
  reachedAt: number | null = null;

  constructor(file: string, private readonly target: number) {
    this.db = new SqliteDatabase(file, { readonly: true, fileMustExist: true });
    this.countStatement = this.db.prepare('select count(*) as n from webhook_deliveries');
    this.timer = setInterval(() => this.look(), 50);
  }

  look(): void {
    if (this.reachedAt !== null) return;
    this.count = (this.countStatement.get() as { n: number }).n;
    if (this.count >= this.target) this.reachedAt = performance.now();
  }

  async reached(timeoutMs: number): Promise<boolean> {
    const until = performance.now() + timeoutMs;
    while (this.reachedAt === null && performance.now() < until) await sleep(50);
    return this.reachedAt !== null;
  }

  statuses(): { summary: string; retried: number } {
    const rows = this.db.prepare('select status, count(*) as n from webhook_deliveries group by status order by status').all() as Array<{ status: string; n: number }>;
    const retried = (this.db.prepare('select count(*) as n from webhook_deliveries where attempts > 1').get() as { n: number }).n;
    return { summary: rows.map((r) => `${r.status} ${r.n}`).join(', '), retried };
  }

  close(): void {
    clearInterval(this.timer);
    this.db.close();
  }
}

function cpuSeconds(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return NaN;
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

interface LiveResult {
  uploadSeconds: number;
  recordedSeconds: number | null;
  recorded: number;
  lastArrivalSeconds: number | null;
  delivered: number;
  delays: number[];
  troveCpuSeconds: number;
  peakRssMiB: number;
}

interface BacklogResult {
  uploadSeconds: number;
  queued: boolean;
  startupSeconds: number;
  firstArrivalSeconds: number | null;
  lastArrivalSeconds: number | null;
  delivered: number;
  troveCpuSeconds: number;
}

interface QueueResult {
  queue: string;
  live: LiveResult;
  backlog: BacklogResult;
  statuses: string;
  retried: number;
  duplicates: number;
  unreadable: number;
}

async function benchQueue(queue: string, port: number, receiver: Receiver, redisUrl: string | null): Promise<QueueResult> {
  const work = await mkdtemp(path.join(process.cwd(), '.tmp-bench-webhooks-'));
  const dataDir = path.join(work, 'data');
  const env: Record<string, string> = { ...RATE_LIMITS_OFF, TROVE_FETCH_ALLOW_PRIVATE: 'true' };
  if (redisUrl) env.REDIS_URL = redisUrl;
  let trove: TroveProcess | null = null;
  let rows: DeliveryRows | null = null;
  let duplicates = 0;
  let unreadable = 0;
  try {
    // Live: the worker delivers while the uploads go on.
    trove = await startTroveProcess({ dataDir, port, env });
    const created = await send(
      `${trove.url}/webhooks/`,
      'POST',
      {
        accept: 'application/vnd.uploadcare-v0.7+json',
        authorization: `Uploadcare.Simple ${trove.publicKey}:${trove.secretKey}`,
        'content-type': 'application/json',
      },
      Buffer.from(JSON.stringify({ target_url: receiver.url(redisUrl ? 'bullmq' : 'embedded'), event: 'file.uploaded' })),
    );
    if (created.status !== 201) throw new Error(`POST /webhooks/: ${created.status} ${created.text}`);
    const dbFile = path.join(dataDir, 'trove.db');
    let bodies = uploadBodies(trove.publicKey);
    receiver.reset();
    rows = new DeliveryRows(dbFile, EVENTS);
    let cpuBefore = cpuSeconds(trove.pid);
    const started = performance.now();
    const uploadedAt = await uploadAll(trove, bodies);
    const uploadsDone = performance.now();
    await waitForArrivals(receiver, EVENTS, uploadsDone);
    // The last rows may have been written after the last poll (a row precedes its delivery by
    // little when the queue keeps up): one more look, so the time is at worst a little late.
    rows.look();
    const delays: number[] = [];
    let lastArrival = 0;
    for (const [uuid, arrived] of receiver.arrivals) {
      const uploaded = uploadedAt.get(uuid);
      if (uploaded === undefined) continue;
      delays.push(arrived - uploaded);
      lastArrival = Math.max(lastArrival, arrived);
    }
    delays.sort((a, b) => a - b);
    const live: LiveResult = {
      uploadSeconds: (uploadsDone - started) / 1000,
      // Every row is written before its event is sent, so the last arrival bounds the time too.
      recordedSeconds: rows.reachedAt === null ? null : (Math.min(rows.reachedAt, lastArrival || Infinity) - started) / 1000,
      recorded: rows.count,
      lastArrivalSeconds: delays.length ? (lastArrival - started) / 1000 : null,
      delivered: delays.length,
      delays,
      troveCpuSeconds: cpuSeconds(trove.pid) - cpuBefore,
      peakRssMiB: trove.peakRssMiB(),
    };
    duplicates += receiver.duplicates;
    unreadable += receiver.unreadable;
    rows.close();
    rows = null;
    // Attempts in flight write their outcome before the process goes.
    await sleep(500);
    await trove.stop();
    trove = null;

    // Backlog: queue BENCH_EVENTS more events with no worker running, then start one and time the drain.
    trove = await startTroveProcess({ dataDir, port, env: { ...env, TROVE_ROLES: WITHOUT_WORKER } });
    bodies = uploadBodies(trove.publicKey);
    rows = new DeliveryRows(dbFile, 2 * EVENTS);
    receiver.reset();
    const backlogStarted = performance.now();
    await uploadAll(trove, bodies);
    const backlogUploaded = performance.now();
    // Events are recorded after the upload answers; stop only once every one of them is queued.
    const queued = await rows.reached(30_000);
    const queuedCpu = cpuSeconds(trove.pid);
    rows.close();
    rows = null;
    await trove.stop();
    trove = null;
    if (receiver.arrivals.size > 0) throw new Error(`${receiver.arrivals.size} events arrived with no worker running`);

    const restarting = performance.now();
    trove = await startTroveProcess({ dataDir, port, env });
    const workerUp = performance.now();
    // The worker starts before the HTTP port opens: the CPU count includes start-up.
    cpuBefore = 0;
    await waitForArrivals(receiver, EVENTS, workerUp);
    const arrivals = [...receiver.arrivals.values()];
    const backlog: BacklogResult = {
      uploadSeconds: (backlogUploaded - backlogStarted) / 1000,
      queued,
      startupSeconds: (workerUp - restarting) / 1000,
      firstArrivalSeconds: arrivals.length ? (Math.min(...arrivals) - restarting) / 1000 : null,
      lastArrivalSeconds: arrivals.length ? (Math.max(...arrivals) - restarting) / 1000 : null,
      delivered: arrivals.length,
      troveCpuSeconds: cpuSeconds(trove.pid) - cpuBefore,
    };
    if (!Number.isFinite(queuedCpu)) throw new Error('Trove exited while the backlog was queued');
    duplicates += receiver.duplicates;
    unreadable += receiver.unreadable;
    await sleep(500);
    rows = new DeliveryRows(dbFile, 2 * EVENTS);
    const { summary, retried } = rows.statuses();
    return { queue, live, backlog, statuses: summary, retried, duplicates, unreadable };
  } finally {
    rows?.close();
    if (trove) await trove.stop();
    await rm(work, { recursive: true, force: true });
  }
}

async function main() {
  const receiver = new Receiver();
  await receiver.start();
  const redisUrl = `redis://127.0.0.1:6379/${REDIS_DB}`;
  const results: QueueResult[] = [];
  const began = performance.now();
  const load = () => loadavg().map((v) => v.toFixed(2)).join(' ');
  console.log(`load average before: ${load()} (other work on the machine skews every number)`);
  try {
    results.push(await benchQueue('embedded (SQLite)', 3906, receiver, null));
    const redis = new Redis(redisUrl, { maxRetriesPerRequest: 1 });
    await redis.flushdb();
    await redis.quit();
    results.push(await benchQueue('BullMQ (Redis)', 3907, receiver, redisUrl));
    const cleanup = new Redis(redisUrl, { maxRetriesPerRequest: 1 });
    await cleanup.flushdb();
    await cleanup.quit();
  } finally {
    await receiver.close();
    agent.destroy();
  }

  const fmt = (v: number | null, digits = 1) => (v === null || Number.isNaN(v) ? '—' : v.toFixed(digits));
  const requests = Math.ceil(EVENTS / FILES_PER_REQUEST);
  printTable(
    `Live: ${EVENTS} file.uploaded events from ${requests} uploads of ${FILES_PER_REQUEST} × ${FILE_BYTES} B files (${UPLOAD_CONCURRENCY} at a time), ` +
      `receiver answering 200 at once, ${availableParallelism()} cores; times in s from the first upload`,
    results.map(({ queue, live }) => ({
      queue,
      'uploads done s': fmt(live.uploadSeconds),
      'files/s uploaded': (EVENTS / live.uploadSeconds).toFixed(0),
      'all recorded+queued s': live.recordedSeconds === null ? `— (${live.recorded})` : fmt(live.recordedSeconds),
      'last arrival s': fmt(live.lastArrivalSeconds),
      delivered: `${live.delivered}/${EVENTS}`,
      'events/s delivered': live.lastArrivalSeconds ? (live.delivered / live.lastArrivalSeconds).toFixed(0) : '—',
      'delay p50 ms': fmt(percentile(live.delays, 50), 0),
      'delay p99 ms': fmt(percentile(live.delays, 99), 0),
      'delay max ms': fmt(live.delays.at(-1) ?? null, 0),
      'Trove CPU s': fmt(live.troveCpuSeconds),
    })),
  );
  printTable(
    `Backlog: ${EVENTS} events queued with no worker running, then drained by a freshly started Trove (times in s from its start; ` +
      `drain rate between the first and the last arrival)`,
    results.map(({ queue, backlog }) => ({
      queue,
      'queue-only upload s': fmt(backlog.uploadSeconds),
      'files/s uploaded': (EVENTS / backlog.uploadSeconds).toFixed(0),
      'all queued': backlog.queued ? 'yes' : 'NO',
      '/health up s': fmt(backlog.startupSeconds),
      'first arrival s': fmt(backlog.firstArrivalSeconds, 2),
      'last arrival s': fmt(backlog.lastArrivalSeconds),
      delivered: `${backlog.delivered}/${EVENTS}`,
      'drain events/s':
        backlog.firstArrivalSeconds !== null && backlog.lastArrivalSeconds !== null && backlog.delivered > 1
          ? ((backlog.delivered - 1) / (backlog.lastArrivalSeconds - backlog.firstArrivalSeconds)).toFixed(0)
          : '—',
      'Trove CPU s (incl. start-up)': fmt(backlog.troveCpuSeconds),
    })),
  );
  printTable(
    'Afterwards: delivery rows by status (both phases), deliveries that took more than one attempt, duplicate or unreadable arrivals, Trove peak RSS (live phase)',
    results.map((r) => ({
      queue: r.queue,
      'delivery rows': r.statuses,
      retried: r.retried,
      'duplicate arrivals': r.duplicates,
      unreadable: r.unreadable,
      'peak RSS MiB': fmt(r.live.peakRssMiB, 0),
    })),
  );
  console.log(`\nserver: ${Object.entries(RATE_LIMITS_OFF).map(([k, v]) => `${k}=${v}`).join(' ')}`);
  console.log(`whole bench: ${((performance.now() - began) / 1000).toFixed(0)} s; load average after: ${load()}`);
}

await main();
