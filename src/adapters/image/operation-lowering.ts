/**
 * Lowers canonical plan operations into primitives, computing every size on the way (the "dimension
 * simulation"): the output size of a plan is known from the image header alone, so output and
 * animation limits are checked before decoding.
 */

import { blurRegions, type Box, objectBox, regionAroundObject, scaleBoxes, windowOnFaces } from '../../domain/faces.js';
import { type Length, type Operation, type Placement, placementUsesFaces, type Rgba, type UpscaleMode } from '../../domain/transform/operations.js';
import { EngineError } from '../../ports/image-engine.js';
import {
  blurSigma,
  brightnessAdjustment,
  contrastAdjustment,
  DIRECT_BLUR_MAX_SIGMA,
  exposureTable,
  isGreyColour,
  opaqueOver,
  saturationFactor,
  sharpenSettings,
  warmthMatrix,
} from './colours.js';
import {
  alignOffset,
  centredPadding,
  clamp,
  coverBox,
  FLIP,
  fitInside,
  isFullRegion,
  isZeroPadding,
  lengthToPixels,
  MIRROR,
  orientRegion,
  type Padding,
  type Region,
  rotation,
  sameSize,
  side,
  type Size,
} from './geometry.js';
import type { Layer, Primitive } from './primitives.js';
import { sizeAfter } from './primitives.js';

export interface OverlaySource {
  data: Buffer;
  /** Size after EXIF autorotation. */
  size: Size;
}

export interface LoweringContext {
  /** Source size after autorotation (one frame). */
  sourceSize: Size;
  sourceHasAlpha: boolean;
  /** The source has one grey channel (plus alpha): the result stays grey until colour is added. */
  sourceGrey?: boolean;
  /** All frames are processed: content-aware placements fall back to the centre (one crop for every frame). */
  animated: boolean;
  /** The output format keeps transparency (PNG, WebP, AVIF, GIF). */
  outputHasAlpha: boolean;
  /** Colour transparency is flattened onto when the output has no alpha. */
  outputBackground: Rgba;
  overlays: ReadonlyMap<string, OverlaySource>;
  /** `skip`: overlays that are not loaded are ignored (describe needs sizes only). */
  missingOverlay: 'error' | 'skip';
  /** Detected faces in pixels of `sourceSize`; absent when the plan needs none (or none were read). */
  faces?: readonly Box[];
}

export interface LoweredPlan {
  primitives: Primitive[];
  /** Size of one output frame. */
  size: Size;
  /** The result holds only greys (encode as one channel). */
  grey: boolean;
  /** Known to have no transparent pixel (any alpha band can be dropped). */
  opaque: boolean;
}

/** Mutable state threaded through the lowering of one plan. */
class Lowering {
  readonly primitives: Primitive[] = [];
  size: Size;
  grey: boolean;
  opaque: boolean;
  /** The faces in pixels of the current image, moved along with every primitive; empty once unknown. */
  faces: Box[];

  constructor(readonly context: LoweringContext) {
    this.size = context.sourceSize;
    this.grey = context.sourceGrey ?? false;
    this.opaque = !context.sourceHasAlpha;
    this.faces = [...(context.faces ?? [])];
  }

  push(primitive: Primitive): void {
    this.primitives.push(primitive);
    const before = this.size;
    this.size = sizeAfter(primitive, this.size);
    if (this.faces.length > 0) this.faces = facesAfter(primitive, this.faces, before, this.size);
  }

  resizeTo(size: Size): void {
    if (!sameSize(size, this.size)) this.push({ kind: 'resize', size });
  }

  extract(region: Region): void {
    if (!isFullRegion(region, this.size)) this.push({ kind: 'extract', region });
  }

  extend(padding: Padding, background: Rgba): void {
    if (isZeroPadding(padding)) return;
    const fill = this.background(background);
    if (fill.alpha < 255) this.opaque = false;
    if (!isGreyColour(fill)) this.grey = false;
    this.push({ kind: 'extend', padding, background: fill });
  }

  /** Without alpha in the output, a transparent fill would later be flattened: do it now, exactly. */
  background(colour: Rgba): Rgba {
    return this.context.outputHasAlpha || colour.alpha === 255 ? colour : opaqueOver(colour, opaqueBackground(this.context));
  }
}

function opaqueBackground(context: LoweringContext): Rgba {
  return { ...context.outputBackground, alpha: 255 };
}

