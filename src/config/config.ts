import type { FaceModel } from '../domain/faces.js';

import type { VideoLimits } from '../domain/video-info.js';
import type { PurgeConfig } from './purge-settings.js';

export const ROLES = ['upload', 'api', 'delivery', 'worker', 'video', 'transform'] as const;
export type Role = (typeof ROLES)[number];

/**
 * What a process serves when no roles are given: everything but `transform`, whose only route is the
 * internal transformation endpoint other nodes call (an all-in-one process transforms in process).
 */
export const DEFAULT_ROLES: readonly Role[] = ['upload', 'api', 'delivery', 'worker', 'video'];

/** The jobs only processes with the `video` role take; the `worker` role takes every other job. */
export const VIDEO_ROLE_JOBS: readonly string[] = ['video.convert', 'video.hls'];

/** Whether a process with these roles takes any job from the queue. */
export function runsJobs(roles: ReadonlySet<Role>): boolean {
  return roles.has('worker') || roles.has('video');
}

/** A process with the transform role alone opens no database: it reads originals and runs the engine. */
export function transformsOnly(roles: ReadonlySet<Role>): boolean {
  return roles.size === 1 && roles.has('transform');
}

export type DatabaseConfig =
  | { kind: 'sqlite'; path: string }
  | { kind: 'postgres'; url: string; poolSize: number };

export interface S3Credentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
}

export type StorageConfig =
  | { kind: 'fs'; root: string }
  | {
      kind: 's3';
      bucket: string;
      prefix: string;
      endpoint: string | undefined;
      region: string;
      forcePathStyle: boolean;
      credentials: S3Credentials | undefined;
      requestChecksum: 'when_supported' | 'when_required';
    };

