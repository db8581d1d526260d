/**
 * Turns ffprobe's JSON (`-show_entries` of `PROBE_ENTRIES`) into Uploadcare's video facts. Every
 * value is read defensively: a hostile file controls what ffprobe prints.
 */
import type { AnimationFacts } from '../../domain/transform/gif2video.js';
import type { AudioStreamInfo, VideoProbe, VideoStreamInfo } from '../../domain/video-info.js';
import { VideoProbeError } from '../../ports/video-engine.js';

/** What Trove asks ffprobe to print, and nothing else. */
export const PROBE_ENTRIES = [
  'format=format_name,duration,bit_rate,nb_streams',
  'stream=index,codec_type,codec_name,width,height,avg_frame_rate,r_frame_rate,bit_rate,sample_rate,channels,color_transfer',
  'stream_tags=rotate',
  'stream_side_data=rotation',
].join(':');

/** Perceptual quantizer (HDR10, Dolby Vision's base) and hybrid log-gamma. */
const HDR_TRANSFERS = new Set(['smpte2084', 'arib-std-b67']);

interface RawStream {
  codec_type?: unknown;
  codec_name?: unknown;
  width?: unknown;
  height?: unknown;
  avg_frame_rate?: unknown;
  r_frame_rate?: unknown;
  bit_rate?: unknown;
  sample_rate?: unknown;
  channels?: unknown;
  color_transfer?: unknown;
  tags?: { rotate?: unknown };
  side_data_list?: unknown;
}

interface RawProbe {
  streams?: unknown;
  format?: { format_name?: unknown; duration?: unknown; bit_rate?: unknown; nb_streams?: unknown };
}

export function parseProbeOutput(json: string): VideoProbe {
  let raw: RawProbe;
  try {
    raw = JSON.parse(json) as RawProbe;
  } catch {
    throw new VideoProbeError('ffprobe printed something that is not JSON.');
  }
  if (typeof raw !== 'object' || raw === null || typeof raw.format !== 'object' || raw.format === null) {
    throw new VideoProbeError('ffprobe found no container in the file.');
  }
  const streams: RawStream[] = Array.isArray(raw.streams) ? (raw.streams.filter((s) => typeof s === 'object' && s !== null) as RawStream[]) : [];
  const format = raw.format;
  const declared = positiveInteger(format.nb_streams);
  const video: VideoStreamInfo[] = [];
  const audio: AudioStreamInfo[] = [];
  let hdr = false;
  for (const stream of streams) {
    if (stream.codec_type === 'video') {
      const width = positiveInteger(stream.width);
      const height = positiveInteger(stream.height);
      // Cover art and other pictures without size are not video.
      if (width === null || height === null) continue;
      if (video.length === 0) hdr = HDR_TRANSFERS.has(String(stream.color_transfer));
      const rotation = rotationOf(stream);
      const sideways = rotation === 90 || rotation === 270;
      video.push({
        width: sideways ? height : width,
        height: sideways ? width : height,
        frame_rate: frameRate(stream.avg_frame_rate) ?? frameRate(stream.r_frame_rate),
        bitrate: kilobits(stream.bit_rate),
        codec: text(stream.codec_name),
        rotation,
      });
    } else if (stream.codec_type === 'audio') {
      audio.push({
        bitrate: kilobits(stream.bit_rate),
        codec: text(stream.codec_name),
        sample_rate: positiveInteger(stream.sample_rate),
        channels: positiveInteger(stream.channels),
      });
    }
  }
  const seconds = positiveNumber(format.duration);
  return {
    info: {
      duration: seconds === null ? null : Math.round(seconds * 1000),
      format: (text(format.format_name) ?? 'unknown').split(',')[0]!,
      bitrate: kilobits(format.bit_rate),
      video,
      audio,
    },
    streamCount: Math.max(declared ?? 0, streams.length),
    ...(hdr ? { hdr } : {}),
  };
}

/**
 * Clockwise degrees a player turns the picture: from the display matrix (ffprobe prints its angle
 * counter-clockwise) or, in older files, the `rotate` tag (clockwise).
 */
function rotationOf(stream: RawStream): number {
  if (Array.isArray(stream.side_data_list)) {
    for (const entry of stream.side_data_list as unknown[]) {
      const angle = typeof entry === 'object' && entry !== null ? finite((entry as { rotation?: unknown }).rotation) : null;
      if (angle !== null) return normaliseQuarter(-angle);
    }
  }
  const tag = finite(stream.tags?.rotate);
  return tag === null ? 0 : normaliseQuarter(tag);
}

function normaliseQuarter(degrees: number): number {
  const quarter = Math.round(degrees / 90);
  return (((quarter % 4) + 4) % 4) * 90;
}

function frameRate(value: unknown): number | null {
  if (typeof value !== 'string') return null;
  const match = /^(\d+)\/(\d+)$/.exec(value);
  if (!match) return null;
  const num = Number(match[1]);
  const den = Number(match[2]);
  if (num === 0 || den === 0) return null;
  return Math.round((num / den) * 1000) / 1000;
}

function kilobits(value: unknown): number | null {
  const bits = positiveNumber(value);
  return bits === null ? null : Math.round(bits / 1000);
}

function finite(value: unknown): number | null {
  const number = typeof value === 'number' ? value : typeof value === 'string' && value.trim() !== '' ? Number(value) : NaN;
  return Number.isFinite(number) ? number : null;
}

function positiveNumber(value: unknown): number | null {
  const number = finite(value);
  return number !== null && number > 0 ? number : null;
}

function positiveInteger(value: unknown): number | null {
  const number = positiveNumber(value);
  return number !== null && Number.isSafeInteger(number) ? number : null;
}

function text(value: unknown): string | null {
  return typeof value === 'string' && value.length > 0 ? value.slice(0, 64) : null;
}

/** What Trove asks ffprobe to print of a GIF (with `-count_packets`: one packet per frame). */
export const ANIMATION_PROBE_ENTRIES = 'stream=width,height,nb_read_packets:format=duration';

/** A GIF's size, frame count and duration from ffprobe's JSON of `ANIMATION_PROBE_ENTRIES`. */
export function parseAnimationProbe(json: string): AnimationFacts {
  let raw: { streams?: unknown; format?: { duration?: unknown } };
  try {
    raw = JSON.parse(json) as typeof raw;
  } catch {
    throw new VideoProbeError('ffprobe printed something other than JSON.');
  }
  const stream = (Array.isArray(raw.streams) ? raw.streams[0] : undefined) as { width?: unknown; height?: unknown; nb_read_packets?: unknown } | undefined;
  const width = positiveInteger(stream?.width);
  const height = positiveInteger(stream?.height);
  if (!stream || width === null || height === null) throw new VideoProbeError('The GIF has no image ffprobe can read.');
  const seconds = positiveNumber(raw.format?.duration);
  return {
    width,
    height,
    frames: positiveInteger(stream.nb_read_packets) ?? 0,
    durationMs: seconds === null ? null : Math.round(seconds * 1000),
  };
}
