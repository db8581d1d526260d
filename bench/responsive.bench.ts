/**
 * Responsive sets: a page's srcset asks for 8 widths (320–2560 px) of one 24 MP original. Trove
 * over HTTP (widths resized from one shared half-size decode, see src/adapters/image/intermediates.ts)
 * against sharp called directly in a Node loop, decoding the original for each width (the ceiling a
 * bare sharp server reaches). Every round uses fresh originals (new uploads, so nothing is cached at
 * the derivative or intermediate level), 2 requests in flight on both sides, alternating which side
 * goes first; each side's best round counts. Outputs are compared with SSIM (test/helpers/ssim.ts).
 *
 *   npm run build && npx tsx bench/responsive.bench.ts      (BENCH_ORIGINALS=3 BENCH_ROUNDS=3,
 *   TROVE_INTERMEDIATE_CACHE_SIZE=0 for the server without intermediates)
 */
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { Agent, request as httpRequest } from 'node:http';
import path from 'node:path';
import sharp, { type Sharp } from 'sharp';
import { ssim } from '../test/helpers/ssim.js';
import { printTable, RATE_LIMITS_OFF, startTroveProcess, type TroveProcess } from './lib/trove-process.js';

// Trove runs libvips without its operation cache; the direct side must too.
sharp.cache(false);

const WIDTHS = [320, 480, 640, 800, 1024, 1280, 1920, 2560];
const ORIGINALS = Number(process.env.BENCH_ORIGINALS ?? 3);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const IN_FLIGHT = 2;
const agent = new Agent({ keepAlive: true, maxSockets: 16 });

function get(url: string): Promise<{ status: number; body: Buffer }> {
  return new Promise((resolve, reject) => {
    httpRequest(url, { agent }, (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('end', () => resolve({ status: response.statusCode ?? 0, body: Buffer.concat(chunks) }));
      response.on('error', reject);
    })
      .on('error', reject)
      .end();
  });
}

async function upload(trove: TroveProcess, bytes: Buffer, name: string): Promise<string> {
  const form = new FormData();
  form.set('UPLOADCARE_PUB_KEY', trove.publicKey);
  form.set('file', new Blob([new Uint8Array(bytes)]), name);
  const response = await fetch(`${trove.uploadUrl}/base/`, { method: 'POST', body: form });
  const body = (await response.json()) as { file?: string };
  if (!body.file) throw new Error(`upload failed: ${JSON.stringify(body)}`);
  return body.file;
}

/** Runs the tasks with `IN_FLIGHT` at once, in order; returns elapsed seconds. */
async function pool<T>(tasks: readonly T[], run: (task: T) => Promise<void>): Promise<number> {
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: IN_FLIGHT }, async () => {
      while (next < tasks.length) await run(tasks[next++]!);
    }),
  );
  return (performance.now() - started) / 1000;
}

