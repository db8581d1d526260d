import { randomBytes, randomUUID } from 'node:crypto';
import type { Readable } from 'node:stream';
import { originalBlobKey } from '../domain/blob-layout.js';
import { constantTimeEqual } from '../domain/constant-time.js';
import { describeBytes } from '../domain/filename.js';
import type { StoredFile } from '../domain/file.js';
import { lastField, type Fields } from '../domain/form-fields.js';
import { MULTIPART_UPLOAD, parseUploadOptions, readUploadCredentials, shouldStore } from '../domain/upload-options.js';
import { AppError, createAppError } from '../errors.js';
import type { BlobStore } from '../ports/blob-store.js';
import type { MultipartUpload } from '../ports/repositories.js';
import type { ShardResolver } from '../ports/shards.js';
import { findOnAnyShard } from './shard-lookup.js';
import { isoAfter, type Clock } from '../lib/clock.js';
import type { FileIngestService } from './file-ingest.service.js';
import type { UploadAuthService } from './upload-auth.service.js';

/** S3 allows at most 10 000 parts per upload; Trove keeps the same ceiling on every store. */
const MAX_PARTS = 10_000;

interface MultipartSettings {
  minFileSize: number;
  minPartSize: number;
  maxPartSize: number;
  expiryMs: number;
}


function parseSize(raw: string | undefined, name: string, code: 'MultipartSizeInvalidError' | 'MultipartPartSizeInvalidError'): number {
  if (raw === undefined || raw === '') throw createAppError('RequestParamRequiredError', 400, `\`${name}\` is required.`);
  if (!/^\d{1,16}$/.test(raw.trim())) throw createAppError(code, 400, `\`${name}\` must be a whole number of bytes, got "${raw.slice(0, 32)}".`);
  return Number(raw.trim());
}

interface StartedMultipart {
  uuid: string;
  /** Relative part paths (`<uuid>/<index>/?token=…`); the HTTP layer makes them absolute. */
  partPaths: string[];
}

/**
 * Multipart uploads: start hands out one URL per part; parts arrive in any order and in parallel;
 * complete assembles them, checks that nothing is missing and registers the file.
 */
export class MultipartUploadService {
  constructor(
    private readonly auth: UploadAuthService,
    private readonly ingest: FileIngestService,
    private readonly shards: ShardResolver,
    private readonly blobs: BlobStore,
    private readonly clock: Clock,
    private readonly settings: MultipartSettings,
  ) {}

  async start(fields: Fields): Promise<StartedMultipart> {
    const project = await this.auth.authenticate(readUploadCredentials(fields, MULTIPART_UPLOAD));
    const size = parseSize(lastField(fields, 'size'), 'size', 'MultipartSizeInvalidError');
    if (size < this.settings.minFileSize) {
      throw createAppError(
        'MultipartFileSizeTooSmallError',
        400,
        `File size ${size} is below the ${this.settings.minFileSize}-byte minimum for multipart uploads; use /base/.`,
      );
    }
    const limit = this.ingest.maxFileSizeFor(project);
    if (size > limit) {
      throw createAppError('MultipartFileSizeLimitExceededError', 413, `${filenameForMessage(fields)} is ${describeBytes(size)}, over the limit of ${describeBytes(limit)}.`);
    }
    const partSizeRaw = lastField(fields, 'part_size');
    const partSize = partSizeRaw ? parseSize(partSizeRaw, 'part_size', 'MultipartPartSizeInvalidError') : this.settings.minPartSize;
    if (partSize < this.settings.minPartSize) {
      throw createAppError('MultipartPartSizeTooSmallError', 400, `part_size must be at least ${this.settings.minPartSize} bytes.`);
    }
    if (partSize > this.settings.maxPartSize) {
      throw createAppError('MultipartPartSizeTooBigError', 400, `part_size must be at most ${this.settings.maxPartSize} bytes.`);
    }
    const partCount = Math.ceil(size / partSize);
    if (partCount > MAX_PARTS) {
      throw createAppError(
        'MultipartPartSizeTooSmallError',
        400,
        `A ${size}-byte file in ${partSize}-byte parts needs ${partCount} parts; at most ${MAX_PARTS} are allowed. Use a larger part_size.`,
      );
    }
    const options = parseUploadOptions(fields, MULTIPART_UPLOAD);

    const uuid = randomUUID();
    const blobKey = originalBlobKey(uuid, await this.ingest.blobRootOf(project.id));
    const { uploadId } = await this.blobs.createMultipart(blobKey, { size });
    const upload: MultipartUpload = {
      uuid,
      projectId: project.id,
      blobKey,
      blobUploadId: uploadId,
      partToken: randomBytes(24).toString('base64url'),
      size,
      partSize,
      partCount,
      originalFilename: options.filename ?? 'original',
      store: shouldStore(options.store, project.autoStore),
      metadata: options.metadata,
      tags: options.tags,
      source: options.source,
      createdAt: this.clock.now().toISOString(),
      expiresAt: isoAfter(this.clock, this.settings.expiryMs),
    };
    try {
      await (await this.shards.forProject(project.id)).multipart.create(upload);
    } catch (error) {
      await this.blobs.abortMultipart(blobKey, uploadId).catch(() => undefined);
      throw error;
    }
    // The token names the project, so a part finds its upload on the project's shard without asking every shard.
    const partPaths = Array.from({ length: partCount }, (_, i) => `${uuid}/${i}/?token=${partUrlToken(upload)}`);
    return { uuid, partPaths };
  }

