/** The JSON shapes of Uploadcare's REST API v0.7, shared by REST answers and webhook payloads. */
import type { StoredFile } from './file.js';

/** Absolute bases for the URLs inside REST answers and webhook payloads. */
export interface PublicBases {
  /** Where files are delivered: `<cdnBase>/<uuid>/`. */
  cdnBase: string;
  /** Where the REST API answers: `<apiBase>/files/<uuid>/`. */
  apiBase: string;
}

/** A file as Uploadcare's REST API v0.7 describes it. */
export interface RestFileInfo {
  uuid: string;
  datetime_uploaded: string;
  datetime_stored: string | null;
  datetime_removed: string | null;
  is_image: boolean;
  is_ready: boolean;
  mime_type: string;
  original_file_url: string | null;
  original_filename: string;
  size: number;
  url: string;
  variations: null;
  content_info: unknown;
  metadata: Record<string, string>;
  tags: string[];
  appdata?: Record<string, unknown> | null;
}

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
) {
  return {
    id: group.id,
    datetime_created: group.datetimeCreated,
    datetime_stored: group.datetimeStored,
    files_count: group.filesCount,
    cdn_url: `${bases.cdnBase}/${group.id}/`,
    url: `${bases.apiBase}/groups/${group.id}/`,
  };
}
