/**
 * Uploadcare quality presets → encoder quality per format, and the content-aware `smart` choice.
 *
 * | preset   | JPEG | WebP | AVIF |
 * | -------- | ---- | ---- | ---- |
 * | lightest |  50  |  50  |  30  |
 * | lighter  |  65  |  65  |  40  |
 * | normal   |  80  |  80  |  50  |
 * | better   |  88  |  88  |  60  |
 * | best     |  95  |  95  |  72  |
 *
 * JPEG and WebP share libjpeg-style scales closely enough to use the same numbers. AVIF's scale is
 * lower for the same look (q50 AVIF ≈ q80 JPEG visually, at about half the bytes on photos), so it
 * has its own column. PNG is lossless and GIF palette-based: quality does not apply to them.
 *
 * `smart` measures the encoded pixels (see `smartJpegQuality`) and interpolates the chosen JPEG-scale
 * quality into the other formats' scales along this table.
 */

import type { OutputFormat, QualityPreset } from '../../domain/transform/operations.js';

type FixedPreset = Exclude<QualityPreset, 'smart' | 'smart_retina'>;
type LossyFormat = 'jpeg' | 'webp' | 'avif';

const PRESET_QUALITY: Readonly<Record<FixedPreset, Readonly<Record<LossyFormat, number>>>> = {
  lightest: { jpeg: 50, webp: 50, avif: 30 },
  lighter: { jpeg: 65, webp: 65, avif: 40 },
  normal: { jpeg: 80, webp: 80, avif: 50 },
  better: { jpeg: 88, webp: 88, avif: 60 },
  best: { jpeg: 95, webp: 95, avif: 72 },
};

const PRESETS_BY_JPEG_QUALITY = Object.values(PRESET_QUALITY).sort((a, b) => a.jpeg - b.jpeg);

export function isLossy(format: OutputFormat): format is LossyFormat {
  return format === 'jpeg' || format === 'webp' || format === 'avif';
}

export function isSmartPreset(preset: QualityPreset): preset is 'smart' | 'smart_retina' {
  return preset === 'smart' || preset === 'smart_retina';
}

function presetQuality(preset: FixedPreset, format: LossyFormat): number {
  return PRESET_QUALITY[preset][format];
}

/** Converts a JPEG-scale quality into `format`'s scale by linear interpolation along the preset table. */
function fromJpegScale(jpegQuality: number, format: LossyFormat): number {
  const rows = PRESETS_BY_JPEG_QUALITY;
  const first = rows[0]!;
  const last = rows[rows.length - 1]!;
  if (jpegQuality <= first.jpeg) return Math.round((first[format] * jpegQuality) / first.jpeg);
  if (jpegQuality >= last.jpeg) return Math.min(100, Math.round(last[format] + (jpegQuality - last.jpeg)));
  for (let index = 1; index < rows.length; index += 1) {
    const upper = rows[index]!;
    const lower = rows[index - 1]!;
    if (jpegQuality <= upper.jpeg) {
      const t = (jpegQuality - lower.jpeg) / (upper.jpeg - lower.jpeg);
      return Math.round(lower[format] + t * (upper[format] - lower[format]));
    }
  }
  return last[format];
}

interface ContentMeasure {
  /** Mean absolute luma difference between neighbouring pixels, 0–255 (0 = flat). */
  detail: number;
  /** Pixels per frame of the encoded image. */
  pixels: number;
}

const clamp01 = (value: number): number => Math.min(1, Math.max(0, value));

/**
 * The smart heuristic, on the JPEG scale:
 *
 *   quality = 90 − 10·busy − 6·large   (smart_retina: 8 lower)
 *
 * - busy = (detail − 2) / 14, clamped to 0–1. Detail is the mean luma step between neighbours: ≤ 2 for
 *   flat graphics, gradients and skies (where blocking and banding show, so quality stays high), ≥ 16
 *   for foliage, textures and noise (which mask compression artefacts, so quality can drop).
 * - large = log2(pixels / 250 000) / 3, clamped to 0–1: 0 up to ~500×500 (thumbnails are looked at
 *   closely and cost few bytes anyway), 1 from ~2 MP up (big images are seen downscaled).
 * - smart_retina images are shown at 2× density, so artefacts appear at half size: 8 points lower.
 *
 * Range: 74–90 for smart, 66–82 for smart_retina (normal is 80).
 */
function smartJpegQuality(measure: ContentMeasure, retina: boolean): number {
  const busy = clamp01((measure.detail - 2) / 14);
  const large = clamp01(Math.log2(Math.max(1, measure.pixels) / 250_000) / 3);
  return Math.round(90 - 10 * busy - 6 * large - (retina ? 8 : 0));
}

/** Encoder quality for `preset` in `format`; smart presets need the content measure. */
export function encoderQuality(preset: QualityPreset, format: LossyFormat, measure: ContentMeasure | null): number {
  if (!isSmartPreset(preset)) return presetQuality(preset, format);
  if (measure === null) return presetQuality('normal', format);
  return fromJpegScale(smartJpegQuality(measure, preset === 'smart_retina'), format);
}

/**
 * Detail of raw 8-bit RGB(A) pixels (one frame is enough): the mean of |Δluma| to the right and
 * below neighbours, sampled on a grid of at most ~250 000 points so the cost stays under a few ms.
 */
export function measureDetail(data: Uint8Array, width: number, height: number, channels: number): number {
  if (width < 2 || height < 2) return 0;
  const step = Math.max(1, Math.floor(Math.sqrt((width * height) / 250_000)));
  const luma = (offset: number): number =>
    channels >= 3 ? (77 * data[offset]! + 150 * data[offset + 1]! + 29 * data[offset + 2]!) >> 8 : data[offset]!;
  let total = 0;
  let samples = 0;
  for (let y = 0; y < height - 1; y += step) {
    for (let x = 0; x < width - 1; x += step) {
      const offset = (y * width + x) * channels;
      const here = luma(offset);
      total += Math.abs(here - luma(offset + channels)) + Math.abs(here - luma(offset + width * channels));
      samples += 2;
    }
  }
  return samples === 0 ? 0 : total / samples;
}
