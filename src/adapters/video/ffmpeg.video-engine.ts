import { randomUUID } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, readdir, readFile, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import type { AnimationFacts } from '../../domain/transform/gif2video.js';
import type { VideoProbe } from '../../domain/video-info.js';
import { ConcurrencyLimiter } from '../../lib/concurrency-limiter.js';
import {
  VideoProbeError,
  VideoTranscodeError,
  type AnimationRequest,
  type HlsRequest,
  type HlsResult,
  type TranscodedFile,
  type TranscodeRequest,
  type TranscodeResult,
  type VideoEngine,
  type VideoEngineStatus,
} from '../../ports/video-engine.js';
import { gifToVideoArgs, hlsArgs, progressPosition, thumbnailArgs, thumbnailTimes, transcodeArgs } from './ffmpeg-args.js';
import { ANIMATION_PROBE_ENTRIES, PROBE_ENTRIES, parseAnimationProbe, parseProbeOutput } from './ffprobe-output.js';
import type { LocalMediaSource } from './local-media.js';
import { lastLine, runProcess } from './run-process.js';

interface FfmpegSettings {
  ffprobePath: string;
  ffmpegPath: string;
  /** Deadline of one probe. */
  probeTimeoutMs: number;
  /** Most bytes of ffprobe's JSON read back. */
  maxProbeOutputBytes: number;
  /** The demuxer gives up on a file with more streams (ffmpeg's `max_streams`), before it allocates them. */
  maxStreams: number;
  /** Deadline of one conversion, its thumbnails included. */
  transcodeTimeoutMs: number;
  /** Where results are written before they are stored. */
  scratchDir: string;
  /** ffmpeg's `-threads`. */
  threads: number;
  /** ffprobe runs at once in the process; more uploads of videos wait their turn. */
  probeConcurrency: number;
}

/**
 * Containers ffmpeg may open. Playlists (hls, concat, …) are not among them: they name other files,
 * and an uploaded one could make ffmpeg read any file of the server.
 */
const INPUT_FORMATS = 'mov,mp4,m4a,3gp,3g2,mj2,matroska,webm,avi,mpeg,mpegts,ogg,flv,asf,mxf,nut,dv,m4v,h264,hevc';

/** Options that keep every run on the one local input: no network, no playlists, no other files. */
export const INPUT_GUARD = ['-protocol_whitelist', 'file', '-format_whitelist', INPUT_FORMATS] as const;

/** For GIF to video: the GIF demuxer alone, forced, and nothing but the local file. */
const GIF_INPUT_GUARD = ['-protocol_whitelist', 'file', '-format_whitelist', 'gif', '-f', 'gif'] as const;

/** Video on Debian's ffmpeg and ffprobe, run as programs with argument arrays. */
export class FfmpegVideoEngine implements VideoEngine {
  private known: Promise<VideoEngineStatus> | undefined;
  private readonly probes: ConcurrencyLimiter;

  constructor(
    private readonly media: LocalMediaSource,
    private readonly settings: FfmpegSettings,
  ) {
    this.probes = new ConcurrencyLimiter(settings.probeConcurrency);
  }

  status(): Promise<VideoEngineStatus> {
    this.known ??= this.pruneScratch().then(() => this.check());
    return this.known;
  }

  /**
   * Removes what a crashed process left in the scratch folder: files older than any run can last.
   * Other processes may share the folder, so nothing younger is touched.
   */
  private async pruneScratch(): Promise<void> {
    const cutoff = Date.now() - (this.settings.transcodeTimeoutMs + 3_600_000);
    const names = await readdir(this.settings.scratchDir).catch(() => [] as string[]);
    for (const name of names) {
      const file = path.join(this.settings.scratchDir, name);
      const info = await stat(file).catch(() => null);
      // HLS runs write a folder of their own (`hls-…`).
      const leftover = info?.isFile() || (info?.isDirectory() && name.startsWith('hls-'));
      if (info && leftover && info.mtimeMs < cutoff) await rm(file, { recursive: true, force: true }).catch(() => undefined);
    }
  }

  async probe(blobKey: string): Promise<VideoProbe> {
    const status = await this.status();
    if (!status.available) throw new VideoProbeError(`Video is not available on this server: ${status.reason}`);
    return this.probes.run(() => this.probeNow(blobKey));
  }

  private async probeNow(blobKey: string): Promise<VideoProbe> {
    const local = await this.media.open(blobKey);
    try {
      const result = await runProcess(
        this.settings.ffprobePath,
        ['-v', 'error', '-hide_banner', ...INPUT_GUARD, '-max_streams', String(this.settings.maxStreams), '-print_format', 'json', '-show_entries', PROBE_ENTRIES, '-i', `file:${local.path}`],
        { timeoutMs: this.settings.probeTimeoutMs, maxStdoutBytes: this.settings.maxProbeOutputBytes },
      );
      if (result.timedOut) throw new VideoProbeError(`ffprobe did not finish within ${this.settings.probeTimeoutMs} ms.`, 'timeout');
      if (result.overflowed) throw new VideoProbeError(`ffprobe's description passed ${this.settings.maxProbeOutputBytes} bytes: the file declares too many streams.`);
      if (result.exitCode !== 0 && result.stderr.includes('max_streams')) {
        throw new VideoProbeError(`The file has more than TROVE_VIDEO_MAX_STREAMS (${this.settings.maxStreams}) streams.`);
      }
      if (result.exitCode !== 0) throw new VideoProbeError(`ffprobe cannot read the file: ${lastLine(result.stderr) || `exit code ${result.exitCode}`}.`);
      return parseProbeOutput(result.stdout.toString('utf8'));
    } finally {
      await local.release();
    }
  }

