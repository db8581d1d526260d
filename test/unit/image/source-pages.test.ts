import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { countSequenceFrames } from '../../../src/adapters/inspect/sequence-frames.js';
import { countSourcePages, tooManyPages } from '../../../src/adapters/inspect/source-pages.js';
import { countTiffPages } from '../../../src/adapters/inspect/tiff-pages.js';
import { gifBomb } from '../../helpers/animation-bombs.js';
import { makeAvif, makeJpeg, makeMultiPageTiff, makePng, makeTiff } from '../../helpers/images.js';
import { avifSequence, manyPageTiff } from '../../helpers/page-bombs.js';

async function sharpPages(bytes: Buffer): Promise<number> {
  return (await sharp(bytes, { limitInputPixels: false }).metadata()).pages ?? 1;
}

const LAYOUTS = [
  { byteOrder: 'II', bigTiff: false },
  { byteOrder: 'MM', bigTiff: false },
  { byteOrder: 'II', bigTiff: true },
  { byteOrder: 'MM', bigTiff: true },
] as const;

describe('countTiffPages', () => {
  it('counts the pages libvips counts, in both byte orders, classic and BigTIFF', async () => {
    for (const layout of LAYOUTS) {
      for (const pages of [1, 2, 37]) {
        const tiff = manyPageTiff({ ...layout, pages, width: 3, height: 2 });
        expect([layout, pages, countTiffPages(tiff.bytes)]).toEqual([layout, pages, await sharpPages(tiff.bytes)]);
      }
    }
    // Written by libtiff itself, directories after the pixels.
    expect(countTiffPages(await makeTiff())).toBe(1);
    expect(countTiffPages(await makeMultiPageTiff({ frames: 4 }))).toBe(4);
  });

  it('counts 50 000 tiny pages at once, and stops just past the limit it is given', () => {
    const tiff = manyPageTiff({ pages: 50_000 });
    // 78 bytes a page: libvips needs over a second to read this header.
    expect(tiff.bytes.length).toBeLessThan(4_000_000);
    const started = performance.now();
    expect(countTiffPages(tiff.bytes)).toBe(50_000);
    expect(countTiffPages(tiff.bytes, 1000)).toBe(1001);
    expect(performance.now() - started).toBeLessThan(300);
    expect(countSourcePages(tiff.bytes, 1000)).toEqual({ kind: 'tiff', count: 1001, atLeast: true });
    expect(countSourcePages(tiff.bytes, 50_000)).toEqual({ kind: 'tiff', count: 50_000, atLeast: false });
  });

  it('ends a chain that loops where libtiff ends it, whichever page it loops back to', async () => {
    for (const layout of LAYOUTS) {
      for (const target of [0, 2, 4]) {
        const tiff = manyPageTiff({ ...layout, pages: 5 });
        tiff.writeLink(tiff.links[4]!, tiff.ifds[target]!);
        expect([layout, target, countTiffPages(tiff.bytes)]).toEqual([layout, target, 5]);
        expect(await sharpPages(tiff.bytes)).toBe(5);
      }
    }
    // A loop with no end costs no more than the limit.
    const loop = manyPageTiff({ pages: 2 });
    loop.writeLink(loop.links[1]!, loop.ifds[0]!);
    expect(countTiffPages(loop.bytes, 1)).toBe(2);
  });

  it('stops at a directory outside the file, as libtiff does', async () => {
    for (const layout of LAYOUTS) {
      const tiff = manyPageTiff({ ...layout, pages: 5 });
      tiff.writeLink(tiff.links[2]!, tiff.bytes.length + 1000);
      expect(countTiffPages(tiff.bytes)).toBe(3);
      expect(await sharpPages(tiff.bytes)).toBe(3);
      // An entry count that runs past the end: the directory is unreadable.
      const wide = manyPageTiff({ ...layout, pages: 5 });
      wide.bytes[wide.ifds[3]! + (layout.byteOrder === 'II' ? 1 : layout.bigTiff ? 6 : 0)] = 0xff;
      expect(countTiffPages(wide.bytes)).toBe(3);
    }
    const big = manyPageTiff({ pages: 3, bigTiff: true });
    big.bytes.writeBigUInt64LE(2n ** 63n, big.links[0]);
    expect(countTiffPages(big.bytes)).toBe(1);
    const nowhere = manyPageTiff({ pages: 3 });
    nowhere.bytes.writeUInt32LE(0xffff_fff0, 4);
    expect(countTiffPages(nowhere.bytes)).toBe(0);
  });

  it('reads files cut anywhere without throwing, counting only whole directories', async () => {
    for (const layout of LAYOUTS) {
      const tiff = manyPageTiff({ ...layout, pages: 6 });
      for (let end = 0; end <= tiff.bytes.length; end += 3) {
        const count = countTiffPages(tiff.bytes.subarray(0, end));
        expect(count ?? 0).toBeLessThanOrEqual(6);
      }
      // Cut inside page 4's entries, and inside page 3's link: libvips counts what this walk counts.
      for (const end of [tiff.ifds[3]! + 20, tiff.links[2]! + 2]) {
        const cut = tiff.bytes.subarray(0, end);
        expect(countTiffPages(cut)).toBe(3);
        expect(await sharpPages(cut)).toBe(3);
      }
    }
  });

  it('says nothing about bytes that are not a TIFF libtiff would open', async () => {
    expect(countTiffPages(await makePng())).toBeNull();
    expect(countTiffPages(Buffer.from('II'))).toBeNull();
    const version41 = manyPageTiff({ pages: 2 });
    version41.bytes.writeUInt16LE(41, 2);
    expect(countTiffPages(version41.bytes)).toBeNull();
    const badOffsetSize = manyPageTiff({ pages: 2, bigTiff: true });
    badOffsetSize.bytes.writeUInt16LE(4, 4);
    expect(countTiffPages(badOffsetSize.bytes)).toBeNull();
  });
});

