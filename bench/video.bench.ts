/**
 * Video conversion speed: a 1080p clip converted to 720p MP4 at each quality, through Trove's
 * conversion API (upload, `POST /convert/video/`, polling the status until it is finished) against
 * `ffmpeg` run directly with the same arguments, the transcode and then the default thumbnail
 * (src/adapters/video/ffmpeg-args.ts builds both, with the same thread count as Trove's video
 * engine). Speed is the clip's duration over the wall time, as a multiple of real time; Trove's time
 * also includes the rest of the API's work: queueing the job, picking it up, probing the source
 * again, storing the result (which reads its own video facts) and the status polls (every 100 ms). Rounds
 * alternate which side goes first; each side's best round counts.
 *
 * Then GIF to video: animated GIFs of three kinds made here with ffmpeg (photo-like: a fractal zoom
 * with film grain through a dithered palette of its own, as GIFs cut from footage are made;
 * cartoon-like: flat shapes moving on a flat background; screen-recording-like: a terminal where
 * lines of text appear one after another), each fetched through `/:uuid/gif2video/` as MP4 and
 * WebM at the default quality: the video's bytes over the GIF's, the miss (ffmpeg ran) and a hit.
 *
 *   npm run build && npx tsx bench/video.bench.ts      (BENCH_CLIP_SECONDS=8 BENCH_ROUNDS=2,
 *   BENCH_QUALITIES=normal,best; BENCH_DEBUG=1 prints each conversion's status changes;
 *   BENCH_GIF_SIZE=480x270 BENCH_GIF_SECONDS=4 BENCH_GIF_FPS=12; BENCH_TABLES=conversion,gif2video;
 *   BENCH_PORT=3966)
 */
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { thumbnailArgs, thumbnailTimes, transcodeArgs } from '../src/adapters/video/ffmpeg-args.js';
import { INPUT_GUARD } from '../src/adapters/video/ffmpeg.video-engine.js';
import { PROBE_ENTRIES, parseProbeOutput } from '../src/adapters/video/ffprobe-output.js';
import { parseVideoConversionPath, VIDEO_QUALITIES, type VideoQuality } from '../src/domain/video-conversion.js';
import { printTable, RATE_LIMITS_OFF, startTroveProcess, type TroveProcess } from './lib/trove-process.js';

const run = promisify(execFile);
const CLIP_SECONDS = Number(process.env.BENCH_CLIP_SECONDS ?? 8);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 2);
const QUALITIES = (process.env.BENCH_QUALITIES?.split(',') ?? [...VIDEO_QUALITIES]) as VideoQuality[];
/** The video engine's `-threads` (src/wiring/video.ts). */
const FFMPEG_THREADS = 2;
const GIF_SIZE = process.env.BENCH_GIF_SIZE ?? '480x270';
const GIF_SECONDS = Number(process.env.BENCH_GIF_SECONDS ?? 4);
const GIF_FPS = Number(process.env.BENCH_GIF_FPS ?? 12);
const TABLES = new Set(process.env.BENCH_TABLES?.split(',') ?? ['conversion', 'gif2video']);

/**
 * One palette per animation, as GIF makers do: dithered for footage; exact for flat colours (without
 * a palette of its own ffmpeg's GIF encoder dithers every colour to 3-3-2 bits, a noise no real
 * cartoon or screen recording has).
 */
const OWN_PALETTE = (dither: 'sierra2_4a' | 'none') => `split[a][b];[a]palettegen=stats_mode=full[p];[b][p]paletteuse=dither=${dither}`;

/** The three kinds of animated GIF, as ffmpeg filter graphs of GIF_SIZE, GIF_FPS and GIF_SECONDS. */
function gifKinds(): Array<{ kind: string; graph: string }> {
  const [width, height] = GIF_SIZE.split('x').map(Number) as [number, number];
  const frames = Math.round(GIF_SECONDS * GIF_FPS);
  const line = (index: number, text: string) =>
    `drawtext=font=monospace:fontsize=${Math.max(10, Math.round(height / 18))}:fontcolor=0xd8d8d8:x=10:y=${10 + index * Math.round(height / 12)}:text='${text}':enable='gte(t,${(index * GIF_SECONDS) / 8})'`;
  return [
    {
      kind: 'photo-like (grainy zoom, dithered palette)',
      graph: `mandelbrot=s=${GIF_SIZE}:r=${GIF_FPS},trim=end_frame=${frames},noise=alls=6:allf=t,${OWN_PALETTE('sierra2_4a')}`,
    },
    {
      kind: 'cartoon-like (flat shapes)',
      graph: [
        `color=c=0xfff4d6:s=${GIF_SIZE}:r=${GIF_FPS}:d=${GIF_SECONDS}`,
        `drawbox=x='mod(t*${Math.round(width / 2)},${width})':y=${Math.round(height / 5)}:w=${Math.round(width / 8)}:h=${Math.round(height / 5)}:color=0xe04040:t=fill`,
        `drawbox=x=${Math.round(width / 3)}:y='mod(t*${Math.round(height / 2)},${height})':w=${Math.round(width / 10)}:h=${Math.round(width / 10)}:color=0x3050d0:t=fill`,
        `drawbox=x=0:y=${Math.round((height * 4) / 5)}:w=${width}:h=${Math.round(height / 5)}:color=0x40a040:t=fill`,
        OWN_PALETTE('none'),
      ].join(','),
    },
    {
      kind: 'screen-recording-like (terminal text)',
      graph: [
        `color=c=0x1e1e1e:s=${GIF_SIZE}:r=${GIF_FPS}:d=${GIF_SECONDS}`,
        line(0, '$ npm run build'),
        line(1, '> tsc -p tsconfig.json'),
        line(2, 'src/app.ts ... ok'),
        line(3, 'src/context.ts ... ok'),
        line(4, 'src/wiring/delivery.ts ... ok'),
        line(5, 'built 214 files in 3.2 s'),
        line(6, '$ _'),
        OWN_PALETTE('none'),
      ].join(','),
    },
  ];
}