  async probeAnimation(blobKey: string): Promise<AnimationFacts> {
    const status = await this.status();
    if (!status.available) throw new VideoProbeError(`Video is not available on this server: ${status.reason}`);
    return this.probes.run(async () => {
      const local = await this.media.open(blobKey);
      try {
        // Counting packets walks the GIF's blocks without decoding a frame.
        const result = await runProcess(
          this.settings.ffprobePath,
          ['-v', 'error', '-hide_banner', ...GIF_INPUT_GUARD, '-count_packets', '-select_streams', 'v:0', '-print_format', 'json', '-show_entries', ANIMATION_PROBE_ENTRIES, '-i', `file:${local.path}`],
          { timeoutMs: this.settings.probeTimeoutMs, maxStdoutBytes: 64 * 1024 },
        );
        if (result.timedOut) throw new VideoProbeError(`ffprobe did not finish within ${this.settings.probeTimeoutMs} ms.`, 'timeout');
        if (result.exitCode !== 0 || result.overflowed) throw new VideoProbeError(`ffprobe cannot read the GIF: ${lastLine(result.stderr) || `exit code ${result.exitCode}`}.`);
        return parseAnimationProbe(result.stdout.toString('utf8'));
      } finally {
        await local.release();
      }
    });
  }

  async animationToVideo(request: AnimationRequest): Promise<Buffer> {
    const status = await this.status();
    if (!status.available) throw new VideoTranscodeError(`Video is not available on this server: ${status.reason}`);
    await mkdir(this.settings.scratchDir, { recursive: true });
    const output = path.join(this.settings.scratchDir, `gif-${randomUUID()}`);
    const local = await this.media.open(request.sourceKey);
    try {
      const args = gifToVideoArgs({ inputGuard: GIF_INPUT_GUARD, input: local.path, output, plan: request.plan, steps: request.steps, threads: this.settings.threads });
      const result = await runProcess(this.settings.ffmpegPath, args, { timeoutMs: request.timeoutMs, maxStdoutBytes: 64 * 1024 });
      if (result.timedOut) throw new VideoTranscodeError(`The GIF was not converted within ${request.timeoutMs} ms.`, 'timeout');
      if (result.exitCode !== 0) throw new VideoTranscodeError(`ffmpeg could not convert the GIF: ${lastLine(result.stderr) || `exit code ${result.exitCode}`}.`);
      const { size } = await stat(output).catch(() => ({ size: 0 }));
      if (size === 0) throw new VideoTranscodeError('ffmpeg wrote nothing: the GIF has no frames it can read.');
      if (size > request.maxOutputBytes) throw new VideoTranscodeError(`The video would be ${size} bytes, more than the ${request.maxOutputBytes} allowed.`, 'too_large');
      return await readFile(output);
    } finally {
      await rm(output, { force: true });
      await local.release();
    }
  }

  async transcode(request: TranscodeRequest): Promise<TranscodeResult> {
    const status = await this.status();
    if (!status.available) throw new VideoTranscodeError(`Video is not available on this server: ${status.reason}`);
    const deadline = Date.now() + this.settings.transcodeTimeoutMs;
    const remaining = () => {
      const left = deadline - Date.now();
      if (left <= 0) throw new VideoTranscodeError(`The conversion did not finish within TROVE_VIDEO_TIMEOUT (${this.settings.transcodeTimeoutMs} ms).`);
      return left;
    };
    await mkdir(this.settings.scratchDir, { recursive: true });
    const id = randomUUID();
    const output = path.join(this.settings.scratchDir, `out-${id}`);
    const written: string[] = [output];
    const release = async () => {
      await Promise.all(written.map((file) => rm(file, { force: true })));
    };
    const local = await this.media.open(request.sourceKey);
    try {
      const args = transcodeArgs({
        inputGuard: INPUT_GUARD,
        maxStreams: this.settings.maxStreams,
        input: local.path,
        output,
        source: request.source,
        plan: request.plan,
        threads: this.settings.threads,
      });
      const durationMs = outputDuration(request);
      const onStdout = request.onProgress && durationMs > 0 ? progressReader(durationMs, request.onProgress) : undefined;
      await this.ffmpeg(args, remaining(), request.signal, 'transcode', onStdout);
      const video = await resultFile(output);
      const thumbnails: TranscodedFile[] = [];
      for (const [index, atMs] of thumbnailTimes(durationMs, request.plan.thumbnails).entries()) {
        const thumb = path.join(this.settings.scratchDir, `thumb-${id}-${index}`);
        written.push(thumb);
        await this.ffmpeg(thumbnailArgs({ inputGuard: INPUT_GUARD, input: output, output: thumb, atMs }), remaining(), request.signal, `thumbnail ${index + 1}`);
        thumbnails.push(await resultFile(thumb));
      }
      return { video, thumbnails, release };
    } catch (error) {
      await release();
      throw error;
    } finally {
      await local.release();
    }
  }

