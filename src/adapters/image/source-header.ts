/** What the engine reads from an image's header before deciding anything (no pixel is decoded). */

import sharp, { type Metadata } from 'sharp';
import type { OutputFormat } from '../../domain/transform/operations.js';
import { EngineError, type EngineLimits, type ImageProbe } from '../../ports/image-engine.js';
import { countSourcePages, tooManyPages, type SourcePages } from '../inspect/source-pages.js';
import { engineCall } from './engine-errors.js';
import { isSrgbProfile } from './icc.js';
import type { Size } from './geometry.js';

export interface SourceHeader {
  /** Probe format name: jpeg, png, webp, gif, avif, heif, tiff, svg… */
  format: string;
  width: number;
  /** Height of one frame/page. */
  frameHeight: number;
  pages: number;
  hasAlpha: boolean;
  /** EXIF orientation 1–8 (1 when absent). */
  orientation: number;
  /** One grey channel (plus alpha), 8- or 16-bit. */
  grey: boolean;
  /** The embedded ICC profile: none, sRGB itself, or another space (wide-gamut, CMYK…). */
  profile: 'none' | 'srgb' | 'other';
  metadata: Metadata;
}

/** Formats whose pages are the frames of an animation (multi-page TIFF/HEIF pages are documents). */
const ANIMATION_FORMATS: ReadonlySet<string> = new Set(['gif', 'webp']);
/** Formats whose every page libvips' header read visits, as `pages` reports them. */
const PAGE_KINDS: ReadonlyMap<string, SourcePages['kind']> = new Map([['gif', 'animation'], ['webp', 'animation'], ['tiff', 'tiff']]);
/** Outputs that can carry an animation. */
export const ANIMATED_OUTPUTS: ReadonlySet<OutputFormat> = new Set(['gif', 'webp']);

/**
 * Headers already read, by source buffer. The delivery path probes a source (to negotiate the output
 * format) and then transforms it, and the source cache hands every size of a hot image the same
 * buffer: libvips reads each header once, not twice per request. Keyed weakly, so an entry lives
 * exactly as long as the buffer it describes; the structural page count is redone only when the
 * page limit differs.
 */
const headers = new WeakMap<Buffer, { maxPages: number | undefined; header: Promise<SourceHeader> }>();

/**
 * The header, read without decoding. Frames and pages are counted from the file's structure (and
 * refused over the limit) before sharp reads it, because libvips' header read visits every frame of
 * a GIF or WebP, every page of a TIFF and every sample of a HEIF sequence, in time that grows with
 * (for GIF and WebP, faster than) their number.
 */
export async function readSourceHeader(source: Buffer, limits: EngineLimits): Promise<SourceHeader> {
  const known = headers.get(source);
  if (known !== undefined && known.maxPages === limits.maxSourcePages) {
    const header = await known.header;
    // The limits checked from the header are checked again: they may differ between calls.
    const kind = PAGE_KINDS.get(header.format);
    if (kind !== undefined) checkPageCount({ kind, count: header.pages, atLeast: false }, limits);
    return header;
  }
  const header = readHeader(source, limits);
  headers.set(source, { maxPages: limits.maxSourcePages, header });
  // A refused or unreadable source is not remembered: the next request reads it again.
  header.catch(() => headers.delete(source));
  return header;
}

async function readHeader(source: Buffer, limits: EngineLimits): Promise<SourceHeader> {
  const counted = countSourcePages(source, limits.maxSourcePages);
  if (counted !== null) checkPageCount(counted, limits);
  const metadata = await engineCall('reading the image header', () =>
    // Header only: no pixel limit applies yet (the engine checks limits itself with better messages).
    sharp(source, { limitInputPixels: false }).metadata(),
  );
  const format = formatName(metadata);
  if (!(metadata.width > 0 && metadata.height > 0)) {
    throw new EngineError('CORRUPT_SOURCE', `the ${format} header declares no image size`);
  }
  if (metadata.format === 'heif' && metadata.compression === 'hevc') {
    // The prebuilt libvips reads HEIF containers but carries no HEVC decoder (patent-encumbered).
    throw new EngineError('UNSUPPORTED_SOURCE', 'HEVC-compressed HEIF/HEIC images cannot be decoded');
  }
  const pages = Math.max(1, metadata.pages ?? 1);
  // libvips' count is the one decoding follows; it should agree with the structural count above.
  const kind = PAGE_KINDS.get(format);
  if (kind !== undefined) checkPageCount({ kind, count: pages, atLeast: false }, limits);
  return {
    format,
    width: metadata.width,
    // Without `animated`, sharp reports the first page's height.
    frameHeight: metadata.pageHeight ?? metadata.height,
    pages,
    hasAlpha: metadata.hasAlpha,
    grey: metadata.space === 'b-w' || metadata.space === 'grey16',
    orientation: validOrientation(metadata.orientation),
    profile: metadata.icc === undefined ? (metadata.hasProfile === true ? 'other' : 'none') : isSrgbProfile(metadata.icc) ? 'srgb' : 'other',
    metadata,
  };
}

function formatName(metadata: Metadata): string {
  // libvips calls AVIF "heif" (the container); the codec tells them apart.
  if (metadata.format === 'heif' && metadata.compression === 'av1') return 'avif';
  return String(metadata.format);
}

function validOrientation(orientation: number | undefined): number {
  return orientation !== undefined && Number.isInteger(orientation) && orientation >= 1 && orientation <= 8 ? orientation : 1;
}

export function probeOf(header: SourceHeader): ImageProbe {
  return {
    format: header.format,
    width: header.width,
    height: header.frameHeight,
    pages: header.pages,
    hasAlpha: header.hasAlpha,
    orientation: header.orientation,
  };
}

export function isAnimation(header: SourceHeader): boolean {
  return header.pages > 1 && ANIMATION_FORMATS.has(header.format);
}

/** EXIF orientations 5–8 turn the image a quarter: width and height swap once applied. */
export function orientedSourceSize(header: SourceHeader, autorotate: boolean): Size {
  const swaps = autorotate && header.orientation >= 5;
  return swaps ? { width: header.frameHeight, height: header.width } : { width: header.width, height: header.frameHeight };
}

function checkPageCount(pages: SourcePages, limits: EngineLimits): void {
  const max = limits.maxSourcePages;
  if (max !== undefined && pages.count > max) throw new EngineError('SOURCE_TOO_LARGE', tooManyPages(pages, max));
}

/**
 * An animation kept animated is decoded whole: every frame at the full source size, however small
 * the output. Refused from the header when that work (frames × pixels per frame) is over the budget.
 */
export function checkAnimationSourceLimits(header: SourceHeader, limits: EngineLimits): void {
  const max = limits.maxAnimationSourcePixels;
  const total = header.pages * header.width * header.frameHeight;
  if (max !== undefined && total > max) {
    throw new EngineError(
      'SOURCE_TOO_LARGE',
      `the animation has ${header.pages} frames of ${header.width}×${header.frameHeight} = ${total} pixels to decode, more than the ${max} pixels allowed`,
    );
  }
}

/** Refuses a source whose declared size exceeds the budget, before anything decodes it. */
export function checkSourceLimits(header: SourceHeader, limits: EngineLimits): void {
  const pixels = header.width * header.frameHeight;
  if (pixels > limits.maxSourcePixels) {
    throw new EngineError(
      'SOURCE_TOO_LARGE',
      `source is ${header.width}×${header.frameHeight} = ${pixels} pixels, more than the ${limits.maxSourcePixels} pixels allowed`,
    );
  }
}
