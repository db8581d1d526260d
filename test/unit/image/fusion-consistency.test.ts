/**
 * Fusing operations into one sharp pipeline must not change what they do: each plan here is run
 * fused (as the engine plans it) and stage by stage (one primitive per sharp pipeline, every
 * intermediate materialised), and the two results must agree up to resampling noise.
 */
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { Deadline } from '../../../src/adapters/image/deadline.js';
import { applyOutputColour } from '../../../src/adapters/image/encoders.js';
import type { Size } from '../../../src/adapters/image/geometry.js';
import { lowerOperations } from '../../../src/adapters/image/operation-lowering.js';
import { planSteps, type Step } from '../../../src/adapters/image/pipeline-planner.js';
import { sizeAfter } from '../../../src/adapters/image/primitives.js';
import { StageRunner } from '../../../src/adapters/image/stage-runner.js';
import type { Operation, Rgba } from '../../../src/domain/transform/operations.js';
import { quadrantsPng } from '../../helpers/image-fixtures.js';

const MAGENTA: Rgba = { r: 255, g: 0, b: 255, alpha: 255 };
const start: Size = { width: 160, height: 100 };
const percent = (value: number) => ({ unit: 'percent', value }) as const;

async function render(source: Buffer, steps: Step[], size: Size, opaque: boolean): Promise<Buffer> {
  const runner = new StageRunner({ source, sourceOptions: { failOn: 'error' }, sourceSize: start, pages: 1, deadline: new Deadline(20_000), maxSourcePixels: 1e8 });
  const { pipeline } = await runner.prepareFinal(steps);
  return (await runner.materialise(applyOutputColour(pipeline, false, opaque), size)).data;
}

async function meanDifference(operations: Operation[]): Promise<{ difference: number; fused: number; staged: number }> {
  const source = await quadrantsPng(start.width, start.height);
  const lowered = lowerOperations(operations, {
    sourceSize: start,
    sourceHasAlpha: false,
    animated: false,
    outputHasAlpha: true,
    outputBackground: MAGENTA,
    overlays: new Map([['self', { data: source, size: start }]]),
    missingOverlay: 'error',
  });
  const fused = planSteps(lowered.primitives, start, false);
  const staged: Step[] = [];
  let size = start;
  for (const primitive of lowered.primitives) {
    staged.push(...planSteps([primitive], size, false));
    size = sizeAfter(primitive, size);
  }
  const [a, b] = await Promise.all([render(source, fused, lowered.size, lowered.opaque), render(source, staged, lowered.size, lowered.opaque)]);
  let total = 0;
  for (let index = 0; index < a.length; index += 1) total += Math.abs(a[index]! - b[index]!);
  return { difference: total / a.length, fused: fused.length, staged: staged.length };
}

const PLANS: Record<string, Operation[]> = {
  'warmth then invert (recomb leaves floats)': [{ op: 'warmth', value: 80 }, { op: 'invert' }],
  'invert then grayscale (non-linear luminance)': [{ op: 'invert' }, { op: 'grayscale' }, { op: 'rotate', quarterTurns: 1 }],
  'grayscale then warmth (one-channel pipeline)': [{ op: 'grayscale' }, { op: 'mirror' }, { op: 'warmth', value: 60 }],
  'brightness up then down (clipping in between)': [{ op: 'brightness', value: 50 }, { op: 'brightness', value: -50 }],
  'shrink then enlarge (the blur is wanted)': [{ op: 'preview', width: 20, height: 20 }, { op: 'resize', width: 160, height: null, upscale: 'on', background: MAGENTA }],
  'rotations around crops and resizes': [
    { op: 'flip' },
    { op: 'crop', width: percent(70), height: percent(80), placement: { type: 'align', x: 'right', y: 'top' }, background: MAGENTA },
    { op: 'rotate', quarterTurns: 3 },
    { op: 'resize', width: 50, height: null, upscale: 'on', background: MAGENTA },
    { op: 'mirror' },
    { op: 'smart_resize', width: 80, height: 80, background: MAGENTA },
  ],
  'effects, overlay and rounded corners': [
    { op: 'scale_crop', width: 90, height: 90, placement: { type: 'point', x: percent(80), y: percent(30) }, upscale: 'on', background: MAGENTA },
    { op: 'blur', strength: 20 },
    { op: 'sharpen', strength: 10 },
    { op: 'saturation', value: 60 },
    { op: 'overlay', source: 'self', width: percent(40), height: null, placement: { type: 'align', x: 'right', y: 'bottom' }, opacity: 70 },
    { op: 'contrast', value: -30 },
    { op: 'border_radius', radii: [percent(20), percent(20), percent(20), percent(20)], background: MAGENTA },
    { op: 'invert' },
  ],
};

describe('fused pipelines behave like one operation at a time', () => {
  for (const [name, operations] of Object.entries(PLANS)) {
    it(name, async () => {
      const { difference, fused, staged } = await meanDifference(operations);
      expect(fused).toBeLessThanOrEqual(staged);
      expect(difference).toBeLessThan(4);
    });
  }

  it('sanity: the check notices a real difference', async () => {
    const source = await quadrantsPng(start.width, start.height);
    const inverted = await sharp(source).negate().raw().toBuffer();
    const original = await sharp(source).raw().toBuffer();
    let total = 0;
    for (let index = 0; index < original.length; index += 1) total += Math.abs(original[index]! - inverted[index]!);
    expect(total / original.length).toBeGreaterThan(4);
  });
});
