/**
 * On-the-fly transformation benchmarks (issue: transformations). Sections, all side by side in one
 * run on this machine:
 *   cold      every request a distinct derivative, 2 in flight: Trove over HTTP vs sharp called
 *             directly (the ceiling, same encoder settings), and ipx over HTTP with BENCH_IPX=1;
 *             3.7 MP and 24 MP JPEG → 800 px JPEG q80 / WebP / AVIF, and a PNG with alpha → 800 px
 *             PNG (BENCH_COLD_PNG=0 leaves it out).
 *   hits      a cached ~40 KB derivative over 64 keep-alive connections (wrk, else autocannon): Trove vs nginx
 *             serving the same bytes with the same headers.
 *   flight    100 concurrent requests for one uncached derivative → transformations counted.
 *   fairness  project A floods 300 distinct requests; project B's one request vs idle.
 *   memory    16 concurrent transformations of 50 MP sources (JPEG, PNG with alpha): peak RSS.
 *
 *   npm run build && npm run bench:transform     (BENCH_SECTIONS=cold,hits BENCH_COLD_N=24)
 */
import { execFileSync, fork } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { Agent, request as httpRequest } from 'node:http';
import path from 'node:path';
import autocannon from 'autocannon';
import sharp, { type Sharp } from 'sharp';
import { RATE_LIMITS_OFF, hasWrk, percentile, printTable, startTroveProcess, type TroveProcess } from './lib/trove-process.js';

// Trove runs sharp with libvips' operation cache off (every request is a new derivative); the direct
// side must too, or repeated decodes of one source buffer are served from that cache.
sharp.cache(false);

const SECTIONS = new Set((process.env.BENCH_SECTIONS ?? 'cold,hits,flight,fairness,memory').split(','));
const COLD_N = Number(process.env.BENCH_COLD_N ?? 24);
const agent = new Agent({ keepAlive: true, maxSockets: 512 });

function get(url: string, headers: Record<string, string> = {}): Promise<{ status: number; bytes: number; ms: number; body: Buffer }> {
  const started = performance.now();
  return new Promise((resolve, reject) => {
    httpRequest(url, { agent, headers }, (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (c: Buffer) => chunks.push(c));
      response.on('end', () => {
        const body = Buffer.concat(chunks);
        resolve({ status: response.statusCode ?? 0, bytes: body.length, ms: performance.now() - started, body });
      });
      response.on('error', reject);
    })
      .on('error', reject)
      .end();
  });
}

async function upload(trove: TroveProcess, bytes: Buffer, name: string, publicKey = trove.publicKey): Promise<string> {
  const form = new FormData();
  form.set('UPLOADCARE_PUB_KEY', publicKey);
  form.set('file', new Blob([new Uint8Array(bytes)]), name);
  const response = await fetch(`${trove.uploadUrl}/base/`, { method: 'POST', body: form });
  const body = (await response.json()) as { file?: string };
  if (!body.file) throw new Error(`upload failed: ${JSON.stringify(body)}`);
  return body.file;
}

/** Runs `count` tasks with `concurrency` in flight; returns elapsed seconds. */
async function pool(count: number, concurrency: number, task: (i: number) => Promise<unknown>): Promise<number> {
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < count) await task(next++);
    }),
  );
  return (performance.now() - started) / 1000;
}

async function metric(trove: TroveProcess, name: string, labels: string): Promise<number> {
  const text = (await get(`${trove.url}/metrics`)).body.toString();
  const line = text.split('\n').find((l) => l.startsWith(`${name}{${labels}}`));
  return line ? Number(line.split(' ').at(-1)) : 0;
}

/** A photo-like JPEG (blurred noise, no ICC profile, no EXIF orientation). */
function photo(width: number, height: number): Promise<Buffer> {
  return sharp({ create: { width, height, channels: 3, background: '#000', noise: { type: 'gaussian', mean: 128, sigma: 40 } } })
    .blur(1.2)
    .jpeg({ quality: 90 })
    .toBuffer();
}

