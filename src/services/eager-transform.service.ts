import { isUuid } from '../domain/file.js';
import type { Project } from '../domain/project.js';
import { parseUploadcarePath, type ParseLimits } from '../domain/transform/uploadcare-parser.js';
import { createAppError, AppError } from '../errors.js';
import { EAGER_TRANSFORM_JOB, type EagerTransformPayload } from '../jobs/catalogue.js';
import { enqueueJob } from '../jobs/typed-jobs.js';
import type { JobQueue, RunningJob } from '../ports/job-queue.js';
import type { ShardResolver } from '../ports/shards.js';
import type { TransformService } from './transform/transform.service.js';

/** Derivatives one request may ask to have computed ahead of time. */
export const MAX_EAGER_DERIVATIVES = 20;

/**
 * Eager transformations: derivatives computed in the background before anyone asks for them (a
 * site's thumbnail sizes right after upload), at background priority so they never delay
 * interactive requests. The results land in the derivative store like any other miss.
 */
export class EagerTransformService {
  constructor(
    private readonly shards: ShardResolver,
    private readonly jobs: JobQueue,
    private readonly transform: TransformService,
    /** The delivery URL limits: an eager path is the same derivative as its URL, or refused as it would be. */
    private readonly parseLimits: ParseLimits,
  ) {}

  /** Checks every operations path now (a 400 names the bad one), then queues one job per path. */
  async request(project: Project, uuid: string, rawPaths: unknown): Promise<string[]> {
    if (!isUuid(uuid) || !(await (await this.shards.forProject(project.id)).files.findForProject(project.id, uuid))) throw createAppError('NOT_FOUND', 404, 'Not found.');
    if (!Array.isArray(rawPaths) || rawPaths.length === 0 || rawPaths.length > MAX_EAGER_DERIVATIVES) {
      throw createAppError('OPERATIONS_INVALID', 400, `\`operations\` must be a list of 1 to ${MAX_EAGER_DERIVATIVES} CDN operation paths such as "-/resize/200x/".`);
    }
    const paths = rawPaths.map((raw, index) => {
      if (typeof raw !== 'string') throw createAppError('OPERATIONS_INVALID', 400, `operations[${index}] must be a string.`);
      const path = normalisePath(raw);
      let transforms = false;
      try {
        transforms = parseUploadcarePath(path, this.parseLimits).transforms;
      } catch (error) {
        throw createAppError('OPERATIONS_INVALID', 400, `operations[${index}]: ${error instanceof AppError ? error.message : 'not a valid operations path'}`);
      }
      if (!transforms) throw createAppError('OPERATIONS_INVALID', 400, `operations[${index}] has no image operation.`);
      return path;
    });
    for (const path of paths) await enqueueJob(this.jobs, EAGER_TRANSFORM_JOB, { uuid, path }, { dedupeKey: `eager:${uuid}:${path}` });
    return paths;
  }

  async run(job: RunningJob<EagerTransformPayload>): Promise<void> {
    const { uuid, path } = job.payload;
    try {
      await this.transform.deliver(uuid, parseUploadcarePath(path, this.parseLimits), undefined, 'eager');
    } catch (error) {
      // A file deleted meanwhile, or an image the limits refuse, will not get better with retries.
      if (error instanceof AppError && error.statusCode < 500 && error.statusCode !== 429) return;
      throw error;
    }
  }
}

function normalisePath(raw: string): string {
  const trimmed = raw.trim().replace(/^\/+/, '');
  const withDash = trimmed.startsWith('-/') ? trimmed : `-/${trimmed}`;
  return withDash.endsWith('/') ? withDash : `${withDash}/`;
}
