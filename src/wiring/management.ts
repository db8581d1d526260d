import { SharpImageAnalyzer } from '../adapters/image/sharp.image-analyzer.js';
import { ClamdScanner } from '../adapters/scan/clamd-scanner.js';
import { AddonService } from '../services/addon.service.js';
import { ApiAuthService } from '../services/api-auth.service.js';
import { CacheInvalidationService } from '../services/cache-invalidation.service.js';
import { CachePurgeService } from '../services/cache-purge.service.js';
import { DashboardSessionService } from '../services/dashboard-session.service.js';
import { EagerTransformService } from '../services/eager-transform.service.js';
import { FileManagementService } from '../services/file-management.service.js';
import { FileSearchService } from '../services/file-search.service.js';
import { ImageAnalysisService } from '../services/image-analysis.service.js';
import type { OutboxSignal } from '../services/outbox-signal.js';
import { ProjectService } from '../services/project.service.js';
import type { ProjectStorageService } from '../services/project-storage.service.js';
import { RemoteCopyService } from '../services/remote-copy.service.js';
import type { UploadAuthService } from '../services/upload-auth.service.js';
import { UsageService } from '../services/usage.service.js';
import { WebhookService } from '../services/webhook.service.js';
import { webhookRetryPolicy } from '../jobs/catalogue.js';
import type { Basics } from './basics.js';
import type { Coordination } from './coordination.js';
import type { Delivery } from './delivery.js';
import { regionNames, type Storage } from './storage.js';
import { createPurgeTargets } from './purge.js';
import { ShardPlacementService } from '../services/shard-placement.service.js';
import { ProjectBlobCopy } from '../services/project-blob-copy.js';
import { KyselyConfigCopies } from '../adapters/db/config-replica.js';
import { ProjectMoveService } from '../services/project-move.service.js';
import { KyselyProjectRowCopier } from '../adapters/db/project-rows.js';
import { createProjectStorages } from './storages.js';

/** The REST API's and dashboard's services: projects and their keys, files, webhooks, usage, sign-in. */
export interface Management {
  apiAuth: ApiAuthService;
  /** Drops changed files and projects from the memory caches of every process. */
  caches: CacheInvalidationService;
  /** Queues purges of the shield and CDNs (TROVE_PURGE_*) and runs them. */
  cdnPurges: CachePurgeService;
  files: FileManagementService;
  /** `POST /files/search/`. */
  search: FileSearchService;
  /** The shard map with each shard's load, and where new projects go. */
  placement: ShardPlacementService;
  /** Moves of projects between shards. */
  moves: ProjectMoveService;
  projects: ProjectService;
  webhooks: WebhookService;
  eager: EagerTransformService;
  usage: UsageService;
  dashboardSessions: DashboardSessionService;
  /** Add-ons; ClamAV's scans on the clamd of TROVE_CLAMD_URL. */
  addons: AddonService;
  /** Storages projects register as remote copy targets (Trove extension). */
  storages: ProjectStorageService;
  remoteCopy: RemoteCopyService;
  /** Image analysis after upload (`image.analyze`), its appdata and `similar_to`. */
  analysis: ImageAnalysisService;
  /** Writes the usage counted in memory. */
  close(): Promise<void>;
}

export function createManagement(
  basics: Basics,
  storage: Pick<Storage, 'metadata' | 'config' | 'shards' | 'blobs' | 'inspector' | 'fetcher'>,
  coordination: Pick<Coordination, 'events' | 'jobs' | 'rateLimiter'>,
  uploadAuth: UploadAuthService,
  delivery: Pick<Delivery, 'delivery' | 'transform'>,
  outbox: OutboxSignal,
): Management {
  const { config, clock, logger, metrics } = basics;
  const { metadata, shards } = storage;
  const purgeTargets = createPurgeTargets(config.purge);
  const cdnPurges = new CachePurgeService(
    coordination.jobs,
    purgeTargets.targets,
    coordination.rateLimiter,
    {
      queued: (provider, jobs) => metrics.cachePurgesQueued.inc({ provider }, jobs),
      finished: (provider, outcome, seconds) => {
        metrics.cachePurges.inc({ provider, outcome });
        if (outcome === 'purged' || outcome === 'failed') metrics.cachePurgeSeconds.observe({ provider }, seconds);
      },
    },
    logger,
    { deliveryPrefix: config.http.deliveryPrefix },
  );
  // Keys and settings are read from the region's copy of the configuration (the main database without one).
  const apiAuth = new ApiAuthService(storage.config.projects, clock);
  const rowCopier = new KyselyProjectRowCopier(shards);
  const placement = new ShardPlacementService(shards, shards, metadata.projects, regionNames(config));
  const caches = new CacheInvalidationService(coordination.events, delivery, { uploadAuth, apiAuth });
  const files = new FileManagementService(
    shards,
    storage.blobs,
    storage.inspector,
    coordination.jobs,
    delivery.delivery,
    delivery.transform,
    clock,
    outbox,
    caches,
    config.transform,
  );
  const origin = config.http.publicUrl ?? `http://localhost:${config.port}`;
  const webhooks = new WebhookService(shards, coordination.jobs, storage.fetcher, clock, {
    timeoutMs: config.webhooks.timeoutMs,
    bases: { cdnBase: `${origin}${config.http.deliveryPrefix}`, apiBase: `${origin}${config.http.restPrefix}` },
    retry: webhookRetryPolicy(config.webhooks.retryBaseMs),
  });
  const scanner = config.addons.clamd ? new ClamdScanner(config.addons.clamd) : null;
  const addons = new AddonService(shards, storage.config.projects, storage.blobs, coordination.jobs, scanner, files, caches, outbox, clock, logger);
  const storages = createProjectStorages(config, metadata.storages, clock);
  const remoteCopy = new RemoteCopyService(shards, storages, delivery.delivery, delivery.transform, clock, config.transform);
  const analysis = new ImageAnalysisService(shards, storage.blobs, coordination.jobs, new SharpImageAnalyzer(), clock, logger, {
    maxSourcePixels: config.transform.maxSourcePixels,
    maxSourceBytes: config.transform.maxSourceBytes,
    timeoutMs: config.transform.timeoutMs,
  });
  const search = new FileSearchService(shards, clock, logger);
  if (config.roles.has('api')) void search.checkFuzziness();
  const usage = new UsageService(shards, clock, logger);
  if (config.roles.has('delivery')) usage.start();
  return {
    apiAuth,
    caches,
    cdnPurges,
    files,
    search,
    placement,
    moves: new ProjectMoveService(metadata.projects, metadata.moves, rowCopier, shards, caches, clock, { shardCacheTtlMs: config.shards.cacheTtlMs }, new ProjectBlobCopy(storage.blobs, rowCopier), new KyselyConfigCopies(metadata.db)),
    projects: new ProjectService(metadata.projects, placement, caches),
    webhooks,
    eager: new EagerTransformService(shards, coordination.jobs, delivery.transform, config.transform),
    usage,
    dashboardSessions: new DashboardSessionService(metadata.projects, metadata.sessions, coordination.rateLimiter, clock, config.dashboard.adminPassword),
    addons,
    storages,
    remoteCopy,
    analysis,
    async close() {
      await usage.stop();
      purgeTargets.close();
    },
  };
}
