import type { Readable } from 'node:stream';
import type { Rendition } from '../domain/hls.js';
import type { AnimationFacts, Gif2VideoPlan } from '../domain/transform/gif2video.js';
import type { FrameStep } from '../domain/transform/gif2video-geometry.js';
import type { VideoPlan } from '../domain/video-conversion.js';
import type { VideoProbe } from '../domain/video-info.js';

/** Whether this server can read and convert video, and why not. */
export interface VideoEngineStatus {
  available: boolean;
  /** Why it is unavailable. */
  reason?: string;
  /** What runs it (`ffmpeg 5.1.6`). */
  engine?: string;
}

/** A file the engine could not read as a video; `message` says why, in words a user can act on. */
export class VideoProbeError extends Error {
  override readonly name = 'VideoProbeError';

  /** `timeout`: ffprobe passed its deadline (the same bytes may be read on a quieter server); `unreadable`: they cannot be. */
  constructor(
    message: string,
    readonly reason: 'unreadable' | 'timeout' = 'unreadable',
  ) {
    super(message);
  }
}

/**
 * Reads and converts video held in the blob store. The engine works on the stored bytes only (never
 * a URL), and every run is bounded in time and in what it reads back.
 */
export interface VideoEngine {
  /** Learned once, at the first call (running the engine's `-version`); never throws. */
  status(): Promise<VideoEngineStatus>;
  /** The facts of the video stored at `blobKey`; throws `VideoProbeError` when it cannot be read as one. */
  probe(blobKey: string): Promise<VideoProbe>;
  /** Throws `VideoTranscodeError` for a conversion that cannot succeed, other errors for trouble worth a retry. */
  transcode(request: TranscodeRequest): Promise<TranscodeResult>;
  /**
   * Size, frames and duration of the GIF stored at `blobKey`, read from its structure without
   * decoding a frame; throws `VideoProbeError` when it cannot be read as a GIF.
   */
  probeAnimation(blobKey: string): Promise<AnimationFacts>;
  /** The GIF as a video, in memory; throws `VideoTranscodeError` when it cannot be made. */
  animationToVideo(request: AnimationRequest): Promise<Buffer>;
  /** Every rendition of an HLS ladder in one run, in the engine's scratch space; throws `VideoTranscodeError` when it cannot be made. */
  hlsLadder(request: HlsRequest): Promise<HlsResult>;
}

export interface HlsRequest {
  sourceKey: string;
  /** The source as probed just before. */
  source: VideoProbe;
  renditions: readonly Rendition[];
  segmentSeconds: number;
  signal?: AbortSignal;
}

export interface HlsResult {
  /** Playlists and segments by their names (`master.m3u8`, `r0.m3u8`, `r0_00000.ts`, …). */
  files: { name: string; size: number; read(): Readable }[];
  /** Removes the scratch folder; call once the files are stored. */
  release(): Promise<void>;
}

export interface AnimationRequest {
  sourceKey: string;
  plan: Gif2VideoPlan;
  /** The plan's size operations in pixels, from the GIF's probed size (`gif2videoGeometry`). */
  steps: readonly FrameStep[];
  /** ffmpeg is killed when it runs longer. */
  timeoutMs: number;
  /** A result larger than this is refused rather than held in memory. */
  maxOutputBytes: number;
}

/** A conversion that failed for a reason that trying again will not change (the input, a limit, a timeout). */
export class VideoTranscodeError extends Error {
  override readonly name = 'VideoTranscodeError';

  /**
   * `timeout`: the run passed its deadline (the same input may pass on a quieter server);
   * `too_large`: the result is larger than allowed; `failed`: the input cannot be converted.
   */
  constructor(
    message: string,
    readonly reason: 'failed' | 'timeout' | 'too_large' = 'failed',
  ) {
    super(message);
  }
}

export interface TranscodeRequest {
  sourceKey: string;
  plan: VideoPlan;
  /** The source as probed just before: its duration and displayed size. */
  source: VideoProbe;
  /** Aborting kills ffmpeg. */
  signal?: AbortSignal;
  /** Called as the transcode advances, with the share of the result written (0 to 1). */
  onProgress?: (done: number) => void;
}

/** A result file in the engine's scratch space. */
export interface TranscodedFile {
  size: number;
  read(): Readable;
}

export interface TranscodeResult {
  video: TranscodedFile;
  /** JPEG frames evenly spread along the result, as many as the plan asks. */
  thumbnails: TranscodedFile[];
  /** Removes the scratch files; call once they are stored. */
  release(): Promise<void>;
}
