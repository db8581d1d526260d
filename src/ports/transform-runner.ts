import type { FaceSet } from '../domain/faces.js';
import type { TransformPlan } from '../domain/transform/operations.js';

/** An original in the blob store, as a transformation reads it: what its record says, nothing more. */
export interface TransformSource {
  uuid: string;
  blobKey: string;
  size: number;
  mimeType: string;
}

/** The format class a request negotiated (see `accept-variant.ts`): an explicit format, `preserve`, or an `auto-*` class. */
export type TransformVariant = 'jpeg' | 'png' | 'webp' | 'avif' | 'gif' | 'preserve' | 'auto-avif' | 'auto-webp' | 'auto-basic';

/**
 * Everything a transformation needs, decided beforehand by the node that read the records: a runner
 * reads bytes from the blob store and runs the engine, and never opens a database. The records were
 * checked (an image, within the size limit, overlays of the same project) and the project's
 * `delivery-miss` token spent before a job exists.
 */
export interface TransformJob {
  /** The derivative's blob key: which node computes it is chosen from this. */
  key: string;
  projectId: string;
  /** A request someone waits for goes before eager derivatives, which go before background copies (see FairScheduler). */
  priority: 'interactive' | 'eager' | 'background';
  source: TransformSource;
  /** Overlay files by the id the plan names them with (`self`, the source itself, is not listed). */
  overlays: Record<string, TransformSource>;
  plan: TransformPlan;
  variant: TransformVariant;
  /** The source's stored face detection, when the plan uses faces (read before the job exists). */
  faces?: FaceSet;
}

export interface TransformOutput {
  data: Buffer;
  contentType: string;
}

/**
 * Runs transformation jobs: in this process (the local runner) or on a transform node (the remote
 * runner). Refusals arrive as the same `AppError`s either way (SOURCE_TOO_LARGE, TIMEOUT,
 * TRANSFORM_QUEUE_FULL…), so clients get the same answers whichever runs the job.
 */
export interface TransformRunner {
  run(job: TransformJob): Promise<TransformOutput>;
}