async function makeSources(dir: string) {
  const jpeg = await photo(6000, 4000);
  const small = await photo(2352, 1568);
  const png = await sharp({ create: { width: 3000, height: 2000, channels: 4, background: { r: 30, g: 120, b: 200, alpha: 0.6 } } })
    .composite([{ input: await sharp({ create: { width: 1500, height: 1000, channels: 4, background: '#0000', noise: { type: 'gaussian', mean: 128, sigma: 30 } } }).png().toBuffer(), gravity: 'center' }])
    .png()
    .toBuffer();
  await writeFile(path.join(dir, 'photo.jpg'), jpeg);
  await writeFile(path.join(dir, 'small.jpg'), small);
  await writeFile(path.join(dir, 'alpha.png'), png);
  return { jpeg, small, png };
}

async function startPeer(script: string, args: string[]): Promise<() => void> {
  const child = fork(path.resolve(script), args, { execArgv: ['--import', 'tsx'], stdio: 'ignore' });
  await new Promise<void>((resolve, reject) => {
    child.once('message', () => resolve());
    child.once('exit', (code) => reject(new Error(`${script} exited with ${code}`)));
  });
  return () => child.kill();
}

const startIpx = (dir: string, port: number) => startPeer('bench/peers/ipx-server.ts', [dir, String(port)]);

/**
 * The encoder settings Trove's engine uses at `quality/normal` (src/adapters/image/encoders.ts, the
 * engine's default efforts), so both sides encode exactly the same way.
 */
const ENCODERS = {
  jpeg: (s: Sharp) => s.jpeg({ quality: 80, progressive: false, chromaSubsampling: '4:2:0', optimiseCoding: true }),
  webp: (s: Sharp) => s.webp({ quality: 80, effort: 2 }),
  avif: (s: Sharp) => s.avif({ quality: 50, effort: 1, chromaSubsampling: '4:2:0' }),
  png: (s: Sharp) => s.png({ progressive: false, compressionLevel: 6, adaptiveFiltering: false }),
} as const;

async function cold(trove: TroveProcess, dir: string, sources: { jpeg: Buffer; small: Buffer; png: Buffer }) {
  const big = await upload(trove, sources.jpeg, 'photo.jpg');
  const small = await upload(trove, sources.small, 'small.jpg');
  const alpha = await upload(trove, sources.png, 'alpha.png');
  const withIpx = process.env.BENCH_IPX === '1';
  const stopIpx = withIpx ? await startIpx(dir, 3941) : () => undefined;
  const originals = [
    { label: '3.7 MP JPEG', src: sources.small, file: small, ipxName: 'small.jpg' },
    { label: '24 MP JPEG', src: sources.jpeg, file: big, ipxName: 'photo.jpg' },
  ];
  const outputs = [
    { format: 'jpeg', ipx: 'f_jpeg,q_80' },
    { format: 'webp', ipx: 'f_webp,q_80' },
    { format: 'avif', ipx: 'f_avif,q_50' },
  ] as const;
  const cases = [
    ...originals.flatMap((o) => outputs.map((out) => ({ name: `${o.label} → 800 px ${out.format.toUpperCase()}`, src: o.src, file: o.file, ipxName: o.ipxName, trove: `format/${out.format}/-/quality/normal`, ipx: out.ipx, direct: ENCODERS[out.format] }))),
    ...(process.env.BENCH_COLD_PNG === '0' ? [] : [{ name: '6 MP PNG alpha → 800 px PNG', src: sources.png, file: alpha, ipxName: 'alpha.png', trove: 'format/png', ipx: 'f_png', direct: ENCODERS.png }]),
  ];
  const rows = [];
  // Every side renders the same widths (around 800 px), so they do the same work; the Trove requests
  // are still distinct derivatives because each case has its own output format and each round its
  // own widths. Rounds alternate which side goes first because throughput drifts on a shared
  // machine; each side's best round counts. Both sides keep 2 in flight.
  const ROUNDS = Number(process.env.BENCH_COLD_ROUNDS ?? 3);
  const width = (round: number, i: number) => 800 - COLD_N + round * COLD_N + i;
  for (const c of cases) {
    await c.direct(sharp(c.src).resize(700)).toBuffer();
    await get(`${trove.url}/${c.file}/-/resize/700x/-/${c.trove}/`);
    if (withIpx) await get(`http://127.0.0.1:3941/w_700,${c.ipx}/${c.ipxName}`);
    let directSeconds = Infinity;
    let troveSeconds = Infinity;
    let ipxSeconds = Infinity;
    for (let round = 0; round < ROUNDS; round += 1) {
      // Direct sharp: the same pipeline in a Node loop, two in flight.
      const direct = async () => {
        directSeconds = Math.min(directSeconds, await pool(COLD_N, 2, (i) => c.direct(sharp(c.src).resize(width(round, i))).toBuffer()));
      };
      const viaTrove = async () => {
        troveSeconds = Math.min(
          troveSeconds,
          await pool(COLD_N, 2, async (i) => {
            const r = await get(`${trove.url}/${c.file}/-/resize/${width(round, i)}x/-/${c.trove}/`);
            if (r.status !== 200) throw new Error(`trove ${r.status} ${r.body.toString().slice(0, 200)}`);
          }),
        );
      };
      if (round % 2 === 0) {
        await direct();
        await viaTrove();
      } else {
        await viaTrove();
        await direct();
      }
      if (withIpx) {
        ipxSeconds = Math.min(
          ipxSeconds,
          await pool(COLD_N, 2, async (i) => {
            const r = await get(`http://127.0.0.1:3941/w_${width(round, i)},${c.ipx}/${c.ipxName}`);
            if (r.status !== 200) throw new Error(`ipx ${r.status}`);
          }),
        );
      }
    }
    rows.push({
      case: c.name,
      'sharp direct img/s': (COLD_N / directSeconds).toFixed(2),
      'Trove img/s': (COLD_N / troveSeconds).toFixed(2),
      'Trove / sharp': (directSeconds / troveSeconds).toFixed(3),
      ...(withIpx ? { 'ipx img/s': (COLD_N / ipxSeconds).toFixed(2), 'Trove / ipx': (ipxSeconds / troveSeconds).toFixed(2) } : {}),
    });
  }
  stopIpx();
  printTable(`Cold transformations, ${COLD_N} distinct derivatives per round, 2 in flight, best of ${ROUNDS} alternating rounds (target: ≥ 0.95× sharp${withIpx ? ', ≥ 1.3× ipx' : ''})`, rows);
}

