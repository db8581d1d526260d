import path from 'node:path';
import { FsBlobStore } from '../adapters/blob/fs.blob-store.js';
import { FfmpegVideoEngine } from '../adapters/video/ffmpeg.video-engine.js';
import { CopiedMedia, InPlaceMedia } from '../adapters/video/local-media.js';
import type { Config } from '../config/config.js';
import type { BlobStore } from '../ports/blob-store.js';
import type { VideoEngine } from '../ports/video-engine.js';

/** Far more JSON than TROVE_VIDEO_MAX_STREAMS streams can print. */
const MAX_PROBE_OUTPUT_BYTES = 1024 * 1024;

/**
 * The video engine over the blob store: ffmpeg reads the filesystem store's files in place, and a
 * copy in `DATA_DIR/video-scratch` of an S3 object.
 */
export function createVideoEngine(config: Config, blobs: BlobStore): VideoEngine {
  const media =
    blobs instanceof FsBlobStore ? new InPlaceMedia((key) => blobs.localPath(key)) : new CopiedMedia(blobs, path.join(config.dataDir, 'video-scratch'));
  return new FfmpegVideoEngine(media, {
    ffmpegPath: config.video.ffmpegPath,
    ffprobePath: config.video.ffprobePath,
    probeTimeoutMs: config.video.probeTimeoutMs,
    maxProbeOutputBytes: MAX_PROBE_OUTPUT_BYTES,
    maxStreams: config.video.limits.maxStreams,
  });
}
