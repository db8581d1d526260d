/**
 * Files that are small but make libvips visit a great many pages or frames just to read their
 * header, written byte by byte: multi-page TIFFs whose pages are tiny image directories sharing
 * one strip of pixels, and AVIF files whose sequence track declares millions of frames.
 */

import sharp from 'sharp';

interface TiffOptions {
  pages: number;
  /** 'II' little-endian (default), 'MM' big-endian. */
  byteOrder?: 'II' | 'MM';
  bigTiff?: boolean;
  width?: number;
  height?: number;
}

interface TiffBytes {
  bytes: Buffer;
  /** Offset of each page's directory. */
  ifds: number[];
  /** Offset of each page's link to the next directory (0 after the last). */
  links: number[];
  /** Writes a link (an offset, in the file's byte order and offset size) into `bytes`. */
  writeLink(at: number, target: number): void;
}

/**
 * One grey 8-bit page per directory, each with width, height, bits per sample, photometric
 * interpretation, strip offset and strip size; every page points at the same pixels.
 */
export function manyPageTiff({ pages, byteOrder = 'II', bigTiff = false, width = 1, height = 1 }: TiffOptions): TiffBytes {
  const little = byteOrder === 'II';
  const [headerBytes, countBytes, entryBytes, linkBytes] = bigTiff ? [16, 8, 20, 8] : [8, 2, 12, 4];
  // The shared strip follows the header.
  const pixels = headerBytes;
  const tags: Array<[tag: number, type: 3 | 4, value: number]> = [
    [256, 3, width],
    [257, 3, height],
    [258, 3, 8],
    [262, 3, 1],
    [273, 4, pixels],
    [279, 4, width * height],
  ];
  const ifdBytes = countBytes + tags.length * entryBytes + linkBytes;
  // Directories start on a word boundary, as the specification asks.
  const first = pixels + width * height + ((width * height) % 2);
  const bytes = Buffer.alloc(first + pages * ifdBytes);
  const write = (at: number, value: number, size: number): void => {
    if (size === 2) little ? bytes.writeUInt16LE(value, at) : bytes.writeUInt16BE(value, at);
    else if (size === 4) little ? bytes.writeUInt32LE(value, at) : bytes.writeUInt32BE(value, at);
    else little ? bytes.writeBigUInt64LE(BigInt(value), at) : bytes.writeBigUInt64BE(BigInt(value), at);
  };
  bytes.write(byteOrder, 0, 'latin1');
  if (bigTiff) {
    write(2, 43, 2);
    write(4, 8, 2);
    write(8, first, 8);
  } else {
    write(2, 42, 2);
    write(4, first, 4);
  }
  bytes.fill(0x80, pixels, pixels + width * height);
  const ifds: number[] = [];
  const links: number[] = [];
  for (let page = 0; page < pages; page++) {
    const ifd = first + page * ifdBytes;
    write(ifd, tags.length, countBytes);
    tags.forEach(([tag, type, value], index) => {
      const entry = ifd + countBytes + index * entryBytes;
      write(entry, tag, 2);
      write(entry + 2, type, 2);
      write(entry + 4, 1, bigTiff ? 8 : 4);
      write(entry + (bigTiff ? 12 : 8), value, type === 3 ? 2 : 4);
    });
    const link = ifd + ifdBytes - linkBytes;
    write(link, page + 1 < pages ? ifd + ifdBytes : 0, linkBytes);
    ifds.push(ifd);
    links.push(link);
  }
  return { bytes, ifds, links, writeLink: (at, target) => write(at, target, linkBytes) };
}

function box(type: string, ...parts: Buffer[]): Buffer {
  const body = Buffer.concat(parts);
  const head = Buffer.alloc(8);
  head.writeUInt32BE(8 + body.length, 0);
  head.write(type, 4, 'latin1');
  return Buffer.concat([head, body]);
}

function fullBox(type: string, version: number, flags: number, ...parts: Buffer[]): Buffer {
  const head = Buffer.alloc(4);
  head.writeUInt32BE(flags, 0);
  head[0] = version;
  return box(type, head, ...parts);
}

const u32 = (...values: number[]): Buffer => {
  const out = Buffer.alloc(4 * values.length);
  values.forEach((value, index) => out.writeUInt32BE(value >>> 0, 4 * index));
  return out;
};
const u16 = (...values: number[]): Buffer => {
  const out = Buffer.alloc(2 * values.length);
  values.forEach((value, index) => out.writeUInt16BE(value & 0xffff, 2 * index));
  return out;
};

