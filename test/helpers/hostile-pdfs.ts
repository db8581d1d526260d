/** Hostile PDFs for tests: encrypted (by qpdf), truncated, with thousands of pages, a huge page, JavaScript. */
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { a4Pdf, buildPdf } from './pdf-files.js';

const run = promisify(execFile);

/** A copy of `pdf` that opens only with a user password (AES-256, by qpdf). */
export async function encryptedPdf(pdf: Buffer): Promise<Buffer> {
  const dir = await mkdtemp(path.join(tmpdir(), 'trove-qpdf-'));
  try {
    await writeFile(path.join(dir, 'in.pdf'), pdf);
    await run('qpdf', ['--encrypt', 'user-secret', 'owner-secret', '256', '--', path.join(dir, 'in.pdf'), path.join(dir, 'out.pdf')]);
    return await readFile(path.join(dir, 'out.pdf'));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

export function truncatedPdf(): Buffer {
  return a4Pdf(2).subarray(0, 200);
}

export function thousandsOfPagesPdf(pages = 3000): Buffer {
  return buildPdf({ pages: Array.from({ length: pages }, () => ({ width: 200, height: 200 })) });
}

/** One page whose MediaBox is 200 000 points on a side (about 70 m). */
export function hugePagePdf(): Buffer {
  return buildPdf({ pages: [{ width: 200_000, height: 200_000 }] });
}

/** An ordinary page whose catalog asks to run JavaScript (an alert and a form submission) when opened. */
export function javascriptPdf(): Buffer {
  return buildPdf({ pages: [{ width: 300, height: 200 }], javascript: true, text: 'Scripted' });
}
