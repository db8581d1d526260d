/**
 * What Trove knows about a video from its probe, in Uploadcare's shapes: REST's `content_info.video`
 * (a list per stream kind) and the Upload API's older `video_info` (the first stream of each kind),
 * and the limits a video must keep before Trove spends CPU on it.
 */
import { Type } from 'typebox';

export interface VideoStreamInfo {
  /** As displayed: a stream rotated by 90° or 270° reports its sides swapped. */
  width: number;
  height: number;
  /** Frames per second, rounded to 3 decimals; null when the container does not say. */
  frame_rate: number | null;
  /** Kilobits per second, or null when unknown. */
  bitrate: number | null;
  codec: string | null;
  /** Trove extension: the clockwise rotation a player applies (0, 90, 180 or 270). */
  rotation: number;
}

export interface AudioStreamInfo {
  /** Kilobits per second, or null when unknown. */
  bitrate: number | null;
  codec: string | null;
  sample_rate: number | null;
  channels: number | null;
}

export interface VideoInfo {
  /** Milliseconds, or null when the container does not say. */
  duration: number | null;
  /** Container: mp4, mov, webm, mkv, avi, ogg, … */
  format: string;
  /** Kilobits per second of the whole file, or null when unknown. */
  bitrate: number | null;
  video: VideoStreamInfo[];
  audio: AudioStreamInfo[];
}

/** A probe's facts and what the limits look at beyond them. */
export interface VideoProbe {
  info: VideoInfo;
  /** Every stream of the file, subtitles and data included. */
  streamCount: number;
  /** The first video stream's transfer is HDR (PQ or HLG): a conversion tone-maps it to SDR. */
  hdr?: boolean;
}

/** The bounds a video must keep before it is transcoded (`TROVE_VIDEO_MAX_*`). */
export interface VideoLimits {
  maxFileSize: number;
  maxDurationMs: number;
  /** Longest side of any video stream, in pixels. */
  maxDimension: number;
  maxFrameRate: number;
  maxStreams: number;
}

/**
 * The first limit a video breaks, as a sentence naming the setting, or null. A file whose
 * duration is unknown is refused: nothing else bounds how long its transcode runs.
 */
export function videoLimitProblem(probe: VideoProbe, size: number, limits: VideoLimits): string | null {
  if (size > limits.maxFileSize) return `The video is ${size} bytes, more than TROVE_VIDEO_MAX_FILE_SIZE (${limits.maxFileSize}).`;
  if (probe.streamCount > limits.maxStreams) return `The video has ${probe.streamCount} streams, more than TROVE_VIDEO_MAX_STREAMS (${limits.maxStreams}).`;
  const { info } = probe;
  if (info.duration === null) return 'The video does not say how long it is.';
  if (info.duration > limits.maxDurationMs) {
    return `The video lasts ${(info.duration / 1000).toFixed(1)} s, longer than TROVE_VIDEO_MAX_DURATION (${limits.maxDurationMs / 1000} s).`;
  }
  if (info.video.length === 0) return 'The file has no video stream.';
  for (const stream of info.video) {
    const side = Math.max(stream.width, stream.height);
    if (side > limits.maxDimension) return `The video is ${stream.width}×${stream.height}, larger than TROVE_VIDEO_MAX_DIMENSION (${limits.maxDimension} px).`;
    if (stream.frame_rate !== null && stream.frame_rate > limits.maxFrameRate) {
      return `The video runs at ${stream.frame_rate} frames per second, more than TROVE_VIDEO_MAX_FRAME_RATE (${limits.maxFrameRate}).`;
    }
  }
  return null;
}

/** Uploadcare's container names for the MIME types Trove recognises. */
const CONTAINER_BY_MIME: Record<string, string> = {
  'video/mp4': 'mp4',
  'video/quicktime': 'mov',
  'video/webm': 'webm',
  'video/x-matroska': 'mkv',
  'video/x-msvideo': 'avi',
  'video/mpeg': 'mpeg',
  'video/mp2t': 'mpegts',
  'video/ogg': 'ogg',
  'video/3gpp': '3gp',
  'video/x-flv': 'flv',
};

/** The container's name: from the MIME type the bytes gave, else ffprobe's first name for its demuxer. */
export function videoFormatFor(mimeType: string, probed: string): string {
  return CONTAINER_BY_MIME[mimeType] ?? probed;
}

/** The Upload API's `video_info`: one video stream and one audio stream (or null), as Uploadcare's older answers carry them. */
export interface UploadVideoInfo {
  duration: number | null;
  format: string;
  bitrate: number | null;
  video: VideoStreamInfo | null;
  audio: AudioStreamInfo | null;
}

export function toUploadVideoInfo(info: VideoInfo): UploadVideoInfo {
  return {
    duration: info.duration,
    format: info.format,
    bitrate: info.bitrate,
    video: info.video[0] ?? null,
    audio: info.audio[0] ?? null,
  };
}

const Nullable = <T extends Parameters<typeof Type.Union>[0][number]>(schema: T) => Type.Union([schema, Type.Null()]);

const VideoStreamSchema = Type.Object(
  {
    width: Type.Integer({ description: 'As displayed (rotation applied)' }),
    height: Type.Integer({ description: 'As displayed (rotation applied)' }),
    frame_rate: Nullable(Type.Number()),
    bitrate: Nullable(Type.Integer({ description: 'kbit/s' })),
    codec: Nullable(Type.String()),
    rotation: Type.Integer({ description: 'Clockwise rotation a player applies: 0, 90, 180 or 270' }),
  },
  { title: 'VideoStreamInfo', additionalProperties: true },
);

const AudioStreamSchema = Type.Object(
  {
    bitrate: Nullable(Type.Integer({ description: 'kbit/s' })),
    codec: Nullable(Type.String()),
    sample_rate: Nullable(Type.Integer()),
    channels: Nullable(Type.Integer()),
  },
  { title: 'AudioStreamInfo', additionalProperties: true },
);

/** The wire shape of `content_info.video`. */
export const VideoInfoSchema = Type.Object(
  {
    duration: Nullable(Type.Integer({ description: 'Milliseconds' })),
    format: Type.String({ description: 'Container: mp4, mov, webm, mkv, avi, ogg, …' }),
    bitrate: Nullable(Type.Integer({ description: 'kbit/s of the whole file' })),
    video: Type.Array(VideoStreamSchema),
    audio: Type.Array(AudioStreamSchema),
  },
  { title: 'VideoInfo', additionalProperties: true },
);

/** The wire shape of the Upload API's `video_info`. */
export const UploadVideoInfoSchema = Type.Object(
  {
    duration: Nullable(Type.Integer({ description: 'Milliseconds' })),
    format: Type.String(),
    bitrate: Nullable(Type.Integer({ description: 'kbit/s of the whole file' })),
    video: Nullable(VideoStreamSchema),
    audio: Nullable(AudioStreamSchema),
  },
  { title: 'UploadVideoInfo', additionalProperties: true, description: 'The first video and audio stream of `content_info.video`' },
);
