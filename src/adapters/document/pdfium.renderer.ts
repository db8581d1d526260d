import { Worker } from 'node:worker_threads';
import sharp from 'sharp';
import { DocumentError, type DocumentRenderer, type DocumentRenderLimits, type PageImage, type RenderedPage } from '../../ports/document-renderer.js';
import type { PdfiumReply, PdfiumRequest } from './pdfium-protocol.js';

interface RendererSettings {
  /** Worker threads, each drawing one page at a time. */
  threads: number;
  /** Heap of a worker's JavaScript (pdfium's WebAssembly memory is bounded by the page-pixel limit instead). */
  maxHeapMb: number;
}

interface Pending {
  resolve(reply: PdfiumReply): void;
  reject(error: Error): void;
}

/**
 * A thread's start: compiled JavaScript imports the worker module directly; from TypeScript sources
 * (development and tests) it first registers tsx's loader in the thread.
 */
const BOOT = `const { workerData } = require('node:worker_threads');
(async () => {
  if (workerData.entry.endsWith('.ts')) (await import('tsx/esm/api')).register();
  await import(workerData.entry);
})();`;

const WORKER_ENTRY = new URL(import.meta.url.endsWith('.ts') ? './pdfium.worker.ts' : './pdfium.worker.js', import.meta.url).href;

/** One thread and the request it is answering, if any. */
class PdfiumThread {
  private readonly worker: Worker;
  private pending: Pending | null = null;
  private ended = false;

  constructor(maxHeapMb: number, onEnd: (thread: PdfiumThread) => void) {
    this.worker = new Worker(BOOT, { eval: true, workerData: { entry: WORKER_ENTRY }, resourceLimits: { maxOldGenerationSizeMb: maxHeapMb } });
    this.worker.unref();
    this.worker.on('message', (reply: PdfiumReply) => {
      // A retiring thread is ended from now on: it is given no other request, and its exit is expected.
      if (reply.retiring) this.ended = true;
      const pending = this.pending;
      this.pending = null;
      pending?.resolve(reply);
    });
    const end = (error: Error) => {
      if (this.ended) return;
      this.ended = true;
      this.pending?.reject(error);
      this.pending = null;
      onEnd(this);
    };
    this.worker.on('error', (error) => end(error));
    this.worker.on('exit', (code) => end(new Error(`the pdfium thread ended (code ${code})`)));
  }

  get alive(): boolean {
    return !this.ended;
  }

  /** Sends one request; past the deadline the thread is stopped, which frees everything pdfium held. */
  ask(request: PdfiumRequest, timeoutMs: number): Promise<PdfiumReply> {
    return new Promise<PdfiumReply>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending = null;
        // Ended now, not when the thread has stopped: nothing may be sent to it meanwhile.
        this.ended = true;
        reject(new DocumentError('DOCUMENT_TIMEOUT', `Reading the PDF took longer than ${timeoutMs} ms and was stopped.`));
        void this.stop();
      }, timeoutMs);
      this.pending = {
        resolve: (reply) => {
          clearTimeout(timer);
          resolve(reply);
        },
        reject: (error) => {
          clearTimeout(timer);
          // A thread that dies mid-request (out of memory, a crash in pdfium) took the document with it.
          reject(new DocumentError('DOCUMENT_INVALID', `The PDF could not be read: ${error.message}.`));
        },
      };
      this.worker.postMessage(request, [request.pdf]);
    });
  }

  async stop(): Promise<void> {
    await this.worker.terminate();
  }
}

/**
 * Draws PDF pages with pdfium (WebAssembly) in worker threads: a request waits for a free thread,
 * runs under a deadline, and a thread that passed it, crashed or ran out of memory is replaced.
 * Threads start when first needed.
 */
export class PdfiumRenderer implements DocumentRenderer {
  private readonly idle: PdfiumThread[] = [];
  private readonly waiting: { take(thread: PdfiumThread): void; refuse(error: Error): void }[] = [];
  private threads = 0;
  private nextId = 1;
  private closed = false;

  constructor(private readonly settings: RendererSettings) {}

