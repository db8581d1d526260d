import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { LibreOfficeConverter } from '../adapters/document/libreoffice.converter.js';
import { PdfiumRenderer } from '../adapters/document/pdfium.renderer.js';
import { MemorySlotLedger } from '../adapters/slots/memory.slot-ledger.js';
import { documentJobBudgetMs } from '../jobs/catalogue.js';
import type { JobQueue } from '../ports/job-queue.js';
import { DocumentConversionService } from '../services/document-conversion.service.js';
import type { FileIngestService } from '../services/file-ingest.service.js';
import { FairScheduler } from '../services/transform/fair-scheduler.js';
import type { Basics } from './basics.js';
import type { Storage } from './storage.js';
import { DOCUMENT_THREAD_HEAP_MB, documentLimits } from './transform-tier.js';

/** Pages converted to images are drawn at this density (an A4 page: 1240 × 1754 pixels). */
const CONVERSION_DPI = 150;

interface DocumentConversions {
  service: DocumentConversionService;
  close(): Promise<void>;
}

/**
 * Document conversions run as jobs of the `document` lane on the worker role, through their own fair
 * scheduler and pdfium threads (`TROVE_DOCUMENT_CONCURRENCY`), apart from image transformations'.
 */
export function createDocumentConversions(basics: Basics, storage: Pick<Storage, 'config' | 'shards' | 'blobs'>, jobs: JobQueue, ingest: FileIngestService): DocumentConversions {
  const { config, clock, logger } = basics;
  const slots = config.documents.concurrency;
  const scheduler = new FairScheduler(
    // Nothing is refused for a full queue: waiting conversions are jobs, bounded by the lane's leases.
    { concurrency: slots, maxQueuedPerProject: 100_000, idleProjectBurst: 0 },
    new MemorySlotLedger({ slots, nodeTtlMs: 60_000 }),
  );
  const renderer = new PdfiumRenderer({ threads: slots, maxHeapMb: DOCUMENT_THREAD_HEAP_MB });
  const scratchDir = path.join(config.dataDir, 'document-scratch');
  mkdirSync(scratchDir, { recursive: true });
  const office = new LibreOfficeConverter({
    program: config.documents.libreOfficePath,
    timeoutMs: config.documents.libreOfficeTimeoutMs,
    scratchDir,
    maxOutputBytes: config.transform.maxSourceBytes,
    searchPath: config.documents.programSearchPath,
  });
  const service = new DocumentConversionService(
    storage.shards,
    storage.config.projects,
    storage.blobs,
    jobs,
    renderer,
    office,
    ingest,
    scheduler,
    clock,
    {
      limits: documentLimits(config),
      maxSourceBytes: config.transform.maxSourceBytes,
      maxPaths: 100,
      dpi: CONVERSION_DPI,
      budgetMs: documentJobBudgetMs(config),
    },
    logger,
  );
  return {
    service,
    async close() {
      await scheduler.close();
      await renderer.close();
    },
  };
}
