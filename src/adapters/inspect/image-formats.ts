/** The image formats Trove recognises as images, keyed by the MIME type detection yields. */

export type ImageFormatName = 'JPEG' | 'PNG' | 'GIF' | 'WEBP' | 'AVIF' | 'HEIC' | 'HEIF' | 'TIFF' | 'BMP' | 'SVG';

export interface ImageFormat {
  /** Upper-case name as Uploadcare's `image_info.format` reports it. */
  name: ImageFormatName;
  /** The MIME type Trove stores; differs from the detected one only where Uploadcare's does. */
  mime: string;
  /** Whether sharp's bundled libvips can read the format's header. */
  readableBySharp: boolean;
  /** Whether the detected type alone already says the image is animated. */
  alwaysSequence: boolean;
}

function format(
  name: ImageFormatName,
  mime: string,
  extra: Partial<Pick<ImageFormat, 'readableBySharp' | 'alwaysSequence'>> = {},
): ImageFormat {
  return { name, mime, readableBySharp: extra.readableBySharp ?? true, alwaysSequence: extra.alwaysSequence ?? false };
}

const IMAGE_FORMATS: ReadonlyMap<string, ImageFormat> = new Map([
  ['image/jpeg', format('JPEG', 'image/jpeg')],
  ['image/png', format('PNG', 'image/png')],
  // file-type reports animated PNGs as image/apng; Uploadcare (libmagic) calls them image/png.
  ['image/apng', format('PNG', 'image/png', { alwaysSequence: true })],
  ['image/gif', format('GIF', 'image/gif')],
  ['image/webp', format('WEBP', 'image/webp')],
  ['image/avif', format('AVIF', 'image/avif')],
  ['image/heic', format('HEIC', 'image/heic')],
  ['image/heic-sequence', format('HEIC', 'image/heic-sequence', { alwaysSequence: true })],
  ['image/heif', format('HEIF', 'image/heif')],
  ['image/heif-sequence', format('HEIF', 'image/heif-sequence', { alwaysSequence: true })],
  ['image/tiff', format('TIFF', 'image/tiff')],
  // libvips as bundled with sharp has no BMP loader; the header parser covers it.
  ['image/bmp', format('BMP', 'image/bmp', { readableBySharp: false })],
  ['image/svg+xml', format('SVG', 'image/svg+xml')],
]);

/** The image format for a detected MIME type, or undefined when Trove does not treat it as an image. */
export function imageFormatForMime(mime: string): ImageFormat | undefined {
  return IMAGE_FORMATS.get(mime);
}
