import { createAppError, type AppError, type ErrorCode } from '../errors.js';
import type { FileMetadata } from './file.js';
import { checkTagCount, normalizeTags } from './tags.js';

/** Uploadcare's metadata rules: keys of 1–64 characters from `A-Za-z0-9_-.:`, values of 1–512 characters, at most 50 keys. */
const METADATA_LIMITS = { maxKeys: 50, maxKeyLength: 64, maxValueLength: 512 } as const;
const KEY_RE = /^[A-Za-z0-9_.:-]+$/;

function metadataError(code: Extract<ErrorCode, `FileMetadata${string}`>, message: string): AppError {
  return createAppError(code, 400, message);
}

/** Validates client-sent metadata and returns it as a plain object; throws the first rule broken. */
export function validateMetadata(entries: Array<[string, string]>): FileMetadata {
  const metadata: FileMetadata = Object.create(null) as FileMetadata;
  for (const [key, value] of entries) {
    if (key.length === 0) throw metadataError('FileMetadataKeyEmptyError', 'Metadata key must not be empty.');
    if (key.length > METADATA_LIMITS.maxKeyLength) {
      throw metadataError(
        'FileMetadataKeyLengthTooBigError',
        `Metadata key "${key.slice(0, 20)}…" is longer than ${METADATA_LIMITS.maxKeyLength} characters.`,
      );
    }
    if (!KEY_RE.test(key)) {
      throw metadataError(
        'FileMetadataKeyForbiddenError',
        `Metadata key "${key}" may contain only letters, digits, "_", "-", "." and ":".`,
      );
    }
    if (Object.prototype.hasOwnProperty.call(metadata, key)) {
      throw metadataError('FileMetadataKeyDuplicatedError', `Metadata key "${key}" is given more than once.`);
    }
    if (value.length === 0) throw metadataError('FileMetadataValueEmptyError', `Metadata value for "${key}" must not be empty.`);
    if (value.length > METADATA_LIMITS.maxValueLength) {
      throw metadataError(
        'FileMetadataValueLengthTooBigError',
        `Metadata value for "${key}" is longer than ${METADATA_LIMITS.maxValueLength} characters.`,
      );
    }
    if (value.includes('\u0000')) {
      throw metadataError('FileMetadataValueForbiddenError', `Metadata value for "${key}" contains a NUL character.`);
    }
    metadata[key] = value;
    if (Object.keys(metadata).length > METADATA_LIMITS.maxKeys) {
      throw metadataError('FileMetadataKeysNumberTooBigError', `At most ${METADATA_LIMITS.maxKeys} metadata keys are allowed.`);
    }
  }
  return { ...metadata };
}

/** Uploadcare sends tags as one comma-separated field; they follow the REST API's rules, with the Upload API's error code. */
export function parseTags(raw: string | undefined): string[] {
  if (!raw) return [];
  const tags = normalizeTags(raw.split(','), 'RequestParamRequiredError');
  checkTagCount(tags, 'RequestParamRequiredError');
  return tags;
}