/** autocannon shares the client's cores with the server, so its figures are lower than wrk's. */
async function autocannonRun(url: string, seconds: number, connections = 64): Promise<{ rps: number; p50: number; p99: number }> {
  const result = await autocannon({ url, connections, duration: seconds, pipelining: 1 });
  return { rps: result.requests.average, p50: result.latency.p50, p99: result.latency.p99 };
}

function wrk(url: string, seconds = 8, connections = 64): { rps: number; p50: number; p99: number } {
  const out = execFileSync('wrk', ['-t', '1', '-c', String(connections), '-d', `${seconds}s`, '--latency', url], { encoding: 'utf8' });
  const toMs = (v: string, unit: string) => Number(v) * (unit === 's' ? 1000 : unit === 'us' ? 0.001 : 1);
  const pick = (p: string) => {
    const m = new RegExp(`\\s${p}%\\s+([\\d.]+)(us|ms|s)`).exec(out);
    return m ? toMs(m[1]!, m[2]!) : NaN;
  };
  return { rps: Number(/Requests\/sec:\s+([\d.]+)/.exec(out)?.[1]), p50: pick('50'), p99: pick('99') };
}

async function hits(trove: TroveProcess, work: string, sources: { jpeg: Buffer }) {
  const photo = await upload(trove, sources.jpeg, 'hit.jpg');
  const url = `${trove.url}/${photo}/-/resize/950x/-/format/jpeg/-/quality/normal/`;
  const first = await get(url);
  const www = path.join(work, 'nginx', 'www');
  await mkdir(path.join(work, 'nginx', 'logs'), { recursive: true });
  await mkdir(www, { recursive: true });
  await writeFile(path.join(www, 'derivative.jpg'), first.body);
  await writeFile(
    path.join(work, 'nginx', 'nginx.conf'),
    `worker_processes 2; error_log ${work}/nginx/logs/error.log; pid ${work}/nginx/nginx.pid;
events { worker_connections 1024; }
http { access_log off; sendfile on; keepalive_requests 1000000; types { image/jpeg jpg; }
  server { listen 127.0.0.1:3942; root ${www};
    location / { add_header Cache-Control "public, max-age=31536000, immutable"; add_header X-Content-Type-Options nosniff;
      add_header Content-Security-Policy "default-src 'none'; img-src data:; style-src 'unsafe-inline'; sandbox";
      add_header Cross-Origin-Resource-Policy cross-origin; add_header Access-Control-Allow-Origin *; add_header Content-Disposition inline; } } }
`,
  );
  let nginx = true;
  try {
    execFileSync('nginx', ['-c', path.join(work, 'nginx', 'nginx.conf'), '-p', path.join(work, 'nginx')]);
  } catch {
    nginx = false;
  }
  const stopNode = await startPeer('bench/peers/node-memory-server.ts', [path.join(www, 'derivative.jpg'), '3944', '2']);
  const servers = [
    { name: `Trove (${first.bytes} B derivative, memory hit)`, url },
    { name: 'bare node:http, 2-worker cluster, Buffer in memory', url: 'http://127.0.0.1:3944/derivative.jpg' },
    ...(nginx ? [{ name: 'nginx, 2 workers (same bytes, same headers)', url: 'http://127.0.0.1:3942/derivative.jpg' }] : []),
  ];
  // Two alternating rounds, because throughput drifts between runs minutes apart; each server's better round counts.
  const tool = hasWrk() ? 'wrk' : 'autocannon';
  const load = (target: string, seconds: number) => (tool === 'wrk' ? Promise.resolve(wrk(target, seconds)) : autocannonRun(target, seconds));
  const best = new Map<string, { rps: number; p50: number; p99: number }>();
  for (let round = 0; round < 2; round += 1) {
    for (const server of servers) {
      await load(server.url, 2);
      const result = await load(server.url, 8);
      const previous = best.get(server.name);
      if (!previous || result.rps > previous.rps) best.set(server.name, result);
    }
  }
  stopNode();
  if (nginx) execFileSync('nginx', ['-c', path.join(work, 'nginx', 'nginx.conf'), '-p', path.join(work, 'nginx'), '-s', 'stop']);
  const nginxRps = nginx ? best.get(servers.at(-1)!.name)!.rps : NaN;
  const nodeRps = best.get(servers[1]!.name)!.rps;
  printTable(
    `Cache hits, 64 keep-alive connections, ${tool} (target: ≥ 60% of nginx, p99 < 10 ms)`,
    servers.map((server) => {
      const r = best.get(server.name)!;
      return {
        server: server.name,
        'requests/s': r.rps.toFixed(0),
        'p50 ms': r.p50.toFixed(2),
        'p99 ms': r.p99.toFixed(2),
        '% of nginx': nginx ? `${((100 * r.rps) / nginxRps).toFixed(0)}%` : 'n/a',
        '% of bare node': `${((100 * r.rps) / nodeRps).toFixed(0)}%`,
      };
    }),
  );
}

