/**
 * Test images generated on the fly with sharp (and by hand where sharp cannot write the format),
 * so tests need no binary fixtures.
 */

import { crc32 } from 'node:zlib';
import sharp, { type Exif, type Sharp } from 'sharp';

interface Gps {
  /** Signed decimal degrees: negative is south. */
  latitude: number;
  /** Signed decimal degrees: negative is west. */
  longitude: number;
}

interface JpegOptions {
  width: number;
  height: number;
  quality?: number;
  /** EXIF orientation 1–8. */
  orientation?: number;
  gps?: Gps;
  /** EXIF DateTimeOriginal as `YYYY:MM:DD HH:MM:SS`. */
  dateTimeOriginal?: string;
  /** Resolution written to the file, in DPI. */
  density?: number;
  /** Gaussian noise instead of a flat colour: compresses like a photo, so the file is realistically large. */
  noise?: boolean;
  greyscale?: boolean;
}

/** EXIF GPS rationals as libvips parses them from strings: `deg/1 min/1 sec*100/100`. */
function gpsRationals(decimalDegrees: number): string {
  const absolute = Math.abs(decimalDegrees);
  const degrees = Math.floor(absolute);
  const minutesFloat = (absolute - degrees) * 60;
  const minutes = Math.floor(minutesFloat);
  const hundredthsOfSeconds = Math.round((minutesFloat - minutes) * 60 * 100);
  return `${degrees}/1 ${minutes}/1 ${hundredthsOfSeconds}/100`;
}

function solid(width: number, height: number, channels: 3 | 4 = 3): Sharp {
  return sharp({
    create: { width, height, channels, background: channels === 4 ? { r: 200, g: 40, b: 90, alpha: 0.5 } : '#c82a5a' },
  });
}

function noisy(width: number, height: number): Sharp {
  return sharp({
    create: { width, height, channels: 3, background: '#000', noise: { type: 'gaussian', mean: 128, sigma: 30 } },
  });
}

/**
 * A photo-like picture: smooth colour gradients, a few soft shapes and fine grain. Its perceptual hash
 * has structure (a flat or noisy image's has none), so `landscape` and `other` are far apart while
 * resized or recompressed copies of one stay near it.
 */
export function makePhoto(width: number, height: number, variant: 'landscape' | 'other'): Sharp {
  const data = Buffer.alloc(width * height * 3);
  let seed = 11;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const u = x / width;
      const v = y / height;
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      const grain = (seed / 2 ** 31 - 0.5) * 12;
      const [r, g, b] =
        variant === 'landscape'
          ? [60 + 150 * u + 40 * Math.sin(v * 9), 90 + 120 * v + 30 * Math.cos(u * 7), 200 - 120 * v + 20 * Math.sin((u + v) * 11)]
          : [128 + 110 * Math.sin(Math.hypot(u - 0.5, v - 0.5) * 40), 40 + 180 * (1 - u), 80 + 160 * u * v];
      data.set([r + grain, g + grain, b + grain].map((c) => Math.max(0, Math.min(255, Math.round(c)))), (y * width + x) * 3);
    }
  }
  return sharp(data, { raw: { width, height, channels: 3 } });
}

export async function makeJpeg(options: JpegOptions): Promise<Buffer> {
  const { width, height } = options;
  let image = (options.noise ? noisy(width, height) : solid(width, height)).jpeg({ quality: options.quality ?? 80 });
  if (options.greyscale) image = image.toColourspace('b-w');

  const exif: Exif = {};
  if (options.gps) {
    const { latitude, longitude } = options.gps;
    exif.IFD3 = {
      GPSLatitudeRef: latitude < 0 ? 'S' : 'N',
      GPSLatitude: gpsRationals(latitude),
      GPSLongitudeRef: longitude < 0 ? 'W' : 'E',
      GPSLongitude: gpsRationals(longitude),
    };
  }
  if (options.dateTimeOriginal) exif.IFD2 = { DateTimeOriginal: options.dateTimeOriginal };
  if (Object.keys(exif).length > 0) image = image.withExif(exif);
  // Orientation is written by libvips from its own metadata, which withMetadata sets.
  if (options.orientation !== undefined) image = image.withMetadata({ orientation: options.orientation });
  if (options.density !== undefined) image = image.withDensity(options.density);
  return image.toBuffer();
}

