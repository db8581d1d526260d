/**
 * File search (`POST /files/search/`) over 100 000 files, on SQLite and on PostgreSQL: the same
 * generated library is loaded into both through the files repository (in batches of 1000 files per
 * unit of work, which writes the search index too), then typical searches run through the search
 * service (request checks, the query, highlights; no HTTP) in alternating rounds, SQLite then
 * PostgreSQL, then the other way round, so neither engine profits from running second. Reports
 * p50/p95/p99 per query kind and engine, and checks on the way that both engines return the same
 * files in the same order. Target: p99 under 50 ms for a typical query on PostgreSQL.
 *
 *   npm run bench:search    (BENCH_FILES=100000 BENCH_ROUNDS=6 BENCH_QUERIES=25 BENCH_PG_URL=postgres://postgres@127.0.0.1:5432/postgres)
 *
 * A fresh database search_bench_<random> is created on that server and dropped at the end,
 * and the SQLite file lives in a temporary folder (BENCH_KEEP_DB=1 keeps both and prints where).
 */
import { KyselyShardSet } from '../src/adapters/db/shard-set.js';
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { availableParallelism, cpus, tmpdir } from 'node:os';
import path from 'node:path';
import SqliteDatabase from 'better-sqlite3';
import pg from 'pg';
import { KyselyMetadataStore } from '../src/adapters/db/kysely-metadata-store.js';
import { originalBlobKey } from '../src/domain/blob-layout.js';
import type { StoredFile } from '../src/domain/file.js';
import { parseFileSearch } from '../src/domain/file-search.js';
import type { Project } from '../src/domain/project.js';
import { FileSearchService } from '../src/services/file-search.service.js';
import { mulberry32, type Rng } from './fuzz/rng.js';
import { percentile, printTable } from './lib/trove-process.js';

const FILES = Number(process.env.BENCH_FILES ?? 100_000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 6);
const QUERIES = Number(process.env.BENCH_QUERIES ?? 25);
const ADMIN_URL = process.env.BENCH_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const KEEP_DB = process.env.BENCH_KEEP_DB === '1';
const BATCH = 1000;
const TARGET_P99_MS = 50;
const DAY_MS = 86_400_000;
const START = Date.UTC(2025, 0, 1);

const WORDS = (
  'sunset beach harbour mountain lake river forest desert island village city street bridge tower castle garden market ' +
  'station airport museum library school office kitchen bedroom balcony window portrait landscape wedding birthday ' +
  'holiday vacation summer winter autumn spring morning evening night golden silver purple orange yellow crimson ' +
  'ocean valley canyon glacier meadow orchard vineyard lighthouse cathedral stadium concert festival parade picnic ' +
  'family friends team meeting workshop conference product launch campaign brochure invoice receipt contract report ' +
  'proposal presentation diagram sketch poster banner flyer catalogue menu recipe dinner breakfast coffee dessert ' +
  'puppy kitten horse garden flower tulip orchid sunflower cactus bamboo maple birch pine oak willow cherry lemon ' +
  'camera drone tripod lens studio backstage rehearsal premiere gallery exhibition sculpture painting mosaic mural ' +
  'archive backup draft final revised approved signed scanned printed edited cropped retouched thumbnail preview ' +
  'headshot profile avatar cover hero gallery slideshow panorama timelapse closeup aerial underwater nightscape'
).split(' ');
/** Words a search can look for on their own (four characters or more). */
const LONG_WORDS = WORDS.filter((word) => word.length >= 4);
const NAMES = 'Alice Bruno Chiara Dmitri Elena Farid Grace Hiroshi Ingrid Jamal Kenji Lucia Mateo Nadia Oskar Priya Quentin Rosa Samir Tomas Ursula Viktor Wanda Yusuf Zoe'.split(' ');
const TAGS = 'cat dog summer winter travel work family event product marketing archive draft final print web social hero banner logo raw edited approved rejected client internal press 2024 2025 2026 nature'.split(' ');
const KINDS = [
  { mime: 'image/jpeg', ext: 'jpg', image: true, weight: 5 },
  { mime: 'image/png', ext: 'png', image: true, weight: 2 },
  { mime: 'image/webp', ext: 'webp', image: true, weight: 1 },
  { mime: 'application/pdf', ext: 'pdf', image: false, weight: 2 },
  { mime: 'video/mp4', ext: 'mp4', image: false, weight: 1 },
  { mime: 'text/plain', ext: 'txt', image: false, weight: 1 },
] as const;

const pick = <T>(rng: Rng, items: readonly T[]): T => items[Math.floor(rng() * items.length)]!;
const capital = (word: string) => word.charAt(0).toUpperCase() + word.slice(1);
const sentence = (rng: Rng, words: number) => Array.from({ length: words }, () => pick(rng, WORDS)).join(' ');

