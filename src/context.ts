import cluster from 'node:cluster';
import type { Config } from './config/config.js';
import { SharpImageEngine } from './adapters/image/sharp.engine.js';
import { ClusterLockService } from './adapters/lock/cluster.lock.js';
import { MemoryLockService } from './adapters/lock/memory.lock.js';
import type { LockService } from './ports/lock-service.js';
import { DerivativeCache } from './services/transform/derivative-cache.js';
import { FairScheduler } from './services/transform/fair-scheduler.js';
import { TransformService } from './services/transform/transform.service.js';
import { FsBlobStore } from './adapters/blob/fs.blob-store.js';
import { S3BlobStore } from './adapters/blob/s3.blob-store.js';
import { KyselyMetadataStore } from './adapters/db/kysely-metadata-store.js';
import { createGuardedFetcher } from './adapters/fetch/guarded-fetcher.js';
import { BytesContentInspector } from './adapters/inspect/bytes.content-inspector.js';
import { Metrics } from './observability/metrics.js';
import type { BlobStore } from './ports/blob-store.js';
import type { GuardedFetcher } from './ports/fetcher.js';
import type { MetadataStore } from './ports/repositories.js';
import { systemClock, type Clock } from './services/clock.js';
import { DeliveryService } from './services/delivery.service.js';
import { DirectUploadService } from './services/direct-upload.service.js';
import { FileInfoService } from './services/file-info.service.js';
import { FileIngestService } from './services/file-ingest.service.js';
import { FromUrlService } from './services/from-url.service.js';
import { GroupService } from './services/group.service.js';
import { MultipartUploadService } from './services/multipart-upload.service.js';
import { ProjectService } from './services/project.service.js';
import { SweeperService } from './services/sweeper.service.js';
import { UploadAuthService } from './services/upload-auth.service.js';

export interface ServiceLogger {
  info(object: Record<string, unknown>, message: string): void;
  warn(object: Record<string, unknown>, message: string): void;
  error(object: Record<string, unknown>, message: string): void;
}

export interface AppContext {
  config: Config;
  clock: Clock;
  metrics: Metrics;
  metadata: MetadataStore;
  blobs: BlobStore;
  fetcher: GuardedFetcher;
  services: {
    projects: ProjectService;
    uploadAuth: UploadAuthService;
    ingest: FileIngestService;
    directUpload: DirectUploadService;
    multipart: MultipartUploadService;
    fromUrl: FromUrlService;
    groups: GroupService;
    fileInfo: FileInfoService;
    delivery: DeliveryService;
    transform: TransformService;
    sweeper: SweeperService;
  };
  scheduler: FairScheduler;
  close(): Promise<void>;
}

export interface ContextOverrides {
  clock?: Clock;
  logger?: ServiceLogger;
  /** Tests build many contexts in one process; default process metrics would register twice. */
  collectDefaultMetrics?: boolean;
  /** Replaces the lock service (tests of single-flight across processes). */
  locks?: LockService;
}

const silentLogger: ServiceLogger = { info: () => undefined, warn: () => undefined, error: () => undefined };

function createBlobStore(config: Config): BlobStore {
  const storage = config.storage;
  if (storage.kind === 'fs') return new FsBlobStore({ root: storage.root });
  return new S3BlobStore({
    bucket: storage.bucket,
    prefix: storage.prefix,
    endpoint: storage.endpoint,
    region: storage.region,
    forcePathStyle: storage.forcePathStyle,
    credentials: storage.credentials,
    requestChecksum: storage.requestChecksum,
  });
}