export function makeCmykJpeg(width = 40, height = 30): Promise<Buffer> {
  return solid(width, height).toColourspace('cmyk').jpeg().toBuffer();
}

export function makePng(width = 40, height = 30): Promise<Buffer> {
  return solid(width, height).png().toBuffer();
}

export function makePngWithAlpha(width = 40, height = 30): Promise<Buffer> {
  return solid(width, height, 4).png().toBuffer();
}

export function makeGreyPng(width = 40, height = 30): Promise<Buffer> {
  return solid(width, height).toColourspace('b-w').png().toBuffer();
}

export function makeGreyAlphaPng(width = 40, height = 30): Promise<Buffer> {
  return solid(width, height, 4).toColourspace('b-w').png().toBuffer();
}

export function makePalettePng(width = 40, height = 30): Promise<Buffer> {
  return solid(width, height).png({ palette: true }).toBuffer();
}

/**
 * A PNG that declares itself animated (an acTL chunk right after IHDR), which is what file-type
 * keys on; libvips ignores the chunk and reads the default image.
 */
export async function makeApng(width = 40, height = 30, frameCount = 2): Promise<Buffer> {
  const png = await makePng(width, height);
  const ihdrEnd = 8 + 4 + 4 + 13 + 4; // signature, length, type, IHDR data, CRC
  const typeAndData = Buffer.alloc(4 + 8);
  typeAndData.write('acTL', 0, 'latin1');
  typeAndData.writeUInt32BE(frameCount, 4);
  typeAndData.writeUInt32BE(0, 8); // loop forever
  const chunk = Buffer.alloc(4 + typeAndData.length + 4);
  chunk.writeUInt32BE(8, 0);
  typeAndData.copy(chunk, 4);
  chunk.writeUInt32BE(crc32(typeAndData), 4 + typeAndData.length);
  return Buffer.concat([png.subarray(0, ihdrEnd), chunk, png.subarray(ihdrEnd)]);
}

export function makePngWithDensity(density: number, width = 40, height = 30): Promise<Buffer> {
  return solid(width, height).withDensity(density).png().toBuffer();
}

const FRAME_COLOURS = ['#ff0000', '#00ff00', '#0000ff', '#ffff00', '#00ffff', '#ff00ff'];

async function frames(count: number, width: number, height: number): Promise<Buffer[]> {
  return Promise.all(
    Array.from({ length: count }, (_, index) =>
      sharp({ create: { width, height, channels: 4, background: FRAME_COLOURS[index % FRAME_COLOURS.length] ?? '#000' } })
        .png()
        .toBuffer(),
    ),
  );
}

interface AnimationOptions {
  frames?: number;
  width?: number;
  height?: number;
}

/** An animated GIF of `frames` solid-colour frames, each `width`×`height`. */
export async function makeAnimatedGif(options: AnimationOptions = {}): Promise<Buffer> {
  const { frames: count = 3, width = 20, height = 10 } = options;
  return sharp(await frames(count, width, height), { join: { animated: true } }).gif().toBuffer();
}

export async function makeAnimatedWebp(options: AnimationOptions = {}): Promise<Buffer> {
  const { frames: count = 3, width = 20, height = 10 } = options;
  return sharp(await frames(count, width, height), { join: { animated: true } }).webp().toBuffer();
}

export function makeGif(width = 40, height = 30): Promise<Buffer> {
  return solid(width, height).gif().toBuffer();
}