function kindOf(rng: Rng): (typeof KINDS)[number] {
  const total = KINDS.reduce((sum, kind) => sum + kind.weight, 0);
  let roll = rng() * total;
  for (const kind of KINDS) {
    roll -= kind.weight;
    if (roll < 0) return kind;
  }
  return KINDS[0];
}

/** A library with the names, metadata and tags people give files: the same one for both engines. */
function generateFiles(projectId: string, count: number): StoredFile[] {
  const rng = mulberry32(1);
  return Array.from({ length: count }, (): StoredFile => {
    const kind = kindOf(rng);
    const number = String(Math.floor(rng() * 10_000)).padStart(4, '0');
    const style = rng();
    const base =
      style < 0.4
        ? `${pick(rng, WORDS)}-${pick(rng, WORDS)}-${number}`
        : style < 0.6
          ? `IMG_${number}`
          : style < 0.8
            ? `${capital(pick(rng, WORDS))}${capital(pick(rng, WORDS))}_${2020 + Math.floor(rng() * 7)}`
            : `${pick(rng, WORDS)} ${pick(rng, WORDS)} (${1 + Math.floor(rng() * 9)})`;
    const filename = `${base}.${style < 0.6 && rng() < 0.3 ? kind.ext.toUpperCase() : kind.ext}`;
    const metadata: Record<string, string> = {};
    if (rng() < 0.7) metadata.title = capital(sentence(rng, 2 + Math.floor(rng() * 4)));
    if (rng() < 0.5) metadata.author = `${pick(rng, NAMES)} ${pick(rng, NAMES)}son`;
    if (rng() < 0.3) metadata.project = `${capital(pick(rng, WORDS))} ${pick(rng, ['campaign', 'launch', 'shoot', 'review'])} Q${1 + Math.floor(rng() * 4)}`;
    if (rng() < 0.2) metadata.note = sentence(rng, 4 + Math.floor(rng() * 6));
    const tags = [...new Set(Array.from({ length: Math.floor(rng() * 4) }, () => pick(rng, TAGS)))];
    const uploaded = new Date(START + Math.floor(rng() * 365 * DAY_MS)).toISOString();
    const uuid = randomUUID();
    return {
      uuid,
      projectId,
      size: Math.floor(1024 * Math.exp(rng() * Math.log(50_000))),
      mimeType: kind.mime,
      isImage: kind.image,
      originalFilename: filename,
      filename: filename.replace(/[^A-Za-z0-9._-]/g, '_'),
      sha256: randomBytes(32).toString('hex'),
      blobKey: originalBlobKey(uuid),
      contentInfo: null,
      metadata,
      tags,
      appdata: {},
      scanStatus: null,
      source: 'local',
      sourceUrl: null,
      datetimeUploaded: uploaded,
      datetimeStored: uploaded,
      datetimeRemoved: null,
      expiresAt: null,
    };
  });
}

/** A word with one typo: a letter dropped, doubled, swapped with the next, or replaced. */
function typo(rng: Rng, word: string): string {
  const at = 1 + Math.floor(rng() * (word.length - 2));
  const kind = Math.floor(rng() * 4);
  if (kind === 0) return word.slice(0, at) + word.slice(at + 1);
  if (kind === 1) return word.slice(0, at) + word.charAt(at) + word.slice(at);
  if (kind === 2) return word.slice(0, at) + word.charAt(at + 1) + word.charAt(at) + word.slice(at + 2);
  return word.slice(0, at) + 'xqz'.charAt(Math.floor(rng() * 3)) + word.slice(at + 1);
}

interface QueryKind {
  name: string;
  /** The search of the i-th run, the same on both engines. */
  body(i: number): Record<string, unknown>;
}

