import type { Config } from './config/config.js';
import type { HttpContext, HttpServices, NodeHttpContext } from './http/http-context.js';
import { Metrics } from './observability/metrics.js';
import type { BlobStore } from './ports/blob-store.js';
import type { EventBus } from './ports/event-bus.js';
import type { GuardedFetcher } from './ports/fetcher.js';
import type { JobQueue, JobRegistry } from './ports/job-queue.js';
import type { LockService } from './ports/lock-service.js';
import type { RateLimiter } from './ports/rate-limiter.js';
import type { MainStore, ShardAdmin, ShardResolver } from './ports/shards.js';
import type { CacheInvalidationService } from './services/cache-invalidation.service.js';
import { systemClock, type Clock } from './lib/clock.js';
import type { EventDispatcher } from './services/event-dispatcher.service.js';
import type { FileIngestService } from './services/file-ingest.service.js';
import { OutboxSignal } from './services/outbox-signal.js';
import type { ReadinessProbe } from './services/readiness.service.js';
import type { SweeperService } from './services/sweeper.service.js';
import type { FairScheduler } from './services/transform/fair-scheduler.js';
import type { UploadAuthService } from './services/upload-auth.service.js';
import { silentLogger, type Basics, type ServiceLogger } from './wiring/basics.js';
import { connectRedis, createCoordination, openSlotLedger } from './wiring/coordination.js';
import { createDelivery } from './wiring/delivery.js';
import { createEventsAndJobs } from './wiring/events-and-jobs.js';
import { createFaces } from './wiring/faces.js';
import { createManagement } from './wiring/management.js';
import { createReadiness } from './wiring/readiness.js';
import { createStorage, openBlobStore } from './wiring/storage.js';
import { createTransformNode } from './wiring/transform-node.js';
import { createUpload } from './wiring/upload.js';
import { createVideoConversions, createVideoEngine } from './wiring/video.js';
import { createDocumentConversions } from './wiring/documents.js';
import { createConfigSync } from './wiring/config-sync.js';
import type { ConfigSyncService } from './services/config-sync.service.js';
import { ReadinessService } from './services/readiness.service.js';
import type { ShardPlacementService } from './services/shard-placement.service.js';
import type { ProjectMoveService } from './services/project-move.service.js';

/** A whole Trove process: its services, the adapters under them, and its background work. */
export interface Trove {
  config: Config;
  clock: Clock;
  metrics: Metrics;
  /** The main database: projects, keys, settings, sessions (a project's files are on its shard). */
  metadata: MainStore;
  /** The shards: `forProject` is the one way to a project's files; `fanOut` visits every shard. */
  shards: ShardResolver & ShardAdmin;
  blobs: BlobStore;
  fetcher: GuardedFetcher;
  events: EventBus;
  jobs: JobQueue;
  jobRegistry: JobRegistry;
  dispatcher: EventDispatcher;
  scheduler: FairScheduler;
  readiness: ReadinessProbe;
  /** The region's configuration syncer (with TROVE_REGION_CONFIG_URL; run by worker processes). */
  configSync: ConfigSyncService | null;
  services: HttpServices & {
    uploadAuth: UploadAuthService;
    ingest: FileIngestService;
    caches: CacheInvalidationService;
    sweeper: SweeperService;
    placement: ShardPlacementService;
    moves: ProjectMoveService;
  };
  /** What `buildApp` takes: the route-facing services only. */
  http: HttpContext;
  /** Starts the outbox dispatcher's timer (worker role) and the job worker for the jobs of the process's roles (worker, video); rejects when a job has no handler. */
  startJobs(options: { dispatchIntervalMs: number }): Promise<void>;
  /** Sweeps expired files and stale writes at once and then periodically (worker role). */
  startSweeper(): void;
  /** Stops background work, lets work in flight finish, then closes connections, in reverse order of creation. */
  close(): Promise<void>;
}

interface ContextOverrides {
  clock?: Clock;
  logger?: ServiceLogger;
  /** Tests build many contexts in one process; default process metrics would register twice. */
  collectDefaultMetrics?: boolean;
  /** Replaces the lock service (tests of single-flight across processes). */
  locks?: LockService;
  /** Replaces the rate limiter (tests that exhaust a budget). */
  rateLimiter?: RateLimiter;
}

