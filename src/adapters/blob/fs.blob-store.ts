import { randomUUID } from 'node:crypto';
import { constants as fsConstants } from 'node:fs';
import { access, mkdir, open, readdir, rename, rm, rmdir, stat, unlink, type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type {
  BlobInfo,
  BlobStore,
  ByteRange,
  CompletedPart,
  MultipartBlobUpload,
  PutBlobOptions,
  UploadPartInput,
} from '../../ports/blob-store.js';
import {
  assertValidByteRange,
  assertValidObjectSize,
  assertValidPart,
  resolveBlobPath,
  resolveBlobPrefixPath,
} from './blob-key.js';
import {
  BlobSizeMismatchError,
  InvalidBlobArgumentError,
  InvalidBlobKeyError,
  InvalidUploadIdError,
  MultipartUploadNotFoundError,
  PartSizeMismatchError,
} from './errors.js';

interface FsBlobStoreOptions {
  /** Directory holding every object; created on first write if missing. */
  root: string;
}

/**
 * Temp files and multipart uploads live here, inside the root so a rename into place never
 * crosses filesystems. Keys may not start with this segment.
 */
export const FS_STAGING_DIR = '.staging';

/** Large buffers: the upload benchmark compares against `cp`, and syscalls dominate at 64 KiB. */
const IO_CHUNK_BYTES = 1024 * 1024;
/** Keeps a writev below IOV_MAX (1024) even when a body arrives in tiny chunks. */
const MAX_BUFFERS_PER_WRITE = 512;
/** Upload ids come back from the database; they are checked before ever becoming part of a path. */
const FS_UPLOAD_ID = /^[a-z0-9-]{8,64}$/;
/** A rename can race a deletePrefix removing the (then empty) parent directory. */
const RENAME_ATTEMPTS = 3;

/**
 * BlobStore on a local filesystem. Writes go to a temp file that is fsynced and renamed into
 * place, so readers see either the old object, the new one, or nothing — never a partial file.
 *
 * Known limit: a key cannot also be a "directory" of other keys (`a/b` and `a/b/c` cannot both
 * exist), which S3 would allow. Services choose keys that never collide that way.
 */
export class FsBlobStore implements BlobStore {
  readonly kind = 'fs' as const;
  private readonly root: string;
  private readonly stagingDir: string;
  private stagingDirReady: Promise<void> | undefined;

  constructor(options: FsBlobStoreOptions) {
    this.root = path.resolve(options.root);
    this.stagingDir = path.join(this.root, FS_STAGING_DIR);
  }

  async put(key: string, body: Readable, options: PutBlobOptions = {}): Promise<BlobInfo> {
    const target = this.objectPath(key);
    if (options.size !== undefined) assertValidObjectSize(options.size);
    const tempPath = path.join(this.stagingDir, `put-${randomUUID()}`);
    // Opened before streaming, so the cleanup below can never run ahead of the file's creation.
    const handle = await this.createStagingFile(tempPath);
    // flush: fsync before close, so the bytes are durable before the rename makes them visible.
    const durable = options.rebuildable !== true;
    const out = handle.createWriteStream({ highWaterMark: IO_CHUNK_BYTES, flush: durable });
    try {
      await pipeline(body, out);
      if (options.size !== undefined && out.bytesWritten !== options.size) {
        throw new BlobSizeMismatchError(options.size, out.bytesWritten);
      }
      await this.moveIntoPlace(tempPath, target, durable);
      return { size: out.bytesWritten };
    } catch (error) {
      await rm(tempPath, { force: true });
      throw error;
    }
  }

  async get(key: string, range?: ByteRange): Promise<Readable | null> {
    const filePath = this.objectPath(key);
    if (range) assertValidByteRange(range);
    const handle = await openIfExists(filePath, 'r');
    if (!handle) return null;
    try {
      // open(2) succeeds on directories; a "directory" is not an object.
      if (!(await handle.stat()).isFile()) {
        await handle.close();
        return null;
      }
    } catch (error) {
      await handle.close();
      throw error;
    }
    return handle.createReadStream({ start: range?.start, end: range?.end, highWaterMark: IO_CHUNK_BYTES });
  }

  async head(key: string): Promise<BlobInfo | null> {
    const filePath = this.objectPath(key);
    try {
      const stats = await stat(filePath);
      return stats.isFile() ? { size: stats.size } : null;
    } catch (error) {
      if (isMissingPathError(error)) return null;
      throw error;
    }
  }

  async delete(key: string): Promise<void> {
    const filePath = this.objectPath(key);
    try {
      await unlink(filePath);
    } catch (error) {
      if (isMissingPathError(error) || errorCode(error) === 'EISDIR') return;
      throw error;
    }
  }

  async deletePrefix(prefix: string): Promise<number> {
    const prefixPath = resolveBlobPrefixPath(this.root, prefix);
    this.assertNotReserved(prefix);
    if (prefix.endsWith('/')) return removeTree(prefixPath);

    // A key prefix like `originals/ab/12` matches siblings by name, and everything below them.
    const dir = path.dirname(prefixPath);
    const namePrefix = path.basename(prefixPath);
    let deleted = 0;
    for (const entry of await readdirIfExists(dir)) {
      if (!entry.name.startsWith(namePrefix)) continue;
      if (dir === this.root && entry.name === FS_STAGING_DIR) continue;
      const entryPath = path.join(dir, entry.name);
      if (entry.isDirectory()) deleted += await removeTree(entryPath);
      else if (await unlinkIfExists(entryPath)) deleted += 1;
    }
    return deleted;
  }

  async createMultipart(key: string, options: { size: number; contentType?: string }): Promise<MultipartBlobUpload> {
    this.objectPath(key);
    assertValidObjectSize(options.size);
    const uploadId = randomUUID();
    const stagingPath = this.multipartPath(uploadId);
    const handle = await this.createStagingFile(stagingPath);
    try {
      // Full length up front (a sparse file: no blocks yet); completion writes the parts into it.
      await handle.truncate(options.size);
    } catch (error) {
      await handle.close();
      await rm(stagingPath, { force: true });
      throw error;
    }
    await handle.close();
    return { uploadId };
  }

  /**
   * Each part lands in a file of its own, renamed into place only once all its bytes are written and
   * synced: a part cut off midway leaves nothing on disk, and a part sent again replaces the old one.
   */
  async uploadPart(key: string, uploadId: string, part: UploadPartInput, body: Readable): Promise<CompletedPart> {
    this.objectPath(key);
    assertValidPart(part);
    const handle = await this.openMultipart(uploadId);
    try {
      const { size: totalSize } = await handle.stat();
      if (part.offset + part.size > totalSize) {
        throw new InvalidBlobArgumentError(
          `Part ${part.partNumber} (${part.offset}+${part.size}) ends past the upload size ${totalSize}`,
        );
      }
    } finally {
      await handle.close();
    }
    const partPath = this.partPath(uploadId, part.partNumber);
    const tempPath = `${partPath}.tmp-${randomUUID()}`;
    const out = await this.createStagingFile(tempPath);
    try {
      try {
        await writeBodyAt(out, body, { ...part, offset: 0 });
        await out.sync();
      } finally {
        await out.close();
      }
      await rename(tempPath, partPath);
    } catch (error) {
      await rm(tempPath, { force: true });
      throw error;
    }
    // Completion never compares etags here; this only has to be stable for a given part.
    return { partNumber: part.partNumber, etag: `${part.partNumber}-${part.offset}-${part.size}` };
  }

  /** The object is the parts in ascending order, back to back (as S3 assembles them). */
  async completeMultipart(key: string, uploadId: string, parts: CompletedPart[]): Promise<BlobInfo> {
    const target = this.objectPath(key);
    assertAscendingPartNumbers(parts);
    const stagingPath = this.multipartPath(uploadId);
    const handle = await this.openMultipart(uploadId);
    let size: number;
    try {
      let offset = 0;
      for (const part of parts) {
        const partPath = this.partPath(uploadId, part.partNumber);
        const source = await openIfExists(partPath, 'r');
        if (!source) throw new InvalidBlobArgumentError(`Part ${part.partNumber} of upload ${uploadId} was never uploaded`);
        const partSize = (await source.stat()).size;
        await writeBodyAt(handle, source.createReadStream({ highWaterMark: IO_CHUNK_BYTES }), { partNumber: part.partNumber, offset, size: partSize });
        offset += partSize;
      }
      await handle.sync();
      size = (await handle.stat()).size;
      if (offset !== size) throw new BlobSizeMismatchError(size, offset);
    } finally {
      await handle.close();
    }
    try {
      await this.moveIntoPlace(stagingPath, target);
    } catch (error) {
      // A concurrent complete or abort took the staging file first.
      if (errorCode(error) === 'ENOENT' && !(await pathExists(stagingPath))) {
        throw new MultipartUploadNotFoundError(uploadId);
      }
      throw error;
    }
    await this.removeParts(uploadId);
    return { size };
  }

  async abortMultipart(key: string, uploadId: string): Promise<void> {
    this.objectPath(key);
    await rm(this.multipartPath(uploadId), { force: true });
    await this.removeParts(uploadId);
  }

  private async removeParts(uploadId: string): Promise<void> {
    const prefix = `${path.basename(this.multipartPath(uploadId))}.part-`;
    for (const entry of await readdirIfExists(this.stagingDir)) {
      if (entry.name.startsWith(prefix)) await rm(path.join(this.stagingDir, entry.name), { force: true });
    }
  }

  async pruneStale(options: { putOlderThanMs: number; multipartOlderThanMs: number }): Promise<number> {
    let names: string[];
    try {
      names = await readdir(this.stagingDir);
    } catch (error) {
      if (errorCode(error) === 'ENOENT') return 0;
      throw error;
    }
    const now = Date.now();
    let removed = 0;
    for (const name of names) {
      const maxAge = name.startsWith('put-') ? options.putOlderThanMs : name.startsWith('mp-') ? options.multipartOlderThanMs : null;
      if (maxAge === null) continue;
      const file = path.join(this.stagingDir, name);
      try {
        const stats = await stat(file);
        if (now - stats.mtimeMs > maxAge) {
          await rm(file, { force: true });
          removed++;
        }
      } catch (error) {
        if (errorCode(error) !== 'ENOENT') throw error;
      }
    }
    return removed;
  }

  async ping(): Promise<void> {
    // A fresh install has written nothing yet; its store is ready all the same.
    await mkdir(this.root, { recursive: true });
    const stats = await stat(this.root);
    if (!stats.isDirectory()) throw new Error(`Blob root ${this.root} is not a directory`);
    await access(this.root, fsConstants.W_OK);
  }

  async close(): Promise<void> {
    // Nothing pooled: every handle is closed by the operation that opened it.
  }

  /** Where an object's bytes lie, for programs that read a file by path (ffmpeg); the key is checked as for every other call. */
  localPath(key: string): string {
    return this.objectPath(key);
  }

  private objectPath(key: string): string {
    const filePath = resolveBlobPath(this.root, key);
    this.assertNotReserved(key);
    return filePath;
  }

  private assertNotReserved(keyOrPrefix: string): void {
    const firstSegment = keyOrPrefix.split('/', 1)[0];
    if (firstSegment === FS_STAGING_DIR) throw new InvalidBlobKeyError('uses a reserved name', keyOrPrefix);
  }

  private multipartPath(uploadId: string): string {
    if (typeof uploadId !== 'string' || !FS_UPLOAD_ID.test(uploadId)) throw new InvalidUploadIdError(uploadId);
    return path.join(this.stagingDir, `mp-${uploadId}`);
  }

  private partPath(uploadId: string, partNumber: number): string {
    return `${this.multipartPath(uploadId)}.part-${partNumber}`;
  }

  private async openMultipart(uploadId: string): Promise<FileHandle> {
    const handle = await openIfExists(this.multipartPath(uploadId), 'r+');
    if (!handle) throw new MultipartUploadNotFoundError(uploadId);
    return handle;
  }

  private async createStagingFile(filePath: string): Promise<FileHandle> {
    await this.ensureStagingDir();
    try {
      return await open(filePath, 'wx');
    } catch (error) {
      if (errorCode(error) !== 'ENOENT') throw error;
      // The staging directory vanished under us (an operator cleaned up); make it again once.
      this.stagingDirReady = undefined;
      await this.ensureStagingDir();
      return open(filePath, 'wx');
    }
  }

  private ensureStagingDir(): Promise<void> {
    this.stagingDirReady ??= mkdir(this.stagingDir, { recursive: true }).then(
      () => undefined,
      (error: unknown) => {
        this.stagingDirReady = undefined;
        throw error;
      },
    );
    return this.stagingDirReady;
  }

  /** Renames a fully written, fsynced file over `target`, then makes the rename itself durable. */
  private async moveIntoPlace(source: string, target: string, durable = true): Promise<void> {
    const dir = path.dirname(target);
    for (let attempt = 1; ; attempt += 1) {
      await mkdir(dir, { recursive: true });
      try {
        await rename(source, target);
        break;
      } catch (error) {
        if (errorCode(error) !== 'ENOENT' || attempt >= RENAME_ATTEMPTS) throw error;
      }
    }
    if (durable) await fsyncDirectory(dir);
  }
}

/**
 * Streams `body` into `handle` at `part.offset` with positional writes, so parts may be written
 * concurrently through separate handles. Chunks are gathered into ~1 MiB writev calls, and the
 * next batch is gathered while the previous one is being written (at most two batches in memory).
 */
async function writeBodyAt(handle: FileHandle, body: Readable, part: UploadPartInput): Promise<void> {
  let received = 0;
  let position = part.offset;
  let batch: Buffer[] = [];
  let batchBytes = 0;
  let inFlight: Promise<void> = Promise.resolve();

  const flush = async (): Promise<void> => {
    await inFlight;
    const buffers = batch;
    const at = position;
    position += batchBytes;
    batch = [];
    batchBytes = 0;
    inFlight = writeFully(handle, buffers, at);
    // Observed when awaited later; this only keeps a failure between awaits from being "unhandled".
    inFlight.catch(() => undefined);
  };

  try {
    for await (const chunk of body) {
      const buffer = toBuffer(chunk);
      received += buffer.length;
      // Checked before writing: an overlong part must never spill into the next part's bytes.
      if (received > part.size) throw new PartSizeMismatchError(part.partNumber, part.size, received);
      batch.push(buffer);
      batchBytes += buffer.length;
      if (batchBytes >= IO_CHUNK_BYTES || batch.length >= MAX_BUFFERS_PER_WRITE) await flush();
    }
    if (received !== part.size) throw new PartSizeMismatchError(part.partNumber, part.size, received);
    if (batchBytes > 0) await flush();
    await inFlight;
  } catch (error) {
    await inFlight.catch(() => undefined);
    throw error;
  }
}

async function writeFully(handle: FileHandle, buffers: Buffer[], position: number): Promise<void> {
  let pending = buffers;
  let at = position;
  for (;;) {
    const total = pending.reduce((sum, buffer) => sum + buffer.length, 0);
    const { bytesWritten } = await handle.writev(pending, at);
    if (bytesWritten >= total) return;
    if (bytesWritten === 0) throw new Error('Short write: the filesystem accepted no bytes');
    // Partial writes are rare on regular files (e.g. more than IOV_MAX buffers); finish the rest.
    pending = [Buffer.concat(pending).subarray(bytesWritten)];
    at += bytesWritten;
  }
}

function toBuffer(chunk: unknown): Buffer {
  if (Buffer.isBuffer(chunk)) return chunk;
  if (typeof chunk === 'string') return Buffer.from(chunk);
  if (chunk instanceof Uint8Array) return Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
  throw new TypeError('Blob bodies must be byte streams');
}

function assertAscendingPartNumbers(parts: CompletedPart[]): void {
  let previous = 0;
  for (const part of parts) {
    if (!Number.isInteger(part.partNumber) || part.partNumber <= previous) {
      throw new InvalidBlobArgumentError('Completed parts must be sorted by ascending, distinct part numbers');
    }
    previous = part.partNumber;
  }
}

/** Deletes a directory tree and returns how many non-directory entries went with it. */
async function removeTree(dir: string): Promise<number> {
  let deleted = 0;
  for (const entry of await readdirIfExists(dir)) {
    const entryPath = path.join(dir, entry.name);
    if (entry.isDirectory()) deleted += await removeTree(entryPath);
    else if (await unlinkIfExists(entryPath)) deleted += 1;
  }
  try {
    await rmdir(dir);
  } catch (error) {
    // Someone wrote into the tree meanwhile (ENOTEMPTY), or it was never a directory: leave it.
    const code = errorCode(error);
    if (code !== 'ENOENT' && code !== 'ENOTEMPTY' && code !== 'ENOTDIR' && code !== 'EEXIST') throw error;
  }
  return deleted;
}

async function readdirIfExists(dir: string) {
  try {
    return await readdir(dir, { withFileTypes: true });
  } catch (error) {
    if (isMissingPathError(error)) return [];
    throw error;
  }
}

async function unlinkIfExists(filePath: string): Promise<boolean> {
  try {
    await unlink(filePath);
    return true;
  } catch (error) {
    if (isMissingPathError(error)) return false;
    throw error;
  }
}

async function openIfExists(filePath: string, flags: 'r' | 'r+'): Promise<FileHandle | null> {
  try {
    return await open(filePath, flags);
  } catch (error) {
    if (isMissingPathError(error)) return null;
    throw error;
  }
}

async function pathExists(filePath: string): Promise<boolean> {
  try {
    await access(filePath);
    return true;
  } catch {
    return false;
  }
}

async function fsyncDirectory(dir: string): Promise<void> {
  let handle: FileHandle;
  try {
    handle = await open(dir, 'r');
  } catch (error) {
    // Platforms that cannot open directories (Windows) cannot fsync them either.
    if (errorCode(error) === 'EISDIR' || errorCode(error) === 'EPERM') return;
    throw error;
  }
  try {
    await handle.sync();
  } catch (error) {
    if (errorCode(error) !== 'EINVAL' && errorCode(error) !== 'EPERM') throw error;
  } finally {
    await handle.close();
  }
}

/** ENOTDIR: a path component is a file, so nothing can exist below it. */
function isMissingPathError(error: unknown): boolean {
  const code = errorCode(error);
  return code === 'ENOENT' || code === 'ENOTDIR';
}

function errorCode(error: unknown): string | undefined {
  if (typeof error === 'object' && error !== null && 'code' in error && typeof error.code === 'string') {
    return error.code;
  }
  return undefined;
}
