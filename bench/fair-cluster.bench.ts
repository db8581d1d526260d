/**
 * Cluster-wide fair scheduling. Two Trove processes with every role (so both transform) share
 * PostgreSQL, one blob store (a shared DATA_DIR) and Redis. Project A sends 300 distinct expensive
 * transformations at once, spread over both processes; meanwhile project B sends a steady trickle
 * of distinct transformations (one every BENCH_TRICKLE_MS, not waiting for the previous answer).
 * Idle rounds (B alone) and loaded rounds (B during A's flood) alternate in one run; the table
 * gives B's p50/p99 in each and the ratio of B's loaded p99 to its idle p99 (target ≤ 1.5).
 *
 * Layouts, side by side:
 *   tier      the separate transform tier: one node with the upload, api, delivery and worker roles
 *             sends every miss to two transform-only nodes (TROVE_TRANSFORM_NODES), which share
 *             Redis: the slot ledger holds each project to its share of both transform nodes' slots.
 *   cluster   both processes on one Redis: the slot ledger holds each project to its share of the
 *             two processes' slots together.
 *   local     no Redis: each process shares only its own slots (the scheduler before the ledger).
 *
 *   npx tsx bench/fair-cluster.bench.ts
 *   BENCH_LAYOUTS=cluster BENCH_ROUNDS=3 BENCH_CONCURRENCY=1 npx tsx bench/fair-cluster.bench.ts
 *
 * Other node layouts: BENCH_NODE_URLS=http://a:3000,http://b:3000 runs the rounds against servers
 * already running (projects A and B must exist: BENCH_KEY_A, BENCH_KEY_B), for example delivery
 * nodes in front of separate transform nodes; requests go to them in turn, and the sources are
 * uploaded to BENCH_UPLOAD_URL (default: the first of them).
 */
import { execFileSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { Agent, request as httpRequest } from 'node:http';
import path from 'node:path';
import { Redis } from 'ioredis';
import sharp from 'sharp';
import { createTestDatabase } from '../test/helpers/backends.js';
import { RATE_LIMITS_OFF, percentile, printTable, startTroveProcess, type TroveProcess } from './lib/trove-process.js';

const LAYOUTS = (process.env.BENCH_LAYOUTS ?? 'tier,cluster,local').split(',');
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 2);
const FLOOD = Number(process.env.BENCH_FLOOD ?? 300);
const TRICKLE_MS = Number(process.env.BENCH_TRICKLE_MS ?? 400);
const IDLE_MS = Number(process.env.BENCH_IDLE_MS ?? 6_000);
/** Slots per process: with two processes on one machine, together about one per core. */
const CONCURRENCY = process.env.BENCH_CONCURRENCY ?? '1';
const REDIS_URL = process.env.BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379/9';
const KEY_A = process.env.BENCH_KEY_A ?? 'benchprojecta';
const KEY_B = process.env.BENCH_KEY_B ?? 'benchprojectb';
const PORTS = [3961, 3962];
const TRANSFORM_PORTS = [3963, 3964];
const INTERNAL_SECRET = 'bench-internal-secret-0123456789abcdef0123';

const agent = new Agent({ keepAlive: true, maxSockets: 1024 });

function get(url: string): Promise<{ status: number; ms: number }> {
  const started = performance.now();
  return new Promise((resolve, reject) => {
    httpRequest(url, { agent }, (response) => {
      response.resume();
      response.on('end', () => resolve({ status: response.statusCode ?? 0, ms: performance.now() - started }));
      response.on('error', reject);
    })
      .on('error', reject)
      .end();
  });
}

async function upload(nodeUrl: string, bytes: Buffer, publicKey: string): Promise<string> {
  const form = new FormData();
  form.set('UPLOADCARE_PUB_KEY', publicKey);
  form.set('file', new Blob([new Uint8Array(bytes)]), 'source.jpg');
  const response = await fetch(`${nodeUrl}/upload/base/`, { method: 'POST', body: form });
  const body = (await response.json()) as { file?: string };
  if (!body.file) throw new Error(`upload failed: ${JSON.stringify(body)}`);
  return body.file;
}

