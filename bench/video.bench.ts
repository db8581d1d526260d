/**
 * Video conversion speed: a 1080p clip converted to 720p MP4 at each quality, through Trove's
 * conversion API (upload, `POST /convert/video/`, polling the status until it is finished) against
 * `ffmpeg` run directly with the same arguments (src/adapters/video/ffmpeg-args.ts builds both, with
 * the same thread count as Trove's video engine). Speed is the clip's duration over the wall time,
 * as a multiple of real time; Trove's time includes the upload-free part of the API: queueing the
 * job, picking it up, the probe, storing the result and the status polls (every 100 ms). Rounds
 * alternate which side goes first; each side's best round counts.
 *
 *   npm run build && npx tsx bench/video.bench.ts      (BENCH_CLIP_SECONDS=8 BENCH_ROUNDS=2,
 *   BENCH_QUALITIES=normal,best; BENCH_DEBUG=1 prints each conversion's status changes)
 */
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { transcodeArgs } from '../src/adapters/video/ffmpeg-args.js';
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

async function upload(trove: TroveProcess, bytes: Buffer): Promise<string> {
  const form = new FormData();
  form.set('UPLOADCARE_PUB_KEY', trove.publicKey);
  form.set('file', new Blob([new Uint8Array(bytes)]), 'clip.mp4');
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
  return (performance.now() - started) / 1000;
}

async function main(): Promise<void> {
  const work = await mkdtemp(path.join(process.cwd(), '.tmp-bench-video-'));
  const trove = await startTroveProcess({ dataDir: path.join(work, 'data'), port: 3966, env: { ...RATE_LIMITS_OFF, TROVE_WORKERS: '1' } });
  try {
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
  } finally {
    await trove.stop();
    await rm(work, { recursive: true, force: true });
  }
}

await main();
