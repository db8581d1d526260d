import { thumbHashToDataURL } from 'thumbhash';
import type { RestFile } from '../../../client/trove-client';

/** What stands in for an image while its thumbnail loads: a blurred picture, or at least its colour. */
export interface Placeholder {
  /** The ThumbHash drawn as a tiny PNG data URL; null when the hash could not be read. */
  src: string | null;
  /** `#rrggbb`, the image's most covered colour; null when absent or malformed. */
  color: string | null;
}

/**
 * Decoded hashes by their text. A library page re-renders its rows as it scrolls; decoding the same
 * hash again each time would redo the pixel work and the PNG encoding for nothing.
 */
const decoded = new Map<string, string | null>();
const DECODED_KEPT = 600;

const COLOR = /^#[0-9a-f]{6}$/i;

/** The placeholder of a file listed or read with `include=appdata`; null while its analysis is absent or pending. */
export function filePlaceholder(file: Pick<RestFile, 'appdata'>): Placeholder | null {
  const data = file.appdata?.trove_image_analysis?.data;
  if (!data) return null;
  const src = typeof data.thumbhash === 'string' ? thumbHashDataUrl(data.thumbhash) : null;
  const color = typeof data.dominant_color === 'string' && COLOR.test(data.dominant_color) ? data.dominant_color : null;
  return src === null && color === null ? null : { src, color };
}

function thumbHashDataUrl(hash: string): string | null {
  const known = decoded.get(hash);
  if (known !== undefined) return known;
  let url: string | null;
  try {
    url = thumbHashToDataURL(Uint8Array.from(atob(hash), (char) => char.charCodeAt(0)));
  } catch {
    // Not base64, or too short to be a ThumbHash: the dominant colour is what is left.
    url = null;
  }
  if (decoded.size >= DECODED_KEPT) decoded.delete(decoded.keys().next().value as string);
  decoded.set(hash, url);
  return url;
}
