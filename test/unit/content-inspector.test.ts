import { describe, expect, it } from 'vitest';
import { BytesContentInspector, DEFAULT_HEAD_BYTES } from '../../src/adapters/inspect/bytes.content-inspector.js';
import { readImageHeader } from '../../src/adapters/inspect/image-header.js';
import type { ImageInfo, InspectedContent } from '../../src/domain/content-info.js';
import { gifBomb, webpBomb } from '../helpers/animation-bombs.js';
import { avifSequence, manyPageTiff } from '../helpers/page-bombs.js';
import {
  makeAnimatedGif,
  makeApng,
  makeAnimatedWebp,
  makeAvif,
  makeBmp,
  makeCmykJpeg,
  makeGif,
  makeGreyAlphaPng,
  makeGreyPng,
  makeJpeg,
  makeMultiPageTiff,
  makePalettePng,
  makePdf,
  makePng,
  makePngWithAlpha,
  makePngWithDensity,
  makeSvg,
  makeTiff,
  makeWebp,
} from '../helpers/images.js';

const inspector = new BytesContentInspector();

function inspectWhole(bytes: Buffer): Promise<InspectedContent> {
  return inspector.inspect(bytes, bytes.length);
}

function imageOf(result: InspectedContent): ImageInfo {
  const image = result.contentInfo.image;
  if (!image) throw new Error(`expected image info for ${result.mimeType}`);
  return image;
}

describe('BytesContentInspector construction', () => {
  it('defaults to a 1 MiB head', () => {
    expect(inspector.headBytes).toBe(1024 * 1024);
    expect(DEFAULT_HEAD_BYTES).toBe(1024 * 1024);
  });

  it('accepts a custom head size and rejects nonsense', () => {
    expect(new BytesContentInspector({ headBytes: 4096 }).headBytes).toBe(4096);
    expect(() => new BytesContentInspector({ headBytes: 0 })).toThrow(RangeError);
    expect(() => new BytesContentInspector({ headBytes: 1.5 })).toThrow(RangeError);
  });
});

describe('animations of very many frames', () => {
  it('are described from their structure beyond maxSharpPages: libvips would take seconds to read the header', async () => {
    const bounded = new BytesContentInspector({ maxSharpPages: 1000 });
    // About 1 MiB: libvips needs over a second for this header on a 2-core machine.
    const webp = await webpBomb({ width: 2000, height: 1000, frames: 21_000 });
    const started = performance.now();
    const info = imageOf(await bounded.inspect(webp.subarray(0, bounded.headBytes), webp.length));
    expect(performance.now() - started).toBeLessThan(400);
    expect(info).toMatchObject({ format: 'WEBP', width: 2000, height: 1000, sequence: true });
    const gif = gifBomb({ width: 300, height: 200, frames: 1001 });
    expect(imageOf(await bounded.inspect(gif, gif.length))).toMatchObject({ format: 'GIF', width: 300, height: 200, sequence: true });
  });

  it('are read by libvips up to maxSharpPages', async () => {
    const bounded = new BytesContentInspector({ maxSharpPages: 1000 });
    const gif = gifBomb({ width: 300, height: 200, frames: 1000 });
    expect(imageOf(await bounded.inspect(gif, gif.length))).toEqual(imageOf(await inspectWhole(gif)));
  });
});