const QUERY_KINDS: QueryKind[] = [
  { name: 'full-text, 1 word', body: (i) => ({ query: pick(mulberry32(100 + i), LONG_WORDS) }) },
  {
    name: 'full-text, 2 words',
    body: (i) => {
      const rng = mulberry32(200 + i);
      return { query: `${pick(rng, WORDS)} ${pick(rng, WORDS)}` };
    },
  },
  { name: 'full-text, part of a word', body: (i) => ({ query: pick(mulberry32(300 + i), WORDS.filter((word) => word.length >= 6)).slice(1, 6) }) },
  {
    name: 'fuzzy (a typo)',
    body: (i) => {
      const rng = mulberry32(400 + i);
      return { query: typo(rng, pick(rng, WORDS.filter((word) => word.length >= 6))), fuzziness: true };
    },
  },
  {
    name: 'phrase in metadata',
    body: (i) => {
      const rng = mulberry32(500 + i);
      return { phrase: { metadata: `${pick(rng, WORDS)} ${pick(rng, WORDS)}` } };
    },
  },
  {
    name: 'tags + size range + date + sort',
    body: (i) => {
      const rng = mulberry32(600 + i);
      return {
        tags: { any: [pick(rng, TAGS), pick(rng, TAGS)] },
        size: { gte: 10_000, lte: 5_000_000 },
        datetime_uploaded: { gte: new Date(START + Math.floor(rng() * 180) * DAY_MS).toISOString() },
        sort: ['-size'],
      };
    },
  },
  {
    name: 'exact metadata + sort',
    body: (i) => {
      const rng = mulberry32(700 + i);
      return { exact: { 'metadata[author]': [`${pick(rng, NAMES)} ${pick(rng, NAMES)}son`] }, sort: ['-datetime_uploaded'] };
    },
  },
];
/** The kinds a typical client sends most: what the target is about. */
const TYPICAL = new Set(['full-text, 1 word', 'full-text, 2 words', 'tags + size range + date + sort']);

interface Engine {
  name: 'SQLite' | 'PostgreSQL';
  store: KyselyMetadataStore;
  project: Project;
  service: FileSearchService;
  loadSeconds: number;
  indexBytes: () => Promise<number>;
}

const silent = { warn: () => undefined };

async function load(name: Engine['name'], store: KyselyMetadataStore, library: StoredFile[], indexBytes: () => Promise<number>): Promise<Engine> {
  await store.migrate();
  const project = await store.projects.create({ name: 'bench', publicKey: `pk_bench_${randomBytes(6).toString('hex')}` });
  // The same files (uuids included) in both databases, so their answers can be compared.
  const files = library.map((file) => ({ ...file, projectId: project.id }));
  const started = performance.now();
  for (let i = 0; i < files.length; i += BATCH) {
    await store.files.insertMany(files.slice(i, i + BATCH));
    if ((i / BATCH) % 20 === 19) process.stdout.write(`  ${name}: ${i + BATCH} files loaded\n`);
  }
  const loadSeconds = (performance.now() - started) / 1000;
  return { name, store, project, service: new FileSearchService(await KyselyShardSet.open(store, { configured: [], poolSize: 1, cacheTtlMs: 60_000 }), { now: () => new Date() }, silent), loadSeconds, indexBytes };
}

