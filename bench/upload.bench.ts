/**
 * Upload throughput and memory: a 1 GiB file through multipart and a 90 MiB file through /base/
 * into the filesystem store, beside `cp` of the same file on the same disk, with the server's peak
 * RSS; then 200 concurrent 50 KB direct uploads (uploads/s, p50/p99).
 *
 *   npm run build && npm run bench:upload            (BENCH_BIG_MIB=1024 BENCH_SMALL_COUNT=2000)
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createReadStream, openAsBlob } from 'node:fs';
import { mkdtemp, open, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { percentile, printTable, startTroveProcess } from './lib/trove-process.js';

const BIG_MIB = Number(process.env.BENCH_BIG_MIB ?? 1024);
const DIRECT_MIB = Number(process.env.BENCH_DIRECT_MIB ?? 90);
const SMALL_COUNT = Number(process.env.BENCH_SMALL_COUNT ?? 2000);
const SMALL_CONCURRENCY = Number(process.env.BENCH_SMALL_CONCURRENCY ?? 200);
const PART_SIZE = 16 * 1024 * 1024;
const PART_CONCURRENCY = 4;

async function writeRandomFile(file: string, mib: number): Promise<void> {
  const handle = await open(file, 'w');
  const chunk = randomBytes(1024 * 1024);
  for (let i = 0; i < mib; i++) {
    chunk.writeUInt32LE(i, 0);
    await handle.write(chunk);
  }
  await handle.close();
}

function timeCp(source: string, target: string): number {
  execFileSync('sync');
  const started = performance.now();
  execFileSync('cp', [source, target]);
  execFileSync('sync');
  return (performance.now() - started) / 1000;
}

async function multipartUpload(uploadUrl: string, publicKey: string, file: string): Promise<{ seconds: number; uuid: string }> {
  const size = (await stat(file)).size;
  const started = performance.now();
  const form = new FormData();
  form.set('UPLOADCARE_PUB_KEY', publicKey);
  form.set('filename', path.basename(file));
  form.set('size', String(size));
  form.set('part_size', String(PART_SIZE));
  form.set('content_type', 'application/octet-stream');
  const startResponse = await fetch(`${uploadUrl}/multipart/start/`, { method: 'POST', body: form });
  const { uuid, parts } = (await startResponse.json()) as { uuid: string; parts: string[] };
  let next = 0;
  async function worker() {
    while (next < parts.length) {
      const index = next++;
      const start = index * PART_SIZE;
      const end = Math.min(size, start + PART_SIZE) - 1;
      const body = Readable.toWeb(createReadStream(file, { start, end, highWaterMark: 1024 * 1024 })) as ReadableStream;
      const response = await fetch(parts[index]!, {
        method: 'PUT',
        body,
        headers: { 'content-type': 'application/octet-stream', 'content-length': String(end - start + 1) },
        duplex: 'half',
      } as RequestInit);
      if (!response.ok) throw new Error(`part ${index}: ${response.status} ${await response.text()}`);
      await response.arrayBuffer();
    }
  }
  await Promise.all(Array.from({ length: PART_CONCURRENCY }, worker));
  const complete = new FormData();
  complete.set('UPLOADCARE_PUB_KEY', publicKey);
  complete.set('uuid', uuid);
  const done = await fetch(`${uploadUrl}/multipart/complete/`, { method: 'POST', body: complete });
  if (!done.ok) throw new Error(`complete: ${done.status} ${await done.text()}`);
  return { seconds: (performance.now() - started) / 1000, uuid };
}

async function directUpload(uploadUrl: string, publicKey: string, body: Blob, name: string): Promise<number> {
  const started = performance.now();
  const form = new FormData();
  form.set('UPLOADCARE_PUB_KEY', publicKey);
  form.set('file', body, name);
  const response = await fetch(`${uploadUrl}/base/`, { method: 'POST', body: form });
  if (!response.ok) throw new Error(`base: ${response.status} ${await response.text()}`);
  await response.json();
  return performance.now() - started;
}

async function main() {
  const work = await mkdtemp(path.join(process.cwd(), '.tmp-bench-upload-'));
  try {
    const big = path.join(work, 'big.bin');
    const direct = path.join(work, 'direct.bin');
    console.log(`preparing ${BIG_MIB} MiB and ${DIRECT_MIB} MiB files in ${work} …`);
    await writeRandomFile(big, BIG_MIB);
    await writeRandomFile(direct, DIRECT_MIB);
    const cpBig = timeCp(big, path.join(work, 'big.copy'));
    const cpDirect = timeCp(direct, path.join(work, 'direct.copy'));
    await rm(path.join(work, 'big.copy'));
    await rm(path.join(work, 'direct.copy'));

    const trove = await startTroveProcess({ dataDir: path.join(work, 'data'), port: 3901, env: { TROVE_MAX_FILE_SIZE: '8GiB' } });
    try {
      const idleRss = trove.rssMiB();
      const multi = await multipartUpload(trove.uploadUrl, trove.publicKey, big);
      const directSeconds = (await directUpload(trove.uploadUrl, trove.publicKey, await openAsBlob(direct), 'direct.bin')) / 1000;
      const peakAfterBig = trove.peakRssMiB();
      printTable('Large uploads into the filesystem store (same disk as cp)', [
        {
          case: `multipart ${BIG_MIB} MiB (${PART_SIZE / 1048576} MiB parts ×${PART_CONCURRENCY})`,
          'Trove MB/s': (BIG_MIB * 1.048576 / multi.seconds).toFixed(0),
          'cp MB/s': (BIG_MIB * 1.048576 / cpBig).toFixed(0),
          'Trove / cp': (cpBig / multi.seconds).toFixed(2),
        },
        {
          case: `/base/ ${DIRECT_MIB} MiB`,
          'Trove MB/s': (DIRECT_MIB * 1.048576 / directSeconds).toFixed(0),
          'cp MB/s': (DIRECT_MIB * 1.048576 / cpDirect).toFixed(0),
          'Trove / cp': (cpDirect / directSeconds).toFixed(2),
        },
      ]);
      printTable('Server memory', [{ 'idle RSS MiB': idleRss.toFixed(0), 'peak RSS MiB (VmHWM)': peakAfterBig.toFixed(0), 'target MiB': 250 }]);

      const small = new Blob([randomBytes(50 * 1000)]);
      const latencies: number[] = [];
      let issued = 0;
      const started = performance.now();
      async function client() {
        while (issued < SMALL_COUNT) {
          issued++;
          latencies.push(await directUpload(trove.uploadUrl, trove.publicKey, small, 'small.bin'));
        }
      }
      await Promise.all(Array.from({ length: SMALL_CONCURRENCY }, client));
      const seconds = (performance.now() - started) / 1000;
      latencies.sort((a, b) => a - b);
      printTable(`${SMALL_COUNT} direct uploads of 50 KB, ${SMALL_CONCURRENCY} concurrent`, [
        {
          'uploads/s': (SMALL_COUNT / seconds).toFixed(0),
          'p50 ms': percentile(latencies, 50).toFixed(1),
          'p99 ms': percentile(latencies, 99).toFixed(1),
          'max ms': latencies.at(-1)!.toFixed(1),
          'peak RSS MiB': trove.peakRssMiB().toFixed(0),
        },
      ]);
    } finally {
      await trove.stop();
    }
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

await main();
