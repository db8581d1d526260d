import { type Box, faceDetectionVersion, type FaceSet, type StoredFaces } from '../domain/faces.js';
import type { ImageInfo } from '../domain/content-info.js';
import type { StoredFile } from '../domain/file.js';
import { createAppError } from '../errors.js';
import { FACES_DETECT_JOB, type FacesDetectPayload } from '../jobs/catalogue.js';
import { enqueueJob } from '../jobs/typed-jobs.js';
import type { Clock } from '../lib/clock.js';
import { readStream } from '../lib/read-stream.js';
import type { BlobStore } from '../ports/blob-store.js';
import { FaceDetectionError, type FaceDetector, type FaceDetectorStatus } from '../ports/face-detector.js';
import type { JobQueue, RunningJob } from '../ports/job-queue.js';
import type { LockService } from '../ports/lock-service.js';
import type { ShardResolver } from '../ports/shards.js';

interface FaceLogger {
  info(object: Record<string, unknown>, message: string): void;
  warn(object: Record<string, unknown>, message: string): void;
}

/** The limits a detection respects: those of transformations, so nothing is decoded here that delivery would refuse. */
interface FaceLimits {
  maxSourcePixels: number;
  maxSourcePages: number;
  maxSourceBytes: number;
  /** How long one detection may hold its lock (the detector's deadline, its start and the read); others wait at most that. */
  lockTtlMs: number;
}

/**
 * `/:uuid/detect_faces/`: Uploadcare documents it as the `-/json/` answer plus `faces`, boxes as
 * `[x, y, width, height]` in the pixels of the image as shown (EXIF orientation applied).
 */
type DetectFacesAnswer = { id: string; width: number; height: number; faces: [number, number, number, number][] } & Partial<
  Pick<ImageInfo, 'format' | 'color_mode' | 'orientation' | 'dpi' | 'geo_location' | 'datetime_original' | 'sequence'>
>;

/**
 * Faces, detected once per image file and kept (`face_detections`): in the background after an
 * upload (`faces.detect`), or by the first transformation that needs them, whichever comes first.
 * Concurrent requests of one file in this process share one detection, and processes take a lock
 * per file (best effort, like transformations: when the lock service is down each may detect);
 * every later request reads the stored row, so a file is not detected twice.
 */
export class FaceDetectionService {
  private readonly inFlight = new Map<string, Promise<StoredFaces>>();

  constructor(
    private readonly shards: ShardResolver,
    private readonly blobs: BlobStore,
    private readonly jobs: JobQueue,
    private readonly detector: FaceDetector,
    private readonly locks: LockService,
    private readonly clock: Clock,
    private readonly logger: FaceLogger,
    private readonly limits: FaceLimits,
  ) {}

  /** From the `file.uploaded` event: queues the detection of a new image (one job per file). Nothing when detection is off. */
  async queueForUpload(file: StoredFile): Promise<void> {
    if (this.detector.model === 'off' || !file.isImage || file.datetimeRemoved !== null) return;
    await enqueueJob(this.jobs, FACES_DETECT_JOB, { projectId: file.projectId, uuid: file.uuid }, { dedupeKey: `faces:${file.uuid}` });
  }

  /**
   * The `faces.detect` job. Idempotent: a file with a detection of the current version is left
   * alone. A file gone, infected or not an image ends quietly; a detector that is down throws, and
   * the queue retries.
   */
  async run(job: RunningJob<FacesDetectPayload>): Promise<void> {
    if (this.detector.model === 'off') return;
    const shard = await this.shards.forProject(job.payload.projectId);
    const file = await shard.files.findForProject(job.payload.projectId, job.payload.uuid);
    if (!file || !file.isImage || file.scanStatus === 'infected') return;
    await this.stored(file);
  }

  /**
   * The faces a transformation needs. `required` (crop by face, blur faces): no detection is a
   * refusal, 503 when detection is off or down, 422 when the image could not be analysed. Smart
   * crops ask without `required` and fall back to saliency on null.
   */
  async forTransformation(file: StoredFile, required: boolean): Promise<FaceSet | null> {
    if (this.detector.model === 'off') {
      if (required) throw unavailable('face detection is off on this server (TROVE_FACE_MODEL=off)');
      return null;
    }
    let stored: StoredFaces;
    try {
      stored = await this.stored(file);
    } catch (error) {
      if (!required) return null;
      throw error;
    }
    if (stored.status === 'done') return { frame: stored.frame, faces: stored.faces };
    if (required) throw failed(file.uuid, stored.reason);
    return null;
  }

