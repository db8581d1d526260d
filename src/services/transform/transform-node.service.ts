import { Type, type Static } from 'typebox';
import { Compile } from 'typebox/compile';
import { isOriginalBlobKey } from '../../domain/blob-layout.js';
import { isUuid } from '../../domain/file.js';
import { MAX_FACES } from '../../domain/faces.js';
import { internalSignatureProblem } from '../../domain/internal-signature.js';
import { createAppError } from '../../errors.js';
import type { Clock } from '../../lib/clock.js';
import type { TransformJob, TransformOutput, TransformRunner } from '../../ports/transform-runner.js';

/** Largest job body a transform node reads: a plan of every allowed operation with its overlays is a few KiB. */
export const MAX_TRANSFORM_JOB_BYTES = 256 * 1024;

const SourceSchema = Type.Object(
  {
    uuid: Type.String({ maxLength: 36 }),
    blobKey: Type.String({ maxLength: 1024 }),
    size: Type.Integer({ minimum: 0 }),
    mimeType: Type.String({ minLength: 1, maxLength: 255 }),
  },
  { additionalProperties: false },
);

/**
 * The shape of a job. The plan inside was parsed and normalised by the sending node (with the same
 * limits), which signed it with the shared secret; its shape is checked here, its contents trusted
 * as the engine trusts a plan from this process's own parser (the engine checks its own limits).
 */
const JobSchema = Type.Object(
  {
    key: Type.String({ minLength: 1, maxLength: 1024 }),
    projectId: Type.String({ minLength: 1, maxLength: 128 }),
    priority: Type.Union([Type.Literal('interactive'), Type.Literal('eager'), Type.Literal('background')]),
    source: SourceSchema,
    overlays: Type.Record(Type.String(), SourceSchema),
    plan: Type.Object({
      operations: Type.Array(Type.Object({ op: Type.String() }), { maxItems: 1024 }),
      output: Type.Object({ format: Type.String(), quality: Type.String() }),
      info: Type.Union([Type.Null(), Type.Object({ kind: Type.String() })]),
    }),
    faces: Type.Optional(
      Type.Object(
        {
          frame: Type.Object({ width: Type.Integer({ minimum: 1 }), height: Type.Integer({ minimum: 1 }) }, { additionalProperties: false }),
          faces: Type.Array(
            Type.Object({ left: Type.Integer(), top: Type.Integer(), width: Type.Integer({ minimum: 1 }), height: Type.Integer({ minimum: 1 }) }, { additionalProperties: false }),
            { maxItems: MAX_FACES },
          ),
        },
        { additionalProperties: false },
      ),
    ),
    variant: Type.Union(
      (['jpeg', 'png', 'webp', 'avif', 'gif', 'preserve', 'auto-avif', 'auto-webp', 'auto-basic'] as const).map((variant) => Type.Literal(variant)),
    ),
  },
  { additionalProperties: false },
);

/** Compiled once: every miss of the tier passes through it (interpreted, it cost half a millisecond a job). */
const jobValidator = Compile(JobSchema);

/**
 * The transform role's side of a transformation job: checks that a peer holding
 * `TROVE_INTERNAL_SECRET` sent it, that it is a job, and runs it in this process.
 */
export class TransformNodeService {
  constructor(
    private readonly runner: TransformRunner,
    private readonly secret: string,
    private readonly clock: Clock,
  ) {}

  /** Throws 401 unless the body carries a good signature from within the window. */
  authenticate(headers: { timestamp: string | undefined; signature: string | undefined }, body: Buffer): void {
    const problem = internalSignatureProblem(this.secret, headers, body, this.clock.now().getTime());
    if (problem) throw createAppError('INTERNAL_SIGNATURE_INVALID', 401, problem);
  }

  /** The job in a signed body; 400 naming what is wrong otherwise. */
  parseJob(body: Buffer): TransformJob {
    let parsed: unknown;
    try {
      parsed = JSON.parse(body.toString('utf8'));
    } catch {
      throw createAppError('TRANSFORM_JOB_INVALID', 400, 'The job is not valid JSON.');
    }
    if (!jobValidator.Check(parsed)) {
      const first = jobValidator.Errors(parsed)[0];
      throw createAppError('TRANSFORM_JOB_INVALID', 400, `The job does not have a job's shape: ${first ? `${first.instancePath || '/'} ${first.message}` : 'unknown problem'}.`);
    }
    const job: Static<typeof JobSchema> = parsed;
    checkSource('source', job.source);
    for (const [id, overlay] of Object.entries(job.overlays)) {
      if (overlay.uuid !== id) throw createAppError('TRANSFORM_JOB_INVALID', 400, `overlays.${id}: listed under another file's id.`);
      checkSource(`overlays.${id}`, overlay);
    }
    // The shape is checked; the plan's contents come from the signing peer's parser (see JobSchema).
    return job as unknown as TransformJob;
  }

  run(job: TransformJob): Promise<TransformOutput> {
    return this.runner.run(job);
  }
}

/** A job reads originals only, each at the one key its uuid gives: nothing else in the blob store. */
function checkSource(where: string, source: Static<typeof SourceSchema>): void {
  if (!isUuid(source.uuid)) throw createAppError('TRANSFORM_JOB_INVALID', 400, `${where}.uuid is not a file uuid.`);
  if (!isOriginalBlobKey(source.blobKey, source.uuid)) throw createAppError('TRANSFORM_JOB_INVALID', 400, `${where}.blobKey is not the original of ${source.uuid}.`);
}
