import path from 'node:path';
import type { ByteRange, UploadPartInput } from '../../ports/blob-store.js';
import { InvalidBlobArgumentError, InvalidBlobKeyError } from './errors.js';

export { InvalidBlobKeyError } from './errors.js';

/** S3's own limit; comfortably below PATH_MAX once joined to a root. */
export const MAX_BLOB_KEY_BYTES = 1024;
/** NAME_MAX on common filesystems: a longer segment could never be stored by FsBlobStore. */
const MAX_BLOB_KEY_SEGMENT_BYTES = 255;
/** S3 numbers parts 1..10000. */
const MAX_PART_NUMBER = 10_000;

// C0 and C1 controls, DEL included: never legitimate in a storage name and a log-injection vector.
const CONTROL_CHARACTER = /[\u0000-\u001f\u007f-\u009f]/;
// Lone surrogates become U+FFFD on disk, so two distinct keys would share one file.
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/**
 * Throws InvalidBlobKeyError unless `key` is a clean relative `/`-separated name: non-empty, not
 * absolute, no empty / `.` / `..` segments, no backslashes or control characters. A key that passes
 * names exactly one object and cannot climb out of whatever root it is joined to.
 */
export function assertSafeBlobKey(key: string): void {
  if (typeof key !== 'string') throw new InvalidBlobKeyError('not a string', key);
  if (key.length === 0) throw new InvalidBlobKeyError('empty', key);
  assertCleanRelativeName(key);
}

/**
 * Prefix rules for deletePrefix: the same as for keys, except that one trailing `/` is allowed so
 * a whole "directory" (`derivatives/<uuid>/`) can be named. The empty prefix is refused on
 * purpose: "delete everything" is never what a service means.
 */
export function assertSafeBlobPrefix(prefix: string): void {
  if (typeof prefix !== 'string') throw new InvalidBlobKeyError('not a string', prefix);
  const body = prefix.endsWith('/') ? prefix.slice(0, -1) : prefix;
  if (body.length === 0) throw new InvalidBlobKeyError('empty prefix', prefix);
  assertCleanRelativeName(body, prefix);
}

/**
 * The absolute path of `key` under `root`, after checking the key and that the resolved path
 * really is strictly inside the root (belt and braces over the syntactic checks).
 */
export function resolveBlobPath(root: string, key: string): string {
  assertSafeBlobKey(key);
  return resolveInsideRoot(root, key, key);
}

/** Like resolveBlobPath for a prefix; a trailing `/` is kept off the returned path. */
export function resolveBlobPrefixPath(root: string, prefix: string): string {
  assertSafeBlobPrefix(prefix);
  const body = prefix.endsWith('/') ? prefix.slice(0, -1) : prefix;
  return resolveInsideRoot(root, body, prefix);
}

export function assertValidByteRange(range: ByteRange): void {
  if (!isNonNegativeInteger(range.start) || !isNonNegativeInteger(range.end) || range.end < range.start) {
    throw new InvalidBlobArgumentError(`Invalid byte range ${String(range.start)}-${String(range.end)}`);
  }
}

export function assertValidPart(part: UploadPartInput): void {
  if (!Number.isInteger(part.partNumber) || part.partNumber < 1 || part.partNumber > MAX_PART_NUMBER) {
    throw new InvalidBlobArgumentError(`Part number must be an integer in 1..${MAX_PART_NUMBER}`);
  }
  if (!isNonNegativeInteger(part.offset)) {
    throw new InvalidBlobArgumentError('Part offset must be a non-negative integer');
  }
  if (!isNonNegativeInteger(part.size)) {
    throw new InvalidBlobArgumentError('Part size must be a non-negative integer');
  }
}

export function assertValidObjectSize(size: number): void {
  if (!isNonNegativeInteger(size)) throw new InvalidBlobArgumentError('Object size must be a non-negative integer');
}

function isNonNegativeInteger(value: number): boolean {
  return Number.isSafeInteger(value) && value >= 0;
}

function assertCleanRelativeName(name: string, shown: string = name): void {
  if (Buffer.byteLength(name, 'utf8') > MAX_BLOB_KEY_BYTES) {
    throw new InvalidBlobKeyError(`longer than ${MAX_BLOB_KEY_BYTES} bytes`, shown);
  }
  if (CONTROL_CHARACTER.test(name)) throw new InvalidBlobKeyError('contains a control character', shown);
  if (LONE_SURROGATE.test(name)) throw new InvalidBlobKeyError('contains a lone UTF-16 surrogate', shown);
  if (name.includes('\\')) throw new InvalidBlobKeyError('contains a backslash', shown);
  if (name.startsWith('/')) throw new InvalidBlobKeyError('absolute', shown);
  for (const segment of name.split('/')) {
    if (segment.length === 0) throw new InvalidBlobKeyError('contains an empty segment', shown);
    if (segment === '.' || segment === '..') throw new InvalidBlobKeyError(`contains a "${segment}" segment`, shown);
    if (Buffer.byteLength(segment, 'utf8') > MAX_BLOB_KEY_SEGMENT_BYTES) {
      throw new InvalidBlobKeyError(`has a segment longer than ${MAX_BLOB_KEY_SEGMENT_BYTES} bytes`, shown);
    }
  }
}

function resolveInsideRoot(root: string, relative: string, shown: string): string {
  const resolvedRoot = path.resolve(root);
  const resolved = path.resolve(resolvedRoot, relative);
  const rootWithSeparator = resolvedRoot.endsWith(path.sep) ? resolvedRoot : resolvedRoot + path.sep;
  if (!resolved.startsWith(rootWithSeparator)) throw new InvalidBlobKeyError('resolves outside the root', shown);
  return resolved;
}
