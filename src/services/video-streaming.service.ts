import type { Readable } from 'node:stream';
import { Readable as ReadableStream } from 'node:stream';
import type { StoredFile } from '../domain/file.js';
import {
  HLS_STATE,
  hlsAssetName,
  hlsContentType,
  hlsPrefix,
  MASTER_PLAYLIST,
  planLadder,
  SEGMENT_SECONDS,
  type HlsState,
} from '../domain/hls.js';
import { decideHls, failedState, type HlsRetryPolicy } from '../domain/hls-retry.js';
import { videoLimitProblem, type VideoLimits } from '../domain/video-info.js';
import { AppError, createAppError } from '../errors.js';
import { VIDEO_HLS_JOB, type VideoHlsPayload } from '../jobs/catalogue.js';
import { enqueueJob } from '../jobs/typed-jobs.js';
import type { Clock } from '../lib/clock.js';
import type { BlobStore } from '../ports/blob-store.js';
import type { JobQueue, RunningJob } from '../ports/job-queue.js';
import type { ShardResolver } from '../ports/shards.js';
import { VideoProbeError, type HlsResult, type VideoEngine } from '../ports/video-engine.js';
import type { DeliveryService } from './delivery.service.js';

/** Runs video work a project at a time in turn (the video slots). */
interface VideoSlots {
  run<T>(projectId: string, priority: 'background', task: () => Promise<T>): Promise<T>;
}

interface StreamingLogger {
  info(object: Record<string, unknown>, message: string): void;
  warn(object: Record<string, unknown>, message: string): void;
}

interface StreamingSettings {
  limits: VideoLimits;
  /** A `processing` state older than this is a job that was lost: the next request asks again. */
  staleAfterMs: number;
  /** When a stream that failed for a reason that may pass is made again. */
  retry: HlsRetryPolicy;
}

/** A stored playlist or segment. */
interface HlsAsset {
  kind: 'asset';
  name: string;
  contentType: string;
  size: number;
  body: Readable;
  etag: string;
  temporary: boolean;
  projectId: string;
}

/** The master asked for before the stream exists: its job runs, the client asks again. */
interface HlsPreparing {
  kind: 'preparing';
  retryAfterSeconds: number;
}

/** Seconds a client waits before asking again for a stream being made, or when ffmpeg cannot run. */
const PREPARING_RETRY_AFTER = 5;
const UNAVAILABLE_RETRY_AFTER = '30';

/**
 * `/:uuid/hls/…`: a video file as an HLS ladder. The first request for the master playlist starts
 * one durable `video.hls` job and is answered "being prepared"; the job runs ffmpeg once through
 * the video slots and stores every playlist and segment under the file's derivatives prefix, the
 * master last, so a stored master means a whole stream. Until then a small state object beside it
 * says which attempt's job was asked for (so asking again starts nothing) or why the last one
 * failed and when a request may start the next (`decideHls`).
 */
export class VideoStreamingService {
  /** Streams this process is making: a second job for one of them ends at once. */
  private readonly making = new Set<string>();

  constructor(
    private readonly delivery: DeliveryService,
    private readonly shards: ShardResolver,
    private readonly blobs: BlobStore,
    private readonly jobs: JobQueue,
    private readonly engine: VideoEngine,
    private readonly slots: VideoSlots,
    private readonly clock: Clock,
    private readonly settings: StreamingSettings,
    private readonly logger: StreamingLogger,
  ) {}

  /** The ETag of `hls/<name>`: the stream of a file is made once and never changes. */
  etagOf(name: string): string {
    return `"hls-v1-${name.replace('.', '-')}"`;
  }

  /**
   * The name `rest` (`hls/…`) addresses, checked against Trove's own names before anything is looked
   * up; 404 for any other.
   */
  nameOf(rest: string): string {
    const name = hlsAssetName(rest);
    if (!name) throw createAppError('NOT_FOUND', 404, `No HLS playlist or segment is named "${rest.slice(4, 104)}"; the stream starts at hls/${MASTER_PLAYLIST}.`);
    return name;
  }

  /** The file, when it is a video this server has read; 404 when it is gone, 400 when it is no video. */
  async videoFile(uuid: string, file?: StoredFile): Promise<StoredFile> {
    const found = file ?? (await this.delivery.findOriginal(uuid));
    if (!found.contentInfo?.video?.video.length) {
      throw createAppError('NOT_A_VIDEO', 400, `File ${uuid} is not a video Trove could read (${found.mimeType}); only videos stream as HLS.`);
    }
    return found;
  }