/** The composition root: the one place that turns configuration into adapters and services. */
export async function createContext(config: Config, overrides: ContextOverrides = {}): Promise<AppContext> {
  const clock = overrides.clock ?? systemClock;
  const logger = overrides.logger ?? silentLogger;
  const metadata = new KyselyMetadataStore(config.database);
  const blobs = createBlobStore(config);
  try {
    await metadata.migrate();
  } catch (error) {
    await metadata.close().catch(() => undefined);
    throw error;
  }
  const fetcher = createGuardedFetcher({
    allowPrivate: config.fetch.allowPrivate,
    defaults: { maxBytes: config.fetch.maxBytes, timeoutMs: config.fetch.timeoutMs, maxRedirects: config.fetch.maxRedirects },
    userAgent: 'Trove/0.1 (+from_url)',
  });
  const inspector = new BytesContentInspector();

  const metrics = new Metrics({ collectDefault: overrides.collectDefaultMetrics ?? true });
  const uploadAuth = new UploadAuthService(metadata.projects, clock);
  const ingest = new FileIngestService(blobs, inspector, metadata.files, clock, {
    maxFileSize: config.upload.maxFileSize,
    unstoredFileTtlMs: config.upload.unstoredFileTtlMs,
  });
  const multipart = new MultipartUploadService(uploadAuth, ingest, metadata.multipart, blobs, clock, {
    minFileSize: config.upload.multipartMinFileSize,
    minPartSize: config.upload.multipartMinPartSize,
    maxPartSize: config.upload.multipartMaxPartSize,
    expiryMs: config.upload.multipartExpiryMs,
  });
  const fromUrl = new FromUrlService(uploadAuth, ingest, metadata.files, metadata.fromUrlTasks, fetcher, clock, config.fetch, logger, (file) => {
    metrics.uploads.inc({ method: 'from_url' });
    metrics.bytesIn.inc({ method: 'from_url' }, file.size);
  });
  const delivery = new DeliveryService(metadata.groups, metadata.files, blobs, clock, {
    recordCacheEntries: 10_000,
    recordCacheTtlMs: 30_000,
    originalCacheBytes: config.delivery.originalCacheBytes,
    originalCacheMaxEntryBytes: config.delivery.originalCacheMaxEntryBytes,
    sourceCacheBytes: config.delivery.sourceCacheBytes,
    sourceCacheMaxEntryBytes: config.delivery.sourceCacheMaxEntryBytes,
  });
  const scheduler = new FairScheduler({
    concurrency: config.transform.concurrency,
    maxQueuedPerProject: config.transform.maxQueuedPerProject,
  });
  metrics.queueDepth = () => scheduler.queued();
  const transform = new TransformService(
    delivery,
    metadata.files,
    new DerivativeCache(blobs, {
      l1Bytes: config.transform.cacheBytes,
      l1MaxEntryBytes: config.transform.cacheMaxEntryBytes,
      l2MaxEntryBytes: 64 * 1024 ** 2,
    }),
    // One libvips thread per image: the scheduler already runs one image per core, and more threads only contend.
    new SharpImageEngine({ avifEffort: config.transform.avifEffort, concurrency: 1 }),
    scheduler,
    // HTTP processes of one node share locks through the primary; a single process keeps them in memory.
    overrides.locks ?? (cluster.isWorker ? new ClusterLockService() : new MemoryLockService()),
    {
      hit: (tier) => metrics.derivativeLookups[tier]++,
      miss: () => metrics.derivativeLookups.miss++,
      transformed: (seconds) => metrics.transformSeconds.observe(seconds),
      rejected: (code) => metrics.transformRejections.inc({ code }),
      storeFailed: (key, error) => logger.warn({ err: error, key }, 'could not write a derivative to the blob store'),
    },
    {
      limits: {
        maxSourcePixels: config.transform.maxSourcePixels,
        maxOutputDimension: config.transform.maxOutputDimension,
        maxAnimationPixels: config.transform.maxAnimationPixels,
        timeoutMs: config.transform.timeoutMs,
      },
      maxSourceBytes: config.transform.maxSourceBytes,
      lockTtlMs: config.transform.timeoutMs * 2 + 10_000,
      waitTimeoutMs: config.transform.timeoutMs + 5_000,
    },
  );
  const forgetFile = async (uuid: string) => {
    delivery.evict(uuid);
    await transform.purge(uuid);
  };
  const sweeper = new SweeperService(metadata.files, blobs, multipart, fromUrl, clock, forgetFile, logger, {
    putOlderThanMs: 6 * 3_600_000,
    multipartOlderThanMs: config.upload.multipartExpiryMs + 3_600_000,
  });

  const services: AppContext['services'] = {
    projects: new ProjectService(metadata.projects, () => uploadAuth.forgetProjects()),
    uploadAuth,
    ingest,
    directUpload: new DirectUploadService(uploadAuth, ingest, {
      maxDirectUploadSize: config.upload.maxDirectUploadSize,
      maxFilesPerRequest: config.upload.maxFilesPerRequest,
    }),
    multipart,
    fromUrl,
    groups: new GroupService(uploadAuth, metadata.files, metadata.groups, clock, { maxGroupFiles: config.upload.maxGroupFiles }),
    fileInfo: new FileInfoService(uploadAuth, metadata.files, clock),
    delivery,
    transform,
    sweeper,
  };

  return {
    config,
    clock,
    metrics,
    metadata,
    blobs,
    fetcher,
    services,
    scheduler,
    async close() {
      await sweeper.stop();
      await fromUrl.drain();
      await transform.drain();
      await blobs.close();
      await metadata.close();
    },
  };
}
