/**
 * Minimal image header parsers, used when sharp cannot read a header: formats libvips lacks (BMP),
 * a head cut before libvips is satisfied, or a file damaged after its header. They only find the
 * stored dimensions and a colour mode; they never look at pixel data and never throw.
 */

import type { ImageFormatName } from './image-formats.js';
import { rootElementIndex } from './markup.js';

interface ImageHeader {
  width: number;
  height: number;
  /** Uploadcare colour-mode name. */
  colorMode: string;
  sequence: boolean;
}

type HeaderParser = (bytes: Buffer) => ImageHeader | null;

const PARSERS: Readonly<Record<ImageFormatName, HeaderParser>> = {
  JPEG: readJpegHeader,
  PNG: readPngHeader,
  GIF: readGifHeader,
  WEBP: readWebpHeader,
  AVIF: readIsoBmffHeader,
  HEIC: readIsoBmffHeader,
  HEIF: readIsoBmffHeader,
  TIFF: readTiffHeader,
  BMP: readBmpHeader,
  SVG: readSvgHeader,
};

/** Dimensions and colour mode from the header of an image of the given format, or null. */
export function readImageHeader(bytes: Buffer, format: ImageFormatName): ImageHeader | null {
  try {
    const header = PARSERS[format](bytes);
    return header !== null && isDimension(header.width) && isDimension(header.height) ? header : null;
  } catch {
    // Out-of-range reads on a malformed header: the header is unusable, not the upload.
    return null;
  }
}

function isDimension(value: number): boolean {
  return Number.isInteger(value) && value > 0;
}

function header(width: number, height: number, colorMode: string, sequence = false): ImageHeader {
  return { width, height, colorMode, sequence };
}

function ascii(bytes: Buffer, start: number, length: number): string {
  return bytes.toString('latin1', start, start + length);
}

// ---------------------------------------------------------------------------------------------

// Start-of-frame markers carry the dimensions; C4 (DHT), C8 (JPG) and CC (DAC) share the range.
function isStartOfFrame(marker: number): boolean {
  return marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc;
}

function readJpegHeader(bytes: Buffer): ImageHeader | null {
  if (bytes[0] !== 0xff || bytes[1] !== 0xd8) return null;
  let offset = 2;
  while (offset + 4 <= bytes.length) {
    if (bytes[offset] !== 0xff) return null;
    const marker = bytes[offset + 1] ?? 0;
    if (marker === 0xff) {
      offset++; // fill byte
      continue;
    }
    if (marker === 0x01 || (marker >= 0xd0 && marker <= 0xd8)) {
      offset += 2; // markers without a length
      continue;
    }
    if (marker === 0xd9 || marker === 0xda) return null; // image data or end before any frame header
    const segmentLength = bytes.readUInt16BE(offset + 2);
    if (segmentLength < 2) return null;
    if (isStartOfFrame(marker)) {
      if (offset + 10 > bytes.length) return null;
      const components = bytes[offset + 9];
      const colorMode = components === 1 ? 'L' : components === 4 ? 'CMYK' : 'RGB';
      return header(bytes.readUInt16BE(offset + 7), bytes.readUInt16BE(offset + 5), colorMode);
    }
    offset += 2 + segmentLength;
  }
  return null;
}

const PNG_COLOR_MODES: Readonly<Record<number, string>> = { 0: 'L', 2: 'RGB', 3: 'P', 4: 'LA', 6: 'RGBA' };

function readPngHeader(bytes: Buffer): ImageHeader | null {
  if (bytes.length < 26 || ascii(bytes, 12, 4) !== 'IHDR') return null;
  const colorMode = PNG_COLOR_MODES[bytes[25] ?? -1];
  if (colorMode === undefined) return null;
  return header(bytes.readUInt32BE(16), bytes.readUInt32BE(20), colorMode);
}

function readGifHeader(bytes: Buffer): ImageHeader | null {
  if (bytes.length < 10 || !ascii(bytes, 0, 3).startsWith('GIF')) return null;
  return header(bytes.readUInt16LE(6), bytes.readUInt16LE(8), 'P');
}

