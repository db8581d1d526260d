/**
 * Images with known geometry and colours for the image engine tests, plus readers for what the
 * tests assert (pixels, JPEG quantisation). Everything is generated with sharp at test time.
 */

import { crc32, deflateSync } from 'node:zlib';
import sharp, { type Sharp } from 'sharp';

type Rgb = [number, number, number];

export const RED: Rgb = [255, 0, 0];
export const GREEN: Rgb = [0, 255, 0];
export const BLUE: Rgb = [0, 0, 255];
export const YELLOW: Rgb = [255, 255, 0];

const hex = ([r, g, b]: Rgb): string => `#${[r, g, b].map((v) => v.toString(16).padStart(2, '0')).join('')}`;

/**
 * A width×height image split into four quadrants: red top-left, green top-right, blue bottom-left,
 * yellow bottom-right — every rotation, mirror and crop moves them somewhere recognisable.
 */
export function quadrants(width: number, height: number): Sharp {
  const halfW = Math.floor(width / 2);
  const halfH = Math.floor(height / 2);
  const block = (w: number, h: number, colour: Rgb) => ({
    input: { create: { width: w, height: h, channels: 3 as const, background: hex(colour) } },
  });
  // composite() adds an alpha band; the fixture is opaque RGB.
  return sharp({ create: { width, height, channels: 3, background: '#000' } }).removeAlpha().composite([
    { ...block(halfW, halfH, RED), left: 0, top: 0 },
    { ...block(width - halfW, halfH, GREEN), left: halfW, top: 0 },
    { ...block(halfW, height - halfH, BLUE), left: 0, top: halfH },
    { ...block(width - halfW, height - halfH, YELLOW), left: halfW, top: halfH },
  ]);
}

export async function quadrantsPng(width = 200, height = 100): Promise<Buffer> {
  // Flatten the composite first: a second pipeline keeps libvips from re-running it per output.
  return sharp(await quadrants(width, height).png().toBuffer()).png().toBuffer();
}

export function solidPng(width: number, height: number, colour: Rgb | string, alpha = 1): Promise<Buffer> {
  const background = typeof colour === 'string' ? colour : { r: colour[0], g: colour[1], b: colour[2], alpha };
  return sharp({ create: { width, height, channels: alpha < 1 ? 4 : 3, background } }).png().toBuffer();
}

export function noisyJpeg(width: number, height: number, quality = 90): Promise<Buffer> {
  return sharp({ create: { width, height, channels: 3, background: '#000', noise: { type: 'gaussian', mean: 128, sigma: 40 } } })
    .jpeg({ quality })
    .toBuffer();
}

interface Pixels {
  data: Buffer;
  width: number;
  height: number;
  channels: number;
  at(x: number, y: number): number[];
}

/** Decodes to raw pixels (first frame unless `animated`) for assertions at known points. */
export async function pixels(image: Buffer, options: { animated?: boolean } = {}): Promise<Pixels> {
  const { data, info } = await sharp(image, { animated: options.animated ?? false }).raw().toBuffer({ resolveWithObject: true });
  return {
    data,
    width: info.width,
    height: info.height,
    channels: info.channels,
    at(x: number, y: number) {
      const offset = (y * info.width + x) * info.channels;
      return Array.from(data.subarray(offset, offset + info.channels));
    },
  };
}

/** True when every channel of `actual` is within `tolerance` of `expected` (JPEG is lossy). */
export function near(actual: readonly number[], expected: readonly number[], tolerance = 12): boolean {
  return expected.every((value, index) => Math.abs((actual[index] ?? Number.NaN) - value) <= tolerance);
}

/**
 * A PNG whose header declares `width`×`height` but whose image data is empty: libvips reads the size
 * from the header, and decoding would fail — for testing that a source is refused before decoding.
 */
export function pngHeaderOnly(width: number, height: number): Buffer {
  const chunk = (type: string, data: Buffer): Buffer => {
    const typeAndData = Buffer.concat([Buffer.from(type, 'latin1'), data]);
    const bytes = Buffer.alloc(4 + typeAndData.length + 4);
    bytes.writeUInt32BE(data.length, 0);
    typeAndData.copy(bytes, 4);
    bytes.writeUInt32BE(crc32(typeAndData), 4 + typeAndData.length);
    return bytes;
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 8; // bit depth
  ihdr[9] = 2; // colour type: RGB
  const signature = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  return Buffer.concat([signature, chunk('IHDR', ihdr), chunk('IDAT', deflateSync(Buffer.alloc(0))), chunk('IEND', Buffer.alloc(0))]);
}

/**
 * The first (luma) quantisation table's DC divisor of a baseline JPEG. libjpeg scales the standard
 * table's 16 by (200 − 2q)/100 for q ≥ 50, so a smaller divisor means a higher quality setting.
 */
export function jpegLumaDcDivisor(jpeg: Buffer): number {
  for (let offset = 2; offset < jpeg.length - 4; ) {
    if (jpeg[offset] !== 0xff) throw new Error('not a JPEG marker');
    const marker = jpeg[offset + 1]!;
    const length = jpeg.readUInt16BE(offset + 2);
    if (marker === 0xdb) return jpeg[offset + 5]!; // DQT: length(2) Pq/Tq(1) then 64 entries, DC first
    offset += 2 + length;
  }
  throw new Error('no quantisation table');
}
