/**
 * This build of Trove beside an earlier one, on the paths every request of its kind takes: the REST
 * file list (a page of 100 with a filter), Upload API file info, a small original from memory, a
 * transformed image from L1, and 50 KB direct uploads. Both servers run as their own processes, each on
 * its own data directory seeded alike, and are measured in alternating rounds (A B B A …), so a busy
 * machine slows both alike; the figure that matters is the ratio this / baseline per path.
 *
 *   git worktree add /tmp/trove-baseline <commit> && (cd /tmp/trove-baseline && npm ci && npm run build)
 *   npm run build && TROVE_BASELINE=/tmp/trove-baseline npm run bench:versions
 *
 * BENCH_ROUNDS=6 BENCH_SECONDS=4 BENCH_CONNECTIONS=16 BENCH_FILES=300. The GET paths are loaded with wrk when it
 * is installed (`apt-get install wrk`): autocannon runs in this process and on the fast paths becomes the
 * bottleneck itself, which hides the servers' difference.
 */
import { execFileSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import autocannon, { type Options as LoadOptions } from 'autocannon';
import sharp from 'sharp';
import { RATE_LIMITS_OFF, hasWrk, startTroveProcess, type TroveProcess } from './lib/trove-process.js';

const BASELINE = process.env.TROVE_BASELINE;
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 6);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 4);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 16);
const FILES = Number(process.env.BENCH_FILES ?? 300);
const SMALL_UPLOAD_BYTES = 50 * 1024;

interface Seeded {
  server: TroveProcess;
  anyUuid: string;
  imageUuid: string;
}

async function upload(server: TroveProcess, bytes: Uint8Array, name: string, tags?: string): Promise<string> {
  const form = new FormData();
  form.set('UPLOADCARE_PUB_KEY', server.publicKey);
  form.set('UPLOADCARE_STORE', '1');
  if (tags) form.set('tags', tags);
  form.set('file', new Blob([bytes]), name);
  const response = await fetch(`${server.uploadUrl}/base/`, { method: 'POST', body: form });
  if (!response.ok) throw new Error(`seeding upload answered ${response.status}: ${await response.text()}`);
  return ((await response.json()) as { file: string }).file;
}

async function seed(server: TroveProcess): Promise<Seeded> {
  let anyUuid = '';
  for (let i = 0; i < FILES; i++) anyUuid = await upload(server, Buffer.from(`file ${i}`), `file-${i}.txt`, i % 2 === 0 ? 'even' : 'odd');
  const image = await sharp({ create: { width: 800, height: 600, channels: 3, background: { r: 40, g: 120, b: 200 } } }).jpeg().toBuffer();
  const imageUuid = await upload(server, image, 'photo.jpg');
  return { server, anyUuid, imageUuid };
}

interface Path {
  name: string;
  options(seeded: Seeded): LoadOptions;
}

const PATHS: Path[] = [
  {
    name: 'REST GET /files/?limit=100&tag=even',
    options: ({ server }) => ({
      url: `${server.url}/files/?limit=100&tag=even&ordering=-datetime_uploaded`,
      headers: { accept: 'application/vnd.uploadcare-v0.7+json', authorization: `Uploadcare.Simple ${server.publicKey}:${server.secretKey}` },
    }),
  },
  {
    name: 'Upload API GET /info/',
    options: ({ server, anyUuid }) => ({ url: `${server.uploadUrl}/info/?pub_key=${server.publicKey}&file_id=${anyUuid}` }),
  },
  { name: 'original from memory', options: ({ server, anyUuid }) => ({ url: `${server.url}/${anyUuid}/` }) },
  { name: 'derivative from L1', options: ({ server, imageUuid }) => ({ url: `${server.url}/${imageUuid}/-/resize/300x/-/format/webp/` }) },
];

const WRK = hasWrk();

