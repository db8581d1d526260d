/**
 * Operations sharp has no primitive for, run on raw 8-bit RGB(A) pixels. Point operations walk the
 * buffer once in place; neighbourhood operations use sharp on single frames (never across frames).
 */

import type { Sharp } from 'sharp';
import { DIRECT_BLUR_MAX_SIGMA } from './colours.js';
import type { Deadline } from './deadline.js';
import { engineCall } from './engine-errors.js';
import type { Region } from './geometry.js';
import type { PixelPass } from './primitives.js';
import { frameData, fromOutput, joinFrames, openRaw, type RawImage, singleFrame } from './raw-image.js';

export async function runPixelPass(image: RawImage, pass: PixelPass, deadline: Deadline): Promise<RawImage> {
  switch (pass.kind) {
    case 'tone-curve':
      applyToneCurve(image, pass.table);
      return image;
    case 'vibrance':
      applyVibrance(image, pass.amount);
      return image;
    case 'enhance':
      applyEnhance(image, pass.strength);
      return image;
    case 'unsharp':
      return perFrame(image, async (frame) => {
        const blurred = await gaussian(frame, pass.sigma, deadline);
        blend(frame.data, blurred.data, pass.amount);
        return frame;
      });
    case 'blur-region':
      return perFrame(image, async (frame) => {
        await blurRegion(frame, pass.region, pass.sigma, deadline);
        return frame;
      });
    case 'wide-blur':
      return perFrame(image, (frame) => gaussian(frame, pass.sigma, deadline));
  }
}

async function perFrame(image: RawImage, work: (frame: RawImage) => Promise<RawImage>): Promise<RawImage> {
  const frames: RawImage[] = [];
  for (let index = 0; index < image.pages; index += 1) {
    frames.push(await work(singleFrame(frameData(image, index), image.width, image.frameHeight, image.channels)));
  }
  return joinFrames(frames);
}

/** Colour channels of a pixel (alpha, when present, is left alone). */
function colourChannels(image: RawImage): number {
  return image.channels >= 3 ? 3 : 1;
}

function applyToneCurve(image: RawImage, table: Uint8Array): void {
  const { data, channels } = image;
  const colours = colourChannels(image);
  for (let offset = 0; offset < data.length; offset += channels) {
    for (let channel = 0; channel < colours; channel += 1) data[offset + channel] = table[data[offset + channel]!]!;
  }
}

const clampByte = (value: number): number => (value <= 0 ? 0 : value >= 255 ? 255 : Math.round(value));

/**
 * Vibrance: each pixel's chroma (distance from its luma) is scaled by 1 + amount·(1 − s), where s is
 * its saturation (max − min)/255. Muted colours get the full boost, saturated ones almost none (which
 * is what keeps skin tones natural), greys have no chroma to scale. −100 (amount −1) desaturates muted
 * colours fully and leaves vivid ones; 500 multiplies the chroma of muted colours by up to 6.
 */
function applyVibrance(image: RawImage, amount: number): void {
  if (colourChannels(image) < 3) return;
  const { data, channels } = image;
  for (let offset = 0; offset < data.length; offset += channels) {
    const r = data[offset]!;
    const g = data[offset + 1]!;
    const b = data[offset + 2]!;
    const saturation = (Math.max(r, g, b) - Math.min(r, g, b)) / 255;
    const factor = Math.max(0, 1 + amount * (1 - saturation));
    const luma = 0.299 * r + 0.587 * g + 0.114 * b;
    data[offset] = clampByte(luma + factor * (r - luma));
    data[offset + 1] = clampByte(luma + factor * (g - luma));
    data[offset + 2] = clampByte(luma + factor * (b - luma));
  }
}

/** Share of pixels ignored at each end of a channel's histogram by auto levels (outliers, specks). */
const LEVELS_CLIP = 0.005;
/** Channels spanning fewer levels than this are flat: stretching them would only amplify noise. */
const LEVELS_MIN_SPAN = 8;
/** Chroma lift of enhance at full strength. */
const ENHANCE_SATURATION = 0.2;

/**
 * Uploadcare's enhance ("auto levels, auto contrast, saturation sharpening"), strength 0–1:
 * each colour channel is stretched so its 0.5th–99.5th percentiles span 0–255 (auto levels, which also
 * neutralises colour casts, and therefore auto contrast), blended with the original by strength; then
 * chroma is lifted by up to 20 %. Fully transparent pixels do not count.
 */
