import exifReader from 'exif-reader';
import sharp, { type Sharp } from 'sharp';
import { describe, expect, it } from 'vitest';
import { SharpImageEngine } from '../../../src/adapters/image/sharp.engine.js';
import { loadConfig } from '../../../src/config/load-config.js';
import { parseUploadcarePath } from '../../../src/domain/transform/uploadcare-parser.js';
import {
  DEFAULT_BACKGROUND,
  DEFAULT_OUTPUT,
  type Length,
  MAX_MAIN_COLORS,
  type Operation,
  type OutputFormat,
  type OutputSettings,
  type Rgba,
  type TransformPlan,
} from '../../../src/domain/transform/operations.js';
import { EngineError, type EngineErrorCode, type EngineLimits, type EngineResult } from '../../../src/ports/image-engine.js';
import {
  BLUE,
  GREEN,
  jpegLumaDcDivisor,
  near,
  noisyJpeg,
  pixels,
  pngHeaderOnly,
  quadrants,
  quadrantsPng,
  RED,
  solidPng,
  YELLOW,
} from '../../helpers/image-fixtures.js';
import { gifBomb, webpBomb } from '../../helpers/animation-bombs.js';
import { avifSequence, manyPageTiff } from '../../helpers/page-bombs.js';
import { makeAnimatedGif, makeAvif, makeCmykJpeg, makeGreyAlphaPng, makeGreyPng, makePngWithAlpha } from '../../helpers/images.js';

const engine = new SharpImageEngine();

const LIMITS: EngineLimits = { maxSourcePixels: 50_000_000, maxOutputDimension: 5000, maxAnimationPixels: 50_000_000, timeoutMs: 15_000 };
const MAGENTA: Rgba = { r: 255, g: 0, b: 255, alpha: 255 };
const TRANSPARENT: Rgba = { r: 0, g: 0, b: 0, alpha: 0 };
const px = (value: number): Length => ({ unit: 'px', value });
const percent = (value: number): Length => ({ unit: 'percent', value });
const centre = { type: 'align', x: 'center', y: 'center' } as const;

function plan(operations: Operation[], output: Partial<OutputSettings> = {}): TransformPlan {
  return { operations, output: { ...DEFAULT_OUTPUT, ...output }, info: null };
}

function run(
  source: Buffer,
  operations: Operation[],
  format: OutputFormat = 'png',
  output: Partial<OutputSettings> = {},
  options: { limits?: Partial<EngineLimits>; overlays?: Map<string, Buffer> } = {},
): Promise<EngineResult> {
  return engine.transform(source, plan(operations, output), {
    format,
    overlays: options.overlays ?? new Map(),
    limits: { ...LIMITS, ...options.limits },
  });
}

async function engineErrorOf(work: Promise<unknown>): Promise<EngineError> {
  try {
    await work;
  } catch (error) {
    if (error instanceof EngineError) return error;
    throw new Error(`expected an EngineError, got ${String(error)}`);
  }
  throw new Error('expected the engine to fail');
}

async function expectCode(work: Promise<unknown>, code: EngineErrorCode): Promise<EngineError> {
  const error = await engineErrorOf(work);
  expect(error.code).toBe(code);
  return error;
}

const resize = (width: number | null, height: number | null, upscale: 'on' | 'off' | 'fill' = 'on', background: Rgba = MAGENTA): Operation => ({
  op: 'resize',
  width,
  height,
  upscale,
  background,
});

describe('probe', () => {
  it('reads format, size, frames, alpha and orientation from the header', async () => {
    const jpeg = await sharp(await quadrantsPng(40, 30)).withMetadata({ orientation: 6 }).jpeg().toBuffer();
    expect(await engine.probe(jpeg, LIMITS)).toEqual({ format: 'jpeg', width: 40, height: 30, pages: 1, hasAlpha: false, orientation: 6 });
    expect(await engine.probe(await makeAnimatedGif({ frames: 3, width: 20, height: 10 }), LIMITS)).toMatchObject({ format: 'gif', width: 20, height: 10, pages: 3 });
    expect(await engine.probe(await makeAvif(20, 10), LIMITS)).toMatchObject({ format: 'avif', width: 20, height: 10 });
    expect(await engine.probe(await makePngWithAlpha(8, 8), LIMITS)).toMatchObject({ format: 'png', hasAlpha: true, orientation: 1 });
  });

  it('refuses what is not an image, and damaged headers', async () => {
    await expectCode(engine.probe(Buffer.from('definitely not an image, just some text'), LIMITS), 'UNSUPPORTED_SOURCE');
    const gif = await makeAnimatedGif();
    await expectCode(engine.probe(gif.subarray(0, 12), LIMITS), 'CORRUPT_SOURCE');
  });
});

