import { randomInt, randomUUID } from 'node:crypto';
import { isExpired, type StoredFile } from '../domain/file.js';
import { groupId } from '../domain/group.js';
import type { Project } from '../domain/project.js';
import {
  conversionRequestKey,
  parseVideoConversionPath,
  thumbnailUuid,
  VideoPathError,
  type ConversionStatus,
  type VideoConversion,
  type VideoPlan,
  videoConversionPath,
} from '../domain/video-conversion.js';
import { videoLimitProblem, type VideoLimits } from '../domain/video-info.js';
import { createAppError } from '../errors.js';
import { VIDEO_CONVERT_JOB, VIDEO_CONVERT_RETRY, type VideoConvertPayload } from '../jobs/catalogue.js';
import { enqueueJob } from '../jobs/typed-jobs.js';
import type { Clock } from '../lib/clock.js';
import type { JobQueue, RunningJob } from '../ports/job-queue.js';
import type { ProjectsRepository, VideoConversionListQuery } from '../ports/repositories.js';
import type { ProjectShard, ShardResolver } from '../ports/shards.js';
import { shardForJob } from './shard-lookup.js';
import { VideoProbeError, VideoTranscodeError, type TranscodedFile, type TranscodeResult, type VideoEngine } from '../ports/video-engine.js';
import type { FileIngestService } from './file-ingest.service.js';

/** One accepted path of `POST /convert/video/`. */
interface ConversionResult {
  original_source: string;
  token: number;
  uuid: string;
  thumbnails_group_uuid: string;
}

/** Uploadcare's answer: a problem per refused path, a result per accepted one. */
interface ConversionAnswer {
  problems: Record<string, string>;
  result: ConversionResult[];
}

interface ConversionStatusAnswer {
  status: ConversionStatus;
  error: string | null;
  /** Trove extension: percent of the transcode done. */
  progress: number;
  result: { uuid: string; thumbnails_group_uuid: string } | null;
}

/** One conversion in `GET /convert/video/` (a Trove extension). */
interface ConversionListItem {
  token: number;
  status: ConversionStatus;
  error: string | null;
  progress: number;
  source: string;
  path: string;
  store: boolean;
  uuid: string;
  thumbnails_group_uuid: string;
  datetime_created: string;
  datetime_updated: string;
}

interface ConversionListPage {
  conversions: ConversionListItem[];
  /** The project's conversions (of the source, when given), whatever the page. */
  total: number;
  /** Where the next page starts; null on the last one. */
  next: { datetime: string; token: string } | null;
}

/** Runs video work a project at a time in turn (the video slots), so one tenant's long videos cannot hold every slot. */
interface VideoSlots {
  run<T>(projectId: string, priority: 'background', task: () => Promise<T>): Promise<T>;
}

interface ConversionLogger {
  info(object: Record<string, unknown>, message: string): void;
  warn(object: Record<string, unknown>, message: string): void;
}

interface ConversionSettings {
  limits: VideoLimits;
  /** Most paths one request may carry. */
  maxPaths: number;
}

const DONE: readonly ConversionStatus[] = ['finished', 'failed', 'cancelled'];
/** Progress costs one row update per this interval at most. */
const PROGRESS_EVERY_MS = 1_000;
/** How often a running conversion looks whether it was cancelled. */
const CANCEL_CHECK_MS = 1_000;
/** Jobs tokens are JSON numbers: below 2^48 they are exact everywhere. */
const MAX_TOKEN = 2 ** 48 - 1;

/**
 * Uploadcare's video conversions: a request is checked against the source's facts and recorded
 * with its token and result names; the `video.convert` job probes the source again, checks the
 * limits, runs ffmpeg through the video slots, and stores the video and its thumbnails as
 * ordinary files (and the thumbnails as a group). The same request twice is one conversion.
 */
