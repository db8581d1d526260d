import { describe, expect, it } from 'vitest';
import { DEFAULT_BACKGROUND, type Operation, type Rgba } from '../../../src/domain/transform/operations.js';
import { FLIP, inverseOrientation, MIRROR, orientRegion, rotation, thenOrient, UPRIGHT } from '../../../src/adapters/image/geometry.js';
import { lowerOperations, type LoweringContext } from '../../../src/adapters/image/operation-lowering.js';
import { deferOrientations, planSteps, type SharpStage, type Step } from '../../../src/adapters/image/pipeline-planner.js';
import type { Primitive } from '../../../src/adapters/image/primitives.js';

const size = { width: 400, height: 300 };
const white: Rgba = DEFAULT_BACKGROUND;

function context(overrides: Partial<LoweringContext> = {}): LoweringContext {
  return {
    sourceSize: size,
    sourceHasAlpha: false,
    animated: false,
    outputHasAlpha: false,
    outputBackground: white,
    overlays: new Map(),
    missingOverlay: 'error',
    ...overrides,
  };
}

function plan(operations: Operation[], overrides: Partial<LoweringContext> = {}): Step[] {
  const lowered = lowerOperations(operations, context(overrides));
  return planSteps(lowered.primitives, overrides.sourceSize ?? size, overrides.animated ?? false);
}

function sharpStages(steps: Step[]): SharpStage[] {
  return steps.filter((step): step is SharpStage => step.kind === 'sharp');
}

const resize = (width: number | null, height: number | null): Operation => ({ op: 'resize', width, height, upscale: 'on', background: white });

describe('orientation algebra', () => {
  it('composes quarter turns and mirrors like the dihedral group', () => {
    expect(thenOrient(rotation(1), rotation(3))).toEqual(UPRIGHT);
    expect(thenOrient(MIRROR, MIRROR)).toEqual(UPRIGHT);
    expect(thenOrient(FLIP, FLIP)).toEqual(UPRIGHT);
    // mirror then flip = half turn
    expect(thenOrient(MIRROR, FLIP)).toEqual(rotation(2));
    for (const element of [rotation(1), rotation(3), MIRROR, FLIP, thenOrient(MIRROR, rotation(1))]) {
      expect(thenOrient(element, inverseOrientation(element))).toEqual(UPRIGHT);
    }
  });

  it('maps regions through a clockwise quarter turn', () => {
    // Top-left 10×20 block of a 100×50 image ends at the top-right of the 50×100 result.
    expect(orientRegion({ left: 0, top: 0, width: 10, height: 20 }, { width: 100, height: 50 }, rotation(1))).toEqual({
      left: 30,
      top: 0,
      width: 20,
      height: 10,
    });
    expect(orientRegion({ left: 0, top: 0, width: 10, height: 20 }, { width: 100, height: 50 }, MIRROR)).toEqual({
      left: 90,
      top: 0,
      width: 10,
      height: 20,
    });
  });

  it('moves an orientation past the extract and resize that follow it', () => {
    const primitives: Primitive[] = [
      { kind: 'orient', orientation: rotation(1) },
      { kind: 'extract', region: { left: 0, top: 0, width: 300, height: 200 } },
      { kind: 'resize', size: { width: 150, height: 100 } },
    ];
    // Turned clockwise the image is 300×400 and its top 200 rows were the left 200 columns.
    expect(deferOrientations(primitives, size)).toEqual([
      { kind: 'extract', region: { left: 0, top: 0, width: 200, height: 300 } },
      { kind: 'resize', size: { width: 100, height: 150 } },
      { kind: 'orient', orientation: rotation(1) },
    ]);
  });
});

