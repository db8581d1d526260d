import { Readable } from 'node:stream';
import { derivativesPrefix } from '../../domain/blob-layout.js';
import type { BlobStore } from '../../ports/blob-store.js';
import { ByteLruCache } from '../../lib/byte-lru-cache.js';
import { readStream } from '../../lib/read-stream.js';

/** A finished derivative as the delivery path serves it. */
export interface Derivative {
  data: Buffer;
  contentType: string;
  /** Made from a temporary (unstored) file: caches must not keep it for long. */
  temporary: boolean;
  /**
   * The project of the file it was made from, so a hit can name it in its cache tags without a
   * record; null for a derivative read from an envelope written before envelopes carried it.
   */
  projectId: string | null;
}

/**
 * Derivatives are stored in the blob store with a small envelope that carries what a hit must
 * answer with, so an L2 hit needs neither the database nor a sidecar object. `TRV2`: a flags byte
 * (bit 0: made from a temporary file), a length byte and the content type, a length byte and the
 * project id, then the bytes. `TRV1` (still read) is the same without the project id.
 */
const MAGIC_V1 = Buffer.from('TRV1');
const MAGIC_V2 = Buffer.from('TRV2');
const MAGIC_LENGTH = 4;
/** Magic, flags, the content type's length, the project id's length. */
const MAX_HEADER = MAGIC_LENGTH + 3 + 255 + 255;

function encodeEnvelope(derivative: Derivative): Buffer {
  const type = Buffer.from(derivative.contentType, 'utf8');
  const project = Buffer.from(derivative.projectId ?? '', 'utf8');
  if (type.length > 255) throw new Error('content type too long for a derivative envelope');
  if (project.length > 255) throw new Error('project id too long for a derivative envelope');
  const header = Buffer.from([derivative.temporary ? 1 : 0, type.length]);
  return Buffer.concat([MAGIC_V2, header, type, Buffer.from([project.length]), project, derivative.data]);
}

function decodeEnvelope(buffer: Buffer): Derivative | null {
  if (buffer.length < MAGIC_LENGTH + 2) return null;
  const magic = buffer.subarray(0, MAGIC_LENGTH);
  const v2 = magic.equals(MAGIC_V2);
  if (!v2 && !magic.equals(MAGIC_V1)) return null;
  const flags = buffer[MAGIC_LENGTH]!;
  const typeLength = buffer[MAGIC_LENGTH + 1]!;
  const typeStart = MAGIC_LENGTH + 2;
  let dataStart = typeStart + typeLength;
  let projectId: string | null = null;
  if (v2) {
    if (buffer.length < dataStart + 1) return null;
    const projectLength = buffer[dataStart]!;
    projectId = buffer.subarray(dataStart + 1, dataStart + 1 + projectLength).toString('utf8') || null;
    dataStart += 1 + projectLength;
  }
  if (buffer.length < dataStart) return null;
  return {
    temporary: (flags & 1) === 1,
    contentType: buffer.subarray(typeStart, typeStart + typeLength).toString('utf8'),
    projectId,
    data: buffer.subarray(dataStart),
  };
}

/**
 * Two tiers: L1, an in-process LRU bounded in bytes; L2, the blob store (filesystem or S3), shared
 * by every process and node. A hit touches no database and takes no lock.
 */
export class DerivativeCache {
  private readonly l1: ByteLruCache<Derivative>;
  private readonly l2MaxEntryBytes: number;

  constructor(
    private readonly blobs: BlobStore,
    settings: { l1Bytes: number; l1MaxEntryBytes: number; l2MaxEntryBytes: number },
  ) {
    this.l2MaxEntryBytes = settings.l2MaxEntryBytes;
    this.l1 = new ByteLruCache<Derivative>(settings.l1Bytes, settings.l1MaxEntryBytes, (d) => d.data.length + d.contentType.length);
  }

  /** From memory only: the cheapest possible hit. */
  getL1(key: string): Derivative | null {
    return this.l1.get(key) ?? null;
  }

  /** From the blob store; promoted to L1 when found. */
  async getL2(key: string): Promise<Derivative | null> {
    const stream = await this.blobs.get(key);
    if (!stream) return null;
    const envelope = await readStream(stream, this.l2MaxEntryBytes + MAX_HEADER);
    const derivative = envelope ? decodeEnvelope(envelope) : null;
    if (derivative) this.remember(key, derivative);
    return derivative;
  }

  /** Memory tier now; the returned promise settles when the blob store has it too. */
  async put(key: string, derivative: Derivative): Promise<void> {
    this.remember(key, derivative);
    if (derivative.data.length > this.l2MaxEntryBytes) return;
    await this.blobs.put(key, Readable.from([encodeEnvelope(derivative)]), { rebuildable: true });
  }

  clearMemory(): void {
    this.l1.deleteWhere(() => true);
  }

  /** Drops a file's derivatives from this process's memory only (another node purged the store). */
  forgetFromMemory(fileUuid: string): void {
    const prefix = derivativesPrefix(fileUuid);
    this.l1.deleteWhere((key) => key.startsWith(prefix));
  }

  /** Drops every derivative of a file from both tiers. */
  async purge(fileUuid: string): Promise<number> {
    const prefix = derivativesPrefix(fileUuid);
    this.l1.deleteWhere((key) => key.startsWith(prefix));
    return this.blobs.deletePrefix(prefix);
  }

  private remember(key: string, derivative: Derivative): void {
    this.l1.set(key, derivative);
  }
}
