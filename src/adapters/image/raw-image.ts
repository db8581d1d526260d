/**
 * Decoded 8-bit pixels held between two sharp pipelines. Frames of an animation are stacked
 * vertically (libvips' "toilet roll"), `frameHeight` rows each.
 */

import sharp, { type OutputInfo, type Sharp } from 'sharp';
import type { Size } from './geometry.js';

export type Channels = 1 | 2 | 3 | 4;

export interface RawImage {
  data: Buffer;
  width: number;
  frameHeight: number;
  pages: number;
  channels: Channels;
}

function frameBytes(image: RawImage): number {
  return image.width * image.frameHeight * image.channels;
}

/** A view (no copy) of one frame's bytes. */
export function frameData(image: RawImage, index: number): Buffer {
  const bytes = frameBytes(image);
  return image.data.subarray(index * bytes, (index + 1) * bytes);
}

export function singleFrame(data: Buffer, width: number, height: number, channels: Channels): RawImage {
  return { data, width, frameHeight: height, pages: 1, channels };
}

/** Opens raw pixels as a sharp input; a multi-frame image keeps its frame structure. */
export function openRaw(image: RawImage): Sharp {
  const animated = image.pages > 1;
  return sharp(image.data, {
    raw: {
      width: image.width,
      height: image.frameHeight * image.pages,
      channels: image.channels,
      ...(animated ? { pageHeight: image.frameHeight } : {}),
    },
    animated,
    // These pixels already passed the source limits; intermediate sizes are checked by the planner.
    limitInputPixels: false,
  });
}

/**
 * Wraps sharp's raw output using the size the planner computed. sharp's `info` is not trusted for the
 * size: it reports the extract size when an extend follows a post-resize extract (sharp 0.35).
 * The byte count is checked instead, so a wrong plan fails loudly rather than garbling pixels.
 */
export function fromOutput(data: Buffer, info: OutputInfo, frame: Size, pages: number): RawImage {
  const channels = info.channels;
  const expected = frame.width * frame.height * pages * channels;
  if (data.length !== expected) {
    throw new Error(
      `internal: expected ${pages} frame(s) of ${frame.width}×${frame.height}×${channels} (${expected} bytes), sharp produced ${data.length} bytes`,
    );
  }
  return { data, width: frame.width, frameHeight: frame.height, pages, channels };
}

/**
 * Grey pixels as RGB(A). sharp keeps a greyscaled image one-channel even when asked for sRGB, and a
 * later pipeline reading one channel would turn coloured fills and overlays grey.
 */
export function asColour(image: RawImage): RawImage {
  if (image.channels >= 3) return image;
  const alpha = image.channels === 2;
  const channels = alpha ? 4 : 3;
  const pixelCount = image.data.length / image.channels;
  const data = Buffer.allocUnsafe(pixelCount * channels);
  for (let pixel = 0; pixel < pixelCount; pixel += 1) {
    const level = image.data[pixel * image.channels]!;
    const offset = pixel * channels;
    data[offset] = level;
    data[offset + 1] = level;
    data[offset + 2] = level;
    if (alpha) data[offset + 3] = image.data[pixel * 2 + 1]!;
  }
  return { ...image, data, channels };
}

/** Stacks frames of equal size back into one image. */
export function joinFrames(frames: readonly RawImage[]): RawImage {
  const first = frames[0];
  if (first === undefined) throw new Error('internal: no frames to join');
  if (frames.length === 1) return first;
  return { ...first, data: Buffer.concat(frames.map((frame) => frame.data)), pages: frames.length };
}