describe('limits', () => {
  it('refuses a source larger than the budget from its header alone, naming both sizes', async () => {
    // 100 000 × 100 000 declared, and there are no pixels behind it at all.
    const bogus = pngHeaderOnly(100_000, 100_000);
    const error = await expectCode(run(bogus, [resize(100, null)]), 'SOURCE_TOO_LARGE');
    expect(error.message).toContain('10000000000');
    expect(error.message).toContain('50000000');
    await expectCode(run(await quadrantsPng(40, 30), [], 'png', {}, { limits: { maxSourcePixels: 1000 } }), 'SOURCE_TOO_LARGE');
  });

  it('refuses outputs larger than allowed before decoding', async () => {
    const source = await quadrantsPng(40, 30);
    const error = await expectCode(run(source, [resize(6000, null)]), 'OUTPUT_TOO_LARGE');
    expect(error.message).toContain('6000×4500');
    await expectCode(run(source, [resize(17_000, 10)], 'webp', {}, { limits: { maxOutputDimension: 20_000 } }), 'OUTPUT_TOO_LARGE');
  });

  it('refuses animations over the frame budget instead of answering a still', async () => {
    const gif = await makeAnimatedGif({ frames: 3, width: 20, height: 10 });
    const error = await expectCode(run(gif, [], 'webp', {}, { limits: { maxAnimationPixels: 500 } }), 'ANIMATION_TOO_LARGE');
    expect(error.message).toMatch(/3 frames/);
    // Shrinking the frames brings it within budget: 3 × 10×5 = 150 pixels.
    const small = await run(gif, [resize(10, null)], 'webp', {}, { limits: { maxAnimationPixels: 500 } });
    expect((await sharp(small.data).metadata()).pages).toBe(3);
  });

  it('refuses a GIF or WebP with more frames than allowed on every path, before sharp reads its header', async () => {
    const limits: EngineLimits = { ...LIMITS, maxSourcePages: 100 };
    const overlay: Operation = { op: 'overlay', source: 'bomb-uuid', width: null, height: null, placement: centre, opacity: 100 };
    for (const bomb of [gifBomb({ width: 50, height: 50, frames: 150 }), await webpBomb({ width: 50, height: 50, frames: 150 })]) {
      const error = await expectCode(run(bomb, [resize(10, null)], 'gif', {}, { limits }), 'SOURCE_TOO_LARGE');
      expect(error.message).toBe('the animation has 150 frames, more than the 100 frames allowed');
      // A still of it decodes one frame, but reading the header already walks every frame.
      await expectCode(run(bomb, [resize(10, null)], 'jpeg', {}, { limits }), 'SOURCE_TOO_LARGE');
      await expectCode(engine.probe(bomb, limits), 'SOURCE_TOO_LARGE');
      await expectCode(engine.describe(bomb, plan([]), { kind: 'json' }, limits), 'SOURCE_TOO_LARGE');
      await expectCode(engine.describe(bomb, plan([]), { kind: 'main_colors', count: 4 }, limits), 'SOURCE_TOO_LARGE');
      const base = await quadrantsPng(40, 30);
      await expectCode(run(base, [overlay], 'png', {}, { limits, overlays: new Map([['bomb-uuid', bomb]]) }), 'SOURCE_TOO_LARGE');
      // At the limit, all of it works.
      const allowed: EngineLimits = { ...LIMITS, maxSourcePages: 150 };
      expect((await engine.probe(bomb, allowed)).pages).toBe(150);
      expect((await run(base, [overlay], 'png', {}, { limits: allowed, overlays: new Map([['bomb-uuid', bomb]]) })).width).toBe(40);
    }
  });

  it('refuses a TIFF with more pages, or a HEIF sequence with more frames, than allowed on every path, before libvips reads the header', async () => {
    const limits: EngineLimits = { ...LIMITS, maxSourcePages: 100 };
    const overlay: Operation = { op: 'overlay', source: 'bomb-uuid', width: null, height: null, placement: centre, opacity: 100 };
    const base = await quadrantsPng(40, 30);
    const cases = [
      { bomb: manyPageTiff({ pages: 150, width: 50, height: 50 }).bytes, message: 'the TIFF has more than the 100 pages allowed', pages: 150 },
      { bomb: manyPageTiff({ pages: 150, byteOrder: 'MM', bigTiff: true }).bytes, message: 'the TIFF has more than the 100 pages allowed', pages: 150 },
      // libvips loads only the still, but libheif parses every declared frame first.
      { bomb: await avifSequence(150), message: 'the image sequence has 150 frames, more than the 100 frames allowed', pages: 1 },
    ];
    for (const { bomb, message, pages } of cases) {
      const error = await expectCode(run(bomb, [resize(10, null)], 'png', {}, { limits }), 'SOURCE_TOO_LARGE');
      expect(error.message).toBe(message);
      await expectCode(engine.probe(bomb, limits), 'SOURCE_TOO_LARGE');
      await expectCode(engine.describe(bomb, plan([]), { kind: 'json' }, limits), 'SOURCE_TOO_LARGE');
      await expectCode(engine.describe(bomb, plan([]), { kind: 'main_colors', count: 4 }, limits), 'SOURCE_TOO_LARGE');
      await expectCode(run(base, [overlay], 'png', {}, { limits, overlays: new Map([['bomb-uuid', bomb]]) }), 'SOURCE_TOO_LARGE');
      const allowed: EngineLimits = { ...LIMITS, maxSourcePages: 150 };
      expect((await engine.probe(bomb, allowed)).pages).toBe(pages);
      expect((await run(bomb, [resize(10, null)], 'png', {}, { limits: allowed })).width).toBe(10);
      expect((await run(base, [overlay], 'png', {}, { limits: allowed, overlays: new Map([['bomb-uuid', bomb]]) })).width).toBe(40);
    }
  });

  it('refuses 50 000 TIFF pages or 4 million sequence frames at once, where libvips spends over a second on each header read', async () => {
    const limits: EngineLimits = { ...LIMITS, maxSourcePages: 1000 };
    const tiff = manyPageTiff({ pages: 50_000 }).bytes;
    const sequence = await avifSequence(4_000_000);
    const started = performance.now();
    expect((await expectCode(run(tiff, [resize(10, null)], 'png', {}, { limits }), 'SOURCE_TOO_LARGE')).message).toBe('the TIFF has more than the 1000 pages allowed');
    expect((await expectCode(engine.probe(sequence, limits), 'SOURCE_TOO_LARGE')).message).toBe(
      'the image sequence has 4000000 frames, more than the 1000 frames allowed',
    );
    expect(performance.now() - started).toBeLessThan(500);
  });

  it('refuses to decode an animation whose frames × source pixels exceed the budget, but makes a still of it', async () => {
    // 40 frames of 1000×1000: 40 million pixels to decode, from a file of about a kilobyte.
    const limits: EngineLimits = { ...LIMITS, maxAnimationSourcePixels: 30_000_000 };
    for (const bomb of [gifBomb({ width: 1000, height: 1000, frames: 40 }), await webpBomb({ width: 1000, height: 1000, frames: 40 })]) {
      expect(bomb.length).toBeLessThan(3000);
      const started = performance.now();
      const error = await expectCode(run(bomb, [resize(20, null)], 'gif', {}, { limits }), 'SOURCE_TOO_LARGE');
      expect(error.message).toBe('the animation has 40 frames of 1000×1000 = 40000000 pixels to decode, more than the 30000000 pixels allowed');
      await expectCode(run(bomb, [resize(20, null)], 'webp', {}, { limits }), 'SOURCE_TOO_LARGE');
      await expectCode(engine.describe(bomb, plan([], { format: 'gif' }), { kind: 'json' }, limits), 'SOURCE_TOO_LARGE');
      expect(performance.now() - started).toBeLessThan(1000);
      // One frame is decoded for a still, a colour palette or the facts of the still.
      expect((await run(bomb, [resize(20, null)], 'png', {}, { limits })).width).toBe(20);
      expect(await engine.describe(bomb, plan([]), { kind: 'main_colors', count: 1 }, limits)).toHaveProperty('main_colors');
      expect(await engine.describe(bomb, plan([], { format: 'png' }), { kind: 'json' }, limits)).toMatchObject({ width: 1000, sequence: false });
    }
  });

  it('answers TIMEOUT when the budget runs out', async () => {
    const source = await noisyJpeg(1200, 900);
    await expectCode(run(source, [{ op: 'blur', strength: 120 }, { op: 'sharpen', strength: 20 }], 'webp', {}, { limits: { timeoutMs: 1 } }), 'TIMEOUT');
  });

  it('wraps decoder failures', async () => {
    const jpeg = await noisyJpeg(200, 200);
    await expectCode(run(jpeg.subarray(0, jpeg.length / 2), [resize(50, null)], 'jpeg'), 'CORRUPT_SOURCE');
    await expectCode(run(Buffer.from('<html>not an image</html>'), [], 'jpeg'), 'UNSUPPORTED_SOURCE');
    await expectCode(
      run(jpeg, [{ op: 'overlay', source: 'missing-uuid', width: null, height: null, placement: centre, opacity: 100 }]),
      'INVALID_OPERATION',
    );
  });
});

