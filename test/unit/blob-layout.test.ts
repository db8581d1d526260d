import { describe, expect, it } from 'vitest';
import { assertSafeBlobKey, assertSafeBlobPrefix } from '../../src/adapters/blob/blob-key.js';
import { derivativeBlobKey, derivativesPrefix, originalBlobKey } from '../../src/domain/blob-layout.js';

const UUID = '0f8c1b9e-6d1a-4c43-9d3a-2b1f9a7c1e55';
const OTHER = '0f8c1b9e-6d1a-4c43-9d3a-2b1f9a7c1e56';
const HASH = '0123456789abcdef0123456789abcdef';

// The layout is stored data: these literal keys are what stores written by earlier versions hold.
describe('blob layout', () => {
  it('keeps originals under a two-character fan-out', () => {
    expect(originalBlobKey(UUID)).toBe(`originals/0f/${UUID}`);
  });

  it('names a derivative by file, plan hash and format variant', () => {
    expect(derivativeBlobKey(UUID, HASH, 'auto-webp')).toBe(`derivatives/${UUID}/${HASH}-auto-webp`);
    expect(derivativeBlobKey(UUID, HASH, 'preserve')).toBe(`derivatives/${UUID}/${HASH}-preserve`);
  });

  it('puts every derivative of a file under that file’s prefix, and no other file’s', () => {
    const prefix = derivativesPrefix(UUID);
    expect(prefix).toBe(`derivatives/${UUID}/`);
    expect(derivativeBlobKey(UUID, HASH, 'jpeg').startsWith(prefix)).toBe(true);
    expect(derivativeBlobKey(OTHER, HASH, 'jpeg').startsWith(prefix)).toBe(false);
    expect(originalBlobKey(UUID).startsWith(prefix)).toBe(false);
  });

  it('builds keys and prefixes every blob store accepts', () => {
    expect(() => assertSafeBlobKey(originalBlobKey(UUID))).not.toThrow();
    expect(() => assertSafeBlobKey(derivativeBlobKey(UUID, HASH, 'auto-avif'))).not.toThrow();
    expect(() => assertSafeBlobPrefix(derivativesPrefix(UUID))).not.toThrow();
  });
});
