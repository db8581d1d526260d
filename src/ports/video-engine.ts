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
}
