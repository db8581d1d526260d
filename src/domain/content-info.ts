/** What Trove learns about a file from its bytes, in Uploadcare's `content_info` shape (snake_case on the wire). */

export interface MimeInfo {
  /** Full MIME type, e.g. `image/jpeg`. */
  mime: string;
  /** Top-level type, e.g. `image`. */
  type: string;
  /** Subtype, e.g. `jpeg`. */
  subtype: string;
}

export interface GeoLocation {
  latitude: number;
  longitude: number;
}

export interface ImageInfo {
  /** Uploadcare colour-mode names: RGB, RGBA, L, LA, CMYK, YCbCr, P, … */
  color_mode: string;
  /** EXIF orientation 1–8, or null when absent. */
  orientation: number | null;
  /** Upper-case format name as Uploadcare reports it: JPEG, PNG, GIF, WEBP, AVIF, HEIC, TIFF, SVG, BMP. */
  format: string;
  width: number;
  height: number;
  /** Horizontal and vertical DPI, or null when the file does not say. */
  dpi: [number, number] | null;
  geo_location: GeoLocation | null;
  /** ISO 8601 without zone, from EXIF DateTimeOriginal, or null. */
  datetime_original: string | null;
  /** True for animated or multi-page images (GIF/WebP/AVIF animations, multi-page TIFF). */
  sequence: boolean;
}

export interface ContentInfo {
  mime: MimeInfo;
  image?: ImageInfo;
}

/** Result of looking at a file's bytes. */
export interface InspectedContent {
  mimeType: string;
  contentInfo: ContentInfo;
  isImage: boolean;
}