async function main(): Promise<void> {
  console.log(`file search bench: ${FILES} files, ${ROUNDS} rounds × ${QUERIES} queries per kind and engine, ${availableParallelism()} cores (${cpus()[0]?.model ?? 'unknown CPU'})`);
  // Every search the run will send is a valid one, checked before minutes of loading.
  for (const kind of QUERY_KINDS) {
    for (let i = 0; i < 5 + ROUNDS * QUERIES; i += 1) {
      try {
        parseFileSearch(kind.body(i), {});
      } catch (error) {
        throw new Error(`${kind.name} #${i} ${JSON.stringify(kind.body(i))} is refused: ${(error as Error).message}`);
      }
    }
  }
  const dir = await mkdtemp(path.join(tmpdir(), 'trove-bench-search-'));
  const sqlitePath = path.join(dir, 'trove.db');
  const dbName = `search_bench_${randomBytes(4).toString('hex')}`;
  const admin = new pg.Client({ connectionString: ADMIN_URL });
  admin.on('error', (error) => console.error(`admin connection: ${error.message}`));
  await admin.connect();
  await admin.query(`create database ${dbName}`);
  const pgUrl = new URL(ADMIN_URL);
  pgUrl.pathname = `/${dbName}`;
  const engines: Engine[] = [];
  const library = generateFiles('bench', FILES);
  try {
    // Loaded one after the other, so neither load competes with the other for the cores.
    const sqlite = await load('SQLite', new KyselyMetadataStore({ kind: 'sqlite', path: sqlitePath }), library, async () => (await stat(sqlitePath)).size);
    engines.push(sqlite);
    const pgClient = new pg.Client({ connectionString: pgUrl.toString() });
    pgClient.on('error', (error) => console.error(`statistics connection: ${error.message}`));
    await pgClient.connect();
    const postgres = await load('PostgreSQL', new KyselyMetadataStore({ kind: 'postgres', url: pgUrl.toString(), poolSize: 4 }), library, async () => {
      const result = await pgClient.query<{ bytes: string }>(
        "select sum(pg_total_relation_size(c.oid))::bigint as bytes from pg_class c where c.relkind = 'r' and c.relname like 'file\\_search%'",
      );
      return Number(result.rows[0]?.bytes ?? 0);
    });
    engines.push(postgres);
    // Statistics and the visibility map, as autovacuum leaves a long-running database.
    await pgClient.query('vacuum analyze');
    // Planner statistics, as a long-running database has them.
    const analyze = new SqliteDatabase(sqlitePath);
    analyze.exec('analyze');
    analyze.close();

    const loadRows = [];
    for (const engine of engines) {
      loadRows.push({
        engine: engine.name,
        'load s': engine.loadSeconds.toFixed(1),
        'files/s': (FILES / engine.loadSeconds).toFixed(0),
        'search index MiB': engine.name === 'SQLite' ? `${((await engine.indexBytes()) / 2 ** 20).toFixed(0)} (whole database)` : ((await engine.indexBytes()) / 2 ** 20).toFixed(0),
      });
    }
    printTable(`Loading ${FILES} files through FilesRepository.insertMany (${BATCH} per unit of work, search index written with them)`, loadRows);

    // Warm-up, and the check that both engines answer alike.
    let compared = 0;
    const differences: string[] = [];
    for (const kind of QUERY_KINDS) {
      for (let i = 0; i < 5; i += 1) {
        const answers = await Promise.all(engines.map((engine) => engine.service.search(engine.project, kind.body(i), {})));
        const [a, b] = answers.map((answer) => `${answer.total}:${answer.hits.map((hit) => hit.file.uuid).join(',')}`);
        compared += 1;
        if (a !== b) differences.push(`${kind.name} #${i} ${JSON.stringify(kind.body(i))}`);
      }
    }

    const latencies = new Map<string, number[]>();
    const totals = new Map<string, number[]>();
    for (let round = 0; round < ROUNDS; round += 1) {
      const order = round % 2 === 0 ? engines : [...engines].reverse();
      for (const engine of order) {
        for (const kind of QUERY_KINDS) {
          const key = `${engine.name}|${kind.name}`;
          for (let q = 0; q < QUERIES; q += 1) {
            const i = 5 + round * QUERIES + q;
            const body = kind.body(i);
            const started = performance.now();
            const answer = await engine.service.search(engine.project, body, {});
            const elapsed = performance.now() - started;
            (latencies.get(key) ?? latencies.set(key, []).get(key)!).push(elapsed);
            (totals.get(key) ?? totals.set(key, []).get(key)!).push(answer.total);
          }
        }
      }
      process.stdout.write(`  round ${round + 1}/${ROUNDS} done\n`);
    }

    const rows = [];
    for (const kind of QUERY_KINDS) {
      for (const engine of engines) {
        const key = `${engine.name}|${kind.name}`;
        const sorted = [...(latencies.get(key) ?? [])].sort((x, y) => x - y);
        const matches = totals.get(key) ?? [];
        rows.push({
          query: kind.name,
          engine: engine.name,
          'p50 ms': percentile(sorted, 50).toFixed(2),
          'p95 ms': percentile(sorted, 95).toFixed(2),
          'p99 ms': percentile(sorted, 99).toFixed(2),
          'max ms': (sorted.at(-1) ?? NaN).toFixed(1),
          'median matches': percentile([...matches].sort((x, y) => x - y), 50),
          [`p99<${TARGET_P99_MS}`]: percentile(sorted, 99) < TARGET_P99_MS ? 'yes' : 'NO',
        });
      }
    }
    printTable(`Search latency over ${FILES} files, through FileSearchService (checks, query, highlights; no HTTP), page of 20, ${ROUNDS * QUERIES} queries per row`, rows);
    const typicalPostgres = QUERY_KINDS.filter((kind) => TYPICAL.has(kind.name)).flatMap((kind) => latencies.get(`PostgreSQL|${kind.name}`) ?? []);
    const p99 = percentile([...typicalPostgres].sort((x, y) => x - y), 99);
    console.log(`\nTypical queries (${[...TYPICAL].join('; ')}) on PostgreSQL: p99 ${p99.toFixed(2)} ms, target ${TARGET_P99_MS} ms: ${p99 < TARGET_P99_MS ? 'met' : 'NOT met'}`);
    console.log(`Same files in the same order on both engines: ${compared - differences.length}/${compared} searches${differences.length > 0 ? `; differing: ${differences.join('; ')}` : ''}`);
    if (KEEP_DB) console.log(`kept: SQLite ${sqlitePath}, PostgreSQL ${pgUrl.toString()}`);
    await pgClient.end();
  } finally {
    for (const engine of engines) await engine.store.close();
    if (!KEEP_DB) {
      await admin.query(`drop database if exists ${dbName} with (force)`);
      await rm(dir, { recursive: true, force: true });
    }
    await admin.end();
  }
}

await main();
