import type { RestFile } from '../../../client/trove-client';

/** What the file page shows of an image: its size in pixels and, when known, its format. */
interface ImageDimensions {
  width: number;
  height: number;
  format: string | null;
}

/**
 * The image part of `content_info`. The REST schema leaves `content_info` open (its `image` and
 * `video` parts vary by file), so it is read defensively here.
 */
export function imageDimensions(file: Pick<RestFile, 'content_info'>): ImageDimensions | null {
  const image = field(file.content_info, 'image');
  const width = field(image, 'width');
  const height = field(image, 'height');
  if (typeof width !== 'number' || typeof height !== 'number') return null;
  const format = field(image, 'format');
  return { width, height, format: typeof format === 'string' && format !== '' ? format : null };
}

function field(value: unknown, name: string): unknown {
  return typeof value === 'object' && value !== null ? (value as Record<string, unknown>)[name] : undefined;
}
