/**
 * ClamAV's clamd socket protocol, the parts Trove speaks: `z`-prefixed commands ended by a NUL
 * (replies then end with a NUL too), and `zINSTREAM`, which takes the bytes as chunks each led by its
 * length as a 4-byte big-endian integer and ended by a zero-length chunk.
 */
import { VirusScanError, type ScanVerdict } from '../../ports/virus-scanner.js';

export type ClamdCommand = 'PING' | 'VERSION' | 'INSTREAM';

export function commandBytes(command: ClamdCommand): Buffer {
  return Buffer.from(`z${command}\0`, 'latin1');
}

/** The 4-byte length that leads a chunk; clamd reads it as unsigned big-endian. */
export function chunkHeader(length: number): Buffer {
  if (!Number.isInteger(length) || length < 0 || length > 0xffff_ffff) throw new RangeError(`chunk length ${length} does not fit 32 bits`);
  const header = Buffer.alloc(4);
  header.writeUInt32BE(length, 0);
  return header;
}

/** The zero-length chunk that ends an INSTREAM. */
export const END_OF_STREAM: Buffer = Buffer.alloc(4);

/** Splits `data` into framed chunks of at most `maxChunk` bytes (header, bytes, header, bytes, …). */
export function frameChunks(data: Buffer, maxChunk: number): Buffer[] {
  const frames: Buffer[] = [];
  for (let offset = 0; offset < data.length; offset += maxChunk) {
    const part = data.subarray(offset, offset + maxChunk);
    frames.push(chunkHeader(part.length), part);
  }
  return frames;
}

/** A reply without its NUL terminator and surrounding blanks. */
export function replyText(raw: Buffer): string {
  const end = raw.indexOf(0);
  return (end === -1 ? raw : raw.subarray(0, end)).toString('latin1').trim();
}

/** Whether `raw` holds a whole reply (it ends at a NUL). */
export function isCompleteReply(raw: Buffer): boolean {
  return raw.includes(0);
}

/** Longest reply Trove reads; clamd's are one short line. */
export const MAX_REPLY_BYTES = 4096;

/**
 * The verdict in an INSTREAM reply: `stream: OK`, `stream: <signature> FOUND`, or an error line
 * (`INSTREAM size limit exceeded. ERROR`, `<reason> ERROR`).
 */
export function parseScanReply(reply: string): ScanVerdict {
  if (/^stream: OK$/.test(reply)) return { infected: false, signature: null };
  const found = /^stream: (.+) FOUND$/.exec(reply);
  if (found) return { infected: true, signature: found[1]!.trim() };
  if (/size limit exceeded/i.test(reply)) {
    throw new VirusScanError('TOO_LARGE', 'The file is larger than clamd accepts in one stream (its StreamMaxLength).');
  }
  throw new VirusScanError('SCANNER_ERROR', `clamd answered: ${reply === '' ? '(nothing)' : reply.slice(0, 200)}`);
}

/** The engine version in a VERSION reply (`ClamAV 1.4.6/27543/Mon Jan 6 09:00:00 2026` → `1.4.6`). */
export function parseVersion(reply: string): string {
  const match = /^ClamAV ([0-9][0-9A-Za-z.+~-]*)(\/|$)/.exec(reply);
  if (!match) throw new VirusScanError('SCANNER_ERROR', `clamd's VERSION reply is not understood: ${reply.slice(0, 200)}`);
  return match[1]!;
}

export function parsePing(reply: string): void {
  if (reply !== 'PONG') throw new VirusScanError('SCANNER_ERROR', `clamd answered PING with: ${reply.slice(0, 200)}`);
}