describe('TIFFs of very many pages and HEIF sequences of very many frames', () => {
  it('are described from their structure beyond maxSharpPages, without libvips visiting every page', async () => {
    const bounded = new BytesContentInspector({ maxSharpPages: 1000 });
    for (const layout of [{}, { byteOrder: 'MM', bigTiff: true }] as const) {
      // 3.9 MB (classic): libvips needs 0.3 s for the 13 000 pages in the 1 MiB head alone.
      const tiff = manyPageTiff({ ...layout, pages: 50_000, width: 300, height: 200 }).bytes;
      const started = performance.now();
      const result = await bounded.inspect(tiff.subarray(0, bounded.headBytes), tiff.length);
      expect(performance.now() - started).toBeLessThan(200);
      expect(result.mimeType).toBe('image/tiff');
      expect(imageOf(result)).toMatchObject({ format: 'TIFF', width: 300, height: 200, color_mode: 'L', sequence: true });
    }
    // Under a kilobyte, and about three seconds of libheif's parsing.
    const sequence = await avifSequence(4_000_000);
    const started = performance.now();
    const info = imageOf(await bounded.inspect(sequence, sequence.length));
    expect(performance.now() - started).toBeLessThan(500);
    expect(info).toMatchObject({ format: 'AVIF', width: 8, height: 8, sequence: true });
  });

  it('are read by libvips up to maxSharpPages, which sees a sequence track too', async () => {
    const bounded = new BytesContentInspector({ maxSharpPages: 1000 });
    const tiff = manyPageTiff({ pages: 1000, width: 30, height: 20 }).bytes;
    expect(imageOf(await bounded.inspect(tiff, tiff.length))).toEqual(imageOf(await inspectWhole(tiff)));
    expect(imageOf(await bounded.inspect(tiff, tiff.length))).toMatchObject({ width: 30, height: 20, sequence: true, dpi: null });
    const sequence = await avifSequence(1000);
    expect(imageOf(await bounded.inspect(sequence, sequence.length))).toMatchObject({ format: 'AVIF', width: 8, height: 8, sequence: true });
    expect(imageOf(await bounded.inspect(await makeAvif(20, 10), 100_000))).toMatchObject({ width: 20, sequence: false });
  });
});

describe('JPEG', () => {
  // A noisy 3000×2000 JPEG is a couple of MiB and takes a second or so to encode: make it once.
  let bigJpeg: Promise<Buffer> | undefined;
  const makeBigJpeg = (): Promise<Buffer> =>
    (bigJpeg ??= makeJpeg({ width: 3000, height: 2000, noise: true, orientation: 8 }));

  it('reads orientation, GPS, DateTimeOriginal and DPI from EXIF', async () => {
    const jpeg = await makeJpeg({
      width: 60,
      height: 40,
      orientation: 6,
      gps: { latitude: 55.62013, longitude: -37.60551 },
      dateTimeOriginal: '2023:07:14 18:30:05',
      density: 300,
    });
    const result = await inspectWhole(jpeg);

    expect(result.mimeType).toBe('image/jpeg');
    expect(result.isImage).toBe(true);
    expect(result.contentInfo.mime).toEqual({ mime: 'image/jpeg', type: 'image', subtype: 'jpeg' });
    const image = imageOf(result);
    expect(image).toMatchObject({
      format: 'JPEG',
      color_mode: 'RGB',
      orientation: 6,
      // Orientation 6 is a 90° rotation, but Uploadcare reports the stored dimensions.
      width: 60,
      height: 40,
      dpi: [300, 300],
      datetime_original: '2023-07-14T18:30:05',
      sequence: false,
    });
    expect(image.geo_location?.latitude).toBeCloseTo(55.62013, 4);
    expect(image.geo_location?.longitude).toBeCloseTo(-37.60551, 4);
  });

  it('reports southern and western hemispheres as negative', async () => {
    const jpeg = await makeJpeg({ width: 8, height: 8, gps: { latitude: -33.8688, longitude: 151.2093 } });
    const image = imageOf(await inspectWhole(jpeg));
    expect(image.geo_location?.latitude).toBeCloseTo(-33.8688, 4);
    expect(image.geo_location?.longitude).toBeCloseTo(151.2093, 4);
  });

  it('reports nulls when the file carries no EXIF or resolution', async () => {
    const image = imageOf(await inspectWhole(await makeJpeg({ width: 32, height: 24 })));
    expect(image).toEqual({
      color_mode: 'RGB',
      orientation: null,
      format: 'JPEG',
      width: 32,
      height: 24,
      dpi: null,
      geo_location: null,
      datetime_original: null,
      sequence: false,
    });
  });

  it('maps greyscale to L and CMYK to CMYK', async () => {
    expect(imageOf(await inspectWhole(await makeJpeg({ width: 8, height: 8, greyscale: true }))).color_mode).toBe('L');
    const cmyk = imageOf(await inspectWhole(await makeCmykJpeg()));
    expect(cmyk.color_mode).toBe('CMYK');
    expect(cmyk.format).toBe('JPEG');
  });

  it('reads the dimensions of a big JPEG from a 64 KiB prefix', async () => {
    const jpeg = await makeBigJpeg();
    const head = jpeg.subarray(0, 64 * 1024);
    expect(jpeg.length).toBeGreaterThan(head.length * 4);

    const result = await inspector.inspect(head, jpeg.length);
    expect(result.mimeType).toBe('image/jpeg');
    expect(imageOf(result)).toMatchObject({ width: 3000, height: 2000, orientation: 8, format: 'JPEG' });
  });

  it('never looks past headBytes even when given more', async () => {
    const jpeg = await makeBigJpeg();
    const small = new BytesContentInspector({ headBytes: 16 * 1024 });
    const result = await small.inspect(jpeg, jpeg.length);
    expect(imageOf(result)).toMatchObject({ width: 3000, height: 2000 });
  });

  it('keeps a corrupt JPEG as image/jpeg without image info and without throwing', async () => {
    const corrupt = Buffer.concat([Buffer.from([0xff, 0xd8, 0xff, 0xe0]), Buffer.from('garbage '.repeat(64))]);
    const result = await inspectWhole(corrupt);
    expect(result.mimeType).toBe('image/jpeg');
    expect(result.isImage).toBe(true);
    expect(result.contentInfo.image).toBeUndefined();
  });

  it('falls back to the frame header when sharp rejects the rest of the file', async () => {
    const jpeg = await makeJpeg({ width: 77, height: 55 });
    const sof = jpeg.indexOf(Buffer.from([0xff, 0xc0]));
    expect(sof).toBeGreaterThan(0);
    // Keep everything up to and including the frame header, then garbage.
    const damaged = Buffer.concat([jpeg.subarray(0, sof + 19), Buffer.alloc(64, 0x00)]);
    const image = imageOf(await inspector.inspect(damaged, jpeg.length * 10));
    expect(image).toMatchObject({ format: 'JPEG', width: 77, height: 55 });
  });
});