export class VideoConversionService {
  constructor(
    private readonly shards: ShardResolver,
    private readonly projects: Pick<ProjectsRepository, 'findById'>,
    private readonly jobs: JobQueue,
    private readonly engine: VideoEngine,
    private readonly ingest: FileIngestService,
    private readonly slots: VideoSlots,
    private readonly clock: Clock,
    private readonly settings: ConversionSettings,
    private readonly logger: ConversionLogger,
  ) {}

  /** `POST /convert/video/`. */
  async convert(project: Project, body: { paths?: unknown; store?: unknown }): Promise<ConversionAnswer> {
    const status = await this.engine.status();
    if (!status.available) throw createAppError('CONVERSION_UNAVAILABLE', 503, `Video conversion is not available on this server: ${status.reason}`);
    const paths = body.paths;
    if (!Array.isArray(paths) || paths.length === 0 || !paths.every((p): p is string => typeof p === 'string')) {
      throw createAppError('PARAMETER_INVALID', 400, '`paths` must be a list of paths such as "<uuid>/video/-/format/mp4/".');
    }
    if (paths.length > this.settings.maxPaths) throw createAppError('PARAMETER_INVALID', 400, `\`paths\` holds at most ${this.settings.maxPaths} paths.`);
    const store = storeOf(body.store, project);
    const answer: ConversionAnswer = { problems: {}, result: [] };
    for (const path of paths) {
      try {
        const conversion = await this.accept(project, path, store);
        answer.result.push({
          original_source: path,
          token: Number(conversion.token),
          uuid: conversion.resultUuid,
          thumbnails_group_uuid: conversion.thumbnailsGroupId,
        });
      } catch (error) {
        if (!(error instanceof VideoPathError)) throw error;
        answer.problems[path] = error.message;
      }
    }
    return answer;
  }

  /** `GET /convert/video/status/<token>/`: only this project's conversions. */
  async status(project: Project, token: string): Promise<ConversionStatusAnswer> {
    const conversion = /^[1-9]\d{0,15}$/.test(token) ? await (await this.shard(project.id)).videoConversions.find(project.id, token) : null;
    if (!conversion) throw createAppError('NOT_FOUND', 404, `No video conversion of this project has the token ${token.slice(0, 40)}.`);
    return {
      status: conversion.status,
      error: conversion.error,
      progress: conversion.progress,
      result: { uuid: conversion.resultUuid, thumbnails_group_uuid: conversion.thumbnailsGroupId },
    };
  }

  /**
   * `GET /convert/video/` (a Trove extension): the project's conversions, newest first, of one
   * source (its lowercase uuid, as conversions keep it) when given. Another project's source is a filter that matches nothing here: an empty
   * page, as for a file of this project never converted.
   */
  async list(project: Project, query: VideoConversionListQuery): Promise<ConversionListPage> {
    const conversions = (await this.shard(project.id)).videoConversions;
    const [rows, total] = await Promise.all([
      conversions.list(project.id, { ...query, limit: query.limit + 1 }),
      conversions.count(project.id, query.sourceUuid),
    ]);
    const page = rows.slice(0, query.limit);
    const last = page.at(-1);
    return {
      conversions: page.map(listItem),
      total,
      next: rows.length > query.limit && last ? { datetime: last.createdAt, token: last.token } : null,
    };
  }

  /**
   * `DELETE /convert/video/<token>/` (a Trove addition): a pending conversion never starts, a
   * processing one has its ffmpeg killed within about a second wherever it runs, and nothing is
   * stored after that. Cancelling a cancelled one answers its status again; an ended one is a 409.
   * The same request made again later starts it anew, as after a failure.
   */
  async cancel(project: Project, token: string): Promise<ConversionStatusAnswer> {
    const conversions = (await this.shard(project.id)).videoConversions;
    const conversion = /^[1-9]\d{0,15}$/.test(token) ? await conversions.find(project.id, token) : null;
    if (!conversion) throw createAppError('NOT_FOUND', 404, `No video conversion of this project has the token ${token.slice(0, 40)}.`);
    await conversions.moveStatus(token, ['pending', 'processing'], 'cancelled', 'Cancelled at the request of the project.', this.now());
    const answer = await this.status(project, token);
    if (answer.status !== 'cancelled') {
      throw createAppError('CONVERSION_ENDED', 409, `The conversion ${token} has already ended (${answer.status}); only a pending or processing conversion can be cancelled.`);
    }
    this.logger.info({ token }, 'video conversion cancelled');
    return answer;
  }