  /** Stores one part. `index` is 0-based, in the order of the URLs start returned. */
  async uploadPart(uuid: string, index: number, token: string, body: Readable, declaredLength: number | null): Promise<void> {
    const upload = await this.findUpload(uuid, token);
    if (!upload || upload.expiresAt <= this.clock.now().toISOString()) {
      throw createAppError('MultipartFileNotFoundError', 404, 'Multipart upload not found: it was completed, aborted or has expired.');
    }
    if (!constantTimeEqual(token, partUrlToken(upload))) {
      throw createAppError('InternalRequestForbiddenError', 403, 'Part URL token is invalid.');
    }
    if (!Number.isInteger(index) || index < 0 || index >= upload.partCount) {
      throw createAppError('MultipartPartSizeInvalidError', 400, `Part index ${index} is out of range 0–${upload.partCount - 1}.`);
    }
    const size = index === upload.partCount - 1 ? upload.size - upload.partSize * (upload.partCount - 1) : upload.partSize;
    if (declaredLength !== null && declaredLength !== size) {
      throw createAppError(
        'MultipartPartSizeInvalidError',
        400,
        `Part ${index} must be exactly ${size} bytes; the request declares ${declaredLength}.`,
      );
    }
    let part;
    try {
      part = await this.blobs.uploadPart(
        upload.blobKey,
        upload.blobUploadId,
        { partNumber: index + 1, offset: index * upload.partSize, size },
        body,
      );
    } catch (error) {
      if (error instanceof Error && error.name === 'PartSizeMismatchError') {
        throw createAppError('MultipartPartSizeInvalidError', 400, `Part ${index} must be exactly ${size} bytes.`, { cause: error });
      }
      throw error;
    }
    await (await this.shards.forProject(upload.projectId)).multipart.savePart(uuid, { partNumber: part.partNumber, etag: part.etag, size });
  }

  /**
   * The upload a part URL names: on the shard of the project its token names, or, for a token that
   * names none (a forged one, or one handed out before shards), on whichever shard has it, so a
   * wrong token is refused as such (403) rather than as an unknown upload.
   */
  private async findUpload(uuid: string, token: string): Promise<MultipartUpload | null> {
    const projectId = token.includes('.') ? token.slice(0, token.indexOf('.')) : null;
    if (projectId !== null && UUID_PATTERN.test(projectId)) {
      const shard = await this.shards.forProject(projectId).catch(unlessProjectUnknown);
      const upload = shard ? await shard.multipart.find(uuid) : null;
      if (upload) return upload;
    }
    return findOnAnyShard(this.shards, (shard) => shard.multipart.find(uuid));
  }

