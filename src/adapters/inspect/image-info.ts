/**
 * Builds Uploadcare's `image_info` from an image's header, never decoding pixels: sharp's
 * `metadata()` first, the minimal header parsers when sharp cannot read the header.
 */

import sharp, { type Metadata } from 'sharp';
import type { ImageInfo } from '../../domain/content-info.js';
import { readExifFacts } from './exif.js';
import type { ImageFormat } from './image-formats.js';
import { readImageHeader } from './image-header.js';
import { countSourcePages } from './source-pages.js';

/**
 * `image_info` for bytes already identified as `format`, or undefined when neither sharp nor the
 * header parser can make sense of the header (the file is still an image, just an unreadable one).
 * An image of more than `maxSharpPages` frames or pages is described by the header parser:
 * libvips' header read visits every one, in time that grows with their number.
 */
export async function readImageInfo(bytes: Buffer, format: ImageFormat, maxSharpPages = Number.POSITIVE_INFINITY): Promise<ImageInfo | undefined> {
  const counted = countSourcePages(bytes, maxSharpPages)?.count ?? 1;
  if (format.readableBySharp && counted <= maxSharpPages) {
    const metadata = await readSharpMetadata(bytes);
    if (metadata !== null) return imageInfoFromMetadata(metadata, format, counted);
  }
  const header = readImageHeader(bytes, format.name);
  if (header === null) return undefined;
  return {
    color_mode: header.colorMode,
    orientation: null,
    format: format.name,
    width: header.width,
    height: header.height,
    dpi: null,
    geo_location: null,
    datetime_original: null,
    sequence: format.alwaysSequence || header.sequence || counted > 1,
  };
}

async function readSharpMetadata(bytes: Buffer): Promise<Metadata | null> {
  try {
    // failOn 'none': a damaged body must not hide a readable header. No pixel limit: only the
    // header is read, and huge images are legitimate uploads.
    const metadata = await sharp(bytes, { failOn: 'none', limitInputPixels: false, animated: true }).metadata();
    return metadata.width > 0 && metadata.height > 0 ? metadata : null;
  } catch {
    return null;
  }
}

/** `counted`: frames or pages counted from the structure, which also sees a HEIF sequence libvips does not load. */
function imageInfoFromMetadata(metadata: Metadata, format: ImageFormat, counted: number): ImageInfo {
  const pages = metadata.pages ?? 1;
  const exif = readExifFacts(metadata.exif);
  return {
    color_mode: colorModeOf(metadata),
    orientation: validOrientation(metadata.orientation),
    format: format.name,
    width: metadata.width,
    height: frameHeight(metadata, pages),
    dpi: format.name === 'SVG' ? null : dpiOf(metadata),
    geo_location: exif.geoLocation,
    datetime_original: exif.datetimeOriginal,
    sequence: format.alwaysSequence || pages > 1 || counted > 1,
  };
}

/** With `animated: true` libvips stacks all frames vertically; Uploadcare reports one frame. */
function frameHeight(metadata: Metadata, pages: number): number {
  if (pages <= 1) return metadata.height;
  return metadata.pageHeight ?? Math.round(metadata.height / pages);
}

/**
 * Maps libvips' interpretation to Uploadcare's (PIL's) colour-mode names. Palette images are `P`
 * whatever their palette holds, as PIL reports them; 16-bit and scRGB variants collapse to their
 * 8-bit names because Uploadcare's API has no separate ones.
 */
function colorModeOf(metadata: Pick<Metadata, 'space' | 'hasAlpha' | 'isPalette'>): string {
  if (metadata.isPalette) return 'P';
  switch (metadata.space) {
    case 'b-w':
    case 'grey16':
      return metadata.hasAlpha ? 'LA' : 'L';
    case 'cmyk':
      return 'CMYK';
    case 'lab':
    case 'labq':
    case 'labs':
      return 'LAB';
    default:
      return metadata.hasAlpha ? 'RGBA' : 'RGB';
  }
}

function validOrientation(orientation: number | undefined): number | null {
  return orientation !== undefined && Number.isInteger(orientation) && orientation >= 1 && orientation <= 8
    ? orientation
    : null;
}

/**
 * libvips reports a default density (72) even for files that say nothing about resolution, but
 * it only sets a resolution unit when the file declares one (JFIF units, EXIF/TIFF
 * ResolutionUnit, PNG pHYs in metres), so a unit is the evidence that the density is real.
 */
function dpiOf(metadata: Metadata): [number, number] | null {
  const { density, resolutionUnit } = metadata;
  if (density === undefined || resolutionUnit === undefined || !(density > 0)) return null;
  const dpi = Math.round(density * 100) / 100;
  return [dpi, dpi];
}
