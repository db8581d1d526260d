/**
 * ffmpeg's arguments for a conversion, built from a parsed plan's numbers and names only: no text a
 * user sent reaches the command line or a filter graph.
 */
import type { Gif2VideoPlan } from '../../domain/transform/gif2video.js';
import type { FrameStep } from '../../domain/transform/gif2video-geometry.js';
import { videoGeometry, type VideoFormat, type VideoPlan, type VideoQuality } from '../../domain/video-conversion.js';
import type { Rendition } from '../../domain/hls.js';
import type { VideoProbe } from '../../domain/video-info.js';

/** Encoder settings per format and quality: H.264 and VP9 by constant quality, Theora by its scale. */
const VIDEO_CODEC: Record<VideoFormat, (quality: VideoQuality) => string[]> = {
  mp4: (q) => ['-c:v', 'libx264', '-preset', 'faster', '-crf', String({ best: 18, better: 20, normal: 23, lighter: 26, lightest: 29 }[q]), '-profile:v', 'high'],
  webm: (q) => ['-c:v', 'libvpx-vp9', '-b:v', '0', '-crf', String({ best: 24, better: 28, normal: 32, lighter: 36, lightest: 40 }[q]), '-deadline', 'good', '-cpu-used', '4', '-row-mt', '1'],
  ogg: (q) => ['-c:v', 'libtheora', '-q:v', String({ best: 9, better: 8, normal: 7, lighter: 5, lightest: 4 }[q])],
};

const AUDIO_CODEC: Record<VideoFormat, (quality: VideoQuality) => string[]> = {
  mp4: (q) => ['-c:a', 'aac', '-b:a', q === 'lighter' || q === 'lightest' ? '96k' : '128k'],
  webm: (q) => ['-c:a', 'libopus', '-b:a', q === 'lighter' || q === 'lightest' ? '64k' : '96k'],
  ogg: () => ['-c:a', 'libvorbis', '-q:a', '4'],
};

const MUXER: Record<VideoFormat, string[]> = {
  mp4: ['-f', 'mp4', '-movflags', '+faststart'],
  webm: ['-f', 'webm'],
  ogg: ['-f', 'ogg'],
};

/**
 * HDR to SDR with Debian's filters (zscale and tonemap; jellyfin's tonemapx is not there): to linear
 * light, BT.709 primaries, Hable's curve, then BT.709 transfer and matrix in limited range.
 */
const TONE_MAP = ['zscale=t=linear:npl=100', 'format=gbrpf32le', 'zscale=p=bt709', 'tonemap=tonemap=hable:desat=0', 'zscale=t=bt709:m=bt709:r=tv'];

/** The filter chain: SDR, scale to even sides, crop or pad as the mode says, square pixels, 4:2:0 8-bit for every browser. */
export function videoFilter(source: VideoProbe, plan: VideoPlan): string {
  const stream = source.info.video[0]!;
  const g = videoGeometry(stream.width, stream.height, plan.size);
  const steps = [...(source.hdr ? TONE_MAP : []), `scale=${g.scaleWidth}:${g.scaleHeight}`];
  if (g.crop) steps.push(`crop=${g.crop.width}:${g.crop.height}`);
  if (g.pad) steps.push(`pad=${g.pad.width}:${g.pad.height}:(ow-iw)/2:(oh-ih)/2:color=black`);
  steps.push('setsar=1', 'format=yuv420p');
  return steps.join(',');
}

/** Seconds with millisecond precision, as ffmpeg reads them. */
function seconds(ms: number): string {
  return (ms / 1000).toFixed(3);
}

/**
 * The arguments of one transcode. `inputGuard` keeps ffmpeg on the local input; the rotation in the
 * source's display matrix is applied by ffmpeg before the filters (its default), and the output
 * carries none.
 */
