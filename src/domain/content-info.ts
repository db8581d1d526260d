/** What Trove learns about a file from its bytes, in Uploadcare's `content_info` shape (snake_case on the wire). */
import { Type } from 'typebox';
import { VideoInfoSchema, type VideoInfo } from './video-info.js';

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
  /** A video's probe, when ffprobe could read it at upload. */
  video?: VideoInfo;
}

/** Result of looking at a file's bytes. */
export interface InspectedContent {
  mimeType: string;
  contentInfo: ContentInfo;
  isImage: boolean;
}

/**
 * The wire shape of `image_info` in answers and the OpenAPI document. Extra fields pass through, so a
 * client built today keeps working when Trove reports more.
 */
export const ImageInfoSchema = Type.Object(
  {
    color_mode: Type.String({ description: 'RGB, RGBA, L, LA, CMYK, YCbCr, P, …' }),
    orientation: Type.Union([Type.Integer(), Type.Null()], { description: 'EXIF orientation 1–8' }),
    format: Type.String({ description: 'JPEG, PNG, GIF, WEBP, AVIF, HEIC, TIFF, SVG, BMP' }),
    width: Type.Integer(),
    height: Type.Integer(),
    dpi: Type.Union([Type.Array(Type.Number(), { minItems: 2, maxItems: 2 }), Type.Null()], { description: '[horizontal, vertical]' }),
    geo_location: Type.Union([Type.Object({ latitude: Type.Number(), longitude: Type.Number() }), Type.Null()]),
    datetime_original: Type.Union([Type.String(), Type.Null()], { description: 'ISO 8601 without zone, from EXIF' }),
    sequence: Type.Boolean({ description: 'Animated or multi-page' }),
  },
  { title: 'ImageInfo', additionalProperties: true },
);

/** The wire shape of `content_info`: null until the bytes have been looked at. */
export const ContentInfoSchema = Type.Union(
  [
    Type.Object(
      {
        mime: Type.Object({ mime: Type.String(), type: Type.String(), subtype: Type.String() }, { title: 'MimeInfo' }),
        image: Type.Optional(ImageInfoSchema),
        video: Type.Optional(VideoInfoSchema),
      },
      { title: 'ContentInfo', additionalProperties: true },
    ),
    Type.Null(),
  ],
  { description: 'What the bytes are: `mime`, `image` details for images and `video` details for videos' },
);
