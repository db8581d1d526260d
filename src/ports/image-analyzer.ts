import type { ImageFingerprint } from '../domain/image-analysis.js';

/** Why an image could not be analysed: its bytes (not the machine) are the trouble, so a retry would not help. */
export class ImageAnalysisError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ImageAnalysisError';
  }
}

/** Decodes an image once, small and upright, and computes its fingerprint. Needs neither the network nor the database. */
export interface ImageAnalyzer {
  /** Throws `ImageAnalysisError` for bytes it cannot decode or over `maxSourcePixels` (one frame). */
  analyze(source: Buffer, limits: { maxSourcePixels: number; timeoutMs: number }): Promise<ImageFingerprint>;
}
