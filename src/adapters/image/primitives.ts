/**
 * The engine's own vocabulary: each plan operation is lowered into these primitives, whose output
 * size is known without decoding. The pipeline planner then packs consecutive primitives into as
 * few sharp pipelines as sharp's fixed internal order allows.
 */

import type { Rgba } from '../../domain/transform/operations.js';
import type { Orientation, Padding, Region, Size } from './geometry.js';
import { orientedSize, paddedSize } from './geometry.js';

/** Row-major 3×3 colour matrix applied to (r, g, b). */
export type Matrix3 = [[number, number, number], [number, number, number], [number, number, number]];

/** One image laid over the current one by a sharp `composite`. */
export type Layer =
  | {
      kind: 'overlay';
      source: Buffer;
      /** Size the overlay is resized to. */
      size: Size;
      /** Part of the resized overlay that falls inside the image (the rest is cut off). */
      visible: Region;
      /** Position of the visible part on the image. */
      left: number;
      top: number;
      /** 0–1, multiplies the overlay's alpha. */
      opacity: number;
    }
  | {
      kind: 'corners';
      size: Size;
      /** Radii in pixels: top-left, top-right, bottom-right, bottom-left. */
      radii: readonly [number, number, number, number];
      /** `mask`: make the corners transparent; `paint`: cover them with `colour`. */
      mode: 'mask' | 'paint';
      colour: Rgba;
    };

/** Work done in JavaScript on raw pixels between sharp pipelines (nothing in sharp expresses it). */
export type PixelPass =
  /** A 256-entry tone curve applied to the colour channels (exposure). */
  | { kind: 'tone-curve'; table: Uint8Array }
  /** Saturation boost weighted towards muted colours; amount is Uploadcare's value / 100. */
  | { kind: 'vibrance'; amount: number }
  /** Auto levels per channel plus a saturation lift; strength 0–1. */
  | { kind: 'enhance'; strength: number }
  /** original + amount × (blurred − original): amount 1 is a plain blur, negative is unsharp masking. */
  | { kind: 'unsharp'; sigma: number; amount: number }
  | { kind: 'blur-region'; region: Region; sigma: number }
  /** A Gaussian blur too wide to run directly: done on a downscaled copy, then scaled back. */
  | { kind: 'wide-blur'; sigma: number };

export type Primitive =
  | { kind: 'orient'; orientation: Orientation }
  | { kind: 'extract'; region: Region }
  /** Resize to exactly this size (sharp `fit: 'fill'`); the engine computes proportions itself. */
  | { kind: 'resize'; size: Size }
  /** libvips smartcrop to `size`; with `scale` the image is first scaled to cover it. */
  | { kind: 'attention-crop'; size: Size; scale: boolean }
  | { kind: 'extend'; padding: Padding; background: Rgba }
  /** Remove transparency over an opaque colour (outputs without alpha). */
  | { kind: 'flatten'; background: Rgba }
  | { kind: 'greyscale' }
  | { kind: 'negate' }
  | { kind: 'blur'; sigma: number }
  | { kind: 'sharpen'; sigma: number; flat: number; jagged: number }
  | { kind: 'recomb'; matrix: Matrix3 }
  | { kind: 'saturation'; factor: number }
  /** out = multiply × in + add on every colour channel (alpha untouched). */
  | { kind: 'linear'; multiply: number; add: number }
  | { kind: 'composite'; layers: Layer[] }
  | { kind: 'pixels'; pass: PixelPass };

export function sizeAfter(primitive: Primitive, size: Size): Size {
  switch (primitive.kind) {
    case 'orient':
      return orientedSize(size, primitive.orientation);
    case 'extract':
      return { width: primitive.region.width, height: primitive.region.height };
    case 'resize':
    case 'attention-crop':
      return primitive.size;
    case 'extend':
      return paddedSize(size, primitive.padding);
    default:
      return size;
  }
}
