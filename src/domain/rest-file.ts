/** The JSON shapes of Uploadcare's REST API v0.7, shared by REST answers and webhook payloads. */
import { Type, type Static, type TSchema } from 'typebox';
import { ContentInfoSchema } from './content-info.js';
import type { StoredFile } from './file.js';

/** Absolute bases for the URLs inside REST answers and webhook payloads. */
export interface PublicBases {
  /** Where files are delivered: `<cdnBase>/<uuid>/`. */
  cdnBase: string;
  /** Where the REST API answers: `<apiBase>/files/<uuid>/`. */
  apiBase: string;
}

const appDataEntry = <Data extends TSchema>(data: Data) =>
  Type.Object({
    data,
    version: Type.String({ description: 'Version of the application that wrote `data`' }),
    datetime_created: Type.String({ format: 'date-time' }),
    datetime_updated: Type.String({ format: 'date-time' }),
  });
/** Entries of add-ons Trove has no engine for: never written here, declared so clients know the key. */
const foreignEntry = () => appDataEntry(Type.Record(Type.String(), Type.Unknown(), { description: 'Never written by Trove: it runs no engine for this add-on' }));

/** Application data (`include=appdata`): what each add-on wrote on the file, keyed by add-on name, in Uploadcare's shape. */
const AppDataSchema = Type.Object(
  {
    uc_clamav_virus_scan: Type.Optional(
      appDataEntry(
        Type.Object(
          { infected: Type.Boolean(), infected_with: Type.String({ description: 'The matching signature; empty when clean' }) },
          { description: "ClamAV's verdict; `version` is the engine's" },
        ),
      ),
    ),
    aws_rekognition_detect_labels: Type.Optional(foreignEntry()),
    aws_rekognition_detect_moderation_labels: Type.Optional(foreignEntry()),
    remove_bg: Type.Optional(foreignEntry()),
    trove_image_analysis: Type.Optional(
      appDataEntry(
        Type.Object(
          {
            thumbhash: Type.String({ description: 'ThumbHash bytes, base64' }),
            blurhash: Type.String({ description: 'BlurHash, 4 × 3 components' }),
            dominant_color: Type.String({ pattern: '^#[0-9a-f]{6}$' }),
            palette: Type.Array(Type.String({ pattern: '^#[0-9a-f]{6}$' }), { maxItems: 5, description: 'Most covered first' }),
            phash: Type.String({ pattern: '^[0-9a-f]{16}$', description: '64-bit difference hash (dHash), hex; `GET /files/?similar_to=` compares it' }),
          },
          { title: 'ImageAnalysisData', description: "Trove extension: computed from an image's pixels after upload; `version` is the analysis version" },
        ),
      ),
    ),
  },
  { title: 'AppData' },
);

/** A file as Uploadcare's REST API v0.7 describes it. */
export const RestFileSchema = Type.Object(
  {
    uuid: Type.String({ format: 'uuid' }),
    datetime_uploaded: Type.String({ format: 'date-time' }),
    datetime_stored: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
    datetime_removed: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
    is_image: Type.Boolean(),
    is_ready: Type.Boolean({ description: 'false while the file waits for its virus scan on upload (it is not delivered until found clean)' }),
    mime_type: Type.String(),
    original_file_url: Type.Union([Type.String(), Type.Null()], { description: 'null once the file is removed' }),
    original_filename: Type.String(),
    size: Type.Integer(),
    url: Type.String({ description: 'This file in the REST API' }),
    variations: Type.Null(),
    content_info: ContentInfoSchema,
    metadata: Type.Record(Type.String(), Type.String()),
    tags: Type.Array(Type.String(), { description: 'Trove extension' }),
    is_infected: Type.Union([Type.Boolean(), Type.Null()], {
      description: 'Trove extension: what the last virus scan found (`appdata.uc_clamav_virus_scan`); null when never scanned or while a scan is pending',
    }),
    appdata: Type.Optional({ ...AppDataSchema, description: 'With `include=appdata`: `{}` until an add-on writes on the file' }),
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
    is_ready: file.scanStatus !== 'pending',
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
    // Trove extension: the scan's verdict at a glance; Uploadcare's own shape is the appdata entry.
    is_infected: file.scanStatus === 'infected' ? true : file.scanStatus === 'clean' ? false : null,
    ...(options.appdata ? { appdata: file.appdata as RestFileInfo['appdata'] } : {}),
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