  /** `GET /:uuid/detect_faces/`: the file's faces in its original's (oriented) pixels. */
  async detectFaces(file: StoredFile): Promise<DetectFacesAnswer> {
    if (!file.isImage) throw createAppError('NOT_AN_IMAGE', 400, `File ${file.uuid} is ${file.mimeType}, not an image: faces are detected in images only.`);
    if (this.detector.model === 'off') throw unavailable('face detection is off on this server (TROVE_FACE_MODEL=off)');
    const stored = await this.stored(file);
    if (stored.status === 'failed') throw failed(file.uuid, stored.reason);
    const image = file.contentInfo?.image;
    // As `-/json/` describes the default (autorotated) image: upright, so orientation 1 when the file had one.
    const facts = image
      ? { format: image.format, color_mode: image.color_mode, orientation: image.orientation === null ? null : 1, dpi: image.dpi, geo_location: image.geo_location, datetime_original: image.datetime_original, sequence: image.sequence }
      : {};
    return { id: file.uuid, ...facts, width: stored.frame.width, height: stored.frame.height, faces: stored.faces.map(asArray) };
  }

  /** What face-based derivatives depend on: the detection version, or `off`. */
  get revision(): string {
    return this.detector.model === 'off' ? 'off' : faceDetectionVersion(this.detector.model);
  }

  /** For `/ready`: which model runs and whether its worker is up. */
  readiness(): FaceDetectorStatus {
    return this.detector.status();
  }

  /** The stored detection of the current version, or a new one made (once per file in this process) and stored. */
  private async stored(file: StoredFile): Promise<StoredFaces> {
    const version = faceDetectionVersion(this.detector.model === 'tiny' ? 'tiny' : 'ssd');
    const existing = await (await this.shards.forProject(file.projectId)).faceDetections.find(file.projectId, file.uuid);
    if (existing?.version === version) return existing;
    const key = `${file.projectId}/${file.uuid}`;
    const running = this.inFlight.get(key);
    if (running) return running;
    const work = this.detectOnce(file, version).finally(() => this.inFlight.delete(key));
    this.inFlight.set(key, work);
    return work;
  }

  /** Another process detecting the same file is waited for (bounded), and its row read. */
  private async detectOnce(file: StoredFile, version: string): Promise<StoredFaces> {
    const key = `faces:${file.uuid}`;
    const lock = await this.locks.tryAcquire(key, this.limits.lockTtlMs);
    if (!lock) await this.locks.waitForRelease(key, this.limits.lockTtlMs);
    try {
      const meanwhile = await (await this.shards.forProject(file.projectId)).faceDetections.find(file.projectId, file.uuid);
      if (meanwhile?.version === version) return meanwhile;
      return await this.detectAndStore(file, version);
    } finally {
      await lock?.release();
    }
  }

  private async detectAndStore(file: StoredFile, version: string): Promise<StoredFaces> {
    const detection = await this.detect(file, version);
    await (await this.shards.forProject(file.projectId)).faceDetections.save(file.projectId, file.uuid, detection, this.clock.now().toISOString());
    return detection;
  }

  /** A detection, or the reason the image cannot give one. A detector that is down throws (503): nothing is stored for it. */
  private async detect(file: StoredFile, version: string): Promise<StoredFaces> {
    const refusal = this.limitProblem(file);
    if (refusal) return { status: 'failed', version, reason: refusal };
    const stream = await this.blobs.get(file.blobKey);
    if (!stream) throw createAppError('FILE_NOT_FOUND', 404, `The bytes of file ${file.uuid} are missing from storage.`);
    const bytes = await readStream(stream, this.limits.maxSourceBytes);
    if (!bytes) return { status: 'failed', version, reason: `more than ${this.limits.maxSourceBytes} bytes` };
    try {
      const found = await this.detector.detect(bytes, { maxSourcePixels: this.limits.maxSourcePixels, maxSourcePages: this.limits.maxSourcePages });
      this.logger.info({ uuid: file.uuid, faces: found.faces.length, model: this.detector.model }, 'faces detected');
      return { status: 'done', version, frame: found.frame, faces: found.faces };
    } catch (error) {
      if (!(error instanceof FaceDetectionError)) throw error;
      if (error.reason === 'unavailable') throw unavailable(error.message);
      this.logger.warn({ uuid: file.uuid, reason: error.message }, 'faces not detected');
      return { status: 'failed', version, reason: error.message };
    }
  }

  private limitProblem(file: StoredFile): string | null {
    if (file.size > this.limits.maxSourceBytes) return `${file.size} bytes is over the ${this.limits.maxSourceBytes}-byte source limit`;
    const image = file.contentInfo?.image;
    if (image && image.width * image.height > this.limits.maxSourcePixels) return `${image.width}×${image.height} is over the ${this.limits.maxSourcePixels}-pixel source limit`;
    return null;
  }
}

function asArray(face: Box): [number, number, number, number] {
  return [face.left, face.top, face.width, face.height];
}

function unavailable(why: string) {
  return createAppError('FACE_DETECTION_UNAVAILABLE', 503, `Face detection is unavailable: ${why}.`);
}

function failed(uuid: string, reason: string) {
  return createAppError('FACE_DETECTION_FAILED', 422, `Faces could not be detected in file ${uuid}: ${reason}.`);
}
