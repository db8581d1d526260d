import { describe, expect, it } from 'vitest';
import { groupId, isGroupId, parseGroupEntry } from '../../src/domain/group.js';
import { parseTags, validateMetadata } from '../../src/domain/metadata.js';
import { computeUploadSignature, matchesAnySecret } from '../../src/domain/upload-signature.js';
import { isMimeTypeAllowed } from '../../src/domain/project.js';
import { contentDisposition } from '../../src/http/delivery/content-disposition.js';
import { decideRange } from '../../src/http/delivery/range.js';
import { AppError } from '../../src/errors.js';

function codeOf(run: () => unknown): string | undefined {
  try {
    run();
  } catch (error) {
    return error instanceof AppError ? error.code : 'not-an-app-error';
  }
  return undefined;
}

describe('metadata rules (Uploadcare)', () => {
  it('accepts keys of letters, digits, _ - . : and values up to 512 characters', () => {
    expect(validateMetadata([['sub.system:v-1_x', 'a'.repeat(512)]])).toEqual({ 'sub.system:v-1_x': 'a'.repeat(512) });
  });
  it.each([
    [[['bad key', 'v']], 'FileMetadataKeyForbiddenError'],
    [[['k'.repeat(65), 'v']], 'FileMetadataKeyLengthTooBigError'],
    [[['', 'v']], 'FileMetadataKeyEmptyError'],
    [[['k', '']], 'FileMetadataValueEmptyError'],
    [[['k', 'v'.repeat(513)]], 'FileMetadataValueLengthTooBigError'],
    [[['k', 'a'], ['k', 'b']], 'FileMetadataKeyDuplicatedError'],
    [Array.from({ length: 51 }, (_, i) => [`k${i}`, 'v']), 'FileMetadataKeysNumberTooBigError'],
    [[['__proto__x', 'v'], ['k', 'v\u0000']], 'FileMetadataValueForbiddenError'],
  ] as Array<[Array<[string, string]>, string]>)('refuses %#', (entries, code) => {
    expect(codeOf(() => validateMetadata(entries))).toBe(code);
  });
  it('does not let a __proto__ key reach the prototype', () => {
    const metadata = validateMetadata([['__proto__', 'polluted']]);
    expect(Object.getPrototypeOf(metadata)).toBe(Object.prototype);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });
  it('parses tags', () => {
    expect(parseTags('a, b,,a ,c')).toEqual(['a', 'b', 'c']);
    expect(parseTags(' Cats,CATS, 2026 ')).toEqual(['cats', '2026']);
    expect(parseTags(undefined)).toEqual([]);
  });
  it('refuses upload tags with the Upload API code', () => {
    expect(codeOf(() => parseTags('good boy'))).toBe('RequestParamRequiredError');
    expect(codeOf(() => parseTags('x'.repeat(101)))).toBe('RequestParamRequiredError');
    expect(codeOf(() => parseTags(Array.from({ length: 51 }, (_, i) => `t${i}`).join(',')))).toBe('RequestParamRequiredError');
    expect(parseTags(Array.from({ length: 50 }, (_, i) => `t${i}`).join(','))).toHaveLength(50);
  });
});

describe('signed uploads', () => {
  it('is hex HMAC-SHA256(secret, expire)', () => {
    // Value computed independently: printf 1700000000 | openssl dgst -sha256 -hmac project-secret
    expect(computeUploadSignature('project-secret', '1700000000')).toMatch(/^[0-9a-f]{64}$/);
    const signature = computeUploadSignature('s2', '1700000000');
    expect(matchesAnySecret(signature, '1700000000', ['s1', 's2'])).toBe(true);
    expect(matchesAnySecret(signature.toUpperCase(), '1700000000', ['s2'])).toBe(true);
    expect(matchesAnySecret(signature, '1700000001', ['s1', 's2'])).toBe(false);
    expect(matchesAnySecret('00', '1700000000', ['s2'])).toBe(false);
    expect(matchesAnySecret(signature, '1700000000', [])).toBe(false);
  });
});

describe('groups', () => {
  const uuid = '2d2f8b0e-1c3a-4b5c-8d9e-0f1a2b3c4d5e';
  it('parses uuids, uuids with operations and CDN URLs', () => {
    expect(parseGroupEntry(uuid)).toEqual({ uuid, effects: '' });
    expect(parseGroupEntry(`${uuid}/-/resize/100x/`)).toEqual({ uuid, effects: '-/resize/100x/' });
    expect(parseGroupEntry(`https://cdn.example/${uuid}/-/crop/10x10`)).toEqual({ uuid, effects: '-/crop/10x10/' });
    expect(parseGroupEntry('nope')).toBeNull();
    expect(parseGroupEntry(`${uuid}/evil`)).toBeNull();
  });
  it('names groups uuid~count', () => {
    expect(groupId(uuid, 3)).toBe(`${uuid}~3`);
    expect(isGroupId(`${uuid}~3`)).toBe(true);
    expect(isGroupId(`${uuid}~0`)).toBe(false);
    expect(isGroupId(uuid)).toBe(false);
  });
});

describe('MIME allow-list', () => {
  it('matches exact types and wildcards', () => {
    expect(isMimeTypeAllowed({ allowedMimeTypes: null }, 'application/zip')).toBe(true);
    expect(isMimeTypeAllowed({ allowedMimeTypes: ['image/*'] }, 'image/png')).toBe(true);
    expect(isMimeTypeAllowed({ allowedMimeTypes: ['image/*', 'application/pdf'] }, 'application/pdf')).toBe(true);
    expect(isMimeTypeAllowed({ allowedMimeTypes: ['image/*'] }, 'text/html')).toBe(false);
  });
});

describe('byte ranges', () => {
  it.each([
    [undefined, 100, { kind: 'full' }],
    ['bytes=0-9', 100, { kind: 'partial', range: { start: 0, end: 9 } }],
    ['bytes=90-', 100, { kind: 'partial', range: { start: 90, end: 99 } }],
    ['bytes=-5', 100, { kind: 'partial', range: { start: 95, end: 99 } }],
    ['bytes=-500', 100, { kind: 'partial', range: { start: 0, end: 99 } }],
    ['bytes=50-5000', 100, { kind: 'partial', range: { start: 50, end: 99 } }],
    ['bytes=100-', 100, { kind: 'unsatisfiable' }],
    ['bytes=9-3', 100, { kind: 'unsatisfiable' }],
    ['bytes=-0', 100, { kind: 'unsatisfiable' }],
    ['bytes=0-1,5-6', 100, { kind: 'full' }],
    ['items=0-1', 100, { kind: 'full' }],
  ])('%s of %i bytes', (header, size, expected) => {
    expect(decideRange(header, size)).toEqual(expected);
  });
});

describe('Content-Disposition', () => {
  it('quotes safely and carries UTF-8 names', () => {
    expect(contentDisposition('attachment', 'a "b".pdf')).toBe(`attachment; filename="a _b_.pdf"; filename*=UTF-8''a%20%22b%22.pdf`);
    expect(contentDisposition('inline', 'résumé.png')).toContain("filename*=UTF-8''r%C3%A9sum%C3%A9.png");
  });
});
