import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { mkdtemp, readdir, rm, utimes, mkdir } from 'node:fs/promises';
import path from 'node:path';
import sharp from 'sharp';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { PdfiumRenderer } from '../../src/adapters/document/pdfium.renderer.js';
import { LibreOfficeConverter } from '../../src/adapters/document/libreoffice.converter.js';
import { DocumentError, type DocumentRenderLimits } from '../../src/ports/document-renderer.js';
import { encryptedPdf, hugePagePdf, javascriptPdf, thousandsOfPagesPdf, truncatedPdf } from '../helpers/hostile-pdfs.js';
import { docxOf, docxWithRemoteImage } from '../helpers/office-files.js';
import { a4Pdf, buildPdf } from '../helpers/pdf-files.js';
import { libreOfficeForTests } from '../helpers/libreoffice.js';

const SEARCH_PATH = process.env['PATH'] ?? '/usr/bin:/bin';
const limits: DocumentRenderLimits = { maxPages: 1000, maxPagePixels: 50_000_000, timeoutMs: 10_000 };

async function refusal(work: Promise<unknown>): Promise<DocumentError> {
  const error = await work.then(
    () => null,
    (reason: unknown) => reason,
  );
  expect(error).toBeInstanceOf(DocumentError);
  return error as DocumentError;
}

describe('PdfiumRenderer (pdfium in worker threads)', () => {
  const renderer = new PdfiumRenderer({ threads: 2, maxHeapMb: 64 });
  afterAll(() => renderer.close());

  it('counts pages and draws the page asked for at the density asked for', async () => {
    expect(await renderer.pageCount(a4Pdf(3), limits)).toBe(3);
    const page = await renderer.renderPage(a4Pdf(3), 2, 72, limits);
    expect(page).toMatchObject({ width: 595, height: 842, pageCount: 3 });
    expect(page.pixels.length).toBe(595 * 842 * 4);
    // The blue box of the test page, drawn near its bottom left corner (PDF y grows upwards).
    const at = ((842 - 60) * 595 + 60) * 4;
    expect([...page.pixels.subarray(at, at + 3)]).toEqual([51, 102, 204]);
    const image = await renderer.renderImage(a4Pdf(1), 1, { dpi: 150, format: 'png' }, limits);
    expect(await sharp(image.data).metadata()).toMatchObject({ format: 'png', width: 1240, height: 1754 });
    const jpeg = await renderer.renderImage(a4Pdf(1), 1, { dpi: 36, format: 'jpeg' }, limits);
    expect(await sharp(jpeg.data).metadata()).toMatchObject({ format: 'jpeg', width: 298, height: 421 });
  });

  it('refuses an encrypted PDF as DOCUMENT_ENCRYPTED', async () => {
    const locked = await encryptedPdf(a4Pdf(1));
    expect((await refusal(renderer.pageCount(locked, limits))).code).toBe('DOCUMENT_ENCRYPTED');
    expect((await refusal(renderer.renderPage(locked, 1, 72, limits))).code).toBe('DOCUMENT_ENCRYPTED');
  });

  it('refuses malformed and truncated bytes as DOCUMENT_INVALID', async () => {
    for (const bytes of [truncatedPdf(), Buffer.from('%PDF-1.7\nnothing else'), Buffer.alloc(0), Buffer.from('GIF89a')]) {
      const error = await refusal(renderer.renderPage(bytes, 1, 72, limits));
      expect(error.code).toBe('DOCUMENT_INVALID');
      expect(error.message).toMatch(/cannot be read/);
    }
  });

  it('refuses too many pages, a page past the end and a page too large to draw, before drawing', async () => {
    const many = await refusal(renderer.pageCount(thousandsOfPagesPdf(3000), limits));
    expect(many.code).toBe('DOCUMENT_TOO_LARGE');
    expect(many.message).toMatch(/3000 pages; Trove reads documents of up to 1000/);
    expect((await refusal(renderer.renderPage(a4Pdf(2), 3, 72, limits))).message).toMatch(/Page 3 does not exist: the PDF has 2 pages/);
    const huge = await refusal(renderer.renderPage(hugePagePdf(), 1, 150, limits));
    expect(huge.code).toBe('DOCUMENT_TOO_LARGE');
    expect(huge.message).toMatch(/200000 × 200000 points/);
    // The same page at a density that fits is drawn.
    const small = await renderer.renderPage(a4Pdf(1), 1, 10, { ...limits, maxPagePixels: 20_000 });
    expect(small.width * small.height).toBeLessThanOrEqual(20_000);
  });

  it('draws a poster-sized page at a lower density to fit a pixel budget, but not a page of 200 000 points', async () => {
    const poster = buildPdf({ pages: [{ width: 2384, height: 3370 }] });
    const fitted = await renderer.renderImage(poster, 1, { dpi: 150, format: 'png', fast: true, fitPixels: 4_000_000 }, limits);
    expect(fitted.width * fitted.height).toBeLessThanOrEqual(4_000_000);
    expect(fitted.width).toBeGreaterThan(1500);
    const huge = await refusal(renderer.renderImage(hugePagePdf(), 1, { dpi: 150, format: 'png', fitPixels: 4_000_000 }, limits));
    expect(huge.code).toBe('DOCUMENT_TOO_LARGE');
  });

  it('hands a thread that drew a large page no further work (it ends to give its memory back), and carries on', async () => {
    const single = new PdfiumRenderer({ threads: 1, maxHeapMb: 64 });
    try {
      const poster = buildPdf({ pages: [{ width: 2384, height: 3370 }] });
      for (let round = 0; round < 3; round += 1) expect((await single.renderPage(poster, 1, 150, limits)).width).toBe(4967);
      const pages = await Promise.all([1, 2, 3].map(() => single.renderPage(a4Pdf(1), 1, 150, limits)));
      expect(pages.map((page) => page.width)).toEqual([1240, 1240, 1240]);
    } finally {
      await single.close();
    }
  }, 60_000);

  it('draws a page whose document asks to run JavaScript, without running it', async () => {
    const page = await renderer.renderPage(javascriptPdf(), 1, 72, limits);
    expect(page).toMatchObject({ width: 300, height: 200, pageCount: 1 });
  });

  it('stops a thread past the deadline, and the next request gets a fresh one', async () => {
    const slow = await refusal(renderer.renderPage(a4Pdf(1), 1, 300, { ...limits, timeoutMs: 1 }));
    expect(slow.code).toBe('DOCUMENT_TIMEOUT');
    const pages = await Promise.all([1, 2, 3, 4, 5].map((n) => renderer.renderPage(a4Pdf(5), n, 20, limits)));
    expect(pages.map((page) => page.width)).toEqual([165, 165, 165, 165, 165]);
  });

  it('draws the same page sixty times in a row on the same threads', async () => {
    const pdf = a4Pdf(1);
    for (let round = 0; round < 60; round += 1) {
      const page = await renderer.renderPage(pdf, 1, 150, limits);
      expect(page.width).toBe(1240);
    }
  }, 60_000);
});

