import { randomUUID } from 'node:crypto';
import { originalBlobKey } from '../../src/domain/blob-layout.js';
import type { StoredFile } from '../../src/domain/file.js';

/** A file record as the ingest service would write it: a small live, unstored text file, unless `overrides` say otherwise. */
export function storedFile(overrides: Partial<StoredFile> & Pick<StoredFile, 'projectId'>): StoredFile {
  const uuid = overrides.uuid ?? randomUUID();
  return {
    uuid,
    size: 42,
    mimeType: 'text/plain',
    isImage: false,
    originalFilename: 'file.txt',
    filename: 'file.txt',
    sha256: 'ab'.repeat(32),
    blobKey: originalBlobKey(uuid),
    contentInfo: null,
    metadata: {},
    tags: [],
    appdata: {},
    scanStatus: null,
    source: null,
    sourceUrl: null,
    datetimeUploaded: '2024-01-01T00:00:00.000Z',
    datetimeStored: null,
    datetimeRemoved: null,
    expiresAt: null,
    ...overrides,
  };
}
