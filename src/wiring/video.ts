import path from 'node:path';
import { FsBlobStore } from '../adapters/blob/fs.blob-store.js';
import { RegionalBlobStore } from '../adapters/blob/regional.blob-store.js';
import { FfmpegVideoEngine } from '../adapters/video/ffmpeg.video-engine.js';
import { CopiedMedia, InPlaceMedia, InPlaceWhenLocalMedia } from '../adapters/video/local-media.js';
import type { Config } from '../config/config.js';
import type { BlobStore } from '../ports/blob-store.js';
import { MemorySlotLedger } from '../adapters/slots/memory.slot-ledger.js';
import type { JobQueue } from '../ports/job-queue.js';
import type { VideoEngine } from '../ports/video-engine.js';
import type { FileIngestService } from '../services/file-ingest.service.js';
import { FairScheduler } from '../services/transform/fair-scheduler.js';
import { VideoConversionService } from '../services/video-conversion.service.js';
import type { DeliveryService } from '../services/delivery.service.js';
import { VideoStreamingService } from '../services/video-streaming.service.js';
import type { Storage } from './storage.js';
import { VIDEO_HLS_JOB } from '../jobs/catalogue.js';
import { HLS_RETRY } from '../domain/hls-retry.js';
import type { Basics } from './basics.js';

/** How long past a lost job's lease its redelivery has to mark its attempt started, before a request replaces it. */
const LOST_JOB_MARGIN_MS = 10 * 60_000;

/** Far more JSON than TROVE_VIDEO_MAX_STREAMS streams can print. */
const MAX_PROBE_OUTPUT_BYTES = 1024 * 1024;

/**
 * The video engine over the blob store: ffmpeg reads the filesystem store's files in place, and a
 * copy in `DATA_DIR/video-scratch` of an S3 object.
 */
export function createVideoEngine(config: Config, blobs: BlobStore): VideoEngine {
  const copied = new CopiedMedia(blobs, path.join(config.dataDir, 'video-scratch'));
  const media =
    blobs instanceof FsBlobStore
      ? new InPlaceMedia((key) => blobs.localPath(key))
      : blobs instanceof RegionalBlobStore
        ? new InPlaceWhenLocalMedia((key) => blobs.localPath(key), copied)
        : copied;
  return new FfmpegVideoEngine(media, {
    ffmpegPath: config.video.ffmpegPath,
    ffprobePath: config.video.ffprobePath,
    probeTimeoutMs: config.video.probeTimeoutMs,
    maxProbeOutputBytes: MAX_PROBE_OUTPUT_BYTES,
    maxStreams: config.video.limits.maxStreams,
    transcodeTimeoutMs: config.video.transcodeTimeoutMs,
    scratchDir: path.join(config.dataDir, 'video-scratch'),
    threads: 2,
    probeConcurrency: 4,
  });
}

interface VideoConversions {
  service: VideoConversionService;
  /** `/:uuid/hls/`: HLS ladders made by jobs in the same video slots. */
  streams: VideoStreamingService;
  scheduler: FairScheduler;
  close(): Promise<void>;
}

/**
 * Conversions run as jobs on the worker role, through their own fair scheduler: its slots
 * (`TROVE_VIDEO_CONCURRENCY`) are apart from image transformations', and projects take turns for them.
 */
export function createVideoConversions(
  basics: Basics,
  storage: Pick<Storage, 'config' | 'shards' | 'blobs'>,
  jobs: JobQueue,
  engine: VideoEngine,
  ingest: FileIngestService,
  delivery: DeliveryService,
): VideoConversions {
  const { config, clock, logger } = basics;
  const slots = config.video.concurrency;
  const scheduler = new FairScheduler(
    // Nothing is refused for a full queue: waiting conversions are jobs, bounded by the job worker's concurrency.
    { concurrency: slots, maxQueuedPerProject: 100_000, idleProjectBurst: 0 },
    new MemorySlotLedger({ slots, nodeTtlMs: 60_000 }),
  );
  const service = new VideoConversionService(storage.shards, storage.config.projects, jobs, engine, ingest, scheduler, clock, { limits: config.video.limits, maxPaths: 100 }, logger);
  const streams = new VideoStreamingService(
    delivery,
    storage.shards,
    storage.blobs,
    jobs,
    engine,
    scheduler,
    clock,
    // A job lost with its worker is taken again after its visibility timeout and marks its attempt
    // started anew; only a state older than that and a margin is a lost attempt a request replaces.
    { limits: config.video.limits, staleAfterMs: VIDEO_HLS_JOB.policy(config).visibilityTimeoutMs + LOST_JOB_MARGIN_MS, retry: HLS_RETRY },
    logger,
  );
  return { service, streams, scheduler, close: () => scheduler.close() };
}
