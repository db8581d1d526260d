/**
 * Sharding on one PostgreSQL server: REST listing and upload throughput with every project's files
 * in the main database ("1 shard", no TROVE_SHARDS) and spread over four databases ("4 shards": the
 * main database plus TROVE_SHARDS=s1,s2,s3), with the connections each layout holds on the server.
 *
 * Each layout runs as its own Trove process (from the sources; one HTTP process unless TROVE_WORKERS
 * is set) on fresh databases trove_bench_shards_<random>_* and a temporary DATA_DIR for the blobs.
 * The servers run the upload, api and delivery roles, not `worker` (BENCH_TROVE_ROLES): every PNG
 * queues image analysis and face detection, which would otherwise run through the whole run on the
 * same two cores, in whichever server is not being measured too. Jobs are still queued and upload
 * events still written to the outbox, as on a node whose workers run elsewhere.
 * BENCH_PROJECTS projects are created through the same project service as `trove projects create`
 * (least-loaded placement, so on 4 shards they spread evenly; the `trove shards list` view is
 * printed), then each gets BENCH_FILES_PER_PROJECT small stored PNGs through /upload/base/.
 *
 * Measured, with BENCH_CONNECTIONS keep-alive clients in this process taking the projects in turn:
 *   REST list  GET /files/?limit=100 (Uploadcare.Simple auth, v0.7): requests/s, p50, p95
 *   uploads    POST /upload/base/ of a ~100-byte PNG, stored: uploads/s, p50, p95
 * each for BENCH_SECONDS after BENCH_WARMUP_SECONDS unmeasured. The layouts alternate (1 then 4, then
 * 4 then 1, …) for BENCH_ROUNDS rounds, so a busy machine slows both alike; the tables give medians
 * and the ratio 4 shards / 1 shard (the median of the rounds' ratios), with the CPU each request cost
 * the Trove process and the PostgreSQL backends of the layout's databases (read from /proc).
 * During each measurement pg_stat_activity is sampled every BENCH_SAMPLE_MS for the layout's
 * databases: the peak connections per database and in total, beside the pool ceiling per process
 * (DATABASE_POOL_SIZE + S × TROVE_SHARD_POOL_SIZE) and for N nodes.
 *
 *   npm run bench:shards                         (about 3 minutes)
 *   BENCH_ROUNDS=5 BENCH_SECONDS=5 BENCH_WARMUP_SECONDS=1 BENCH_CONNECTIONS=16 BENCH_PROJECTS=8
 *   BENCH_FILES_PER_PROJECT=300 BENCH_SAMPLE_MS=500 BENCH_PG_URL=postgres://postgres@127.0.0.1:5432/postgres
 *   DATABASE_POOL_SIZE=10 TROVE_SHARD_POOL_SIZE=4 TROVE_WORKERS=1 are passed to both servers.
 *
 * The databases are dropped at the end, on failure and on Ctrl-C (BENCH_KEEP_DB=1 keeps them).
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { Agent } from 'node:http';
import { availableParallelism, loadavg } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import sharp from 'sharp';
import { formatShards } from '../src/cli/print.js';
import { loadConfig } from '../src/config/load-config.js';
import { withAdministration } from '../src/wiring/administration.js';
import { send, type Reply } from './lib/http-send.js';
import { processCpuSeconds, processTreeCpuSeconds } from './lib/process-cpu.js';
import { RATE_LIMITS_OFF, percentile, startTroveProcess, type TroveProcess } from './lib/trove-process.js';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 5);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 16);
const PROJECTS = Number(process.env.BENCH_PROJECTS ?? 8);
const FILES_PER_PROJECT = Number(process.env.BENCH_FILES_PER_PROJECT ?? 300);
const SAMPLE_MS = Number(process.env.BENCH_SAMPLE_MS ?? 500);
const WARMUP_SECONDS = Number(process.env.BENCH_WARMUP_SECONDS ?? 1);
const ADMIN_URL = process.env.BENCH_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const KEEP_DB = process.env.BENCH_KEEP_DB === '1';
const MAIN_POOL = Number(process.env.DATABASE_POOL_SIZE ?? 10);
const SHARD_POOL = Number(process.env.TROVE_SHARD_POOL_SIZE ?? 4);
const WORKERS = process.env.TROVE_WORKERS ?? '1';
/** Without `worker`: see above. */
const ROLES = process.env.BENCH_TROVE_ROLES ?? 'upload,api,delivery';
const PAGE = 100;
const EXTRA_SHARDS = ['s1', 's2', 's3'];