describe('geometry', () => {
  it('preview fits inside the box and never enlarges', async () => {
    const source = await quadrantsPng(200, 100);
    expect(await run(source, [{ op: 'preview', width: 100, height: 100 }])).toMatchObject({ width: 100, height: 50 });
    expect(await run(source, [{ op: 'preview', width: 400, height: 400 }])).toMatchObject({ width: 200, height: 100 });
  });

  it('resize: one side proportional, two sides exact, stretch off and fill', async () => {
    const source = await quadrantsPng(200, 100);
    expect(await run(source, [resize(100, null)])).toMatchObject({ width: 100, height: 50 });
    expect(await run(source, [resize(null, 50)])).toMatchObject({ width: 100, height: 50 });
    expect(await run(source, [resize(60, 60)])).toMatchObject({ width: 60, height: 60 });
    expect(await run(source, [resize(400, null, 'off')])).toMatchObject({ width: 200, height: 100 });
    const filled = await run(source, [resize(400, null, 'fill')]);
    expect(filled).toMatchObject({ width: 400, height: 200 });
    const image = await pixels(filled.data);
    expect(image.at(5, 5)).toEqual([255, 0, 255]);
    expect(image.at(110, 60)).toEqual(RED);
    expect(image.at(290, 140)).toEqual(YELLOW);
  });

  it('smart_resize contains the image and fills the box', async () => {
    const result = await run(await quadrantsPng(200, 100), [{ op: 'smart_resize', width: 100, height: 100, background: MAGENTA }]);
    expect(result).toMatchObject({ width: 100, height: 100 });
    const image = await pixels(result.data);
    expect(image.at(50, 5)).toEqual([255, 0, 255]);
    expect(image.at(10, 30)).toEqual(RED);
    expect(image.at(90, 70)).toEqual(YELLOW);
  });

  it('scale_crop covers the box and crops by alignment, focal point or attention', async () => {
    const source = await quadrantsPng(200, 100);
    const scaleCrop = (placement: Extract<Operation, { op: 'scale_crop' }>['placement']): Operation => ({
      op: 'scale_crop',
      width: 100,
      height: 100,
      placement,
      upscale: 'on',
      background: MAGENTA,
    });
    const centred = await pixels((await run(source, [scaleCrop(centre)])).data);
    expect([centred.width, centred.height]).toEqual([100, 100]);
    expect(centred.at(10, 10)).toEqual(RED);
    expect(centred.at(90, 10)).toEqual(GREEN);
    const left = await pixels((await run(source, [scaleCrop({ type: 'align', x: 'left', y: 'top' })])).data);
    expect(left.at(90, 10)).toEqual(RED);
    const focal = await pixels((await run(source, [scaleCrop({ type: 'point', x: px(180), y: percent(50) })])).data);
    expect(focal.at(10, 10)).toEqual(GREEN);
    expect(focal.at(10, 90)).toEqual(YELLOW);
    const smart = await run(source, [scaleCrop({ type: 'smart', mode: 'smart_faces' })]);
    expect(smart).toMatchObject({ width: 100, height: 100 });
  });

  it('crop by point, by alignment and percent, and larger than the image (filled)', async () => {
    const source = await quadrantsPng(200, 100);
    const crop = (width: Length, height: Length, placement: Extract<Operation, { op: 'crop' }>['placement']): Operation => ({
      op: 'crop',
      width,
      height,
      placement,
      background: MAGENTA,
    });
    const atPoint = await run(source, [crop(px(50), px(50), { type: 'point', x: px(150), y: px(0) })]);
    expect(atPoint).toMatchObject({ width: 50, height: 50 });
    expect((await pixels(atPoint.data)).at(25, 25)).toEqual(GREEN);
    // A region that would run off the image is moved back inside.
    const clamped = await pixels((await run(source, [crop(px(50), px(50), { type: 'point', x: px(190), y: px(90) })])).data);
    expect([clamped.width, clamped.height]).toEqual([50, 50]);
    expect(clamped.at(40, 40)).toEqual(YELLOW);
    const half = await pixels((await run(source, [crop(percent(50), percent(50), { type: 'align', x: 'right', y: 'bottom' })])).data);
    expect([half.width, half.height]).toEqual([100, 50]);
    expect(half.at(50, 25)).toEqual(YELLOW);
    const larger = await pixels((await run(source, [crop(px(300), px(100), centre)])).data);
    expect([larger.width, larger.height]).toEqual([300, 100]);
    expect(larger.at(10, 50)).toEqual([255, 0, 255]);
    expect(larger.at(60, 10)).toEqual(RED);
  });

  it('crop_ratio takes the largest region of the ratio', async () => {
    const result = await run(await quadrantsPng(200, 100), [{ op: 'crop_ratio', ratioWidth: 1, ratioHeight: 1, placement: { type: 'align', x: 'right', y: 'center' } }]);
    expect(result).toMatchObject({ width: 100, height: 100 });
    const image = await pixels(result.data);
    expect(image.at(50, 10)).toEqual(GREEN);
    expect(image.at(50, 90)).toEqual(YELLOW);
  });

  it('rotate, flip and mirror', async () => {
    const source = await quadrantsPng(200, 100);
    const rotated = await pixels((await run(source, [{ op: 'rotate', quarterTurns: 1 }])).data);
    expect([rotated.width, rotated.height]).toEqual([100, 200]);
    expect(rotated.at(10, 10)).toEqual(BLUE);
    expect(rotated.at(90, 10)).toEqual(RED);
    const flipped = await pixels((await run(source, [{ op: 'flip' }])).data);
    expect(flipped.at(10, 10)).toEqual(BLUE);
    const mirrored = await pixels((await run(source, [{ op: 'mirror' }])).data);
    expect(mirrored.at(10, 10)).toEqual(GREEN);
    // Combinations must equal sharp's flop/flip/rotate applied one pipeline at a time, in order
    // (within one pipeline sharp would reorder them).
    const reference = async (steps: ((image: Sharp) => Sharp)[]): Promise<Buffer> => {
      let image = source;
      for (const step of steps) image = await step(sharp(image)).png().toBuffer();
      return image;
    };
    const combinations: [Operation[], ((image: Sharp) => Sharp)[]][] = [
      [[{ op: 'mirror' }, { op: 'rotate', quarterTurns: 3 }], [(image) => image.flop(), (image) => image.rotate(270)]],
      [[{ op: 'rotate', quarterTurns: 1 }, { op: 'flip' }], [(image) => image.rotate(90), (image) => image.flip()]],
      [
        [{ op: 'flip' }, { op: 'rotate', quarterTurns: 1 }, { op: 'mirror' }],
        [(image) => image.flip(), (image) => image.rotate(90), (image) => image.flop()],
      ],
    ];
    for (const [operations, steps] of combinations) {
      const ours = await pixels((await run(source, operations)).data);
      const theirs = await pixels(await reference(steps));
      expect([ours.width, ours.height]).toEqual([theirs.width, theirs.height]);
      for (const [x, y] of [[10, 10], [ours.width - 10, 10], [10, ours.height - 10], [ours.width - 10, ours.height - 10]] as const) {
        expect(ours.at(x, y)).toEqual(theirs.at(x, y));
      }
    }
  });

  it('rotation before a resize and crops combine correctly in one pass', async () => {
    const source = await quadrantsPng(200, 100);
    const result = await run(source, [
      { op: 'rotate', quarterTurns: 1 },
      { op: 'crop', width: px(100), height: px(100), placement: { type: 'align', x: 'center', y: 'top' }, background: MAGENTA },
      resize(50, null),
      { op: 'mirror' },
    ]);
    expect(result).toMatchObject({ width: 50, height: 50 });
    const image = await pixels(result.data);
    // rotated: blue|red on top; mirrored: red|blue.
    expect(image.at(10, 25)).toEqual(RED);
    expect(image.at(40, 25)).toEqual(BLUE);
  });
});

