/**
 * REST files list over 100 000 files on PostgreSQL: GET /files/?limit=100&ordering=-datetime_uploaded
 * with a filter, at 1 and 8 concurrent keep-alive clients: the first page, 50 deep pages reached by
 * following `next`, one page ~90% of the way down (a `from` cursor, as a client paging through
 * everything reaches it), and the stored=false / removed=true filters. Beside each HTTP row, the same
 * database work alone (the repository's list query plus the counters read, as the service issues
 * them) at the same concurrency, and the cost of turning a page into JSON; then EXPLAIN (ANALYZE) of
 * the list query. Target: p99 under 20 ms for a page of 100 with ordering and a filter.
 *
 *   npm run build && npm run bench:rest          (BENCH_FILES=100000 BENCH_SECONDS=5 BENCH_PG_URL=postgres://postgres@127.0.0.1:5432/postgres)
 *
 * A fresh database trove_bench_<random> is created on that server and dropped at the end
 * (BENCH_KEEP_DB=1 keeps it). The client runs on the same machine as the server, so both share its
 * cores; the CPU columns say how much each side used per request (PostgreSQL's counts every postgres
 * process of the machine, other databases' work included). Trove runs one HTTP process unless
 * TROVE_WORKERS is set in the environment (it is passed through).
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { Agent, request as httpRequest } from 'node:http';
import { availableParallelism, loadavg } from 'node:os';
import path from 'node:path';
import { Kysely, PostgresDialect, type CompiledQuery } from 'kysely';
import pg from 'pg';
import { KyselyFileCountersRepository } from '../src/adapters/db/repositories/file-counters.repository.js';
import { KyselyFilesRepository } from '../src/adapters/db/repositories/files.repository.js';
import type { Database } from '../src/adapters/db/schema.js';
import { toRestFile } from '../src/domain/rest-file.js';
import type { FileListQuery } from '../src/ports/repositories.js';
import { mulberry32 } from './fuzz/rng.js';
import { processCpuSeconds, processTreeCpuSeconds } from './lib/process-cpu.js';
import { RATE_LIMITS_OFF, percentile, printTable, startTroveProcess, type TroveProcess } from './lib/trove-process.js';

const FILES = Number(process.env.BENCH_FILES ?? 100_000);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 5);
const ADMIN_URL = process.env.BENCH_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
/** BENCH_KEEP_DB=1 leaves the seeded database in place for a look at other plans (drop it by hand). */
const KEEP_DB = process.env.BENCH_KEEP_DB === '1';
const PORT = 3905;
const PAGE = 100;
const DEEP_PAGES = 50;
const TARGET_P99_MS = 20;
const CONCURRENCIES = [1, 8];
const DAY_MS = 86_400_000;


function databaseUrl(admin: string, name: string): string {
  const url = new URL(admin);
  url.pathname = `/${name}`;
  return url.toString();
}

const KINDS = [
  { mime: 'image/jpeg', ext: 'jpg', image: 'JPEG' },
  { mime: 'image/png', ext: 'png', image: 'PNG' },
  { mime: 'image/webp', ext: 'webp', image: 'WEBP' },
  { mime: 'application/pdf', ext: 'pdf', image: null },
  { mime: 'video/mp4', ext: 'mp4', image: null },
  { mime: 'text/plain', ext: 'txt', image: null },
] as const;

interface SeedCounts {
  stored: number;
  unstored: number;
  removed: number;
}

/**
 * Writes the file rows in the formats the files repository writes (ISO-8601 text times, JSON text
 * for metadata, tags and content_info, 0/1 flags), then sets the project's counters to match.
 */