describe('LibreOfficeConverter', () => {
  const office = libreOfficeForTests();
  let scratchDir: string;
  beforeEach(async () => {
    scratchDir = await mkdtemp(path.join(tmpdir(), 'trove-office-test-'));
  });
  afterEach(() => rm(scratchDir, { recursive: true, force: true }));

  it.skipIf(!office.present)('turns a DOCX into a PDF pdfium reads, and leaves no scratch files', async () => {
    const converter = new LibreOfficeConverter({ program: office.program, timeoutMs: 120_000, scratchDir, maxOutputBytes: 50 * 1024 ** 2, searchPath: SEARCH_PATH });
    expect(await converter.status()).toEqual({ available: true });
    const pdf = await converter.toPdf(docxOf(['A document for Trove', 'with two paragraphs']), 'docx');
    expect(pdf.subarray(0, 5).toString()).toBe('%PDF-');
    const renderer = new PdfiumRenderer({ threads: 1, maxHeapMb: 64 });
    try {
      expect(await renderer.pageCount(pdf, limits)).toBe(1);
    } finally {
      await renderer.close();
    }
    expect(await readdir(scratchDir)).toEqual([]);
  }, 180_000);

  it.skipIf(!office.present)('does not fetch a picture the document links to', async () => {
    let requests = 0;
    const server = createServer((_request, response) => {
      requests += 1;
      response.end();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = server.address() as AddressInfo;
      const converter = new LibreOfficeConverter({ program: office.program, timeoutMs: 120_000, scratchDir, maxOutputBytes: 50 * 1024 ** 2, searchPath: SEARCH_PATH });
      const pdf = await converter.toPdf(docxWithRemoteImage(`http://127.0.0.1:${port}/probe.png`), 'docx');
      expect(pdf.subarray(0, 5).toString()).toBe('%PDF-');
      expect(requests).toBe(0);
    } finally {
      server.close();
    }
  }, 180_000);

  it.skipIf(!office.present)('kills LibreOffice at its deadline and says so', async () => {
    const converter = new LibreOfficeConverter({ program: office.program, timeoutMs: 1_000, scratchDir, maxOutputBytes: 50 * 1024 ** 2, searchPath: SEARCH_PATH });
    await converter.status();
    const error = await refusal(converter.toPdf(docxOf(['slow']), 'docx'));
    expect(error.code).toBe('DOCUMENT_TIMEOUT');
    // The run's directory (input, profile, output) went with it.
    expect(await readdir(scratchDir)).toEqual([]);
  }, 60_000);

  it('removes run directories a crashed process left, and only old ones', async () => {
    const stale = path.join(scratchDir, 'trove-office-stale');
    const recent = path.join(scratchDir, 'trove-office-recent');
    const other = path.join(scratchDir, 'someone-elses');
    for (const dir of [stale, recent, other]) await mkdir(dir);
    const longAgo = new Date(Date.now() - 3 * 3_600_000);
    await utimes(stale, longAgo, longAgo);
    await utimes(other, longAgo, longAgo);
    const converter = new LibreOfficeConverter({ program: '/nonexistent/soffice', timeoutMs: 10_000, scratchDir, maxOutputBytes: 1024, searchPath: SEARCH_PATH });
    await converter.status();
    expect((await readdir(scratchDir)).sort()).toEqual(['someone-elses', 'trove-office-recent']);
  });

  it('names the packages to install when LibreOffice is missing', async () => {
    const converter = new LibreOfficeConverter({ program: '/nonexistent/soffice', timeoutMs: 10_000, scratchDir, maxOutputBytes: 1024, searchPath: SEARCH_PATH });
    const status = await converter.status();
    expect(status.available).toBe(false);
    expect(status.available ? '' : status.reason).toMatch(/apt-get install libreoffice-writer-nogui/);
  });
});
