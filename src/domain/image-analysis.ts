import type { AppData, AppDataEntry } from './addons.js';

/**
 * What Trove computes from an image's pixels once, after its upload (`image.analyze`): placeholders
 * (ThumbHash, BlurHash), colours, and a 64-bit perceptual hash that finds similar images.
 */

/** The appdata key under which the analysis is answered (`include=appdata`). */
export const IMAGE_ANALYSIS_APPDATA = 'trove_image_analysis' satisfies keyof AppData;

/**
 * The version of the analysis: it changes when any computed value would change for the same pixels,
 * so a backfill can tell old rows from current ones.
 */
export const IMAGE_ANALYSIS_VERSION = '1';

/** What the pixels give, independent of where they are stored. */
export interface ImageFingerprint {
  /** ThumbHash bytes, base64. */
  thumbhash: string;
  blurhash: string;
  /** `#rrggbb`: the palette's most covered colour. */
  dominantColor: string;
  /** Up to 5 `#rrggbb`, most covered first. */
  palette: string[];
  /** dHash: 16 lower-case hex digits (see `differenceHash`). */
  phash: string;
}

/** One analysed file of one project. */
export interface ImageAnalysis extends ImageFingerprint {
  projectId: string;
  fileUuid: string;
  version: string;
  /** When this version was computed (first computation: created; any later: updated). */
  createdAt: string;
  computedAt: string;
}

/** The analysis in Uploadcare's appdata entry shape. */
export function imageAnalysisAppData(analysis: ImageAnalysis): AppDataEntry {
  return {
    data: {
      thumbhash: analysis.thumbhash,
      blurhash: analysis.blurhash,
      dominant_color: analysis.dominantColor,
      palette: analysis.palette,
      phash: analysis.phash,
    },
    version: analysis.version,
    datetime_created: analysis.createdAt,
    datetime_updated: analysis.computedAt,
  };
}

// ---------------------------------------------------------------------------------------------
// Similar images: Hamming distance between perceptual hashes, found by multi-index hashing. The
// 64-bit hash is kept as four 16-bit chunks, each indexed; two hashes within distance d differ in
// at most floor(d / 4) bits of some chunk (pigeonhole), so the candidates are the rows one of
// whose chunks equals a variant of the query's chunk with that many bits flipped at most.

/** Distance used when `distance` is not given: resized and recompressed copies stay within it. */
export const SIMILAR_DEFAULT_DISTANCE = 6;
/** Largest distance accepted: beyond it, unrelated images begin to match and candidates grow fast. */
export const SIMILAR_MAX_DISTANCE = 12;

/** The four 16-bit chunks of a 16-hex-digit hash, most significant first. */
export function hashChunks(phash: string): [number, number, number, number] {
  return [0, 4, 8, 12].map((at) => Number.parseInt(phash.slice(at, at + 4), 16)) as [number, number, number, number];
}

function popcount16(value: number): number {
  let v = value - ((value >> 1) & 0x5555);
  v = (v & 0x3333) + ((v >> 2) & 0x3333);
  v = (v + (v >> 4)) & 0x0f0f;
  return (v + (v >> 8)) & 0x1f;
}

/** Bits that differ between two hashes given as chunks. */
export function hammingDistance(a: readonly number[], b: readonly number[]): number {
  let distance = 0;
  for (let i = 0; i < 4; i++) distance += popcount16((a[i]! ^ b[i]!) & 0xffff);
  return distance;
}

/** Every 16-bit value within `radius` flipped bits of `chunk` (itself first). */
export function chunkVariants(chunk: number, radius: number): number[] {
  const variants = [chunk];
  const flip = (value: number, from: number, left: number): void => {
    if (left === 0) return;
    for (let bit = from; bit < 16; bit++) {
      const next = value ^ (1 << bit);
      variants.push(next);
      flip(next, bit + 1, left - 1);
    }
  };
  flip(chunk, 0, radius);
  return variants;
}

/** For a search within `distance`: per chunk, the values a candidate's chunk must equal in at least one position. */
export function candidateChunks(phash: string, distance: number): number[][] {
  const radius = Math.floor(distance / 4);
  return hashChunks(phash).map((chunk) => chunkVariants(chunk, radius));
}

/** A similar file found, with its distance. */
export interface SimilarMatch {
  fileUuid: string;
  distance: number;
}

/** Nearest first; equal distances by uuid, so pages follow one another without gaps or repeats. */
export function compareMatches(a: SimilarMatch, b: SimilarMatch): number {
  return a.distance - b.distance || (a.fileUuid < b.fileUuid ? -1 : a.fileUuid > b.fileUuid ? 1 : 0);
}

/** Whether a match comes after the cursor `<distance>~<uuid>` of a `next` link. */
export function isAfterCursor(match: SimilarMatch, cursor: SimilarMatch | null): boolean {
  return cursor === null || compareMatches(match, cursor) > 0;
}