  /** The `video.convert` job (idempotent: a finished conversion is left alone, stored results are found again). */
  async run(job: RunningJob<VideoConvertPayload>): Promise<void> {
    const found = await shardForJob(this.shards, job.payload.projectId, (shard) => shard.videoConversions.findByToken(job.payload.token));
    const conversion = found?.record;
    if (!conversion || DONE.includes(conversion.status)) return;
    await this.slots.run(conversion.projectId, 'background', () => this.execute(conversion, job.attempt));
  }

  private async accept(project: Project, path: string, store: boolean): Promise<VideoConversion> {
    const { sourceUuid, plan } = parseVideoConversionPath(path, this.settings.limits.maxDimension);
    const shard = await this.shard(project.id);
    const source = await shard.files.findForProject(project.id, sourceUuid);
    if (!source || isExpired(source, this.clock.now())) throw new VideoPathError(`Bad path "${path.slice(0, 300)}": file ${sourceUuid} does not exist in this project.`);
    const facts = source.contentInfo?.video;
    if (!facts) throw new VideoPathError(`Bad path "${path.slice(0, 300)}": file ${sourceUuid} is not a video Trove could read.`);
    const problem = videoLimitProblem({ info: facts, streamCount: facts.video.length + facts.audio.length }, source.size, this.settings.limits) ?? cutProblem(plan, facts.duration);
    if (problem) throw new VideoPathError(`Bad path "${path.slice(0, 300)}": ${problem}`);

    const requestKey = conversionRequestKey(project.id, sourceUuid, plan, store);
    const known = await shard.videoConversions.findByRequest(project.id, requestKey);
    if (known) return this.again(known);
    const at = this.clock.now().toISOString();
    const conversion: VideoConversion = {
      token: String(randomInt(1, MAX_TOKEN)),
      projectId: project.id,
      requestKey,
      sourceUuid,
      plan,
      store,
      resultUuid: randomUUID(),
      thumbnailsGroupId: groupId(randomUUID(), plan.thumbnails),
      status: 'pending',
      error: null,
      progress: 0,
      createdAt: at,
      updatedAt: at,
    };
    if (!(await shard.videoConversions.create(conversion))) {
      // The same request arrived at the same moment: answer with the one that was recorded.
      const raced = await shard.videoConversions.findByRequest(project.id, requestKey);
      if (raced) return raced;
      throw new Error('A conversion token collided; try again.');
    }
    await this.enqueue(conversion, conversion.token);
    return conversion;
  }

  /** A request made before: its conversion as it stands, or, when it failed, the same conversion started again. */
  private async again(conversion: VideoConversion): Promise<VideoConversion> {
    if (conversion.status !== 'failed' && conversion.status !== 'cancelled') return conversion;
    const at = this.clock.now().toISOString();
    if (await (await this.shard(conversion.projectId)).videoConversions.moveStatus(conversion.token, ['failed', 'cancelled'], 'pending', null, at)) {
      await this.enqueue(conversion, `${conversion.token}:${at}`);
    }
    return { ...conversion, status: 'pending', error: null, progress: 0, updatedAt: at };
  }