export interface Config {
  port: number;
  host: string;
  dataDir: string;
  roles: ReadonlySet<Role>;
  /** HTTP processes sharing the port; 1 runs everything in one process. */
  workers: number;
  logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
  database: DatabaseConfig;
  shards: {
    /** Shards from TROVE_SHARDS; those added by `trove shards add` are read from the main database. */
    configured: Array<{ name: string; database: DatabaseConfig; region: string | null }>;
    /** Connections each PostgreSQL shard may open per process. */
    poolSize: number;
    /** How long a process trusts what it read of a project's shard before asking the main database again. */
    cacheTtlMs: number;
  };
  storage: StorageConfig;
  region: {
    /** The region this node serves in. */
    name: string;
    /** The region of STORAGE_URL and the main database: new projects go there unless told otherwise. */
    defaultName: string;
    /** The other regions (TROVE_REGIONS), each with its own storage. */
    others: ReadonlyMap<string, StorageConfig>;
    /** The region's own copy of the configuration; null: the node reads the main database directly. */
    configCopy: DatabaseConfig | null;
    /** How often the region's syncer reads the change log. */
    syncIntervalMs: number;
    /** Changes taken from the front of the log per pass (a bulk change goes through in passes of this size). */
    syncBatch: number;
    /** How long the main database keeps its configuration change log. */
    logRetentionMs: number;
  };
  http: {
    /** Absolute base URL clients reach Trove at; null: derived from each request's Host. */
    publicUrl: string | null;
    uploadPrefix: string;
    deliveryPrefix: string;
    /** Where the REST API answers; '' (root) is what Uploadcare's SDKs require, as they drop any path of their base URL. */
    restPrefix: string;
    trustProxy: boolean;
    corsOrigins: string[] | '*';
  };
  bootstrap: { publicKey: string | null; secretKey: string | null };
  dashboard: {
    /** Signs the dashboard in to every project; null: only projects' own keys sign in. */
    adminPassword: string | null;
  };
  upload: {
    maxDirectUploadSize: number;
    maxFileSize: number;
    maxFilesPerRequest: number;
    multipartMinFileSize: number;
    multipartMinPartSize: number;
    multipartMaxPartSize: number;
    multipartExpiryMs: number;
    unstoredFileTtlMs: number;
    sweepIntervalMs: number;
    maxGroupFiles: number;
  };
  delivery: {
    originalCacheBytes: number;
    originalCacheMaxEntryBytes: number;
    /** Memory for the originals transformations read, so a hot image's many sizes read it once. */
    sourceCacheBytes: number;
    sourceCacheMaxEntryBytes: number;
  };
  transform: {
    /** Transformations running at once in this process. */
    concurrency: number;
    maxQueuedPerProject: number;
    /** How often a process renews its slots' registration in the cluster's slot ledger; it drops out after three missed renewals. */
    slotHeartbeatMs: number;
    /** How soon work refused for being over its project's cluster-wide share is offered again without a notice. */
    slotRetryMs: number;
    maxSourcePixels: number;
    maxSourceBytes: number;
    maxOutputDimension: number;
    maxAnimationPixels: number;
    /** Frames or pages a source may have at all: GIF/WebP frames, TIFF pages, HEIF/AVIF sequence frames. */
    maxSourcePages: number;
    /** Animated sources kept animated: frames × source pixels per frame decoded. */
    maxAnimationSourcePixels: number;
    timeoutMs: number;
    maxOperations: number;
    maxUrlLength: number;
    cacheBytes: number;
    cacheMaxEntryBytes: number;
    avifEffort: number;
    /** Memory per process for decoded half-size copies of large originals (responsive sets); 0 (default): off. */
    intermediateCacheBytes: number;
    /** Originals with fewer pixels are decoded directly for every width. */
    intermediateMinSourcePixels: number;
  };
  /** The separate transform tier. */
  transformTier: {
    /** Origins of the transform nodes misses are sent to (`http://10.0.0.5:3000`); empty: transform in this process. */
    nodes: string[];
    /** Signs jobs sent to transform nodes and checks jobs received (transform role); null: neither happens. */
    internalSecret: string | null;
  };
  /** Redis for locks, rate limits, events and jobs shared by every node; null: all in process. */
  redisUrl: string | null;
  rateLimits: Record<'rest-read' | 'rest-write' | 'upload' | 'delivery-miss', { perSecond: number; burst: number } | null>;
  /** What the process was started with for its C allocator (read by glibc, not by Trove: reported at start). */
  allocator: {
    mallocArenaMax: string | null;
    ldPreload: string | null;
  };
  jobs: {
    /** Jobs running at once in each worker process. */
    concurrency: number;
  };
  webhooks: {
    timeoutMs: number;
    /** Delay before a failed delivery's second attempt; it doubles for each further one. */
    retryBaseMs: number;
  };
  addons: {
    /** The clamd `uc_clamav_virus_scan` runs on; null: that add-on is unavailable on this server. */
    clamd: {
      address: { kind: 'tcp'; host: string; port: number } | { kind: 'unix'; path: string };
      /** Deadline of one exchange with clamd, a whole file's scan included. */
      timeoutMs: number;
      /** clamd's StreamMaxLength: larger files are not sent and their scan ends in an error. */
      maxStreamBytes: number;
    } | null;
  };
  video: {
    ffmpegPath: string;
    ffprobePath: string;
    /** Deadline of one ffprobe run at upload. */
    probeTimeoutMs: number;
    /** Deadline of one conversion (its ffmpeg runs together). */
    transcodeTimeoutMs: number;
    /** Conversions running at once in a worker process. */
    concurrency: number;
    /** Bounds checked from the probe before any transcode. */
    limits: VideoLimits;
  };
  faces: {
    /** The detector: `off` runs none (face operations answer 503). */
    model: FaceModel;
    /** Deadline of one image in the detector's worker thread. */
    timeoutMs: number;
    /** Images a detector worker serves before it is replaced (bounds its memory). */
    recycleAfter: number;
  };
  documents: {
    /** Document conversions running at once in a worker process (the `document` lane). */
    concurrency: number;
    /** Deadline of drawing one PDF page. */
    timeoutMs: number;
    /** Most pages of a PDF Trove draws or converts. */
    maxPages: number;
    /** Most pixels of one drawn page, checked from its size before drawing. */
    maxPagePixels: number;
    libreOfficePath: string;
    /** Deadline of one LibreOffice run. */
    libreOfficeTimeoutMs: number;
    /** PATH given to LibreOffice (the process's own), where `soffice` and its helpers are found. */
    programSearchPath: string;
  };
  storages: {
    /** Seals the credentials of project storages (remote copies); null: storages cannot be registered. */
    credentialsKey: Buffer | null;
  };
  /** The caches in front of Trove that deletions purge; every provider null: no purges are queued. */
  purge: PurgeConfig;
  fetch: {
    /** Also opens project storage endpoints on private addresses. */
    allowPrivate: boolean;
    timeoutMs: number;
    maxRedirects: number;
    maxBytes: number;
    concurrency: number;
  };
}
