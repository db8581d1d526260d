/**
 * Packs primitives into as few sharp pipelines ("stages") as possible.
 *
 * Sharp runs one pipeline in a fixed internal order, whatever order its methods are called in:
 *
 *   autorotate/rotate-before → extract(pre) → flatten → greyscale → resize → rotate/flip/flop(post)
 *   → extract(post) → extend → blur → recomb → modulate → sharpen → composite → linear → negate → encode
 *
 * Fusion rules:
 * 1. Primitives join the current stage while their slot in that order comes after the last slot used
 *    (each slot once). Consecutive primitives of one slot are merged when they compose exactly:
 *    extracts (offsets add), resizes (one resampling instead of two, unless the first shrinks and the
 *    second enlarges again), extends (paddings add, same colour), blurs (σ² add), composites (layers
 *    in order), orientations (group product); recombs, saturations and linears only when the first
 *    cannot push values out of range (each operation clips, so composing would skip a clip).
 *    A saturation may follow a sharpen in the same stage: one scales chroma, the other lightness.
 * 2. Greyscale and flatten run early in sharp, so they only join a stage whose content commutes with
 *    them: greyscale (a gamma-aware, non-linear luminance) only after pure geometry with grey
 *    padding; flatten only when no colour operation precedes it. Once greyscaled, a stage stays
 *    one-channel, so nothing that adds colour (matrix, overlay, coloured padding) joins it.
 *    A colour matrix (recomb) leaves unclipped floats behind, so only another matrix follows it.
 *    A one-channel source is like a greyscaled stage for padding and flattening colours.
 * 3. An orientation goes first in a stage (sharp's rotate-before) or, if the stage so far only
 *    extracts and resizes exactly, right after the resize (post position). Before packing, orientations
 *    are moved past following extracts and resizes by transforming those instead (a crop of a rotated
 *    image is a rotated crop), so `rotate + resize` still lets libvips shrink JPEG/WebP on load.
 * 4. Pixel passes (work sharp cannot express) end the stage: the stage output is materialised as raw
 *    pixels, the pass runs, and the next stage reads the raw pixels.
 * 5. Animations: sharp processes all frames as one tall strip. Extract, resize, extend, flop and colour
 *    operations are strip-safe; rotations, flips, blurs, sharpening and composites are not, and run in a
 *    stage of their own that is applied frame by frame.
 */

import type { Rgba } from '../../domain/transform/operations.js';
import { isGreyColour, type LinearAdjustment, type SharpenSettings, thenLinear, thenMatrix } from './colours.js';
import {
  inverseOrientation,
  isUpright,
  type Orientation,
  orientedSize,
  orientRegion,
  type Padding,
  type Region,
  type Size,
  thenOrient,
} from './geometry.js';
import type { Layer, Matrix3, PixelPass, Primitive } from './primitives.js';
import { sizeAfter } from './primitives.js';

export type ResizeStep = { kind: 'exact'; size: Size } | { kind: 'attention'; size: Size; scale: boolean };

export interface SharpStage {
  readonly kind: 'sharp';
  readonly inputSize: Size;
  outputSize: Size;
  /** Size once orientBefore and preExtract are applied (where sharp's resize starts). */
  sizeBeforeResize: Size;
  flatten: Rgba | null;
  greyscale: boolean;
  orientBefore: Orientation | null;
  preExtract: Region | null;
  resize: ResizeStep | null;
  orientPost: Orientation | null;
  postExtract: Region | null;
  extend: { padding: Padding; background: Rgba } | null;
  blurSigma: number | null;
  recomb: Matrix3 | null;
  saturation: number | null;
  sharpen: SharpenSettings | null;
  layers: Layer[];
  linear: LinearAdjustment | null;
  negate: boolean;
  /** Applied to each frame separately (animations only). */
  perFrame: boolean;
  /** Reads a one-channel source: sharp would grey any background colour it adds. */
  greyInput: boolean;
  /** Highest slot used so far; -1 when the stage has no ordered primitive yet. */
  lastSlot: number;
}

export interface PixelStep {
  readonly kind: 'pixels';
  readonly pass: PixelPass;
  readonly size: Size;
}

export type Step = SharpStage | PixelStep;