  private async execute(conversion: VideoConversion, attempt: number): Promise<void> {
    const { token, projectId } = conversion;
    const shard = await this.shard(projectId);
    if (!(await shard.videoConversions.moveStatus(token, ['pending', 'processing'], 'processing', null, this.now()))) return;
    const project = await this.projects.findById(projectId);
    const source = await shard.files.findForProject(conversion.projectId, conversion.sourceUuid, { includeRemoved: true });
    if (!project || !source || source.datetimeRemoved !== null) return this.fail(conversion, 'The source file was removed before it could be converted.');

    let result: TranscodeResult;
    const cancellation = this.watchCancellation(projectId, token);
    try {
      // The stored facts were checked at the request; the bytes are probed again, and the limits checked, before ffmpeg runs.
      const probe = await this.engine.probe(source.blobKey);
      const problem = videoLimitProblem(probe, source.size, this.settings.limits) ?? cutProblem(conversion.plan, probe.info.duration);
      if (problem) return await this.fail(conversion, problem);
      result = await this.engine.transcode({ sourceKey: source.blobKey, plan: conversion.plan, source: probe, onProgress: this.progressWriter(projectId, token), signal: cancellation.signal });
    } catch (error) {
      // A cancelled conversion keeps its status: it did not fail.
      if (cancellation.signal.aborted) return;
      if (error instanceof VideoProbeError || error instanceof VideoTranscodeError || attempt >= VIDEO_CONVERT_RETRY.maxAttempts) {
        return this.fail(conversion, messageOf(error));
      }
      throw error;
    } finally {
      cancellation.stop();
    }
    try {
      // Cancelled while ffmpeg was finishing: nothing is stored.
      // Looked up afresh from here on: ffmpeg may have outlasted a move of the project to another shard.
      if ((await (await this.shard(projectId)).videoConversions.findByToken(token))?.status === 'cancelled') return;
      await this.storeResults(project, source, conversion, result);
    } catch (error) {
      if (attempt >= VIDEO_CONVERT_RETRY.maxAttempts) return this.fail(conversion, `The results could not be stored: ${messageOf(error)}`);
      throw error;
    } finally {
      await result.release();
    }
    await (await this.shard(projectId)).videoConversions.moveStatus(token, ['processing'], 'finished', null, this.now());
    this.logger.info({ token, uuid: conversion.resultUuid, source: source.uuid }, 'video converted');
  }

  /** The video and each thumbnail become files under the names chosen at the request; a file already stored (an earlier attempt) is kept. */
  private async storeResults(project: Project, source: StoredFile, conversion: VideoConversion, result: TranscodeResult): Promise<void> {
    const stem = source.originalFilename.replace(/\.[^.]*$/, '') || 'video';
    await this.storeFile(project, conversion, conversion.resultUuid, result.video, `${stem}.${conversion.plan.format}`);
    const members = [];
    for (const [position, thumbnail] of result.thumbnails.entries()) {
      const uuid = thumbnailUuid(conversion.token, position);
      await this.storeFile(project, conversion, uuid, thumbnail, `${stem}-thumb-${position + 1}.jpg`);
      members.push({ position, fileUuid: uuid, effects: '' });
    }
    const groups = (await this.shard(project.id)).groups;
    if (!(await groups.findForProject(project.id, conversion.thumbnailsGroupId))) {
      await groups.create(
        { id: conversion.thumbnailsGroupId, projectId: project.id, filesCount: members.length, datetimeCreated: this.now(), datetimeStored: conversion.store ? this.now() : null },
        members,
      );
    }
  }

  private async storeFile(project: Project, conversion: VideoConversion, uuid: string, file: TranscodedFile, filename: string): Promise<void> {
    if (await (await this.shard(project.id)).files.findForProject(project.id, uuid, { includeRemoved: true })) return;
    const received = await this.ingest.receiveAs(uuid, file.read(), file.size, project.id);
    try {
      await this.ingest.register(project, received, { originalFilename: filename, store: conversion.store, metadata: {}, tags: [], source: 'video-conversion' });
    } catch (error) {
      await this.ingest.discard([received]);
      throw error;
    }
  }