async function flight(trove: TroveProcess, sources: { jpeg: Buffer }) {
  const photo = await upload(trove, sources.jpeg, 'flight.jpg');
  const alone = await get(`${trove.url}/${photo}/-/resize/500x/-/format/jpeg/`);
  const missesBefore = await metric(trove, 'trove_derivative_cache_total', 'result="miss"');
  const url = `${trove.url}/${photo}/-/resize/501x/-/format/jpeg/`;
  const results = await Promise.all(Array.from({ length: 100 }, () => get(url)));
  const misses = (await metric(trove, 'trove_derivative_cache_total', 'result="miss"')) - missesBefore;
  const latencies = results.map((r) => r.ms).sort((a, b) => a - b);
  printTable('Single-flight: 100 concurrent requests for one new derivative', [
    { transformations: misses, 'one transformation alone ms': alone.ms.toFixed(0), 'p50 ms': percentile(latencies, 50).toFixed(0), 'p99 ms': percentile(latencies, 99).toFixed(0), 'all 200': String(results.every((r) => r.status === 200)) },
  ]);
}

async function fairness(trove: TroveProcess, sources: { jpeg: Buffer }) {
  const a = await upload(trove, sources.jpeg, 'a.jpg');
  const otherKey = 'benchprojectb';
  execFileSync(process.execPath, ['dist/src/main.js', 'projects', 'create', '--name', 'B', '--public-key', otherKey], { env: { ...process.env, DATA_DIR: trove.dataDir }, stdio: 'ignore' });
  const b = await upload(trove, sources.jpeg, 'b.jpg', otherKey);
  const idle = await get(`${trove.url}/${b}/-/resize/700x/-/format/jpeg/`);
  const flood = Promise.all(Array.from({ length: 300 }, (_, i) => get(`${trove.url}/${a}/-/resize/${1000 + i}x/-/format/jpeg/`)));
  await new Promise((r) => setTimeout(r, 300));
  const busy = await get(`${trove.url}/${b}/-/resize/701x/-/format/jpeg/`);
  const floodResults = await flood;
  const refused = floodResults.filter((r) => r.status === 503).length;
  printTable('Fairness: project A floods 300 distinct requests; B sends one (target: ≤ 3× idle)', [
    { 'B idle ms': idle.ms.toFixed(0), 'B during flood ms': busy.ms.toFixed(0), ratio: (busy.ms / idle.ms).toFixed(2), 'A refused (503)': refused, 'A served': floodResults.length - refused },
  ]);
}