async function measure(options: LoadOptions): Promise<number> {
  if (WRK) {
    const headers = Object.entries(options.headers ?? {}).flatMap(([name, value]) => ['-H', `${name}: ${value}`]);
    const out = execFileSync('wrk', ['-t', '1', '-c', String(CONNECTIONS), '-d', `${SECONDS}s`, ...headers, options.url], { encoding: 'utf8' });
    const non2xx = /Non-2xx or 3xx responses: (\d+)/.exec(out);
    if (non2xx) throw new Error(`${options.url} answered ${non2xx[1]} errors under load`);
    return Number(/Requests\/sec:\s+([\d.]+)/.exec(out)?.[1]);
  }
  const result = await autocannon({ ...options, connections: CONNECTIONS, duration: SECONDS, pipelining: 1 });
  return result.requests.average;
}

/** Direct uploads of 50 KB with CONNECTIONS at once for SECONDS: uploads per second. */
async function uploadRate(server: TroveProcess): Promise<number> {
  const bytes = Buffer.alloc(SMALL_UPLOAD_BYTES, 7);
  const until = Date.now() + SECONDS * 1000;
  let done = 0;
  await Promise.all(
    Array.from({ length: CONNECTIONS }, async () => {
      while (Date.now() < until) {
        await upload(server, bytes, 'small.bin');
        done++;
      }
    }),
  );
  return done / SECONDS;
}

const median = (values: number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 0 ? (sorted[middle - 1]! + sorted[middle]!) / 2 : sorted[middle]!;
};

async function main(): Promise<void> {
  if (!BASELINE) throw new Error('Set TROVE_BASELINE to the directory of an earlier build (with dist/src/main.js).');
  const dirs = [await mkdtemp(path.join(tmpdir(), 'trove-bench-this-')), await mkdtemp(path.join(tmpdir(), 'trove-bench-base-'))];
  const env = { ...RATE_LIMITS_OFF, TROVE_WORKERS: '1' };
  const current = await startTroveProcess({ dataDir: dirs[0]!, port: 3931, env });
  const baseline = await startTroveProcess({ dataDir: dirs[1]!, port: 3932, env, mainPath: path.join(BASELINE, 'dist/src/main.js') });
  try {
    const seeded = { current: await seed(current), baseline: await seed(baseline) };
    // Warm both: parsed paths, L1 entries, JIT.
    for (const side of [seeded.current, seeded.baseline]) for (const p of PATHS) await autocannon({ ...p.options(side), connections: 4, duration: 1 });
    const names = [...PATHS.map((p) => p.name), 'direct upload 50 KB'];
    const figures = new Map(names.map((name) => [name, { current: [] as number[], baseline: [] as number[] }]));
    for (let round = 0; round < ROUNDS; round++) {
      // A B, then B A: neither side always runs on the warmer or the busier half of a round.
      const order = round % 2 === 0 ? (['current', 'baseline'] as const) : (['baseline', 'current'] as const);
      for (const side of order) {
        for (const p of PATHS) figures.get(p.name)![side].push(await measure(p.options(seeded[side])));
        figures.get('direct upload 50 KB')![side].push(await uploadRate(seeded[side].server));
      }
      console.error(`round ${round + 1}/${ROUNDS} done`);
    }
    console.log(`\nThis build vs ${BASELINE}: ${ROUNDS} alternating rounds of ${SECONDS} s, ${CONNECTIONS} connections, ${FILES} seeded files, GET load by ${WRK ? 'wrk' : 'autocannon'}\n`);
    console.log('| path | this (req/s, median) | baseline (req/s, median) | this / baseline (median of rounds) |');
    console.log('| --- | ---: | ---: | ---: |');
    for (const [name, f] of figures) {
      const ratios = f.current.map((value, i) => value / f.baseline[i]!);
      console.log(`| ${name} | ${median(f.current).toFixed(0)} | ${median(f.baseline).toFixed(0)} | ${median(ratios).toFixed(2)} |`);
    }
  } finally {
    await current.stop();
    await baseline.stop();
    await Promise.all(dirs.map((dir) => rm(dir, { recursive: true, force: true })));
  }
}

await main();