interface Layout {
  key: 'one' | 'four';
  label: string;
  port: number;
  /** Database role in the layout ('main', 's1', …) → database name. */
  databases: Map<string, string>;
}

interface BenchProject {
  publicKey: string;
  secretKey: string;
  shard: string;
}

interface Measured {
  /** Answers with the expected status per second. */
  rate: number;
  p50: number;
  p95: number;
  count: number;
  /** Other answers and transport errors, by status (or error code). */
  failures: Map<string, number>;
  firstFailure: string | null;
  /** CPU milliseconds per answer of the Trove process(es) and of the PostgreSQL backends serving the layout's databases. */
  troveCpuMs?: number;
  postgresCpuMs?: number;
}

interface ConnectionPeaks {
  /** Per database role: the most connections seen in one sample, and the most of them active. */
  perDatabase: Map<string, { all: number; active: number }>;
  /** The most connections to the layout's databases together in one sample. */
  total: number;
  samples: number;
}

function databaseUrl(admin: string, name: string): string {
  const url = new URL(admin);
  url.pathname = `/${name}`;
  return url.toString();
}

const median = (values: number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 0 ? (sorted[middle - 1]! + sorted[middle]!) / 2 : sorted[middle]!;
};

// The client shares the two cores with the server and PostgreSQL: plain node:http keeps its cost low.
const agent = new Agent({ keepAlive: true, maxSockets: 256 });

const BOUNDARY = '----trove-bench-shards';

function uploadForm(publicKey: string, name: string, file: Buffer): Buffer {
  const head =
    `--${BOUNDARY}\r\nContent-Disposition: form-data; name="UPLOADCARE_PUB_KEY"\r\n\r\n${publicKey}\r\n` +
    `--${BOUNDARY}\r\nContent-Disposition: form-data; name="UPLOADCARE_STORE"\r\n\r\n1\r\n` +
    `--${BOUNDARY}\r\nContent-Disposition: form-data; name="file"; filename="${name}"\r\nContent-Type: image/png\r\n\r\n`;
  return Buffer.concat([Buffer.from(head), file, Buffer.from(`\r\n--${BOUNDARY}--\r\n`)]);
}

function upload(server: TroveProcess, project: BenchProject, name: string, file: Buffer): Promise<Reply> {
  const body = uploadForm(project.publicKey, name, file);
  return send(agent, `${server.uploadUrl}/base/`, 'POST', { 'content-type': `multipart/form-data; boundary=${BOUNDARY}`, 'content-length': body.length }, body);
}

function listFiles(server: TroveProcess, project: BenchProject): Promise<Reply> {
  return send(agent, `${server.url}/files/?limit=${PAGE}`, 'GET', {
    accept: 'application/vnd.uploadcare-v0.7+json',
    authorization: `Uploadcare.Simple ${project.publicKey}:${project.secretKey}`,
  });
}

/** `concurrency` callers running `op(i)` back to back for `seconds`; i walks a shared counter, so projects take turns. */
async function drive(concurrency: number, seconds: number, op: (i: number) => Promise<Reply>, expected: number): Promise<Measured> {
  const latencies: number[] = [];
  const failures = new Map<string, number>();
  let firstFailure: string | null = null;
  let ok = 0;
  let next = 0;
  const started = performance.now();
  const until = started + seconds * 1000;
  async function caller() {
    while (performance.now() < until) {
      const t0 = performance.now();
      let outcome: string;
      try {
        const reply = await op(next++);
        outcome = String(reply.status);
        if (reply.status !== expected) firstFailure ??= `${reply.status} ${reply.body.toString('utf8').slice(0, 300)}`;
      } catch (error) {
        outcome = (error as NodeJS.ErrnoException).code ?? 'error';
        firstFailure ??= String(error);
      }
      latencies.push(performance.now() - t0);
      if (outcome === String(expected)) ok++;
      else failures.set(outcome, (failures.get(outcome) ?? 0) + 1);
    }
  }
  await Promise.all(Array.from({ length: concurrency }, caller));
  const elapsed = (performance.now() - started) / 1000;
  latencies.sort((a, b) => a - b);
  return { rate: ok / elapsed, p50: percentile(latencies, 50), p95: percentile(latencies, 95), count: latencies.length, failures, firstFailure };
}

