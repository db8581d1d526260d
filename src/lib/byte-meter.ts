import { createHash, type Hash } from 'node:crypto';
import { Transform, type TransformCallback } from 'node:stream';
import { createAppError } from '../errors.js';

/**
 * Passes bytes through while counting them, hashing them (SHA-256) and keeping the leading
 * `headBytes` for content sniffing. Fails the stream the moment `maxBytes` is passed, so an
 * oversize upload is refused while it streams, never after it was stored.
 */
export class ByteMeter extends Transform {
  bytes = 0;
  private readonly hash: Hash = createHash('sha256');
  private readonly headChunks: Buffer[] = [];
  private headLength = 0;

  constructor(
    private readonly maxBytes: number,
    private readonly headBytes: number,
    private readonly onTooLarge: () => Error = () =>
      createAppError('FileSizeLimitExceededError', 413, `File is larger than the ${maxBytes}-byte limit.`),
  ) {
    super({ highWaterMark: 1024 * 1024 });
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.bytes += chunk.length;
    if (this.bytes > this.maxBytes) {
      callback(this.onTooLarge());
      return;
    }
    this.hash.update(chunk);
    if (this.headLength < this.headBytes) {
      const take = chunk.subarray(0, this.headBytes - this.headLength);
      this.headChunks.push(Buffer.from(take));
      this.headLength += take.length;
    }
    callback(null, chunk);
  }

  /** The leading bytes seen (call after the stream finished). */
  head(): Buffer {
    return Buffer.concat(this.headChunks, this.headLength);
  }

  sha256(): string {
    return this.hash.digest('hex');
  }
}
