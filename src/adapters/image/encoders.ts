/** Output side of the final pipeline: colour space, metadata policy and per-format encoder options. */

import type { Sharp } from 'sharp';
import type { OutputFormat, OutputSettings } from '../../domain/transform/operations.js';

export const CONTENT_TYPES: Readonly<Record<OutputFormat, string>> = {
  jpeg: 'image/jpeg',
  png: 'image/png',
  webp: 'image/webp',
  avif: 'image/avif',
  gif: 'image/gif',
};

/** Formats that keep an alpha channel (GIF: one transparent palette entry). */
export const ALPHA_FORMATS: ReadonlySet<OutputFormat> = new Set(['png', 'webp', 'avif', 'gif']);

/** Largest side each encoder accepts (libwebp 16383, AV1 in HEIF 16384, JPEG/GIF 16-bit sizes). */
export const FORMAT_MAX_SIDE: Readonly<Record<OutputFormat, number>> = {
  jpeg: 65_535,
  png: 2 ** 31 - 1,
  webp: 16_383,
  avif: 16_384,
  gif: 65_535,
};

export interface EncoderEfforts {
  avif: number;
  webp: number;
}

interface AnimationTiming {
  /** Per-frame delays in ms, as read from the source. */
  delay: number[] | undefined;
  /** Loop count, 0 = forever. */
  loop: number | undefined;
}

/** JPEG at or above this quality keeps full-resolution colour (4:4:4): chroma blur shows at "best". */
const JPEG_FULL_CHROMA_FROM_QUALITY = 90;

export function applyEncoder(
  pipeline: Sharp,
  format: OutputFormat,
  quality: number | null,
  settings: Pick<OutputSettings, 'progressive'>,
  animation: AnimationTiming | null,
  efforts: EncoderEfforts,
): Sharp {
  const timing = animation === null ? {} : { ...(animation.delay ? { delay: animation.delay } : {}), loop: animation.loop ?? 0 };
  switch (format) {
    case 'jpeg': {
      const q = quality ?? 80;
      // Huffman optimisation is cheap and on by sharp's default; trellis quantisation and scan
      // optimisation (mozjpeg's extras) cost 4–6× the encode time here, too much on the fly.
      return pipeline.jpeg({
        quality: q,
        progressive: settings.progressive,
        chromaSubsampling: q >= JPEG_FULL_CHROMA_FROM_QUALITY ? '4:4:4' : '4:2:0',
        optimiseCoding: true,
      });
    }
    case 'png':
      // Lossless; zlib level 6 is libpng's balance of size and speed. Progressive = Adam7 interlace.
      return pipeline.png({ progressive: settings.progressive, compressionLevel: 6, adaptiveFiltering: false });
    case 'webp':
      return pipeline.webp({ quality: quality ?? 80, effort: efforts.webp, ...timing });
    case 'avif':
      return pipeline.avif({ quality: quality ?? 50, effort: efforts.avif, chromaSubsampling: '4:2:0' });
    case 'gif':
      // Progressive = interlaced GIF.
      return pipeline.gif({ progressive: settings.progressive, ...timing });
  }
}

interface MetadataContext {
  stripMeta: OutputSettings['stripMeta'];
  /** The source's ICC profile. */
  sourceProfile: 'none' | 'srgb' | 'other';
  /** The pipeline reads the source itself (not raw pixels), so there is source metadata to keep. */
  fromSource: boolean;
  /** One-channel output: an RGB profile would not fit it. */
  grey: boolean;
}

/**
 * Pixels always end up sRGB (sharp converts from the embedded profile, CMYK included).
 * - `all`: no metadata at all (sharp's default).
 * - `sensitive`: no EXIF/XMP/IPTC (GPS, camera serials, names); a source that had a colour profile
 *   keeps one: its own when it is sRGB and the pipeline reads the source (nothing to convert, so
 *   nothing is), otherwise an sRGB profile after conversion (one extra colour transform of the output).
 * - `none`: as `sensitive`, plus EXIF and XMP when the pipeline still reads the source.
 *   sharp's keepMetadata() is not used: it keeps *any* source profile and skips the conversion, which
 *   would mislabel CMYK or greyscale results.
 */
export function applyMetadataPolicy(pipeline: Sharp, context: MetadataContext): Sharp {
  let result = pipeline;
  if (context.stripMeta === 'all') return result;
  if (context.stripMeta === 'none' && context.fromSource) result = result.keepExif().keepXmp();
  if (context.sourceProfile === 'none' || context.grey) return result;
  return context.sourceProfile === 'srgb' && context.fromSource ? result.keepIccProfile() : result.withIccProfile('srgb');
}

/** Final colour space (8-bit sRGB or 8-bit grey, which also turns 16-bit sources into 8-bit). */
export function applyOutputColour(pipeline: Sharp, grey: boolean, dropAlpha: boolean): Sharp {
  const result = dropAlpha ? pipeline.removeAlpha() : pipeline;
  return result.toColourspace(grey ? 'b-w' : 'srgb');
}
