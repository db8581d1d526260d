import {
  IMAGE_ANALYSIS_APPDATA,
  IMAGE_ANALYSIS_VERSION,
  SIMILAR_DEFAULT_DISTANCE,
  SIMILAR_MAX_DISTANCE,
  candidateChunks,
  compareMatches,
  hammingDistance,
  hashChunks,
  imageAnalysisAppData,
  isAfterCursor,
  type SimilarMatch,
} from '../domain/image-analysis.js';
import { isExpired, isUuid, type StoredFile } from '../domain/file.js';
import type { Project } from '../domain/project.js';
import { createAppError } from '../errors.js';
import { IMAGE_ANALYZE_JOB, type ImageAnalyzePayload } from '../jobs/catalogue.js';
import { enqueueJob } from '../jobs/typed-jobs.js';
import type { Clock } from '../lib/clock.js';
import { readStream } from '../lib/read-stream.js';
import type { BlobStore } from '../ports/blob-store.js';
import { ImageAnalysisError, type ImageAnalyzer } from '../ports/image-analyzer.js';
import type { JobQueue, RunningJob } from '../ports/job-queue.js';
import type { FileCounts } from '../ports/repositories.js';
import type { ShardRepositories, ShardResolver } from '../ports/shards.js';

interface AnalysisLogger {
  info(object: Record<string, unknown>, message: string): void;
  warn(object: Record<string, unknown>, message: string): void;
}

/** The limits an analysis respects: those of transformations, so nothing is decoded here that delivery would refuse. */
interface AnalysisLimits {
  maxSourcePixels: number;
  maxSourceBytes: number;
  timeoutMs: number;
}

/** `GET /files/?similar_to=`: the position and size of the page asked for. */
interface SimilarRequest {
  uuid: string;
  /** null: `SIMILAR_DEFAULT_DISTANCE`. */
  distance: number | null;
  /** true: stored only; false: unstored only; null: both. */
  stored: boolean | null;
  /** Continue after this match (the `from` cursor of a `next` link). */
  after: SimilarMatch | null;
  limit: number;
}

interface SimilarPage {
  files: StoredFile[];
  /** Files within the distance, whatever the page. */
  total: number;
  totals: FileCounts;
  distance: number;
  /** The last match of the page when more follow. */
  next: SimilarMatch | null;
}

/** Files enqueued per batch of a backfill; each batch is one query and that many enqueues. */
const BACKFILL_BATCH = 500;

/**
 * Image analysis at upload: every live image file gets its placeholders, colours and perceptual hash
 * computed once in the background (`image.analyze`), shown as `appdata.trove_image_analysis`, and
 * searched by `similar_to`.
 */
export class ImageAnalysisService {
  constructor(
    private readonly shards: ShardResolver,
    private readonly blobs: BlobStore,
    private readonly jobs: JobQueue,
    private readonly analyzer: ImageAnalyzer,
    private readonly clock: Clock,
    private readonly logger: AnalysisLogger,
    private readonly limits: AnalysisLimits,
  ) {}

  /** From the `file.uploaded` event: queues the analysis of a new image (one job per file, however often the event is handled). */
  async queueForUpload(file: StoredFile): Promise<void> {
    if (!file.isImage || file.datetimeRemoved !== null) return;
    await this.enqueue(file.projectId, file.uuid);
  }

  /**
   * `trove analysis backfill`: queues the analysis of every live image (of one project, or all) that
   * has none of the current version, in batches of 500. Returns how many were queued.
   */
  async backfill(projectId: string | null, onBatch?: (queued: number) => void): Promise<number> {
    let queued = 0;
    const scan = async (shard: ShardRepositories): Promise<void> => {
      let afterUuid: string | null = null;
      for (;;) {
        const targets = await shard.imageAnalysis.listUnanalysed({ projectId, version: IMAGE_ANALYSIS_VERSION, afterUuid, limit: BACKFILL_BATCH });
        for (const target of targets) await this.enqueue(target.projectId, target.uuid);
        queued += targets.length;
        if (targets.length > 0) onBatch?.(queued);
        const last = targets.at(-1);
        if (targets.length < BACKFILL_BATCH || !last) return;
        afterUuid = last.uuid;
      }
    };
    if (projectId !== null) {
      await scan(await this.shards.forProject(projectId));
      return queued;
    }
    // Every project: each shard's files, and a shard that does not answer fails the backfill (run it again).
    const failed = (await this.shards.fanOut(scan)).find((outcome) => !outcome.ok);
    if (failed && !failed.ok) throw failed.error;
    return queued;
  }

  private enqueue(projectId: string, uuid: string): Promise<string> {
    return enqueueJob(this.jobs, IMAGE_ANALYZE_JOB, { projectId, uuid }, { dedupeKey: `analyze:${uuid}` });
  }

