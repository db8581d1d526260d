import { pipeline, Readable, Transform, type TransformCallback } from 'node:stream';
import { assertDeliverable } from '../domain/addons.js';
import { copyPlanOf, parseCopySource } from '../domain/copy-source.js';
import { isExpired, isUuid, type StoredFile } from '../domain/file.js';
import type { Project } from '../domain/project.js';
import {
  copyEffects,
  copyPatternProblem,
  derivativeExtension,
  expandCopyPattern,
  filenameParts,
  objectKeyOf,
  objectKeyProblem,
  s3UrlOf,
} from '../domain/remote-copy.js';
import type { ParseLimits } from '../domain/transform/uploadcare-parser.js';
import { createAppError } from '../errors.js';
import type { Clock } from '../lib/clock.js';
import { ConcurrencyLimiter } from '../lib/concurrency-limiter.js';
import type { ShardResolver } from '../ports/shards.js';
import { RemoteStorageError } from '../ports/remote-storage.js';
import type { DeliveryService } from './delivery.service.js';
import type { ProjectStorageService } from './project-storage.service.js';
import type { TransformService } from './transform/transform.service.js';

/** The body of `POST /files/remote_copy/` as it arrived (its schema checked the shapes only). */
interface RemoteCopyRequest {
  source?: unknown;
  target?: unknown;
  make_public?: unknown;
  pattern?: unknown;
}

/**
 * Copies writing to storages at once in one process; the others wait their turn. Each holds up to
 * about 40 MiB of parts in flight, so this bounds what copies of large originals take together.
 */
const CONCURRENT_WRITES = 4;

interface RemoteCopyResult {
  /** `s3://<bucket>/<key>` */
  url: string;
  /** false: an object already had that key, and it was left as it was. */
  created: boolean;
}

/**
 * `POST /files/remote_copy/`: a file of the project, or the derivative its CDN URL names, written
 * to a storage the project registered. The original is streamed (never held whole in memory); a
 * derivative comes from the transformation engine, through its caches, as the CDN would serve it.
 */
export class RemoteCopyService {
  private readonly writes = new ConcurrencyLimiter(CONCURRENT_WRITES);

  constructor(
    private readonly shards: ShardResolver,
    private readonly storages: ProjectStorageService,
    private readonly delivery: DeliveryService,
    private readonly transform: TransformService,
    private readonly clock: Clock,
    /** The delivery URL limits, so the operations of a source are read exactly as its CDN URL is. */
    private readonly parseLimits: ParseLimits,
  ) {}

