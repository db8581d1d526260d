/**
 * SharpImageEngine against a bare sharp call, in process, on a 24-megapixel noisy JPEG (6000×4000,
 * q90) → 800 px wide JPEG q80 / WebP / AVIF. Both sides run two images at a time (the machine has two
 * cores), 20 images per measurement after a warm-up, and use identical encoder settings, so the ratio
 * is the engine's own overhead (header read, planning, limits) on the fast path.
 *
 *   npx tsx bench/engine.bench.ts
 *
 * Runs alternate (bare, engine, bare, engine) because throughput drifts by ±20 % on shared VMs; the
 * table reports each side's better round and the ratio of those.
 */
import { performance } from 'node:perf_hooks';
import sharp, { type Sharp } from 'sharp';
import { SharpImageEngine } from '../src/adapters/image/sharp.engine.js';
import { DEFAULT_OUTPUT, type OutputFormat, type TransformPlan } from '../src/domain/transform/operations.js';
import type { EngineLimits } from '../src/ports/image-engine.js';

const IN_FLIGHT = 2;
const IMAGES = 20;
const WARM_UP = 2;
const ROUNDS = 3;
const WIDTH = 800;

// The engine's defaults, so both sides encode identically.
const AVIF_EFFORT = 1;
const WEBP_EFFORT = 2;

const LIMITS: EngineLimits = { maxSourcePixels: 100_000_000, maxOutputDimension: 10_000, maxAnimationPixels: 100_000_000, timeoutMs: 60_000 };

const BARE: Record<'jpeg' | 'webp' | 'avif' | 'png', (pipeline: Sharp) => Sharp> = {
  jpeg: (pipeline) => pipeline.jpeg({ quality: 80 }),
  png: (pipeline) => pipeline.png({ compressionLevel: 6, adaptiveFiltering: false }),
  webp: (pipeline) => pipeline.webp({ quality: 80, effort: WEBP_EFFORT }),
  avif: (pipeline) => pipeline.avif({ quality: 50, effort: AVIF_EFFORT }),
};

async function throughput(task: () => Promise<unknown>, images: number): Promise<number> {
  let started = 0;
  const worker = async (): Promise<void> => {
    while (started < images) {
      started += 1;
      await task();
    }
  };
  const begin = performance.now();
  await Promise.all(Array.from({ length: IN_FLIGHT }, worker));
  return images / ((performance.now() - begin) / 1000);
}

async function main(): Promise<void> {
  const engine = new SharpImageEngine({ avifEffort: AVIF_EFFORT, webpEffort: WEBP_EFFORT, concurrency: 1 });
  process.stdout.write('generating a 6000×4000 noisy JPEG q90… ');
  const source = await sharp({ create: { width: 6000, height: 4000, channels: 3, background: '#000', noise: { type: 'gaussian', mean: 128, sigma: 30 } } })
    .jpeg({ quality: 90 })
    .toBuffer();
  console.log(`${(source.length / 1e6).toFixed(1)} MB`);
  console.log(`sharp ${sharp.versions.sharp}, libvips ${sharp.versions.vips}, ${IN_FLIGHT} in flight, ${IMAGES} images per run, best of ${ROUNDS} alternating runs`);

  const plan: TransformPlan = {
    operations: [{ op: 'resize', width: WIDTH, height: null, upscale: 'on', background: DEFAULT_OUTPUT.background }],
    output: { ...DEFAULT_OUTPUT, quality: 'normal' },
    info: null,
  };

  // PNG with alpha has no shrink-on-load: the whole 6 MP RGBA image is decoded and premultiplied.
  const alpha = await sharp({ create: { width: 3000, height: 2000, channels: 4, background: { r: 30, g: 120, b: 200, alpha: 0.6 } } })
    .composite([{ input: await sharp({ create: { width: 1500, height: 1000, channels: 4, background: '#0000', noise: { type: 'gaussian', mean: 128, sigma: 30 } } }).png().toBuffer(), gravity: 'center' }])
    .png()
    .toBuffer();

  const rows: Record<string, string>[] = [];
  const cases = [
    { format: 'jpeg', input: source, height: 533 },
    { format: 'webp', input: source, height: 533 },
    { format: 'avif', input: source, height: 533 },
    { format: 'png', input: alpha, height: 533 },
  ] as const satisfies readonly { format: OutputFormat; input: Buffer; height: number }[];
  for (const { format, input, height } of cases) {
    const bare = () => BARE[format](sharp(input).resize(WIDTH)).toBuffer();
    const ours = () => engine.transform(input, plan, { format, overlays: new Map(), limits: LIMITS });
    const [bareSample, oursSample] = await Promise.all([bare(), ours()]);
    const oursMeta = await sharp(oursSample.data).metadata();
    if (oursMeta.width !== WIDTH || oursMeta.height !== height) throw new Error(`engine produced ${oursMeta.width}×${oursMeta.height}`);

    await throughput(bare, WARM_UP);
    await throughput(ours, WARM_UP);
    const bareRuns: number[] = [];
    const oursRuns: number[] = [];
    for (let round = 0; round < ROUNDS; round += 1) {
      bareRuns.push(await throughput(bare, IMAGES));
      oursRuns.push(await throughput(ours, IMAGES));
    }
    const bestBare = Math.max(...bareRuns);
    const bestOurs = Math.max(...oursRuns);
    rows.push({
      output: `${input === alpha ? 'PNG alpha → ' : ''}${format} ${WIDTH}px`,
      'bare sharp img/s': bestBare.toFixed(2),
      'engine img/s': bestOurs.toFixed(2),
      'engine / bare': (bestOurs / bestBare).toFixed(3),
      'per round': oursRuns.map((value, index) => (value / bareRuns[index]!).toFixed(2)).join(' '),
      'bytes bare / engine': `${bareSample.length} / ${oursSample.data.length}`,
    });
  }
  console.table(rows);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
