import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  DeleteObjectsCommand,
  GetObjectCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  S3Client,
  S3ServiceException,
  UploadPartCommand,
  type GetObjectCommandOutput,
  type S3ClientConfig,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { Readable, Transform, type TransformCallback } from 'node:stream';
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
  assertSafeBlobKey,
  assertSafeBlobPrefix,
  assertValidByteRange,
  assertValidObjectSize,
  assertValidPart,
} from './blob-key.js';
import {
  BlobSizeMismatchError,
  InvalidBlobArgumentError,
  InvalidUploadIdError,
  MultipartUploadNotFoundError,
  PartSizeMismatchError,
} from './errors.js';

export interface S3BlobStoreOptions {
  bucket: string;
  /** Prepended (as `prefix/`) to every key, so several deployments can share one bucket. */
  prefix?: string;
  /** For S3-compatible servers (MinIO, R2, s3rver…); omit for AWS. */
  endpoint?: string;
  region: string;
  forcePathStyle: boolean;
  /** Omit to use the SDK's default provider chain (instance roles and the like). */
  credentials?: { accessKeyId: string; secretAccessKey: string; sessionToken?: string };
  /**
   * 'when_supported' is the SDK default (CRC32 on every upload, sent as aws-chunked trailers when the
   * body is a stream). Many S3-compatible servers mangle or reject that; 'when_required' only adds
   * checksums where the API demands one (DeleteObjects) and sends plain bodies otherwise.
   */
  requestChecksum: 'when_supported' | 'when_required';
}

const MIB = 1024 * 1024;
/** lib-storage holds about queueSize + 1 parts in memory per put: ~40 MiB at these values. */
const PUT_PART_BYTES = 8 * MIB;
const PUT_QUEUE_SIZE = 4;
const S3_MAX_PARTS = 10_000;
/** DeleteObjects and ListObjectsV2 both cap at 1000 keys per call. */
const DELETE_BATCH_KEYS = 1000;
const SINGLE_DELETE_CONCURRENCY = 8;
const STREAM_HIGH_WATER_MARK = MIB;
const MAX_S3_UPLOAD_ID_LENGTH = 1024;
const CONTROL_CHARACTER = /[\u0000-\u001f\u007f]/;

/**
 * BlobStore on S3 or an S3-compatible server. Objects become visible only through a successful
 * PutObject or CompleteMultipartUpload, which is what makes failed writes leave nothing behind.
 */
export class S3BlobStore implements BlobStore {
  readonly kind = 's3' as const;
  private readonly bucket: string;
  private readonly keyPrefix: string;
  private readonly client: S3Client;
  /** Set once the server answers DeleteObjects with "not implemented"; then keys go one by one. */
  private batchDeleteUnsupported = false;

  constructor(options: S3BlobStoreOptions) {
    if (!options.bucket) throw new InvalidBlobArgumentError('S3 bucket name is required');
    this.bucket = options.bucket;
    this.keyPrefix = normalizeKeyPrefix(options.prefix);
    this.client = new S3Client(clientConfig(options));
  }

  async put(key: string, body: Readable, options: PutBlobOptions = {}): Promise<BlobInfo> {
    const objectKey = this.objectKey(key);
    const expectedSize = options.size;
    if (expectedSize !== undefined) assertValidObjectSize(expectedSize);
    const counted = new ExactByteCounter(expectedSize, (received) =>
      new BlobSizeMismatchError(expectedSize ?? 0, received),
    );
    // pipeline, not pipe: an error or early destroy of `body` must reach lib-storage's reader.
    pipeline(body, counted).catch(() => undefined);
    let upload: Upload | undefined;
    try {
      upload = new Upload({
        client: this.client,
        params: { Bucket: this.bucket, Key: objectKey, Body: counted, ContentType: options.contentType },
        partSize: putPartSize(expectedSize),
        queueSize: PUT_QUEUE_SIZE,
        // We abort ourselves so a failing abort (some servers lack it) cannot mask the real error.
        leavePartsOnError: true,
      });
      await upload.done();
    } catch (error) {
      counted.destroy();
      if (upload?.uploadId) await this.abortQuietly(objectKey, upload.uploadId);
      throw error;
    }
    return { size: counted.bytes };
  }

