/** Why a document could not be read or drawn; mapped to HTTP (and to a failed job's reason) in one place. */
export type DocumentErrorCode = 'DOCUMENT_ENCRYPTED' | 'DOCUMENT_INVALID' | 'DOCUMENT_TOO_LARGE' | 'DOCUMENT_TIMEOUT';

export class DocumentError extends Error {
  readonly code: DocumentErrorCode;
  constructor(code: DocumentErrorCode, message: string) {
    super(message);
    this.name = 'DocumentError';
    this.code = code;
  }
}

/** One page drawn: RGBA pixels, 4 bytes each, row after row. */
export interface RenderedPage {
  width: number;
  height: number;
  pixels: Buffer;
  /** Pages of the whole document. */
  pageCount: number;
}

/** One page drawn and encoded. */
export interface PageImage {
  data: Buffer;
  format: 'png' | 'jpeg';
  width: number;
  height: number;
  pageCount: number;
}

export interface DocumentRenderLimits {
  /** Most pages a document may have. */
  maxPages: number;
  /** Most pixels of one drawn page, checked from its size before drawing. */
  maxPagePixels: number;
  /** Deadline of one call. */
  timeoutMs: number;
}

/**
 * Draws PDF pages. Implementations isolate the parser (worker threads, a deadline) and free
 * everything they allocate, so a hostile document costs one refusal, never the process.
 */
export interface DocumentRenderer {
  /** Pages of the document; throws `DocumentError` for an encrypted, malformed or too long one. */
  pageCount(pdf: Buffer, limits: DocumentRenderLimits): Promise<number>;
  /** Page `page` (1-based) at `dpi` dots per inch; throws `DocumentError`. */
  renderPage(pdf: Buffer, page: number, dpi: number, limits: DocumentRenderLimits): Promise<RenderedPage>;
  /**
   * Page `page` as an image file. `fast`: a PNG without compression, for pixels that are only
   * decoded again at once (a CDN preview's transformation). `fitPixels`: a large page is drawn at a
   * lower density so it fits in that many pixels (a page too large even at a few dpi is refused).
   */
  renderImage(pdf: Buffer, page: number, options: { dpi: number; format: 'png' | 'jpeg'; fast?: boolean; fitPixels?: number }, limits: DocumentRenderLimits): Promise<PageImage>;
  close(): Promise<void>;
}
