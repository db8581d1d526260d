import { createAppError } from '../../errors.js';
import type { BlobStore } from '../../ports/blob-store.js';
import type { TransformSource } from '../../ports/transform-runner.js';
import { ByteLruCache } from '../../lib/byte-lru-cache.js';
import { readStream } from '../../lib/read-stream.js';

/** Where a transformation's originals come from: the delivery service (which shares its original cache) or a `SourceReader`. */
export interface SourceLoader {
  readSource(source: Pick<TransformSource, 'uuid' | 'blobKey' | 'size'>): Promise<Buffer>;
}

/** All of an original's bytes, checked against its recorded size. */
export async function readWholeBlob(blobs: BlobStore, source: Pick<TransformSource, 'uuid' | 'blobKey' | 'size'>): Promise<Buffer> {
  const stream = await blobs.get(source.blobKey);
  if (!stream) throw createAppError('FILE_NOT_FOUND', 404, `File ${source.uuid} not found.`);
  const buffer = await readStream(stream, source.size);
  if (!buffer) throw createAppError('FILE_CORRUPT', 500, `Stored bytes of ${source.uuid} exceed the recorded size.`);
  if (buffer.length !== source.size) throw createAppError('FILE_CORRUPT', 500, `Stored bytes of ${source.uuid} do not match the recorded size.`);
  return buffer;
}

/**
 * Originals for a transform node, which has no records: keyed by uuid like the delivery service's
 * source cache, so a hot image's many sizes read it from the blob store once. Originals never
 * change, so a cached copy is only ever too old when the file is deleted, and a deleted file gets
 * no job (the sending node reads its record first).
 */
export class SourceReader implements SourceLoader {
  private readonly sources: ByteLruCache;

  constructor(
    private readonly blobs: BlobStore,
    settings: { cacheBytes: number; cacheMaxEntryBytes: number },
  ) {
    this.sources = new ByteLruCache(settings.cacheBytes, settings.cacheMaxEntryBytes);
  }

  async readSource(source: Pick<TransformSource, 'uuid' | 'blobKey' | 'size'>): Promise<Buffer> {
    const cached = this.sources.get(source.uuid);
    if (cached && cached.length === source.size) return cached;
    const buffer = await readWholeBlob(this.blobs, source);
    this.sources.set(source.uuid, buffer);
    return buffer;
  }
}