  async get(key: string, range?: ByteRange): Promise<Readable | null> {
    const objectKey = this.objectKey(key);
    if (range) assertValidByteRange(range);
    let response: GetObjectCommandOutput;
    try {
      response = await this.client.send(
        new GetObjectCommand({
          Bucket: this.bucket,
          Key: objectKey,
          Range: range ? `bytes=${range.start}-${range.end}` : undefined,
        }),
      );
    } catch (error) {
      if (isMissingObject(error)) return null;
      // A range starting past the end: the filesystem adapter yields no bytes, so do the same.
      if (range && s3Status(error) === 416) return emptyStream();
      throw error;
    }
    const body = response.Body;
    if (!(body instanceof Readable)) throw new Error('S3 GetObject returned no readable body');
    if (range) {
      // Some servers (s3rver reads `bytes=0-0` as "from 0 to the end") send more than asked for.
      const wanted = range.end - range.start + 1;
      if (response.ContentLength !== undefined && response.ContentLength > wanted) return takeBytes(body, wanted);
    }
    return body;
  }

  async head(key: string): Promise<BlobInfo | null> {
    const objectKey = this.objectKey(key);
    try {
      const response = await this.client.send(new HeadObjectCommand({ Bucket: this.bucket, Key: objectKey }));
      return { size: response.ContentLength ?? 0 };
    } catch (error) {
      if (isMissingObject(error)) return null;
      throw error;
    }
  }