async function metricSum(nodeUrls: string[], name: string): Promise<number> {
  let sum = 0;
  for (const url of nodeUrls) {
    const text = await (await fetch(`${url}/metrics`)).text();
    for (const line of text.split('\n')) if (line.startsWith(name) && !line.startsWith('#')) sum += Number(line.split(' ').at(-1));
  }
  return sum;
}

/** The largest value of a gauge over the nodes. */
async function metricMax(nodeUrls: string[], name: string): Promise<number> {
  let max = 0;
  for (const url of nodeUrls) {
    const text = await (await fetch(`${url}/metrics`)).text();
    for (const line of text.split('\n')) if (line.startsWith(`${name} `)) max = Math.max(max, Number(line.split(' ').at(-1)));
  }
  return max;
}

type Node = Pick<TroveProcess, 'url' | 'stop'>;

/** One node from the sources, as `npm start` runs it, with one HTTP process; `env` gives its data, keys and roles. */
function startNode(port: number, env: Record<string, string>): Promise<Node> {
  return startTroveProcess({ dataDir: env.DATA_DIR!, port, fromSources: true, env: { TROVE_WORKERS: '1', ...env } });
}

/**
 * B's open-loop trickle: a distinct transformation every TRICKLE_MS until `until` resolves, well
 * under half of the cluster's capacity, so B's share always covers it. Latencies of 200 answers;
 * `failed` counts the others.
 */
async function trickle(nodeUrls: string[], uuid: string, variant: { next: number; failed: number }, until: Promise<unknown>): Promise<number[]> {
  const latencies: Array<Promise<number | null>> = [];
  let done = false;
  void until.then(() => (done = true));
  while (!done) {
    // Distinct derivatives of about the same cost: widths 500–899, then the same widths as PNG.
    const n = variant.next++;
    const url = `${nodeUrls[latencies.length % nodeUrls.length]}/${uuid}/-/resize/${500 + (n % 400)}x/-/format/${['jpeg', 'webp', 'png'][Math.floor(n / 400) % 3]}/`;
    latencies.push(
      get(url).then((r) => {
        if (r.status === 200) return r.ms;
        variant.failed++;
        return null;
      }),
    );
    await new Promise((r) => setTimeout(r, TRICKLE_MS));
  }
  return (await Promise.all(latencies)).filter((ms): ms is number => ms !== null).sort((a, b) => a - b);
}

/** Redis's own counters: every command processed, and scripts run and PUBLISHes (the ledger's notices among them). */
async function redisCounters(redis: Redis | null): Promise<{ commands: number; scripts: number; published: number }> {
  if (!redis) return { commands: 0, scripts: 0, published: 0 };
  const stats = `${await redis.info('stats')}\n${await redis.info('commandstats')}`;
  const field = (pattern: string) => Number(new RegExp(pattern, 'm').exec(stats)?.[1] ?? 0);
  return {
    commands: field('^total_commands_processed:(\\d+)'),
    scripts: field('^cmdstat_evalsha:calls=(\\d+)') + field('^cmdstat_eval:calls=(\\d+)'),
    published: field('^cmdstat_publish:calls=(\\d+)'),
  };
}

