import { describe, expect, it } from 'vitest';
import { fingerprintOf } from '../../src/adapters/image/sharp.image-analyzer.js';
import { candidateChunks, chunkVariants, compareMatches, hammingDistance, hashChunks, imageAnalysisAppData, isAfterCursor } from '../../src/domain/image-analysis.js';
import { differenceHash, paletteOf, resizeRgba, type RgbaImage } from '../../src/domain/image-pixels.js';

function imageOf(width: number, height: number, pixel: (x: number, y: number) => [number, number, number, number]): RgbaImage {
  const data = new Uint8Array(width * height * 4);
  for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) data.set(pixel(x, y), (y * width + x) * 4);
  return { width, height, data };
}

const gradient = (width: number, height: number) => imageOf(width, height, (x, y) => [Math.round((255 * x) / (width - 1)), Math.round((255 * y) / (height - 1)), 128, 255]);

describe('box resize', () => {
  it('averages whole and fractional areas, weighting colour by alpha', () => {
    const halves = imageOf(4, 2, (x) => (x < 2 ? [0, 0, 0, 255] : [200, 100, 50, 255]));
    expect([...resizeRgba(halves, 2, 1).data]).toEqual([0, 0, 0, 255, 200, 100, 50, 255]);
    expect([...resizeRgba(halves, 1, 1).data]).toEqual([100, 50, 25, 255]);
    const halfTransparent = imageOf(2, 1, (x) => (x === 0 ? [255, 0, 0, 255] : [0, 255, 0, 0]));
    expect([...resizeRgba(halfTransparent, 1, 1).data]).toEqual([255, 0, 0, 128]);
    expect([...resizeRgba(imageOf(3, 1, (x) => [x * 90, 0, 0, 255]), 2, 1).data]).toEqual([30, 0, 0, 255, 150, 0, 0, 255]);
  });
});

describe('palette', () => {
  it('finds the colours most covered first, ties by hex, transparent pixels left out', () => {
    const image = imageOf(10, 10, (x, y) => (y < 6 ? [255, 0, 0, 255] : x < 7 ? [0, 0, 255, 255] : y < 8 ? [0, 255, 0, 255] : [0, 0, 0, 0]));
    expect(paletteOf(image, 5)).toEqual([
      { color: '#ff0000', pixels: 60 },
      { color: '#0000ff', pixels: 28 },
      { color: '#00ff00', pixels: 6 },
    ]);
    expect(paletteOf(imageOf(3, 3, () => [10, 20, 30, 255]), 5)).toEqual([{ color: '#0a141e', pixels: 9 }]);
    expect(paletteOf(imageOf(2, 2, () => [10, 20, 30, 0]), 5)).toEqual([]);
  });

  it('gives the same answer for the same pixels, at most the count asked for', () => {
    const image = gradient(64, 48);
    const palette = paletteOf(image, 5);
    expect(palette).toHaveLength(5);
    expect(paletteOf(image, 5)).toEqual(palette);
    expect(palette.reduce((sum, entry) => sum + entry.pixels, 0)).toBe(64 * 48);
  });
});

describe('difference hash', () => {
  it('sets a bit where the left neighbour is brighter, rows top to bottom', () => {
    const darkening = imageOf(9, 8, (x) => [255 - x * 20, 255 - x * 20, 255 - x * 20, 255]);
    expect(differenceHash(darkening)).toBe('ffffffffffffffff');
    const brightening = imageOf(9, 8, (x) => [x * 20, x * 20, x * 20, 255]);
    expect(differenceHash(brightening)).toBe('0000000000000000');
    // Only the first row darkens: the first byte is set.
    expect(differenceHash(imageOf(9, 8, (x, y) => (y === 0 ? [255 - x * 20, 0, 0, 255] : [x * 20, x * 20, x * 20, 255])))).toBe('ff00000000000000');
  });

  it('stays close for a resized copy and far for a different picture', () => {
    const hash = hashChunks(differenceHash(gradient(100, 75)));
    expect(hammingDistance(hash, hashChunks(differenceHash(resizeRgba(gradient(100, 75), 40, 30))))).toBeLessThanOrEqual(2);
    const rings = imageOf(100, 75, (x, y) => {
      const v = Math.round(127 + 127 * Math.sin(Math.hypot(x - 50, y - 37) / 4));
      return [v, v, v, 255];
    });
    expect(hammingDistance(hash, hashChunks(differenceHash(rings)))).toBeGreaterThan(12);
  });
});

