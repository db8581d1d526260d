import type { VideoProbe } from '../../domain/video-info.js';
import { VideoProbeError, type VideoEngine, type VideoEngineStatus } from '../../ports/video-engine.js';
import { PROBE_ENTRIES, parseProbeOutput } from './ffprobe-output.js';
import type { LocalMediaSource } from './local-media.js';
import { lastLine, runProcess } from './run-process.js';

export interface FfmpegSettings {
  ffprobePath: string;
  ffmpegPath: string;
  /** Deadline of one probe. */
  probeTimeoutMs: number;
  /** Most bytes of ffprobe's JSON read back. */
  maxProbeOutputBytes: number;
  /** The demuxer gives up on a file with more streams (ffmpeg's `max_streams`), before it allocates them. */
  maxStreams: number;
}

/**
 * Containers ffmpeg may open. Playlists (hls, concat, …) are not among them: they name other files,
 * and an uploaded one could make ffmpeg read any file of the server.
 */
export const INPUT_FORMATS = 'mov,mp4,m4a,3gp,3g2,mj2,matroska,webm,avi,mpeg,mpegts,ogg,flv,asf,mxf,nut,dv,m4v,h264,hevc';

/** Options that keep every run on the one local input: no network, no playlists, no other files. */
export const INPUT_GUARD = ['-protocol_whitelist', 'file', '-format_whitelist', INPUT_FORMATS] as const;

/** Video on Debian's ffmpeg and ffprobe, run as programs with argument arrays. */
export class FfmpegVideoEngine implements VideoEngine {
  private known: Promise<VideoEngineStatus> | undefined;

  constructor(
    private readonly media: LocalMediaSource,
    private readonly settings: FfmpegSettings,
  ) {}

  status(): Promise<VideoEngineStatus> {
    this.known ??= this.check();
    return this.known;
  }

  async probe(blobKey: string): Promise<VideoProbe> {
    const status = await this.status();
    if (!status.available) throw new VideoProbeError(`Video is not available on this server: ${status.reason}`);
    const local = await this.media.open(blobKey);
    try {
      const result = await runProcess(
        this.settings.ffprobePath,
        ['-v', 'error', '-hide_banner', ...INPUT_GUARD, '-max_streams', String(this.settings.maxStreams), '-print_format', 'json', '-show_entries', PROBE_ENTRIES, '-i', `file:${local.path}`],
        { timeoutMs: this.settings.probeTimeoutMs, maxStdoutBytes: this.settings.maxProbeOutputBytes },
      );
      if (result.timedOut) throw new VideoProbeError(`ffprobe did not finish within ${this.settings.probeTimeoutMs} ms.`);
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
