import { DirectUploadService } from '../services/direct-upload.service.js';
import { FileInfoService } from '../services/file-info.service.js';
import { FileIngestService } from '../services/file-ingest.service.js';
import { FromUrlService } from '../services/from-url.service.js';
import { GroupService } from '../services/group.service.js';
import { MultipartUploadService } from '../services/multipart-upload.service.js';
import type { OutboxSignal } from '../services/outbox-signal.js';
import type { RateLimitService } from '../services/rate-limit.service.js';
import { UploadAuthService } from '../services/upload-auth.service.js';
import type { VideoEngine } from '../ports/video-engine.js';
import type { Basics } from './basics.js';
import { localBlobRoot, type Storage } from './storage.js';

/** The Upload API's services: who may upload, and the four ways bytes become files. */
export interface Upload {
  uploadAuth: UploadAuthService;
  ingest: FileIngestService;
  directUpload: DirectUploadService;
  multipart: MultipartUploadService;
  fromUrl: FromUrlService;
  groups: GroupService;
  fileInfo: FileInfoService;
  /** Waits for URL fetches in flight. */
  close(): Promise<void>;
}

export function createUpload(
  basics: Basics,
  storage: Pick<Storage, 'config' | 'shards' | 'blobs' | 'inspector' | 'fetcher'>,
  rateLimits: RateLimitService,
  outbox: OutboxSignal,
  video: VideoEngine | null = null,
): Upload {
  const { config, clock, logger, metrics } = basics;
  const { shards, blobs } = storage;
  // Keys and settings are read from the region's copy of the configuration (the main database without one).
  const uploadAuth = new UploadAuthService(storage.config.projects, clock, (projectId) => rateLimits.check(projectId, 'upload'));
  const ingest = new FileIngestService(
    blobs,
    storage.inspector,
    shards,
    clock,
    { maxFileSize: config.upload.maxFileSize, unstoredFileTtlMs: config.upload.unstoredFileTtlMs, localBlobRoot: localBlobRoot(config) },
    outbox,
    video ? { engine: video, logger } : null,
  );
  const multipart = new MultipartUploadService(uploadAuth, ingest, shards, blobs, clock, {
    minFileSize: config.upload.multipartMinFileSize,
    minPartSize: config.upload.multipartMinPartSize,
    maxPartSize: config.upload.multipartMaxPartSize,
    expiryMs: config.upload.multipartExpiryMs,
  });
  const fromUrl = new FromUrlService(uploadAuth, ingest, shards, storage.fetcher, clock, config.fetch, logger, (file) => {
    metrics.uploads.inc({ method: 'from_url' });
    metrics.bytesIn.inc({ method: 'from_url' }, file.size);
  });
  return {
    uploadAuth,
    ingest,
    directUpload: new DirectUploadService(uploadAuth, ingest, {
      maxDirectUploadSize: config.upload.maxDirectUploadSize,
      maxFilesPerRequest: config.upload.maxFilesPerRequest,
    }),
    multipart,
    fromUrl,
    groups: new GroupService(uploadAuth, shards, clock, { maxGroupFiles: config.upload.maxGroupFiles }),
    fileInfo: new FileInfoService(uploadAuth, shards, clock),
    close: () => fromUrl.drain(),
  };
}