/** Samples pg_stat_activity for the layout's databases until stopped; what one sample shows at most. */
function sampleConnections(admin: pg.Client, pattern: string, layout: Layout): { stop(): Promise<ConnectionPeaks> } {
  const roleOf = new Map([...layout.databases].map(([role, name]) => [name, role]));
  const peaks: ConnectionPeaks = { perDatabase: new Map(), total: 0, samples: 0 };
  let stopped = false;
  const sampleOnce = async () => {
    const { rows } = await admin.query<{ datname: string; n: number; active: number }>(
      `select datname, count(*)::int as n, (count(*) filter (where state = 'active'))::int as active
       from pg_stat_activity where datname like $1 group by datname`,
      [pattern],
    );
    let total = 0;
    for (const row of rows) {
      const role = roleOf.get(row.datname);
      if (!role) continue; // the other layout's idle connections
      total += row.n;
      const peak = peaks.perDatabase.get(role) ?? { all: 0, active: 0 };
      peaks.perDatabase.set(role, { all: Math.max(peak.all, row.n), active: Math.max(peak.active, row.active) });
    }
    peaks.total = Math.max(peaks.total, total);
    peaks.samples++;
  };
  const running = (async () => {
    while (!stopped) {
      await sampleOnce();
      await new Promise((resolve) => setTimeout(resolve, SAMPLE_MS));
    }
  })();
  return {
    async stop() {
      stopped = true;
      await running;
      return peaks;
    },
  };
}

/**
 * CPU seconds each PostgreSQL backend of the layout's databases has used, by pid. Other work on the
 * server (tests' databases) is left out; a backend that exits between two readings loses its share,
 * which the warm-up before each measurement makes rare.
 */
async function backendCpu(admin: pg.Client, layout: Layout): Promise<Map<number, number>> {
  const { rows } = await admin.query<{ pid: number }>('select pid from pg_stat_activity where datname = any($1::text[])', [[...layout.databases.values()]]);
  return new Map(rows.map((row) => [row.pid, processCpuSeconds(row.pid)]));
}

function backendCpuSince(before: Map<number, number>, after: Map<number, number>): number {
  let total = 0;
  for (const [pid, seconds] of after) total += seconds - (before.get(pid) ?? 0);
  return total;
}

function mergePeaks(into: ConnectionPeaks, from: ConnectionPeaks): void {
  for (const [role, peak] of from.perDatabase) {
    const current = into.perDatabase.get(role) ?? { all: 0, active: 0 };
    into.perDatabase.set(role, { all: Math.max(current.all, peak.all), active: Math.max(current.active, peak.active) });
  }
  into.total = Math.max(into.total, from.total);
  into.samples += from.samples;
}

function markdownTable(rows: Array<Record<string, string | number>>, rightAligned: (column: string) => boolean = () => true): string {
  const columns = Object.keys(rows[0] ?? {});
  const line = (cells: Array<string | number>) => `| ${cells.join(' | ')} |`;
  return [
    line(columns),
    line(columns.map((column, i) => (i > 0 && rightAligned(column) ? '---:' : '---'))),
    ...rows.map((row) => line(columns.map((column) => row[column] ?? ''))),
  ].join('\n');
}

/** Small distinct PNGs (~100 bytes): the upload path, not the bytes, is what is measured. */
function makePngs(count: number): Promise<Buffer[]> {
  return Promise.all(
    Array.from({ length: count }, (_, i) =>
      sharp({ create: { width: 16, height: 16, channels: 3, background: { r: (i * 37) % 256, g: (i * 91) % 256, b: (i * 53) % 256 } } })
        .png()
        .toBuffer(),
    ),
  );
}