  async delete(key: string): Promise<void> {
    const objectKey = this.objectKey(key);
    // S3 answers 204 for a missing key, which is exactly the idempotence the port asks for.
    await this.client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: objectKey }));
  }

  async deletePrefix(prefix: string): Promise<number> {
    assertSafeBlobPrefix(prefix);
    const fullPrefix = this.keyPrefix + prefix;
    let deleted = 0;
    let continuationToken: string | undefined;
    // Each page is deleted before the next is listed: memory stays at one page, and a token
    // marks a position in key order, so deleting keys behind it does not disturb the listing.
    do {
      const page = await this.client.send(
        new ListObjectsV2Command({
          Bucket: this.bucket,
          Prefix: fullPrefix,
          ContinuationToken: continuationToken,
          MaxKeys: DELETE_BATCH_KEYS,
        }),
      );
      const keys = (page.Contents ?? []).map((object) => object.Key).filter((k): k is string => Boolean(k));
      if (keys.length > 0) {
        await this.deleteKeys(keys);
        deleted += keys.length;
      }
      continuationToken = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (continuationToken);
    return deleted;
  }

  async createMultipart(key: string, options: { size: number; contentType?: string }): Promise<MultipartBlobUpload> {
    const objectKey = this.objectKey(key);
    assertValidObjectSize(options.size);
    const response = await this.client.send(
      new CreateMultipartUploadCommand({ Bucket: this.bucket, Key: objectKey, ContentType: options.contentType }),
    );
    if (!response.UploadId) throw new Error('S3 CreateMultipartUpload returned no UploadId');
    return { uploadId: response.UploadId };
  }

  async uploadPart(key: string, uploadId: string, part: UploadPartInput, body: Readable): Promise<CompletedPart> {
    const objectKey = this.objectKey(key);
    assertS3UploadId(uploadId);
    assertValidPart(part);
    const counted = new ExactByteCounter(part.size, (received) =>
      new PartSizeMismatchError(part.partNumber, part.size, received),
    );
    // The SDK pipes the body into the request and never hears about its errors, so a body that
    // fails (or has the wrong length) aborts the request from here.
    const abort = new AbortController();
    let bodyError: unknown;
    pipeline(body, counted).catch((error: unknown) => {
      bodyError ??= error;
      abort.abort(error);
    });
    try {
      // The SDK never retries a stream body (it cannot be replayed); the caller re-sends the part.
      const response = await this.client.send(
        new UploadPartCommand({
          Bucket: this.bucket,
          Key: objectKey,
          UploadId: uploadId,
          PartNumber: part.partNumber,
          ContentLength: part.size,
          Body: counted,
        }),
        { abortSignal: abort.signal },
      );
      if (!response.ETag) throw new Error('S3 UploadPart returned no ETag');
      return { partNumber: part.partNumber, etag: response.ETag };
    } catch (error) {
      if (bodyError !== undefined) throw bodyError;
      counted.destroy();
      if (isMissingUpload(error)) throw new MultipartUploadNotFoundError(uploadId);
      throw error;
    }
  }

  async completeMultipart(key: string, uploadId: string, parts: CompletedPart[]): Promise<BlobInfo> {
    const objectKey = this.objectKey(key);
    assertS3UploadId(uploadId);
    if (parts.length === 0) throw new InvalidBlobArgumentError('S3 needs at least one part to complete an upload');
    try {
      await this.client.send(
        new CompleteMultipartUploadCommand({
          Bucket: this.bucket,
          Key: objectKey,
          UploadId: uploadId,
          MultipartUpload: { Parts: parts.map((p) => ({ PartNumber: p.partNumber, ETag: p.etag })) },
        }),
      );
    } catch (error) {
      if (isMissingUpload(error)) throw new MultipartUploadNotFoundError(uploadId);
      throw error;
    }
    const info = await this.head(key);
    if (!info) throw new Error(`S3 object ${objectKey} is missing right after CompleteMultipartUpload`);
    return info;
  }

  async abortMultipart(key: string, uploadId: string): Promise<void> {
    const objectKey = this.objectKey(key);
    assertS3UploadId(uploadId);
    try {
      await this.client.send(
        new AbortMultipartUploadCommand({ Bucket: this.bucket, Key: objectKey, UploadId: uploadId }),
      );
    } catch (error) {
      if (isMissingUpload(error)) return;
      // Servers without AbortMultipartUpload (s3rver answers 405) keep the parts, but they are
      // invisible: only a Complete publishes them. A bucket lifecycle rule reclaims the space.
      if (isUnsupportedOperation(error)) return;
      throw error;
    }
  }

  /**
   * Unfinished S3 uploads are invisible and cost only storage until aborted; the sweep aborts the
   * ones Trove knows about, and a bucket lifecycle rule (AbortIncompleteMultipartUpload) catches the
   * rest, so there is nothing to scan here.
   */
  async pruneStale(): Promise<number> {
    return 0;
  }

  async ping(): Promise<void> {
    await this.client.send(new HeadBucketCommand({ Bucket: this.bucket }));
  }

  async close(): Promise<void> {
    this.client.destroy();
  }

  private objectKey(key: string): string {
    assertSafeBlobKey(key);
    return this.keyPrefix + key;
  }

  private async deleteKeys(keys: string[]): Promise<void> {
    if (!this.batchDeleteUnsupported) {
      try {
        const response = await this.client.send(
          new DeleteObjectsCommand({
            Bucket: this.bucket,
            Delete: { Objects: keys.map((Key) => ({ Key })), Quiet: true },
          }),
        );
        const failure = response.Errors?.[0];
        if (failure) {
          throw new Error(
            `S3 DeleteObjects failed for ${response.Errors?.length ?? 1} key(s), first ${failure.Key ?? '?'}: ` +
              `${failure.Code ?? 'error'} ${failure.Message ?? ''}`.trim(),
          );
        }
        return;
      } catch (error) {
        if (!isUnsupportedOperation(error) && !isMissingContentMd5(error)) throw error;
        this.batchDeleteUnsupported = true;
      }
    }
    await forEachConcurrently(keys, SINGLE_DELETE_CONCURRENCY, async (Key) => {
      await this.client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key }));
    });
  }

  private async abortQuietly(objectKey: string, uploadId: string): Promise<void> {
    try {
      await this.client.send(
        new AbortMultipartUploadCommand({ Bucket: this.bucket, Key: objectKey, UploadId: uploadId }),
      );
    } catch {
      // Best effort: the parts are invisible without a Complete, and the caller's error matters more.
    }
  }
}

/**
 * Passes bytes through while counting them. With an expected size it fails on any other count,
 * and holds back the final chunk until the source has really ended: otherwise a server could
 * receive exactly `expected` bytes, answer 200, and an overlong body would go unnoticed.
 */
export class ExactByteCounter extends Transform {
  bytes = 0;
  private heldBack: Buffer | undefined;

  constructor(
    private readonly expected: number | undefined,
    private readonly mismatch: (received: number) => Error,
  ) {
    super({ highWaterMark: STREAM_HIGH_WATER_MARK });
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.bytes += chunk.length;
    if (this.expected === undefined) {
      callback(null, chunk);
    } else if (this.bytes > this.expected) {
      callback(this.mismatch(this.bytes));
    } else if (this.bytes === this.expected) {
      this.heldBack = chunk;
      callback();
    } else {
      callback(null, chunk);
    }
  }

  override _flush(callback: TransformCallback): void {
    if (this.expected !== undefined && this.bytes !== this.expected) {
      callback(this.mismatch(this.bytes));
      return;
    }
    if (this.heldBack) this.push(this.heldBack);
    callback();
  }
}

