import { PDF_MIME_TYPE } from '../../domain/document-conversion.js';
import { negotiateFormat } from '../../domain/transform/negotiate.js';
import { CONCEALING_OPERATIONS, GEOMETRIC_OPERATIONS } from '../../domain/transform/operations.js';
import { createAppError, type StatusOf } from '../../errors.js';
import { DocumentError, type DocumentRenderer, type DocumentRenderLimits } from '../../ports/document-renderer.js';
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

/** PDFs on the CDN: page 1 drawn by the renderer, then transformed like any image. */
interface DocumentPreviews {
  renderer: DocumentRenderer;
  limits: DocumentRenderLimits;
  /** Density page 1 is drawn at before the plan's own operations. */
  dpi: number;
}

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
    private readonly documents: DocumentPreviews | null = null,
  ) {}

  async run(job: TransformJob): Promise<TransformOutput> {
    try {
      return await this.scheduler.run(job.projectId, job.priority, () => this.transform(job));
    } catch (error) {
      if (error instanceof DocumentError) throw createAppError(error.code, 422, error.message);
      if (!(error instanceof EngineError)) throw error;
      throw createAppError(error.code, ENGINE_STATUS[error.code], error.message, {
        ...(error.code === 'TIMEOUT' ? { headers: { 'retry-after': '5' } } : {}),
      });
    }
  }

  private async transform(job: TransformJob): Promise<TransformOutput> {
    const { plan, source: file } = job;
    const original = await this.sources.readSource(file);
    const document = file.mimeType === PDF_MIME_TYPE;
    const source = document ? await this.firstPage(original) : original;
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
    const sourceKey = document ? `${job.source.blobKey}#page-1` : job.source.blobKey;
    const result = await this.engine.transform(source, plan, { format, overlays, limits: this.limits, sourceKey, ...(job.faces ? { faces: job.faces } : {}) });
    this.observer.transformed((performance.now() - started) / 1000);
    const geometric = plan.operations.some((op) => GEOMETRIC_OPERATIONS.has(op.op) || CONCEALING_OPERATIONS.has(op.op));
    // Re-encoding without a geometric change must never cost the client more bytes than the original
    // (a blur must never be undone that way: the original would show what it hides; and a document's
    // original is not the image asked for: its page always goes out transformed).
    if (!document && !geometric && result.data.length >= file.size) return { data: source, contentType: file.mimeType };
    return { data: result.data, contentType: result.contentType };
  }

  /** Page 1 of a PDF as an uncompressed PNG: decoded again at once by the engine. */
  private async firstPage(pdf: Buffer): Promise<Buffer> {
    if (!this.documents) throw createAppError('NOT_AN_IMAGE', 400, 'This server does not draw PDF pages: image operations do not apply.');
    const { renderer, limits, dpi } = this.documents;
    // A poster-sized page is drawn at a lower density rather than refused by the engine's source limit.
    const page = await renderer.renderImage(pdf, 1, { dpi, format: 'png', fast: true, fitPixels: this.limits.maxSourcePixels }, limits);
    return page.data;
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