/** Sharp's internal order (see the module comment); gaps leave room for the floating operations. */
const SLOT = {
  orientBefore: 0,
  preExtract: 1,
  resize: 3,
  orientPost: 4,
  postExtract: 5,
  extend: 6,
  blur: 7,
  recomb: 8,
  saturation: 9,
  sharpen: 10,
  composite: 11,
  linear: 12,
  negate: 14,
} as const;

function emptyStage(inputSize: Size, greyInput = false): SharpStage {
  return {
    greyInput,
    kind: 'sharp',
    inputSize,
    outputSize: inputSize,
    sizeBeforeResize: inputSize,
    flatten: null,
    greyscale: false,
    orientBefore: null,
    preExtract: null,
    resize: null,
    orientPost: null,
    postExtract: null,
    extend: null,
    blurSigma: null,
    recomb: null,
    saturation: null,
    sharpen: null,
    layers: [],
    linear: null,
    negate: false,
    perFrame: false,
    lastSlot: -1,
  };
}

function isEmptyStage(stage: SharpStage): boolean {
  return stage.lastSlot === -1 && !stage.greyscale && stage.flatten === null;
}

/**
 * Moves each orientation to the right of the extracts and resizes that follow it (rewriting them in
 * the unrotated frame), stopping before an extract that comes after a resize: that is the position
 * sharp rotates in when it does not rotate first.
 */
export function deferOrientations(primitives: readonly Primitive[], start: Size): Primitive[] {
  const out: Primitive[] = [];
  let pending: Orientation | null = null;
  let crossedResize = false;
  /** Size of the image as the emitted primitives leave it (pending orientation not applied). */
  let size = start;

  const emit = (primitive: Primitive): void => {
    out.push(primitive);
    size = sizeAfter(primitive, size);
  };
  const flush = (): void => {
    if (pending !== null && !isUpright(pending)) emit({ kind: 'orient', orientation: pending });
    pending = null;
  };

  for (const primitive of primitives) {
    if (primitive.kind === 'orient') {
      if (pending === null) crossedResize = false;
      pending = pending === null ? primitive.orientation : thenOrient(pending, primitive.orientation);
      continue;
    }
    if (pending !== null && primitive.kind === 'resize') {
      emit({ kind: 'resize', size: orientedSize(primitive.size, inverseOrientation(pending)) });
      crossedResize = true;
      continue;
    }
    if (pending !== null && primitive.kind === 'extract' && !crossedResize) {
      const oriented = orientedSize(size, pending);
      emit({ kind: 'extract', region: orientRegion(primitive.region, oriented, inverseOrientation(pending)) });
      continue;
    }
    flush();
    emit(primitive);
  }
  flush();
  return out;
}

interface Placement {
  apply(): void;
  /** Correct when sharp applies it to all frames of an animation stacked as one strip. */
  stripSafe: boolean;
}

function hasColourChange(stage: SharpStage): boolean {
  return stage.greyscale || stage.negate || stage.linear !== null || stage.recomb !== null || stage.saturation !== null;
}

