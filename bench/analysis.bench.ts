/**
 * Image analysis: (1) the cost of analysing one 12 MP JPEG (one sharp decode to ≤ 100 px, then
 * ThumbHash, BlurHash, palette and dHash in JavaScript) against the ceiling of a plain sharp decode
 * and resize of the same image to the same size; (2) `GET /files/?similar_to=` through the service
 * (candidates by the four indexed 16-bit chunks, exact distances, the page's file rows) on 100 000
 * analysed files of one project, on SQLite and on PostgreSQL. A tenth of the hashes are near copies
 * (0–6 bits flipped) of others, the rest random.
 *
 *   npm run bench:analysis    (BENCH_FILES=100000 BENCH_RUNS=10 BENCH_QUERIES=50 BENCH_PG_URL=postgres://postgres@127.0.0.1:5432/postgres)
 *
 * PostgreSQL runs in a fresh database analysis_bench_<random>, dropped at the end; without a
 * reachable server that part is skipped with a message.
 */
import { KyselyShardSet } from '../src/adapters/db/shard-set.js';
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import sharp from 'sharp';
import { FsBlobStore } from '../src/adapters/blob/fs.blob-store.js';
import { KyselyMetadataStore } from '../src/adapters/db/kysely-metadata-store.js';
import { SharpImageAnalyzer } from '../src/adapters/image/sharp.image-analyzer.js';
import { originalBlobKey } from '../src/domain/blob-layout.js';
import type { StoredFile } from '../src/domain/file.js';
import { IMAGE_ANALYSIS_VERSION } from '../src/domain/image-analysis.js';
import { systemClock } from '../src/lib/clock.js';
import { ImageAnalysisService } from '../src/services/image-analysis.service.js';
import { mulberry32 } from './fuzz/rng.js';
import { percentile, printTable } from './lib/trove-process.js';

const FILES = Number(process.env.BENCH_FILES ?? 100_000);
const RUNS = Number(process.env.BENCH_RUNS ?? 10);
const QUERIES = Number(process.env.BENCH_QUERIES ?? 50);
const ADMIN_URL = process.env.BENCH_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const BATCH = 1000;
const LIMITS = { maxSourcePixels: 100_000_000, maxSourceBytes: 100 * 1024 * 1024, timeoutMs: 30_000 };
const quiet = { info: () => undefined, warn: () => undefined };

async function timed(run: () => Promise<unknown>, times: number): Promise<number[]> {
  const samples: number[] = [];
  for (let i = 0; i < times; i++) {
    const start = process.hrtime.bigint();
    await run();
    samples.push(Number(process.hrtime.bigint() - start) / 1e6);
  }
  return samples.sort((a, b) => a - b);
}

async function analysisCost(): Promise<void> {
  const jpeg = await sharp({ create: { width: 4000, height: 3000, channels: 3, background: '#6a8caf', noise: { type: 'gaussian', mean: 120, sigma: 40 } } })
    .jpeg({ quality: 85 })
    .toBuffer();
  const analyzer = new SharpImageAnalyzer();
  // Warm both paths once (libvips start-up, JIT).
  await analyzer.analyze(jpeg, LIMITS);
  const ceiling = await timed(() => sharp(jpeg).rotate().resize(100, 100, { fit: 'inside' }).ensureAlpha().raw().toBuffer(), RUNS);
  const analysis = await timed(() => analyzer.analyze(jpeg, LIMITS), RUNS);
  const p50 = (s: number[]) => percentile(s, 50);
  printTable(`Analysis of a 12 MP JPEG (4000×3000, ${(jpeg.length / 1e6).toFixed(1)} MB), ${RUNS} runs`, [
    { path: 'sharp decode + resize to 100 px (ceiling)', 'p50 ms': p50(ceiling).toFixed(1), 'max ms': ceiling.at(-1)!.toFixed(1) },
    { path: 'analysis (decode + ThumbHash, BlurHash, palette, dHash)', 'p50 ms': p50(analysis).toFixed(1), 'max ms': analysis.at(-1)!.toFixed(1) },
    { path: 'ratio analysis / ceiling', 'p50 ms': (p50(analysis) / p50(ceiling)).toFixed(2), 'max ms': '' },
  ]);
}

function hexOf(words: number[]): string {
  return words.map((w) => w.toString(16).padStart(4, '0')).join('');
}

/** 100 000 hashes: most random, a tenth within 6 bits of an earlier one. */
function syntheticHashes(count: number): string[] {
  const random = mulberry32(42);
  const hashes: number[][] = [];
  for (let i = 0; i < count; i++) {
    if (i > 0 && random() < 0.1) {
      const copy = [...hashes[Math.floor(random() * i)]!];
      const flips = Math.floor(random() * 7);
      for (let f = 0; f < flips; f++) {
        const bit = Math.floor(random() * 64);
        copy[bit >> 4]! ^= 1 << (bit & 15);
      }
      hashes.push(copy);
    } else {
      hashes.push([0, 0, 0, 0].map(() => Math.floor(random() * 65536)));
    }
  }
  return hashes.map(hexOf);
}

