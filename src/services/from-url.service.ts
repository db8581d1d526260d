import { randomUUID } from 'node:crypto';
import { Transform } from 'node:stream';
import { isExpired, type StoredFile } from '../domain/file.js';
import { lastField, type Fields } from '../domain/form-fields.js';
import type { Project } from '../domain/project.js';
import { FROM_URL_UPLOAD, parseUploadOptions, readUploadCredentials, shouldStore } from '../domain/upload-options.js';
import { AppError, createAppError } from '../errors.js';
import { FetchError, type FetchErrorCode, type GuardedFetcher } from '../ports/fetcher.js';
import type { FromUrlTask, FromUrlTasksRepository } from '../ports/repositories.js';
import type { ShardResolver } from '../ports/shards.js';
import { findOnAnyShard, sumOverShards } from './shard-lookup.js';
import type { Clock } from '../lib/clock.js';
import { ConcurrencyLimiter } from '../lib/concurrency-limiter.js';
import type { FileIngestService } from './file-ingest.service.js';
import type { UploadAuthService } from './upload-auth.service.js';

interface FromUrlSettings {
  concurrency: number;
  timeoutMs: number;
  maxRedirects: number;
  maxBytes: number;
}

type FromUrlStartResult = { type: 'token'; token: string } | { type: 'file_info'; file: StoredFile };

interface FromUrlStatus {
  task: FromUrlTask;
  file: StoredFile | null;
}

interface TaskLogger {
  warn(object: Record<string, unknown>, message: string): void;
}

/** Uploadcare error codes for each way a download can fail. */
const FETCH_ERROR_CODES: Record<FetchErrorCode, string> = {
  URL_INVALID: 'URLParsingFailedError',
  URL_SCHEME_INVALID: 'URLSchemeInvalidError',
  URL_HOST_FORBIDDEN: 'URLHostPrivateIPForbiddenError',
  HOST_NOT_FOUND: 'HostnameNotFoundError',
  TOO_MANY_REDIRECTS: 'URLRedirectsLimitExceededError',
  TIMEOUT: 'DownloadFileTimeLimitExceededError',
  TOO_LARGE: 'DownloadFileSizeLimitExceededError',
  HTTP_ERROR: 'DownloadFileHTTPClientError',
  NETWORK_ERROR: 'DownloadFileHTTPNetworkError',
};

/** Progress is written at most this often, so a fast download does not hammer the database. */
const PROGRESS_WRITE_INTERVAL_MS = 250;

/**
 * `POST /from_url/`: Trove downloads a file from a URL in the background, through the guarded
 * fetcher, and the client follows it by token at `/from_url/status/`.
 */
export class FromUrlService {
  private readonly limiter: ConcurrencyLimiter;
  private readonly inFlight = new Set<Promise<void>>();

  constructor(
    private readonly auth: UploadAuthService,
    private readonly ingest: FileIngestService,
    private readonly shards: ShardResolver,
    private readonly fetcher: GuardedFetcher,
    private readonly clock: Clock,
    private readonly settings: FromUrlSettings,
    private readonly logger: TaskLogger,
    /** Told of every file a download produced (metrics). */
    private readonly onUploaded: (file: StoredFile) => void = () => undefined,
  ) {
    this.limiter = new ConcurrencyLimiter(settings.concurrency);
  }

  /** `fields`: the query string and the form, in that order. */
  async start(fields: Fields): Promise<FromUrlStartResult> {
    const project = await this.auth.authenticate(readUploadCredentials(fields, FROM_URL_UPLOAD));
    const sourceUrl = lastField(fields, 'source_url');
    if (!sourceUrl) throw createAppError('SourceURLRequiredError', 400, '`source_url` is required.');
    let parsed: URL;
    try {
      parsed = new URL(sourceUrl);
    } catch {
      throw createAppError('URLParsingFailedError', 400, `source_url "${sourceUrl.slice(0, 200)}" is not a valid URL.`);
    }
    if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
      throw createAppError('URLSchemeInvalidError', 400, `source_url must use http or https, not ${parsed.protocol.replace(':', '')}.`);
    }
    const options = parseUploadOptions(fields, FROM_URL_UPLOAD);
    const checkDuplicates = lastField(fields, 'check_URL_duplicates') === '1';
    const saveDuplicatesRaw = lastField(fields, 'save_URL_duplicates');
    const saveDuplicates = saveDuplicatesRaw === undefined ? checkDuplicates : saveDuplicatesRaw === '1';

    const shard = await this.shards.forProject(project.id);
    if (checkDuplicates) {
      const existing = await shard.files.findBySourceUrl(project.id, parsed.toString());
      if (existing && !isExpired(existing, this.clock.now())) return { type: 'file_info', file: existing };
    }

