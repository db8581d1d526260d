import path from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  assertSafeBlobKey,
  assertSafeBlobPrefix,
  assertValidByteRange,
  assertValidPart,
  InvalidBlobKeyError,
  MAX_BLOB_KEY_BYTES,
  resolveBlobPath,
  resolveBlobPrefixPath,
} from '../../src/adapters/blob/blob-key.js';
import { InvalidBlobArgumentError } from '../../src/adapters/blob/errors.js';

describe('assertSafeBlobKey', () => {
  it.each([
    'originals/ab/0f8c1b9e-6d1a-4c43-9d3a-2b1f9a7c1e55',
    'derivatives/0f8c1b9e/-/resize/100x/image.webp',
    'a',
    'a.b/c..d/...',
    '.hidden/file',
    'unicode/日本語/ファイル',
    'emoji/🦊',
    'spaces are fine/and:colons',
  ])('accepts %j', (key) => {
    expect(() => assertSafeBlobKey(key)).not.toThrow();
  });

  it.each([
    ['empty', ''],
    ['parent segment', '../x'],
    ['bare parent', '..'],
    ['nested climb', 'a/../../b'],
    ['trailing parent', 'a/..'],
    ['current-dir segment', 'a/./b'],
    ['bare current dir', '.'],
    ['absolute', '/abs'],
    ['backslash', 'a\\b'],
    ['windows climb', '..\\..\\x'],
    ['double slash', 'a//b'],
    ['trailing slash', 'a/'],
    ['NUL', 'a\u0000b'],
    ['newline', 'a\nb'],
    ['tab', 'a\tb'],
    ['DEL', 'a\u007fb'],
    ['C1 control', 'a\u0085b'],
    ['lone high surrogate', 'a\uD800b'],
    ['lone low surrogate', 'a\uDC00b'],
    ['too long', 'a/'.repeat(MAX_BLOB_KEY_BYTES / 2) + 'a'],
    ['segment too long', 'x'.repeat(256)],
  ])('rejects %s', (_label, key) => {
    expect(() => assertSafeBlobKey(key)).toThrow(InvalidBlobKeyError);
  });

  it('rejects non-strings that slip past the types', () => {
    expect(() => assertSafeBlobKey(undefined as unknown as string)).toThrow(InvalidBlobKeyError);
    expect(() => assertSafeBlobKey(42 as unknown as string)).toThrow(InvalidBlobKeyError);
  });

  it('is a plain Error subclass with an escaped, bounded message', () => {
    let caught: unknown;
    try {
      assertSafeBlobKey(`a\u0000${'z'.repeat(500)}`);
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(Error);
    expect(caught).toBeInstanceOf(InvalidBlobKeyError);
    const message = (caught as Error).message;
    expect(message).not.toContain('\u0000');
    expect(message.length).toBeLessThan(250);
  });
});

describe('assertSafeBlobPrefix', () => {
  it.each(['derivatives/abc/', 'derivatives/abc', 'originals/ab/12', 'a/'])('accepts %j', (prefix) => {
    expect(() => assertSafeBlobPrefix(prefix)).not.toThrow();
  });

  it.each(['', '/', '//', '../', 'a/../../', '/abs/', 'a//', 'a\\b/', 'a/./', 'a\u0000/'])('rejects %j', (prefix) => {
    expect(() => assertSafeBlobPrefix(prefix)).toThrow(InvalidBlobKeyError);
  });
});

describe('resolveBlobPath', () => {
  const root = path.resolve('/srv/trove/blobs');

  it('joins a safe key under the root', () => {
    expect(resolveBlobPath(root, 'originals/ab/x')).toBe(path.join(root, 'originals', 'ab', 'x'));
  });

  it('normalizes the root it is given', () => {
    expect(resolveBlobPath(`${root}/./`, 'k')).toBe(path.join(root, 'k'));
  });

  it('never resolves to the root itself or outside it', () => {
    for (const key of ['..', '../blobs-evil/x', 'a/../..', '.', '']) {
      expect(() => resolveBlobPath(root, key)).toThrow(InvalidBlobKeyError);
    }
  });

  it('works when the root is the filesystem root', () => {
    expect(resolveBlobPath('/', 'a/b')).toBe(path.resolve('/a/b'));
  });

  it('resolves prefixes without their trailing slash', () => {
    expect(resolveBlobPrefixPath(root, 'derivatives/abc/')).toBe(path.join(root, 'derivatives', 'abc'));
    expect(resolveBlobPrefixPath(root, 'originals/ab/12')).toBe(path.join(root, 'originals', 'ab', '12'));
    expect(() => resolveBlobPrefixPath(root, '../')).toThrow(InvalidBlobKeyError);
  });
});

describe('assertValidByteRange', () => {
  it('accepts inclusive ranges, including single bytes', () => {
    expect(() => assertValidByteRange({ start: 0, end: 0 })).not.toThrow();
    expect(() => assertValidByteRange({ start: 10, end: 20 })).not.toThrow();
  });

  it.each([
    { start: 5, end: 4 },
    { start: -1, end: 4 },
    { start: 0.5, end: 4 },
    { start: 0, end: Number.NaN },
    { start: 0, end: Number.POSITIVE_INFINITY },
  ])('rejects %j', (range) => {
    expect(() => assertValidByteRange(range)).toThrow(InvalidBlobArgumentError);
  });
});

describe('assertValidPart', () => {
  it('accepts 1-based part numbers with non-negative offsets and sizes', () => {
    expect(() => assertValidPart({ partNumber: 1, offset: 0, size: 5 })).not.toThrow();
    expect(() => assertValidPart({ partNumber: 10_000, offset: 2 ** 40, size: 0 })).not.toThrow();
  });

  it.each([
    { partNumber: 0, offset: 0, size: 1 },
    { partNumber: 10_001, offset: 0, size: 1 },
    { partNumber: 1.5, offset: 0, size: 1 },
    { partNumber: 1, offset: -1, size: 1 },
    { partNumber: 1, offset: 0, size: -1 },
    { partNumber: 1, offset: 0, size: Number.NaN },
  ])('rejects %j', (part) => {
    expect(() => assertValidPart(part)).toThrow(InvalidBlobArgumentError);
  });
});
