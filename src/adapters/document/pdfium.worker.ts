/**
 * The body of a pdfium worker thread: it loads pdfium's WebAssembly once, then answers one request
 * at a time. Every pdfium object a request makes (document, page, bitmap) is freed before the answer
 * goes back, whatever happened; a request that never ends is the parent's to stop (it terminates
 * the thread, which frees the whole WebAssembly heap).
 */
import { parentPort } from 'node:worker_threads';
import { PDFiumLibrary, type PDFiumDocument, type PDFiumPage } from '@hyzyla/pdfium';
import { closeUnrenderedPage, MIN_FIT_DPI, pdfiumFailure, type PdfiumReply, type PdfiumRequest } from './pdfium-protocol.js';

const port = parentPort;
if (!port) throw new Error('pdfium.worker runs as a worker thread');

const library = PDFiumLibrary.init();
/** Pages above this many pixels (about 48 MiB of RGBA) are drawn by a thread that then ends. */
const RETIRE_AFTER_PIXELS = 12_000_000;
/** Set when a page could not be closed or was large: the thread ends after its answer, and its heap goes with it. */
let retire = false;

async function answer(request: PdfiumRequest): Promise<PdfiumReply> {
  const pdfium = await library;
  let document: PDFiumDocument;
  try {
    document = await pdfium.loadDocument(new Uint8Array(request.pdf));
  } catch (error) {
    return { id: request.id, ok: false, ...pdfiumFailure(error) };
  }
  try {
    const pageCount = document.getPageCount();
    if (pageCount < 1) return { id: request.id, ok: false, code: 'DOCUMENT_INVALID', message: 'The PDF has no pages.' };
    if (pageCount > request.maxPages) {
      return { id: request.id, ok: false, code: 'DOCUMENT_TOO_LARGE', message: `The PDF has ${pageCount} pages; Trove reads documents of up to ${request.maxPages} pages.` };
    }
    if (request.op === 'count') return { id: request.id, ok: true, pageCount };
    if (request.page > pageCount) {
      return { id: request.id, ok: false, code: 'DOCUMENT_TOO_LARGE', message: `Page ${request.page} does not exist: the PDF has ${pageCount} pages.` };
    }
    const page: PDFiumPage = document.getPage(request.page - 1);
    const { originalWidth, originalHeight } = page.getOriginalSize();
    let dpi = request.dpi;
    if (request.fitPixels !== undefined && originalWidth > 0 && originalHeight > 0) {
      const fitting = Math.sqrt(request.fitPixels / (originalWidth * originalHeight)) * 72;
      if (fitting < dpi) dpi = Math.max(MIN_FIT_DPI, fitting);
    }
    const scale = dpi / 72;
    const width = Math.max(1, Math.round(originalWidth * scale));
    const height = Math.max(1, Math.round(originalHeight * scale));
    // The bitmap is allocated from the page's declared size: a MediaBox of 200 000 points would ask
    // for terabytes, so the size is judged before pdfium draws anything.
    if (!Number.isFinite(width * height) || width * height > request.maxPagePixels) {
      if (!closeUnrenderedPage(page)) retire = true;
      return {
        id: request.id,
        ok: false,
        code: 'DOCUMENT_TOO_LARGE',
        message: `Page ${request.page} measures ${Math.round(originalWidth)} × ${Math.round(originalHeight)} points: ${width} × ${height} pixels at ${Math.round(dpi)} dpi, beyond the ${request.maxPagePixels} pixels Trove draws.`,
      };
    }
    // WebAssembly memory grows to the largest bitmap drawn and never shrinks: a thread that drew a
    // large page ends after answering, so its heap goes back to the system.
    if (width * height > RETIRE_AFTER_PIXELS) retire = true;
    // `render` closes the page and destroys its bitmap itself, also when it throws.
    const rendered = await page.render({ width, height, scale: 1, colorSpace: 'BGRA', render: 'bitmap', renderFormFields: false, transparent: false });
    // pdfium writes BGRA; asked for the reversed byte order (as this wrapper does), it is RGBA.
    const pixels = rendered.data.buffer.slice(rendered.data.byteOffset, rendered.data.byteOffset + rendered.data.byteLength) as ArrayBuffer;
    return { id: request.id, ok: true, pageCount, width: rendered.width, height: rendered.height, pixels };
  } catch (error) {
    return { id: request.id, ok: false, ...pdfiumFailure(error) };
  } finally {
    document.destroy();
  }
}

port.on('message', (request: PdfiumRequest) => {
  answer(request).then(
    (reply) => {
      port.postMessage({ ...reply, retiring: retire }, reply.ok && reply.pixels ? [reply.pixels] : []);
      if (retire) process.exit(0);
    },
    (error: unknown) => port.postMessage({ id: request.id, ok: false, ...pdfiumFailure(error) } satisfies PdfiumReply),
  );
});