describe('multi-index hashing', () => {
  it('splits a hash into four 16-bit chunks and counts differing bits', () => {
    expect(hashChunks('0123456789abcdef')).toEqual([0x0123, 0x4567, 0x89ab, 0xcdef]);
    expect(hammingDistance([0, 0, 0, 0], [0xffff, 1, 0, 0x8000])).toBe(18);
    expect(hammingDistance(hashChunks('0123456789abcdef'), hashChunks('0123456789abcdef'))).toBe(0);
  });

  it('enumerates every value within the radius exactly once', () => {
    for (const [radius, count] of [
      [0, 1],
      [1, 17],
      [2, 137],
      [3, 697],
    ] as const) {
      const variants = chunkVariants(0xa5a5, radius);
      expect(variants).toHaveLength(count);
      expect(new Set(variants).size).toBe(count);
      expect(variants.every((v) => hammingDistance([v, 0, 0, 0], [0xa5a5, 0, 0, 0]) <= radius)).toBe(true);
    }
    expect(candidateChunks('0000000000000000', 6).map((values) => values.length)).toEqual([17, 17, 17, 17]);
  });

  it('finds every hash within the distance among the candidates (pigeonhole)', () => {
    let seed = 7;
    const random = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    const origin = [0x1234, 0xabcd, 0x0f0f, 0x8001];
    for (let trial = 0; trial < 2000; trial++) {
      const distance = Math.floor(random() * 13);
      const flipped = [...origin];
      const bits = new Set<number>();
      while (bits.size < distance) bits.add(Math.floor(random() * 64));
      for (const bit of bits) flipped[bit >> 4]! ^= 1 << (bit & 15);
      const hex = origin.map((c) => c.toString(16).padStart(4, '0')).join('');
      const lists = candidateChunks(hex, distance);
      expect(lists.some((values, i) => values.includes(flipped[i]!))).toBe(true);
    }
  });

  it('orders matches nearest first, then by uuid, and pages after a cursor', () => {
    const matches = [
      { fileUuid: 'b', distance: 2 },
      { fileUuid: 'a', distance: 3 },
      { fileUuid: 'a', distance: 2 },
    ].sort(compareMatches);
    expect(matches).toEqual([
      { fileUuid: 'a', distance: 2 },
      { fileUuid: 'b', distance: 2 },
      { fileUuid: 'a', distance: 3 },
    ]);
    expect(matches.filter((m) => isAfterCursor(m, { fileUuid: 'a', distance: 2 }))).toEqual(matches.slice(1));
  });
});

describe('fingerprint', () => {
  it('is deterministic and in the documented shapes', () => {
    const fingerprint = fingerprintOf(gradient(100, 75));
    expect(fingerprintOf(gradient(100, 75))).toEqual(fingerprint);
    expect(fingerprint.phash).toMatch(/^[0-9a-f]{16}$/);
    expect(fingerprint.dominantColor).toBe(fingerprint.palette[0]);
    expect(fingerprint.palette.length).toBeLessThanOrEqual(5);
    expect(fingerprint.palette.every((c) => /^#[0-9a-f]{6}$/.test(c))).toBe(true);
    expect(Buffer.from(fingerprint.thumbhash, 'base64').length).toBeGreaterThan(4);
    // 4 × 3 components: 1 size byte + 1 max AC + 4 DC + 2 per AC component (11) = 28 characters.
    expect(fingerprint.blurhash).toHaveLength(28);
  });

  it('presents an analysis in the appdata entry shape', () => {
    const entry = imageAnalysisAppData({
      projectId: 'p',
      fileUuid: 'f',
      thumbhash: 't',
      blurhash: 'b',
      dominantColor: '#000000',
      palette: ['#000000'],
      phash: '0123456789abcdef',
      version: '1',
      createdAt: '2026-01-01T00:00:00.000Z',
      computedAt: '2026-01-02T00:00:00.000Z',
    });
    expect(entry).toEqual({
      data: { thumbhash: 't', blurhash: 'b', dominant_color: '#000000', palette: ['#000000'], phash: '0123456789abcdef' },
      version: '1',
      datetime_created: '2026-01-01T00:00:00.000Z',
      datetime_updated: '2026-01-02T00:00:00.000Z',
    });
  });
});
