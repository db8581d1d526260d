/**
 * Canonical form of a TransformPlan, so that URLs meaning the same image give deep-equal plans and
 * therefore one cache key. Every rewrite here is exact (pixel-identical output by the plan's
 * definitions), never an approximation, and operations are never reordered across each other
 * except inside a run of rotate/flip/mirror, whose composition is exact.
 */
import type { ObjectRegion } from '../faces.js';
import {
  DEFAULT_BACKGROUND,
  type Length,
  type Operation,
  type OutputSettings,
  type Placement,
  type Rgba,
  type TransformPlan,
} from './operations.js';

/** Percentages keep this many decimals: a 10⁻⁴ % step is far below a pixel of any image Trove handles. */
const PERCENT_DECIMALS = 4;

export function normalizePlan(plan: TransformPlan): TransformPlan {
  let operations = plan.operations.map(canonicalOperation).filter((op): op is Operation => op !== null);
  // Each pass may make new neighbours (a dropped invert pair joins two rotations): repeat until stable.
  for (;;) {
    const next = cancelNeighbours(composeOrthogonalRuns(operations));
    if (next.length === operations.length) {
      operations = next;
      break;
    }
    operations = next;
  }
  return { operations, output: canonicalOutput(plan.output), info: plan.info === null ? null : { ...plan.info } };
}

/** The operation in canonical form, or null when it changes nothing. */
function canonicalOperation(operation: Operation): Operation | null {
  switch (operation.op) {
    case 'preview':
      return { op: 'preview', width: operation.width, height: operation.height };
    case 'smart_resize':
      return { op: 'smart_resize', width: operation.width, height: operation.height, background: color(operation.background) };
    case 'resize':
      return {
        op: 'resize',
        width: operation.width,
        height: operation.height,
        upscale: operation.upscale,
        background: backgroundFor(operation.upscale, operation.background),
      };
    case 'scale_crop':
      return {
        op: 'scale_crop',
        width: operation.width,
        height: operation.height,
        placement: focalPlacement(operation.placement),
        upscale: operation.upscale,
        background: backgroundFor(operation.upscale, operation.background),
      };
    case 'crop': {
      const width = length(operation.width);
      const height = length(operation.height);
      const placement = cornerPlacement(operation.placement);
      // The whole image, wherever it is anchored (an offset would shift the clamped region).
      if (isFullPercent(width) && isFullPercent(height) && placement.type === 'align') return null;
      return { op: 'crop', width, height, placement, background: color(operation.background) };
    }
    case 'crop_ratio': {
      // 32:18 and 16:9 cut the same region.
      const divisor = gcd(operation.ratioWidth, operation.ratioHeight);
      return {
        op: 'crop_ratio',
        ratioWidth: operation.ratioWidth / divisor,
        ratioHeight: operation.ratioHeight / divisor,
        placement: cornerPlacement(operation.placement),
      };
    }
    case 'crop_object':
      return { op: 'crop_object', object: operation.object, region: objectRegion(operation.region) };
    case 'blur_faces':
      if (operation.strength === 0) return null;
      return { op: 'blur_faces', strength: operation.strength };
    case 'rotate':
      return { op: 'rotate', quarterTurns: operation.quarterTurns };
    case 'flip':
    case 'mirror':
    case 'grayscale':
    case 'invert':
      return { op: operation.op };
    case 'blur':
    case 'sharpen':
    case 'enhance':
      // Strength 0 is the original image.
      return operation.strength === 0 ? null : { op: operation.op, strength: operation.strength };
    case 'unsharp':
      // Uploadcare: amount 0 is the original, 100 the plain blurred image; strength 0 blurs nothing.
      if (operation.amount === 0 || operation.strength === 0) return null;
      if (operation.amount === 100) return { op: 'blur', strength: operation.strength };
      return { op: 'unsharp', strength: operation.strength, amount: operation.amount };
    case 'blur_region':
      if (operation.strength === 0) return null;
      return {
        op: 'blur_region',
        width: length(operation.width),
        height: length(operation.height),
        x: length(operation.x),
        y: length(operation.y),
        strength: operation.strength,
      };
    case 'brightness':
    case 'exposure':
    case 'contrast':
    case 'saturation':
    case 'vibrance':
    case 'warmth':
      return operation.value === 0 ? null : { op: operation.op, value: operation.value + 0 };
    case 'border_radius': {
      const radii = operation.radii.map(length) as [Length, Length, Length, Length];
      if (radii.every((radius) => radius.value === 0)) return null;
      return { op: 'border_radius', radii, background: color(operation.background) };
    }
    case 'overlay':
      return {
        op: 'overlay',
        source: operation.source.toLowerCase(),
        width: operation.width === null ? null : length(operation.width),
        height: operation.height === null ? null : length(operation.height),
        placement: cornerPlacement(operation.placement),
        opacity: round(operation.opacity),
      };
  }
}

/**
 * rotate, flip and mirror permute pixels exactly, so any run of them is one element of the
 * symmetry group of the rectangle: "mirror or not, then k clockwise quarter turns". That element
 * is written back with the fewest operations.
 */