async function seed(pool: pg.Pool, projectId: string, count: number): Promise<SeedCounts> {
  const random = mulberry32(20260131);
  const counts: SeedCounts = { stored: 0, unstored: 0, removed: 0 };
  const end = Date.now() - 60_000;
  const start = end - 365 * DAY_MS;
  const step = (end - start) / count;
  const farFuture = new Date(end + 10 * 365 * DAY_MS).toISOString();
  const BATCH = 5_000;
  for (let offset = 0; offset < count; offset += BATCH) {
    const n = Math.min(BATCH, count - offset);
    const cols: unknown[][] = Array.from({ length: 18 }, () => new Array<unknown>(n));
    for (let j = 0; j < n; j++) {
      const i = offset + j;
      const uuid = randomUUID();
      const kind = KINDS[Math.floor(random() * KINDS.length)]!;
      // Strictly increasing: each file gets its own slot of the year, jittered inside it.
      const uploadedMs = Math.floor(start + i * step + random() * step * 0.9);
      const uploaded = new Date(uploadedMs).toISOString();
      const state = random();
      let stored: string | null = null;
      let removed: string | null = null;
      let expires: string | null = null;
      if (state < 0.7) {
        stored = new Date(uploadedMs + 1_500).toISOString();
        counts.stored++;
      } else if (state < 0.95) {
        expires = farFuture;
        counts.unstored++;
      } else {
        if (random() < 0.5) stored = new Date(uploadedMs + 1_500).toISOString();
        removed = new Date(uploadedMs + Math.floor(random() * 30 * DAY_MS)).toISOString();
        counts.removed++;
      }
      const width = 200 + Math.floor(random() * 3800);
      const height = 200 + Math.floor(random() * 3800);
      const [type, subtype] = kind.mime.split('/') as [string, string];
      const contentInfo = {
        mime: { mime: kind.mime, type, subtype },
        ...(kind.image
          ? {
              image: {
                color_mode: 'RGB',
                orientation: null,
                format: kind.image,
                width,
                height,
                dpi: [72, 72],
                geo_location: null,
                datetime_original: null,
                sequence: false,
              },
            }
          : {}),
      };
      const name = `upload-${i}.${kind.ext}`;
      const metadata = random() < 0.3 ? { subsystem: 'avatars', user: `u${Math.floor(random() * 10_000)}` } : {};
      const values = [
        uuid,
        projectId,
        1_000 + Math.floor(random() * 5_000_000),
        kind.mime,
        kind.image ? 1 : 0,
        name,
        name,
        randomBytes(32).toString('hex'),
        `originals/${uuid.slice(0, 2)}/${uuid}`,
        JSON.stringify(contentInfo),
        JSON.stringify(metadata),
        '[]',
        'local',
        uploaded,
        stored,
        removed,
        expires,
        null,
      ];
      for (let c = 0; c < values.length; c++) cols[c]![j] = values[c];
    }
    await pool.query(
      `insert into files (uuid, project_id, size, mime_type, is_image, original_filename, filename, sha256, blob_key,
         content_info, metadata, tags, source, datetime_uploaded, datetime_stored, datetime_removed, expires_at, source_url)
       select * from unnest($1::text[], $2::text[], $3::bigint[], $4::text[], $5::int[], $6::text[], $7::text[], $8::text[], $9::text[],
         $10::text[], $11::text[], $12::text[], $13::text[], $14::text[], $15::text[], $16::text[], $17::text[], $18::text[])`,
      cols,
    );
  }
  await pool.query(
    `insert into project_file_counts (project_id, stored, unstored, removed) values ($1, $2, $3, $4)
     on conflict (project_id) do update set stored = excluded.stored, unstored = excluded.unstored, removed = excluded.removed`,
    [projectId, counts.stored, counts.unstored, counts.removed],
  );
  // VACUUM as well as ANALYZE: autovacuum would otherwise wake up on the fresh rows during the measurements.
  await pool.query('vacuum analyze files');
  await pool.query('vacuum analyze project_file_counts');
  return counts;
}

/**
 * CPU seconds used so far by PostgreSQL: every live postgres process, plus the backends that have
 * exited since (the postmaster reaps them, so their time is in its children's time).
 */
function postgresCpuSeconds(): number {
  let total = 0;
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (readFileSync(`/proc/${entry}/comm`, 'utf8').trim() === 'postgres') total += processCpuSeconds(entry, true);
    } catch {
      // gone
    }
  }
  return total;
}

const agent = new Agent({ keepAlive: true, maxSockets: 64 });

function get(url: string, headers: Record<string, string>): Promise<{ status: number; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const request = httpRequest(url, { method: 'GET', headers, agent }, (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('end', () => resolve({ status: response.statusCode ?? 0, body: Buffer.concat(chunks) }));
      response.on('error', reject);
    });
    request.on('error', reject);
    request.end();
  });
}

interface LoopResult {
  rps: number;
  p50: number;
  p99: number;
  max: number;
  count: number;
  failures: number;
}