  /** A stored asset, or for the master not stored yet, its job asked for once. */
  async deliver(uuid: string, name: string, given?: StoredFile): Promise<HlsAsset | HlsPreparing> {
    const file = await this.videoFile(uuid, given);
    const stored = await this.storedAsset(file, name);
    if (stored) return stored;
    if (name !== MASTER_PLAYLIST) {
      throw createAppError('NOT_FOUND', 404, `The HLS stream of ${uuid} has no ${name}; its master playlist is hls/${MASTER_PLAYLIST}.`);
    }
    const prepared = await this.prepare(file);
    if (prepared !== 'stored') return prepared;
    // The job stored the master and removed its state between the two reads: serve what it made.
    return (await this.storedAsset(file, name)) ?? { kind: 'preparing', retryAfterSeconds: PREPARING_RETRY_AFTER };
  }

  private async storedAsset(file: StoredFile, name: string): Promise<HlsAsset | null> {
    const key = `${hlsPrefix(file.uuid)}${name}`;
    const info = await this.blobs.head(key);
    const body = info ? await this.blobs.get(key) : null;
    if (!info || !body) return null;
    return {
      kind: 'asset',
      name,
      contentType: hlsContentType(name),
      size: info.size,
      body,
      etag: this.etagOf(name),
      temporary: file.datetimeStored === null,
      projectId: file.projectId,
    };
  }

  private async prepare(file: StoredFile): Promise<HlsPreparing | 'stored'> {
    const status = await this.engine.status();
    if (!status.available) {
      throw createAppError('VIDEO_UNAVAILABLE', 503, `HLS streaming is not available on this server: ${status.reason}`, { headers: { 'retry-after': UNAVAILABLE_RETRY_AFTER } });
    }
    const now = this.clock.now();
    const decision = decideHls(await this.readState(file.uuid), now, this.settings.staleAfterMs, this.settings.retry);
    const preparing: HlsPreparing = { kind: 'preparing', retryAfterSeconds: PREPARING_RETRY_AFTER };
    switch (decision.kind) {
      case 'preparing':
        return preparing;
      case 'refused':
        throw createAppError('STREAM_FAILED', 422, `The HLS stream of ${file.uuid} could not be made (${attemptsOf(decision.attempts)}): ${decision.error}`);
      case 'retry-later': {
        const seconds = Math.max(1, Math.ceil((decision.retryAt.getTime() - now.getTime()) / 1000));
        // 503 + Retry-After: the stream is unavailable for a while, not refused. Players and CDNs
        // treat a 5xx as passing (a 4xx as final), and no-store keeps a cache from holding it past
        // the time it names.
        throw createAppError(
          'STREAM_RETRY_PENDING',
          503,
          `The HLS stream of ${file.uuid} failed (${attemptsOf(decision.attempts)}; tried again on a request from ${decision.retryAt.toISOString()}, in ${seconds} s): ${decision.error}`,
          { headers: { 'retry-after': String(seconds), 'cache-control': 'no-store' } },
        );
      }
      case 'start':
        // No state may mean the job has just finished: it stores the master, then removes the state.
        if (decision.attempt === 1 && (await this.blobs.head(`${hlsPrefix(file.uuid)}${MASTER_PLAYLIST}`))) return 'stored';
        break;
    }
    const facts = file.contentInfo!.video!;
    const problem = videoLimitProblem({ info: facts, streamCount: facts.video.length + facts.audio.length }, file.size, this.settings.limits);
    if (problem) throw createAppError('STREAM_FAILED', 422, `The HLS stream of ${file.uuid} cannot be made: ${problem}`);
    await this.writeState(file.uuid, { status: 'processing', at: now.toISOString(), attempts: decision.attempt });
    // Requests arriving together each write the state; the dedupe key makes their jobs one.
    await enqueueJob(this.jobs, VIDEO_HLS_JOB, { uuid: file.uuid, attempt: decision.attempt }, { dedupeKey: `hls:${file.uuid}`, fairnessKey: file.projectId });
    this.logger.info({ uuid: file.uuid, attempt: decision.attempt }, 'HLS stream requested');
    return preparing;
  }