  /**
   * The `image.analyze` job. Idempotent: a file analysed at the current version is left alone. A file
   * removed meanwhile, no longer an image, over the limits, or whose bytes cannot be decoded ends the
   * job quietly (logged); trouble reading storage throws, and the queue retries.
   */
  async run(job: RunningJob<ImageAnalyzePayload>): Promise<void> {
    const { projectId, uuid } = job.payload;
    const shard = await this.shards.forProject(projectId);
    const file = await shard.files.findForProject(projectId, uuid);
    if (!file || !file.isImage || file.scanStatus === 'infected') return;
    const existing = await shard.imageAnalysis.find(projectId, uuid);
    if (existing?.version === IMAGE_ANALYSIS_VERSION) return;
    const refusal = this.limitProblem(file);
    if (refusal) {
      this.logger.info({ uuid, reason: refusal }, 'image not analysed');
      return;
    }
    const stream = await this.blobs.get(file.blobKey);
    if (!stream) {
      this.logger.warn({ uuid }, 'image not analysed: its bytes are missing from storage');
      return;
    }
    const bytes = await readStream(stream, this.limits.maxSourceBytes);
    if (!bytes) return;
    const fingerprint = await this.analyzer.analyze(bytes, { maxSourcePixels: this.limits.maxSourcePixels, timeoutMs: this.limits.timeoutMs }).catch((error: unknown) => {
      if (!(error instanceof ImageAnalysisError)) throw error;
      this.logger.info({ uuid, reason: error.message }, 'image not analysed');
      return null;
    });
    if (!fingerprint) return;
    const at = this.clock.now().toISOString();
    // false: the file was removed while it was analysed; nothing is kept for it.
    // Looked up again: the analysis may have outlasted a move of the project to another shard.
    await (await this.shards.forProject(projectId)).imageAnalysis.save({ ...fingerprint, projectId, fileUuid: uuid, version: IMAGE_ANALYSIS_VERSION, createdAt: existing?.createdAt ?? at, computedAt: at });
  }

  private limitProblem(file: StoredFile): string | null {
    if (file.size > this.limits.maxSourceBytes) return `${file.size} bytes is over the ${this.limits.maxSourceBytes}-byte source limit`;
    const image = file.contentInfo?.image;
    if (image && image.width * image.height > this.limits.maxSourcePixels) return `${image.width}×${image.height} is over the ${this.limits.maxSourcePixels}-pixel source limit`;
    return null;
  }

  /** The files with their analysis added to their appdata (`include=appdata`), in the same order. */
  async withAnalysis(projectId: string, files: StoredFile[]): Promise<StoredFile[]> {
    const images = files.filter((file) => file.isImage).map((file) => file.uuid);
    if (images.length === 0) return files;
    const analyses = new Map((await (await this.shards.forProject(projectId)).imageAnalysis.findMany(projectId, images)).map((analysis) => [analysis.fileUuid, analysis]));
    return files.map((file) => {
      const analysis = analyses.get(file.uuid);
      return analysis ? { ...file, appdata: { ...file.appdata, [IMAGE_ANALYSIS_APPDATA]: imageAnalysisAppData(analysis) } } : file;
    });
  }

  /**
   * The project's live images whose perceptual hash is within `distance` bits of this file's, the
   * file itself left out, nearest first (equal distances by uuid). Candidates come from the four
   * indexed hash chunks (see `candidateChunks`); their exact distance is checked here.
   */
  async similar(project: Project, request: SimilarRequest): Promise<SimilarPage> {
    const distance = request.distance ?? SIMILAR_DEFAULT_DISTANCE;
    if (!Number.isInteger(distance) || distance < 0 || distance > SIMILAR_MAX_DISTANCE) {
      throw createAppError('PARAMETER_INVALID', 400, `\`distance\` must be an integer from 0 to ${SIMILAR_MAX_DISTANCE}.`);
    }
    const uuid = request.uuid.toLowerCase();
    const shard = await this.shards.forProject(project.id);
    const file = isUuid(uuid) ? await shard.files.findForProject(project.id, uuid) : null;
    if (!file || isExpired(file, this.clock.now())) throw createAppError('NOT_FOUND', 404, '`similar_to` names no live file of this project.');
    if (!file.isImage) throw createAppError('PARAMETER_INVALID', 400, '`similar_to` must name an image file.');
    const analysis = await shard.imageAnalysis.find(project.id, uuid);
    if (!analysis) {
      throw createAppError('IMAGE_ANALYSIS_PENDING', 409, 'This image has no analysis yet: it is computed in the background after upload. Ask again shortly.');
    }
    const origin = hashChunks(analysis.phash);
    const [candidates, totals] = await Promise.all([
      shard.imageAnalysis.candidates(project.id, candidateChunks(analysis.phash, distance), request.stored),
      shard.fileCounters.counts(project.id),
    ]);
    const matches = candidates
      .filter((candidate) => candidate.fileUuid !== uuid)
      .map((candidate) => ({ fileUuid: candidate.fileUuid, distance: hammingDistance(origin, candidate.chunks) }))
      .filter((match) => match.distance <= distance)
      .sort(compareMatches);
    const rest = matches.filter((match) => isAfterCursor(match, request.after));
    const page = rest.slice(0, request.limit);
    const found = new Map((await shard.files.findManyForProject(project.id, page.map((match) => match.fileUuid))).map((f) => [f.uuid, f]));
    const now = this.clock.now();
    const files = page.flatMap((match) => {
      const similarFile = found.get(match.fileUuid);
      return similarFile && !isExpired(similarFile, now) ? [similarFile] : [];
    });
    const last = page.at(-1);
    return { files, total: matches.length, totals, distance, next: rest.length > request.limit && last ? last : null };
  }
}