/** Where the faces are after a primitive (boxes cut to the image; a face cut away is gone). */
function facesAfter(primitive: Primitive, faces: readonly Box[], before: Size, after: Size): Box[] {
  switch (primitive.kind) {
    case 'orient':
      return faces.map((face) => orientRegion(face, before, primitive.orientation));
    case 'extract': {
      const { region } = primitive;
      return scaleBoxes(faces.map((face) => ({ ...face, left: face.left - region.left, top: face.top - region.top })), after, after);
    }
    case 'resize':
      return scaleBoxes(faces, before, after);
    case 'extend':
      return faces.map((face) => ({ ...face, left: face.left + primitive.padding.left, top: face.top + primitive.padding.top }));
    case 'attention-crop':
      // libvips chooses the window itself: where the faces went is not known.
      return [];
    default:
      return [...faces];
  }
}

export function lowerOperations(operations: readonly Operation[], context: LoweringContext): LoweredPlan {
  const state = new Lowering(context);
  for (const operation of operations) lowerOperation(state, operation);
  if (!context.outputHasAlpha && !state.opaque) {
    // Flattening comes last: colour operations must not tint the background colour.
    const background = opaqueBackground(context);
    state.push({ kind: 'flatten', background });
    state.opaque = true;
    if (!isGreyColour(background)) state.grey = false;
  }
  return { primitives: state.primitives, size: state.size, grey: state.grey, opaque: state.opaque };
}

function lowerOperation(state: Lowering, operation: Operation): void {
  switch (operation.op) {
    case 'preview':
      lowerPreview(state, { width: operation.width, height: operation.height });
      return;
    case 'resize':
      lowerResize(state, operation.width, operation.height, operation.upscale, operation.background);
      return;
    case 'smart_resize':
      lowerSmartResize(state, { width: operation.width, height: operation.height }, operation.background);
      return;
    case 'scale_crop':
      lowerScaleCrop(state, { width: operation.width, height: operation.height }, operation.placement, operation.upscale, operation.background);
      return;
    case 'crop':
      lowerCrop(state, operation.width, operation.height, operation.placement, operation.background);
      return;
    case 'crop_ratio':
      lowerCropRatio(state, operation.ratioWidth, operation.ratioHeight, operation.placement);
      return;
    case 'crop_object': {
      const object = objectBox(operation.object, state.faces, state.size);
      // No face: the image is kept whole (the service refuses the request before when detection failed).
      if (object) state.extract(regionAroundObject(object, operation.region, state.size));
      return;
    }
    case 'blur_faces':
      lowerBlurFaces(state, operation.strength);
      return;
    case 'rotate':
      state.push({ kind: 'orient', orientation: rotation(operation.quarterTurns) });
      return;
    case 'flip':
      state.push({ kind: 'orient', orientation: FLIP });
      return;
    case 'mirror':
      state.push({ kind: 'orient', orientation: MIRROR });
      return;
    case 'grayscale':
      state.push({ kind: 'greyscale' });
      state.grey = true;
      return;
    case 'invert':
      state.push({ kind: 'negate' });
      return;
    case 'blur':
      lowerBlur(state, operation.strength);
      return;
    case 'unsharp':
      lowerUnsharp(state, operation.strength, operation.amount);
      return;
    case 'blur_region':
      lowerBlurRegion(state, operation);
      return;
    case 'sharpen':
      if (operation.strength > 0) state.push({ kind: 'sharpen', ...sharpenSettings(operation.strength) });
      return;
    case 'enhance':
      if (operation.strength > 0) {
        state.push({ kind: 'pixels', pass: { kind: 'enhance', strength: Math.min(100, operation.strength) / 100 } });
        state.grey = false;
      }
      return;
    case 'brightness': {
      const { multiply, add } = brightnessAdjustment(operation.value);
      state.push({ kind: 'linear', multiply, add });
      return;
    }
    case 'contrast': {
      const { multiply, add } = contrastAdjustment(operation.value);
      state.push({ kind: 'linear', multiply, add });
      return;
    }
    case 'exposure':
      state.push({ kind: 'pixels', pass: { kind: 'tone-curve', table: exposureTable(operation.value) } });
      return;
    case 'saturation':
      state.push({ kind: 'saturation', factor: saturationFactor(operation.value) });
      return;
    case 'vibrance':
      state.push({ kind: 'pixels', pass: { kind: 'vibrance', amount: operation.value / 100 } });
      return;
    case 'warmth':
      state.push({ kind: 'recomb', matrix: warmthMatrix(operation.value) });
      state.grey = false;
      return;
    case 'border_radius':
      lowerBorderRadius(state, operation.radii, operation.background);
      return;
    case 'overlay':
      lowerOverlay(state, operation);
      return;
  }
}