  /**
   * The `video.hls` job: idempotent (a stored master ends it), and a removed file is left alone
   * (what a request wrote for it since its purge goes). The first job to run takes the stream's
   * current attempt by writing its id into the state; any other job for it then ends, so a lost job
   * delivered again after a request started the next attempt does not run beside that attempt's job.
   * A job queued for an older attempt and merged by the dedupe key takes the current one.
   */
  async run(job: RunningJob<VideoHlsPayload>): Promise<void> {
    const { uuid } = job.payload;
    let file: StoredFile;
    try {
      file = await this.videoFile(uuid);
    } catch (error) {
      if (!(error instanceof AppError)) throw error;
      await this.blobs.deletePrefix(hlsPrefix(uuid));
      return;
    }
    if (await this.blobs.head(`${hlsPrefix(uuid)}${MASTER_PLAYLIST}`)) return;
    const state = await this.readState(uuid);
    if (state && (state.status !== 'processing' || (state.job !== undefined && state.job !== job.id))) return;
    const attempt = state?.attempts ?? job.payload.attempt ?? 1;
    // Two jobs of one stream in this process (queued by requests together, the first taken before
    // the second was queued): one runs, the other ends.
    if (this.making.has(uuid)) return;
    this.making.add(uuid);
    try {
      // Taken now: a request sees the attempt alive until this job's lease could run out from here.
      await this.writeState(uuid, { status: 'processing', at: this.now(), attempts: attempt, job: job.id });
      await this.slots.run(file.projectId, 'background', async () => {
        if (await this.blobs.head(`${hlsPrefix(uuid)}${MASTER_PLAYLIST}`)) return;
        await this.make(file, attempt);
      });
    } finally {
      this.making.delete(uuid);
    }
  }

  private async make(file: StoredFile, attempt: number): Promise<void> {
    const { uuid } = file;
    let result: HlsResult;
    try {
      // The bytes are probed again, and the limits checked, before ffmpeg runs.
      const probe = await this.engine.probe(file.blobKey);
      const problem = videoLimitProblem(probe, file.size, this.settings.limits);
      const stream = probe.info.video[0];
      if (problem || !stream) return await this.fail(file, attempt, problem ?? 'the file has no video stream.', false);
      const started = performance.now();
      result = await this.engine.hlsLadder({ sourceKey: file.blobKey, source: probe, renditions: planLadder(stream.width, stream.height), segmentSeconds: SEGMENT_SECONDS });
      this.logger.info({ uuid, attempt, seconds: Math.round((performance.now() - started) / 100) / 10 }, 'HLS stream made');
    } catch (error) {
      // Bytes ffprobe cannot read stay unreadable; anything else (ffmpeg crashed or timed out, the
      // store failed) may pass.
      const permanent = error instanceof VideoProbeError && error.reason === 'unreadable';
      return this.fail(file, attempt, messageOf(error), !permanent);
    }
    const prefix = hlsPrefix(uuid);
    try {
      // The master last: once it is there, everything it names is.
      const ordered = [...result.files.filter((f) => f.name !== MASTER_PLAYLIST), ...result.files.filter((f) => f.name === MASTER_PLAYLIST)];
      for (const asset of ordered) {
        await this.blobs.put(`${prefix}${asset.name}`, asset.read(), { contentType: hlsContentType(asset.name), size: asset.size, rebuildable: true });
      }
    } catch (error) {
      return this.fail(file, attempt, `the stream could not be stored: ${messageOf(error)}`, true);
    } finally {
      await result.release();
    }
    await this.blobs.delete(`${prefix}${HLS_STATE}`);
    await this.forgetIfRemoved(file);
  }

  /** Records the attempt's failure; a failure that may pass gets the time the next attempt may start. */
  private async fail(file: StoredFile, attempt: number, reason: string, transient: boolean): Promise<void> {
    const state = failedState(this.settings.retry, attempt, reason, transient, this.clock.now());
    this.logger.warn({ uuid: file.uuid, attempt, reason, retryAt: state.retryAt ?? null }, 'HLS stream failed');
    await this.writeState(file.uuid, state);
    await this.forgetIfRemoved(file);
  }

  /** The file's purge may have run while the job did: what was written after it goes too. */
  private async forgetIfRemoved(file: StoredFile): Promise<void> {
    const now = await (await this.shards.forProject(file.projectId)).files.findForProject(file.projectId, file.uuid, { includeRemoved: true });
    if (!now || now.datetimeRemoved !== null) await this.blobs.deletePrefix(hlsPrefix(file.uuid));
  }

  private async readState(uuid: string): Promise<HlsState | null> {
    const stream = await this.blobs.get(`${hlsPrefix(uuid)}${HLS_STATE}`);
    if (!stream) return null;
    const chunks: Buffer[] = [];
    for await (const chunk of stream) chunks.push(chunk as Buffer);
    try {
      return JSON.parse(Buffer.concat(chunks).toString('utf8')) as HlsState;
    } catch {
      // A state that cannot be read is as good as none: the next request asks again.
      return null;
    }
  }

  private async writeState(uuid: string, state: HlsState): Promise<void> {
    const data = Buffer.from(JSON.stringify(state));
    await this.blobs.put(`${hlsPrefix(uuid)}${HLS_STATE}`, ReadableStream.from([data]), { contentType: 'application/json', size: data.length, rebuildable: true });
  }

  private now(): string {
    return this.clock.now().toISOString();
  }
}

function attemptsOf(count: number): string {
  return count === 1 ? '1 attempt' : `${count} attempts`;
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