async function rounds(layout: string, nodeUrls: string[], sourceA: string, sourceB: string, redis: Redis | null, metricUrls: string[] = nodeUrls) {
  const widthsB = { next: 0, failed: 0 };
  let widthA = 1000;
  const idle: number[] = [];
  const loaded: number[] = [];
  let floodSeconds = 0;
  let refused = 0;
  let loopLagMax = 0;
  const deniedBefore = await metricSum(metricUrls, 'trove_transform_slot_denials_total');
  const redisBefore = await redisCounters(redis);
  for (let round = 0; round < ROUNDS; round++) {
    idle.push(...(await trickle(nodeUrls, sourceB, widthsB, new Promise((r) => setTimeout(r, IDLE_MS)))));
    const started = performance.now();
    const flood = Promise.all(
      Array.from({ length: FLOOD }, (_, i) => get(`${nodeUrls[i % nodeUrls.length]}/${sourceA}/-/resize/${widthA++}x/-/format/jpeg/`)),
    );
    // B starts once A's requests have arrived and queued everywhere.
    await new Promise((r) => setTimeout(r, 200));
    // Scraping resets each node's event-loop histogram: what the next scrape shows is this flood's.
    await metricMax(metricUrls, 'trove_nodejs_eventloop_lag_max_seconds');
    loaded.push(...(await trickle(nodeUrls, sourceB, widthsB, flood)));
    loopLagMax = Math.max(loopLagMax, await metricMax(metricUrls, 'trove_nodejs_eventloop_lag_max_seconds'));
    const results = await flood;
    floodSeconds += (performance.now() - started) / 1000;
    refused += results.filter((r) => r.status !== 200).length;
  }
  idle.sort((a, b) => a - b);
  loaded.sort((a, b) => a - b);
  const denials = (await metricSum(metricUrls, 'trove_transform_slot_denials_total')) - deniedBefore;
  const failures = await metricSum(metricUrls, 'trove_transform_slot_ledger_failures_total');
  const redisAfter = await redisCounters(redis);
  const transformations = FLOOD * ROUNDS - refused + idle.length + loaded.length;
  return {
    layout,
    'B idle p50 ms': percentile(idle, 50).toFixed(0),
    'B idle p99 ms': percentile(idle, 99).toFixed(0),
    'B loaded p50 ms': percentile(loaded, 50).toFixed(0),
    'B loaded p99 ms': percentile(loaded, 99).toFixed(0),
    'p99 loaded/idle': (percentile(loaded, 99) / percentile(idle, 99)).toFixed(2),
    'B samples idle/loaded': `${idle.length}/${loaded.length}`,
    'B not 200': widthsB.failed,
    // The longest any node's event loop was held during a flood (CPU starvation and GC pauses
    // included): a request that arrives then waits at least that long.
    'max loop lag ms': (loopLagMax * 1000).toFixed(0),
    'A images/s': ((FLOOD * ROUNDS - refused) / floodSeconds).toFixed(1),
    'A not 200': refused,
    'ledger denials': denials,
    'ledger failures': failures,
    // Every Redis command of the run (locks, rate limits, events and the ledger) per transformation.
    'Redis cmds/transform': redis ? ((redisAfter.commands - redisBefore.commands) / transformations).toFixed(1) : '-',
    'scripts/transform': redis ? ((redisAfter.scripts - redisBefore.scripts) / transformations).toFixed(1) : '-',
    'notices/transform': redis ? ((redisAfter.published - redisBefore.published) / transformations).toFixed(2) : '-',
  };
}

async function makeSource(seed: number): Promise<Buffer> {
  return sharp({ create: { width: 2400, height: 1600, channels: 3, background: { r: seed, g: 90, b: 140 }, noise: { type: 'gaussian', mean: 128, sigma: 40 } } })
    .jpeg({ quality: 90 })
    .toBuffer();
}