describe('colour and effects', () => {
  const grey = (level: number) => solidPng(40, 30, [level, level, level]);

  it('grayscale encodes one channel; invert keeps alpha', async () => {
    const result = await run(await quadrantsPng(40, 30), [{ op: 'grayscale' }], 'jpeg');
    const meta = await sharp(result.data).metadata();
    expect(meta.channels).toBe(1);
    const inverted = await pixels((await run(await solidPng(10, 10, RED, 0.5), [{ op: 'invert' }])).data);
    expect(near(inverted.at(5, 5), [0, 255, 255, 128], 1)).toBe(true);
  });

  it('blur mixes across edges; a strong blur flattens the image', async () => {
    const source = await quadrantsPng(200, 100);
    const blurred = await pixels((await run(source, [{ op: 'blur', strength: 40 }])).data);
    const edge = blurred.at(100, 25);
    expect(edge[0]).toBeGreaterThan(60);
    expect(edge[1]).toBeGreaterThan(60);
    expect(blurred.at(20, 20)).toEqual(RED);
    // σ = 500 on a 200 px image: every pixel is close to the overall mean (edges are replicated, so
    // not exactly equal), and nothing of the pure quadrant colours is left.
    const flattened = await pixels((await run(source, [{ op: 'blur', strength: 5000 }])).data);
    expect(near(flattened.at(0, 0), flattened.at(199, 99), 40)).toBe(true);
    expect(near(flattened.at(0, 0), [128, 128, 64], 40)).toBe(true);
  });

  it('unsharp amount blends the blur; blur_region blurs only its region', async () => {
    const source = await quadrantsPng(200, 100);
    const half = await pixels((await run(source, [{ op: 'unsharp', strength: 40, amount: 50 }])).data);
    expect(half.at(99, 25)[1]).toBeGreaterThan(10);
    expect(half.at(99, 25)[1]).toBeLessThan(120);
    const region = await pixels(
      (await run(source, [{ op: 'blur_region', width: px(40), height: px(100), x: px(80), y: px(0), strength: 100 }])).data,
    );
    expect(region.at(99, 25)[1]).toBeGreaterThan(50);
    expect(region.at(20, 25)).toEqual(RED);
    expect(region.at(180, 75)).toEqual(YELLOW);
  });

  it('sharpen and enhance', async () => {
    const sharpened = await run(await quadrantsPng(60, 40), [{ op: 'sharpen', strength: 10 }], 'png');
    expect(sharpened).toMatchObject({ width: 60, height: 40 });
    // A dull image (levels 100–150) is stretched towards the full range.
    const dull = await sharp({ create: { width: 60, height: 40, channels: 3, background: '#646464' } })
      .composite([{ input: { create: { width: 30, height: 40, channels: 3, background: '#969696' } }, left: 30, top: 0 }])
      .png()
      .toBuffer();
    const enhanced = await pixels((await run(dull, [{ op: 'enhance', strength: 100 }])).data);
    expect(enhanced.at(5, 5)[0]).toBeLessThan(40);
    expect(enhanced.at(55, 5)[0]).toBeGreaterThan(215);
  });

  it('brightness, contrast, exposure, saturation, vibrance and warmth', async () => {
    const at = async (source: Buffer, operations: Operation[]) => (await pixels((await run(source, operations)).data)).at(5, 5);
    expect(near(await at(await grey(100), [{ op: 'brightness', value: 50 }]), [228, 228, 228], 2)).toBe(true);
    expect(near(await at(await grey(40), [{ op: 'contrast', value: -100 }]), [128, 128, 128], 1)).toBe(true);
    expect(near(await at(await grey(128), [{ op: 'exposure', value: 100 }]), [181, 181, 181], 2)).toBe(true);
    const desaturated = await at(await solidPng(10, 10, [200, 60, 60]), [{ op: 'saturation', value: -100 }]);
    expect(Math.max(...desaturated) - Math.min(...desaturated)).toBeLessThanOrEqual(2);
    const vivid = await at(await solidPng(10, 10, [140, 120, 120]), [{ op: 'vibrance', value: 100 }]);
    expect(vivid[0]! - vivid[1]!).toBeGreaterThan(30);
    expect(await at(await grey(128), [{ op: 'vibrance', value: 100 }])).toEqual([128, 128, 128]);
    const warm = await at(await grey(128), [{ op: 'warmth', value: 100 }]);
    expect(warm[0]).toBeGreaterThan(warm[2]! + 40);
  });

  it('grayscale then a coloured padding keeps the padding colour', async () => {
    const result = await pixels(
      (await run(await quadrantsPng(100, 50), [{ op: 'grayscale' }, { op: 'smart_resize', width: 100, height: 100, background: MAGENTA }])).data,
    );
    expect(result.at(50, 5)).toEqual([255, 0, 255]);
    const inside = result.at(10, 40);
    expect(inside[0]).toBe(inside[2]);
  });

  it('border_radius: transparent corners with alpha, background corners without', async () => {
    const source = await solidPng(100, 100, BLUE);
    const radius: Operation = { op: 'border_radius', radii: [percent(50), percent(50), px(0), px(0)], background: TRANSPARENT };
    const png = await pixels((await run(source, [radius])).data);
    expect(png.channels).toBe(4);
    expect(png.at(2, 2)[3]).toBe(0);
    expect(png.at(50, 50)).toEqual([0, 0, 255, 255]);
    expect(png.at(98, 98)).toEqual([0, 0, 255, 255]);
    const jpeg = await pixels((await run(source, [radius], 'jpeg', { background: { r: 255, g: 0, b: 0, alpha: 255 } })).data);
    expect(jpeg.channels).toBe(3);
    expect(near(jpeg.at(2, 2), RED)).toBe(true);
    expect(near(jpeg.at(50, 50), BLUE)).toBe(true);
  });

  it('overlay: sized relative to the image, placed, with opacity', async () => {
    const base = await solidPng(100, 100, BLUE);
    const mark = await solidPng(10, 10, RED);
    const overlays = new Map([['mark-uuid', mark]]);
    const overlay = (opacity: number, placement: Extract<Operation, { op: 'overlay' }>['placement']): Operation => ({
      op: 'overlay',
      source: 'mark-uuid',
      width: percent(50),
      height: percent(50),
      placement,
      opacity,
    });
    const opaque = await pixels((await run(base, [overlay(100, centre)], 'png', {}, { overlays })).data);
    expect(opaque.at(50, 50)).toEqual(RED);
    expect(opaque.at(20, 20)).toEqual(BLUE);
    expect(opaque.at(26, 26)).toEqual(RED);
    const faint = await pixels((await run(base, [overlay(50, { type: 'align', x: 'right', y: 'bottom' })], 'png', {}, { overlays })).data);
    expect(near(faint.at(90, 90), [128, 0, 127], 2)).toBe(true);
    // Hanging off the edge: only the overlapping part is drawn.
    const edge = await pixels((await run(base, [overlay(100, { type: 'point', x: percent(80), y: percent(80) })], 'png', {}, { overlays })).data);
    expect(edge.at(95, 95)).toEqual(RED);
    const self = await run(base, [{ op: 'overlay', source: 'self', width: percent(10), height: null, placement: centre, opacity: 100 }]);
    expect(self).toMatchObject({ width: 100, height: 100 });
  });
});