describe('pipeline planning', () => {
  it('runs resize + format + quality as one pipeline with a single exact resize', () => {
    const steps = plan([resize(800, null)]);
    expect(steps).toHaveLength(1);
    expect(sharpStages(steps)[0]?.resize).toEqual({ kind: 'exact', size: { width: 800, height: 600 } });
  });

  it('keeps preview, scale_crop and the effects after them in one pipeline', () => {
    const steps = plan([
      { op: 'scale_crop', width: 200, height: 200, placement: { type: 'align', x: 'center', y: 'center' }, upscale: 'on', background: white },
      { op: 'blur', strength: 20 },
      { op: 'saturation', value: 50 },
      { op: 'sharpen', strength: 5 },
      { op: 'contrast', value: 20 },
      { op: 'invert' },
    ]);
    expect(steps).toHaveLength(1);
    const [stage] = sharpStages(steps);
    expect(stage?.resize).toEqual({ kind: 'exact', size: { width: 267, height: 200 } });
    expect(stage?.postExtract).toEqual({ left: 33, top: 0, width: 200, height: 200 });
    expect(stage?.linear?.multiply).toBeCloseTo(1.2);
  });

  it('composes adjustments only where no intermediate clipping is skipped', () => {
    // contrast −50 keeps every value inside 0–255, so brightness after it composes exactly.
    const merged = sharpStages(plan([{ op: 'contrast', value: -50 }, { op: 'brightness', value: 10 }]));
    expect(merged).toHaveLength(1);
    expect(merged[0]?.linear).toEqual({ multiply: 0.5, add: 63.75 * 1 + 25.5 });
    // +50 then −50 brightness must clip the highlights in between: two stages.
    expect(sharpStages(plan([{ op: 'brightness', value: 50 }, { op: 'brightness', value: -50 }]))).toHaveLength(2);
    // Colour matrices leave unclipped values behind: nothing else follows them in a stage.
    expect(sharpStages(plan([{ op: 'warmth', value: 50 }, { op: 'invert' }]))).toHaveLength(2);
    // A greyscale is non-linear: it does not join a stage that already inverted.
    expect(sharpStages(plan([{ op: 'invert' }, { op: 'grayscale' }]))).toHaveLength(2);
    expect(sharpStages(plan([{ op: 'rotate', quarterTurns: 1 }, { op: 'grayscale' }, resize(100, null)]))).toHaveLength(1);
  });

  it('does not merge a shrink with a later enlargement', () => {
    expect(sharpStages(plan([resize(40, null), resize(400, null)]))).toHaveLength(2);
    expect(sharpStages(plan([resize(800, null), resize(100, null)]))).toHaveLength(1);
  });

  it('merges consecutive resizes into one resampling', () => {
    const steps = plan([{ op: 'preview', width: 300, height: 300 }, resize(100, null)]);
    expect(steps).toHaveLength(1);
    expect(sharpStages(steps)[0]?.resize).toEqual({ kind: 'exact', size: { width: 100, height: 75 } });
  });

  it('rotates after the resize so shrink-on-load still applies', () => {
    const steps = plan([{ op: 'rotate', quarterTurns: 1 }, resize(150, null)]);
    expect(steps).toHaveLength(1);
    const [stage] = sharpStages(steps);
    expect(stage?.orientBefore).toBeNull();
    expect(stage?.resize).toEqual({ kind: 'exact', size: { width: 200, height: 150 } });
    expect(stage?.orientPost).toEqual(rotation(1));
    expect(stage?.outputSize).toEqual({ width: 150, height: 200 });
  });

  it('starts a new pipeline when sharp would run an operation too early', () => {
    // Blur runs after extend in sharp: blur → padding keeps the padding sharp, so two stages.
    const steps = plan([{ op: 'blur', strength: 20 }, { op: 'smart_resize', width: 500, height: 500, background: white }]);
    expect(sharpStages(steps)).toHaveLength(2);
    // Invert is last in sharp: invert → resize → invert again needs a second stage.
    expect(sharpStages(plan([{ op: 'invert' }, resize(100, null), { op: 'invert' }]))).toHaveLength(2);
  });

  it('materialises around passes sharp cannot express', () => {
    const steps = plan([resize(200, null), { op: 'exposure', value: 50 }, { op: 'grayscale' }]);
    expect(steps.map((step) => step.kind)).toEqual(['sharp', 'pixels', 'sharp']);
  });

  it('runs strip-unsafe operations of animations frame by frame, after the strip-safe resize', () => {
    const steps = plan([resize(100, null), { op: 'rotate', quarterTurns: 1 }], { animated: true });
    const stages = sharpStages(steps);
    expect(stages).toHaveLength(2);
    expect(stages[0]?.perFrame).toBe(false);
    expect(stages[0]?.resize?.size).toEqual({ width: 100, height: 75 });
    expect(stages[1]?.perFrame).toBe(true);
  });

  it('flattens last, after colour operations, for outputs without alpha', () => {
    const steps = plan([resize(100, null), { op: 'invert' }], { sourceHasAlpha: true });
    const stages = sharpStages(steps);
    expect(stages).toHaveLength(2);
    expect(stages[1]?.flatten).toEqual(white);
    expect(sharpStages(plan([resize(100, null)], { sourceHasAlpha: true }))[0]?.flatten).toEqual(white);
  });
});

describe('lowering', () => {
  it('computes sizes for every geometric operation before decoding', () => {
    const lowered = lowerOperations(
      [
        { op: 'crop', width: { unit: 'percent', value: 50 }, height: { unit: 'px', value: 100 }, placement: { type: 'align', x: 'right', y: 'bottom' }, background: white },
        { op: 'rotate', quarterTurns: 1 },
        { op: 'smart_resize', width: 300, height: 300, background: white },
      ],
      context(),
    );
    expect(lowered.size).toEqual({ width: 300, height: 300 });
  });

  it('pads a crop larger than the image with the background', () => {
    const lowered = lowerOperations(
      [{ op: 'crop', width: { unit: 'px', value: 500 }, height: { unit: 'px', value: 100 }, placement: { type: 'align', x: 'center', y: 'top' }, background: white }],
      context(),
    );
    expect(lowered.primitives).toEqual([
      { kind: 'extract', region: { left: 0, top: 0, width: 400, height: 100 } },
      { kind: 'extend', padding: { left: 50, right: 50, top: 0, bottom: 0 }, background: white },
    ]);
  });

  it('blends transparent backgrounds onto the output background for JPEG', () => {
    const lowered = lowerOperations(
      [{ op: 'resize', width: 800, height: null, upscale: 'fill', background: { r: 0, g: 0, b: 0, alpha: 0 } }],
      context({ outputBackground: { r: 10, g: 20, b: 30, alpha: 255 } }),
    );
    expect(lowered.primitives).toEqual([
      { kind: 'extend', padding: { left: 200, right: 200, top: 150, bottom: 150 }, background: { r: 10, g: 20, b: 30, alpha: 255 } },
    ]);
  });
});