async function makeGif(file: string, graph: string): Promise<void> {
  await run('nice', ['-n', '19', 'ffmpeg', '-v', 'error', '-f', 'lavfi', '-i', graph, '-loop', '0', '-y', file]);
}

/** Bytes and seconds of one `/gif2video/` answer. */
async function fetchVideo(trove: TroveProcess, url: string): Promise<{ bytes: number; seconds: number; type: string }> {
  const started = performance.now();
  const response = await fetch(`${trove.url}${url}`);
  const body = await response.arrayBuffer();
  if (!response.ok) throw new Error(`${url}: ${response.status} ${Buffer.from(body).toString('utf8')}`);
  return { bytes: body.byteLength, seconds: (performance.now() - started) / 1000, type: response.headers.get('content-type') ?? '' };
}

async function gifTable(trove: TroveProcess, work: string): Promise<void> {
  const rows = [];
  for (const [index, { kind, graph }] of gifKinds().entries()) {
    const file = path.join(work, `kind-${index}.gif`);
    await makeGif(file, graph);
    const gif = await readFile(file);
    const uuid = await upload(trove, gif, 'animation.gif');
    const row: Record<string, string> = { kind, 'GIF KiB': (gif.length / 1024).toFixed(1) };
    for (const format of ['mp4', 'webm'] as const) {
      const url = `/${uuid}/gif2video/-/format/${format}/`;
      const miss = await fetchVideo(trove, url);
      const hit = await fetchVideo(trove, url);
      if (hit.bytes !== miss.bytes || miss.type !== `video/${format}`) throw new Error(`${url}: answers differ or are not video/${format}`);
      row[`${format} KiB`] = (miss.bytes / 1024).toFixed(1);
      row[`${format} / GIF`] = (miss.bytes / gif.length).toFixed(3);
      row[`${format} miss ms`] = (miss.seconds * 1000).toFixed(0);
      row[`${format} hit ms`] = (hit.seconds * 1000).toFixed(1);
    }
    rows.push(row);
  }
  printTable(
    `GIF to video through /:uuid/gif2video/ (quality normal), ${GIF_SIZE}, ${GIF_FPS} fps, ${GIF_SECONDS} s (${Math.round(GIF_SECONDS * GIF_FPS)} frames): video bytes / GIF bytes, and time to answer (miss: ffmpeg ran; hit: cached)`,
    rows,
  );
}

/** A 1080p30 H.264 clip with motion, detail and a stereo tone: what a phone uploads, made here. */
async function makeClip(file: string): Promise<void> {
  await run('ffmpeg', [
    '-v', 'error', '-f', 'lavfi', '-i', `testsrc2=size=1920x1080:rate=30:duration=${CLIP_SECONDS}`,
    '-f', 'lavfi', '-i', `sine=frequency=440:sample_rate=48000:duration=${CLIP_SECONDS}`,
    '-c:v', 'libx264', '-preset', 'veryfast', '-crf', '20', '-pix_fmt', 'yuv420p', '-c:a', 'aac', '-ac', '2', '-y', file,
  ]);
}

