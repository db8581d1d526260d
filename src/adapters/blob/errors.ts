/**
 * Errors raised by the BlobStore adapters. They are plain Errors, not AppErrors: a bad key or a
 * short part body is a programming or client problem that the calling service translates into
 * whatever HTTP answer fits its route.
 */

/** A key or prefix that could escape the store's root or is otherwise not a clean relative name. */
export class InvalidBlobKeyError extends Error {
  constructor(reason: string, key: unknown) {
    super(`Invalid blob key ${describeValue(key)}: ${reason}`);
    this.name = 'InvalidBlobKeyError';
  }
}

/** An upload id that does not have the shape this adapter hands out. */
export class InvalidUploadIdError extends Error {
  constructor(uploadId: unknown) {
    super(`Invalid multipart upload id ${describeValue(uploadId)}`);
    this.name = 'InvalidUploadIdError';
  }
}

/** A byte range, part number, offset or size that is not a sane non-negative integer. */
export class InvalidBlobArgumentError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InvalidBlobArgumentError';
  }
}

/** A body delivered a different number of bytes than it announced. */
export class BlobSizeMismatchError extends Error {
  readonly expected: number;
  /** Bytes seen before giving up; for an overlong body this is a lower bound. */
  readonly received: number;
  constructor(expected: number, received: number, what = 'Body') {
    super(`${what} delivered ${received}${received > expected ? '+' : ''} bytes, expected exactly ${expected}`);
    this.name = 'BlobSizeMismatchError';
    this.expected = expected;
    this.received = received;
  }
}

/** A multipart part body delivered more or fewer bytes than `part.size`. */
export class PartSizeMismatchError extends BlobSizeMismatchError {
  readonly partNumber: number;
  constructor(partNumber: number, expected: number, received: number) {
    super(expected, received, `Part ${partNumber}`);
    this.name = 'PartSizeMismatchError';
    this.partNumber = partNumber;
  }
}

/** The upload id names no unfinished upload (never created, already completed, or aborted). */
export class MultipartUploadNotFoundError extends Error {
  constructor(uploadId: string) {
    super(`Multipart upload ${describeValue(uploadId)} does not exist`);
    this.name = 'MultipartUploadNotFoundError';
  }
}

/** Keys can be attacker-influenced: quote them, escape control characters, and cap the length. */
function describeValue(value: unknown): string {
  if (typeof value !== 'string') return `(${typeof value})`;
  const shown = value.length > 120 ? `${value.slice(0, 120)}…` : value;
  return JSON.stringify(shown);
}
