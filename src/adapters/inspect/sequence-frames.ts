/**
 * Frames of a HEIF or AVIF image sequence (the `moov` track that animated AVIF and HEIC sequences
 * carry next to their still image), read from the sample-size boxes of its tracks.
 *
 * libvips reads only the still images of a HEIF file, but libheif parses the whole file first, and
 * its time grows with every sample a track declares. The count is one 32-bit field (`stsz` with a
 * constant sample size has no table at all), so a file of under a kilobyte can declare millions of
 * frames: about a second of header reading per million, up to libheif's own ceiling of 18 million.
 * Counting them here lets Trove refuse such a file before libheif sees it.
 */

const HEIF_BRANDS: ReadonlySet<string> = new Set([
  'avif', 'avis', 'heic', 'heix', 'heim', 'heis', 'hevc', 'hevx', 'hevm', 'hevs', 'mif1', 'mif2', 'msf1',
]);

/**
 * The samples all tracks of a HEIF/AVIF file declare, or null when the bytes are not HEIF/AVIF or
 * carry no sequence (a still image). Other ISO media files (MP4 video) are not images: null.
 * Linear in the file's size: boxes are hopped over by their declared sizes, never read through.
 */
export function countSequenceFrames(bytes: Buffer): number | null {
  if (!isHeif(bytes)) return null;
  const moov = nextBox(bytes, 0, bytes.length, MOOV);
  if (moov === null) return null;
  let frames = 0;
  for (let trak = nextBox(bytes, moov.start, moov.end, TRAK); trak !== null; trak = nextBox(bytes, trak.next, moov.end, TRAK)) {
    const mdia = nextBox(bytes, trak.start, trak.end, MDIA);
    const minf = mdia && nextBox(bytes, mdia.start, mdia.end, MINF);
    const stbl = minf && nextBox(bytes, minf.start, minf.end, STBL);
    if (stbl !== null) frames += sampleCount(bytes, stbl);
  }
  return frames;
}

const MAX_BRANDS = 1000;

const fourcc = (type: string): number => Buffer.from(type, 'latin1').readUInt32BE(0);
const MOOV = fourcc('moov');
const TRAK = fourcc('trak');
const MDIA = fourcc('mdia');
const MINF = fourcc('minf');
const STBL = fourcc('stbl');
const STSZ = fourcc('stsz');
const STZ2 = fourcc('stz2');

function isHeif(bytes: Buffer): boolean {
  if (bytes.length < 16 || bytes.toString('latin1', 4, 8) !== 'ftyp') return false;
  // Compatible brands follow the major brand and its minor version; libheif reads at most 1000.
  const end = Math.min(bytes.length, bytes.readUInt32BE(0), 16 + 4 * MAX_BRANDS);
  if (HEIF_BRANDS.has(bytes.toString('latin1', 8, 12))) return true;
  for (let offset = 16; offset + 4 <= end; offset += 4) {
    if (HEIF_BRANDS.has(bytes.toString('latin1', offset, offset + 4))) return true;
  }
  return false;
}

/** `stsz` (version and flags, constant size, count) or `stz2` (version and flags, reserved and field size, count). */
function sampleCount(bytes: Buffer, stbl: Box): number {
  const box = nextBox(bytes, stbl.start, stbl.end, STSZ) ?? nextBox(bytes, stbl.start, stbl.end, STZ2);
  return box !== null && box.start + 12 <= box.end ? bytes.readUInt32BE(box.start + 8) : 0;
}

interface Box {
  /** Offset of the payload. */
  start: number;
  /** Offset just past the box, clamped to its container. */
  end: number;
  /** Offset of the box after this one (unclamped: past `end` when the box overruns its container). */
  next: number;
}

/** The first box of `type` between two offsets; boxes are hopped over by their declared sizes (64-bit sizes too). */
function nextBox(bytes: Buffer, from: number, to: number, type: number): Box | null {
  let offset = from;
  while (offset + 8 <= to) {
    let size = bytes.readUInt32BE(offset);
    let header = 8;
    if (size === 1) {
      if (offset + 16 > to) return null;
      size = Number(bytes.readBigUInt64BE(offset + 8));
      header = 16;
    } else if (size === 0) {
      // Extends to the end of its container.
      size = to - offset;
    }
    if (size < header) return null;
    if (bytes.readUInt32BE(offset + 4) === type) return { start: offset + header, end: Math.min(offset + size, to), next: offset + size };
    offset += size;
  }
  return null;
}