describe('PNG', () => {
  it('maps colour types to RGB, RGBA, L, LA and P', async () => {
    expect(imageOf(await inspectWhole(await makePng()))).toMatchObject({ format: 'PNG', color_mode: 'RGB', width: 40, height: 30 });
    expect(imageOf(await inspectWhole(await makePngWithAlpha())).color_mode).toBe('RGBA');
    expect(imageOf(await inspectWhole(await makeGreyPng())).color_mode).toBe('L');
    expect(imageOf(await inspectWhole(await makeGreyAlphaPng())).color_mode).toBe('LA');
    expect(imageOf(await inspectWhole(await makePalettePng())).color_mode).toBe('P');
  });

  it('reports an animated PNG as image/png with sequence true, as Uploadcare does', async () => {
    const result = await inspectWhole(await makeApng(40, 30));
    expect(result.mimeType).toBe('image/png');
    expect(result.contentInfo.mime.subtype).toBe('png');
    expect(imageOf(result)).toMatchObject({ format: 'PNG', width: 40, height: 30, sequence: true });
  });

  it('reports DPI only when the file has a pHYs chunk', async () => {
    expect(imageOf(await inspectWhole(await makePng())).dpi).toBeNull();
    expect(imageOf(await inspectWhole(await makePngWithDensity(150))).dpi).toEqual([150, 150]);
  });

  it('reads IHDR itself when sharp cannot read a damaged PNG', async () => {
    const png = await makePngWithAlpha(41, 29);
    const damaged = Buffer.concat([png.subarray(0, 33), Buffer.from('not a chunk at all')]);
    damaged.writeUInt8(damaged.readUInt8(29) ^ 0xff, 29); // break the IHDR CRC so libpng gives up
    const result = await inspectWhole(damaged);
    expect(result.mimeType).toBe('image/png');
    expect(imageOf(result)).toMatchObject({ width: 41, height: 29, color_mode: 'RGBA', format: 'PNG' });
  });
});