  async hlsLadder(request: HlsRequest): Promise<HlsResult> {
    const status = await this.status();
    if (!status.available) throw new VideoTranscodeError(`Video is not available on this server: ${status.reason}`);
    const outputDir = path.join(this.settings.scratchDir, `hls-${randomUUID()}`);
    await mkdir(outputDir, { recursive: true });
    const release = () => rm(outputDir, { recursive: true, force: true });
    const local = await this.media.open(request.sourceKey).catch(async (error: unknown) => {
      await release();
      throw error;
    });
    try {
      const args = hlsArgs({
        inputGuard: INPUT_GUARD,
        maxStreams: this.settings.maxStreams,
        input: local.path,
        outputDir,
        source: request.source,
        renditions: request.renditions,
        segmentSeconds: request.segmentSeconds,
        threads: this.settings.threads,
      });
      await this.ffmpeg(args, this.settings.transcodeTimeoutMs, request.signal, 'HLS ladder');
      const files = [];
      for (const name of (await readdir(outputDir)).sort()) {
        const file = path.join(outputDir, name);
        const { size } = await stat(file);
        files.push({ name, size, read: () => createReadStream(file) });
      }
      if (!files.some((file) => file.name === 'master.m3u8')) throw new VideoTranscodeError('ffmpeg wrote no master playlist: the video has no frames it can read.');
      return { files, release };
    } catch (error) {
      await release();
      throw error;
    } finally {
      await local.release();
    }
  }

  private async ffmpeg(args: string[], timeoutMs: number, signal: AbortSignal | undefined, step: string, onStdout?: (chunk: Buffer) => void): Promise<void> {
    // Only the progress report comes on stdout; it is read as it comes and not kept.
    const result = await runProcess(this.settings.ffmpegPath, args, { timeoutMs, maxStdoutBytes: 1024 * 1024, keepStdout: false, signal, onStdout });
    if (result.aborted) throw new VideoTranscodeError(`The conversion was cancelled during its ${step}.`);
    if (result.timedOut) throw new VideoTranscodeError(`The conversion did not finish within TROVE_VIDEO_TIMEOUT (${this.settings.transcodeTimeoutMs} ms).`);
    if (result.exitCode !== 0) throw new VideoTranscodeError(`ffmpeg failed in its ${step}: ${lastLine(result.stderr) || `exit code ${result.exitCode}`}.`);
  }

  /** Both programs must answer `-version`; the first line of ffmpeg's names the engine. */
  private async check(): Promise<VideoEngineStatus> {
    const versions: string[] = [];
    for (const program of [this.settings.ffmpegPath, this.settings.ffprobePath]) {
      try {
        const result = await runProcess(program, ['-hide_banner', '-version'], { timeoutMs: 10_000, maxStdoutBytes: 64 * 1024 });
        if (result.exitCode !== 0) return { available: false, reason: `${program} -version failed: ${lastLine(result.stderr) || `exit code ${result.exitCode}`}` };
        versions.push(result.stdout.toString('utf8').split('\n', 1)[0]!.split(' Copyright')[0]!.trim());
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code;
        const why = code === 'ENOENT' ? 'not found (install ffmpeg, or set TROVE_FFMPEG_PATH and TROVE_FFPROBE_PATH)' : (error as Error).message;
        return { available: false, reason: `${program}: ${why}` };
      }
    }
    return { available: true, engine: versions[0] };
  }
}

/** How long the result lasts: the cut's length, or what is left of the source after the cut's start. */
function outputDuration(request: TranscodeRequest): number {
  const total = request.source.info.duration ?? 0;
  const start = request.plan.cut?.startMs ?? 0;
  const rest = Math.max(0, total - start);
  const length = request.plan.cut?.lengthMs;
  return length != null ? Math.min(length, rest) : rest;
}

/** Turns ffmpeg's progress report into shares of the result written, each higher than the last. */
function progressReader(durationMs: number, report: (done: number) => void): (chunk: Buffer) => void {
  let pending = '';
  let best = 0;
  return (chunk) => {
    pending += chunk.toString('latin1');
    const cut = pending.lastIndexOf('\n');
    if (cut < 0) return;
    const position = progressPosition(pending.slice(0, cut));
    pending = pending.slice(cut + 1);
    if (position === null) return;
    const done = Math.min(1, position / durationMs);
    if (done > best) {
      best = done;
      report(done);
    }
  };
}

async function resultFile(file: string): Promise<TranscodedFile> {
  const size = await stat(file).then((s) => s.size).catch(() => 0);
  if (size === 0) throw new VideoTranscodeError('ffmpeg wrote nothing: the video has no frames in the part asked for.');
  return { size, read: () => createReadStream(file) };
}
