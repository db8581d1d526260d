import { negotiateFormat } from '../../domain/transform/negotiate.js';
import { CONCEALING_OPERATIONS, GEOMETRIC_OPERATIONS } from '../../domain/transform/operations.js';
import { createAppError, type StatusOf } from '../../errors.js';
import { EngineError, type EngineLimits, type ImageEngine } from '../../ports/image-engine.js';
import type { TransformJob, TransformOutput, TransformRunner } from '../../ports/transform-runner.js';
import { representativeAccept } from './accept-variant.js';
import type { FairScheduler } from './fair-scheduler.js';
import type { SourceLoader } from './source-reader.js';

const ENGINE_STATUS: { readonly [C in EngineError['code']]: StatusOf<C> } = {
  SOURCE_TOO_LARGE: 422,
  OUTPUT_TOO_LARGE: 400,
  ANIMATION_TOO_LARGE: 422,
  UNSUPPORTED_SOURCE: 400,
  INVALID_OPERATION: 400,
  TIMEOUT: 503,
  CORRUPT_SOURCE: 422,
};

interface RunnerObserver {
  transformed(seconds: number): void;
}

/**
 * Runs jobs in this process: in an all-in-one process for its own misses, and on a transform node
 * for the jobs other nodes send. Everything heavy (reading the source, decoding, encoding) happens
 * inside the fair scheduler's slot, so a flood of requests waits in its project's queue holding
 * nothing but a promise.
 */
export class LocalTransformRunner implements TransformRunner {
  constructor(
    private readonly sources: SourceLoader,
    private readonly engine: ImageEngine,
    private readonly scheduler: FairScheduler,
    private readonly observer: RunnerObserver,
    private readonly limits: EngineLimits,
  ) {}

  async run(job: TransformJob): Promise<TransformOutput> {
    try {
      return await this.scheduler.run(job.projectId, job.priority, () => this.transform(job));
    } catch (error) {
      if (!(error instanceof EngineError)) throw error;
      throw createAppError(error.code, ENGINE_STATUS[error.code], error.message, {
        ...(error.code === 'TIMEOUT' ? { headers: { 'retry-after': '5' } } : {}),
      });
    }
  }

  private async transform(job: TransformJob): Promise<TransformOutput> {
    const { plan, source: file } = job;
    const source = await this.sources.readSource(file);
    const probe = await this.engine.probe(source, this.limits);
    if (plan.info) {
      const info = await this.engine.describe(source, plan, plan.info, this.limits, job.faces);
      return { data: Buffer.from(JSON.stringify(info)), contentType: 'application/json' };
    }
    const { format } = negotiateFormat(plan.output.format, representativeAccept(job.variant), {
      format: probe.format,
      hasAlpha: probe.hasAlpha,
      animated: probe.pages > 1,
    });
    const overlays = await this.loadOverlays(job, source);
    const started = performance.now();
    const result = await this.engine.transform(source, plan, { format, overlays, limits: this.limits, sourceKey: job.source.blobKey, ...(job.faces ? { faces: job.faces } : {}) });
    this.observer.transformed((performance.now() - started) / 1000);
    const geometric = plan.operations.some((op) => GEOMETRIC_OPERATIONS.has(op.op) || CONCEALING_OPERATIONS.has(op.op));
    // Re-encoding without a geometric change must never cost the client more bytes than the original
    // (a blur must never be undone that way: the original would show what it hides).
    if (!geometric && result.data.length >= file.size) return { data: source, contentType: file.mimeType };
    return { data: result.data, contentType: result.contentType };
  }

  private async loadOverlays(job: TransformJob, source: Buffer): Promise<Map<string, Buffer>> {
    const overlays = new Map<string, Buffer>();
    for (const op of job.plan.operations) {
      if (op.op !== 'overlay' || overlays.has(op.source)) continue;
      if (op.source === 'self') {
        overlays.set('self', source);
        continue;
      }
      const overlay = job.overlays[op.source];
      // The sending node resolved every overlay the plan names; a job without one is malformed.
      if (!overlay) throw createAppError('INVALID_OPERATION', 400, `overlay: ${op.source} is not an image of this project.`);
      overlays.set(op.source, await this.sources.readSource(overlay));
    }
    return overlays;
  }
}
