/**
 * Upload throughput and memory: a 1 GiB file through multipart and a 90 MiB file through /base/
 * into the filesystem store, beside `cp` of the same file on the same disk, with the server's peak
 * RSS; then 200 concurrent 50 KB direct uploads (uploads/s, p50/p99).
 *
 *   npm run build && npm run bench:upload            (BENCH_BIG_MIB=1024 BENCH_SMALL_COUNT=2000)
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { Agent, request as httpRequest } from 'node:http';
import { mkdtemp, open, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { RATE_LIMITS_OFF, percentile, printTable, startTroveProcess } from './lib/trove-process.js';

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

/** PUT or POST a stream with node:http: the client must cost as little CPU as possible (2 cores shared). */
function send(url: string, method: string, headers: Record<string, string | number>, body: Readable | Buffer): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const request = httpRequest(url, { method, headers, agent }, (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('end', () => resolve({ status: response.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }));
      response.on('error', reject);
    });
    request.on('error', reject);
    if (Buffer.isBuffer(body)) request.end(body);
    else body.pipe(request);
  });
}

const agent = new Agent({ keepAlive: true, maxSockets: 256 });
const BOUNDARY = '----trove-bench-boundary';

function formBody(fields: Record<string, string>, file?: { name: string; size: number }): { head: Buffer; tail: Buffer; length: number } {
  let head = '';
  for (const [name, value] of Object.entries(fields)) {
    head += `--${BOUNDARY}\r\nContent-Disposition: form-data; name="${name}"\r\n\r\n${value}\r\n`;
  }
  if (file) {
    head += `--${BOUNDARY}\r\nContent-Disposition: form-data; name="file"; filename="${file.name}"\r\nContent-Type: application/octet-stream\r\n\r\n`;
  }
  const tail = Buffer.from(`${file ? '\r\n' : ''}--${BOUNDARY}--\r\n`);
  const headBuffer = Buffer.from(head);
  return { head: headBuffer, tail, length: headBuffer.length + (file?.size ?? 0) + tail.length };
}

async function postForm(url: string, fields: Record<string, string>, file?: { name: string; size: number; stream: () => Readable }) {
  const { head, tail, length } = formBody(fields, file);
  const headers = { 'content-type': `multipart/form-data; boundary=${BOUNDARY}`, 'content-length': length };
  if (!file) return send(url, 'POST', headers, Buffer.concat([head, tail]));
  const body = new PassThrough({ highWaterMark: 1024 * 1024 });
  body.write(head);
  const source = file.stream();
  source.pipe(body, { end: false });
  source.on('end', () => body.end(tail));
  return send(url, 'POST', headers, body);
}

async function multipartUpload(uploadUrl: string, publicKey: string, file: string): Promise<{ seconds: number; uuid: string }> {
  const size = (await stat(file)).size;
  const started = performance.now();
  const startResponse = await postForm(`${uploadUrl}/multipart/start/`, {
    UPLOADCARE_PUB_KEY: publicKey,
    filename: path.basename(file),
    size: String(size),
    part_size: String(PART_SIZE),
    content_type: 'application/octet-stream',
  });
  if (startResponse.status !== 200) throw new Error(`multipart start: ${startResponse.status} ${startResponse.text}`);
  const { uuid, parts } = JSON.parse(startResponse.text) as { uuid: string; parts: string[] };
  let next = 0;
  async function worker() {
    while (next < parts.length) {
      const index = next++;
      const start = index * PART_SIZE;
      const end = Math.min(size, start + PART_SIZE) - 1;
      const response = await send(
        parts[index]!,
        'PUT',
        { 'content-type': 'application/octet-stream', 'content-length': end - start + 1 },
        createReadStream(file, { start, end, highWaterMark: 1024 * 1024 }),
      );
      if (response.status !== 200) throw new Error(`part ${index}: ${response.status} ${response.text}`);
    }
  }
  await Promise.all(Array.from({ length: PART_CONCURRENCY }, worker));
  const done = await postForm(`${uploadUrl}/multipart/complete/`, { UPLOADCARE_PUB_KEY: publicKey, uuid });
  if (done.status !== 200) throw new Error(`complete: ${done.status} ${done.text}`);
  return { seconds: (performance.now() - started) / 1000, uuid };
}

async function directUpload(uploadUrl: string, publicKey: string, file: { name: string; size: number; stream: () => Readable }): Promise<number> {
  const started = performance.now();
  const response = await postForm(`${uploadUrl}/base/`, { UPLOADCARE_PUB_KEY: publicKey }, file);
  if (response.status !== 200) throw new Error(`base: ${response.status} ${response.text}`);
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

    // The size limits follow the knobs, so any BENCH_BIG_MIB and BENCH_DIRECT_MIB go through the
    // path they are meant to measure; the 200 concurrent small uploads need the upload rate limit off.
    const env = {
      ...RATE_LIMITS_OFF,
      TROVE_MAX_FILE_SIZE: `${Math.max(8192, BIG_MIB, DIRECT_MIB)}MiB`,
      TROVE_MAX_DIRECT_UPLOAD_SIZE: `${Math.max(100, DIRECT_MIB + 1)}MiB`,
      TROVE_MULTIPART_MIN_FILE_SIZE: '1MiB',
    };
    const trove = await startTroveProcess({ dataDir: path.join(work, 'data'), port: 3901, env });
    console.log(`server: ${trove.limits} TROVE_MAX_FILE_SIZE=${env.TROVE_MAX_FILE_SIZE} TROVE_MAX_DIRECT_UPLOAD_SIZE=${env.TROVE_MAX_DIRECT_UPLOAD_SIZE} TROVE_MULTIPART_MIN_FILE_SIZE=1MiB`);
    try {
      const idleRss = trove.rssMiB();
      const multi = await multipartUpload(trove.uploadUrl, trove.publicKey, big);
      const directSeconds =
        (await directUpload(trove.uploadUrl, trove.publicKey, {
          name: 'direct.bin',
          size: DIRECT_MIB * 1024 * 1024,
          stream: () => createReadStream(direct, { highWaterMark: 1024 * 1024 }),
        })) / 1000;
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

      const smallBytes = randomBytes(50 * 1000);
      const small = { name: 'small.bin', size: smallBytes.length, stream: () => Readable.from([smallBytes]) };
      const latencies: number[] = [];
      let issued = 0;
      const started = performance.now();
      async function client() {
        while (issued < SMALL_COUNT) {
          issued++;
          latencies.push(await directUpload(trove.uploadUrl, trove.publicKey, small));
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
