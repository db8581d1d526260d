import { Type } from 'typebox';
import { ContentInfoSchema, ImageInfoSchema } from '../../../domain/content-info.js';
import { UploadVideoInfoSchema } from '../../../domain/video-info.js';

/** Shapes for the OpenAPI document. Upload API inputs are validated by the services, which answer with Uploadcare's error codes. */
const UploadErrorSchema = Type.Object(
  {
    error: Type.Object({
      status_code: Type.Integer(),
      content: Type.String({ description: 'What is wrong, for people.' }),
      error_code: Type.String({ description: "Uploadcare's error code, for programs." }),
    }),
  },
  { description: 'Upload API error' },
);

export const FileInfoSchema = Type.Object(
  {
    uuid: Type.String({ format: 'uuid' }),
    file_id: Type.String(),
    size: Type.Integer(),
    original_filename: Type.String(),
    filename: Type.String(),
    mime_type: Type.String(),
    is_image: Type.Boolean(),
    is_stored: Type.Boolean(),
    is_ready: Type.Boolean(),
    image_info: Type.Union([ImageInfoSchema, Type.Null()]),
    video_info: Type.Union([UploadVideoInfoSchema, Type.Null()]),
    content_info: ContentInfoSchema,
    metadata: Type.Record(Type.String(), Type.String()),
  },
  { additionalProperties: true, description: 'File info' },
);

export const GroupInfoSchema = Type.Object(
  {
    id: Type.String(),
    datetime_created: Type.String(),
    files_count: Type.Integer(),
    cdn_url: Type.String(),
    url: Type.String(),
    files: Type.Array(Type.Union([FileInfoSchema, Type.Null()])),
  },
  { additionalProperties: true },
);

export const errorResponses = {
  400: UploadErrorSchema,
  403: UploadErrorSchema,
  404: UploadErrorSchema,
  413: UploadErrorSchema,
};