/** The composition root: turns configuration into adapters and services, one area at a time (see src/wiring). */
export async function createTrove(config: Config, overrides: ContextOverrides = {}): Promise<Trove> {
  const storage = await createStorage(config);
  const basics: Basics = {
    config,
    clock: overrides.clock ?? systemClock,
    logger: overrides.logger ?? silentLogger,
    metrics: new Metrics({ collectDefault: overrides.collectDefaultMetrics ?? true }),
  };
  const coordination = createCoordination(basics, storage.metadata, overrides);
  const outbox = new OutboxSignal();
  const video = createVideoEngine(config, storage.blobs);
  const upload = createUpload(basics, storage, coordination.rateLimits, outbox, video);
  const faces = createFaces(basics, storage, coordination);
  const delivery = createDelivery(basics, storage, coordination.locks, coordination.rateLimits, coordination.slots, video, faces.service);
  const management = createManagement(basics, storage, coordination, upload.uploadAuth, delivery, outbox);
  const videos = createVideoConversions(basics, storage, coordination.jobs, video, upload.ingest, delivery.delivery);
  const documents = createDocumentConversions(basics, storage, coordination.jobs, upload.ingest);
  const background = createEventsAndJobs(basics, storage, coordination, outbox, upload, management, videos.service, videos.streams, faces.service, documents.service);
  const configSync = createConfigSync(basics, storage, management.caches);
  const readiness = createReadiness(storage, coordination, (timeoutMs) => management.addons.readiness(timeoutMs), () => video.status(), () => faces.status());

  const services: HttpServices = {
    directUpload: upload.directUpload,
    multipart: upload.multipart,
    fromUrl: upload.fromUrl,
    groups: upload.groups,
    fileInfo: upload.fileInfo,
    apiAuth: management.apiAuth,
    rateLimits: coordination.rateLimits,
    files: management.files,
    search: management.search,
    webhooks: management.webhooks,
    eager: management.eager,
    projects: management.projects,
    regions: management.placement,
    usage: management.usage,
    dashboardSessions: management.dashboardSessions,
    addons: management.addons,
    storages: management.storages,
    remoteCopy: management.remoteCopy,
    analysis: management.analysis,
    videos: videos.service,
    documents: documents.service,
    streams: videos.streams,
    delivery: delivery.delivery,
    transform: delivery.transform,
    gifVideo: delivery.gifVideo,
    faces: faces.service,
  };

  return {
    config,
    clock: basics.clock,
    metrics: basics.metrics,
    metadata: storage.metadata,
    shards: storage.shards,
    blobs: storage.blobs,
    fetcher: storage.fetcher,
    events: coordination.events,
    jobs: coordination.jobs,
    jobRegistry: background.jobRegistry,
    dispatcher: background.dispatcher,
    scheduler: delivery.scheduler,
    readiness,
    services: { ...services, uploadAuth: upload.uploadAuth, ingest: upload.ingest, caches: management.caches, sweeper: background.sweeper, placement: management.placement, moves: management.moves },
    http: { config, metrics: basics.metrics, services, readiness, transformNode: delivery.transformNode },
    async startJobs(options) {
      if (config.roles.has('worker')) configSync?.start();
      await background.startJobs(options);
    },
    startSweeper: () => background.startSweeper(),
    configSync,
    async close() {
      await configSync?.stop();
      await background.close();
      await videos.close();
      await documents.close();
      await management.close();
      await delivery.close();
      await faces.close();
      await upload.close();
      await coordination.close();
      await storage.close();
    },
  };
}

/** A transform-only process (`TROVE_ROLES=transform`): no database, no Redis, no services but the endpoint. */
export interface TransformNode {
  config: Config;
  metrics: Metrics;
  blobs: BlobStore;
  scheduler: FairScheduler;
  /** What `buildApp` takes: `/health`, `/ready` (the blob store), `/metrics` and the endpoint. */
  http: NodeHttpContext;
  close(): Promise<void>;
}

/**
 * The composition root of a transform-only process: basics, the blob store, the engine, the
 * scheduler and the local runner behind the endpoint. It opens no database (nothing is created in
 * DATA_DIR) and no job queue; its only outbound connections go to the blob store, and to Redis for
 * the slot ledger when REDIS_URL is set.
 */
export function createTransformNodeContext(config: Config, overrides: Pick<ContextOverrides, 'clock' | 'logger' | 'collectDefaultMetrics'> = {}): TransformNode {
  const basics: Basics = {
    config,
    clock: overrides.clock ?? systemClock,
    logger: overrides.logger ?? silentLogger,
    metrics: new Metrics({ collectDefault: overrides.collectDefaultMetrics ?? true }),
  };
  const blobs = openBlobStore(config);
  // With REDIS_URL the node's slots join the cluster's ledger, so each project's share counts every transform node.
  const redis = config.redisUrl ? connectRedis(config.redisUrl, basics.logger) : null;
  const tier = createTransformNode(basics, blobs, openSlotLedger(basics, redis));
  const readiness = new ReadinessService([{ name: 'storage', required: true, ping: () => blobs.ping() }], 2_000);
  return {
    config,
    metrics: basics.metrics,
    blobs,
    scheduler: tier.scheduler,
    http: { config, metrics: basics.metrics, readiness, transformNode: tier.node },
    async close() {
      await tier.close();
      await redis?.close();
      await blobs.close();
    },
  };
}
