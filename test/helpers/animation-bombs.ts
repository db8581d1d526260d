/**
 * Animations that are tiny as files but huge to decode, written byte by byte: every frame is a 1×1
 * image on a large canvas, and decoders composite each frame onto the full canvas. A few dozen
 * bytes per frame stand for millions of decoded pixels each.
 */

import sharp from 'sharp';

interface BombOptions {
  width: number;
  height: number;
  frames: number;
}

/** GIF89a: a two-colour global table, a looping NETSCAPE block, then `frames` × (control extension, 1×1 image). */
export function gifBomb({ width, height, frames }: BombOptions): Buffer {
  const screen = Buffer.alloc(13);
  screen.write('GIF89a', 0, 'latin1');
  screen.writeUInt16LE(width, 6);
  screen.writeUInt16LE(height, 8);
  screen[10] = 0x80; // global colour table of 2 entries
  const palette = Buffer.from([0, 0, 0, 255, 0, 0]);
  const loop = Buffer.from([0x21, 0xff, 0x0b, ...Buffer.from('NETSCAPE2.0', 'latin1'), 0x03, 0x01, 0x00, 0x00, 0x00]);
  // 20 ms per frame, no disposal, no transparency.
  const control = Buffer.from([0x21, 0xf9, 0x04, 0x00, 0x02, 0x00, 0x00, 0x00]);
  const descriptor = Buffer.alloc(10);
  descriptor[0] = 0x2c;
  descriptor.writeUInt16LE(1, 5);
  descriptor.writeUInt16LE(1, 7);
  // LZW with 2-bit minimum code size, 3-bit codes clear (4), index 1, end (5) → 0x4c 0x01.
  const data = Buffer.from([0x02, 0x02, 0x4c, 0x01, 0x00]);
  const frame = Buffer.concat([control, descriptor, data]);
  return Buffer.concat([screen, palette, loop, ...Array.from({ length: frames }, () => frame), Buffer.from([0x3b])]);
}

function riffChunk(fourcc: string, payload: Buffer): Buffer {
  const head = Buffer.alloc(8);
  head.write(fourcc, 0, 'latin1');
  head.writeUInt32LE(payload.length, 4);
  return Buffer.concat([head, payload, Buffer.alloc(payload.length % 2)]);
}

/** Animated WebP: VP8X canvas, ANIM, then `frames` ANMF chunks each holding one 1×1 lossless frame. */
export async function webpBomb({ width, height, frames }: BombOptions): Promise<Buffer> {
  const still = await sharp({ create: { width: 1, height: 1, channels: 4, background: '#f00' } }).webp({ lossless: true }).toBuffer();
  let bitstream: Buffer | null = null;
  for (let offset = 12; offset + 8 <= still.length; ) {
    const size = still.readUInt32LE(offset + 4);
    if (still.toString('latin1', offset, offset + 4) === 'VP8L') bitstream = still.subarray(offset, offset + 8 + size + (size % 2));
    offset += 8 + size + (size % 2);
  }
  if (bitstream === null) throw new Error('sharp wrote no VP8L chunk');
  const vp8x = Buffer.alloc(10);
  vp8x[0] = 0x02 | 0x10; // animation, alpha
  vp8x.writeUIntLE(width - 1, 4, 3);
  vp8x.writeUIntLE(height - 1, 7, 3);
  const anim = Buffer.alloc(6); // background colour, loop forever
  const frameHeader = Buffer.alloc(16); // at 0,0; 1×1 (stored minus one); 20 ms; no blending
  frameHeader.writeUIntLE(20, 12, 3);
  frameHeader[15] = 0x02;
  const frame = riffChunk('ANMF', Buffer.concat([frameHeader, bitstream]));
  const body = Buffer.concat([Buffer.from('WEBP', 'latin1'), riffChunk('VP8X', vp8x), riffChunk('ANIM', anim), ...Array.from({ length: frames }, () => frame)]);
  const riff = Buffer.alloc(8);
  riff.write('RIFF', 0, 'latin1');
  riff.writeUInt32LE(body.length, 4);
  return Buffer.concat([riff, body]);
}
