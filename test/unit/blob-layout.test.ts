import { describe, expect, it } from 'vitest';
import { assertSafeBlobKey, assertSafeBlobPrefix } from '../../src/adapters/blob/blob-key.js';
import {
  derivativeBlobKey,
  derivativesPrefix,
  isOriginalBlobKey,
  isOriginalsKey,
  keyWithinRegion,
  originalBlobKey,
  regionBlobRoot,
  splitRegionKey,
} from '../../src/domain/blob-layout.js';

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

describe('region roots', () => {
  const WEST = regionBlobRoot('west');

  it('roots a region under regions/<name>/, and the default region nowhere', () => {
    expect(regionBlobRoot(null)).toBe('');
    expect(WEST).toBe('regions/west/');
    expect(regionBlobRoot('eu-central_1')).toBe('regions/eu-central_1/');
  });

  it('keeps an original under its region\'s root, with the same layout inside', () => {
    expect(originalBlobKey(UUID, WEST)).toBe(`regions/west/originals/0f/${UUID}`);
    expect(originalBlobKey(UUID, regionBlobRoot(null))).toBe(originalBlobKey(UUID));
    expect(() => assertSafeBlobKey(originalBlobKey(UUID, WEST))).not.toThrow();
  });

  it('splits a rooted key into its region and the key inside that region\'s storage', () => {
    expect(splitRegionKey(`regions/west/originals/0f/${UUID}`)).toEqual({ region: 'west', key: `originals/0f/${UUID}` });
    expect(splitRegionKey('regions/eu-1/derivatives/x')).toEqual({ region: 'eu-1', key: 'derivatives/x' });
    // The root alone leaves an empty key, which every store refuses.
    expect(splitRegionKey('regions/west/')).toEqual({ region: 'west', key: '' });
    const longest = `r${'a'.repeat(31)}`;
    expect(splitRegionKey(`regions/${longest}/x`)).toEqual({ region: longest, key: 'x' });
  });

  it.each([
    `originals/0f/${UUID}`,
    `derivatives/${UUID}/x`,
    'regions/UPPER/x',
    'regions//x',
    'regions/1west/x',
    `regions/r${'a'.repeat(32)}/x`,
    'regions/west',
    'regions/we st/x',
    'x/regions/west/y',
  ])('leaves %j unrooted', (key) => {
    expect(splitRegionKey(key)).toEqual({ region: null, key });
  });

  it('tells an original of a file in any region, and no other file\'s', () => {
    for (const root of ['', WEST, regionBlobRoot('east')]) {
      expect(isOriginalBlobKey(originalBlobKey(UUID, root), UUID), root).toBe(true);
      expect(isOriginalBlobKey(originalBlobKey(OTHER, root), UUID), root).toBe(false);
    }
    expect(isOriginalBlobKey(derivativeBlobKey(UUID, HASH, 'jpeg'), UUID)).toBe(false);
    expect(isOriginalBlobKey(`regions/UPPER/originals/0f/${UUID}`, UUID)).toBe(false);
  });

  it('tells originals keys (unrooted) from the rest', () => {
    expect(isOriginalsKey(originalBlobKey(UUID))).toBe(true);
    expect(isOriginalsKey('originals/')).toBe(true);
    expect(isOriginalsKey(derivativesPrefix(UUID))).toBe(false);
    expect(isOriginalsKey(`hls/${UUID}/master.m3u8`)).toBe(false);
    // A rooted key is a region's; the router reads its region first.
    expect(isOriginalsKey(originalBlobKey(UUID, WEST))).toBe(false);
  });

  it('reads a key within the default region: unrooted keys as they are, rooted ones not at all', () => {
    expect(keyWithinRegion('', originalBlobKey(UUID))).toBe(originalBlobKey(UUID));
    expect(keyWithinRegion('', derivativeBlobKey(UUID, HASH, 'jpeg'))).toBe(derivativeBlobKey(UUID, HASH, 'jpeg'));
    expect(keyWithinRegion('', originalBlobKey(UUID, WEST))).toBeNull();
    // A malformed root is no region's: it reads as an unrooted key.
    expect(keyWithinRegion('', 'regions/UPPER/x')).toBe('regions/UPPER/x');
  });

  it('reads a key within another region: its own keys without the root, nothing else', () => {
    expect(keyWithinRegion(WEST, originalBlobKey(UUID, WEST))).toBe(originalBlobKey(UUID));
    expect(keyWithinRegion(WEST, originalBlobKey(UUID))).toBeNull();
    expect(keyWithinRegion(WEST, originalBlobKey(UUID, regionBlobRoot('east')))).toBeNull();
    // A region whose name starts like another's is another region.
    expect(keyWithinRegion(WEST, originalBlobKey(UUID, regionBlobRoot('west2')))).toBeNull();
    expect(keyWithinRegion(regionBlobRoot('west2'), originalBlobKey(UUID, WEST))).toBeNull();
  });

  it('round-trips every region\'s original through its root', () => {
    for (const region of [null, 'west', 'east']) {
      const root = regionBlobRoot(region);
      const key = originalBlobKey(UUID, root);
      expect(splitRegionKey(key)).toEqual({ region, key: originalBlobKey(UUID) });
      expect(keyWithinRegion(root, key)).toBe(originalBlobKey(UUID));
    }
  });
});