describe('colour management and output', () => {
  it('applies EXIF orientation unless autorotate is off', async () => {
    const jpeg = await sharp(await quadrantsPng(200, 100)).withMetadata({ orientation: 6 }).jpeg({ quality: 95 }).toBuffer();
    const upright = await pixels((await run(jpeg, [], 'png')).data);
    expect([upright.width, upright.height]).toEqual([100, 200]);
    expect(near(upright.at(10, 10), BLUE)).toBe(true);
    const resized = await run(jpeg, [resize(50, null)], 'jpeg');
    expect(resized).toMatchObject({ width: 50, height: 100 });
    expect((await sharp(resized.data).metadata()).orientation).toBeUndefined();
    const asStored = await pixels((await run(jpeg, [], 'png', { autorotate: false })).data);
    expect([asStored.width, asStored.height]).toEqual([200, 100]);
    expect(near(asStored.at(10, 10), RED)).toBe(true);
  });

  it('every EXIF orientation combines correctly with rotations, crops and resizes', async () => {
    const upright = await quadrantsPng(120, 60);
    const reference = await pixels(upright);
    // For each orientation, find the stored image that sharp's own autorotation turns upright.
    const storedFor = async (orientation: number): Promise<Buffer> => {
      const candidates: ((image: Sharp) => Sharp)[] = [
        (i) => i,
        (i) => i.flop(),
        (i) => i.rotate(90),
        (i) => i.rotate(180),
        (i) => i.rotate(270),
        (i) => i.flip(),
        (i) => i.rotate(90).flop(),
        (i) => i.rotate(270).flop(),
      ];
      for (const candidate of candidates) {
        const stored = await sharp(await candidate(sharp(upright)).png().toBuffer()).withMetadata({ orientation }).jpeg({ quality: 98 }).toBuffer();
        const check = await pixels(await sharp(stored).autoOrient().png().toBuffer());
        if (check.width === 120 && [[5, 5], [114, 5], [5, 54]].every(([x, y]) => near(check.at(x!, y!), reference.at(x!, y!), 24))) return stored;
      }
      throw new Error(`no stored image for orientation ${orientation}`);
    };
    const plans: Operation[][] = [
      [{ op: 'rotate', quarterTurns: 1 }, resize(40, null)],
      [resize(60, null), { op: 'rotate', quarterTurns: 3 }, { op: 'crop', width: percent(50), height: percent(50), placement: { type: 'align', x: 'right', y: 'top' }, background: MAGENTA }],
      [{ op: 'crop', width: px(50), height: px(40), placement: { type: 'point', x: px(10), y: px(10) }, background: MAGENTA }, { op: 'mirror' }],
      [{ op: 'flip' }, { op: 'scale_crop', width: 30, height: 30, placement: { type: 'align', x: 'left', y: 'bottom' }, upscale: 'on', background: MAGENTA }],
    ];
    for (let orientation = 1; orientation <= 8; orientation += 1) {
      const stored = await storedFor(orientation);
      for (const operations of plans) {
        const ours = await pixels((await run(stored, operations)).data);
        const expected = await pixels((await run(upright, operations)).data);
        expect([ours.width, ours.height]).toEqual([expected.width, expected.height]);
        for (const [fx, fy] of [[0.15, 0.15], [0.85, 0.15], [0.15, 0.85], [0.85, 0.85]] as const) {
          const x = Math.floor(fx * expected.width);
          const y = Math.floor(fy * expected.height);
          expect(near(ours.at(x, y), expected.at(x, y), 40), `orientation ${orientation}, ${operations.map((o) => o.op).join('+')} at ${x},${y}`).toBe(true);
        }
      }
    }
  });

  it('converts CMYK to sRGB and 16-bit to 8-bit', async () => {
    const cmyk = await run(await makeCmykJpeg(40, 30), [], 'jpeg');
    const meta = await sharp(cmyk.data).metadata();
    expect(meta.space).toBe('srgb');
    expect(meta.channels).toBe(3);
    expect(near((await pixels(cmyk.data)).at(20, 15), [200, 42, 90], 20)).toBe(true);
    const sixteen = await sharp(await quadrantsPng(20, 10)).toColourspace('rgb16').png().toBuffer();
    expect((await sharp(sixteen).metadata()).depth).toBe('ushort');
    expect((await sharp((await run(sixteen, [], 'png')).data).metadata()).depth).toBe('uchar');
  });

  it('grey sources stay one channel, and still take coloured padding and backgrounds', async () => {
    const grey = await makeGreyPng(40, 30);
    expect((await sharp((await run(grey, [resize(20, null)], 'jpeg')).data).metadata()).channels).toBe(1);
    const padded = await pixels((await run(grey, [{ op: 'smart_resize', width: 40, height: 60, background: MAGENTA }])).data);
    expect(padded.at(1, 1)).toEqual([255, 0, 255]);
    const flattened = await pixels((await run(await makeGreyAlphaPng(40, 30), [], 'jpeg', { background: { r: 255, g: 0, b: 0, alpha: 255 } })).data);
    expect(flattened.at(5, 5)[0]! - flattened.at(5, 5)[1]!).toBeGreaterThan(80);
  });

  it('flattens transparency onto the background for JPEG', async () => {
    const source = await makePngWithAlpha(20, 20); // rgb(200, 40, 90) at 50 %
    const white = await pixels((await run(source, [], 'jpeg')).data);
    expect(near(white.at(10, 10), [228, 148, 173], 6)).toBe(true);
    const onBlack = await pixels((await run(source, [resize(10, null)], 'jpeg', { background: { r: 0, g: 0, b: 0, alpha: 255 } })).data);
    expect(near(onBlack.at(5, 5), [100, 20, 45], 6)).toBe(true);
    // Colour operations change the image, not the fill colour.
    const inverted = await pixels((await run(source, [{ op: 'invert' }], 'jpeg')).data);
    expect(near(inverted.at(10, 10), [155, 235, 210], 6)).toBe(true);
  });

  it('strip_meta: sensitive drops EXIF and GPS but keeps a colour profile; all drops both; none keeps EXIF', async () => {
    const source = await sharp(await quadrantsPng(40, 30))
      .withIccProfile('p3')
      .withExif({ IFD0: { Copyright: 'Someone' }, IFD3: { GPSLatitudeRef: 'N', GPSLatitude: '52/1 22/1 0/1', GPSLongitudeRef: 'E', GPSLongitude: '4/1 53/1 0/1' } })
      .jpeg()
      .toBuffer();
    expect((await sharp(source).metadata()).exif).toBeDefined();
    const sensitive = await sharp((await run(source, [resize(20, null)], 'jpeg')).data).metadata();
    expect(sensitive.exif).toBeUndefined();
    expect(sensitive.icc).toBeDefined();
    const all = await sharp((await run(source, [resize(20, null)], 'jpeg', { stripMeta: 'all' })).data).metadata();
    expect(all.exif).toBeUndefined();
    expect(all.icc).toBeUndefined();
    const none = await sharp((await run(source, [resize(20, null)], 'jpeg', { stripMeta: 'none' })).data).metadata();
    expect(none.exif).toBeDefined();
    expect(exifReader(none.exif!).GPSInfo?.GPSLatitudeRef).toBe('N');
    expect(none.icc).toBeDefined();
  });

  it('keeps an sRGB source profile as it is, and converts wide-gamut pixels to sRGB', async () => {
    const srgbTagged = await sharp(await quadrantsPng(40, 30)).withIccProfile('srgb').jpeg({ quality: 95 }).toBuffer();
    const kept = await sharp((await run(srgbTagged, [resize(20, null)], 'jpeg')).data).metadata();
    expect(kept.icc).toBeDefined();
    // sRGB red stored as Display P3 values (≈ 234, 51, 35) with a P3 profile: read without
    // conversion it would be that orange-red; converted it is sRGB red again.
    const p3Red = await sharp({ create: { width: 10, height: 10, channels: 3, background: '#ff0000' } }).withIccProfile('p3').png().toBuffer();
    const converted = await pixels((await run(p3Red, [], 'png', { stripMeta: 'all' })).data);
    expect(near(converted.at(5, 5), RED, 8)).toBe(true);
  });

  it('encodes every output format', async () => {
    const source = await quadrantsPng(60, 40);
    for (const format of ['jpeg', 'png', 'webp', 'avif', 'gif'] as const) {
      const result = await run(source, [resize(30, null)], format);
      expect(result).toMatchObject({ format, width: 30, height: 20 });
      const meta = await sharp(result.data).metadata();
      expect(meta.format === 'heif' ? 'avif' : meta.format).toBe(format);
      expect(result.contentType).toBe(`image/${format}`);
    }
    const progressive = await run(source, [], 'jpeg', { progressive: true });
    expect((await sharp(progressive.data).metadata()).isProgressive).toBe(true);
  });

  it('quality presets change the encoder quality; smart depends on content', async () => {
    const photo = await noisyJpeg(300, 200);
    const lightest = await run(photo, [], 'jpeg', { quality: 'lightest' });
    const best = await run(photo, [], 'jpeg', { quality: 'best' });
    expect(best.data.length).toBeGreaterThan(lightest.data.length * 1.5);
    expect(jpegLumaDcDivisor(lightest.data)).toBe(16);
    const flat = await run(await quadrantsPng(300, 200), [], 'jpeg', { quality: 'smart' });
    const busy = await run(photo, [], 'jpeg', { quality: 'smart' });
    const busyRetina = await run(photo, [], 'jpeg', { quality: 'smart_retina' });
    // Smaller divisor = higher quality: flat graphics get more than noisy photos, retina less still.
    expect(jpegLumaDcDivisor(flat.data)).toBeLessThan(jpegLumaDcDivisor(busy.data));
    expect(jpegLumaDcDivisor(busy.data)).toBeLessThan(jpegLumaDcDivisor(busyRetina.data));
  });
});

