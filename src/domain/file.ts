import type { AppData, ScanStatus } from './addons.js';
import type { ContentInfo } from './content-info.js';

export type FileMetadata = Record<string, string>;

/** A file as Trove keeps it. Immutable once written, except for storage state, metadata, tags and what add-ons write. */
export interface StoredFile {
  uuid: string;
  projectId: string;
  size: number;
  mimeType: string;
  isImage: boolean;
  originalFilename: string;
  filename: string;
  sha256: string;
  blobKey: string;
  contentInfo: ContentInfo | null;
  metadata: FileMetadata;
  tags: string[];
  /** What add-ons wrote on the file, keyed by add-on name (`{}` when none has run). */
  appdata: AppData;
  /** Where the file stands with the virus scanner; a held file is not delivered (see `assertDeliverable`). */
  scanStatus: ScanStatus | null;
  /** Where the upload came from: `local`, `url`, an integration name… (client-declared, informational). */
  source: string | null;
  /** The URL a from_url upload was fetched from, kept only when duplicates are to be recognised. */
  sourceUrl: string | null;
  datetimeUploaded: string;
  datetimeStored: string | null;
  datetimeRemoved: string | null;
  /** When an unstored file is removed; null for stored files. */
  expiresAt: string | null;
}

const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

export function isUuid(value: string): boolean {
  return UUID_RE.test(value);
}

/** An unstored file past its expiry is gone for every client, even before the sweep removes it. */
export function isExpired(file: Pick<StoredFile, 'expiresAt'>, now: Date): boolean {
  return file.expiresAt !== null && file.expiresAt <= now.toISOString();
}
