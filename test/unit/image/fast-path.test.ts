/**
 * Counts the sharp instances the engine creates: the fast path must be one header read plus one
 * pipeline from the source to the encoded bytes — no intermediate buffers.
 */
import type * as SharpModule from 'sharp';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import type { Operation } from '../../../src/domain/transform/operations.js';

const opened: { input: unknown }[] = [];

vi.mock('sharp', async (importOriginal) => {
  const actual = await importOriginal<typeof SharpModule>();
  const real = actual.default;
  const counting = ((...args: Parameters<typeof real>) => {
    opened.push({ input: args[0] });
    return real(...args);
  }) as typeof real;
  Object.assign(counting, real);
  return { ...actual, default: counting };
});

const { default: sharp } = await import('sharp');
const { SharpImageEngine } = await import('../../../src/adapters/image/sharp.engine.js');
const { DEFAULT_OUTPUT } = await import('../../../src/domain/transform/operations.js');

const engine = new SharpImageEngine();
const limits = { maxSourcePixels: 50_000_000, maxOutputDimension: 5000, maxAnimationPixels: 50_000_000, timeoutMs: 15_000 };

/** `reuse`: transform the very buffer given (its header was read before); otherwise a copy of it. */
async function pipelinesFor(source: Buffer, operations: Operation[], quality: 'normal' | 'smart' = 'normal', reuse = false): Promise<number> {
  const input = reuse ? source : Buffer.from(source);
  opened.length = 0;
  await engine.transform(input, { operations, output: { ...DEFAULT_OUTPUT, quality }, info: null }, { format: 'jpeg', overlays: new Map(), limits });
  return opened.length;
}

describe('fast path', () => {
  let source: Buffer;
  beforeEach(async () => {
    source = await sharp({ create: { width: 640, height: 480, channels: 3, background: '#3a7' } }).jpeg().toBuffer();
  });

  it('resize + format + quality is one pipeline after the header read', async () => {
    const resize: Operation = { op: 'resize', width: 320, height: null, upscale: 'on', background: DEFAULT_OUTPUT.background };
    expect(await pipelinesFor(source, [resize])).toBe(2);
    expect(opened.every(({ input }) => Buffer.isBuffer(input) && input.equals(source))).toBe(true);
  });

  it('a source buffer whose header was read (probe, an earlier size) is only opened for its pipeline', async () => {
    const resize: Operation = { op: 'resize', width: 320, height: null, upscale: 'on', background: DEFAULT_OUTPUT.background };
    await engine.probe(source, limits);
    expect(await pipelinesFor(source, [resize], 'normal', true)).toBe(1);
    expect(await pipelinesFor(source, [{ ...resize, width: 300 }], 'normal', true)).toBe(1);
  });

  it('geometry followed by effects stays one pipeline', async () => {
    const operations: Operation[] = [
      { op: 'rotate', quarterTurns: 1 },
      { op: 'scale_crop', width: 200, height: 200, placement: { type: 'align', x: 'center', y: 'top' }, upscale: 'on', background: DEFAULT_OUTPUT.background },
      { op: 'blur', strength: 15 },
      { op: 'sharpen', strength: 5 },
      { op: 'saturation', value: 20 },
      { op: 'contrast', value: 10 },
    ];
    expect(await pipelinesFor(source, operations)).toBe(2);
  });

  it('materialises only where sharp cannot continue, and for smart quality', async () => {
    const resize: Operation = { op: 'resize', width: 320, height: null, upscale: 'on', background: DEFAULT_OUTPUT.background };
    // exposure is a pixel pass: source → raw, pass, raw → encoded.
    expect(await pipelinesFor(source, [resize, { op: 'exposure', value: 50 }])).toBe(3);
    expect(await pipelinesFor(source, [resize], 'smart')).toBe(3);
  });
});
