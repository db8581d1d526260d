/** The JSON shapes of Uploadcare's REST API v0.7, shared by REST answers and webhook payloads. */
import { Type, type Static } from 'typebox';
import { ContentInfoSchema } from './content-info.js';
import type { StoredFile } from './file.js';

/** Absolute bases for the URLs inside REST answers and webhook payloads. */
export interface PublicBases {
  /** Where files are delivered: `<cdnBase>/<uuid>/`. */
  cdnBase: string;
  /** Where the REST API answers: `<apiBase>/files/<uuid>/`. */
  apiBase: string;
}

/** A file as Uploadcare's REST API v0.7 describes it. */
export const RestFileSchema = Type.Object(
  {
    uuid: Type.String({ format: 'uuid' }),
    datetime_uploaded: Type.String({ format: 'date-time' }),
    datetime_stored: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
    datetime_removed: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
    is_image: Type.Boolean(),
    is_ready: Type.Boolean(),
    mime_type: Type.String(),
    original_file_url: Type.Union([Type.String(), Type.Null()], { description: 'null once the file is removed' }),
    original_filename: Type.String(),
    size: Type.Integer(),
    url: Type.String({ description: 'This file in the REST API' }),
    variations: Type.Null(),
    content_info: ContentInfoSchema,
    metadata: Type.Record(Type.String(), Type.String()),
    tags: Type.Array(Type.String(), { description: 'Trove extension' }),
    appdata: Type.Optional(Type.Null({ description: 'With `include=appdata`: no add-on writes application data yet' })),
  },
  { title: 'RestFile' },
);
type RestFileInfo = Static<typeof RestFileSchema>;

/** A group as listed (its files are in the group info). */
export const RestGroupSummarySchema = Type.Object(
  {
    id: Type.String({ description: '`<uuid>~<number of files>`' }),
    datetime_created: Type.String({ format: 'date-time' }),
    datetime_stored: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
    files_count: Type.Integer(),
    cdn_url: Type.String(),
    url: Type.String({ description: 'This group in the REST API' }),
  },
  { title: 'RestGroupSummary' },
);
type RestGroupSummary = Static<typeof RestGroupSummarySchema>;

export function toRestFile(file: StoredFile, bases: PublicBases, options: { appdata?: boolean } = {}): RestFileInfo {
  return {
    uuid: file.uuid,
    datetime_uploaded: file.datetimeUploaded,
    datetime_stored: file.datetimeStored,
    datetime_removed: file.datetimeRemoved,
    is_image: file.isImage,
    is_ready: true,
    mime_type: file.mimeType,
    original_file_url: file.datetimeRemoved === null ? `${bases.cdnBase}/${file.uuid}/${encodeURIComponent(file.filename)}` : null,
    original_filename: file.originalFilename,
    size: file.size,
    url: `${bases.apiBase}/files/${file.uuid}/`,
    variations: null,
    content_info: file.contentInfo,
    metadata: file.metadata,
    // Trove extension: the file's tags (Upload API `tags`, REST `PUT /files/:uuid/tags/`).
    tags: file.tags,
    // Application data is what add-ons write; Trove runs none yet, so it says so (null) rather than
    // answer an empty object that reads as "scanned, nothing found".
    ...(options.appdata ? { appdata: null } : {}),
  };
}

export function toRestGroupSummary(
  group: { id: string; datetimeCreated: string; datetimeStored: string | null; filesCount: number },
  bases: PublicBases,
): RestGroupSummary {
  return {
    id: group.id,
    datetime_created: group.datetimeCreated,
    datetime_stored: group.datetimeStored,
    files_count: group.filesCount,
    cdn_url: `${bases.cdnBase}/${group.id}/`,
    url: `${bases.apiBase}/groups/${group.id}/`,
  };
}