function placementOf(stage: SharpStage, primitive: Primitive, size: Size): Placement | null {
  // sharp's recomb leaves unclipped floating-point values: whatever sharp runs after it in the same
  // pipeline would see them (an inversion of floats even goes negative). It ends its stage.
  if (stage.recomb !== null && primitive.kind !== 'recomb' && primitive.kind !== 'flatten') return null;
  // A greyscaled pipeline stays one-channel to the end: colour added later in it would come out grey.
  if (stage.greyscale && (primitive.kind === 'recomb' || primitive.kind === 'composite')) return null;
  const after = sizeAfter(primitive, size);
  const at = (slot: number, apply: () => void, stripSafe = true): Placement => ({
    apply: () => {
      apply();
      stage.lastSlot = slot;
    },
    stripSafe,
  });

  switch (primitive.kind) {
    case 'orient': {
      const stripSafe = primitive.orientation.quarterTurns === 0;
      if (stage.lastSlot === SLOT.orientBefore && stage.orientBefore !== null) {
        const combined = thenOrient(stage.orientBefore, primitive.orientation);
        return at(SLOT.orientBefore, () => {
          stage.orientBefore = combined;
          stage.sizeBeforeResize = after;
        }, false);
      }
      if (stage.lastSlot === SLOT.orientPost && stage.orientPost !== null) {
        const combined = thenOrient(stage.orientPost, primitive.orientation);
        return at(SLOT.orientPost, () => (stage.orientPost = combined), combined.quarterTurns === 0);
      }
      if (stage.lastSlot === -1) {
        return at(SLOT.orientBefore, () => {
          stage.orientBefore = primitive.orientation;
          stage.sizeBeforeResize = after;
        }, false);
      }
      const onlyExactGeometry = stage.lastSlot <= SLOT.resize && stage.orientBefore === null && stage.resize?.kind !== 'attention';
      return onlyExactGeometry ? at(SLOT.orientPost, () => (stage.orientPost = primitive.orientation), stripSafe) : null;
    }
    case 'extract': {
      const { region } = primitive;
      const merge = (existing: Region | null): Region =>
        existing === null ? region : { ...region, left: existing.left + region.left, top: existing.top + region.top };
      if (stage.resize === null && stage.orientPost === null && stage.lastSlot <= SLOT.preExtract) {
        return at(SLOT.preExtract, () => {
          stage.preExtract = merge(stage.preExtract);
          stage.sizeBeforeResize = after;
        });
      }
      if (stage.lastSlot <= SLOT.postExtract) {
        const existing = stage.lastSlot === SLOT.postExtract ? stage.postExtract : null;
        return at(SLOT.postExtract, () => (stage.postExtract = merge(existing)));
      }
      return null;
    }
    case 'resize': {
      const existing = stage.lastSlot === SLOT.resize && stage.resize?.kind === 'exact' ? stage.resize.size : null;
      if (existing === null && stage.lastSlot >= SLOT.resize) return null;
      // Two resizes are one resampling unless the first threw away detail the second would show
      // (shrink, then enlarge again: that blur is what was asked for).
      if (existing !== null && !resizesMerge(stage.sizeBeforeResize, existing, primitive.size)) return null;
      return at(SLOT.resize, () => (stage.resize = { kind: 'exact', size: primitive.size }));
    }
    case 'attention-crop':
      if (stage.lastSlot >= SLOT.resize) return null;
      return at(SLOT.resize, () => (stage.resize = { kind: 'attention', size: primitive.size, scale: primitive.scale }), false);
    case 'extend': {
      if ((stage.greyscale || stage.greyInput) && !isGreyColour(primitive.background)) return null;
      const existing = stage.extend;
      if (stage.lastSlot === SLOT.extend && existing !== null && sameColour(existing.background, primitive.background)) {
        const p = primitive.padding;
        const q = existing.padding;
        return at(SLOT.extend, () => {
          stage.extend = {
            padding: { top: p.top + q.top, right: p.right + q.right, bottom: p.bottom + q.bottom, left: p.left + q.left },
            background: primitive.background,
          };
        });
      }
      if (stage.lastSlot >= SLOT.extend) return null;
      return at(SLOT.extend, () => (stage.extend = { padding: primitive.padding, background: primitive.background }));
    }
    case 'greyscale': {
      // libvips' greyscale is a non-linear (gamma-aware) luminance, so it does not commute with
      // inversion, linear adjustments, blurs or colour matrices — only with moving pixels around.
      const onlyGeometry =
        stage.lastSlot <= SLOT.extend &&
        stage.resize?.kind !== 'attention' &&
        (stage.extend === null || isGreyColour(stage.extend.background));
      if (!onlyGeometry) return null;
      return { apply: () => (stage.greyscale = true), stripSafe: true };
    }
    case 'flatten':
      if (hasColourChange(stage) || (stage.greyInput && !isGreyColour(primitive.background))) return null;
      return { apply: () => (stage.flatten = primitive.background), stripSafe: true };
    case 'negate':
      if (stage.lastSlot > SLOT.negate) return null;
      return at(SLOT.negate, () => (stage.negate = !stage.negate));
    case 'blur': {
      const existing = stage.lastSlot === SLOT.blur ? stage.blurSigma : null;
      if (existing === null && stage.lastSlot >= SLOT.blur) return null;
      // Two Gaussians in a row are one Gaussian whose variance is the sum.
      const sigma = existing === null ? primitive.sigma : Math.hypot(existing, primitive.sigma);
      return at(SLOT.blur, () => (stage.blurSigma = sigma), false);
    }
    case 'recomb': {
      const existing = stage.lastSlot === SLOT.recomb ? stage.recomb : null;
      if (existing === null && stage.lastSlot >= SLOT.recomb) return null;
      if (existing !== null && !matrixStaysInRange(existing)) return null;
      const matrix = existing === null ? primitive.matrix : thenMatrix(existing, primitive.matrix);
      return at(SLOT.recomb, () => (stage.recomb = matrix));
    }
    case 'saturation': {
      // libvips sharpens lightness only and saturation scales chroma only: they commute, so a
      // saturation after a sharpen can still take its earlier slot.
      if (stage.lastSlot === SLOT.sharpen && stage.saturation === null) {
        return { apply: () => (stage.saturation = primitive.factor), stripSafe: true };
      }
      const existing = stage.lastSlot === SLOT.saturation ? stage.saturation : null;
      if (existing === null && stage.lastSlot >= SLOT.saturation) return null;
      // A boost can push colours out of gamut, where the next operation would see them clipped.
      if (existing !== null && existing > 1) return null;
      const factor = (existing ?? 1) * primitive.factor;
      return at(SLOT.saturation, () => (stage.saturation = factor));
    }
    case 'sharpen':
      if (stage.lastSlot >= SLOT.sharpen) return null;
      return at(SLOT.sharpen, () => (stage.sharpen = { sigma: primitive.sigma, flat: primitive.flat, jagged: primitive.jagged }), false);
    case 'composite':
      if (stage.lastSlot > SLOT.composite) return null;
      return at(SLOT.composite, () => stage.layers.push(...primitive.layers), false);
    case 'linear': {
      const existing = stage.lastSlot === SLOT.linear ? stage.linear : null;
      if (existing === null && stage.lastSlot >= SLOT.linear) return null;
      if (existing !== null && !linearStaysInRange(existing)) return null;
      const adjustment = existing === null ? primitive : thenLinear(existing, primitive);
      return at(SLOT.linear, () => (stage.linear = { multiply: adjustment.multiply, add: adjustment.add }));
    }
    case 'pixels':
      return null;
  }
}