  async pageCount(pdf: Buffer, limits: DocumentRenderLimits): Promise<number> {
    const reply = await this.request({ op: 'count', id: 0, pdf: copyOf(pdf), maxPages: limits.maxPages, maxPagePixels: limits.maxPagePixels }, limits.timeoutMs);
    return reply.pageCount;
  }

  async renderPage(pdf: Buffer, page: number, dpi: number, limits: DocumentRenderLimits, fitPixels?: number): Promise<RenderedPage> {
    const reply = await this.request(
      { op: 'render', id: 0, pdf: copyOf(pdf), page, dpi, maxPages: limits.maxPages, maxPagePixels: limits.maxPagePixels, ...(fitPixels === undefined ? {} : { fitPixels }) },
      limits.timeoutMs,
    );
    if (reply.pixels === undefined || reply.width === undefined || reply.height === undefined) throw new Error('pdfium answered without pixels');
    return { width: reply.width, height: reply.height, pixels: Buffer.from(reply.pixels), pageCount: reply.pageCount };
  }

  async renderImage(pdf: Buffer, page: number, options: { dpi: number; format: 'png' | 'jpeg'; fast?: boolean; fitPixels?: number }, limits: DocumentRenderLimits): Promise<PageImage> {
    const drawn = await this.renderPage(pdf, page, options.dpi, limits, options.fitPixels);
    const image = sharp(drawn.pixels, { raw: { width: drawn.width, height: drawn.height, channels: 4 } }).removeAlpha();
    const data =
      options.format === 'jpeg'
        ? await image.jpeg({ quality: 85, mozjpeg: true }).toBuffer()
        : await image.png(options.fast ? { compressionLevel: 0, adaptiveFiltering: false } : { compressionLevel: 9, palette: false }).toBuffer();
    return { data, format: options.format, width: drawn.width, height: drawn.height, pageCount: drawn.pageCount };
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const waiter of this.waiting.splice(0)) waiter.refuse(new Error('the PDF renderer is closed'));
    const threads = this.idle.splice(0);
    this.threads -= threads.length;
    await Promise.all(threads.map((thread) => thread.stop()));
  }

  private async request(request: PdfiumRequest, timeoutMs: number): Promise<Extract<PdfiumReply, { ok: true }>> {
    if (this.closed) throw new Error('the PDF renderer is closed');
    const thread = await this.take();
    let reply: PdfiumReply;
    try {
      reply = await thread.ask({ ...request, id: this.nextId++ }, timeoutMs);
    } finally {
      this.give(thread);
    }
    if (!reply.ok) throw new DocumentError(reply.code, reply.message);
    return reply;
  }

  private take(): Promise<PdfiumThread> {
    const ready = this.idle.pop();
    if (ready) return Promise.resolve(ready);
    if (this.threads < this.settings.threads) {
      this.threads += 1;
      return Promise.resolve(new PdfiumThread(this.settings.maxHeapMb, (ended) => this.forget(ended)));
    }
    return new Promise((resolve, reject) => this.waiting.push({ take: resolve, refuse: reject }));
  }

  /** A thread back from a request: to the next waiter, to the idle list, or replaced when it ended. */
  private give(thread: PdfiumThread): void {
    if (!thread.alive || this.closed) {
      if (this.closed && thread.alive) void thread.stop();
      this.replaceFor(thread);
      return;
    }
    const next = this.waiting.shift();
    if (next) next.take(thread);
    else this.idle.push(thread);
  }

  private forget(thread: PdfiumThread): void {
    const at = this.idle.indexOf(thread);
    if (at >= 0) {
      this.idle.splice(at, 1);
      this.threads -= 1;
    }
  }

  /** An ended thread's place goes to a fresh one when someone waits for it. */
  private replaceFor(thread: PdfiumThread): void {
    if (this.idle.includes(thread)) return;
    this.threads -= 1;
    if (this.closed) return;
    const next = this.waiting.shift();
    if (!next) return;
    this.threads += 1;
    next.take(new PdfiumThread(this.settings.maxHeapMb, (ended) => this.forget(ended)));
  }
}

/** The bytes in an ArrayBuffer of their own, which moves to the thread without a second copy. */
function copyOf(bytes: Buffer): ArrayBuffer {
  const copy = new ArrayBuffer(bytes.length);
  new Uint8Array(copy).set(bytes);
  return copy;
}