describe('GIF, WebP, AVIF, HEIC, TIFF, BMP', () => {
  it('marks an animated GIF as a sequence and reports one frame', async () => {
    const result = await inspectWhole(await makeAnimatedGif({ frames: 3, width: 20, height: 10 }));
    expect(result.mimeType).toBe('image/gif');
    expect(imageOf(result)).toMatchObject({ format: 'GIF', color_mode: 'P', width: 20, height: 10, sequence: true });
  });

  it('reports a still GIF as not a sequence', async () => {
    expect(imageOf(await inspectWhole(await makeGif()))).toMatchObject({ format: 'GIF', sequence: false, width: 40 });
  });

  it('reads WebP, still and animated', async () => {
    const still = await inspectWhole(await makeWebp(40, 30));
    expect(still.mimeType).toBe('image/webp');
    expect(imageOf(still)).toMatchObject({ format: 'WEBP', color_mode: 'RGB', width: 40, height: 30, sequence: false });
    expect(imageOf(await inspectWhole(await makeWebp(40, 30, { alpha: true }))).color_mode).toBe('RGBA');

    const animated = imageOf(await inspectWhole(await makeAnimatedWebp({ frames: 4, width: 20, height: 10 })));
    expect(animated).toMatchObject({ width: 20, height: 10, sequence: true });
  });

  it('reads AVIF', async () => {
    const result = await inspectWhole(await makeAvif(64, 48));
    expect(result.mimeType).toBe('image/avif');
    expect(result.isImage).toBe(true);
    expect(imageOf(result)).toMatchObject({ format: 'AVIF', width: 64, height: 48, color_mode: 'RGB', sequence: false });
  });

  it('reads AVIF dimensions from ispe when the head is too short for libheif', async () => {
    const avif = await makeAvif(64, 48);
    // The meta box (with ispe) is complete, but libheif wants to read on into the mdat.
    const metaEnd = avif.indexOf('mdat') - 4;
    const result = await inspector.inspect(avif.subarray(0, metaEnd), avif.length * 100);
    expect(result.mimeType).toBe('image/avif');
    expect(imageOf(result)).toMatchObject({ format: 'AVIF', width: 64, height: 48 });
  });

  it('recognises HEIC by its ftyp brand', async () => {
    const heic = Buffer.from(await makeAvif(64, 48));
    heic.write('heic', 8, 'latin1'); // major brand
    const result = await inspectWhole(heic);
    expect(result.mimeType).toBe('image/heic');
    expect(result.contentInfo.mime).toEqual({ mime: 'image/heic', type: 'image', subtype: 'heic' });
    expect(imageOf(result)).toMatchObject({ format: 'HEIC', width: 64, height: 48 });
  });

  it('reads TIFF, single and multi-page', async () => {
    const single = await inspectWhole(await makeTiff(40, 30));
    expect(single.mimeType).toBe('image/tiff');
    expect(imageOf(single)).toMatchObject({ format: 'TIFF', width: 40, height: 30, color_mode: 'RGB', sequence: false });

    const multi = imageOf(await inspectWhole(await makeMultiPageTiff({ frames: 3, width: 20, height: 10 })));
    expect(multi).toMatchObject({ width: 20, height: 10, sequence: true });
  });

  it('reads BMP with its own header parser', async () => {
    const result = await inspectWhole(makeBmp(5, 3));
    expect(result.mimeType).toBe('image/bmp');
    expect(result.isImage).toBe(true);
    expect(imageOf(result)).toMatchObject({ format: 'BMP', width: 5, height: 3, color_mode: 'RGB', dpi: null });
  });
});

