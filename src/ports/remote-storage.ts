import type { Readable } from 'node:stream';
import type { StorageCredentials } from '../domain/project-storage.js';

/** Where a remote copy goes: a bucket of S3 or of an S3-compatible service, and how to reach it. */
export interface RemoteStorageTarget {
  bucket: string;
  region: string;
  /** Origin of an S3-compatible service; null for AWS. */
  endpoint: string | null;
  forcePathStyle: boolean;
  credentials: StorageCredentials;
}

/**
 * Why a remote storage refused or could not be reached:
 * - ENDPOINT_FORBIDDEN: the endpoint is, or resolves to, an address the SSRF policy forbids;
 * - UNREACHABLE: DNS, connection, timeout, or a 5xx of the service;
 * - CREDENTIALS_REJECTED: the service does not know the access key, or the signature does not match;
 * - ACCESS_DENIED: the credentials are valid but may not do this (a policy, a lock);
 * - BUCKET_NOT_FOUND: no such bucket at that endpoint and region;
 * - ACL_REJECTED: the bucket does not accept the public-read ACL (ACLs disabled, public access blocked);
 * - REJECTED: any other refusal of the request.
 */
type RemoteStorageErrorCode =
  | 'ENDPOINT_FORBIDDEN'
  | 'UNREACHABLE'
  | 'CREDENTIALS_REJECTED'
  | 'ACCESS_DENIED'
  | 'BUCKET_NOT_FOUND'
  | 'ACL_REJECTED'
  | 'REJECTED';

export class RemoteStorageError extends Error {
  readonly code: RemoteStorageErrorCode;
  constructor(code: RemoteStorageErrorCode, message: string) {
    super(message);
    this.name = 'RemoteStorageError';
    this.code = code;
  }
}

export interface RemotePutOptions {
  contentType: string;
  /** Exact size when known: a body of another length fails the write. */
  size?: number;
  /** Grants public read access to the object (the `public-read` canned ACL). */
  publicRead: boolean;
}

/** One bucket, opened with its credentials. Every failure is a RemoteStorageError. */
export interface RemoteBucket {
  /**
   * Proves the credentials may write: puts a small object at `probeKey`, then deletes it when the
   * credentials may delete (write-only credentials are fine).
   */
  checkWrite(probeKey: string): Promise<void>;
  /** Whether an object exists at `key`; null when the credentials may not look (write-only). */
  exists(key: string): Promise<boolean | null>;
  /**
   * Streams `body` to `key`. The object appears only once every byte arrived: a failed or cut-off
   * body leaves nothing behind (single put, or a multipart upload that is aborted).
   */
  put(key: string, body: Readable, options: RemotePutOptions): Promise<void>;
  /** Releases the connections; the bucket is not used afterwards. */
  close(): void;
}

/**
 * Opens buckets the server-side way: every connection goes through the same address policy as
 * the from-URL fetcher (no private or metadata addresses unless that fetcher allows them).
 */
export interface RemoteStorageConnector {
  /** Throws ENDPOINT_FORBIDDEN at once for an endpoint whose host is a forbidden address literal. */
  open(target: RemoteStorageTarget): RemoteBucket;
}
