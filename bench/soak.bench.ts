/**
 * Memory over time: a bounded, seeded mixed workload against one Trove process on loopback —
 * uploads through /upload/base/, cold transformations (varied sizes, operations and formats), hits
 * on derivatives made earlier, originals, REST list and info calls, and from_url uploads fetched from
 * a local server — while the server's RSS (/proc/<pid>/status) and its JS heap and external memory
 * (/metrics) are sampled. Reports operations and errors per kind, RSS per third of the run, the RSS
 * slope over the last half (least squares, MiB/min) and the peak.
 *
 * The bounded caches (originals 64 MiB, sources 128 MiB, derivatives 256 MiB by default) fill during
 * the run, so RSS may rise by up to their sum; a healthy server then levels off. A slope that stays
 * positive after that is growth the caches do not explain.
 *
 *   npm run build && npm run bench:soak
 *     BENCH_SOAK_MINUTES=10        length of the measured run
 *     BENCH_SOAK_CONCURRENCY=4     requests in flight
 *     BENCH_SOAK_SEED=1            seeds the operation mix and the generated images
 *     BENCH_SOAK_SAMPLE_SECONDS=5  memory sampling interval
 *     BENCH_SOAK_PORT=3950         server port (the local from_url source listens on an ephemeral one)
 *     BENCH_SOAK_SERVER_ENV='MALLOC_ARENA_MAX=2 TROVE_DERIVATIVE_CACHE_SIZE=32MiB'
 *                                  extra environment for the server only, to compare allocators and
 *                                  cache sizes without touching this process
 *     BENCH_SOAK_JSON=file         also write the summary as JSON
 */
import { randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { Agent, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { loadavg } from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { mulberry32 } from './fuzz/rng.js';
import { send, type Reply } from './lib/http-send.js';
import { RATE_LIMITS_OFF, percentile, printTable, startTroveProcess, type TroveProcess } from './lib/trove-process.js';

const MINUTES = Number(process.env.BENCH_SOAK_MINUTES ?? 10);
const CONCURRENCY = Number(process.env.BENCH_SOAK_CONCURRENCY ?? 4);
const SEED = Number(process.env.BENCH_SOAK_SEED ?? 1);
const SAMPLE_SECONDS = Number(process.env.BENCH_SOAK_SAMPLE_SECONDS ?? 5);
const PORT = Number(process.env.BENCH_SOAK_PORT ?? 3950);
const JSON_OUT = process.env.BENCH_SOAK_JSON;
const SOURCE_IMAGES = 16;
/** Hits pick among this many of the most recent derivatives, as a site's popular images would be. */
const HOT_DERIVATIVES = 3_000;
const FROM_URL_TIMEOUT_MS = 60_000;

function parseServerEnv(text: string | undefined): Record<string, string> {
  const env: Record<string, string> = {};
  for (const pair of (text ?? '').split(/\s+/).filter(Boolean)) {
    const cut = pair.indexOf('=');
    if (cut <= 0) throw new Error(`BENCH_SOAK_SERVER_ENV: expected NAME=value, got "${pair}"`);
    env[pair.slice(0, cut)] = pair.slice(cut + 1);
  }
  return env;
}


const agent = new Agent({ keepAlive: true, maxSockets: 64 });

const BOUNDARY = '----trove-bench-soak';

function form(fields: Record<string, string>, file?: { name: string; type: string; bytes: Buffer }): Buffer {
  const parts: Buffer[] = [];
  for (const [name, value] of Object.entries(fields)) {
    parts.push(Buffer.from(`--${BOUNDARY}\r\nContent-Disposition: form-data; name="${name}"\r\n\r\n${value}\r\n`));
  }
  if (file) {
    parts.push(
      Buffer.from(`--${BOUNDARY}\r\nContent-Disposition: form-data; name="file"; filename="${file.name}"\r\nContent-Type: ${file.type}\r\n\r\n`),
      file.bytes,
      Buffer.from('\r\n'),
    );
  }
  parts.push(Buffer.from(`--${BOUNDARY}--\r\n`));
  return Buffer.concat(parts);
}

const formHeaders = (body: Buffer) => ({ 'content-type': `multipart/form-data; boundary=${BOUNDARY}`, 'content-length': body.length });

interface Source {
  name: string;
  type: string;
  bytes: Buffer;
}

/** Photos (noisy, so they compress like photos), PNGs with alpha and WebPs, 0.5 to 6 megapixels. */
async function makeSources(random: () => number): Promise<Source[]> {
  const sources: Source[] = [];
  for (let i = 0; i < SOURCE_IMAGES; i++) {
    const width = 800 + Math.floor(random() * 2200);
    const height = 600 + Math.floor(random() * 1400);
    const kind = i % 4 === 3 ? 'png' : i % 4 === 2 ? 'webp' : 'jpeg';
    const channels = kind === 'png' ? 4 : 3;
    const base = sharp({
      create: {
        width,
        height,
        channels,
        background: { r: Math.floor(random() * 255), g: Math.floor(random() * 255), b: Math.floor(random() * 255), alpha: 0.7 },
        noise: { type: 'gaussian', mean: 128, sigma: 20 + random() * 30 },
      },
    }).blur(1 + random());
    const bytes =
      kind === 'png' ? await base.png({ compressionLevel: 6 }).toBuffer() : kind === 'webp' ? await base.webp({ quality: 85 }).toBuffer() : await base.jpeg({ quality: 88 }).toBuffer();
    sources.push({ name: `source-${i}.${kind === 'jpeg' ? 'jpg' : kind}`, type: `image/${kind}`, bytes });
  }
  return sources;
}

/** Serves the source images for from_url; a query string makes each URL distinct. */
async function startSourceServer(sources: Source[]): Promise<{ url: (i: number, n: number) => string; close: () => Promise<void> }> {
  const server = createServer((request, response) => {
    const match = /^\/source\/(\d+)/.exec(request.url ?? '');
    const source = match ? sources[Number(match[1])] : undefined;
    if (!source) {
      response.writeHead(404).end();
      return;
    }
    response.writeHead(200, { 'content-type': source.type, 'content-length': source.bytes.length }).end(source.bytes);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: (i, n) => `http://127.0.0.1:${port}/source/${i}?n=${n}`,
    close: () => {
      server.closeAllConnections();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

const KINDS = ['upload image', 'upload blob', 'cold transform', 'hit', 'original', 'rest list', 'rest info', 'from_url'] as const;
type Kind = (typeof KINDS)[number];
/** Shares of the mix, in percent. */
const WEIGHTS: Record<Kind, number> = {
  'upload image': 7,
  'upload blob': 3,
  'cold transform': 25,
  hit: 30,
  original: 15,
  'rest list': 7,
  'rest info': 8,
  from_url: 5,
};

interface KindStats {
  ok: number;
  errors: number;
  latencies: number[];
  statuses: Map<string, number>;
}

interface Sample {
  minutes: number;
  rssMiB: number;
  anonMiB: number;
  heapMiB: number;
  externalMiB: number;
  ops: number;
}

function statusKiB(pid: number, field: string): number {
  const match = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return match ? Number(match[1]) : NaN;
}

function metricValue(text: string, name: string): number {
  const line = text.split('\n').find((l) => l.startsWith(`${name} `) || l.startsWith(`${name}{`));
  return line ? Number(line.split(' ').at(-1)) : NaN;
}

/** Least-squares slope of y over x. */
function slope(points: Array<[number, number]>): number {
  const n = points.length;
  if (n < 2) return NaN;
  const mx = points.reduce((s, [x]) => s + x, 0) / n;
  const my = points.reduce((s, [, y]) => s + y, 0) / n;
  let num = 0;
  let den = 0;
  for (const [x, y] of points) {
    num += (x - mx) * (y - my);
    den += (x - mx) ** 2;
  }
  return num / den;
}

const mean = (values: number[]) => (values.length ? values.reduce((s, v) => s + v, 0) / values.length : NaN);

class Workload {
  readonly stats = new Map<Kind, KindStats>(KINDS.map((k) => [k, { ok: 0, errors: 0, latencies: [], statuses: new Map() }]));
  readonly images: string[] = [];
  readonly blobs: string[] = [];
  readonly derivatives: string[] = [];
  private readonly made = new Set<string>();
  private fromUrlCount = 0;
  ops = 0;
  private readonly rest: Record<string, string>;

  constructor(
    private readonly trove: TroveProcess,
    private readonly sources: Source[],
    private readonly sourceUrl: (i: number, n: number) => string,
  ) {
    this.rest = { accept: 'application/vnd.uploadcare-v0.7+json', authorization: `Uploadcare.Simple ${trove.publicKey}:${trove.secretKey}` };
  }

  pickKind(random: () => number): Kind {
    let roll = random() * 100;
    for (const kind of KINDS) {
      roll -= WEIGHTS[kind];
      if (roll < 0) return kind;
    }
    return 'hit';
  }

  async run(kind: Kind, random: () => number): Promise<void> {
    const stats = this.stats.get(kind)!;
    const started = performance.now();
    let outcome: string;
    try {
      outcome = await this.operation(kind, random);
    } catch (error) {
      outcome = `exception ${(error as Error).message.slice(0, 80)}`;
    }
    stats.latencies.push(performance.now() - started);
    this.ops++;
    if (outcome === 'ok') {
      stats.ok++;
      return;
    }
    stats.errors++;
    stats.statuses.set(outcome, (stats.statuses.get(outcome) ?? 0) + 1);
    if (stats.errors <= 3) console.log(`  ${kind}: ${outcome}`);
  }

  private pick<T>(list: T[], random: () => number): T | undefined {
    return list.length ? list[Math.floor(random() * list.length)] : undefined;
  }

  async upload(source: { name: string; type: string; bytes: Buffer }): Promise<Reply & { uuid?: string }> {
    const body = form({ UPLOADCARE_PUB_KEY: this.trove.publicKey, UPLOADCARE_STORE: '1' }, source);
    const reply = await send(agent, `${this.trove.uploadUrl}/base/`, 'POST', formHeaders(body), body);
    const uuid = reply.status === 200 ? (JSON.parse(reply.body.toString('utf8')) as { file?: string }).file : undefined;
    return { ...reply, uuid };
  }

  private coldUrl(random: () => number): string | undefined {
    const uuid = this.pick(this.images, random);
    if (!uuid) return undefined;
    const roll = random();
    const format = roll < 0.4 ? 'jpeg' : roll < 0.7 ? 'webp' : roll < 0.85 ? 'avif' : 'png';
    const quality = this.pick(['normal', 'better', 'lighter', 'smart'], random)!;
    const template = Math.floor(random() * 5);
    for (let width = 64 + Math.floor(random() * 1536); ; width++) {
      const ops =
        template === 0
          ? `resize/${width}x/-/quality/${quality}`
          : template === 1
            ? `scale_crop/${width}x${Math.round(width * 0.75)}/center`
            : template === 2
              ? `preview/${width}x${width}`
              : template === 3
                ? `crop/600x400/center/-/resize/${width}x`
                : `resize/${width}x/-/grayscale/-/sharp/5`;
      const url = `${this.trove.url}/${uuid}/-/${ops}/-/format/${format}/`;
      if (!this.made.has(url)) {
        this.made.add(url);
        return url;
      }
    }
  }

  private hotDerivative(random: () => number): string | undefined {
    const n = Math.min(this.derivatives.length, HOT_DERIVATIVES);
    if (n === 0) return undefined;
    // Squaring skews toward the newest, the way traffic favours recent content.
    return this.derivatives[this.derivatives.length - 1 - Math.floor(random() ** 2 * n)];
  }

  private async operation(kind: Kind, random: () => number): Promise<string> {
    const statusOf = (reply: Reply, expected = 200) => (reply.status === expected ? 'ok' : `HTTP ${reply.status} ${reply.body.toString('utf8').slice(0, 80)}`);
    switch (kind) {
      case 'upload image': {
        const reply = await this.upload(this.pick(this.sources, random)!);
        if (reply.uuid) this.images.push(reply.uuid);
        return statusOf(reply);
      }
      case 'upload blob': {
        const size = 1_000 + Math.floor(random() * 200_000);
        const reply = await this.upload({ name: 'blob.bin', type: 'application/octet-stream', bytes: randomBytes(size) });
        if (reply.uuid) this.blobs.push(reply.uuid);
        return statusOf(reply);
      }
      case 'cold transform': {
        const url = this.coldUrl(random);
        if (!url) return 'ok';
        const reply = await send(agent, url, 'GET', {});
        if (reply.status === 200) this.derivatives.push(url);
        return statusOf(reply);
      }
      case 'hit': {
        const url = this.hotDerivative(random);
        return url ? statusOf(await send(agent, url, 'GET', {})) : 'ok';
      }
      case 'original': {
        const uuid = random() < 0.7 ? this.pick(this.images, random) : this.pick(this.blobs, random);
        return uuid ? statusOf(await send(agent, `${this.trove.url}/${uuid}/`, 'GET', {})) : 'ok';
      }
      case 'rest list': {
        const ordering = random() < 0.7 ? '-datetime_uploaded' : 'datetime_uploaded';
        const filter = random() < 0.5 ? '&stored=true' : '';
        return statusOf(await send(agent, `${this.trove.url}/files/?limit=100&ordering=${ordering}${filter}`, 'GET', this.rest));
      }
      case 'rest info': {
        const uuid = random() < 0.8 ? this.pick(this.images, random) : this.pick(this.blobs, random);
        return uuid ? statusOf(await send(agent, `${this.trove.url}/files/${uuid}/`, 'GET', this.rest)) : 'ok';
      }
      case 'from_url':
        return this.fromUrl(random);
    }
  }

  private async fromUrl(random: () => number): Promise<string> {
    const source = Math.floor(random() * this.sources.length);
    const body = form({ pub_key: this.trove.publicKey, store: '1', source_url: this.sourceUrl(source, this.fromUrlCount++) });
    const started = await send(agent, `${this.trove.uploadUrl}/from_url/`, 'POST', formHeaders(body), body);
    if (started.status !== 200) return `HTTP ${started.status} ${started.body.toString('utf8').slice(0, 80)}`;
    const answer = JSON.parse(started.body.toString('utf8')) as { type: string; token?: string; uuid?: string };
    if (answer.type !== 'token') {
      if (answer.uuid) this.images.push(answer.uuid);
      return 'ok';
    }
    const deadline = performance.now() + FROM_URL_TIMEOUT_MS;
    while (performance.now() < deadline) {
      await new Promise((r) => setTimeout(r, 100));
      const reply = await send(agent, `${this.trove.uploadUrl}/from_url/status/?token=${answer.token}`, 'GET', {});
      const status = JSON.parse(reply.body.toString('utf8')) as { status: string; uuid?: string; error?: string };
      if (status.status === 'success') {
        if (status.uuid) this.images.push(status.uuid);
        return 'ok';
      }
      if (status.status === 'error' || status.status === 'unknown') return `from_url ${status.status} ${status.error ?? ''}`;
    }
    return 'from_url timed out';
  }
}

async function main() {
  const serverEnv = parseServerEnv(process.env.BENCH_SOAK_SERVER_ENV);
  const random = mulberry32(SEED);
  console.log(`generating ${SOURCE_IMAGES} source images (seed ${SEED}) …`);
  const sources = await makeSources(random);
  const sourceServer = await startSourceServer(sources);
  const work = await mkdtemp(path.join(process.cwd(), '.tmp-bench-soak-'));
  // One HTTP process, so the pid sampled is the one doing the work.
  const env = { ...RATE_LIMITS_OFF, TROVE_WORKERS: '1', TROVE_FETCH_ALLOW_PRIVATE: 'true', ...serverEnv };
  const trove = await startTroveProcess({ dataDir: path.join(work, 'data'), port: PORT, env });
  const samples: Sample[] = [];
  let stopSampling = false;
  try {
    console.log(`server: ${trove.limits} TROVE_WORKERS=1 TROVE_FETCH_ALLOW_PRIVATE=true${Object.keys(serverEnv).length ? ` ${process.env.BENCH_SOAK_SERVER_ENV}` : ''}`);
    console.log(`load average before: ${loadavg().map((v) => v.toFixed(2)).join(' ')} (other work on the machine skews the throughput)`);
    const workload = new Workload(trove, sources, sourceServer.url);
    for (let i = 0; i < 8; i++) {
      const reply = await workload.upload(sources[i]!);
      if (!reply.uuid) throw new Error(`seed upload: ${reply.status} ${reply.body.toString('utf8')}`);
      workload.images.push(reply.uuid);
    }
    const idleRss = statusKiB(trove.pid, 'VmRSS') / 1024;
    const started = performance.now();
    const until = started + MINUTES * 60_000;
    const elapsedMinutes = () => (performance.now() - started) / 60_000;

    const sample = async () => {
      let heapMiB = NaN;
      let externalMiB = NaN;
      try {
        const metrics = (await send(agent, `${trove.url}/metrics`, 'GET', {})).body.toString('utf8');
        heapMiB = metricValue(metrics, 'trove_nodejs_heap_size_used_bytes') / 1048576;
        externalMiB = metricValue(metrics, 'trove_nodejs_external_memory_bytes') / 1048576;
      } catch {
        // the memory figures from /proc still count
      }
      samples.push({
        minutes: elapsedMinutes(),
        rssMiB: statusKiB(trove.pid, 'VmRSS') / 1024,
        anonMiB: statusKiB(trove.pid, 'RssAnon') / 1024,
        heapMiB,
        externalMiB,
        ops: workload.ops,
      });
    };
    const sampler = (async () => {
      let lastLog = 0;
      while (!stopSampling) {
        await sample();
        const last = samples.at(-1)!;
        if (last.minutes - lastLog >= 1 || samples.length === 1) {
          lastLog = Math.floor(last.minutes);
          console.log(
            `  ${last.minutes.toFixed(1)} min: ${last.ops} ops, RSS ${last.rssMiB.toFixed(0)} MiB (anon ${last.anonMiB.toFixed(0)}), heap ${last.heapMiB.toFixed(0)} MiB, external ${last.externalMiB.toFixed(0)} MiB`,
          );
        }
        await new Promise((r) => setTimeout(r, SAMPLE_SECONDS * 1000));
      }
    })();

    await Promise.all(
      Array.from({ length: CONCURRENCY }, async (_, worker) => {
        const own = mulberry32(SEED * 1000 + worker + 1);
        while (performance.now() < until) await workload.run(workload.pickKind(own), own);
      }),
    );
    stopSampling = true;
    await sampler;
    await sample();
    const seconds = (performance.now() - started) / 1000;

    let errors = 0;
    const rows = KINDS.map((kind) => {
      const s = workload.stats.get(kind)!;
      errors += s.errors;
      s.latencies.sort((a, b) => a - b);
      return {
        operation: kind,
        count: s.ok + s.errors,
        errors: s.errors,
        'p50 ms': percentile(s.latencies, 50).toFixed(1),
        'p99 ms': percentile(s.latencies, 99).toFixed(1),
        'error kinds': [...s.statuses].map(([k, n]) => `${k} ×${n}`).join('; ').slice(0, 120),
      };
    });
    printTable(`Soak: ${MINUTES} min, ${CONCURRENCY} in flight, seed ${SEED}: ${workload.ops} operations (${(workload.ops / seconds).toFixed(1)}/s), ${errors} errors`, rows);

    const total = samples.at(-1)!.minutes;
    const third = (i: number) => samples.filter((s) => s.minutes >= (i * total) / 3 && s.minutes <= ((i + 1) * total) / 3);
    const lastHalf = samples.filter((s) => s.minutes >= total / 2);
    const summary = {
      minutes: MINUTES,
      concurrency: CONCURRENCY,
      seed: SEED,
      serverEnv: process.env.BENCH_SOAK_SERVER_ENV ?? '',
      limits: trove.limits,
      ops: workload.ops,
      errors,
      idleRssMiB: idleRss,
      rssThirdsMiB: [0, 1, 2].map((i) => mean(third(i).map((s) => s.rssMiB))),
      slopeLastHalfMiBPerMin: slope(lastHalf.map((s) => [s.minutes, s.rssMiB])),
      anonSlopeLastHalfMiBPerMin: slope(lastHalf.map((s) => [s.minutes, s.anonMiB])),
      // Per thousand operations too: runs that share the machine get through different amounts of work per minute.
      slopeLastHalfMiBPerKOps: slope(lastHalf.map((s) => [s.ops / 1000, s.rssMiB])),
      peakRssMiB: Math.max(...samples.map((s) => s.rssMiB)),
      vmHwmMiB: trove.peakRssMiB(),
      finalRssMiB: samples.at(-1)!.rssMiB,
      heapMiBMiddleLast: [samples[Math.floor(samples.length / 2)]!.heapMiB, samples.at(-1)!.heapMiB],
      externalMiBMiddleLast: [samples[Math.floor(samples.length / 2)]!.externalMiB, samples.at(-1)!.externalMiB],
    };
    printTable('Server memory (RSS from /proc/<pid>/status, heap and external from /metrics), MiB', [
      {
        'idle RSS': summary.idleRssMiB.toFixed(0),
        'RSS 1st third': summary.rssThirdsMiB[0]!.toFixed(0),
        'RSS 2nd third': summary.rssThirdsMiB[1]!.toFixed(0),
        'RSS last third': summary.rssThirdsMiB[2]!.toFixed(0),
        'slope last half MiB/min': summary.slopeLastHalfMiBPerMin.toFixed(2),
        'MiB per 1k ops': summary.slopeLastHalfMiBPerKOps.toFixed(2),
        'peak RSS': summary.peakRssMiB.toFixed(0),
        'VmHWM': summary.vmHwmMiB.toFixed(0),
        'heap mid/last': summary.heapMiBMiddleLast.map((v) => v.toFixed(0)).join(' / '),
        'external mid/last': summary.externalMiBMiddleLast.map((v) => v.toFixed(0)).join(' / '),
      },
    ]);
    console.log(`server: ${trove.limits}${summary.serverEnv ? ` ${summary.serverEnv}` : ''}`);
    console.log(`SOAK_RESULT ${JSON.stringify(summary)}`);
    if (JSON_OUT) writeFileSync(JSON_OUT, JSON.stringify({ summary, samples }, null, 2));
  } finally {
    stopSampling = true;
    await trove.stop();
    await sourceServer.close();
    agent.destroy();
    await rm(work, { recursive: true, force: true });
  }
}

await main();