/** A box of an ISO-BMFF file by its path (`meta`, `iprp`, `ipco`, `av1C`); `meta`'s version and flags are skipped. */
function findBox(bytes: Buffer, path: string[], from = 0, to = bytes.length): { start: number; end: number; whole: Buffer } {
  const full = new Set(['meta']);
  let offset = from;
  while (offset + 8 <= to) {
    const size = bytes.readUInt32BE(offset);
    const type = bytes.toString('latin1', offset + 4, offset + 8);
    if (type === path[0]) {
      const start = offset + 8 + (full.has(type) ? 4 : 0);
      if (path.length === 1) return { start, end: offset + size, whole: bytes.subarray(offset, offset + size) };
      return findBox(bytes, path.slice(1), start, offset + size);
    }
    offset += size;
  }
  throw new Error(`no ${path.join('/')} box`);
}

const IDENTITY = u32(0x10000, 0, 0, 0, 0x10000, 0, 0, 0, 0x40000000);

/**
 * An 8×8 AVIF still (made by sharp) with a sequence track next to it that declares `frames`
 * samples of that same picture: one chunk, one constant sample size, so the file stays under a
 * kilobyte whatever the count.
 */
export async function avifSequence(frames: number): Promise<Buffer> {
  const still = await sharp({ create: { width: 8, height: 8, channels: 3, background: '#808080' } }).avif({ effort: 0 }).toBuffer();
  const ftyp = box('ftyp', Buffer.from('avif', 'latin1'), u32(0), Buffer.from('avifavismsf1miafmif1', 'latin1'));
  const meta = (name: string) => findBox(still, ['meta', name]).whole;
  const av1C = findBox(still, ['meta', 'iprp', 'ipco', 'av1C']).whole;
  const mdat = findBox(still, ['mdat']);
  const data = still.subarray(mdat.start, mdat.end);
  const build = (dataOffset: number): Buffer => {
    // The still's one item, its bytes wherever this file puts them: 4-byte offsets and lengths.
    const iloc = fullBox('iloc', 0, 0, Buffer.from([0x44, 0x40]), u16(1, 1, 0), u32(dataOffset), u16(1), u32(0, data.length));
    const stillMeta = fullBox('meta', 0, 0, meta('hdlr'), meta('pitm'), iloc, meta('iinf'), meta('iprp'));
    const mvhd = fullBox('mvhd', 0, 0, u32(0, 0, 1000, frames, 0x10000), u16(0x100, 0), u32(0, 0), IDENTITY, Buffer.alloc(24), u32(2));
    const tkhd = fullBox('tkhd', 0, 3, u32(0, 0, 1, 0, frames, 0, 0), u16(0, 0, 0, 0), IDENTITY, u32(8 << 16, 8 << 16));
    const mdhd = fullBox('mdhd', 0, 0, u32(0, 0, 1000, frames), u16(0x55c4, 0));
    const hdlr = fullBox('hdlr', 0, 0, u32(0), Buffer.from('pict', 'latin1'), u32(0, 0, 0), Buffer.from([0]));
    const dinf = box('dinf', fullBox('dref', 0, 0, u32(1), fullBox('url ', 0, 1)));
    const sampleEntry = box('av01', Buffer.alloc(6), u16(1, 0, 0), u32(0, 0, 0), u16(8, 8), u32(0x480000, 0x480000, 0), u16(1), Buffer.alloc(32), u16(0x18, 0xffff), av1C);
    const stbl = box(
      'stbl',
      fullBox('stsd', 0, 0, u32(1), sampleEntry),
      fullBox('stts', 0, 0, u32(1, frames, 1)),
      fullBox('stsc', 0, 0, u32(1, 1, frames, 1)),
      fullBox('stsz', 0, 0, u32(data.length, frames)),
      fullBox('stco', 0, 0, u32(1, dataOffset)),
    );
    const minf = box('minf', fullBox('vmhd', 0, 1, u16(0, 0, 0, 0)), dinf, stbl);
    const moov = box('moov', mvhd, box('trak', tkhd, box('mdia', mdhd, hdlr, minf)));
    return Buffer.concat([ftyp, stillMeta, moov]);
  };
  const dataOffset = build(0).length + 8;
  return Buffer.concat([build(dataOffset), box('mdat', data)]);
}