async function similarCost(engine: string, store: KyselyMetadataStore, scratch: string): Promise<Record<string, string | number>[]> {
  await store.migrate();
  const project = await store.projects.create({ name: 'bench', publicKey: `pk_${randomBytes(6).toString('hex')}` });
  const hashes = syntheticHashes(FILES);
  const uuids: string[] = [];
  const loadStart = Date.now();
  for (let at = 0; at < FILES; at += BATCH) {
    const files: StoredFile[] = [];
    for (let i = at; i < Math.min(FILES, at + BATCH); i++) {
      const uuid = randomUUID();
      uuids.push(uuid);
      files.push({
        uuid,
        projectId: project.id,
        size: 1000,
        mimeType: 'image/jpeg',
        isImage: true,
        originalFilename: `${i}.jpg`,
        filename: `${i}.jpg`,
        sha256: 'ab'.repeat(32),
        blobKey: originalBlobKey(uuid),
        contentInfo: null,
        metadata: {},
        tags: [],
        appdata: {},
        scanStatus: null,
        source: null,
        sourceUrl: null,
        datetimeUploaded: new Date(Date.UTC(2025, 0, 1) + i * 1000).toISOString(),
        datetimeStored: new Date(Date.UTC(2025, 0, 1) + i * 1000).toISOString(),
        datetimeRemoved: null,
        expiresAt: null,
      });
    }
    await store.transaction(async (tx) => {
      await tx.files.insertMany(files);
      const now = new Date().toISOString();
      for (const file of files) {
        const index = uuids.length - files.length + files.indexOf(file);
        await tx.imageAnalysis.save({
          projectId: project.id,
          fileUuid: file.uuid,
          thumbhash: 'YJqGPQw7sFlslqhFafSE+Q6oJ1h2iHB2Rw==',
          blurhash: 'LEHV6nWB2yk8pyo0adR*.7kCMdnj',
          dominantColor: '#336699',
          palette: ['#336699'],
          phash: hashes[index]!,
          version: IMAGE_ANALYSIS_VERSION,
          createdAt: now,
          computedAt: now,
        });
      }
    });
  }
  console.log(`${engine}: loaded ${FILES} files with analyses in ${((Date.now() - loadStart) / 1000).toFixed(0)} s`);
  const service = new ImageAnalysisService(await KyselyShardSet.open(store, { configured: [], poolSize: 1, cacheTtlMs: 60_000 }), new FsBlobStore({ root: scratch }), store.createJobQueue(), new SharpImageAnalyzer(), systemClock, quiet, LIMITS);
  const random = mulberry32(7);
  const rows: Record<string, string | number>[] = [];
  for (const distance of [6, 12]) {
    const samples: number[] = [];
    let matches = 0;
    for (let q = 0; q < QUERIES; q++) {
      const uuid = uuids[Math.floor(random() * uuids.length)]!;
      const start = process.hrtime.bigint();
      const page = await service.similar(project, { uuid, distance, stored: null, after: null, limit: 100 });
      samples.push(Number(process.hrtime.bigint() - start) / 1e6);
      matches += page.total;
    }
    samples.sort((a, b) => a - b);
    rows.push({
      engine,
      distance,
      queries: QUERIES,
      'p50 ms': percentile(samples, 50).toFixed(1),
      'p95 ms': percentile(samples, 95).toFixed(1),
      'max ms': samples.at(-1)!.toFixed(1),
      'matches / query': (matches / QUERIES).toFixed(1),
    });
  }
  return rows;
}

async function main(): Promise<void> {
  await analysisCost();
  const rows: Record<string, string | number>[] = [];
  const dir = await mkdtemp(path.join(tmpdir(), 'trove-analysis-bench-'));
  try {
    const sqlite = new KyselyMetadataStore({ kind: 'sqlite', path: path.join(dir, 'bench.db') });
    try {
      rows.push(...(await similarCost('sqlite', sqlite, dir)));
    } finally {
      await sqlite.close();
    }
    const name = `analysis_bench_${randomBytes(4).toString('hex')}`;
    const admin = new pg.Client({ connectionString: ADMIN_URL, connectionTimeoutMillis: 3_000 });
    const reachable = await admin.connect().then(
      () => true,
      (error: unknown) => {
        console.warn(`PostgreSQL at ${ADMIN_URL} is unreachable (${error instanceof Error ? error.message : String(error)}): its part is skipped.`);
        return false;
      },
    );
    if (reachable) {
      await admin.query(`CREATE DATABASE ${name}`);
      const url = new URL(ADMIN_URL);
      url.pathname = `/${name}`;
      const postgres = new KyselyMetadataStore({ kind: 'postgres', url: url.toString(), poolSize: 4 });
      try {
        rows.push(...(await similarCost('postgres', postgres, dir)));
      } finally {
        await postgres.close();
        await admin.query(`DROP DATABASE ${name}`);
        await admin.end();
      }
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
  printTable(`similar_to over ${FILES} analysed files of one project (through the service, 100 per page)`, rows);
}

await main();