/** Fit inside the box, never enlarging. */
function lowerPreview(state: Lowering, box: Size): void {
  if (state.size.width <= box.width && state.size.height <= box.height) return;
  state.resizeTo(fitInside(state.size, box));
}

function lowerResize(state: Lowering, width: number | null, height: number | null, upscale: UpscaleMode, background: Rgba): void {
  const { size } = state;
  let target: Size;
  if (width !== null && height !== null) target = { width, height };
  else if (width !== null) target = { width, height: side((size.height * width) / size.width) };
  else if (height !== null) target = { width: side((size.width * height) / size.height), height };
  else return;

  const enlarges = target.width > size.width || target.height > size.height;
  if (!enlarges || upscale === 'on') {
    state.resizeTo(target);
    return;
  }
  // Without upscaling, an axis that would grow keeps its size; an axis that shrinks still shrinks
  // (with one side given both axes grow together, so the image is left as it is).
  state.resizeTo({ width: Math.min(target.width, size.width), height: Math.min(target.height, size.height) });
  if (upscale === 'fill') state.extend(centredPadding(state.size, target), background);
}

/** Fit inside the box (enlarging if needed, like sharp's `contain`), then pad to exactly the box. */
function lowerSmartResize(state: Lowering, box: Size, background: Rgba): void {
  state.resizeTo(fitInside(state.size, box));
  state.extend(centredPadding(state.size, box), background);
}

function lowerScaleCrop(state: Lowering, box: Size, placement: Placement, upscale: UpscaleMode, background: Rgba): void {
  const { size } = state;
  const cover = coverBox(size, box);
  const enlarges = cover.width > size.width || cover.height > size.height;
  const scaled = !enlarges || upscale === 'on' ? cover : size;
  const crop: Size = { width: Math.min(box.width, scaled.width), height: Math.min(box.height, scaled.height) };

  const faceFirst = placement.type === 'smart' && placementUsesFaces(placement) && state.faces.length > 0;
  if (faceFirst) {
    state.resizeTo(scaled);
    const window = windowOnFaces(state.faces, crop, state.size);
    if (window) state.extract(window);
  } else if (placement.type === 'smart' && placement.mode !== 'smart_faces' && !state.context.animated) {
    if (!(sameSize(scaled, size) && sameSize(crop, size))) state.push({ kind: 'attention-crop', size: crop, scale: !sameSize(scaled, size) });
  } else {
    const origin = sourcePointOf(placement, size);
    state.resizeTo(scaled);
    let left: number;
    let top: number;
    if (origin === null) {
      const { x, y } = alignmentOf(placement);
      left = alignOffset(scaled.width, crop.width, x);
      top = alignOffset(scaled.height, crop.height, y);
    } else {
      // Focal point: keep it as close to the middle of the crop as the image edges allow.
      const ratioX = scaled.width / size.width;
      const ratioY = scaled.height / size.height;
      left = clamp(Math.round(origin.x * ratioX - crop.width / 2), 0, scaled.width - crop.width);
      top = clamp(Math.round(origin.y * ratioY - crop.height / 2), 0, scaled.height - crop.height);
    }
    state.extract({ left, top, width: crop.width, height: crop.height });
  }
  if (upscale === 'fill') state.extend(centredPadding(state.size, box), background);
}

/** The point of a `point` placement in pixels of the current image, or null for other placements. */
function sourcePointOf(placement: Placement, size: Size): { x: number; y: number } | null {
  if (placement.type !== 'point') return null;
  return { x: lengthToPixels(placement.x, size.width), y: lengthToPixels(placement.y, size.height) };
}

/** Alignment of a placement; content-aware placements that cannot run (animations) use the centre. */
function alignmentOf(placement: Placement): { x: 'left' | 'center' | 'right'; y: 'top' | 'center' | 'bottom' } {
  return placement.type === 'align' ? { x: placement.x, y: placement.y } : { x: 'center', y: 'center' };
}

