/**
 * The `placeholder` of `file-uploaded` and `done`: a ThumbHash of the picked image, made in the
 * browser from the file itself.
 *
 * Why here rather than from the server: Trove analyses an image in a background job after its upload
 * (`appdata.trove_image_analysis`), so at `file-uploaded` the server's ThumbHash usually does not exist
 * yet, and waiting for it would mean polling the REST API, which needs a secret key the page must not
 * have. The browser already holds the image; shrinking it to 100 px on a canvas and hashing takes a
 * few milliseconds, runs while the bytes are sent, and needs no request. The hash is made the same
 * way as the server's (fit in 100 × 100, ThumbHash of the RGBA pixels), so it looks the same,
 * though resampling differences mean its bytes may differ.
 *
 * A ThumbHash rather than a data URL: about 25 bytes of base64 that a site stores next to the uuid
 * and turns into an image with `thumbHashToDataURL` from the `thumbhash` package.
 */

import { rgbaToThumbHash } from 'thumbhash';

/** ThumbHash takes images up to 100 × 100. */
const HASHED_SIDE = 100;
/** Decoding a huge image for a placeholder costs more memory than it is worth (the preview's bound). */
const MAX_BYTES = 25 * 1000 * 1000;
/** Types browsers decode. SVG is left out: `createImageBitmap` refuses it from a Blob. */
const HASHABLE = /^image\/(jpeg|png|gif|webp|avif|bmp|x-icon)$/;

/** The ThumbHash (base64) of an image file, or null when it is not an image the browser decodes. */
export async function thumbHashOf(file: Blob): Promise<string | null> {
  if (!HASHABLE.test(file.type) || file.size > MAX_BYTES || typeof createImageBitmap !== 'function') return null;
  let bitmap: ImageBitmap | null = null;
  try {
    // EXIF orientation applies (the default), as the server's analysis turns the image upright too.
    bitmap = await createImageBitmap(file);
    const scale = Math.min(1, HASHED_SIDE / Math.max(bitmap.width, bitmap.height));
    const width = Math.max(1, Math.round(bitmap.width * scale));
    const height = Math.max(1, Math.round(bitmap.height * scale));
    const canvas = document.createElement('canvas');
    canvas.width = width;
    canvas.height = height;
    const context = canvas.getContext('2d', { willReadFrequently: true });
    if (!context) return null;
    context.imageSmoothingQuality = 'high';
    context.drawImage(bitmap, 0, 0, width, height);
    const hash = rgbaToThumbHash(width, height, context.getImageData(0, 0, width, height).data);
    return btoa(String.fromCharCode(...hash));
  } catch {
    // Not decodable here (a format this browser lacks, a damaged file): the upload goes on without one.
    return null;
  } finally {
    bitmap?.close();
  }
}