  async complete(fields: Fields): Promise<StoredFile> {
    const project = await this.auth.resolveProject(readUploadCredentials(fields, MULTIPART_UPLOAD).publicKey);
    const uuid = lastField(fields, 'uuid');
    if (!uuid) throw createAppError('MultipartFileIdRequiredError', 400, '`uuid` is required.');
    const shard = await this.shards.forProject(project.id);
    const upload = await shard.multipart.find(uuid);
    if (!upload || upload.projectId !== project.id || upload.expiresAt <= this.clock.now().toISOString()) {
      throw createAppError('MultipartFileNotFoundError', 404, `Multipart upload ${uuid.slice(0, 40)} not found.`);
    }
    const parts = await shard.multipart.listParts(uuid);
    const have = new Set(parts.map((p) => p.partNumber));
    const missing: number[] = [];
    for (let n = 1; n <= upload.partCount; n++) if (!have.has(n)) missing.push(n - 1);
    if (missing.length > 0) {
      const shown = missing.slice(0, 20).join(', ') + (missing.length > 20 ? `, … (${missing.length} in all)` : '');
      throw createAppError('MultipartFileCompletionFailedError', 400, `Cannot complete: parts ${shown} have not been uploaded.`);
    }
    const total = parts.reduce((sum, p) => sum + p.size, 0);
    if (total !== upload.size) {
      throw createAppError('MultipartFileCompletionFailedError', 400, `Parts hold ${total} bytes; the upload was started for ${upload.size}.`);
    }
    // Deleting the row is the claim: of two concurrent completes, only one proceeds.
    if (!(await shard.multipart.delete(uuid))) {
      throw createAppError('MultipartFileAlreadyUploadedError', 409, 'This multipart upload is already being completed.');
    }
    try {
      await this.blobs.completeMultipart(
        upload.blobKey,
        upload.blobUploadId,
        parts.map((p) => ({ partNumber: p.partNumber, etag: p.etag })),
      );
    } catch (error) {
      await this.blobs.abortMultipart(upload.blobKey, upload.blobUploadId).catch(() => undefined);
      throw error;
    }
    try {
      const received = await this.ingest.measureStored(upload.uuid, upload.blobKey);
      if (received.size !== upload.size) {
        throw createAppError('MultipartFileCompletionFailedError', 500, `Assembled file has ${received.size} bytes, expected ${upload.size}.`);
      }
      return await this.ingest.register(project, received, {
        originalFilename: upload.originalFilename,
        store: upload.store,
        metadata: upload.metadata,
        tags: upload.tags,
        source: upload.source,
      });
    } catch (error) {
      await this.ingest.discard([{ blobKey: upload.blobKey }]);
      throw error;
    }
  }

  /** Sweeper: drops uploads nobody completed in time, with their parts, on every shard that answers. */
  async expire(limit = 100): Promise<number> {
    const now = this.clock.now().toISOString();
    const outcomes = await this.shards.fanOut(async (shard) => {
      const expired = await shard.multipart.listExpired(now, limit);
      for (const upload of expired) {
        if (await shard.multipart.delete(upload.uuid)) {
          await this.blobs.abortMultipart(upload.blobKey, upload.blobUploadId).catch(() => undefined);
        }
      }
      return expired.length;
    });
    return outcomes.reduce((sum, outcome) => sum + (outcome.ok ? outcome.value : 0), 0);
  }
}

const UUID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** What a part URL carries: the project (where the upload is recorded) and the upload's secret. */
function partUrlToken(upload: Pick<MultipartUpload, 'projectId' | 'partToken'>): string {
  return `${upload.projectId}.${upload.partToken}`;
}

/** A project that no longer exists has no uploads (null); any other failure, a shard that is down among them, is the answer. */
function unlessProjectUnknown(error: unknown): null {
  if (error instanceof AppError && error.code === 'PROJECT_NOT_FOUND') return null;
  throw error;
}

/** The file a multipart start names, for messages people read. */
function filenameForMessage(fields: Fields): string {
  const name = lastField(fields, 'filename');
  return name ? `"${name.slice(0, 200)}"` : 'The file';
}