/**
 * Crop. A region that fits is moved inside the image (clamped). Uploadcare renders a region larger
 * than the image "inside a colour-filled box": along such an axis the whole image is kept and padded
 * with the background up to the requested size, positioned by the alignment (a point offset keeps the
 * part of the image after the offset and fills the rest).
 */
function lowerCrop(state: Lowering, width: Length, height: Length, placement: Placement, background: Rgba): void {
  const { size } = state;
  const wanted: Size = { width: side(lengthToPixels(width, size.width)), height: side(lengthToPixels(height, size.height)) };
  if (placement.type === 'smart' && wanted.width <= size.width && wanted.height <= size.height) {
    const window = placementUsesFaces(placement) ? windowOnFaces(state.faces, wanted, size) : null;
    if (window) {
      state.extract(window);
      return;
    }
    if (!state.context.animated && placement.mode !== 'smart_faces') {
      if (!sameSize(wanted, size)) state.push({ kind: 'attention-crop', size: wanted, scale: false });
      return;
    }
  }
  const point = sourcePointOf(placement, size);
  const alignment = alignmentOf(placement);
  const horizontal = cropAxis(size.width, wanted.width, point === null ? alignment.x : Math.round(point.x));
  const vertical = cropAxis(size.height, wanted.height, point === null ? alignment.y : Math.round(point.y));
  state.extract({ left: horizontal.start, top: vertical.start, width: horizontal.length, height: vertical.length });
  state.extend({ left: horizontal.before, right: horizontal.after, top: vertical.before, bottom: vertical.after }, background);
}

interface CropAxis {
  start: number;
  length: number;
  before: number;
  after: number;
}

function cropAxis(imageLength: number, wanted: number, anchor: number | 'left' | 'center' | 'right' | 'top' | 'bottom'): CropAxis {
  if (wanted <= imageLength) {
    const start = typeof anchor === 'number' ? clamp(anchor, 0, imageLength - wanted) : alignOffset(imageLength, wanted, anchor);
    return { start, length: wanted, before: 0, after: 0 };
  }
  if (typeof anchor === 'number') {
    const start = clamp(anchor, 0, imageLength - 1);
    return { start, length: imageLength - start, before: 0, after: wanted - (imageLength - start) };
  }
  const before = alignOffset(wanted, imageLength, anchor);
  return { start: 0, length: imageLength, before, after: wanted - imageLength - before };
}

/** The largest region of the ratio; a point placement is its top-left corner, like a crop's. */
function lowerCropRatio(state: Lowering, ratioWidth: number, ratioHeight: number, placement: Placement): void {
  const { size } = state;
  if (ratioWidth <= 0 || ratioHeight <= 0) throw new EngineError('INVALID_OPERATION', 'crop ratio sides must be positive');
  const region: Size =
    size.width * ratioHeight > size.height * ratioWidth
      ? { width: Math.min(size.width, side((size.height * ratioWidth) / ratioHeight)), height: size.height }
      : { width: size.width, height: Math.min(size.height, side((size.width * ratioHeight) / ratioWidth)) };
  lowerCrop(state, { unit: 'px', value: region.width }, { unit: 'px', value: region.height }, placement, { r: 0, g: 0, b: 0, alpha: 0 });
}

function lowerBlur(state: Lowering, strength: number): void {
  if (strength <= 0) return;
  const sigma = blurSigma(strength);
  state.push(sigma <= DIRECT_BLUR_MAX_SIGMA ? { kind: 'blur', sigma } : { kind: 'pixels', pass: { kind: 'wide-blur', sigma } });
}

function lowerUnsharp(state: Lowering, strength: number, amount: number): void {
  if (strength <= 0 || amount === 0) return;
  // Uploadcare's amount is a percentage: 100 is the blurred image itself, negative values sharpen.
  if (amount === 100) {
    lowerBlur(state, strength);
    return;
  }
  state.push({ kind: 'pixels', pass: { kind: 'unsharp', sigma: blurSigma(strength), amount: amount / 100 } });
}

