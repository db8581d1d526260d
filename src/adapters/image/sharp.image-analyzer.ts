import { encode as blurhashOf } from 'blurhash';
import sharp from 'sharp';
import { rgbaToThumbHash } from 'thumbhash';
import type { ImageFingerprint } from '../../domain/image-analysis.js';
import { differenceHash, fitWithin, paletteOf, resizeRgba, type RgbaImage } from '../../domain/image-pixels.js';
import { ImageAnalysisError, type ImageAnalyzer } from '../../ports/image-analyzer.js';

/** The one decode: ThumbHash takes at most 100 px a side, and everything else is computed from less. */
const DECODE_SIDE = 100;
const BLURHASH_WIDTH = 32;
const BLURHASH_COMPONENTS = { x: 4, y: 3 };
const PALETTE_SIDE = 64;
const PALETTE_COLOURS = 5;

/**
 * One sharp pipeline per image: the first frame, turned upright by its EXIF orientation, shrunk on
 * load where the format allows (JPEG) and resized to fit 100 × 100, as sRGB RGBA bytes. The hashes
 * and colours are then computed from those few pixels.
 */
export class SharpImageAnalyzer implements ImageAnalyzer {
  async analyze(source: Buffer, limits: { maxSourcePixels: number; timeoutMs: number }): Promise<ImageFingerprint> {
    const pixels = await decodeSmall(source, limits);
    return fingerprintOf(pixels);
  }
}

async function decodeSmall(source: Buffer, limits: { maxSourcePixels: number; timeoutMs: number }): Promise<RgbaImage> {
  try {
    const { data, info } = await sharp(source, { failOn: 'error', limitInputPixels: limits.maxSourcePixels, pages: 1 })
      .rotate()
      .resize(DECODE_SIDE, DECODE_SIDE, { fit: 'inside', withoutEnlargement: true })
      .toColourspace('srgb')
      .ensureAlpha()
      .raw({ depth: 'uchar' })
      .timeout({ seconds: Math.max(1, Math.ceil(limits.timeoutMs / 1000)) })
      .toBuffer({ resolveWithObject: true });
    return { width: info.width, height: info.height, data: new Uint8Array(data.buffer, data.byteOffset, data.byteLength) };
  } catch (error) {
    throw new ImageAnalysisError(`the image could not be decoded: ${error instanceof Error ? error.message : String(error)}`);
  }
}

/** The fingerprint of decoded pixels (at most 100 px a side). */
export function fingerprintOf(pixels: RgbaImage): ImageFingerprint {
  const blurSize = { width: Math.min(BLURHASH_WIDTH, pixels.width), height: Math.max(1, Math.round((pixels.height * Math.min(BLURHASH_WIDTH, pixels.width)) / pixels.width)) };
  const blurPixels = resizeRgba(pixels, blurSize.width, blurSize.height);
  const paletteSize = fitWithin(pixels.width, pixels.height, PALETTE_SIDE);
  const palette = paletteOf(resizeRgba(pixels, paletteSize.width, paletteSize.height), PALETTE_COLOURS).map((entry) => entry.color);
  return {
    thumbhash: Buffer.from(rgbaToThumbHash(pixels.width, pixels.height, pixels.data)).toString('base64'),
    blurhash: blurhashOf(new Uint8ClampedArray(blurPixels.data.buffer, blurPixels.data.byteOffset, blurPixels.data.byteLength), blurSize.width, blurSize.height, BLURHASH_COMPONENTS.x, BLURHASH_COMPONENTS.y),
    // A fully transparent image has no visible colour; white is what it shows over.
    dominantColor: palette[0] ?? '#ffffff',
    palette,
    phash: differenceHash(pixels),
  };
}