function applyEnhance(image: RawImage, strength: number): void {
  const { data, channels } = image;
  const colours = colourChannels(image);
  const hasAlpha = channels === 2 || channels === 4;
  const histograms = Array.from({ length: colours }, () => new Uint32Array(256));
  let counted = 0;
  for (let offset = 0; offset < data.length; offset += channels) {
    if (hasAlpha && data[offset + channels - 1] === 0) continue;
    for (let channel = 0; channel < colours; channel += 1) histograms[channel]![data[offset + channel]!]! += 1;
    counted += 1;
  }
  if (counted === 0) return;
  const tables = histograms.map((histogram) => levelsTable(histogram, counted, strength));
  const lift = 1 + ENHANCE_SATURATION * strength;
  for (let offset = 0; offset < data.length; offset += channels) {
    for (let channel = 0; channel < colours; channel += 1) data[offset + channel] = tables[channel]![data[offset + channel]!]!;
    if (colours === 3) {
      const r = data[offset]!;
      const g = data[offset + 1]!;
      const b = data[offset + 2]!;
      const luma = 0.299 * r + 0.587 * g + 0.114 * b;
      data[offset] = clampByte(luma + lift * (r - luma));
      data[offset + 1] = clampByte(luma + lift * (g - luma));
      data[offset + 2] = clampByte(luma + lift * (b - luma));
    }
  }
}

function levelsTable(histogram: Uint32Array, count: number, strength: number): Uint8Array {
  const clip = count * LEVELS_CLIP;
  let low = 0;
  for (let seen = 0; low < 255 && seen + histogram[low]! <= clip; low += 1) seen += histogram[low]!;
  let high = 255;
  for (let seen = 0; high > 0 && seen + histogram[high]! <= clip; high -= 1) seen += histogram[high]!;
  const table = new Uint8Array(256);
  const span = high - low;
  for (let level = 0; level < 256; level += 1) {
    const stretched = span >= LEVELS_MIN_SPAN ? ((level - low) * 255) / span : level;
    table[level] = clampByte(level + strength * (clampByte(stretched) - level));
  }
  return table;
}

/** original += amount × (blurred − original), in place. */
function blend(original: Buffer, blurred: Buffer, amount: number): void {
  for (let index = 0; index < original.length; index += 1) {
    const value = original[index]!;
    original[index] = clampByte(value + amount * (blurred[index]! - value));
  }
}

/** A Gaussian blur of one frame; wide ones run on a downscaled copy (see DIRECT_BLUR_MAX_SIGMA). */
async function gaussian(frame: RawImage, sigma: number, deadline: Deadline): Promise<RawImage> {
  if (sigma <= DIRECT_BLUR_MAX_SIGMA) {
    return toRaw('blurring', () => openRaw(frame).blur(sigma), deadline);
  }
  // Shrink so the remaining blur is σ = 8 px: enough samples for a smooth Gaussian, a small kernel.
  const factor = sigma / 8;
  const small = {
    width: Math.max(1, Math.round(frame.width / factor)),
    height: Math.max(1, Math.round(frame.frameHeight / factor)),
  };
  const smallSigma = Math.max(0.3, (sigma * small.width) / frame.width);
  const shrunk = await toRaw('blurring', () => openRaw(frame).resize({ ...small, fit: 'fill' }).blur(smallSigma), deadline);
  // Bicubic back up: lanczos would ring on the few remaining samples.
  return toRaw('blurring', () => openRaw(shrunk).resize({ width: frame.width, height: frame.frameHeight, fit: 'fill', kernel: 'cubic' }), deadline);
}

/** Blurs `region` of a frame in place; the blur reads a margin around it so its edges blend in. */
async function blurRegion(frame: RawImage, region: Region, sigma: number, deadline: Deadline): Promise<void> {
  const margin = Math.ceil(3 * Math.min(sigma, DIRECT_BLUR_MAX_SIGMA));
  const left = Math.max(0, region.left - margin);
  const top = Math.max(0, region.top - margin);
  const right = Math.min(frame.width, region.left + region.width + margin);
  const bottom = Math.min(frame.frameHeight, region.top + region.height + margin);
  const patch = await toRaw('blurring a region', () => openRaw(frame).extract({ left, top, width: right - left, height: bottom - top }), deadline);
  const blurred = await gaussian(patch, sigma, deadline);
  const { channels } = frame;
  const rowBytes = region.width * channels;
  for (let row = 0; row < region.height; row += 1) {
    const source = ((region.top - top + row) * blurred.width + (region.left - left)) * channels;
    const target = ((region.top + row) * frame.width + region.left) * channels;
    blurred.data.copy(frame.data, target, source, source + rowBytes);
  }
}

async function toRaw(doing: string, build: () => Sharp, deadline: Deadline): Promise<RawImage> {
  const { data, info } = await engineCall(doing, () =>
    build().timeout({ seconds: deadline.sharpSeconds() }).raw({ depth: 'uchar' }).toBuffer({ resolveWithObject: true }),
  );
  // These pipelines (blur, resize, extract alone) are ones where sharp's info size is right.
  return fromOutput(data, info, { width: info.width, height: info.height }, 1);
}
