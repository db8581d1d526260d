/**
 * Uploadcare's effect scales mapped to sharp/libvips parameters. Uploadcare documents the ranges and
 * zero points but not the curves, so every mapping below is ours; each is chosen so the zero point is
 * the identity, the documented extreme is strong but not degenerate, and the sign means what the
 * documentation says.
 */

import type { Rgba } from '../../domain/transform/operations.js';
import type { Matrix3 } from './primitives.js';

export interface LinearAdjustment {
  multiply: number;
  add: number;
}

/**
 * brightness −100…100: "the value gets added to each colour channel; out-of-range values are cut".
 * The value is a percentage of the channel range, so 100 adds 255 (white) and −100 subtracts it.
 */
export function brightnessAdjustment(value: number): LinearAdjustment {
  return { multiply: 1, add: (value * 255) / 100 };
}

/**
 * contrast −100…500: slope 1 + value/100 around mid-grey (127.5). −100 flattens to grey, 100 doubles
 * the distance from mid-grey, 500 is a ×6 slope that clips most of the range (Uploadcare warns that
 * high contrast loses both bright and dark details).
 */
export function contrastAdjustment(value: number): LinearAdjustment {
  const slope = Math.max(0, 1 + value / 100);
  return { multiply: slope, add: 127.5 * (1 - slope) };
}

/** `second` after `first`: second.m·(first.m·x + first.a) + second.a. */
export function thenLinear(first: LinearAdjustment, second: LinearAdjustment): LinearAdjustment {
  return { multiply: first.multiply * second.multiply, add: second.multiply * first.add + second.add };
}

/**
 * saturation −100…500: chroma multiplier 1 + value/100 in LCh (sharp `modulate`), so −100 is fully
 * grey and 500 is six times the chroma; lightness is untouched.
 */
export function saturationFactor(value: number): number {
  return Math.max(0, 1 + value / 100);
}

/**
 * warmth −100…100: a white-balance shift as channel gains, red × (1 + 0.2·t) and blue × (1 − 0.2·t)
 * with t = value/100. ±20 % on the two ends of the spectrum is a clearly visible but still natural
 * "warm"/"cool" cast at the extremes; green stays, so neutral greys tint without losing brightness.
 */
export function warmthMatrix(value: number): Matrix3 {
  const t = value / 100;
  return [
    [1 + 0.2 * t, 0, 0],
    [0, 1, 0],
    [0, 0, 1 - 0.2 * t],
  ];
}

export function thenMatrix(first: Matrix3, second: Matrix3): Matrix3 {
  const product = (row: number, column: number): number =>
    second[row]![0] * first[0][column]! + second[row]![1] * first[1][column]! + second[row]![2] * first[2][column]!;
  return [
    [product(0, 0), product(0, 1), product(0, 2)],
    [product(1, 0), product(1, 1), product(1, 2)],
    [product(2, 0), product(2, 1), product(2, 2)],
  ];
}

/**
 * exposure −500…500 as a tone curve out = in^(2^(−value/100)) on 0–1 values. Uploadcare says exposure,
 * unlike brightness, compresses values instead of clipping them: a power curve keeps black and white
 * fixed and never clips. value/100 behaves like photographic stops in the mid-tones: +100 maps mid-grey
 * 0.5 to 0.71, close to what doubling linear light does in sRGB (0.69).
 */
export function exposureTable(value: number): Uint8Array {
  const exponent = 2 ** (-value / 100);
  const table = new Uint8Array(256);
  for (let level = 0; level < 256; level += 1) table[level] = Math.round(255 * (level / 255) ** exponent);
  return table;
}

/**
 * Blur strength 0–5000. Uploadcare: "strength controls the Gaussian blur standard deviation multiplied
 * by ten", i.e. sigma = strength / 10 (the default 10 is a 1 px sigma, 100 a 10 px one). libvips needs
 * sigma ≥ 0.3, so the smallest strengths all give that minimal blur.
 */
export function blurSigma(strength: number): number {
  return Math.max(0.3, strength / 10);
}

/**
 * Sigma above which a Gaussian is run on a downscaled copy. libvips' kernel grows linearly with sigma
 * (a 5000 strength would be a ~1800-tap kernel); past ~20 px the detail a full-resolution blur keeps is
 * invisible anyway, so shrinking first gives the same picture at a bounded cost.
 */
export const DIRECT_BLUR_MAX_SIGMA = 20;

export interface SharpenSettings {
  sigma: number;
  flat: number;
  jagged: number;
}

/**
 * sharp strength 0–20 (default 5) as libvips' L-channel unsharp mask: radius sigma = 0.5 + s/20 (0.75 px
 * at the default, 1.5 px at 20 — fine detail, as wanted after downscaling), gain on edges ("jagged")
 * s/4 and in flat areas s/10 (half of it, so noise and JPEG blocks are not amplified as much as edges).
 */
export function sharpenSettings(strength: number): SharpenSettings {
  return { sigma: 0.5 + strength / 20, flat: strength / 10, jagged: strength / 4 };
}

/** Composite `colour` over an opaque `backdrop`: what a transparent background becomes in a JPEG. */
export function opaqueOver(colour: Rgba, backdrop: Rgba): Rgba {
  const alpha = colour.alpha / 255;
  const mix = (top: number, bottom: number): number => Math.round(top * alpha + bottom * (1 - alpha));
  return { r: mix(colour.r, backdrop.r), g: mix(colour.g, backdrop.g), b: mix(colour.b, backdrop.b), alpha: 255 };
}

export function isGreyColour(colour: Rgba): boolean {
  return colour.r === colour.g && colour.g === colour.b;
}

/** sharp's colour option format (alpha 0–1). */
export function sharpColour(colour: Rgba): { r: number; g: number; b: number; alpha: number } {
  return { r: colour.r, g: colour.g, b: colour.b, alpha: colour.alpha / 255 };
}