async function startLayout(layout: string, work: string): Promise<{ nodeUrls: string[]; metricUrls: string[]; redis: Redis | null; stop(): Promise<void> }> {
  const database = await createTestDatabase();
  const dataDir = await mkdtemp(path.join(work, `${layout}-`));
  const env: Record<string, string> = {
    ...RATE_LIMITS_OFF,
    DATABASE_URL: database.url,
    DATA_DIR: dataDir,
    TROVE_PUBLIC_KEY: KEY_A,
    TROVE_SECRET_KEY: 'benchsecretkey0000',
    TROVE_TRANSFORM_CONCURRENCY: CONCURRENCY,
    TROVE_TRANSFORM_QUEUE_PER_PROJECT: String(FLOOD + 100),
  };
  let redis: Redis | null = null;
  if (layout === 'cluster') {
    redis = new Redis(REDIS_URL, { maxRetriesPerRequest: 1 });
    await redis.flushdb();
    env.REDIS_URL = REDIS_URL;
  }
  if (layout === 'tier') {
    redis = new Redis(REDIS_URL, { maxRetriesPerRequest: 1 });
    await redis.flushdb();
    env.REDIS_URL = REDIS_URL;
    env.TROVE_INTERNAL_SECRET = INTERNAL_SECRET;
  }
  const nodes: Node[] = [];
  const transformNodes: Node[] = [];
  try {
    if (layout === 'tier') {
      // Transform-only nodes: the blob store (the shared DATA_DIR), Redis for the ledger, no database.
      const { DATABASE_URL: _database, ...nodeEnv } = env;
      for (const port of TRANSFORM_PORTS) transformNodes.push(await startNode(port, { ...nodeEnv, TROVE_ROLES: 'transform' }));
      env.TROVE_ROLES = 'upload,api,delivery,worker';
      env.TROVE_TRANSFORM_NODES = transformNodes.map((node) => node.url).join(',');
    }
    // The first node migrates the database and creates project A; the others start on it.
    nodes.push(await startNode(PORTS[0]!, env));
    execFileSync(process.execPath, ['--import', 'tsx', 'src/main.ts', 'projects', 'create', '--name', 'B', '--public-key', KEY_B], { env: { ...process.env, ...env }, stdio: 'ignore' });
    // The tier has one front node: both transform nodes do the work it sends them.
    if (layout !== 'tier') for (const port of PORTS.slice(1)) nodes.push(await startNode(port, env));
  } catch (error) {
    await Promise.all(transformNodes.map((node) => node.stop()));
    await Promise.all(nodes.map((node) => node.stop()));
    await database.drop();
    throw error;
  }
  return {
    nodeUrls: nodes.map((node) => node.url),
    metricUrls: [...nodes, ...transformNodes].map((node) => node.url),
    redis,
    async stop() {
      await Promise.all([...nodes, ...transformNodes].map((node) => node.stop()));
      await database.drop();
      if (redis) {
        await redis.flushdb();
        await redis.quit();
      }
    },
  };
}

async function main() {
  const work = await mkdtemp(path.join(process.cwd(), '.tmp-bench-fair-'));
  const rows = [];
  try {
    const [jpegA, jpegB] = [await makeSource(30), await makeSource(200)];
    const external = process.env.BENCH_NODE_URLS?.split(',').filter(Boolean);
    const layouts = external ? ['given'] : LAYOUTS;
    console.log(`flood ${FLOOD} per round, trickle every ${TRICKLE_MS} ms, ${ROUNDS} rounds; TROVE_TRANSFORM_CONCURRENCY=${CONCURRENCY} per process; sources 2400×1600 JPEG; A → 1000–1600 px JPEG, B → 500–899 px`);
    for (const layout of layouts) {
      const started = external ? { nodeUrls: external, metricUrls: external, redis: null, stop: async () => undefined } : await startLayout(layout, work);
      try {
        const uploadUrl = process.env.BENCH_UPLOAD_URL ?? started.nodeUrls[0]!;
        const sourceA = await upload(uploadUrl, jpegA, KEY_A);
        const sourceB = await upload(uploadUrl, jpegB, KEY_B);
        // Warm each node (code paths, source caches) outside the measured rounds.
        for (const url of started.nodeUrls) await Promise.all([get(`${url}/${sourceA}/-/resize/99x/`), get(`${url}/${sourceB}/-/resize/98x/`)]);
        rows.push(await rounds(layout, started.nodeUrls, sourceA, sourceB, started.redis, started.metricUrls));
      } finally {
        await started.stop();
      }
    }
    printTable(`Fair scheduling across two processes: B's trickle while A floods ${FLOOD} distinct transformations (target: B's p99 ≤ 1.5× idle)`, rows);
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

await main();