  async copy(project: Project, request: RemoteCopyRequest): Promise<RemoteCopyResult> {
    const { source, target, make_public: makePublic, pattern } = request;
    if (source === undefined || source === null || source === '') throw createAppError('SOURCE_REQUIRED', 400, '`source` parameter is required.');
    const parsed = typeof source === 'string' ? parseCopySource(source) : null;
    if (!parsed) throw createAppError('SOURCE_INVALID', 400, 'Bad `source` parameter. Use UUID or CDN URL.');
    if (target === undefined || target === null || target === '') throw createAppError('TARGET_REQUIRED', 400, '`target` parameter is required.');
    if (typeof target !== 'string') throw createAppError('TARGET_INVALID', 400, '`target` must be the name of a storage of this project.');
    const publicRead = makePublicFlag(makePublic);
    const askedPattern = patternOf(pattern);

    const file = await this.find(project, parsed.uuid);
    const plan = copyPlanOf(parsed.operations, this.parseLimits);
    const opened = await this.storages.open(project, target);
    if (!opened) throw createAppError('TARGET_INVALID', 400, `This project has no storage named "${clip(target)}"; list them with GET /project/storages/.`);
    const { storage, bucket } = opened;
    try {
      const names = filenameParts(file.originalFilename);
      let derivative: { data: Buffer; contentType: string } | null = null;
      let effects = '';
      if (plan?.transforms) {
        // No Accept header: `format/auto` resolves to the format every client understands.
        derivative = await this.transform.deliver(file.uuid, plan, undefined, 'background');
        effects = copyEffects(parsed.operations, this.parseLimits);
      }
      const ext = derivative ? derivativeExtension(names.ext, file.mimeType, derivative.contentType) : names.ext;
      const key = objectKeyOf(storage.prefix, expandCopyPattern(askedPattern ?? storage.pattern, { uuid: file.uuid, filename: names.filename, ext, effects }));
      const keyProblem = objectKeyProblem(key);
      if (keyProblem) throw createAppError('PATTERN_INVALID', 400, `Bad \`pattern\` parameter: it names the object key "${clip(key)}", which is not allowed: ${keyProblem}`);
      const url = s3UrlOf(storage.bucket, key);

      try {
        return await this.writes.run(async () => {
          // Uploadcare leaves an existing object alone and says so with a 200.
          if ((await bucket.exists(key)) === true) return { url, created: false };
          // pipeline, not pipe: a read error of the original, or the storage giving up, ends both streams.
          const body = derivative ? Readable.from([derivative.data]) : pipeline(await this.delivery.open(file), new RecordedSize(file), () => undefined);
          await bucket.put(key, body, {
            contentType: derivative?.contentType ?? file.mimeType,
            size: derivative ? derivative.data.length : file.size,
            publicRead,
          });
          return { url, created: true };
        });
      } catch (error) {
        if (!(error instanceof RemoteStorageError)) throw error;
        const status = error.code === 'UNREACHABLE' ? 502 : 400;
        throw createAppError('STORAGE_REFUSED', status, `Storage "${storage.name}" refused the copy: ${error.message}. Nothing was written.`);
      }
    } finally {
      bucket.close();
    }
  }

  /** A live file of the project; removed, expired, unknown and other projects' files alike are "Not found." */
  private async find(project: Project, uuid: string): Promise<StoredFile> {
    if (!isUuid(uuid)) throw createAppError('NOT_FOUND', 404, 'Not found.');
    const file = await (await this.shards.forProject(project.id)).files.findForProject(project.id, uuid, { includeRemoved: false });
    if (!file || isExpired(file, this.clock.now())) throw createAppError('NOT_FOUND', 404, 'Not found.');
    // A copy would be a way round the hold of a file not found clean.
    assertDeliverable(file);
    return file;
  }
}

/**
 * Fails an original whose stored bytes are not as many as its record says, before their end
 * reaches the storage: the copy is then abandoned instead of completed short.
 */
class RecordedSize extends Transform {
  private bytes = 0;

  constructor(private readonly file: Pick<StoredFile, 'uuid' | 'size'>) {
    super();
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.bytes += chunk.length;
    if (this.bytes > this.file.size) callback(this.corrupt());
    else callback(null, chunk);
  }

  override _flush(callback: TransformCallback): void {
    callback(this.bytes === this.file.size ? null : this.corrupt());
  }

  private corrupt() {
    return createAppError('FILE_CORRUPT', 500, `Stored bytes of ${this.file.uuid} do not match the recorded size; nothing was copied.`);
  }
}

/** Uploadcare's default for `make_public` is true. */
function makePublicFlag(value: unknown): boolean {
  if (value === undefined || value === null || value === true || value === 'true') return true;
  if (value === false || value === 'false') return false;
  throw createAppError('MAKE_PUBLIC_INVALID', 400, '`make_public` parameter should be `true` or `false`.');
}

/** A given pattern, checked; null when none was given (the storage's own pattern applies). */
function patternOf(value: unknown): string | null {
  if (value === undefined || value === null || value === '') return null;
  if (typeof value !== 'string') throw createAppError('PATTERN_INVALID', 400, 'Bad `pattern` parameter: it must be a string such as ${default}.');
  const problem = copyPatternProblem(value);
  if (problem) throw createAppError('PATTERN_INVALID', 400, `Bad \`pattern\` parameter: ${problem}`);
  return value;
}

/** Client text echoed in a message: cut short, control characters shown as U+FFFD. */
function clip(text: string): string {
  const shown = text.length > 120 ? `${text.slice(0, 120)}…` : text;
  return shown.replace(/[\u0000-\u001f\u007f]/g, '\uFFFD');
}
