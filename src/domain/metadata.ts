import { createAppError, type AppError, type ErrorCode } from '../errors.js';
import type { FileMetadata } from './file.js';

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

/** Uploadcare sends tags as one comma-separated field. */
export function parseTags(raw: string | undefined): string[] {
  if (!raw) return [];
  const tags = raw
    .split(',')
    .map((t) => t.trim())
    .filter(Boolean);
  for (const tag of tags) {
    if (tag.length > 64 || /[\u0000-\u001f]/.test(tag)) {
      throw createAppError('RequestParamRequiredError', 400, `Tag "${tag.slice(0, 20)}" must be 1–64 printable characters.`);
    }
  }
  if (tags.length > 50) throw createAppError('RequestParamRequiredError', 400, 'At most 50 tags are allowed.');
  return [...new Set(tags)];
}

/** A JSON array of tags (REST API): the same rules as the Upload API's comma-separated `tags`. */
export function validateTagList(value: unknown): string[] {
  if (!Array.isArray(value)) throw createAppError('TAGS_INVALID', 400, 'Expected a JSON array of tags, e.g. ["cats", "2026"].');
  if (value.length > 50) throw createAppError('TAGS_INVALID', 400, 'At most 50 tags are allowed.');
  const tags: string[] = [];
  for (const item of value) {
    const tag = typeof item === 'string' ? item.trim() : '';
    if (tag.length === 0 || tag.length > 64 || tag.includes(',') || /[\u0000-\u001f\u007f]/.test(tag)) {
      throw createAppError('TAGS_INVALID', 400, `Each tag must be 1–64 printable characters without commas; got ${JSON.stringify(item)?.slice(0, 40) ?? String(item)}.`);
    }
    tags.push(tag);
  }
  return [...new Set(tags)];
}