async function memory(trove: TroveProcess) {
  const jpeg = await sharp({ create: { width: 8660, height: 5774, channels: 3, background: '#000', noise: { type: 'gaussian', mean: 128, sigma: 30 } } }).jpeg({ quality: 85 }).toBuffer();
  const png = await sharp({ create: { width: 8660, height: 5774, channels: 4, background: { r: 10, g: 200, b: 90, alpha: 0.5 } } }).png({ compressionLevel: 1 }).toBuffer();
  const rows = [];
  for (const [name, bytes] of [['50 MP JPEG', jpeg], ['50 MP PNG with alpha', png]] as const) {
    const uuid = await upload(trove, bytes, `${name}.bin`);
    const started = performance.now();
    const results = await Promise.all(Array.from({ length: 16 }, (_, i) => get(`${trove.url}/${uuid}/-/resize/${900 + i}x/-/format/jpeg/`)));
    rows.push({ source: name, 'all 200': String(results.every((r) => r.status === 200)), seconds: ((performance.now() - started) / 1000).toFixed(1), 'peak RSS MiB': trove.peakRssMiB().toFixed(0), 'target MiB': 1536 });
  }
  printTable('Memory: 16 concurrent transformations of 50 MP sources', rows);
}

async function main() {
  const work = await mkdtemp(path.join(process.cwd(), '.tmp-bench-transform-'));
  try {
    const sources = await makeSources(work);
    // Fairness floods 300 misses and memory asks for 32 more in one process: the default miss limit's
    // burst of 500 leaves little room, and a 429 there would read as the scheduler's doing.
    const env = { ...RATE_LIMITS_OFF, TROVE_MAX_SOURCE_PIXELS: '60000000', TROVE_TRANSFORM_QUEUE_PER_PROJECT: '400' };
    console.log(`server: ${Object.entries(env).map(([k, v]) => `${k}=${v}`).join(' ')}`);
    // Cold misses measure the miss path itself: with intermediates on, the 24 MP cells' sizes would be
    // resized from one shared decode (bench/responsive.bench.ts measures that). BENCH_INTERMEDIATES=1 keeps them.
    const intermediates: Record<string, string> = process.env.BENCH_INTERMEDIATES === '1' ? {} : { TROVE_INTERMEDIATE_CACHE_SIZE: '0' };
    const trove = await startTroveProcess({ dataDir: path.join(work, 'data'), port: 3940, env: { ...env, ...intermediates, TROVE_WORKERS: process.env.TROVE_WORKERS ?? '2' } });
    try {
      if (SECTIONS.has('cold')) await cold(trove, work, sources);
      if (SECTIONS.has('hits')) await hits(trove, work, sources);
    } finally {
      await trove.stop();
    }
    // Counting transformations and measuring RSS need one process.
    const single = await startTroveProcess({ dataDir: path.join(work, 'data1'), port: 3943, env: { ...env, TROVE_WORKERS: '1' } });
    try {
      if (SECTIONS.has('flight')) await flight(single, sources);
      if (SECTIONS.has('fairness')) await fairness(single, sources);
      if (SECTIONS.has('memory')) await memory(single);
    } finally {
      await single.stop();
    }
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}


await main();