export function transcodeArgs(options: {
  inputGuard: readonly string[];
  maxStreams: number;
  input: string;
  output: string;
  source: VideoProbe;
  plan: VideoPlan;
  threads: number;
}): string[] {
  const { plan, source } = options;
  const audio = source.info.audio[0];
  const channels = audio?.channels ? Math.min(audio.channels, 2) : 2;
  return [
    '-nostdin', '-hide_banner', '-v', 'error', '-nostats', '-progress', 'pipe:1',
    ...options.inputGuard, '-max_streams', String(options.maxStreams),
    ...(plan.cut ? ['-ss', seconds(plan.cut.startMs)] : []),
    ...(plan.cut?.lengthMs != null ? ['-t', seconds(plan.cut.lengthMs)] : []),
    '-i', `file:${options.input}`,
    '-map', '0:v:0', '-map', '0:a:0?', '-map_metadata', '-1', '-map_chapters', '-1', '-sn', '-dn',
    '-vf', videoFilter(source, plan),
    ...(source.hdr ? ['-color_primaries', 'bt709', '-color_trc', 'bt709', '-colorspace', 'bt709'] : []),
    ...VIDEO_CODEC[plan.format](plan.quality),
    ...(audio ? [...AUDIO_CODEC[plan.format](plan.quality), '-ac', String(channels)] : []),
    '-threads', String(options.threads),
    ...MUXER[plan.format],
    '-y', `file:${options.output}`,
  ];
}

/**
 * The frames' filter chain. Without steps: the frames as decoded, sides rounded down to even. With
 * steps (the plan's size operations, computed in whole pixels; the last gives even sides): one
 * scale or crop filter each, written from those integers alone.
 */
export function gifFrameFilter(steps: readonly FrameStep[]): string {
  const sizing = steps.length === 0
    ? ['scale=trunc(iw/2)*2:trunc(ih/2)*2']
    : steps.map((step) => (step.kind === 'scale' ? `scale=${integer(step.width)}:${integer(step.height)}` : `crop=${integer(step.width)}:${integer(step.height)}:${integer(step.left)}:${integer(step.top)}`));
  return [...sizing, 'setsar=1', 'format=yuv420p'].join(',');
}

/** A filter graph takes numbers only: anything else is a bug upstream, not something to write. */
function integer(value: number): string {
  if (!Number.isSafeInteger(value) || value < 0) throw new Error(`Not a pixel count for a filter: ${value}`);
  return String(value);
}

/**
 * A GIF to a silent video: each frame kept at its own time (`vfr`: the GIF's delays, no frames
 * duplicated to fill a constant rate), scaled and cropped as the plan's steps say with even sides,
 * 8-bit 4:2:0 for every browser, and for MP4 the index first so playback starts before the
 * download ends.
 */
export function gifToVideoArgs(options: {
  inputGuard: readonly string[];
  input: string;
  output: string;
  plan: Gif2VideoPlan;
  steps: readonly FrameStep[];
  threads: number;
}): string[] {
  const { plan } = options;
  return [
    '-nostdin', '-hide_banner', '-v', 'error', '-nostats',
    ...options.inputGuard,
    '-i', `file:${options.input}`,
    '-map', '0:v:0', '-map_metadata', '-1', '-an', '-sn', '-dn',
    '-vf', gifFrameFilter(options.steps),
    '-fps_mode', 'vfr',
    ...VIDEO_CODEC[plan.format](plan.quality),
    '-threads', String(options.threads),
    ...MUXER[plan.format],
    '-y', `file:${options.output}`,
  ];
}

/**
 * The last position ffmpeg's `-progress` report names in `text` (`out_time_us=…`, or `out_time_ms=…`,
 * which ffmpeg also writes in microseconds), in milliseconds; null when there is none.
 */
export function progressPosition(text: string): number | null {
  let last: number | null = null;
  for (const match of text.matchAll(/^out_time_(?:us|ms)=(\d+)$/gm)) last = Math.floor(Number(match[1]) / 1000);
  return last;
}

/** Where thumbnails are taken: the middles of N equal parts of the result. */
export function thumbnailTimes(durationMs: number, count: number): number[] {
  return Array.from({ length: count }, (_, i) => Math.floor(((i + 0.5) * durationMs) / count));
}