function composeOrthogonalRuns(operations: readonly Operation[]): Operation[] {
  const result: Operation[] = [];
  let mirrored = false;
  let turns = 0;
  let inRun = false;
  const flush = (): void => {
    if (!inRun) return;
    result.push(...orthogonalOperations(mirrored, turns));
    mirrored = false;
    turns = 0;
    inRun = false;
  };
  for (const operation of operations) {
    if (operation.op === 'rotate') {
      turns = (turns + operation.quarterTurns) % 4;
    } else if (operation.op === 'mirror') {
      // mirror · R^k = R^-k · mirror
      mirrored = !mirrored;
      turns = (4 - turns) % 4;
    } else if (operation.op === 'flip') {
      // flip = R² · mirror
      mirrored = !mirrored;
      turns = (6 - turns) % 4;
    } else {
      flush();
      result.push(operation);
      continue;
    }
    inRun = true;
  }
  flush();
  return result;
}

function orthogonalOperations(mirrored: boolean, turns: number): Operation[] {
  const rotation: Operation[] = turns === 1 || turns === 2 || turns === 3 ? [{ op: 'rotate', quarterTurns: turns }] : [];
  if (!mirrored) return rotation;
  if (turns === 2) return [{ op: 'flip' }];
  return [{ op: 'mirror' }, ...rotation];
}

/** invert twice is the original (8-bit values are exact); grayscale of grayscale is grayscale. */
function cancelNeighbours(operations: readonly Operation[]): Operation[] {
  const result: Operation[] = [];
  for (const operation of operations) {
    const previous = result[result.length - 1];
    if (operation.op === 'invert' && previous?.op === 'invert') {
      result.pop();
    } else if (operation.op === 'grayscale' && previous?.op === 'grayscale') {
      continue;
    } else {
      result.push(operation);
    }
  }
  return result;
}

/** Crop/overlay anchors: the top-left corner at (0,0) is the top-left alignment. */
function cornerPlacement(placement: Placement): Placement {
  const canonical = canonicalPlacement(placement);
  if (canonical.type === 'point' && canonical.x.value === 0 && canonical.y.value === 0) {
    return { type: 'align', x: 'left', y: 'top' };
  }
  return canonical;
}

/**
 * scale_crop focal points: 0 %, 50 % and 100 % are the edges and the centre, whether the point is
 * read as "kept in view" or as "how the cut-off is shared": either way they equal the alignments.
 */
function focalPlacement(placement: Placement): Placement {
  const canonical = canonicalPlacement(placement);
  if (canonical.type !== 'point') return canonical;
  const x = edgeAt(canonical.x, ['left', 'center', 'right'] as const);
  const y = edgeAt(canonical.y, ['top', 'center', 'bottom'] as const);
  return x !== null && y !== null ? { type: 'align', x, y } : canonical;
}

function edgeAt<T extends string>(position: Length, edges: readonly [T, T, T]): T | null {
  if (position.value === 0) return edges[0];
  if (position.unit !== 'percent') return null;
  if (position.value === 50) return edges[1];
  if (position.value === 100) return edges[2];
  return null;
}

function canonicalPlacement(placement: Placement): Placement {
  switch (placement.type) {
    case 'align':
      return { type: 'align', x: placement.x, y: placement.y };
    case 'point':
      return { type: 'point', x: length(placement.x), y: length(placement.y) };
    case 'smart':
      return { type: 'smart', mode: placement.mode };
  }
}

/** Rounded percentages; zero in either unit is the same length, written as 0 px. */
function length(value: Length): Length {
  if (value.unit === 'px') return { unit: 'px', value: value.value + 0 };
  const rounded = round(value.value);
  return rounded === 0 ? { unit: 'px', value: 0 } : { unit: 'percent', value: rounded };
}

function isFullPercent(value: Length): boolean {
  return value.unit === 'percent' && value.value === 100;
}

/** Only stretch=fill paints a background; the colour is meaningless (and must not split the cache) otherwise. */
function backgroundFor(upscale: 'on' | 'off' | 'fill', background: Rgba): Rgba {
  return upscale === 'fill' ? color(background) : color(DEFAULT_BACKGROUND);
}

function color(value: Rgba): Rgba {
  return { r: value.r, g: value.g, b: value.b, alpha: value.alpha };
}

function canonicalOutput(output: OutputSettings): OutputSettings {
  return {
    format: output.format,
    quality: output.quality,
    progressive: output.progressive,
    autorotate: output.autorotate,
    stripMeta: output.stripMeta,
    background: color(output.background),
  };
}

function round(value: number): number {
  const factor = 10 ** PERCENT_DECIMALS;
  return Math.round(value * factor) / factor + 0;
}

function gcd(a: number, b: number): number {
  let x = Math.abs(a);
  let y = Math.abs(b);
  while (y !== 0) [x, y] = [y, x % y];
  return x === 0 ? 1 : x;
}

/** The object region with its keys in one order and its ratio reduced (2:2 crops like 1:1). */
function objectRegion(region: ObjectRegion): ObjectRegion {
  switch (region.kind) {
    case 'object':
      return { kind: 'object' };
    case 'ratio': {
      const divisor = gcd(region.ratioWidth, region.ratioHeight);
      return { kind: 'ratio', ratioWidth: region.ratioWidth / divisor, ratioHeight: region.ratioHeight / divisor, alignment: { x: region.alignment.x, y: region.alignment.y } };
    }
    case 'size':
      return { kind: 'size', width: { unit: region.width.unit, value: region.width.value }, height: { unit: region.height.unit, value: region.height.value }, alignment: { x: region.alignment.x, y: region.alignment.y } };
  }
}
