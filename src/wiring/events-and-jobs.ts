import type { FaceDetectionService } from '../services/face-detection.service.js';
import { VIDEO_ROLE_JOBS, type Role } from '../config/config.js';
import { DOCUMENT_LANE, VIDEO_LANE } from '../jobs/catalogue.js';
import { buildJobRegistry } from '../jobs/registry.js';
import type { JobRegistry } from '../ports/job-queue.js';
import { EventDispatcher } from '../services/event-dispatcher.service.js';
import type { OutboxSignal } from '../services/outbox-signal.js';
import { SweeperService } from '../services/sweeper.service.js';
import type { DocumentConversionService } from '../services/document-conversion.service.js';
import type { VideoConversionService } from '../services/video-conversion.service.js';
import type { VideoStreamingService } from '../services/video-streaming.service.js';
import type { Basics } from './basics.js';
import type { Coordination } from './coordination.js';
import type { Management } from './management.js';
import { KyselyConfigChangeLog } from '../adapters/db/config-replica.js';
import type { Storage } from './storage.js';
import type { Upload } from './upload.js';

/**
 * Work that happens after a request: file events turned into webhooks and purges, durable jobs, and
 * the sweep of expired files. Every subscription between services is made here, in one place.
 */
interface EventsAndJobs {
  dispatcher: EventDispatcher;
  jobRegistry: JobRegistry;
  sweeper: SweeperService;
  /** Starts the outbox dispatcher's timer and the job worker; rejects when a job has no handler. */
  startJobs(options: { dispatchIntervalMs: number }): Promise<void>;
  /** Sweeps at once, then at the configured sweep interval. */
  startSweeper(): void;
  /** Stops the timers, then lets running jobs finish (10 s at most). */
  close(): Promise<void>;
}

/**
 * The jobs a process takes: video conversions with the `video` role, every other job with `worker`.
 * The queue leaves a job no registration names to the processes that have one.
 */
function jobsOfRoles(registry: JobRegistry, roles: ReadonlySet<Role>): JobRegistry {
  return new Map([...registry].filter(([name]) => (VIDEO_ROLE_JOBS.includes(name) ? roles.has('video') : roles.has('worker'))));
}

export function createEventsAndJobs(
  basics: Basics,
  storage: Pick<Storage, 'metadata' | 'config' | 'shards' | 'blobs'>,
  coordination: Pick<Coordination, 'events' | 'jobs'>,
  outbox: OutboxSignal,
  upload: Pick<Upload, 'multipart' | 'fromUrl' | 'groups'>,
  management: Pick<Management, 'files' | 'webhooks' | 'eager' | 'caches' | 'addons' | 'cdnPurges' | 'analysis'>,
  videos: VideoConversionService,
  streams: VideoStreamingService,
  faces: FaceDetectionService,
  documents: DocumentConversionService,
): EventsAndJobs {
  const { config, clock, logger } = basics;
  const { shards } = storage;
  const { events, jobs } = coordination;
  const { files, caches, cdnPurges } = management;

  // File events are written with each change (the outbox); the dispatcher turns them into webhook
  // deliveries and purge jobs right after the commit, and on a timer for whatever a crash left.
  const dispatcher = new EventDispatcher(shards, storage.config.projects, management.webhooks, logger);
  outbox.subscribe(() => dispatcher.nudge());
  dispatcher.on('file.deleted', (file) => files.enqueuePurge(file));
  // What a deleted or infected file served leaves the shield and CDNs: one purge per pass of the
  // outbox, so a batch delete is one purge (split to each provider's request limit).
  dispatcher.onBatch(['file.deleted', 'file.infected'], (removed) => cdnPurges.purgeFiles(removed.map((file) => file.uuid)));
  // Groups have no events: their deletion queues the purge itself (best effort: the group is gone already).
  upload.groups.onRemoved((groupId) =>
    cdnPurges.purgeGroup(groupId).catch((error: unknown) => {
      logger.warn({ groupId, err: error instanceof Error ? error.message : String(error) }, 'the purge of a deleted group could not be queued');
    }),
  );
  // A project that scans uploads holds each new file until its scan, queued from its upload event so no upload escapes it.
  dispatcher.on('file.uploaded', (file) => management.addons.queueUploadScan(file));
  // Every new image is analysed once in the background (placeholders, colours, perceptual hash).
  dispatcher.on('file.uploaded', (file) => management.analysis.queueForUpload(file));
  dispatcher.on('file.uploaded', (file) => faces.queueForUpload(file));

  // Every process (and node, with Redis) drops changed files and projects from its memory caches.
  events.subscribe((event) => caches.apply(event));
  // A project's shard may have changed (its move switched): every process asks the main database again.
  events.subscribe((event) => {
    if (event.type === 'project.changed') shards.forget(event.projectId);
  });

  const jobRegistry = buildJobRegistry({ webhooks: management.webhooks, files, eager: management.eager, addons: management.addons, cdnPurges, videos, streams, analysis: management.analysis, faces, documents }, config);
  // An expired file leaves every process's memory first, then its purge is queued: both before its
  // row goes, so a crash in between sweeps (and purges) it again.
  const forgetExpired = async (uuid: string) => {
    await caches.forgetExpiredFile(uuid);
    await cdnPurges.purgeFiles([uuid]);
  };
  const sweeper = new SweeperService(shards, storage.blobs, upload.multipart, upload.fromUrl, clock, forgetExpired, logger, {
    putOlderThanMs: 6 * 3_600_000,
    multipartOlderThanMs: config.upload.multipartExpiryMs + 3_600_000,
  }, { log: new KyselyConfigChangeLog(storage.metadata.db), retentionMs: config.region.logRetentionMs });

  return {
    dispatcher,
    jobRegistry,
    sweeper,
    startJobs({ dispatchIntervalMs }) {
      if (config.roles.has('worker')) dispatcher.start(dispatchIntervalMs);
      const taken = jobsOfRoles(jobRegistry, config.roles);
      // Video and document jobs lease no more than the process has slots for them; the rest wait for another node.
      const lanes = new Map([
        [VIDEO_LANE, config.video.concurrency],
        [DOCUMENT_LANE, config.documents.concurrency],
      ]);
      return taken.size > 0 ? jobs.startWorker(taken, { concurrency: config.jobs.concurrency, lanes }) : Promise.resolve();
    },
    startSweeper() {
      sweeper.start(config.upload.sweepIntervalMs);
      void sweeper.sweep().catch(() => undefined);
    },
    async close() {
      await sweeper.stop();
      await dispatcher.stop();
      await jobs.stopWorker(10_000);
    },
  };
}