/** One JPEG frame of the result at `atMs`. */
export function thumbnailArgs(options: { inputGuard: readonly string[]; input: string; output: string; atMs: number }): string[] {
  return [
    '-nostdin', '-hide_banner', '-v', 'error',
    ...options.inputGuard,
    '-ss', seconds(options.atMs),
    '-i', `file:${options.input}`,
    '-map', '0:v:0', '-frames:v', '1', '-q:v', '3', '-f', 'image2', '-c:v', 'mjpeg',
    '-y', `file:${options.output}`,
  ];
}

/**
 * One run for a whole HLS ladder: the decoded video is split once and scaled per rendition, each
 * with its own copy of the audio. A keyframe is forced at every multiple of the segment length (and
 * none inserted at scene cuts), so every rendition cuts its segments at the same instants and none
 * is longer than the bound. The encoder's peak is held near each rung's bitrate: the master
 * playlist's BANDWIDTH says what a player must sustain. Files are named by Trove: `r<i>.m3u8`,
 * `r<i>_<n>.ts`, `master.m3u8`, all in `outputDir`, and playlists name them relatively.
 */
export function hlsArgs(options: {
  inputGuard: readonly string[];
  maxStreams: number;
  input: string;
  outputDir: string;
  source: VideoProbe;
  renditions: readonly Rendition[];
  segmentSeconds: number;
  threads: number;
}): string[] {
  const { renditions, source } = options;
  const hasAudio = source.info.audio.length > 0;
  const labels = renditions.map((_, i) => `s${i}`);
  const graph = [
    `[0:v:0]${[...(source.hdr ? TONE_MAP : []), `split=${renditions.length}`].join(',')}${labels.map((l) => `[${l}]`).join('')}`,
    ...renditions.map((r, i) => `[s${i}]scale=${r.width}:${r.height},setsar=1,format=yuv420p[v${i}]`),
  ].join(';');
  const maps = renditions.flatMap((_, i) => ['-map', `[v${i}]`, ...(hasAudio ? ['-map', '0:a:0'] : [])]);
  const rates = renditions.flatMap((r, i) => [
    `-b:v:${i}`, `${r.videoKbps}k`, `-maxrate:v:${i}`, `${Math.round(r.videoKbps * 1.1)}k`, `-bufsize:v:${i}`, `${Math.round(r.videoKbps * 1.5)}k`,
  ]);
  const streamMap = renditions.map((_, i) => (hasAudio ? `v:${i},a:${i}` : `v:${i}`)).join(' ');
  return [
    '-nostdin', '-hide_banner', '-v', 'error', '-nostats', '-progress', 'pipe:1',
    ...options.inputGuard, '-max_streams', String(options.maxStreams),
    '-i', `file:${options.input}`,
    '-filter_complex', graph,
    ...maps,
    '-map_metadata', '-1', '-map_chapters', '-1', '-sn', '-dn',
    ...(source.hdr ? ['-color_primaries', 'bt709', '-color_trc', 'bt709', '-colorspace', 'bt709'] : []),
    '-c:v', 'libx264', '-preset', 'faster', '-profile:v', 'main', ...rates,
    '-force_key_frames', `expr:gte(t,n_forced*${options.segmentSeconds})`, '-sc_threshold', '0',
    ...(hasAudio ? ['-c:a', 'aac', '-b:a', '128k', '-ac', '2'] : []),
    '-threads', String(options.threads),
    '-f', 'hls', '-hls_time', String(options.segmentSeconds), '-hls_playlist_type', 'vod', '-hls_flags', 'independent_segments',
    '-hls_segment_type', 'mpegts', '-hls_segment_filename', `file:${options.outputDir}/r%v_%05d.ts`,
    '-master_pl_name', 'master.m3u8', '-var_stream_map', streamMap,
    '-y', `file:${options.outputDir}/r%v.m3u8`,
  ];
}