function readWebpHeader(bytes: Buffer): ImageHeader | null {
  if (bytes.length < 30 || ascii(bytes, 0, 4) !== 'RIFF' || ascii(bytes, 8, 4) !== 'WEBP') return null;
  switch (ascii(bytes, 12, 4)) {
    case 'VP8 ': {
      // Lossy: a 3-byte frame tag and the 9D 01 2A start code precede 14-bit dimensions.
      if (bytes[23] !== 0x9d || bytes[24] !== 0x01 || bytes[25] !== 0x2a) return null;
      return header(bytes.readUInt16LE(26) & 0x3fff, bytes.readUInt16LE(28) & 0x3fff, 'RGB');
    }
    case 'VP8L': {
      if (bytes[20] !== 0x2f) return null;
      const bits = bytes.readUInt32LE(21);
      const hasAlpha = ((bits >>> 28) & 1) === 1;
      return header((bits & 0x3fff) + 1, ((bits >>> 14) & 0x3fff) + 1, hasAlpha ? 'RGBA' : 'RGB');
    }
    case 'VP8X': {
      const flags = bytes[20] ?? 0;
      const hasAlpha = (flags & 0x10) !== 0;
      const animated = (flags & 0x02) !== 0;
      return header(bytes.readUIntLE(24, 3) + 1, bytes.readUIntLE(27, 3) + 1, hasAlpha ? 'RGBA' : 'RGB', animated);
    }
    default:
      return null;
  }
}

function readBmpHeader(bytes: Buffer): ImageHeader | null {
  if (bytes.length < 26 || ascii(bytes, 0, 2) !== 'BM') return null;
  const infoSize = bytes.readUInt32LE(14);
  if (infoSize === 12) {
    // OS/2 BITMAPCOREHEADER: 16-bit dimensions.
    return header(bytes.readUInt16LE(18), bytes.readUInt16LE(20), bmpColorMode(bytes.readUInt16LE(24), false));
  }
  if (infoSize < 40 || bytes.length < 30) return null;
  const bitsPerPixel = bytes.readUInt16LE(28);
  // V3+ headers hold an alpha mask; 32-bit BMPs without one are RGB with a padding byte.
  const hasAlphaMask = infoSize >= 56 && bytes.length >= 70 && bytes.readUInt32LE(66) !== 0;
  // A negative height means rows are stored top-down.
  return header(bytes.readInt32LE(18), Math.abs(bytes.readInt32LE(22)), bmpColorMode(bitsPerPixel, hasAlphaMask));
}

function bmpColorMode(bitsPerPixel: number, hasAlphaMask: boolean): string {
  if (bitsPerPixel <= 8) return 'P';
  return bitsPerPixel === 32 && hasAlphaMask ? 'RGBA' : 'RGB';
}

// TIFF tags of the first IFD that matter here.
const TIFF_IMAGE_WIDTH = 256;
const TIFF_IMAGE_LENGTH = 257;
const TIFF_PHOTOMETRIC = 262;
const TIFF_SAMPLES_PER_PIXEL = 277;

function readTiffHeader(bytes: Buffer): ImageHeader | null {
  const order = ascii(bytes, 0, 2);
  if (order !== 'II' && order !== 'MM') return null;
  const little = order === 'II';
  const u16 = (at: number): number => (little ? bytes.readUInt16LE(at) : bytes.readUInt16BE(at));
  const u32 = (at: number): number => (little ? bytes.readUInt32LE(at) : bytes.readUInt32BE(at));
  const u64 = (at: number): number => Number(little ? bytes.readBigUInt64LE(at) : bytes.readBigUInt64BE(at));
  const version = u16(2);
  if (version !== 42 && version !== 43) return null;
  // BigTIFF (43): 64-bit offsets and counts, 20-byte entries with the value 12 bytes in.
  const big = version === 43;
  const ifd = big ? u64(8) : u32(4);
  const entries = big ? u64(ifd) : u16(ifd);
  const [first, entryBytes, valueAt] = big ? [ifd + 8, 20, 12] : [ifd + 2, 12, 8];
  const tags = new Map<number, number>();
  // A count larger than the bytes ends in an out-of-range read, which readImageHeader catches.
  for (let index = 0; index < entries; index++) {
    const entry = first + index * entryBytes;
    const type = u16(entry + 2);
    // Only the first value matters for these tags, and it is inline for SHORT (3), LONG (4) and LONG8 (16).
    if (type === 3) tags.set(u16(entry), u16(entry + valueAt));
    else if (type === 4) tags.set(u16(entry), u32(entry + valueAt));
    else if (type === 16 && big) tags.set(u16(entry), u64(entry + valueAt));
  }
  const width = tags.get(TIFF_IMAGE_WIDTH);
  const height = tags.get(TIFF_IMAGE_LENGTH);
  if (width === undefined || height === undefined) return null;
  const samples = tags.get(TIFF_SAMPLES_PER_PIXEL) ?? 1;
  return header(width, height, tiffColorMode(tags.get(TIFF_PHOTOMETRIC) ?? 2, samples));
}