function clientConfig(options: S3BlobStoreOptions): S3ClientConfig {
  const checksumMode = options.requestChecksum === 'when_required' ? 'WHEN_REQUIRED' : 'WHEN_SUPPORTED';
  return {
    region: options.region,
    endpoint: options.endpoint,
    forcePathStyle: options.forcePathStyle,
    credentials: options.credentials,
    requestChecksumCalculation: checksumMode,
    responseChecksumValidation: checksumMode,
    logger: sdkLogger,
  };
}

/** The SDK's chatter about a failed stream upload, which we already report by rejecting. */
const NON_RETRYABLE_STREAM_WARNING = 'An error was encountered in a non-retryable streaming request.';

/**
 * Without a logger the SDK writes some warnings straight to the console, including one for every
 * part upload a client aborts; drop that expected one and keep other warnings visible. `error`
 * stays silent: the SDK logs every failed command there (each 404 of head/get), and every such
 * failure already reaches the caller as a rejection.
 */
export const sdkLogger = {
  debug: (): void => undefined,
  info: (): void => undefined,
  warn: (...content: unknown[]): void => {
    if (content[0] === NON_RETRYABLE_STREAM_WARNING) return;
    console.warn(...content);
  },
  error: (): void => undefined,
};

function normalizeKeyPrefix(prefix: string | undefined): string {
  const trimmed = (prefix ?? '').replace(/^\/+|\/+$/g, '');
  if (trimmed === '') return '';
  assertSafeBlobKey(trimmed);
  return `${trimmed}/`;
}

/** Large enough that an object of the announced size fits in S3's 10,000 parts. */
export function putPartSize(size: number | undefined): number {
  if (size === undefined) return PUT_PART_BYTES;
  return Math.max(PUT_PART_BYTES, Math.ceil(size / S3_MAX_PARTS / MIB) * MIB);
}

/** S3 upload ids are opaque server strings; only rule out what could never be one. */
function assertS3UploadId(uploadId: string): void {
  if (
    typeof uploadId !== 'string' ||
    uploadId.length === 0 ||
    uploadId.length > MAX_S3_UPLOAD_ID_LENGTH ||
    CONTROL_CHARACTER.test(uploadId)
  ) {
    throw new InvalidUploadIdError(uploadId);
  }
}

function s3Status(error: unknown): number | undefined {
  return error instanceof S3ServiceException ? error.$metadata.httpStatusCode : undefined;
}

function s3ErrorName(error: unknown): string | undefined {
  return error instanceof S3ServiceException ? error.name : undefined;
}

/** HEAD answers carry no body, so a missing key there is just "404" (named NotFound). */
function isMissingObject(error: unknown): boolean {
  const name = s3ErrorName(error);
  return name === 'NoSuchKey' || (s3Status(error) === 404 && name !== 'NoSuchBucket' && name !== 'NoSuchUpload');
}

function isMissingUpload(error: unknown): boolean {
  return s3ErrorName(error) === 'NoSuchUpload';
}

function isUnsupportedOperation(error: unknown): boolean {
  const status = s3Status(error);
  const name = s3ErrorName(error);
  return status === 501 || status === 405 || name === 'NotImplemented' || name === 'MethodNotAllowed';
}

/** Older S3-compatible servers insist on Content-MD5 for DeleteObjects, which SDK v3 no longer sends. */
function isMissingContentMd5(error: unknown): boolean {
  return s3ErrorName(error) === 'MissingContentMD5';
}

function emptyStream(): Readable {
  return new Readable({
    read() {
      this.push(null);
    },
  });
}

/** The first `limit` bytes of `source`; stops (and releases) the source as soon as they are read. */
function takeBytes(source: Readable, limit: number): Readable {
  async function* firstBytes(): AsyncGenerator<Buffer> {
    let remaining = limit;
    for await (const chunk of source) {
      if (!Buffer.isBuffer(chunk)) throw new TypeError('S3 response body yielded a non-Buffer chunk');
      if (chunk.length >= remaining) {
        yield chunk.subarray(0, remaining);
        return;
      }
      remaining -= chunk.length;
      yield chunk;
    }
  }
  return Readable.from(firstBytes(), { objectMode: false, highWaterMark: STREAM_HIGH_WATER_MARK });
}

async function forEachConcurrently<T>(
  items: T[],
  concurrency: number,
  task: (item: T) => Promise<void>,
): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const item = items[next] as T;
      next += 1;
      await task(item);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, items.length) }, worker));
}