    const now = this.clock.now().toISOString();
    const task: FromUrlTask = {
      token: randomUUID(),
      projectId: project.id,
      sourceUrl: parsed.toString(),
      status: 'waiting',
      done: 0,
      total: null,
      fileUuid: null,
      error: null,
      errorCode: null,
      createdAt: now,
      updatedAt: now,
    };
    await shard.fromUrlTasks.create(task);
    const job = this.limiter
      .run(() =>
        this.download(project, task, {
          filename: options.filename,
          store: shouldStore(options.store, project.autoStore),
          metadata: options.metadata,
          tags: options.tags,
          source: options.source,
          saveSourceUrl: saveDuplicates,
        }),
      )
      .catch((error: unknown) => this.logger.warn({ err: error, token: task.token }, 'from_url task failed to record its outcome'));
    this.inFlight.add(job);
    void job.finally(() => this.inFlight.delete(job));
    return { type: 'token', token: task.token };
  }

  async status(token: string | undefined): Promise<FromUrlStatus | null> {
    if (!token) throw createAppError('TokenRequiredError', 400, '`token` is required.');
    // The status URL carries the token alone (Uploadcare's API): every shard is asked.
    const task = await findOnAnyShard(this.shards, (shard) => shard.fromUrlTasks.find(token));
    if (!task) return null;
    const found = task.fileUuid ? await (await this.shards.forProject(task.projectId)).files.findForProject(task.projectId, task.fileUuid) : null;
    return { task, file: found && !isExpired(found, this.clock.now()) ? found : null };
  }

  /** Waits for downloads in progress (graceful shutdown, tests). */
  async drain(): Promise<void> {
    await Promise.allSettled([...this.inFlight]);
  }

  /** Sweeper: tasks whose process died mid-download are reported as failed, not left waiting forever. */
  async failStale(): Promise<number> {
    const cutoff = new Date(this.clock.now().getTime() - this.settings.timeoutMs * 2 - 60_000).toISOString();
    const finishedCutoff = new Date(this.clock.now().getTime() - 24 * 3_600_000).toISOString();
    return sumOverShards(this.shards, async (shard) => {
      const stale = await shard.fromUrlTasks.listStale(cutoff, 100);
      for (const task of stale) {
        await shard.fromUrlTasks.update(task.token, {
          status: 'error',
          error: 'The download was interrupted by a server restart; please try again.',
          errorCode: 'DownloadFileTaskFailedError',
        });
      }
      await shard.fromUrlTasks.deleteFinishedBefore(finishedCutoff);
      return stale.length;
    });
  }

  private async download(
    project: Project,
    task: FromUrlTask,
    options: { filename: string | undefined; store: boolean; metadata: Record<string, string>; tags: string[]; source: string; saveSourceUrl: boolean },
  ): Promise<void> {
    let receivedKey: string | null = null;
    // Looked up at each write: a long download may outlive a move of the project to another shard.
    const tasks = {
      update: async (token: string, patch: Parameters<FromUrlTasksRepository['update']>[1]): Promise<void> =>
        (await this.shards.forProject(project.id)).fromUrlTasks.update(token, patch),
    };
    try {
      const maxBytes = Math.min(this.settings.maxBytes, this.ingest.maxFileSizeFor(project));
      const resource = await this.fetcher.fetch(task.sourceUrl, {
        maxBytes,
        timeoutMs: this.settings.timeoutMs,
        maxRedirects: this.settings.maxRedirects,
      });
      await tasks.update(task.token, { status: 'progress', total: resource.contentLength, done: 0 });
      let done = 0;
      let lastWrite = 0;
      const progress = new Transform({
        transform: (chunk: Buffer, _enc, callback) => {
          done += chunk.length;
          const now = Date.now();
          if (now - lastWrite >= PROGRESS_WRITE_INTERVAL_MS) {
            lastWrite = now;
            void tasks.update(task.token, { done }).catch(() => undefined);
          }
          callback(null, chunk);
        },
      });
      resource.body.on('error', (error) => progress.destroy(error));
      const received = await this.ingest.receive(resource.body.pipe(progress), maxBytes, () =>
        createAppError('DownloadFileSizeLimitExceededError', 413, `The file at the URL is larger than ${maxBytes} bytes.`),
        project.id,
      );
      receivedKey = received.blobKey;
      const file = await this.ingest.register(project, received, {
        originalFilename: options.filename ?? resource.suggestedFilename ?? undefined,
        store: options.store,
        metadata: options.metadata,
        tags: options.tags,
        source: options.source,
        sourceUrl: options.saveSourceUrl ? task.sourceUrl : null,
      });
      receivedKey = null;
      this.onUploaded(file);
      await tasks.update(task.token, { status: 'success', done: file.size, total: file.size, fileUuid: file.uuid });
    } catch (error) {
      if (receivedKey) await this.ingest.discard([{ blobKey: receivedKey }]);
      const { code, message } = describeFailure(error);
      await tasks.update(task.token, { status: 'error', error: message, errorCode: code });
    }
  }
}

function describeFailure(error: unknown): { code: string; message: string } {
  if (error instanceof FetchError) {
    let code = FETCH_ERROR_CODES[error.code];
    if (error.code === 'HTTP_ERROR' && error.status !== undefined && error.status >= 500) code = 'DownloadFileHTTPServerError';
    if (error.code === 'HTTP_ERROR' && error.status === 404) code = 'DownloadFileNotFoundError';
    return { code, message: error.message };
  }
  if (error instanceof AppError) return { code: error.code, message: error.message };
  return { code: 'DownloadFileInternalServerError', message: 'The download failed because of an internal error.' };
}