function tiffColorMode(photometric: number, samples: number): string {
  switch (photometric) {
    case 0:
    case 1:
      return samples >= 2 ? 'LA' : 'L';
    case 3:
      return 'P';
    case 5:
      return 'CMYK';
    default:
      return samples >= 4 ? 'RGBA' : 'RGB';
  }
}

/**
 * HEIF/AVIF keep dimensions in `ispe` properties under meta → iprp → ipco. Grid images also have
 * per-tile `ispe`s; the largest one is the primary image in practice, so that one is reported.
 */
function readIsoBmffHeader(bytes: Buffer): ImageHeader | null {
  const meta = findBox(bytes, 0, bytes.length, 'meta');
  if (meta === null) return null;
  // meta is a full box: 4 bytes of version and flags precede its children.
  const iprp = findBox(bytes, meta.start + 4, meta.end, 'iprp');
  const ipco = iprp && findBox(bytes, iprp.start, iprp.end, 'ipco');
  if (ipco === null) return null;
  let best: { width: number; height: number } | null = null;
  for (const box of boxes(bytes, ipco.start, ipco.end)) {
    if (box.type !== 'ispe' || box.start + 12 > box.end) continue;
    const width = bytes.readUInt32BE(box.start + 4);
    const height = bytes.readUInt32BE(box.start + 8);
    if (best === null || width * height > best.width * best.height) best = { width, height };
  }
  return best && header(best.width, best.height, 'RGB');
}

interface Box {
  type: string;
  /** Offset of the box's payload. */
  start: number;
  /** Offset just past the box (clamped to the available bytes). */
  end: number;
}

function* boxes(bytes: Buffer, from: number, to: number): Generator<Box> {
  let offset = from;
  while (offset + 8 <= to) {
    let size = bytes.readUInt32BE(offset);
    const type = ascii(bytes, offset + 4, 4);
    let headerSize = 8;
    if (size === 1) {
      if (offset + 16 > to) return;
      size = Number(bytes.readBigUInt64BE(offset + 8));
      headerSize = 16;
    } else if (size === 0) {
      size = to - offset; // extends to the end of the enclosing box
    }
    if (size < headerSize) return;
    yield { type, start: offset + headerSize, end: Math.min(offset + size, to) };
    offset += size;
  }
}

function findBox(bytes: Buffer, from: number, to: number, type: string): Box | null {
  for (const box of boxes(bytes, from, to)) if (box.type === type) return box;
  return null;
}

const SVG_ROOT_TAG = /^<(?:[A-Za-z_][\w.-]*:)?svg\b[^>]*>/;
const SVG_LENGTH = /^\s*([0-9]*\.?[0-9]+(?:[eE][+-]?\d+)?)\s*(?:px)?\s*$/;

/**
 * Dimensions from the root element's width/height (unitless or px) or, failing that, its viewBox;
 * percentages and physical units are not resolved.
 */
function readSvgHeader(bytes: Buffer): ImageHeader | null {
  const text = bytes.toString('latin1');
  const rootIndex = rootElementIndex(text);
  if (rootIndex === null) return null;
  const tag = SVG_ROOT_TAG.exec(text.slice(rootIndex, rootIndex + 4096))?.[0];
  if (tag === undefined) return null;
  const width = svgLength(attribute(tag, 'width'));
  const height = svgLength(attribute(tag, 'height'));
  const viewBox = (attribute(tag, 'viewBox') ?? '').trim().split(/[\s,]+/).map(Number);
  const viewWidth = viewBox.length === 4 ? viewBox[2] : undefined;
  const viewHeight = viewBox.length === 4 ? viewBox[3] : undefined;
  const resolvedWidth = width ?? viewWidth;
  const resolvedHeight = height ?? viewHeight;
  if (resolvedWidth === undefined || resolvedHeight === undefined) return null;
  if (!(resolvedWidth > 0 && resolvedHeight > 0)) return null;
  return header(Math.round(resolvedWidth), Math.round(resolvedHeight), 'RGBA');
}

function attribute(tag: string, name: string): string | undefined {
  const match = new RegExp(`\\s${name}\\s*=\\s*(?:"([^"]*)"|'([^']*)')`).exec(tag);
  return match ? (match[1] ?? match[2]) : undefined;
}

function svgLength(value: string | undefined): number | undefined {
  const match = value === undefined ? null : SVG_LENGTH.exec(value);
  return match ? Number(match[1]) : undefined;
}
