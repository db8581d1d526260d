import type { ContentInfo, ImageInfo } from '../../domain/content-info.js';
import type { StoredFile } from '../../domain/file.js';
import { toUploadVideoInfo, type UploadVideoInfo } from '../../domain/video-info.js';
import type { GroupView } from '../../services/group.service.js';

/** A file as the Upload API describes it (`GET /info/`, multipart complete, from_url status). */
interface UploadFileInfo {
  uuid: string;
  file_id: string;
  size: number;
  total: number;
  done: number;
  original_filename: string;
  filename: string;
  mime_type: string;
  is_image: boolean;
  is_stored: boolean;
  is_ready: boolean;
  image_info: ImageInfo | null;
  video_info: UploadVideoInfo | null;
  content_info: ContentInfo | null;
  metadata: Record<string, string>;
  tags: string[];
  s3_bucket: null;
  datetime_uploaded: string;
  sha256: string;
}

export function toUploadFileInfo(file: StoredFile): UploadFileInfo {
  return {
    uuid: file.uuid,
    file_id: file.uuid,
    size: file.size,
    total: file.size,
    done: file.size,
    original_filename: file.originalFilename,
    filename: file.filename,
    mime_type: file.mimeType,
    is_image: file.isImage,
    is_stored: file.datetimeStored !== null,
    // Not ready while the project's scan on upload has not judged it (it is not delivered meanwhile).
    is_ready: file.scanStatus !== 'pending',
    image_info: file.contentInfo?.image ?? null,
    video_info: file.contentInfo?.video ? toUploadVideoInfo(file.contentInfo.video) : null,
    content_info: file.contentInfo,
    metadata: file.metadata,
    tags: file.tags,
    s3_bucket: null,
    datetime_uploaded: file.datetimeUploaded,
    sha256: file.sha256,
  };
}

export function toUploadGroupInfo(view: GroupView, urls: { cdnBase: string; apiBase: string }) {
  return {
    id: view.group.id,
    datetime_created: view.group.datetimeCreated,
    datetime_stored: view.group.datetimeStored,
    files_count: view.group.filesCount,
    cdn_url: `${urls.cdnBase}/${view.group.id}/`,
    url: `${urls.apiBase}/groups/${view.group.id}/`,
    files: view.members.map((m) => (m.file ? { ...toUploadFileInfo(m.file), default_effects: m.effects } : null)),
  };
}
