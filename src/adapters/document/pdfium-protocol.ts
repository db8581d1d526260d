/** The messages between `PdfiumRenderer` and its worker threads, and the worker's small helpers. */
import type { PDFiumPage } from '@hyzyla/pdfium';
import type { DocumentErrorCode } from '../../ports/document-renderer.js';

interface RequestBase {
  id: number;
  /** A copy of the document's bytes, moved to the worker. */
  pdf: ArrayBuffer;
  maxPages: number;
  maxPagePixels: number;
}

export type PdfiumRequest =
  | (RequestBase & { op: 'count' })
  /** `fitPixels`: the density is lowered (to MIN_FIT_DPI at most) so the page fits in that many pixels. */
  | (RequestBase & { op: 'render'; page: number; dpi: number; fitPixels?: number });

/** Below this density a page is not drawn smaller to fit: it is refused as too large. */
export const MIN_FIT_DPI = 9;

/** `retiring`: the thread ends after this answer (its heap is to be freed); nothing more may be sent to it. */
export type PdfiumReply = { retiring?: boolean } & (
  | { id: number; ok: true; pageCount: number; width?: number; height?: number; pixels?: ArrayBuffer }
  | { id: number; ok: false; code: DocumentErrorCode; message: string }
);

/** pdfium's load errors as Trove's codes: a password is DOCUMENT_ENCRYPTED, anything else DOCUMENT_INVALID. */
export function pdfiumFailure(error: unknown): { code: DocumentErrorCode; message: string } {
  const text = error instanceof Error ? error.message : String(error);
  if (/password|security/i.test(text)) {
    return { code: 'DOCUMENT_ENCRYPTED', message: 'The PDF is encrypted (it needs a password): Trove cannot draw or convert it.' };
  }
  return { code: 'DOCUMENT_INVALID', message: `The PDF cannot be read: ${text}.` };
}

/** The wrapper's page keeps its pdfium handle private and closes it only in `render`. */
interface PageInternals {
  module?: { _FPDF_ClosePage?: (handle: number) => void };
  pageIdx?: number;
}

/**
 * Closes a page that is refused before drawing. The wrapper (pinned at 2.1) closes pages only at
 * the end of `render`, so its handle is reached here; should a later version rename it, the page is
 * freed with the worker's heap when the renderer retires the thread.
 */
export function closeUnrenderedPage(page: PDFiumPage): boolean {
  const internals = page as unknown as PageInternals;
  const close = internals.module?._FPDF_ClosePage;
  if (typeof close !== 'function' || typeof internals.pageIdx !== 'number') return false;
  close(internals.pageIdx);
  return true;
}