/** A 24 MP photo-like JPEG: gradients, hard edges, text and lens-softened texture. */
async function photo(seed: number): Promise<Buffer> {
  const width = 6000;
  const height = 4000;
  const texture = await sharp({ create: { width, height, channels: 3, background: '#000', noise: { type: 'gaussian', mean: 128, sigma: 30 } } })
    .blur(3)
    .png({ compressionLevel: 1 })
    .toBuffer();
  const shapes = Buffer.from(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}">
      <defs><linearGradient id="g" x1="0" y1="0" x2="1" y2="1"><stop offset="0" stop-color="#1e5bd8"/><stop offset="1" stop-color="#f2b705"/></linearGradient></defs>
      <rect width="${width}" height="${height}" fill="url(#g)"/>
      <circle cx="${1800 + seed * 300}" cy="1600" r="1000" fill="#c0392b"/>
      <rect x="3300" y="800" width="1800" height="2000" fill="#2ecc71"/>
      <text x="600" y="3600" font-size="500" fill="#fff">Trove ${seed}</text>
    </svg>`,
  );
  const rgb = await sharp(shapes).composite([{ input: texture, blend: 'soft-light' }]).removeAlpha().png({ compressionLevel: 1 }).toBuffer();
  return sharp(rgb).jpeg({ quality: 90 }).toBuffer();
}

/** CPU time a process has used, in ms (Linux /proc: utime + stime, 10 ms ticks). */
function processCpuMs(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

/** Trove's JPEG encoder at quality/normal (src/adapters/image/encoders.ts). */
const encode = (pipeline: Sharp) => pipeline.jpeg({ quality: 80, progressive: false, chromaSubsampling: '4:2:0', optimiseCoding: true }).toBuffer();

async function main() {
  const work = await mkdtemp(path.join(process.cwd(), '.tmp-bench-responsive-'));
  const originals = await Promise.all(Array.from({ length: ORIGINALS }, (_, index) => photo(index)));
  // One process: its intermediates are its own, as each process's are.
  const env = { ...RATE_LIMITS_OFF, TROVE_WORKERS: '1', TROVE_TRANSFORM_CONCURRENCY: String(IN_FLIGHT), TROVE_INTERMEDIATE_CACHE_SIZE: process.env.TROVE_INTERMEDIATE_CACHE_SIZE ?? '128MiB' };
  const trove = await startTroveProcess({ dataDir: path.join(work, 'data'), port: 3960, env });
  console.log(`server: ${Object.entries(env).map(([k, v]) => `${k}=${v}`).join(' ')}`);
  try {
    const tasks = originals.flatMap((source, index) => WIDTHS.map((width) => ({ source, index, width })));
    let directSeconds = Infinity;
    let troveSeconds = Infinity;
    // CPU per set as well: on a shared machine wall time drifts, the work done does not.
    let directCpu = Infinity;
    let troveCpu = Infinity;
    const minSsim = new Map<number, number>();
    for (let round = 0; round < ROUNDS; round += 1) {
      // Fresh uploads: new files, so no derivative, source or intermediate of them exists yet.
      const uuids = await Promise.all(originals.map((bytes, index) => upload(trove, bytes, `r${round}-${index}.jpg`)));
      const direct = new Map<string, Buffer>();
      const viaTrove = new Map<string, Buffer>();
      const runDirect = async () => {
        const cpu = process.cpuUsage();
        const seconds = await pool(tasks, async ({ source, index, width }) => {
          direct.set(`${index}/${width}`, await encode(sharp(source).resize(width)));
        });
        directSeconds = Math.min(directSeconds, seconds);
        const used = process.cpuUsage(cpu);
        directCpu = Math.min(directCpu, (used.user + used.system) / 1000 / ORIGINALS);
      };
      const runTrove = async () => {
        const cpu = processCpuMs(trove.pid);
        const seconds = await pool(tasks, async ({ index, width }) => {
          const response = await get(`${trove.url}/${uuids[index]}/-/resize/${width}x/-/format/jpeg/-/quality/normal/`);
          if (response.status !== 200) throw new Error(`trove ${response.status} ${response.body.toString().slice(0, 200)}`);
          viaTrove.set(`${index}/${width}`, response.body);
        });
        troveSeconds = Math.min(troveSeconds, seconds);
        troveCpu = Math.min(troveCpu, (processCpuMs(trove.pid) - cpu) / ORIGINALS);
      };
      if (round % 2 === 0) {
        await runDirect();
        await runTrove();
      } else {
        await runTrove();
        await runDirect();
      }
      for (const { index, width } of tasks) {
        const similarity = await ssim(viaTrove.get(`${index}/${width}`)!, direct.get(`${index}/${width}`)!);
        minSsim.set(width, Math.min(minSsim.get(width) ?? 1, similarity));
      }
    }
    const sets = ORIGINALS;
    printTable(
      `Responsive sets: ${WIDTHS.length} widths of ${sets} fresh 24 MP JPEG originals per round → JPEG q80, ${IN_FLIGHT} in flight, best of ${ROUNDS} alternating rounds (target: ≥ 2× direct sharp, SSIM ≥ 0.99)`,
      [
        {
          'sharp direct sets/s': (sets / directSeconds).toFixed(3),
          'Trove sets/s': (sets / troveSeconds).toFixed(3),
          'Trove / sharp': (directSeconds / troveSeconds).toFixed(2),
          'sharp CPU ms/set': directCpu.toFixed(0),
          'Trove CPU ms/set': troveCpu.toFixed(0),
          'CPU ratio': (directCpu / troveCpu).toFixed(2),
          'Trove peak RSS MiB': trove.peakRssMiB().toFixed(0),
        },
      ],
    );
    printTable(
      'Lowest SSIM of Trove’s output against direct sharp’s, per width',
      WIDTHS.map((width) => ({ width, 'min SSIM': minSsim.get(width)!.toFixed(4) })),
    );
  } finally {
    await trove.stop();
    await rm(work, { recursive: true, force: true });
  }
}

await main();