describe('SVG', () => {
  it('recognises a bare SVG root', async () => {
    const result = await inspectWhole(makeSvg({ width: 120, height: 80 }));
    expect(result.mimeType).toBe('image/svg+xml');
    expect(result.isImage).toBe(true);
    expect(result.contentInfo.mime).toEqual({ mime: 'image/svg+xml', type: 'image', subtype: 'svg+xml' });
    expect(imageOf(result)).toMatchObject({ format: 'SVG', width: 120, height: 80, dpi: null });
  });

  it('looks past BOM, XML declaration, comments and DOCTYPE', async () => {
    for (const svg of [
      makeSvg({ xmlProlog: true }),
      makeSvg({ xmlProlog: true, comment: true }),
      makeSvg({ xmlProlog: true, comment: true, doctype: true }),
      makeSvg({ bom: true, xmlProlog: true, comment: true }),
      makeSvg({ comment: true }),
    ]) {
      const result = await inspectWhole(svg);
      expect(result.mimeType).toBe('image/svg+xml');
      expect(imageOf(result)).toMatchObject({ format: 'SVG', width: 120, height: 80 });
    }
  });

  it('keeps an SVG with a script as image/svg+xml', async () => {
    const result = await inspectWhole(makeSvg({ xmlProlog: true, script: true }));
    expect(result.mimeType).toBe('image/svg+xml');
    expect(result.isImage).toBe(true);
  });

  it('finds the size even when libvips would not look that far', async () => {
    // libvips only sniffs the first kilobyte or so for "<svg"; a long leading comment hides it.
    const comment = `<!-- ${'x'.repeat(4096)} -->\n`;
    const svg = Buffer.from(`${comment}<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 300 150"></svg>`);
    const result = await inspectWhole(svg);
    expect(result.mimeType).toBe('image/svg+xml');
    expect(imageOf(result)).toMatchObject({ width: 300, height: 150 });
  });

  it('leaves other XML as application/xml', async () => {
    const result = await inspectWhole(Buffer.from('<?xml version="1.0"?>\n<feed xmlns="http://www.w3.org/2005/Atom"></feed>'));
    expect(result.mimeType).toBe('application/xml');
    expect(result.isImage).toBe(false);
  });

  it('does not take text that merely mentions <svg> for SVG', async () => {
    const result = await inspectWhole(Buffer.from('Use the <svg> element for vector art.\n'));
    expect(result.mimeType).toBe('text/plain');
  });
});

describe('HTML', () => {
  it.each([
    ['doctype', '<!DOCTYPE html>\n<html><body>hi</body></html>'],
    ['lower-case doctype', '<!doctype html><title>x</title>'],
    ['html root', '  \n<html lang="en"><head></head></html>'],
    ['head', '<head><meta charset="utf-8"></head>'],
    ['body', '<body onload="alert(1)">'],
    ['script', '<script>alert(document.cookie)</script>'],
    ['comment first', '<!-- saved from url=(0014)about:internet -->\n<html></html>'],
    ['BOM', '\uFEFF<!DOCTYPE html><html></html>'],
    ['XHTML', '<?xml version="1.0" encoding="UTF-8"?>\n<html xmlns="http://www.w3.org/1999/xhtml"><body/></html>'],
  ])('recognises %s', async (_, html) => {
    const result = await inspectWhole(Buffer.from(html, 'utf8'));
    expect(result.mimeType).toBe('text/html');
    expect(result.isImage).toBe(false);
    expect(result.contentInfo.image).toBeUndefined();
  });
});

describe('text, JSON and binary', () => {
  it('reports UTF-8 text as text/plain', async () => {
    const result = await inspectWhole(Buffer.from('Hello, wörld! Привет, мир! 你好 🌍\n'));
    expect(result).toEqual({
      mimeType: 'text/plain',
      contentInfo: { mime: { mime: 'text/plain', type: 'text', subtype: 'plain' } },
      isImage: false,
    });
  });

  it('forgives a character cut by the head boundary, but not in a complete file', async () => {
    const text = Buffer.from(`${'price: 10 '.repeat(20)}€`, 'utf8');
    const head = text.subarray(0, text.length - 1); // the euro sign's last byte is missing
    expect((await inspector.inspect(head, text.length + 1000)).mimeType).toBe('text/plain');
    expect((await inspectWhole(head)).mimeType).toBe('application/octet-stream');
  });

  it('recognises JSON, complete or truncated', async () => {
    expect((await inspectWhole(Buffer.from('{"name": "trove", "tags": [1, 2]}'))).mimeType).toBe('application/json');
    expect((await inspectWhole(Buffer.from('  [ {"a": 1} ]\n'))).mimeType).toBe('application/json');
    const truncated = Buffer.from('{"items": [1, 2, 3, ');
    expect((await inspector.inspect(truncated, 10_000)).mimeType).toBe('application/json');
    expect((await inspectWhole(Buffer.from('{not json at all}'))).mimeType).toBe('text/plain');
    expect((await inspectWhole(Buffer.from('[citation needed]'))).mimeType).toBe('text/plain');
  });

  it('reports binary junk as application/octet-stream', async () => {
    const junk = Buffer.from(Array.from({ length: 4096 }, (_, index) => (index * 7919 + 13) % 256));
    const result = await inspectWhole(junk);
    expect(result.mimeType).toBe('application/octet-stream');
    expect(result.contentInfo.mime).toEqual({ mime: 'application/octet-stream', type: 'application', subtype: 'octet-stream' });
    expect(result.isImage).toBe(false);
  });

  it('treats ASCII with NUL bytes as binary', async () => {
    expect((await inspectWhole(Buffer.from('abc\u0000def'))).mimeType).toBe('application/octet-stream');
  });

  it('reports a PDF as application/pdf', async () => {
    const result = await inspectWhole(makePdf());
    expect(result.mimeType).toBe('application/pdf');
    expect(result.contentInfo.mime).toEqual({ mime: 'application/pdf', type: 'application', subtype: 'pdf' });
    expect(result.isImage).toBe(false);
    expect(result.contentInfo.image).toBeUndefined();
  });

  it('reports empty input as application/x-empty', async () => {
    const result = await inspector.inspect(Buffer.alloc(0), 0);
    expect(result.mimeType).toBe('application/x-empty');
    expect(result.isImage).toBe(false);
  });
});

