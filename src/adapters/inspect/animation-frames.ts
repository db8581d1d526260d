/**
 * Frame counts of animated GIF and WebP files, read from their block structure alone: no pixel
 * data is decompressed and nothing is allocated per frame. libvips' own header read walks every
 * frame too, but its time grows faster than the frame count (a 100 000-frame WebP of a few MB
 * takes seconds), so a file is counted here first and refused before libvips ever sees it.
 *
 * The walk is linear in the file's size: it hops over data sub-blocks (GIF) or chunks (WebP) by
 * their declared lengths.
 */

/** Frames of a GIF or WebP, or null when the bytes are neither (other formats are not animations). */
export function countAnimationFrames(bytes: Buffer): number | null {
  if (isGif(bytes)) return countGifFrames(bytes);
  if (isWebp(bytes)) return countWebpFrames(bytes);
  return null;
}

function isGif(bytes: Buffer): boolean {
  return bytes.length >= 6 && (bytes.toString('latin1', 0, 6) === 'GIF89a' || bytes.toString('latin1', 0, 6) === 'GIF87a');
}

function isWebp(bytes: Buffer): boolean {
  return bytes.length >= 12 && bytes.toString('latin1', 0, 4) === 'RIFF' && bytes.toString('latin1', 8, 12) === 'WEBP';
}

const GIF_EXTENSION = 0x21;
const GIF_IMAGE = 0x2c;
/** Signature (6) and logical screen descriptor (7). */
const GIF_HEADER_BYTES = 13;

/** Bytes of a colour table whose presence and size are packed into `flags` (bit 7, bits 0–2). */
function colourTableBytes(flags: number): number {
  return (flags & 0x80) === 0 ? 0 : 3 * 2 ** ((flags & 0x07) + 1);
}

/** Offset after a chain of data sub-blocks (length byte, data…, until a zero length). */
function skipSubBlocks(bytes: Buffer, start: number): number {
  let offset = start;
  while (offset < bytes.length) {
    const length = bytes[offset]!;
    offset += 1 + length;
    if (length === 0) break;
  }
  return offset;
}

/**
 * Image descriptors (one per frame) up to the trailer. Like giflib and libnsgif, the walk ends at
 * the first byte that starts no known block: whatever follows is not decoded by them either.
 */
function countGifFrames(bytes: Buffer): number {
  if (bytes.length < GIF_HEADER_BYTES) return 0;
  let offset = GIF_HEADER_BYTES + colourTableBytes(bytes[10]!);
  let frames = 0;
  while (offset < bytes.length) {
    const introducer = bytes[offset]!;
    if (introducer === GIF_EXTENSION) {
      offset = skipSubBlocks(bytes, offset + 2);
    } else if (introducer === GIF_IMAGE) {
      if (offset + 10 > bytes.length) break;
      frames += 1;
      // Descriptor (10 bytes), local colour table, LZW minimum code size (1 byte), then the data.
      offset = skipSubBlocks(bytes, offset + 10 + colourTableBytes(bytes[offset + 9]!) + 1);
    } else {
      break;
    }
  }
  return frames;
}

/** ANMF chunks of an animated WebP; a still WebP (no ANMF chunk) is one frame. */
function countWebpFrames(bytes: Buffer): number {
  // The RIFF size bounds the chunk list; a file cut short simply has fewer chunks.
  const end = Math.min(bytes.length, 8 + bytes.readUInt32LE(4));
  let offset = 12;
  let frames = 0;
  while (offset + 8 <= end) {
    const size = bytes.readUInt32LE(offset + 4);
    if (bytes.toString('latin1', offset, offset + 4) === 'ANMF') frames += 1;
    // Chunks are padded to an even length.
    offset += 8 + size + (size % 2);
  }
  return Math.max(1, frames);
}