  /** Writes progress at most every PROGRESS_EVERY_MS, whole percents below 100 (100 is written with `finished`). */
  /**
   * Watches the record while ffmpeg runs: a cancel may come to any node, so the one running the
   * conversion learns of it from the database, within CANCEL_CHECK_MS.
   */
  private watchCancellation(projectId: string, token: string): { signal: AbortSignal; stop(): void } {
    const controller = new AbortController();
    const timer = setInterval(() => {
      this.shard(projectId).then((shard) => shard.videoConversions.findByToken(token)).then(
        (current) => {
          if (current?.status === 'cancelled') controller.abort();
        },
        (error: unknown) => this.logger.warn({ token, reason: messageOf(error) }, 'video conversion cancellation not checked'),
      );
    }, CANCEL_CHECK_MS);
    timer.unref();
    return { signal: controller.signal, stop: () => clearInterval(timer) };
  }

  private progressWriter(projectId: string, token: string): (done: number) => void {
    let written = 0;
    let lastAt = -Infinity;
    return (done) => {
      const percent = Math.min(99, Math.floor(done * 100));
      // Wall time, not the injected clock: this spaces writes, it records no moment.
      const now = performance.now();
      if (percent <= written || now - lastAt < PROGRESS_EVERY_MS) return;
      written = percent;
      lastAt = now;
      this.shard(projectId).then((shard) => shard.videoConversions.setProgress(token, percent, this.now())).catch((error: unknown) => {
        this.logger.warn({ token, reason: messageOf(error) }, 'video conversion progress not written');
      });
    };
  }

  private async fail(conversion: VideoConversion, reason: string): Promise<void> {
    this.logger.warn({ token: conversion.token, source: conversion.sourceUuid, reason }, 'video conversion failed');
    await (await this.shard(conversion.projectId)).videoConversions.moveStatus(conversion.token, ['pending', 'processing'], 'failed', reason, this.now());
  }

  /** Projects take turns in the video lane, so one project's many conversions do not hold it. */
  private enqueue(conversion: VideoConversion, dedupe: string): Promise<string> {
    return enqueueJob(this.jobs, VIDEO_CONVERT_JOB, { token: conversion.token, projectId: conversion.projectId }, { dedupeKey: `video:${dedupe}`, fairnessKey: conversion.projectId });
  }

  /** The project's shard, asked for at each step: a conversion can outlast a move of its project. */
  private shard(projectId: string): Promise<ProjectShard> {
    return this.shards.forProject(projectId);
  }

  private now(): string {
    return this.clock.now().toISOString();
  }
}

/** `store`: Uploadcare's `"1"`/`"0"` or the SDK's `"true"`/`"false"`; absent, the project's auto-store decides. */
function storeOf(value: unknown, project: Project): boolean {
  if (value === undefined || value === null || value === '' || value === 'auto') return project.autoStore;
  if (value === true || value === '1' || value === 'true' || value === 1) return true;
  if (value === false || value === '0' || value === 'false' || value === 0) return false;
  throw createAppError('PARAMETER_INVALID', 400, '`store` is "1" or "0" (or true, false, "auto").');
}

function listItem(conversion: VideoConversion): ConversionListItem {
  return {
    token: Number(conversion.token),
    status: conversion.status,
    error: conversion.error,
    progress: conversion.progress,
    source: conversion.sourceUuid,
    path: videoConversionPath(conversion.sourceUuid, conversion.plan),
    store: conversion.store,
    uuid: conversion.resultUuid,
    thumbnails_group_uuid: conversion.thumbnailsGroupId,
    datetime_created: conversion.createdAt,
    datetime_updated: conversion.updatedAt,
  };
}

/** A cut must start inside the video. */
function cutProblem(plan: VideoPlan, durationMs: number | null): string | null {
  if (!plan.cut || durationMs === null) return null;
  if (plan.cut.startMs >= durationMs) return `the cut starts at ${plan.cut.startMs / 1000} s, at or after the video's end (${durationMs / 1000} s).`;
  return null;
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