/**
 * Operations clip to 0–255 one after the other. Composing two of them is exact only when the first
 * cannot leave that range (otherwise e.g. +50 then −50 brightness would give back clipped highlights).
 */
function linearStaysInRange({ multiply, add }: LinearAdjustment): boolean {
  return multiply >= 0 && add >= 0 && multiply * 255 + add <= 255;
}

function matrixStaysInRange(matrix: Matrix3): boolean {
  return matrix.every((row) => row.every((value) => value >= 0) && row[0] + row[1] + row[2] <= 1);
}

function resizesMerge(before: Size, first: Size, second: Size): boolean {
  const firstEnlarges = first.width >= before.width && first.height >= before.height;
  const secondShrinks = second.width <= first.width && second.height <= first.height;
  return firstEnlarges || secondShrinks;
}

function sameColour(a: Rgba, b: Rgba): boolean {
  return a.r === b.r && a.g === b.g && a.b === b.b && a.alpha === b.alpha;
}

/**
 * Packs primitives into steps. The last step is always a sharp stage (possibly empty), the one that
 * encodes; every earlier sharp stage is materialised as raw pixels.
 */
export function planSteps(primitives: readonly Primitive[], start: Size, animated: boolean, greySource = false): Step[] {
  const steps: Step[] = [];
  let size = start;
  // Only the first stage reads the source; later ones read RGB(A) raw pixels.
  let stage = emptyStage(size, greySource);

  const place = (primitive: Primitive): void => {
    let placement = placementOf(stage, primitive, size);
    if (placement !== null && animated && !placement.stripSafe && !stage.perFrame) {
      if (isEmptyStage(stage)) stage.perFrame = true;
      else placement = null;
    }
    if (placement === null) {
      steps.push(stage);
      stage = emptyStage(size);
      placement = placementOf(stage, primitive, size);
      if (placement === null) throw new Error(`internal: ${primitive.kind} cannot start a stage`);
      if (animated && !placement.stripSafe) stage.perFrame = true;
    }
    placement.apply();
  };

  for (const primitive of deferOrientations(primitives, start)) {
    if (primitive.kind === 'pixels') {
      if (!isEmptyStage(stage) || steps.length === 0) steps.push(stage);
      steps.push({ kind: 'pixels', pass: primitive.pass, size });
      stage = emptyStage(size);
      continue;
    }
    place(primitive);
    size = sizeAfter(primitive, size);
    stage.outputSize = size;
  }
  steps.push(stage);
  return steps;
}
