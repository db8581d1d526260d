/**
 * A PDF page on the CDN: the cold preview of page 1 through Trove (`GET /:uuid/-/preview/400x400/`
 * over HTTP, a fresh upload each round so no cache holds it: the original read, page 1 drawn by pdfium
 * in a worker thread at 150 dpi, the transformation, the derivative written) against the same work
 * done directly in this process: pdfium (already loaded) draws page 1 at 150 dpi, sharp scales it
 * into 400 × 400 and encodes it in the format Trove answered with. Rounds alternate which side goes
 * first; the table gives each side's median and best and their ratio.
 *
 *   npm run build && npm run bench:documents     (BENCH_ROUNDS=15, BENCH_LINES=60 lines of text
 *   on the A4 page, BENCH_PORT=3967)
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { PDFiumLibrary } from '@hyzyla/pdfium';
import sharp from 'sharp';
import { buildPdf } from '../test/helpers/pdf-files.js';
import { percentile, printTable, RATE_LIMITS_OFF, startTroveProcess, type TroveProcess } from './lib/trove-process.js';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 15);
const LINES = Number(process.env.BENCH_LINES ?? 60);
const PORT = Number(process.env.BENCH_PORT ?? 3967);
/** The density Trove draws a preview's page at (src/wiring/transform-tier.ts). */
const DPI = 150;

function pdfOf(round: number): Buffer {
  // A different title each round: different bytes, so every upload is a new original and every preview a miss.
  return buildPdf({ pages: [{ width: 595, height: 842 }, { width: 595, height: 842 }], text: `Round ${round}`, lines: LINES });
}

async function upload(trove: TroveProcess, bytes: Buffer, name: string): Promise<string> {
  const form = new FormData();
  form.set('UPLOADCARE_PUB_KEY', trove.publicKey);
  form.set('UPLOADCARE_STORE', '1');
  form.set('file', new Blob([bytes], { type: 'application/pdf' }), name);
  const answer = (await (await fetch(`${trove.uploadUrl}/base/`, { method: 'POST', body: form })).json()) as { file?: string };
  if (!answer.file) throw new Error(`upload failed: ${JSON.stringify(answer)}`);
  return answer.file;
}

async function throughTrove(trove: TroveProcess, round: number): Promise<{ ms: number; format: string }> {
  const uuid = await upload(trove, pdfOf(round), `round-${round}.pdf`);
  const started = performance.now();
  const response = await fetch(`${trove.url}/${uuid}/-/preview/400x400/`);
  const bytes = Buffer.from(await response.arrayBuffer());
  const ms = performance.now() - started;
  if (response.status !== 200) throw new Error(`preview answered ${response.status}: ${bytes.toString().slice(0, 200)}`);
  const meta = await sharp(bytes).metadata();
  return { ms, format: meta.format ?? 'unknown' };
}

async function direct(library: Awaited<ReturnType<typeof PDFiumLibrary.init>>, round: number, format: string): Promise<number> {
  const pdf = pdfOf(round);
  const started = performance.now();
  const document = await library.loadDocument(pdf);
  try {
    const page = document.getPage(0);
    const { originalWidth, originalHeight } = page.getOriginalSize();
    const drawn = await page.render({ width: Math.round((originalWidth * DPI) / 72), height: Math.round((originalHeight * DPI) / 72), scale: 1, render: 'bitmap' });
    const scaled = sharp(Buffer.from(drawn.data), { raw: { width: drawn.width, height: drawn.height, channels: 4 } })
      .removeAlpha()
      .resize(400, 400, { fit: 'inside' });
    await (format === 'png' ? scaled.png() : format === 'webp' ? scaled.webp() : scaled.jpeg()).toBuffer();
  } finally {
    document.destroy();
  }
  return performance.now() - started;
}

async function main(): Promise<void> {
  const dataDir = await mkdtemp(path.join(tmpdir(), 'trove-bench-documents-'));
  const trove = await startTroveProcess({ dataDir, port: PORT, env: { ...RATE_LIMITS_OFF } });
  const library = await PDFiumLibrary.init();
  try {
    // One warm-up each: the first preview starts Trove's pdfium thread, the first direct call warms this process.
    const warm = await throughTrove(trove, -1);
    await direct(library, -1, warm.format);
    const troveMs: number[] = [];
    const directMs: number[] = [];
    for (let round = 0; round < ROUNDS; round += 1) {
      const sides = [
        async () => troveMs.push((await throughTrove(trove, round)).ms),
        async () => directMs.push(await direct(library, round, warm.format)),
      ];
      if (round % 2 === 1) sides.reverse();
      for (const side of sides) await side();
    }
    troveMs.sort((a, b) => a - b);
    directMs.sort((a, b) => a - b);
    const median = (values: number[]) => percentile(values, 50);
    printTable(`PDF page 1 → 400 × 400 ${warm.format} (A4, ${LINES} lines of text, ${DPI} dpi), ${ROUNDS} rounds`, [
      { side: 'Trove: cold /-/preview/400x400/ over HTTP', 'median ms': median(troveMs).toFixed(1), 'best ms': troveMs[0]!.toFixed(1) },
      { side: 'pdfium + sharp directly, in process', 'median ms': median(directMs).toFixed(1), 'best ms': directMs[0]!.toFixed(1) },
      { side: 'ratio Trove / direct', 'median ms': (median(troveMs) / median(directMs)).toFixed(2), 'best ms': (troveMs[0]! / directMs[0]!).toFixed(2) },
    ]);
  } finally {
    library.destroy();
    await trove.stop();
    await rm(dataDir, { recursive: true, force: true });
  }
}

await main();