/** `concurrency` callers, each running `op(i)` back to back for `seconds`; i walks a shared counter. */
async function loop(concurrency: number, seconds: number, op: (i: number) => Promise<boolean>): Promise<LoopResult> {
  const latencies: number[] = [];
  let failures = 0;
  let next = 0;
  const started = performance.now();
  const until = started + seconds * 1000;
  async function caller() {
    while (performance.now() < until) {
      const i = next++;
      const t0 = performance.now();
      const ok = await op(i);
      latencies.push(performance.now() - t0);
      if (!ok) failures++;
    }
  }
  await Promise.all(Array.from({ length: concurrency }, caller));
  const elapsed = (performance.now() - started) / 1000;
  latencies.sort((a, b) => a - b);
  return {
    rps: latencies.length / elapsed,
    p50: percentile(latencies, 50),
    p99: percentile(latencies, 99),
    max: latencies.at(-1) ?? NaN,
    count: latencies.length,
    failures,
  };
}

interface ListPage {
  next: string | null;
  total: number;
  results: Array<{ uuid: string }>;
}

interface Case {
  name: string;
  /** Paths (with query) requested in turn. */
  paths: string[];
  /** The repository queries those requests issue, in the same order. */
  queries: FileListQuery[];
  expectedTotal: number;
}

function cursorOf(nextUrl: string): { datetime: string; uuid: string } {
  const from = new URL(nextUrl).searchParams.get('from') ?? '';
  const cut = from.indexOf('~');
  return { datetime: from.slice(0, cut), uuid: from.slice(cut + 1) };
}