function serverEnv(layout: Layout, dataDir: string): Record<string, string> {
  const env: Record<string, string> = {
    ...RATE_LIMITS_OFF,
    DATA_DIR: dataDir,
    DATABASE_URL: databaseUrl(ADMIN_URL, layout.databases.get('main')!),
    DATABASE_POOL_SIZE: String(MAIN_POOL),
    TROVE_SHARD_POOL_SIZE: String(SHARD_POOL),
    TROVE_WORKERS: WORKERS,
    TROVE_ROLES: ROLES,
  };
  const shards = [...layout.databases].filter(([role]) => role !== 'main');
  if (shards.length > 0) env.TROVE_SHARDS = shards.map(([role, name]) => `${role}=${databaseUrl(ADMIN_URL, name)}`).join(',');
  return env;
}

/** Processes of one node holding pools: the HTTP process, or the primary and its TROVE_WORKERS HTTP processes. */
function processesPerNode(): number {
  const workers = WORKERS.trim() === 'auto' ? availableParallelism() : Number(WORKERS);
  return workers > 1 ? workers + 1 : 1;
}

async function main() {
  // The listing check and the figures assume every project fills a page of 100.
  if (FILES_PER_PROJECT < PAGE) throw new Error(`BENCH_FILES_PER_PROJECT=${FILES_PER_PROJECT}: each project needs at least ${PAGE} files`);
  const runStarted = performance.now();
  console.log(`load average before: ${loadavg().map((v) => v.toFixed(2)).join(' ')} (other work on the machine skews every number)`);
  const prefix = `trove_bench_shards_${randomBytes(4).toString('hex')}_`;
  const likePattern = `${prefix.replaceAll('_', '\\_')}%`;
  const layouts: Layout[] = [
    { key: 'one', label: '1 shard', port: 3971, databases: new Map([['main', `${prefix}one_main`]]) },
    {
      key: 'four',
      label: '4 shards',
      port: 3972,
      databases: new Map([['main', `${prefix}four_main`], ...EXTRA_SHARDS.map((s): [string, string] => [s, `${prefix}four_${s}`])]),
    },
  ];

  const admin = new pg.Client({ connectionString: ADMIN_URL });
  await admin.connect();
  const created: string[] = [];
  const servers: TroveProcess[] = [];
  const work = await mkdtemp(path.join(process.cwd(), '.tmp-bench-shards-'));

  let cleaning: Promise<void> | null = null;
  const cleanup = () =>
    (cleaning ??= (async () => {
      await Promise.all(servers.map((server) => server.stop()));
      agent.destroy();
      await rm(work, { recursive: true, force: true });
      if (KEEP_DB) console.log(`\nkept databases (BENCH_KEEP_DB=1): ${created.join(', ')}`);
      else for (const name of created) await admin.query(`drop database if exists ${name} with (force)`).catch((error: unknown) => console.error(`could not drop ${name}: ${String(error)}`));
      await admin.end().catch(() => undefined);
    })());
  const interrupted = (signal: NodeJS.Signals, code: number) => {
    console.error(`\n${signal}: stopping the servers and dropping the databases …`);
    void cleanup().finally(() => process.exit(code));
  };
  process.once('SIGINT', () => interrupted('SIGINT', 130));
  process.once('SIGTERM', () => interrupted('SIGTERM', 143));

  try {
    for (const layout of layouts) {
      for (const name of layout.databases.values()) {
        await admin.query(`create database ${name}`);
        created.push(name);
      }
    }
    const maxConnections = Number((await admin.query<{ max_connections: string }>('show max_connections')).rows[0]?.max_connections);
    const reserved = Number((await admin.query<{ superuser_reserved_connections: string }>('show superuser_reserved_connections')).rows[0]?.superuser_reserved_connections);

    // Both servers stay up for the whole run; the one not being measured idles.
    const started = await Promise.allSettled(
      layouts.map((layout) => startTroveProcess({ dataDir: path.join(work, layout.key), port: layout.port, fromSources: true, env: serverEnv(layout, path.join(work, layout.key)) })),
    );
    for (const outcome of started) if (outcome.status === 'fulfilled') servers.push(outcome.value);
    const failed = started.find((outcome) => outcome.status === 'rejected');
    if (failed) throw failed.reason;
    const serverOf = new Map(layouts.map((layout, i) => [layout.key, servers[i]!]));
    console.log(
      `servers up in ${((performance.now() - runStarted) / 1000).toFixed(0)} s: ${servers[0]!.limits} TROVE_WORKERS=${WORKERS} TROVE_ROLES=${ROLES} ` +
        `DATABASE_POOL_SIZE=${MAIN_POOL} TROVE_SHARD_POOL_SIZE=${SHARD_POOL}`,
    );

    const projectsOf = new Map<string, BenchProject[]>();
    for (const layout of layouts) {
      const config = loadConfig(serverEnv(layout, path.join(work, layout.key)));
      const projects = await withAdministration(config, async (administration) => {
        const list: BenchProject[] = [];
        // One at a time: placement looks at the shards' loads, which a concurrent creation has not changed yet.
        for (let i = 0; i < PROJECTS; i++) {
          const { project, secrets } = await administration.projects.create({ name: `bench ${i}`, publicKey: `benchshards${i}` });
          list.push({ publicKey: project.publicKey, secretKey: secrets[0]!.secret, shard: project.shard });
        }
        return list;
      });
      projectsOf.set(layout.key, projects);
      const spread = new Map<string, number>();
      for (const project of projects) spread.set(project.shard, (spread.get(project.shard) ?? 0) + 1);
      console.log(`${layout.label}: ${PROJECTS} projects placed ${[...spread].map(([shard, n]) => `${shard}×${n}`).join(', ')}`);
      if (layout.key === 'four' && (spread.size !== layout.databases.size || Math.max(...spread.values()) - Math.min(...spread.values()) > 1)) {
        console.warn(`  the ${PROJECTS} projects are not spread evenly over the ${layout.databases.size} databases: the 4-shard figures are not what they claim`);
      }
    }

    const pngs = await makePngs(16);
    let uploadCounter = 0;
    const uploadOp = (layout: Layout) => {
      const server = serverOf.get(layout.key)!;
      const projects = projectsOf.get(layout.key)!;
      return (i: number) => {
        const n = uploadCounter++;
        return upload(server, projects[i % projects.length]!, `bench-${n}.png`, pngs[n % pngs.length]!);
      };
    };
    const listOp = (layout: Layout) => {
      const server = serverOf.get(layout.key)!;
      const projects = projectsOf.get(layout.key)!;
      return (i: number) => listFiles(server, projects[i % projects.length]!);
    };

    for (const layout of layouts) {
      const projects = projectsOf.get(layout.key)!;
      const total = PROJECTS * FILES_PER_PROJECT;
      let issued = 0;
      const op = uploadOp(layout);
      const seedStarted = performance.now();
      await Promise.all(
        Array.from({ length: CONNECTIONS }, async () => {
          while (issued < total) {
            const i = issued++;
            const reply = await op(i);
            if (reply.status !== 200) throw new Error(`seeding upload answered ${reply.status}: ${reply.body.toString('utf8').slice(0, 300)}`);
          }
        }),
      );
      const seedSeconds = (performance.now() - seedStarted) / 1000;
      // Autovacuum would otherwise wake up on the fresh rows during the measurements.
      for (const name of layout.databases.values()) {
        const client = new pg.Client({ connectionString: databaseUrl(ADMIN_URL, name) });
        await client.connect();
        try {
          await client.query('vacuum analyze');
        } finally {
          await client.end();
        }
      }
      for (const project of projects) {
        const reply = await listFiles(serverOf.get(layout.key)!, project);
        const page = JSON.parse(reply.body.toString('utf8')) as { total?: number; results?: unknown[] };
        if (reply.status !== 200 || page.results?.length !== PAGE || (page.total ?? 0) < FILES_PER_PROJECT) {
          throw new Error(`${layout.label}, ${project.publicKey}: GET /files/ answered ${reply.status} with ${page.results?.length} results of ${page.total}`);
        }
      }
      const loads = await withAdministration(loadConfig(serverEnv(layout, path.join(work, layout.key))), (administration) => administration.placement.loads());
      console.log(`${layout.label}: seeded ${total} files in ${seedSeconds.toFixed(1)} s (${(total / seedSeconds).toFixed(0)} uploads/s); trove shards list:`);
      console.log(formatShards(loads).replace(/^/gm, '  ').trimEnd());
    }

    // Warm-up outside the measurements: JIT, pools filled, caches of keys and shard placements.
    for (const layout of layouts) {
      await drive(CONNECTIONS, 1, listOp(layout), 200);
      await drive(CONNECTIONS, 1, uploadOp(layout), 200);
    }

    const measures = ['list', 'upload'] as const;
    type Measure = (typeof measures)[number];
    const results = new Map<string, Measured[]>();
    const peaks = new Map<string, ConnectionPeaks>();
    const slot = (layout: Layout, measure: Measure) => `${layout.key}/${measure}`;
    for (let round = 0; round < ROUNDS; round++) {
      // 1 then 4, then 4 then 1: neither layout always meets the machine in the same state.
      const order = round % 2 === 0 ? layouts : [...layouts].reverse();
      for (const layout of order) {
        for (const measure of measures) {
          const op = measure === 'list' ? listOp(layout) : uploadOp(layout);
          // The pools close connections idle for 10 s, as they are while the other layout runs: refill them unmeasured.
          await drive(CONNECTIONS, WARMUP_SECONDS, op, 200);
          const server = serverOf.get(layout.key)!;
          const cpuBefore = { trove: processTreeCpuSeconds(server.pid), postgres: await backendCpu(admin, layout) };
          const sampler = sampleConnections(admin, likePattern, layout);
          const measured = await drive(CONNECTIONS, SECONDS, op, 200);
          const seen = await sampler.stop();
          const answered = Math.max(1, measured.count);
          measured.troveCpuMs = ((processTreeCpuSeconds(server.pid) - cpuBefore.trove) * 1000) / answered;
          measured.postgresCpuMs = (backendCpuSince(cpuBefore.postgres, await backendCpu(admin, layout)) * 1000) / answered;
          const key = slot(layout, measure);
          results.set(key, [...(results.get(key) ?? []), measured]);
          const into = peaks.get(key) ?? { perDatabase: new Map(), total: 0, samples: 0 };
          mergePeaks(into, seen);
          peaks.set(key, into);
          if (measured.firstFailure) console.error(`  ${layout.label} ${measure}, round ${round + 1}: ${[...measured.failures].map(([s, n]) => `${n}× ${s}`).join(', ')}; first: ${measured.firstFailure}`);
        }
      }
      console.error(`round ${round + 1}/${ROUNDS} done (load average ${loadavg()[0]!.toFixed(2)})`);
    }
    console.log(`load average after the measurements: ${loadavg().map((v) => v.toFixed(2)).join(' ')}; ${((performance.now() - runStarted) / 1000).toFixed(0)} s since the start`);

    const one = layouts[0]!;
    const four = layouts[1]!;
    const figure = (measured: Measured, field: 'rate' | 'p50' | 'p95' | 'troveCpuMs' | 'postgresCpuMs') => measured[field] ?? NaN;
    const rows: Array<Record<string, string | number>> = [];
    const names: Record<Measure, string> = { list: `REST GET /files/?limit=${PAGE}`, upload: 'upload POST /upload/base/' };
    for (const measure of measures) {
      const a = results.get(slot(one, measure))!;
      const b = results.get(slot(four, measure))!;
      for (const [field, unit, digits] of [
        ['rate', measure === 'list' ? 'requests/s' : 'uploads/s', 0],
        ['p50', 'p50 ms', 1],
        ['p95', 'p95 ms', 1],
        ['troveCpuMs', 'Trove CPU ms per request', 2],
        ['postgresCpuMs', 'PostgreSQL CPU ms per request (its databases\' backends)', 2],
      ] as const) {
        const ratios = a.map((m, i) => figure(b[i]!, field) / figure(m, field));
        rows.push({
          measure: `${names[measure]} — ${unit}`,
          '1 shard (median)': median(a.map((m) => figure(m, field))).toFixed(digits),
          '4 shards (median)': median(b.map((m) => figure(m, field))).toFixed(digits),
          '4 / 1 (median of rounds)': median(ratios).toFixed(2),
          'rounds 4 / 1': ratios.map((r) => r.toFixed(2)).join(' '),
        });
      }
      const errors = (list: Measured[]) => list.reduce((sum, m) => sum + [...m.failures.values()].reduce((s, n) => s + n, 0), 0);
      const count = (list: Measured[]) => list.reduce((sum, m) => sum + m.count, 0);
      rows.push({
        measure: `${names[measure]} — not 200 / sent, all rounds`,
        '1 shard (median)': `${errors(a)} / ${count(a)}`,
        '4 shards (median)': `${errors(b)} / ${count(b)}`,
        '4 / 1 (median of rounds)': '',
        'rounds 4 / 1': '',
      });
    }

    console.log(
      `\n### Sharding on one PostgreSQL server: ${PROJECTS} projects, ${FILES_PER_PROJECT}+ files each, ${CONNECTIONS} concurrent clients, ` +
        `${ROUNDS} alternating rounds of ${SECONDS} s per measure, ${availableParallelism()} cores shared by client, Trove and PostgreSQL\n`,
    );
    console.log(markdownTable(rows, (column) => column !== 'rounds 4 / 1'));

    const perRound: Array<Record<string, string | number>> = [];
    for (let round = 0; round < ROUNDS; round++) {
      const row: Record<string, string | number> = { round: round + 1 };
      for (const measure of measures) {
        for (const layout of layouts) {
          const m = results.get(slot(layout, measure))![round]!;
          row[`${measure} ${layout.label} /s · p95`] = `${m.rate.toFixed(0)} · ${m.p95.toFixed(0)} ms`;
        }
      }
      perRound.push(row);
    }
    console.log('\nEach round (throughput · p95):\n');
    console.log(markdownTable(perRound));

    const roles = ['main', ...EXTRA_SHARDS];
    const connectionRows: Array<Record<string, string | number>> = [];
    for (const layout of layouts) {
      const ceiling = MAIN_POOL + (layout.databases.size - 1) * SHARD_POOL;
      for (const measure of measures) {
        const seen = peaks.get(slot(layout, measure))!;
        const row: Record<string, string | number> = { layout: layout.label, during: names[measure] };
        for (const role of roles) {
          const peak = seen.perDatabase.get(role);
          row[role] = layout.databases.has(role) ? (peak ? `${peak.all} (${peak.active} active)` : '0') : '–';
        }
        row['total peak'] = seen.total;
        row['pool ceiling per process'] = ceiling;
        row.samples = seen.samples;
        connectionRows.push(row);
      }
    }
    console.log(`\nConnections on the PostgreSQL server (pg_stat_activity every ${SAMPLE_MS} ms during each measurement): the most in one sample, in brackets the most active at once:\n`);
    console.log(markdownTable(connectionRows, (column) => column !== 'layout' && column !== 'during'));

    const processes = processesPerNode();
    const usable = maxConnections - reserved;
    console.log(`\nPool ceiling: per process DATABASE_POOL_SIZE + S × TROVE_SHARD_POOL_SIZE, S = shard databases besides the main one; a node runs ${processes} such process(es) (TROVE_WORKERS=${WORKERS}).`);
    for (const layout of layouts) {
      const s = layout.databases.size - 1;
      const perProcess = MAIN_POOL + s * SHARD_POOL;
      const perNode = perProcess * processes;
      console.log(
        `- ${layout.label}: ${MAIN_POOL} + ${s} × ${SHARD_POOL} = ${perProcess} per process; N nodes: N × ${perNode} ` +
          `(${[1, 2, 4, 8].map((n) => `${n} → ${n * perNode}`).join(', ')})` +
          (s > 0 ? `, of them N × ${MAIN_POOL * processes} on the main database and N × ${SHARD_POOL * processes} on each shard database` : '') +
          '; ' +
          `max_connections ${maxConnections} − ${reserved} reserved leaves room for ${Math.floor(usable / perNode)} node(s) on one server`,
      );
    }
  } finally {
    await cleanup();
  }
}

await main();