function lowerBlurRegion(state: Lowering, operation: Extract<Operation, { op: 'blur_region' }>): void {
  if (operation.strength <= 0) return;
  const { size } = state;
  const left = clamp(Math.round(lengthToPixels(operation.x, size.width)), 0, size.width);
  const top = clamp(Math.round(lengthToPixels(operation.y, size.height)), 0, size.height);
  const right = clamp(Math.round(left + lengthToPixels(operation.width, size.width)), left, size.width);
  const bottom = clamp(Math.round(top + lengthToPixels(operation.height, size.height)), top, size.height);
  if (right === left || bottom === top) return;
  const region: Region = { left, top, width: right - left, height: bottom - top };
  state.push({ kind: 'pixels', pass: { kind: 'blur-region', region, sigma: blurSigma(operation.strength) } });
}

/** Each face (with a margin) blurred like a `blur_region` of the same strength. */
function lowerBlurFaces(state: Lowering, strength: number): void {
  if (strength <= 0) return;
  const sigma = blurSigma(strength);
  for (const region of blurRegions(state.faces, state.size)) state.push({ kind: 'pixels', pass: { kind: 'blur-region', region, sigma } });
}

function lowerBorderRadius(state: Lowering, radii: readonly [Length, Length, Length, Length], background: Rgba): void {
  const { size } = state;
  const shorter = Math.min(size.width, size.height);
  // Radii are percent of the shorter side; no corner can take more than half of it.
  const pixels = radii.map((radius) => clamp(Math.round(lengthToPixels(radius, shorter)), 0, Math.floor(shorter / 2))) as [
    number,
    number,
    number,
    number,
  ];
  if (pixels.every((radius) => radius === 0)) return;
  const fill = state.background(background);
  const layers: Layer[] = [];
  if (state.context.outputHasAlpha && fill.alpha < 255) {
    layers.push({ kind: 'corners', size, radii: pixels, mode: 'mask', colour: fill });
    state.opaque = false;
  }
  if (fill.alpha > 0) layers.push({ kind: 'corners', size, radii: pixels, mode: 'paint', colour: fill });
  if (!isGreyColour(fill)) state.grey = false;
  state.push({ kind: 'composite', layers });
}

function lowerOverlay(state: Lowering, operation: Extract<Operation, { op: 'overlay' }>): void {
  const source = state.context.overlays.get(operation.source);
  if (source === undefined) {
    if (state.context.missingOverlay === 'skip') return;
    throw new EngineError('INVALID_OPERATION', `overlay source ${operation.source} is not available`);
  }
  const opacity = clamp(operation.opacity, 0, 100) / 100;
  if (opacity === 0) return;
  const { size } = state;
  const natural = source.size;
  const boxWidth = operation.width === null ? null : lengthToPixels(operation.width, size.width);
  const boxHeight = operation.height === null ? null : lengthToPixels(operation.height, size.height);
  // The overlay keeps its proportions: fit inside the given box, or scale by the one side given; with no
  // size it keeps its own, shrunk if needed to fit the image.
  let scale: number;
  if (boxWidth !== null && boxHeight !== null) scale = Math.min(boxWidth / natural.width, boxHeight / natural.height);
  else if (boxWidth !== null) scale = boxWidth / natural.width;
  else if (boxHeight !== null) scale = boxHeight / natural.height;
  else scale = Math.min(1, size.width / natural.width, size.height / natural.height);
  const overlaySize: Size = { width: side(natural.width * scale), height: side(natural.height * scale) };

  let left: number;
  let top: number;
  if (operation.placement.type === 'point') {
    left = Math.round(lengthToPixels(operation.placement.x, size.width));
    top = Math.round(lengthToPixels(operation.placement.y, size.height));
  } else {
    const { x, y } = alignmentOf(operation.placement);
    left = alignOffset(size.width, overlaySize.width, x);
    top = alignOffset(size.height, overlaySize.height, y);
  }
  // libvips composites only what overlaps; sharp insists the overlay fit, so cut it to the overlap.
  const visibleLeft = Math.max(0, left);
  const visibleTop = Math.max(0, top);
  const visibleRight = Math.min(size.width, left + overlaySize.width);
  const visibleBottom = Math.min(size.height, top + overlaySize.height);
  if (visibleRight <= visibleLeft || visibleBottom <= visibleTop) return;
  const layer: Layer = {
    kind: 'overlay',
    source: source.data,
    size: overlaySize,
    visible: { left: visibleLeft - left, top: visibleTop - top, width: visibleRight - visibleLeft, height: visibleBottom - visibleTop },
    left: visibleLeft,
    top: visibleTop,
    opacity,
  };
  state.grey = false;
  state.push({ kind: 'composite', layers: [layer] });
}
