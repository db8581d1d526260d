import sharp, { type Sharp } from 'sharp';
import { describe, expect, it } from 'vitest';
import { SharpImageEngine } from '../../../src/adapters/image/sharp.engine.js';
import { loadConfig } from '../../../src/config/load-config.js';
import type { OutputFormat, TransformPlan } from '../../../src/domain/transform/operations.js';
import { parseUploadcarePath } from '../../../src/domain/transform/uploadcare-parser.js';
import type { EngineLimits } from '../../../src/ports/image-engine.js';
import { ssim } from '../../helpers/ssim.js';

const LIMITS: EngineLimits = { maxSourcePixels: 50_000_000, maxOutputDimension: 8192, maxAnimationPixels: 50_000_000, timeoutMs: 30_000 };
const PARSE_LIMITS = loadConfig({}).transform;

function plan(path: string): TransformPlan {
  return parseUploadcarePath(path, PARSE_LIMITS).plan;
}

/**
 * A photo-like picture: smooth gradients, hard edges, text and fine texture, so resampling differences
 * show. The texture is softened as a lens and demosaicing soften a photo: on per-pixel noise SSIM
 * measures the noise, and even sharp's own `fastShrinkOnLoad` switch moves it to about 0.97 (the
 * intermediate is a Lanczos halving where direct sharp scales in libjpeg's DCT: on such noise the two
 * agree to about 0.985).
 */
async function photo(width: number, height: number, channels: 3 | 4 = 3): Promise<Sharp> {
  const texture = await sharp({ create: { width, height, channels: 3, background: '#000', noise: { type: 'gaussian', mean: 128, sigma: 30 } } })
    .blur(2.5)
    .png()
    .toBuffer();
  const shapes = Buffer.from(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}">
      <defs><linearGradient id="g" x1="0" y1="0" x2="1" y2="1"><stop offset="0" stop-color="#1e5bd8"/><stop offset="1" stop-color="#f2b705"/></linearGradient></defs>
      <rect width="${width}" height="${height}" fill="url(#g)"/>
      <circle cx="${width * 0.3}" cy="${height * 0.4}" r="${height * 0.25}" fill="#c0392b"/>
      <rect x="${width * 0.55}" y="${height * 0.2}" width="${width * 0.3}" height="${height * 0.5}" fill="#2ecc71"/>
      <text x="${width * 0.1}" y="${height * 0.9}" font-size="${height / 8}" fill="#fff">Trove 123</text>
    </svg>`,
  );
  const base = sharp(shapes).composite([{ input: texture, blend: 'soft-light' }]);
  if (channels === 3) return sharp(await base.removeAlpha().png().toBuffer());
  // Alpha fading from opaque (left) to almost transparent (right).
  const alpha = await sharp(Buffer.from(`<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}"><defs><linearGradient id="a"><stop offset="0" stop-color="#fff"/><stop offset="1" stop-color="#111"/></linearGradient></defs><rect width="${width}" height="${height}" fill="url(#a)"/></svg>`))
    .extractChannel(0)
    .raw()
    .toBuffer();
  const rgb = await base.removeAlpha().png().toBuffer();
  return sharp(await sharp(rgb).joinChannel(await sharp(alpha, { raw: { width, height, channels: 1 } }).png().toBuffer()).png().toBuffer());
}

function engines(options: { maxBytes?: number; minSourcePixels?: number } = {}) {
  const withIntermediates = new SharpImageEngine({
    intermediates: { maxBytes: options.maxBytes ?? 256 * 1024 ** 2, minSourcePixels: options.minSourcePixels ?? 1_000_000 },
  });
  const direct = new SharpImageEngine();
  return { withIntermediates, direct };
}

