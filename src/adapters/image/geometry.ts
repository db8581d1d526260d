/**
 * Plain geometry the engine computes itself (instead of leaving it to sharp's canvas logic), so
 * that every output size is known before a pixel is decoded and limits can be enforced up front.
 */

import type { HorizontalEdge, Length, VerticalEdge } from '../../domain/transform/operations.js';

export interface Size {
  readonly width: number;
  readonly height: number;
}

export interface Region {
  readonly left: number;
  readonly top: number;
  readonly width: number;
  readonly height: number;
}

export interface Padding {
  readonly top: number;
  readonly right: number;
  readonly bottom: number;
  readonly left: number;
}

export function sameSize(a: Size, b: Size): boolean {
  return a.width === b.width && a.height === b.height;
}

export function pixelsOf(size: Size): number {
  return size.width * size.height;
}

/** A computed side length: rounded, and never below one pixel (libvips cannot make empty images). */
export function side(value: number): number {
  return Math.max(1, Math.round(value));
}

export function clamp(value: number, min: number, max: number): number {
  return Math.min(max, Math.max(min, value));
}

/** A Length resolved against the dimension it is relative to (percent) — unrounded. */
export function lengthToPixels(length: Length, reference: number): number {
  return length.unit === 'px' ? length.value : (length.value * reference) / 100;
}

/** Offset of a span of `inner` pixels aligned inside `outer` pixels; centre rounds down like libvips. */
export function alignOffset(outer: number, inner: number, edge: HorizontalEdge | VerticalEdge): number {
  if (edge === 'left' || edge === 'top') return 0;
  if (edge === 'right' || edge === 'bottom') return outer - inner;
  return Math.floor((outer - inner) / 2);
}

export function isFullRegion(region: Region, size: Size): boolean {
  return region.left === 0 && region.top === 0 && region.width === size.width && region.height === size.height;
}

export function isZeroPadding(padding: Padding): boolean {
  return padding.top === 0 && padding.right === 0 && padding.bottom === 0 && padding.left === 0;
}

export function paddedSize(size: Size, padding: Padding): Size {
  return { width: size.width + padding.left + padding.right, height: size.height + padding.top + padding.bottom };
}

/** Padding that centres `inner` in `outer` (extra odd pixel goes right/bottom). */
export function centredPadding(inner: Size, outer: Size): Padding {
  const left = Math.floor((outer.width - inner.width) / 2);
  const top = Math.floor((outer.height - inner.height) / 2);
  return { top, left, right: outer.width - inner.width - left, bottom: outer.height - inner.height - top };
}

/** Largest size with the aspect ratio of `size` that fits inside `box`; may enlarge. */
export function fitInside(size: Size, box: Size): Size {
  // Compare ratios by cross-multiplication so equal ratios do not flip on floating-point noise.
  if (size.width * box.height >= size.height * box.width) {
    return { width: box.width, height: side((size.height * box.width) / size.width) };
  }
  return { width: side((size.width * box.height) / size.height), height: box.height };
}

/** Smallest size with the aspect ratio of `size` that covers `box`; may enlarge. */
export function coverBox(size: Size, box: Size): Size {
  if (size.width * box.height >= size.height * box.width) {
    return { width: Math.max(box.width, side((size.width * box.height) / size.height)), height: box.height };
  }
  return { width: box.width, height: Math.max(box.height, side((size.height * box.width) / size.width)) };
}

/**
 * An element of the dihedral group D4 — every combination of quarter turns and mirrors — as
 * "mirror left-right first (when `mirrored`), then turn clockwise `quarterTurns` times". Sharp applies
 * flop before rotation whatever the call order, which is exactly this normal form.
 */
export interface Orientation {
  readonly mirrored: boolean;
  readonly quarterTurns: 0 | 1 | 2 | 3;
}

export const UPRIGHT: Orientation = { mirrored: false, quarterTurns: 0 };

function quarter(turns: number): 0 | 1 | 2 | 3 {
  return (((turns % 4) + 4) % 4) as 0 | 1 | 2 | 3;
}

export function rotation(quarterTurns: 0 | 1 | 2 | 3): Orientation {
  return { mirrored: false, quarterTurns };
}

/** Mirror left-right (Uploadcare `mirror`, sharp `flop`). */
export const MIRROR: Orientation = { mirrored: true, quarterTurns: 0 };
/** Mirror top-bottom (Uploadcare `flip`) = mirror left-right, then half a turn. */
export const FLIP: Orientation = { mirrored: true, quarterTurns: 2 };

export function isUpright(orientation: Orientation): boolean {
  return !orientation.mirrored && orientation.quarterTurns === 0;
}

/** `first`, then `second`. Uses M·R^k = R^-k·M: a mirror reverses the direction of earlier turns. */
export function thenOrient(first: Orientation, second: Orientation): Orientation {
  return {
    mirrored: first.mirrored !== second.mirrored,
    quarterTurns: quarter(second.quarterTurns + (second.mirrored ? -first.quarterTurns : first.quarterTurns)),
  };
}

export function inverseOrientation(orientation: Orientation): Orientation {
  // (R^q·M)^-1 = M·R^-q = R^q·M: a mirrored element is its own inverse.
  return orientation.mirrored ? orientation : rotation(quarter(-orientation.quarterTurns));
}

export function orientedSize(size: Size, orientation: Orientation): Size {
  return orientation.quarterTurns % 2 === 1 ? { width: size.height, height: size.width } : size;
}

/** Where `region` of an image of `size` lands once the image is reoriented by `orientation`. */
export function orientRegion(region: Region, size: Size, orientation: Orientation): Region {
  let current = region;
  let { width, height } = size;
  if (orientation.mirrored) current = { ...current, left: width - current.left - current.width };
  for (let turn = 0; turn < orientation.quarterTurns; turn += 1) {
    // A clockwise quarter turn maps pixel (x, y) of a W×H image to (H-1-y, x).
    current = { left: height - current.top - current.height, top: current.left, width: current.height, height: current.width };
    [width, height] = [height, width];
  }
  return current;
}
