import type { RestFile } from '../../../client/trove-client';

/** What the file page shows of an image: its size in pixels and, when known, its format. */
interface ImageDimensions {
  width: number;
  height: number;
  format: string | null;
}

/** The image part of `content_info`, or null for a file that is not an image (or not looked at yet). */
export function imageDimensions(file: Pick<RestFile, 'content_info'>): ImageDimensions | null {
  const image = file.content_info?.image;
  if (!image) return null;
  return { width: image.width, height: image.height, format: image.format !== '' ? image.format : null };
}