async function compare(source: Buffer, path: string, format: OutputFormat, key: string) {
  const { withIntermediates, direct } = engines();
  // One JPEG width alone is computed from the original; the second width of it reads an intermediate.
  await withIntermediates.transform(source, plan(`-/resize/300x/-/format/${format}/`), { format, overlays: new Map(), limits: LIMITS, sourceKey: key });
  const viaIntermediate = await withIntermediates.transform(source, plan(path), { format, overlays: new Map(), limits: LIMITS, sourceKey: key });
  const reference = await direct.transform(source, plan(path), { format, overlays: new Map(), limits: LIMITS });
  return { viaIntermediate, reference, similarity: await ssim(viaIntermediate.data, reference.data), stats: withIntermediates.intermediateStats() };
}

describe('intermediates for responsive sets', () => {
  it('a JPEG with EXIF orientation: every width matches the direct path (SSIM ≥ 0.99, same size and orientation)', async () => {
    // Stored 3000×2000 with orientation 6: shown 2000×3000.
    const source = await (await photo(3000, 2000)).withMetadata({ orientation: 6 }).jpeg({ quality: 90 }).toBuffer();
    const { withIntermediates, direct } = engines();
    const similarities = [];
    for (const width of [320, 640, 1000]) {
      const path = `-/resize/${width}x/-/format/jpeg/-/quality/normal/`;
      const result = await withIntermediates.transform(source, plan(path), { format: 'jpeg', overlays: new Map(), limits: LIMITS, sourceKey: 'oriented.jpg' });
      const reference = await direct.transform(source, plan(path), { format: 'jpeg', overlays: new Map(), limits: LIMITS });
      expect({ width: result.width, height: result.height }).toEqual({ width, height: width * 1.5 });
      const meta = await sharp(result.data).metadata();
      expect({ width: meta.width, height: meta.height }).toEqual({ width, height: width * 1.5 });
      const bare = await sharp(source).autoOrient().resize(width).jpeg({ quality: 80 }).toBuffer();
      // Against the engine's direct path and against sharp called directly.
      similarities.push({ width, engine: await ssim(result.data, reference.data), sharp: await ssim(result.data, bare) });
    }
    expect(similarities.filter((s) => s.engine < 0.99 || s.sharp < 0.99)).toEqual([]);
    // One decode served all three widths.
    expect(withIntermediates.intermediateStats().decodes).toBe(1);
  });

  it('a PNG with alpha keeps its transparency (PNG and WebP output)', async () => {
    const source = await (await photo(2400, 1600, 4)).png().toBuffer();
    for (const format of ['png', 'webp'] as const) {
      const { viaIntermediate, similarity, stats } = await compare(source, `-/resize/700x/-/format/${format}/`, format, 'alpha.png');
      expect(stats.decodes).toBe(1);
      expect(similarity).toBeGreaterThanOrEqual(0.99);
      const meta = await sharp(viaIntermediate.data).metadata();
      expect(meta.hasAlpha).toBe(true);
      // The right edge is nearly transparent, the left opaque.
      const { data, info } = await sharp(viaIntermediate.data).raw().toBuffer({ resolveWithObject: true });
      const alphaAt = (x: number) => data[(100 * info.width + x) * info.channels + 3]!;
      expect(alphaAt(5)).toBeGreaterThan(240);
      expect(alphaAt(info.width - 5)).toBeLessThan(40);
    }
  });

  it('a CMYK JPEG is converted to sRGB as the direct path converts it', async () => {
    const source = await (await photo(2400, 1600)).toColourspace('cmyk').jpeg({ quality: 90 }).toBuffer();
    expect((await sharp(source).metadata()).space).toBe('cmyk');
    const { similarity, stats, viaIntermediate } = await compare(source, '-/resize/600x/-/format/jpeg/-/quality/normal/', 'jpeg', 'cmyk.jpg');
    expect(stats.decodes).toBe(1);
    expect((await sharp(viaIntermediate.data).metadata()).space).toBe('srgb');
    expect(similarity).toBeGreaterThanOrEqual(0.99);
  });

  it('an ICC-profiled (Display P3) JPEG keeps the direct path colours', async () => {
    const source = await (await photo(2400, 1600)).withIccProfile('p3').jpeg({ quality: 90 }).toBuffer();
    expect((await sharp(source).metadata()).icc).toBeDefined();
    const { similarity, stats, viaIntermediate, reference } = await compare(source, '-/resize/600x/-/format/jpeg/-/quality/normal/', 'jpeg', 'p3.jpg');
    expect(stats.decodes).toBe(1);
    expect(similarity).toBeGreaterThanOrEqual(0.99);
    // Same mean colour per channel within one level: the P3 → sRGB conversion happened on both paths.
    const [a, b] = await Promise.all([sharp(viaIntermediate.data).stats(), sharp(reference.data).stats()]);
    a.channels.forEach((channel, index) => expect(Math.abs(channel.mean - b.channels[index]!.mean)).toBeLessThan(1));
  });

  it('plans that need the original do not use an intermediate', async () => {
    const source = await (await photo(2400, 1600)).jpeg({ quality: 90 }).toBuffer();
    const { withIntermediates } = engines();
    const cases = [
      // A crop in source pixels before the resize.
      '-/crop/1200x800/100,100/-/resize/300x/-/format/jpeg/',
      // Less than half the source: the intermediate would be upscaled or resampled twice too closely.
      '-/resize/1300x/-/format/jpeg/',
      // EXIF and XMP are copied from the source file.
      '-/resize/400x/-/strip_meta/none/-/format/jpeg/',
      // No resize at all.
      '-/format/webp/',
    ];
    for (const path of cases) {
      await withIntermediates.transform(source, plan(path), { format: path.includes('webp') ? 'webp' : 'jpeg', overlays: new Map(), limits: LIMITS, sourceKey: 'needs-original.jpg' });
    }
    expect(withIntermediates.intermediateStats()).toEqual({ bytes: 0, decodes: 0 });
    // Without the source's identity there is nothing to key an intermediate by.
    await withIntermediates.transform(source, plan('-/resize/400x/-/format/jpeg/'), { format: 'jpeg', overlays: new Map(), limits: LIMITS });
    expect(withIntermediates.intermediateStats().decodes).toBe(0);
    // A small source is decoded directly.
    const small = await (await photo(1000, 800)).jpeg().toBuffer();
    await withIntermediates.transform(small, plan('-/resize/300x/-/format/jpeg/'), { format: 'jpeg', overlays: new Map(), limits: LIMITS, sourceKey: 'small.jpg' });
    expect(withIntermediates.intermediateStats().decodes).toBe(0);
  });

  it('concurrent widths of one original share one decode', async () => {
    const source = await (await photo(3000, 2000)).jpeg({ quality: 90 }).toBuffer();
    const { withIntermediates } = engines();
    const widths = [320, 480, 640, 800, 1024, 1280];
    const results = await Promise.all(
      widths.map((width) =>
        withIntermediates.transform(source, plan(`-/resize/${width}x/-/format/jpeg/`), { format: 'jpeg', overlays: new Map(), limits: LIMITS, sourceKey: 'set.jpg' }),
      ),
    );
    expect(results.map((result) => result.width)).toEqual(widths);
    expect(withIntermediates.intermediateStats()).toEqual({ bytes: 1500 * 1000 * 3, decodes: 1 });
  });

  it('decodes an intermediate only once a second width of a JPEG comes, and never makes a small width wait for one', async () => {
    const source = await (await photo(3000, 2000)).jpeg({ quality: 90 }).toBuffer();
    const { withIntermediates, direct } = engines();
    const run = (engine: SharpImageEngine, width: number) =>
      engine.transform(source, plan(`-/resize/${width}x/-/format/jpeg/`), { format: 'jpeg', overlays: new Map(), limits: LIMITS, ...(engine === direct ? {} : { sourceKey: 'policy.jpg' }) });
    // One width alone: sharp decodes it at a reduced scale, so it is computed exactly as directly.
    const alone = await run(withIntermediates, 500);
    expect(withIntermediates.intermediateStats().decodes).toBe(0);
    expect(alone.data.equals((await run(direct, 500)).data)).toBe(true);
    // A second width of the same original within the window: one decode, kept for the others.
    await run(withIntermediates, 800);
    expect(withIntermediates.intermediateStats()).toEqual({ bytes: 1500 * 1000 * 3, decodes: 1 });
    await run(withIntermediates, 1200);
    expect(withIntermediates.intermediateStats().decodes).toBe(1);

    // While an intermediate is being decoded, a width of an eighth or less goes to the original.
    const other = engines().withIntermediates;
    const start = (width: number) => other.transform(source, plan(`-/resize/${width}x/-/format/jpeg/`), { format: 'jpeg', overlays: new Map(), limits: LIMITS, sourceKey: 'pending.jpg' });
    await start(700);
    const decoding = start(900);
    // Once the 900 px request has started the decode (the count moves when it starts)…
    while (other.intermediateStats().decodes === 0) await new Promise((resolve) => setImmediate(resolve));
    const tiny = await start(300);
    expect(tiny.data.equals((await run(direct, 300)).data)).toBe(true);
    await decoding;
    expect(other.intermediateStats().decodes).toBe(1);
  });

  it('starts the intermediate at once for a source decoded whole either way', async () => {
    const png = await (await photo(2400, 1600)).png().toBuffer();
    const { withIntermediates } = engines();
    await withIntermediates.transform(png, plan('-/resize/500x/-/format/jpeg/'), { format: 'jpeg', overlays: new Map(), limits: LIMITS, sourceKey: 'whole.png' });
    expect(withIntermediates.intermediateStats().decodes).toBe(1);
    // A JPEG shrunk less than 3× is decoded at full size by sharp too.
    const jpeg = await (await photo(3000, 2000)).jpeg().toBuffer();
    await withIntermediates.transform(jpeg, plan('-/resize/1400x/-/format/jpeg/'), { format: 'jpeg', overlays: new Map(), limits: LIMITS, sourceKey: 'near.jpg' });
    expect(withIntermediates.intermediateStats().decodes).toBe(2);
  });

  it('keeps intermediates within the memory bound, oldest out first', async () => {
    const one = 1500 * 1000 * 3;
    const { withIntermediates } = engines({ maxBytes: one * 2 + 10 });
    const sources = await Promise.all([1, 2, 3].map(async () => (await photo(3000, 2000)).jpeg().toBuffer()));
    const run = (index: number, width = 500) =>
      withIntermediates.transform(sources[index]!, plan(`-/resize/${width}x/-/format/jpeg/`), { format: 'jpeg', overlays: new Map(), limits: LIMITS, sourceKey: `bound-${index}` });
    // Two widths of each: the first is computed from the original, the second decodes an intermediate.
    for (const index of [0, 1, 2]) {
      await run(index, 600);
      await run(index);
    }
    expect(withIntermediates.intermediateStats()).toEqual({ bytes: one * 2, decodes: 3 });
    // Source 0 was pushed out: asking for it again decodes again; source 2 is still kept.
    await run(2);
    expect(withIntermediates.intermediateStats().decodes).toBe(3);
    await run(0);
    expect(withIntermediates.intermediateStats().decodes).toBe(4);
    expect(withIntermediates.intermediateStats().bytes).toBeLessThanOrEqual(one * 2 + 10);
    // A bound smaller than one intermediate: never used (it would be decoded for every width).
    const tiny = engines({ maxBytes: one - 1 }).withIntermediates;
    await tiny.transform(sources[0]!, plan('-/resize/500x/-/format/jpeg/'), { format: 'jpeg', overlays: new Map(), limits: LIMITS, sourceKey: 'tiny' });
    expect(tiny.intermediateStats()).toEqual({ bytes: 0, decodes: 0 });
  });
});
