import cluster from 'node:cluster';
import type { Config } from './config/config.js';
import { SharpImageEngine } from './adapters/image/sharp.engine.js';
import { ClusterLockService } from './adapters/lock/cluster.lock.js';
import { MemoryLockService } from './adapters/lock/memory.lock.js';
import type { LockService } from './ports/lock-service.js';
import { RedisLockService } from './adapters/lock/redis.lock.js';
import { MemoryEventBus } from './adapters/events/memory.event-bus.js';
import { ClusterEventBus } from './adapters/events/cluster.event-bus.js';
import { RedisEventBus } from './adapters/events/redis.event-bus.js';
import { BullMqJobQueue } from './adapters/queue/bullmq.job-queue.js';
import { MemoryRateLimiter } from './adapters/rate-limit/memory.rate-limiter.js';
import { RedisRateLimiter } from './adapters/rate-limit/redis.rate-limiter.js';
import { RedisConnection } from './adapters/redis/redis-connection.js';
import type { EventBus } from './ports/event-bus.js';
import type { JobQueue } from './ports/job-queue.js';
import type { RateLimiter } from './ports/rate-limiter.js';
import { buildJobRegistry } from './jobs/registry.js';
import type { JobRegistry } from './ports/job-queue.js';
import { ApiAuthService } from './services/api-auth.service.js';
import { FileManagementService } from './services/file-management.service.js';
import { EagerTransformService } from './services/eager-transform.service.js';
import { EventDispatcher } from './services/event-dispatcher.service.js';
import { RateLimitService } from './services/rate-limit.service.js';
import { WebhookService } from './services/webhook.service.js';
import { webhookRetryPolicy } from './jobs/catalogue.js';
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
import { DashboardSessionService } from './services/dashboard-session.service.js';
import { UsageService } from './services/usage.service.js';
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
  /** Null unless REDIS_URL is set. */
  redis: RedisConnection | null;
  jobs: JobQueue;
  jobRegistry: JobRegistry;
  dispatcher: EventDispatcher;
  events: EventBus;
  services: {
    apiAuth: ApiAuthService;
    rateLimits: RateLimitService;
    files: FileManagementService;
    webhooks: WebhookService;
    eager: EagerTransformService;
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
    usage: UsageService;
    dashboardSessions: DashboardSessionService;
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
  /** Replaces the rate limiter (tests that exhaust a budget). */
  rateLimiter?: RateLimiter;
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
  // Uploads and transformations bound libvips' header reads by the same frame and page count.
  const inspector = new BytesContentInspector({ maxSharpPages: config.transform.maxSourcePages });

  const metrics = new Metrics({ collectDefault: overrides.collectDefaultMetrics ?? true });
  // Redis is best effort: when it is away, locks and rate limits fail open and the node says so once.
  const redis = config.redisUrl
    ? new RedisConnection({
        url: config.redisUrl,
        onHealthChange: (change) => {
          if (change.state === 'down') logger.warn({ err: change.error?.message }, 'Redis unreachable: locks and rate limits fail open, other nodes miss cache evictions until it is back');
          else logger.info({}, change.previous === 'connecting' ? 'Redis connected' : 'Redis is back');
        },
        onCommandError: (report) => logger.warn({ operation: report.operation, err: report.error.message, suppressed: report.suppressed }, 'Redis command failed; working without it'),
      })
    : null;
  const events: EventBus = redis ? new RedisEventBus(redis) : cluster.isWorker ? new ClusterEventBus() : new MemoryEventBus();
  const rateLimiter: RateLimiter = overrides.rateLimiter ?? (redis ? new RedisRateLimiter(redis) : new MemoryRateLimiter());
  // While its service is away the queue reports every reconnect attempt: one line per 30 s is enough.
  let lastQueueError = 0;
  const onQueueError = (error: unknown) => {
    if (Date.now() - lastQueueError < 30_000) return;
    lastQueueError = Date.now();
    logger.warn({ err: error instanceof Error ? error.message : String(error) }, 'job queue error (repeats within 30 s are not logged)');
  };
  const jobs: JobQueue = config.redisUrl ? new BullMqJobQueue({ url: config.redisUrl, onError: onQueueError }) : metadata.createJobQueue({ onError: onQueueError });
  const rateLimits = new RateLimitService(rateLimiter, config.rateLimits);
  metrics.jobCounts = async () => ({ ...(await jobs.counts()) });
  const uploadAuth = new UploadAuthService(metadata.projects, clock, (projectId) => rateLimits.check(projectId, 'upload'));
  const ingest = new FileIngestService(blobs, inspector, metadata, clock, {
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
    overrides.locks ?? (redis ? new RedisLockService(redis) : cluster.isWorker ? new ClusterLockService() : new MemoryLockService()),
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
        maxSourcePages: config.transform.maxSourcePages,
        maxAnimationSourcePixels: config.transform.maxAnimationSourcePixels,
        timeoutMs: config.transform.timeoutMs,
      },
      maxSourceBytes: config.transform.maxSourceBytes,
      lockTtlMs: config.transform.timeoutMs * 2 + 10_000,
      waitTimeoutMs: config.transform.timeoutMs + 5_000,
      admitMiss: (projectId) => rateLimits.check(projectId, 'delivery-miss'),
    },
  );
  // Every process (and node, with Redis) drops a deleted file from its memory caches.
  events.subscribe((event) => {
    if (event.type === 'file.evicted') {
      delivery.evict(event.uuid);
      transform.forgetFromMemory(event.uuid);
    }
  });
  const evictEverywhere = async (uuid: string) => {
    delivery.evict(uuid);
    transform.forgetFromMemory(uuid);
    await events.publish({ type: 'file.evicted', uuid });
  };
  // An expired file leaves every process's memory too, not only the sweeping one's (the sweep runs in
  // one process of one node).
  const forgetFile = async (uuid: string) => {
    await transform.purge(uuid);
    await evictEverywhere(uuid);
  };
  const publicBases = {
    cdnBase: `${config.http.publicUrl ?? `http://localhost:${config.port}`}${config.http.deliveryPrefix}`,
    apiBase: `${config.http.publicUrl ?? `http://localhost:${config.port}`}${config.http.restPrefix}`,
  };
  const webhooks = new WebhookService(metadata.webhooks, jobs, fetcher, clock, {
    timeoutMs: config.webhooks.timeoutMs,
    bases: publicBases,
    retry: webhookRetryPolicy(config.webhooks.retryBaseMs),
  });
  // File events are written with each change (the outbox); the dispatcher turns them into webhook
  // deliveries and purge jobs right after the commit, and on a timer for whatever a crash left.
  const dispatcher: EventDispatcher = new EventDispatcher(metadata.outbox, metadata.projects, metadata.files, webhooks, () => files, logger);
  ingest.onCommitted(() => dispatcher.nudge());
  const files = new FileManagementService(metadata, blobs, inspector, jobs, delivery, transform, clock, () => dispatcher.nudge(), evictEverywhere, config.transform);
  const apiAuth = new ApiAuthService(metadata.projects, clock);
  const eager = new EagerTransformService(metadata.files, jobs, transform, config.transform);
  const jobRegistry = buildJobRegistry({ webhooks, files, eager }, config);
  const sweeper = new SweeperService(metadata, blobs, multipart, fromUrl, clock, forgetFile, logger, {
    putOlderThanMs: 6 * 3_600_000,
    multipartOlderThanMs: config.upload.multipartExpiryMs + 3_600_000,
  });

  const usage = new UsageService(metadata.usage, (projectId) => metadata.fileCounters.counts(projectId), clock, logger);
  if (config.roles.has('delivery')) usage.start();
  const dashboardSessions = new DashboardSessionService(metadata.projects, metadata.sessions, rateLimiter, clock, config.dashboard.adminPassword);

  const services: AppContext['services'] = {
    apiAuth,
    rateLimits,
    files,
    webhooks,
    eager,
    projects: new ProjectService(metadata.projects, () => {
      uploadAuth.forgetProjects();
      apiAuth.forgetProjects();
    }),
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
    usage,
    dashboardSessions,
  };

  return {
    config,
    clock,
    metrics,
    metadata,
    blobs,
    fetcher,
    redis,
    jobs,
    jobRegistry,
    dispatcher,
    events,
    services,
    scheduler,
    async close() {
      await sweeper.stop();
      await usage.stop();
      await dispatcher.stop();
      await jobs.stopWorker(10_000);
      await fromUrl.drain();
      await transform.drain();
      await jobs.close();
      await events.close();
      await redis?.close();
      await blobs.close();
      await metadata.close();
    },
  };
}