describe('animation', () => {
  it('keeps every frame through geometry into WebP and GIF', async () => {
    const gif = await makeAnimatedGif({ frames: 3, width: 20, height: 10 });
    const webp = await run(gif, [resize(10, null)], 'webp');
    expect(webp).toMatchObject({ width: 10, height: 5 });
    const meta = await sharp(webp.data, { animated: true }).metadata();
    expect(meta.pages).toBe(3);
    expect(meta.pageHeight).toBe(5);
    const rotated = await run(gif, [{ op: 'rotate', quarterTurns: 1 }, { op: 'flip' }], 'gif');
    expect(rotated).toMatchObject({ width: 10, height: 20 });
    const frames = await pixels(rotated.data, { animated: true });
    expect(frames.height).toBe(60);
    // Frame order survives (red, green, blue), each frame turned on its own.
    expect(near(frames.at(5, 10), [255, 0, 0], 30)).toBe(true);
    expect(near(frames.at(5, 30), [0, 255, 0], 30)).toBe(true);
    expect(near(frames.at(5, 50), [0, 0, 255], 30)).toBe(true);
  });

  it('answers a still for still formats', async () => {
    const gif = await makeAnimatedGif({ frames: 3, width: 20, height: 10 });
    const png = await run(gif, [], 'png');
    expect(png).toMatchObject({ width: 20, height: 10 });
    expect((await sharp(png.data).metadata()).pages).toBeUndefined();
  });
});

