import type { AudioStreamInfo, RestFile, VideoInfo, VideoStreamInfo } from '../../../client/trove-client';

/** What the file page shows of an image: its size in pixels and, when known, its format. */
interface ImageDimensions {
  width: number;
  height: number;
  format: string | null;
}

/** The image part of `content_info`, or null for a file that is not an image (or not looked at yet). */
export function imageDimensions(file: Pick<RestFile, 'content_info'>): ImageDimensions | null {
  const image = file.content_info?.image;
  if (!image) return null;
  return { width: image.width, height: image.height, format: image.format !== '' ? image.format : null };
}

/** The video part of `content_info`, or null for a file that is not a video (or could not be read as one). */
export function videoFacts(file: Pick<RestFile, 'content_info'>): VideoInfo | null {
  return file.content_info?.video ?? null;
}

/** 61500 ms → "1:01.5"; 3723000 → "1:02:03": tenths of a second below an hour, whole seconds above. */
export function formatDuration(ms: number | null): string {
  if (ms === null || !Number.isFinite(ms) || ms < 0) return 'unknown';
  const totalSeconds = ms / 1000;
  const hours = Math.floor(totalSeconds / 3600);
  const minutes = Math.floor((totalSeconds % 3600) / 60);
  const seconds = totalSeconds % 60;
  const secondsText = hours > 0 ? String(Math.floor(seconds)).padStart(2, '0') : seconds.toFixed(1).padStart(4, '0');
  return hours > 0 ? `${hours}:${String(minutes).padStart(2, '0')}:${secondsText}` : `${minutes}:${secondsText}`;
}

/** kbit/s as the API gives it → "1,250 kbit/s" or "3.4 Mbit/s"; null when the file does not say. */
export function formatBitrate(kbps: number | null): string | null {
  if (kbps === null || !Number.isFinite(kbps)) return null;
  return kbps >= 10_000 ? `${(kbps / 1000).toFixed(1)} Mbit/s` : `${Math.round(kbps).toLocaleString('en-US')} kbit/s`;
}

/** "h264 · 1920 × 1080 · 29.97 fps · 4,800 kbit/s · rotated 90°", leaving out what is unknown. */
export function describeVideoStream(stream: VideoStreamInfo): string {
  const parts = [stream.codec ?? 'unknown codec', `${stream.width} × ${stream.height}`];
  if (stream.frame_rate !== null) parts.push(`${Number(stream.frame_rate.toFixed(3))} fps`);
  const bitrate = formatBitrate(stream.bitrate);
  if (bitrate) parts.push(bitrate);
  if (stream.rotation !== 0) parts.push(`rotated ${stream.rotation}°`);
  return parts.join(' · ');
}

/** "aac · 48 kHz · stereo · 128 kbit/s", leaving out what is unknown. */
export function describeAudioStream(stream: AudioStreamInfo): string {
  const parts = [stream.codec ?? 'unknown codec'];
  if (stream.sample_rate !== null) parts.push(`${Number((stream.sample_rate / 1000).toFixed(3))} kHz`);
  if (stream.channels !== null) parts.push(stream.channels === 1 ? 'mono' : stream.channels === 2 ? 'stereo' : `${stream.channels} channels`);
  const bitrate = formatBitrate(stream.bitrate);
  if (bitrate) parts.push(bitrate);
  return parts.join(' · ');
}