describe('countSequenceFrames', () => {
  it('counts the frames a HEIF/AVIF sequence track declares, which libheif parses though libvips loads only the still', async () => {
    for (const frames of [1, 7, 4_000_000]) {
      const avif = await avifSequence(frames);
      expect(avif.length).toBeLessThan(1000);
      expect(countSequenceFrames(avif)).toBe(frames);
    }
    const small = await avifSequence(7);
    expect(await sharp(small).metadata()).toMatchObject({ format: 'heif', compression: 'av1', pages: 1, width: 8 });
  });

  it('says nothing about stills, other formats and other ISO media files', async () => {
    expect(countSequenceFrames(await makeAvif(20, 10))).toBeNull();
    expect(countSequenceFrames(await makeJpeg({ width: 20, height: 10 }))).toBeNull();
    const video = await avifSequence(30);
    video.write('isom', 8, 'latin1');
    video.write('isomisomisomisomisom', 16, 'latin1');
    expect(countSequenceFrames(video)).toBeNull();
  });

  it('reads files cut anywhere or lying about box sizes without throwing', async () => {
    const avif = await avifSequence(5);
    for (let end = 0; end <= avif.length; end += 5) expect(countSequenceFrames(avif.subarray(0, end)) ?? 0).toBeLessThanOrEqual(5);
    const lying = Buffer.from(avif);
    const moov = lying.indexOf('moov', 0, 'latin1') - 4;
    lying.writeUInt32BE(0xffff_ffff, moov);
    expect(countSequenceFrames(lying)).toBe(5);
    lying.writeUInt32BE(3, moov);
    expect(countSequenceFrames(lying)).toBeNull();
  });
});

describe('countSourcePages', () => {
  it('tells animations, TIFF pages and sequences apart, and names the limit when refusing', async () => {
    const gif = gifBomb({ width: 10, height: 10, frames: 12 });
    expect(countSourcePages(gif)).toEqual({ kind: 'animation', count: 12, atLeast: false });
    expect(countSourcePages(await avifSequence(3000))).toEqual({ kind: 'sequence', count: 3000, atLeast: false });
    expect(countSourcePages(await makeJpeg({ width: 20, height: 10 }))).toBeNull();
    expect(tooManyPages({ kind: 'animation', count: 12, atLeast: false }, 10)).toBe('the animation has 12 frames, more than the 10 frames allowed');
    expect(tooManyPages({ kind: 'tiff', count: 11, atLeast: true }, 10)).toBe('the TIFF has more than the 10 pages allowed');
    expect(tooManyPages({ kind: 'tiff', count: 12, atLeast: false }, 10)).toBe('the TIFF has 12 pages, more than the 10 pages allowed');
    expect(tooManyPages({ kind: 'sequence', count: 3000, atLeast: false }, 10)).toBe('the image sequence has 3000 frames, more than the 10 frames allowed');
  });
});
