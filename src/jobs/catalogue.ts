import { Type, type Static, type TObject } from 'typebox';
import type { RetryPolicy } from '../ports/job-queue.js';

/**
 * Every job Trove enqueues: its name, the shape of its payload, and how the queue treats it. Producers
 * and handlers take the payload type from here (see `typed-jobs.ts`), and the worker checks each
 * payload against its schema before the handler runs; the handlers themselves are bound in
 * `registry.ts`, so that services can import this module without an import cycle.
 */

/** The configuration some policies depend on (a subset of Trove's Config). */
export interface JobSettings {
  webhooks: { timeoutMs: number; retryBaseMs: number };
  transform: { timeoutMs: number };
  addons?: { clamd: { timeoutMs: number } | null };
  purge?: { timeoutMs: number };
  video?: { transcodeTimeoutMs: number; concurrency: number };
  faces?: { timeoutMs: number };
  documents?: { libreOfficeTimeoutMs: number };
}

export interface JobPolicy {
  retry: RetryPolicy;
  /** Longer than the handler's own deadline; see JobRegistration. */
  visibilityTimeoutMs: number;
}

export interface JobDefinition<Schema extends TObject = TObject> {
  readonly name: string;
  /**
   * A JSON object. Fields may be added to a job's payload later but not removed or retyped: jobs
   * enqueued by an older Trove may still be waiting when a newer one starts.
   */
  readonly payload: Schema;
  policy(settings: JobSettings): JobPolicy;
  /** The lane the job runs in (see JobRegistration.lane); absent, the default lane. */
  readonly lane?: string;
}

/** Video work: minutes per job, so it has leases of its own (TROVE_VIDEO_CONCURRENCY per process) and projects take turns in it. */
export const VIDEO_LANE = 'video';

/** Document work: seconds to minutes per job (LibreOffice, pages drawn by pdfium), with leases of its own (TROVE_DOCUMENT_CONCURRENCY per process); projects take turns in it. */
export const DOCUMENT_LANE = 'document';

export type PayloadOf<Job extends JobDefinition> = Static<Job['payload']>;

/**
 * Uploadcare keeps retrying for days; Trove retries for about a day: 10 s (the default base) doubling
 * up to 2 h between attempts, 21 attempts (≈ 24 h in all). Then the delivery is marked failed and
 * can be replayed.
 */
export function webhookRetryPolicy(baseDelayMs: number): RetryPolicy {
  return { maxAttempts: 21, baseDelayMs, maxDelayMs: 2 * 3_600_000 };
}

/** One attempt to POST a webhook delivery (a row of webhook_deliveries) to its target. */
export const WEBHOOK_DELIVERY_JOB = {
  name: 'webhook.deliver',
  // projectId: the shard to look in (jobs queued before shards carry none: every shard is asked).
  payload: Type.Object({ deliveryId: Type.String(), projectId: Type.Optional(Type.String()) }),
  policy: (settings) => ({
    retry: webhookRetryPolicy(settings.webhooks.retryBaseMs),
    // A lost attempt (its worker died) is taken again once it cannot still be running.
    visibilityTimeoutMs: 3 * settings.webhooks.timeoutMs + 5_000,
  }),
} satisfies JobDefinition;

/** Deletes a removed file's original and derivatives from the blob store. */
export const FILE_PURGE_JOB = {
  name: 'file.purge',
  // `projectId`: the original is deleted where the file's record says when the job runs (a region
  // move since may have put it elsewhere). Jobs queued before it existed carry none.
  payload: Type.Object({ uuid: Type.String(), blobKey: Type.String(), projectId: Type.Optional(Type.String()) }),
  policy: () => ({
    retry: { maxAttempts: 10, baseDelayMs: 5_000, maxDelayMs: 3_600_000 },
    visibilityTimeoutMs: 10 * 60_000,
  }),
} satisfies JobDefinition;

/** Computes one derivative of a file ahead of the first request for it. */
export const EAGER_TRANSFORM_JOB = {
  name: 'transform.eager',
  /** `path` is a normalised operations path such as `-/resize/200x/`. */
  payload: Type.Object({ uuid: Type.String(), path: Type.String() }),
  policy: (settings) => ({
    retry: { maxAttempts: 5, baseDelayMs: 5_000, maxDelayMs: 300_000 },
    // A transformation is bounded by its own timeout; its wait in the scheduler's queue is not.
    visibilityTimeoutMs: 10 * 60_000 + settings.transform.timeoutMs,
  }),
} satisfies JobDefinition;