async function main() {
  console.log(`load average before: ${loadavg().map((v) => v.toFixed(2)).join(' ')} (other work on the machine skews every number)`);
  const dbName = `trove_bench_${randomBytes(4).toString('hex')}`;
  const admin = new pg.Client({ connectionString: ADMIN_URL });
  await admin.connect();
  await admin.query(`create database ${dbName}`);
  const url = databaseUrl(ADMIN_URL, dbName);
  const work = await mkdtemp(path.join(process.cwd(), '.tmp-bench-rest-'));
  let trove: TroveProcess | null = null;
  const pool = new pg.Pool({ connectionString: url, max: 8, idleTimeoutMillis: 0 });
  // Dropping the database ends idle connections; that must not crash the bench.
  pool.on('error', () => undefined);
  const PG_INT8_OID = 20;
  // The same pool settings as the server's (bigint read as number), for the database-only timings.
  const repoPool = new pg.Pool({
    connectionString: url,
    max: 8,
    idleTimeoutMillis: 0,
    types: {
      getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
        oid === PG_INT8_OID ? (value: string) => Number(value) : pg.types.getTypeParser(oid, format)) as typeof pg.types.getTypeParser,
    },
  });
  repoPool.on('error', () => undefined);
  const captured: CompiledQuery[] = [];
  const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool: repoPool }) });
  const capturingDb = new Kysely<Database>({
    dialect: new PostgresDialect({ pool: repoPool }),
    log: (event) => {
      if (event.level === 'query') captured.push(event.query);
    },
  });
  try {
    trove = await startTroveProcess({
      dataDir: path.join(work, 'data'),
      port: PORT,
      env: { ...RATE_LIMITS_OFF, DATABASE_URL: url, DATABASE_POOL_SIZE: '10' },
    });
    const project = await pool.query<{ id: string }>('select id from projects where public_key = $1', [trove.publicKey]);
    const projectId = project.rows[0]?.id;
    if (!projectId) throw new Error('the bootstrap project was not found');

    const seedStarted = performance.now();
    const counts = await seed(pool, projectId, FILES);
    const seedSeconds = (performance.now() - seedStarted) / 1000;
    const size = await pool.query<{ table: string; index: string }>(
      `select pg_size_pretty(pg_table_size('files')) as table, pg_size_pretty(pg_indexes_size('files')) as index`,
    );
    console.log(
      `seeded ${FILES} files (${counts.stored} stored, ${counts.unstored} unstored, ${counts.removed} removed) in ${seedSeconds.toFixed(1)} s; ` +
        `files table ${size.rows[0]?.table}, its indexes ${size.rows[0]?.index}; database ${dbName}`,
    );

    const headers = {
      accept: 'application/vnd.uploadcare-v0.7+json',
      authorization: `Uploadcare.Simple ${trove.publicKey}:${trove.secretKey}`,
    };
    const base = `/files/?limit=${PAGE}&ordering=-datetime_uploaded`;
    const fetchPage = async (pathAndQuery: string): Promise<ListPage> => {
      const response = await get(`${trove!.url}${pathAndQuery}`, headers);
      if (response.status !== 200) throw new Error(`GET ${pathAndQuery}: ${response.status} ${response.body.toString('utf8').slice(0, 300)}`);
      return JSON.parse(response.body.toString('utf8')) as ListPage;
    };

    // Collect the deep pages' cursors by following `next` from the first page.
    const first = await fetchPage(`${base}&stored=true`);
    const deepPaths: string[] = [];
    const deepQueries: FileListQuery[] = [];
    let page = first;
    // A small BENCH_FILES has fewer stored pages than the walk wants; the walk stops at the last full one.
    const deepPages = Math.min(DEEP_PAGES, Math.floor(counts.stored / PAGE) - 1);
    if (deepPages < 1) throw new Error(`BENCH_FILES=${FILES} leaves ${counts.stored} stored files: too few for two pages of ${PAGE}`);
    for (let i = 0; i < deepPages; i++) {
      if (!page.next) throw new Error(`no next link after page ${i + 1}`);
      const nextUrl = new URL(page.next);
      const pathAndQuery = `${nextUrl.pathname}${nextUrl.search}`;
      deepPaths.push(pathAndQuery);
      deepQueries.push({ stored: true, removed: false, order: 'desc', after: cursorOf(page.next), limit: PAGE + 1 });
      page = await fetchPage(pathAndQuery);
      if (page.results.length !== PAGE) throw new Error(`page ${i + 2} has ${page.results.length} files`);
    }

    // A page deep in the listing: the cursor of the stored file ~90% of the way down, as a client
    // paging through everything would reach it.
    const deepOffset = Math.floor(counts.stored * 0.9);
    const far = await pool.query<{ datetime_uploaded: string; uuid: string }>(
      `select datetime_uploaded, uuid from files where project_id = $1 and datetime_removed is null and datetime_stored is not null
       order by datetime_uploaded desc, uuid desc offset $2 limit 1`,
      [projectId, deepOffset],
    );
    const farCursor = { datetime: far.rows[0]!.datetime_uploaded, uuid: far.rows[0]!.uuid };
    const farPath = `${base}&stored=true&from=${encodeURIComponent(`${farCursor.datetime}~${farCursor.uuid}`)}`;

    const firstQuery = (stored: boolean | null, removed: boolean): FileListQuery => ({ stored, removed, order: 'desc', after: null, limit: PAGE + 1 });
    const cases: Case[] = [
      { name: 'first page, stored=true', paths: [`${base}&stored=true`], queries: [firstQuery(true, false)], expectedTotal: counts.stored },
      { name: `pages 2–${deepPages + 1} via next, stored=true`, paths: deepPaths, queries: deepQueries, expectedTotal: counts.stored },
      {
        name: `page after file ${deepOffset} (from=cursor), stored=true`,
        paths: [farPath],
        queries: [{ stored: true, removed: false, order: 'desc', after: farCursor, limit: PAGE + 1 }],
        expectedTotal: counts.stored,
      },
      { name: 'first page, stored=false', paths: [`${base}&stored=false`], queries: [firstQuery(false, false)], expectedTotal: counts.unstored },
      { name: 'first page, removed=true', paths: [`${base}&removed=true`], queries: [firstQuery(null, true)], expectedTotal: counts.removed },
    ];
    for (const c of cases) {
      const check = await fetchPage(c.paths[0]!);
      if (check.total !== c.expectedTotal || check.results.length !== PAGE) {
        throw new Error(`${c.name}: total ${check.total} (expected ${c.expectedTotal}), ${check.results.length} results`);
      }
    }

    const files = new KyselyFilesRepository(db);
    const counters = new KyselyFileCountersRepository(db);
    const rows: Array<Record<string, string | number>> = [];
    for (const c of cases) {
      for (const concurrency of CONCURRENCIES) {
        const httpOp = async (i: number) => (await get(`${trove!.url}${c.paths[i % c.paths.length]}`, headers)).status === 200;
        // The service's database work for one request: the page (limit + 1 rows) and the counters, together.
        const sqlOp = async (i: number) => {
          const [list] = await Promise.all([files.list(projectId, c.queries[i % c.queries.length]!), counters.counts(projectId)]);
          return list.length === PAGE + 1;
        };
        await loop(concurrency, 1, httpOp);
        const cpuBefore = { trove: processTreeCpuSeconds(trove.pid), pg: postgresCpuSeconds(), client: process.cpuUsage() };
        const http = await loop(concurrency, SECONDS, httpOp);
        const clientCpu = process.cpuUsage(cpuBefore.client);
        const perRequestMs = (seconds: number) => ((seconds * 1000) / http.count).toFixed(2);
        const cpu = [
          perRequestMs(processTreeCpuSeconds(trove.pid) - cpuBefore.trove),
          perRequestMs(postgresCpuSeconds() - cpuBefore.pg),
          perRequestMs((clientCpu.user + clientCpu.system) / 1e6),
        ].join(' / ');
        await loop(concurrency, 1, sqlOp);
        const sqlCpuBefore = process.cpuUsage();
        const sqlOnly = await loop(concurrency, SECONDS, sqlOp);
        const sqlCpu = process.cpuUsage(sqlCpuBefore);
        rows.push({
          case: c.name,
          conc: concurrency,
          'req/s': http.rps.toFixed(0),
          'p50 ms': http.p50.toFixed(2),
          'p99 ms': http.p99.toFixed(2),
          'max ms': http.max.toFixed(1),
          errors: http.failures,
          [`p99<${TARGET_P99_MS}`]: http.p99 < TARGET_P99_MS ? 'yes' : 'NO',
          'CPU ms/req trove/pg/client': cpu,
          'DB q/s': sqlOnly.rps.toFixed(0),
          'DB p50': sqlOnly.p50.toFixed(2),
          'DB p99': sqlOnly.p99.toFixed(2),
          'DB node CPU ms/q': ((sqlCpu.user + sqlCpu.system) / 1000 / sqlOnly.count).toFixed(2),
        });
      }
    }
    console.log(`server: ${trove.limits}`);
    console.log(`load average after the measurements: ${loadavg().map((v) => v.toFixed(2)).join(' ')}`);
    printTable(
      `GET ${base}&<filter> over ${FILES} files, PostgreSQL, ${availableParallelism()} cores; HTTP (keep-alive, ${SECONDS}s per row; CPU used per request by ` +
        `Trove, PostgreSQL and this client) beside the same DB work alone (list + counters through the repository, no HTTP)`,
      rows,
    );

    // JSON of one page, as the route builds it (toRestFile for each file, then JSON.stringify).
    const pageFiles = (await files.list(projectId, firstQuery(true, false))).slice(0, PAGE);
    const bases = { cdnBase: trove.url, apiBase: trove.url };
    const body = () => JSON.stringify({ next: 'x', previous: null, total: 1, totals: counts, per_page: PAGE, results: pageFiles.map((f) => toRestFile(f, bases)) });
    for (let i = 0; i < 200; i++) body();
    const serializeRuns = 2_000;
    const serializeStarted = performance.now();
    let bytes = 0;
    for (let i = 0; i < serializeRuns; i++) bytes = body().length;
    const serializeMs = (performance.now() - serializeStarted) / serializeRuns;
    printTable('Building one page of 100 files as JSON, in the bench process (no HTTP)', [
      { 'ms per page': serializeMs.toFixed(3), 'body KB': (bytes / 1024).toFixed(1) },
    ]);

    // The SQL the repository issues for the first page and for the deepest page, with its plan.
    const capturing = new KyselyFilesRepository(capturingDb);
    for (const [label, query] of [
      ['first page, stored=true', firstQuery(true, false)],
      [`page ${deepPages + 1} (deepest cursor), stored=true`, deepQueries.at(-1)!],
      [`page after file ${deepOffset}, stored=true`, { stored: true, removed: false, order: 'desc', after: farCursor, limit: PAGE + 1 } as FileListQuery],
      ['first page, removed=true', firstQuery(null, true)],
    ] as const) {
      captured.length = 0;
      await capturing.list(projectId, query);
      const compiled = captured[0]!;
      const plan = await pool.query<{ 'QUERY PLAN': string }>(`explain (analyze, buffers) ${compiled.sql}`, compiled.parameters as unknown[]);
      console.log(`\nEXPLAIN (ANALYZE, BUFFERS) — ${label}\n${compiled.sql}\nparameters: ${JSON.stringify(compiled.parameters)}`);
      for (const line of plan.rows) console.log(`  ${line['QUERY PLAN']}`);
    }
  } finally {
    if (trove) await trove.stop();
    // Both Kysely instances share repoPool; the first destroy ends it.
    await db.destroy().catch(() => undefined);
    await capturingDb.destroy().catch(() => undefined);
    if (!repoPool.ended) await repoPool.end().catch(() => undefined);
    await pool.end().catch(() => undefined);
    agent.destroy();
    await rm(work, { recursive: true, force: true });
    if (KEEP_DB) console.log(`\nkept database ${dbName} (BENCH_KEEP_DB=1): drop database ${dbName};`);
    else await admin.query(`drop database if exists ${dbName} with (force)`);
    await admin.end();
  }
}

await main();
