import { PdfiumRenderer } from '../adapters/document/pdfium.renderer.js';
import { SharpImageEngine } from '../adapters/image/sharp.engine.js';
import { HttpTransformRunner } from '../adapters/transform/http-transform-runner.js';
import type { Config, Role } from '../config/config.js';
import type { DocumentRenderLimits } from '../ports/document-renderer.js';
import type { EngineLimits } from '../ports/image-engine.js';
import type { SlotLedger } from '../ports/slot-ledger.js';
import type { TransformRunner } from '../ports/transform-runner.js';
import { FairScheduler } from '../services/transform/fair-scheduler.js';
import { LocalTransformRunner } from '../services/transform/local-transform-runner.js';
import type { SourceLoader } from '../services/transform/source-reader.js';
import { TransformNodeService } from '../services/transform/transform-node.service.js';
import type { Basics } from './basics.js';

/** Where this process's transformations run, and the transform role's endpoint when it has that role. */
export interface TransformTier {
  /** Runs transformations fairly between projects, one image per core (the jobs this process runs itself). */
  scheduler: FairScheduler;
  /** What the delivery side hands misses to: the local runner, or the transform nodes when TROVE_TRANSFORM_NODES is set. */
  runner: TransformRunner;
  /** Takes signed jobs from other nodes (transform role); null without that role. */
  node: TransformNodeService | null;
  /** Stops sending jobs out and withdraws this process's slots from the cluster's ledger. */
  close(): Promise<void>;
}

function engineLimits(config: Config): EngineLimits {
  return {
    maxSourcePixels: config.transform.maxSourcePixels,
    maxOutputDimension: config.transform.maxOutputDimension,
    maxAnimationPixels: config.transform.maxAnimationPixels,
    maxSourcePages: config.transform.maxSourcePages,
    maxAnimationSourcePixels: config.transform.maxAnimationSourcePixels,
    timeoutMs: config.transform.timeoutMs,
  };
}

/** JavaScript heap of a pdfium thread; its WebAssembly memory is bounded by the page-pixel limit. */
export const DOCUMENT_THREAD_HEAP_MB = 64;
/** A PDF's first page is drawn at this density before a preview's operations scale it. */
const PREVIEW_DPI = 150;

export function documentLimits(config: Config): DocumentRenderLimits {
  return { maxPages: config.documents.maxPages, maxPagePixels: config.documents.maxPagePixels, timeoutMs: config.documents.timeoutMs };
}

/**
 * The local runner always exists (the scheduler and engine cost nothing until used): it serves the
 * transform role's endpoint, and this process's own misses when no transform nodes are configured.
 * A process with both the transform role and TROVE_TRANSFORM_NODES sends its own misses out and
 * runs the jobs it receives here, so a job never travels twice.
 */
export function createTransformTier(basics: Basics, sources: SourceLoader, slots: SlotLedger): TransformTier {
  const { config, metrics, logger, clock } = basics;
  const scheduler = new FairScheduler(
    {
      concurrency: config.transform.concurrency,
      maxQueuedPerProject: config.transform.maxQueuedPerProject,
      heartbeatMs: config.transform.slotHeartbeatMs,
      retryMs: config.transform.slotRetryMs,
    },
    slots,
    { denied: (priority) => metrics.slotDenials.inc({ priority }) },
  );
  metrics.queueDepth = () => scheduler.queued();
  metrics.slotsInUse = () => scheduler.active;
  // One libvips thread per image: the scheduler already runs one image per core, and more threads only contend.
  const engine = new SharpImageEngine({
    avifEffort: config.transform.avifEffort,
    concurrency: 1,
    intermediates: { maxBytes: config.transform.intermediateCacheBytes, minSourcePixels: config.transform.intermediateMinSourcePixels },
  });
  // PDF previews draw page 1 in pdfium threads, one per transform slot at most (started when first needed).
  const pdfPages = new PdfiumRenderer({ threads: config.transform.concurrency, maxHeapMb: DOCUMENT_THREAD_HEAP_MB });
  const documents = { renderer: pdfPages, limits: documentLimits(config), dpi: PREVIEW_DPI };
  const local = new LocalTransformRunner(sources, engine, scheduler, { transformed: (seconds) => metrics.transformSeconds.observe(seconds) }, engineLimits(config), documents);
  const { nodes, internalSecret } = config.transformTier;
  const remote =
    nodes.length > 0 && internalSecret !== null
      ? new HttpTransformRunner(
          {
            nodes,
            secret: internalSecret,
            // As long as the lock that guards the derivative lives: the node may queue the job first.
            timeoutMs: config.transform.timeoutMs * 2 + 10_000,
            // A derivative, or the original itself when re-encoding would not make it smaller.
            maxAnswerBytes: Math.max(256 * 1024 ** 2, config.transform.maxSourceBytes),
            downForMs: 5_000,
            maxSocketsPerNode: 256,
          },
          {
            exchanged: (node, outcome, seconds) => {
              metrics.transformNodeRequests.inc({ node, outcome });
              metrics.transformNodeSeconds.observe({ node }, seconds);
            },
            nodeDown: (node, reason) => logger.warn({ node, reason }, 'transform node failed; passing over it for 5 s'),
          },
        )
      : null;
  const node = config.roles.has('transform') && internalSecret !== null ? new TransformNodeService(local, internalSecret, clock) : null;
  // Only a process that runs transformations itself registers slots in the cluster's total: a
  // transform node, or one whose misses (delivery), copies (api) or eager jobs (worker) stay here
  // because no transform nodes are configured. Counting the others would promise slots nobody runs.
  const transformingRoles: readonly Role[] = ['delivery', 'api', 'worker'];
  if (node !== null || (remote === null && transformingRoles.some((role) => config.roles.has(role)))) scheduler.start();
  return {
    scheduler,
    runner: remote ?? local,
    node,
    async close() {
      remote?.close();
      await scheduler.close();
      await pdfPages.close();
    },
  };
}