/** 6 attempts over about 5 minutes: a clamd restart (reloading its signatures) takes about a minute. */
export const ADDON_RETRY = { maxAttempts: 6, baseDelayMs: 10_000, maxDelayMs: 120_000 };

/**
 * One add-on execution request (a row of addon_requests): `POST /addons/<name>/execute/`, or the scan
 * of a new upload in a project that scans on upload. A scanner that cannot be reached is tried again;
 * the last attempt ends the request in `error`.
 */
export const ADDON_EXECUTE_JOB = {
  name: 'addon.execute',
  payload: Type.Object({ requestId: Type.String(), projectId: Type.Optional(Type.String()) }),
  policy: (settings) => ({
    retry: ADDON_RETRY,
    // Two exchanges with clamd (its version, then the scan), each bounded by its timeout.
    visibilityTimeoutMs: 2 * (settings.addons?.clamd?.timeoutMs ?? 60_000) + 30_000,
  }),
} satisfies JobDefinition;

/** Longest a purge job waits in its handler for its provider's rate budget; a longer wait is a delayed job instead. */
export const CDN_PURGE_MAX_WAIT_MS = 30_000;

/**
 * One purge request to one cache in front of Trove (`provider`: shield, http, cloudflare, fastly,
 * cloudfront), already split to that provider's per-request limits. `deferrals`: how often it was
 * put back because the provider asked to be called later (429) or its rate budget was spent.
 */
export const CDN_PURGE_JOB = {
  name: 'cdn.purge',
  payload: Type.Object({
    provider: Type.String(),
    tags: Type.Array(Type.String()),
    paths: Type.Array(Type.String()),
    deferrals: Type.Optional(Type.Integer({ minimum: 0 })),
  }),
  policy: (settings) => ({
    // 2 s doubling up to 15 min, 16 attempts: about two and a half hours of a provider's outage.
    retry: { maxAttempts: 16, baseDelayMs: 2_000, maxDelayMs: 15 * 60_000 },
    visibilityTimeoutMs: CDN_PURGE_MAX_WAIT_MS + 2 * (settings.purge?.timeoutMs ?? 10_000) + 10_000,
  }),
} satisfies JobDefinition;

/**
 * A process leases as many video jobs as it has video slots, so a leased job starts at once and its
 * ffmpeg runs end within one TROVE_VIDEO_TIMEOUT; the lease allows twice that, as a margin, and half an
 * hour for storing the results.
 */
function videoLeaseMs(settings: JobSettings): number {
  return 30 * 60_000 + 2 * (settings.video?.transcodeTimeoutMs ?? 30 * 60_000);
}

/** 3 attempts, 30 s then 60 s apart: for trouble around ffmpeg (storage, a lost worker); a video ffmpeg cannot convert fails at once. */
export const VIDEO_CONVERT_RETRY = { maxAttempts: 3, baseDelayMs: 30_000, maxDelayMs: 120_000 };

/** One video conversion (a row of video_conversions): transcode, thumbnails, and the results stored as files. */
export const VIDEO_CONVERT_JOB = {
  name: 'video.convert',
  lane: VIDEO_LANE,
  payload: Type.Object({ token: Type.String(), projectId: Type.Optional(Type.String()) }),
  policy: (settings) => ({
    retry: VIDEO_CONVERT_RETRY,
    visibilityTimeoutMs: videoLeaseMs(settings),
  }),
} satisfies JobDefinition;

/**
 * 2 attempts of one job. A failure to make the stream is recorded in its state and retried by a
 * later request (`HLS_RETRY`); the queue's second try is for a job that could not record it or was
 * lost with its worker.
 */
const VIDEO_HLS_RETRY = { maxAttempts: 2, baseDelayMs: 30_000, maxDelayMs: 120_000 };

/** The HLS ladder of a video file (`/:uuid/hls/`): one ffmpeg run, its playlists and segments stored under the file's derivatives. */
export const VIDEO_HLS_JOB = {
  name: 'video.hls',
  lane: VIDEO_LANE,
  // `attempt`: the stream's attempt the job was queued for (absent in jobs queued before attempts were
  // kept); the job makes the attempt its stream's state names.
  payload: Type.Object({ uuid: Type.String(), attempt: Type.Optional(Type.Integer({ minimum: 1 })) }),
  policy: (settings) => ({
    retry: VIDEO_HLS_RETRY,
    visibilityTimeoutMs: videoLeaseMs(settings),
  }),
} satisfies JobDefinition;