describe('describe', () => {
  it('json describes the transformed image without decoding it', async () => {
    const source = await sharp(await quadrantsPng(200, 100)).withMetadata({ orientation: 6, density: 144 }).jpeg().toBuffer();
    const info = await engine.describe(source, plan([{ op: 'preview', width: 50, height: 50 }], { format: 'webp' }), { kind: 'json' }, LIMITS);
    expect(info).toMatchObject({ width: 25, height: 50, format: 'WEBP', color_mode: 'RGB', orientation: 1, dpi: [144, 144], sequence: false });
    const gif = await makeAnimatedGif();
    expect(await engine.describe(gif, plan([]), { kind: 'json' }, LIMITS)).toMatchObject({ format: 'GIF', sequence: true, color_mode: 'RGBA' });
    await expectCode(engine.describe(pngHeaderOnly(100_000, 100_000), plan([]), { kind: 'json' }, LIMITS), 'SOURCE_TOO_LARGE');
  });

  it('main_colors lists dominant colours, most common first', async () => {
    const source = await sharp({ create: { width: 80, height: 40, channels: 3, background: '#ff0000' } })
      .composite([{ input: { create: { width: 20, height: 40, channels: 3, background: '#0000ff' } }, left: 60, top: 0 }])
      .png()
      .toBuffer();
    const colours = await engine.describe(source, plan([]), { kind: 'main_colors', count: 2 }, LIMITS);
    const list = colours.main_colors as number[][];
    expect(list).toHaveLength(2);
    expect(near(list[0]!, RED, 8)).toBe(true);
    expect(near(list[1]!, BLUE, 8)).toBe(true);
    // Describes the transformed image: after cropping the red part away, blue dominates.
    const cropped = await engine.describe(
      source,
      plan([{ op: 'crop', width: px(30), height: px(40), placement: { type: 'align', x: 'right', y: 'top' }, background: DEFAULT_BACKGROUND }]),
      { kind: 'main_colors', count: 2 },
      LIMITS,
    );
    expect(cropped.main_colors).toEqual([BLUE, RED]);
  });

  it('main_colors takes the counts the URL parser takes, one shared maximum', async () => {
    const source = await noisyJpeg(120, 80);
    const most = await engine.describe(source, plan([]), { kind: 'main_colors', count: MAX_MAIN_COLORS }, LIMITS);
    expect((most.main_colors as number[][]).length).toBeLessThanOrEqual(MAX_MAIN_COLORS);
    expect(parseUploadcarePath(`-/main_colors/${MAX_MAIN_COLORS}/`, loadConfig({}).transform).plan.info).toEqual({ kind: 'main_colors', count: MAX_MAIN_COLORS });
    for (const count of [MAX_MAIN_COLORS + 1, 0, 2.5]) {
      const error = await expectCode(engine.describe(source, plan([]), { kind: 'main_colors', count }, LIMITS), 'INVALID_OPERATION');
      expect(error.message).toBe(`main_colors: ${count} colours asked for; from 1 to ${MAX_MAIN_COLORS} can be listed`);
    }
    expect(() => parseUploadcarePath(`-/main_colors/${MAX_MAIN_COLORS + 1}/`, loadConfig({}).transform)).toThrow(`use 1 to ${MAX_MAIN_COLORS}`);
  });
});

// Keep the quadrants generator exercised directly too (a regression in it would mislead every test).
it('quadrants fixture has the documented layout', async () => {
  const image = await pixels(await quadrants(20, 10).png().toBuffer());
  expect([image.at(1, 1), image.at(18, 1), image.at(1, 8), image.at(18, 8)]).toEqual([RED, GREEN, BLUE, YELLOW]);
});
