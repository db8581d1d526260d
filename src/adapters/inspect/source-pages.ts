/**
 * How many frames or pages libvips would walk to read an image's header, counted from the file's
 * structure alone. libvips (with giflib, libwebp, libtiff, libheif) visits every frame or page of
 * a source just to describe it, in time that grows with their number, so a small file can hold a
 * process's transformation slot for seconds before anything is decoded. Trove counts first and
 * refuses over its limit (`TROVE_MAX_SOURCE_PAGES`).
 */

import { countAnimationFrames } from './animation-frames.js';
import { countSequenceFrames } from './sequence-frames.js';
import { countTiffPages } from './tiff-pages.js';

export interface SourcePages {
  /** Frames of an animated GIF/WebP, pages of a TIFF, frames of a HEIF/AVIF sequence track. */
  kind: 'animation' | 'tiff' | 'sequence';
  count: number;
  /** The count stopped past the limit it was given: there are at least `count`. */
  atLeast: boolean;
}

/** Null when the format has no frames or pages to count (JPEG, PNG, a still HEIF/AVIF, SVG…). */
export function countSourcePages(bytes: Buffer, stopAfter = Number.POSITIVE_INFINITY): SourcePages | null {
  const frames = countAnimationFrames(bytes);
  if (frames !== null) return { kind: 'animation', count: frames, atLeast: false };
  const pages = countTiffPages(bytes, stopAfter);
  if (pages !== null) return { kind: 'tiff', count: pages, atLeast: pages > stopAfter };
  const samples = countSequenceFrames(bytes);
  if (samples !== null) return { kind: 'sequence', count: samples, atLeast: false };
  return null;
}

/** The refusal's text, naming the limit (and the count, when it is known exactly). */
export function tooManyPages(pages: SourcePages, max: number): string {
  switch (pages.kind) {
    case 'animation':
      return `the animation has ${pages.count} frames, more than the ${max} frames allowed`;
    case 'tiff':
      return pages.atLeast ? `the TIFF has more than the ${max} pages allowed` : `the TIFF has ${pages.count} pages, more than the ${max} pages allowed`;
    case 'sequence':
      return `the image sequence has ${pages.count} frames, more than the ${max} frames allowed`;
  }
}