async function rest(trove: TroveProcess, pathname: string, body?: unknown): Promise<unknown> {
  const response = await fetch(`${trove.url}${pathname}`, {
    method: body === undefined ? 'GET' : 'POST',
    headers: {
      Accept: 'application/vnd.uploadcare-v0.7+json',
      'Content-Type': 'application/json',
      Authorization: `Uploadcare.Simple ${trove.publicKey}:${trove.secretKey}`,
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  if (!response.ok) throw new Error(`${pathname}: ${response.status} ${await response.text()}`);
  return response.json();
}

async function upload(trove: TroveProcess, bytes: Buffer, name = 'clip.mp4'): Promise<string> {
  const form = new FormData();
  form.set('UPLOADCARE_PUB_KEY', trove.publicKey);
  form.set('file', new Blob([new Uint8Array(bytes)]), name);
  const answer = (await (await fetch(`${trove.uploadUrl}/base/`, { method: 'POST', body: form })).json()) as { file?: string };
  if (!answer.file) throw new Error(`upload failed: ${JSON.stringify(answer)}`);
  return answer.file;
}

/** Seconds from the conversion request to its status saying finished. */
async function viaTrove(trove: TroveProcess, uuid: string, quality: VideoQuality): Promise<number> {
  const started = performance.now();
  const answer = (await rest(trove, '/convert/video/', { paths: [`${uuid}/video/-/format/mp4/-/size/1280x720/-/quality/${quality}/`], store: true })) as {
    problems: Record<string, string>;
    result: { token: number }[];
  };
  const token = answer.result[0]?.token;
  if (token === undefined) throw new Error(`conversion refused: ${JSON.stringify(answer.problems)}`);
  let last = '';
  for (;;) {
    const status = (await rest(trove, `/convert/video/status/${token}/`)) as { status: string; error: string | null };
    const seen = `${status.status} ${(status as { progress?: number }).progress ?? ''}`;
    if (process.env.BENCH_DEBUG && seen !== last) console.log(`${((performance.now() - started) / 1000).toFixed(2)} s: ${seen}`);
    last = seen;
    if (status.status === 'finished') return (performance.now() - started) / 1000;
    if (status.status === 'failed' || status.status === 'cancelled') throw new Error(`conversion ${status.status}: ${status.error}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** Seconds ffmpeg takes with exactly the arguments Trove's engine gives it. */
async function direct(clip: string, output: string, quality: VideoQuality): Promise<number> {
  const { stdout } = await run('ffprobe', ['-v', 'error', '-print_format', 'json', '-show_entries', PROBE_ENTRIES, '-i', `file:${clip}`]);
  const source = parseProbeOutput(stdout);
  const { plan } = parseVideoConversionPath(`00000000-0000-4000-8000-000000000000/video/-/format/mp4/-/size/1280x720/-/quality/${quality}/`, 4096);
  const args = transcodeArgs({ inputGuard: INPUT_GUARD, maxStreams: 16, input: clip, output, source, plan, threads: FFMPEG_THREADS });
  const started = performance.now();
  await run('ffmpeg', args, { maxBuffer: 64 * 1024 * 1024 });
  // A conversion also takes its thumbnails (one by default, `thumbs~1`), with the engine's own arguments.
  for (const [index, atMs] of thumbnailTimes(source.info.duration ?? 0, plan.thumbnails).entries()) {
    await run('ffmpeg', thumbnailArgs({ inputGuard: INPUT_GUARD, input: output, output: `${output}.thumb${index}.jpg`, atMs }));
  }
  return (performance.now() - started) / 1000;
}

async function main(): Promise<void> {
  const work = await mkdtemp(path.join(process.cwd(), '.tmp-bench-video-'));
  let trove: TroveProcess | undefined;
  try {
    trove = await startTroveProcess({ dataDir: path.join(work, 'data'), port: Number(process.env.BENCH_PORT ?? 3966), env: { ...RATE_LIMITS_OFF, TROVE_WORKERS: '1' } });
    if (TABLES.has('conversion')) await conversionTable(trove, work);
    if (TABLES.has('gif2video')) await gifTable(trove, work);
  } finally {
    await trove?.stop();
    await rm(work, { recursive: true, force: true });
  }
}

async function conversionTable(trove: TroveProcess, work: string): Promise<void> {
  const clip = path.join(work, 'clip.mp4');
  await makeClip(clip);
  const bytes = await readFile(clip);
  const rows = [];
  for (const quality of QUALITIES) {
    let bestDirect = Infinity;
    let bestTrove = Infinity;
    for (let round = 0; round < ROUNDS; round += 1) {
      // A fresh upload per round: the same request again would be answered with the earlier result.
      const uuid = await upload(trove, bytes);
      const runDirect = async () => (bestDirect = Math.min(bestDirect, await direct(clip, path.join(work, `direct-${quality}.mp4`), quality)));
      const runTrove = async () => (bestTrove = Math.min(bestTrove, await viaTrove(trove, uuid, quality)));
      if (round % 2 === 0) {
        await runDirect();
        await runTrove();
      } else {
        await runTrove();
        await runDirect();
      }
    }
    rows.push({
      quality,
      'ffmpeg × real time': (CLIP_SECONDS / bestDirect).toFixed(2),
      'Trove × real time': (CLIP_SECONDS / bestTrove).toFixed(2),
      'Trove / ffmpeg': (bestDirect / bestTrove).toFixed(3),
      'ffmpeg s': bestDirect.toFixed(2),
      'Trove s': bestTrove.toFixed(2),
    });
  }
  printTable(`Video conversion, ${CLIP_SECONDS} s 1080p30 H.264 clip → 720p MP4, best of ${ROUNDS} alternating rounds (Trove: request to finished status)`, rows);
}

await main();
