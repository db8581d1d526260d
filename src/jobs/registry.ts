import type { JobRegistration, JobRegistry } from '../ports/job-queue.js';
import type { AddonService } from '../services/addon.service.js';
import type { CachePurgeService } from '../services/cache-purge.service.js';
import type { DocumentConversionService } from '../services/document-conversion.service.js';
import type { EagerTransformService } from '../services/eager-transform.service.js';
import type { FileManagementService } from '../services/file-management.service.js';
import type { FaceDetectionService } from '../services/face-detection.service.js';
import type { ImageAnalysisService } from '../services/image-analysis.service.js';
import type { VideoConversionService } from '../services/video-conversion.service.js';
import type { VideoStreamingService } from '../services/video-streaming.service.js';
import type { WebhookService } from '../services/webhook.service.js';
import { ADDON_EXECUTE_JOB, CDN_PURGE_JOB, DOCUMENT_CONVERT_JOB, EAGER_TRANSFORM_JOB, FACES_DETECT_JOB, FILE_PURGE_JOB, IMAGE_ANALYZE_JOB, JOB_NAMES, VIDEO_CONVERT_JOB, VIDEO_HLS_JOB, WEBHOOK_DELIVERY_JOB, type JobSettings } from './catalogue.js';
import { bindJob } from './typed-jobs.js';

/** The services whose methods handle jobs. */
interface JobHandlers {
  webhooks: WebhookService;
  files: FileManagementService;
  eager: EagerTransformService;
  addons: AddonService;
  cdnPurges: CachePurgeService;
  videos: VideoConversionService;
  streams: VideoStreamingService;
  analysis: ImageAnalysisService;
  faces: FaceDetectionService;
  documents: DocumentConversionService;
}

/** Binds every job of the catalogue to its handler. */
export function buildJobRegistry(services: JobHandlers, settings: JobSettings): JobRegistry {
  return checkRegistry([
    [WEBHOOK_DELIVERY_JOB.name, bindJob(WEBHOOK_DELIVERY_JOB, (job) => services.webhooks.deliver(job), settings)],
    [FILE_PURGE_JOB.name, bindJob(FILE_PURGE_JOB, (job) => services.files.purge(job), settings)],
    [EAGER_TRANSFORM_JOB.name, bindJob(EAGER_TRANSFORM_JOB, (job) => services.eager.run(job), settings)],
    [ADDON_EXECUTE_JOB.name, bindJob(ADDON_EXECUTE_JOB, (job) => services.addons.run(job), settings)],
    [CDN_PURGE_JOB.name, bindJob(CDN_PURGE_JOB, (job) => services.cdnPurges.run(job), settings)],
    [VIDEO_CONVERT_JOB.name, bindJob(VIDEO_CONVERT_JOB, (job) => services.videos.run(job), settings)],
    [VIDEO_HLS_JOB.name, bindJob(VIDEO_HLS_JOB, (job) => services.streams.run(job), settings)],
    [IMAGE_ANALYZE_JOB.name, bindJob(IMAGE_ANALYZE_JOB, (job) => services.analysis.run(job), settings)],
    [FACES_DETECT_JOB.name, bindJob(FACES_DETECT_JOB, (job) => services.faces.run(job), settings)],
    [DOCUMENT_CONVERT_JOB.name, bindJob(DOCUMENT_CONVERT_JOB, (job) => services.documents.run(job), settings)],
  ]);
}

/** A name of the catalogue without exactly one registration, or a registration outside it, stops Trove at start. */
export function checkRegistry(registrations: ReadonlyArray<readonly [string, JobRegistration]>): JobRegistry {
  const registry = new Map<string, JobRegistration>();
  for (const [name, registration] of registrations) {
    if (registry.has(name)) throw new Error(`Job "${name}" has two handlers.`);
    registry.set(name, registration);
  }
  for (const name of JOB_NAMES) {
    if (!registry.has(name)) throw new Error(`Job "${name}" has no handler.`);
  }
  for (const name of registry.keys()) {
    if (!JOB_NAMES.includes(name)) throw new Error(`Job "${name}" is registered but not in the job catalogue.`);
  }
  return registry;
}