/**
 * How long one document conversion may take in all: LibreOffice's deadline, then the pages drawn
 * (each under TROVE_DOCUMENT_TIMEOUT) and stored. The job stops itself at this budget.
 */
export function documentJobBudgetMs(settings: JobSettings): number {
  return (settings.documents?.libreOfficeTimeoutMs ?? 120_000) + 10 * 60_000;
}

/** 3 attempts, 30 s then 60 s apart: for trouble around the conversion (storage, a lost worker); a document that cannot be read fails at once. */
export const DOCUMENT_CONVERT_RETRY = { maxAttempts: 3, baseDelayMs: 30_000, maxDelayMs: 120_000 };

/** One document conversion (a row of document_conversions): the result (or a group of pages) stored as files. */
export const DOCUMENT_CONVERT_JOB = {
  name: 'document.convert',
  lane: DOCUMENT_LANE,
  payload: Type.Object({ token: Type.String(), projectId: Type.Optional(Type.String()) }),
  policy: (settings) => ({
    retry: DOCUMENT_CONVERT_RETRY,
    // Twice the job's own budget: a lease outlives the work it covers, and a lost worker's job is taken again within minutes, not hours.
    visibilityTimeoutMs: 2 * documentJobBudgetMs(settings),
  }),
} satisfies JobDefinition;

/**
 * The analysis of one image file after its upload (or a backfill): placeholders, colours and the
 * perceptual hash. A few retries for trouble around it (storage, a lost worker); bytes that cannot be
 * decoded end it at once.
 */
export const IMAGE_ANALYZE_JOB = {
  name: 'image.analyze',
  payload: Type.Object({ projectId: Type.String(), uuid: Type.String() }),
  policy: (settings) => ({
    retry: { maxAttempts: 5, baseDelayMs: 5_000, maxDelayMs: 300_000 },
    // Reading the original plus one decode bounded by the transformation timeout.
    visibilityTimeoutMs: 5 * 60_000 + settings.transform.timeoutMs,
  }),
} satisfies JobDefinition;

export const FACES_DETECT_JOB = {
  name: 'faces.detect',
  payload: Type.Object({ projectId: Type.String(), uuid: Type.String() }),
  policy: (settings) => ({
    retry: { maxAttempts: 5, baseDelayMs: 5_000, maxDelayMs: 300_000 },
    // Reading the original, one decode and one detection bounded by TROVE_FACE_TIMEOUT (plus the model's start).
    visibilityTimeoutMs: 5 * 60_000 + (settings.faces?.timeoutMs ?? 60_000),
  }),
} satisfies JobDefinition;

export type WebhookDeliveryPayload = PayloadOf<typeof WEBHOOK_DELIVERY_JOB>;
export type FilePurgePayload = PayloadOf<typeof FILE_PURGE_JOB>;
export type EagerTransformPayload = PayloadOf<typeof EAGER_TRANSFORM_JOB>;
export type AddonExecutePayload = PayloadOf<typeof ADDON_EXECUTE_JOB>;
export type CdnPurgePayload = PayloadOf<typeof CDN_PURGE_JOB>;
export type VideoConvertPayload = PayloadOf<typeof VIDEO_CONVERT_JOB>;
export type VideoHlsPayload = PayloadOf<typeof VIDEO_HLS_JOB>;
export type ImageAnalyzePayload = PayloadOf<typeof IMAGE_ANALYZE_JOB>;
export type FacesDetectPayload = PayloadOf<typeof FACES_DETECT_JOB>;
export type DocumentConvertPayload = PayloadOf<typeof DOCUMENT_CONVERT_JOB>;

/** A name without exactly one registration stops Trove at start. */
export const JOBS: readonly JobDefinition[] = [WEBHOOK_DELIVERY_JOB, FILE_PURGE_JOB, EAGER_TRANSFORM_JOB, ADDON_EXECUTE_JOB, CDN_PURGE_JOB, VIDEO_CONVERT_JOB, VIDEO_HLS_JOB, IMAGE_ANALYZE_JOB, FACES_DETECT_JOB, DOCUMENT_CONVERT_JOB];
export const JOB_NAMES: readonly string[] = JOBS.map((job) => job.name);
/** The named lanes of the catalogue's jobs. */
export const JOB_LANES: readonly string[] = [...new Set(JOBS.flatMap((job) => (job.lane === undefined ? [] : [job.lane])))];
