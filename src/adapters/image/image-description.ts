/**
 * `-/json/`: Uploadcare's image-info fields describing the image the plan would produce. Computed
 * from the source header and the planned geometry — nothing is decoded.
 */

import type { TransformPlan } from '../../domain/transform/operations.js';
import { readExifFacts } from '../inspect/exif.js';
import type { LoweredPlan } from './operation-lowering.js';
import type { SourceHeader } from './source-header.js';

/** Uploadcare's upper-case format names. */
const FORMAT_NAMES: Readonly<Record<string, string>> = {
  jpeg: 'JPEG',
  png: 'PNG',
  webp: 'WEBP',
  avif: 'AVIF',
  gif: 'GIF',
  heif: 'HEIC',
  tiff: 'TIFF',
  svg: 'SVG',
};

interface DescriptionContext {
  header: SourceHeader;
  plan: TransformPlan;
  lowered: LoweredPlan;
  /** The output keeps alpha (format known and alpha-capable, or the source's format is). */
  alpha: boolean;
  animated: boolean;
}

export function describeImage({ header, plan, lowered, alpha, animated }: DescriptionContext): Record<string, unknown> {
  const { output } = plan;
  const explicitFormat = output.format === 'auto' || output.format === 'preserve' ? null : output.format;
  const format = explicitFormat ?? header.format;
  const keepsAlpha = alpha && !lowered.opaque;
  // EXIF facts survive only when the result keeps EXIF (strip_meta none); otherwise reporting them
  // would reveal what the delivered image no longer contains.
  const exif = output.stripMeta === 'none' ? readExifFacts(header.metadata.exif) : null;
  return {
    width: lowered.size.width,
    height: lowered.size.height,
    format: FORMAT_NAMES[format] ?? format.toUpperCase(),
    color_mode: lowered.grey ? (keepsAlpha ? 'LA' : 'L') : keepsAlpha ? 'RGBA' : 'RGB',
    // Applied autorotation leaves the pixels upright (orientation 1) and drops the tag.
    orientation: output.autorotate ? (header.metadata.orientation === undefined ? null : 1) : header.metadata.orientation ?? null,
    dpi: dpiOf(header),
    geo_location: exif?.geoLocation ?? null,
    datetime_original: exif?.datetimeOriginal ?? null,
    sequence: animated,
  };
}

/** Same rule as file info: a density counts only when the file declares a resolution unit. */
function dpiOf(header: SourceHeader): [number, number] | null {
  const { density, resolutionUnit } = header.metadata;
  if (header.format === 'svg' || density === undefined || resolutionUnit === undefined || !(density > 0)) return null;
  const dpi = Math.round(density * 100) / 100;
  return [dpi, dpi];
}