describe('readImageHeader (fallback parser)', () => {
  it('reads dimensions straight from headers', async () => {
    expect(readImageHeader(await makeJpeg({ width: 31, height: 17 }), 'JPEG')).toEqual({
      width: 31,
      height: 17,
      colorMode: 'RGB',
      sequence: false,
    });
    expect(readImageHeader(await makeCmykJpeg(12, 9), 'JPEG')).toMatchObject({ width: 12, height: 9, colorMode: 'CMYK' });
    expect(readImageHeader(await makePalettePng(12, 9), 'PNG')).toMatchObject({ width: 12, height: 9, colorMode: 'P' });
    expect(readImageHeader(await makeGreyPng(12, 9), 'PNG')).toMatchObject({ colorMode: 'L' });
    expect(readImageHeader(await makeGif(12, 9), 'GIF')).toMatchObject({ width: 12, height: 9, colorMode: 'P' });
    expect(readImageHeader(await makeWebp(12, 9), 'WEBP')).toMatchObject({ width: 12, height: 9, colorMode: 'RGB' });
    expect(readImageHeader(await makeWebp(12, 9, { lossless: true, alpha: true }), 'WEBP')).toMatchObject({
      width: 12,
      height: 9,
      colorMode: 'RGBA',
    });
    expect(readImageHeader(await makeAnimatedWebp({ width: 12, height: 9 }), 'WEBP')).toMatchObject({
      width: 12,
      height: 9,
      sequence: true,
    });
    expect(readImageHeader(await makeTiff(12, 9), 'TIFF')).toMatchObject({ width: 12, height: 9, colorMode: 'RGB' });
    for (const byteOrder of ['II', 'MM'] as const) {
      expect(readImageHeader(manyPageTiff({ pages: 1, byteOrder, bigTiff: true, width: 12, height: 9 }).bytes, 'TIFF')).toMatchObject({ width: 12, height: 9, colorMode: 'L' });
    }
    expect(readImageHeader(await makeAvif(12, 9), 'AVIF')).toMatchObject({ width: 12, height: 9 });
    expect(readImageHeader(makeBmp(12, 9), 'BMP')).toMatchObject({ width: 12, height: 9, colorMode: 'RGB' });
    expect(readImageHeader(makeSvg({ width: 12, height: 9, xmlProlog: true }), 'SVG')).toMatchObject({
      width: 12,
      height: 9,
      colorMode: 'RGBA',
    });
  });

  it('returns null instead of throwing on garbage or cut headers', async () => {
    const garbage = Buffer.from('this is not an image header at all');
    for (const format of ['JPEG', 'PNG', 'GIF', 'WEBP', 'AVIF', 'HEIC', 'HEIF', 'TIFF', 'BMP', 'SVG'] as const) {
      expect(readImageHeader(garbage, format)).toBeNull();
      expect(readImageHeader(Buffer.alloc(0), format)).toBeNull();
    }
    const jpeg = await makeJpeg({ width: 31, height: 17 });
    expect(readImageHeader(jpeg.subarray(0, 20), 'JPEG')).toBeNull();
    expect(readImageHeader(Buffer.from([0x49, 0x49, 42, 0, 0xff, 0xff, 0xff, 0x7f]), 'TIFF')).toBeNull();
  });
});
