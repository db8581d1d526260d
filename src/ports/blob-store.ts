import type { Readable } from 'node:stream';
import type { ByteRange } from '../domain/byte-range.js';

export type { ByteRange };

export interface BlobInfo {
  size: number;
}

export interface PutBlobOptions {
  contentType?: string;
  /** Exact size when known in advance; lets S3 skip buffering. */
  size?: number;
  /**
   * The object can be rebuilt (a derivative): it still appears all at once, but need not survive a
   * power cut, so the filesystem store skips its fsyncs.
   */
  rebuildable?: boolean;
}

export interface MultipartBlobUpload {
  /** Opaque id the adapter needs to find the upload again (S3 UploadId, staging name on disk). */
  uploadId: string;
}

export interface UploadPartInput {
  /** 1-based, as S3 numbers parts. */
  partNumber: number;
  /** Byte offset of this part inside the final object. */
  offset: number;
  /** Exact byte count the body must deliver. */
  size: number;
}

export interface CompletedPart {
  partNumber: number;
  etag: string;
}

/**
 * Where file bytes live. Keys are opaque, `/`-separated, relative names chosen by services;
 * an adapter refuses any key that could escape its root.
 *
 * Every write is all-or-nothing: an object becomes visible only once all its bytes are durably
 * stored, and a failed or aborted stream leaves nothing behind.
 */
export interface BlobStore {
  readonly kind: 'fs' | 's3';
  /** Streams `body` into `key`. Rejects (and leaves nothing) when the stream errors. */
  put(key: string, body: Readable, options?: PutBlobOptions): Promise<BlobInfo>;
  /** A readable for the whole object or a byte range, or null when the key does not exist. */
  get(key: string, range?: ByteRange): Promise<Readable | null>;
  head(key: string): Promise<BlobInfo | null>;
  /** Idempotent: deleting a missing key succeeds. */
  delete(key: string): Promise<void>;
  /** Deletes every object whose key starts with `prefix`; returns how many went. */
  deletePrefix(prefix: string): Promise<number>;

  /** Starts an upload whose parts may arrive in any order and in parallel. */
  createMultipart(key: string, options: { size: number; contentType?: string }): Promise<MultipartBlobUpload>;
  uploadPart(key: string, uploadId: string, part: UploadPartInput, body: Readable): Promise<CompletedPart>;
  /** Makes the object visible; `parts` sorted by partNumber, all present. */
  completeMultipart(key: string, uploadId: string, parts: CompletedPart[]): Promise<BlobInfo>;
  /** Discards an unfinished upload and its parts. Idempotent. */
  abortMultipart(key: string, uploadId: string): Promise<void>;

  /**
   * Removes what a crashed process may have left half-written: single-object temp files older than
   * `putOlderThanMs` and multipart staging older than `multipartOlderThanMs`. Stores whose
   * unfinished writes are invisible and expire on their own (S3 with a lifecycle rule) do nothing.
   */
  pruneStale(options: { putOlderThanMs: number; multipartOlderThanMs: number }): Promise<number>;

  /** Throws when the store cannot be reached (readiness probe). */
  ping(): Promise<void>;
  close(): Promise<void>;
}