export function makeWebp(width = 40, height = 30, options: { alpha?: boolean; lossless?: boolean } = {}): Promise<Buffer> {
  return solid(width, height, options.alpha ? 4 : 3)
    .webp({ lossless: options.lossless ?? false })
    .toBuffer();
}

export function makeAvif(width = 40, height = 30): Promise<Buffer> {
  return solid(width, height).avif().toBuffer();
}

export function makeTiff(width = 40, height = 30): Promise<Buffer> {
  return solid(width, height).tiff().toBuffer();
}

export async function makeMultiPageTiff(options: AnimationOptions = {}): Promise<Buffer> {
  const { frames: count = 3, width = 20, height = 10 } = options;
  return sharp(await frames(count, width, height), { join: { animated: true } }).tiff().toBuffer();
}

/** A 24-bit BMP (BITMAPINFOHEADER), written by hand because libvips has no BMP saver. */
export function makeBmp(width = 4, height = 2): Buffer {
  const rowBytes = Math.ceil((width * 3) / 4) * 4;
  const pixelBytes = rowBytes * height;
  const bmp = Buffer.alloc(54 + pixelBytes, 0x7f);
  bmp.write('BM', 0, 'latin1');
  bmp.writeUInt32LE(bmp.length, 2);
  bmp.writeUInt32LE(0, 6);
  bmp.writeUInt32LE(54, 10);
  bmp.writeUInt32LE(40, 14);
  bmp.writeInt32LE(width, 18);
  bmp.writeInt32LE(height, 22);
  bmp.writeUInt16LE(1, 26);
  bmp.writeUInt16LE(24, 28);
  bmp.writeUInt32LE(0, 30);
  bmp.writeUInt32LE(pixelBytes, 34);
  bmp.writeInt32LE(2835, 38);
  bmp.writeInt32LE(2835, 42);
  bmp.writeUInt32LE(0, 46);
  bmp.writeUInt32LE(0, 50);
  return bmp;
}

interface SvgOptions {
  width?: number;
  height?: number;
  /** Prepend `<?xml version="1.0" encoding="UTF-8"?>`. */
  xmlProlog?: boolean;
  /** Prepend a comment and a DOCTYPE before the root element. */
  comment?: boolean;
  doctype?: boolean;
  /** Embed a `<script>` element. */
  script?: boolean;
  /** Start with a UTF-8 byte-order mark. */
  bom?: boolean;
}

export function makeSvg(options: SvgOptions = {}): Buffer {
  const { width = 120, height = 80 } = options;
  const parts: string[] = [];
  if (options.xmlProlog) parts.push('<?xml version="1.0" encoding="UTF-8" standalone="no"?>\n');
  if (options.comment) parts.push('<!-- Generator: Test Suite 1.0 -->\n');
  if (options.doctype) {
    parts.push(
      '<!DOCTYPE svg PUBLIC "-//W3C//DTD SVG 1.1//EN" "http://www.w3.org/Graphics/SVG/1.1/DTD/svg11.dtd" [\n' +
        '  <!ENTITY ns_svg "http://www.w3.org/2000/svg">\n]>\n',
    );
  }
  parts.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}">\n`,
    `  <rect x="0" y="0" width="${width}" height="${height}" fill="#c82a5a"/>\n`,
  );
  if (options.script) parts.push('  <script type="text/javascript">alert(document.domain)</script>\n');
  parts.push('</svg>\n');
  const svg = Buffer.from(parts.join(''), 'utf8');
  return options.bom ? Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), svg]) : svg;
}

/** A tiny but well-formed PDF 1.4 document. */
export function makePdf(): Buffer {
  return Buffer.from(
    '%PDF-1.4\n%\u00e2\u00e3\u00cf\u00d3\n' +
      '1 0 obj\n<< /Type /Catalog /Pages 2 0 R >>\nendobj\n' +
      '2 0 obj\n<< /Type /Pages /Kids [] /Count 0 >>\nendobj\n' +
      'trailer\n<< /Root 1 0 R >>\n%%EOF\n',
    'latin1',
  );
}
