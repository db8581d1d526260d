/**
 * HLS streaming of a video file: `/:uuid/hls/master.m3u8` names up to three renditions
 * (`r0.m3u8`, … largest first), each a list of MPEG-TS segments (`r0_00000.ts`, …). Every name is
 * Trove's own; a request's name is matched against NAME before anything is looked up.
 */
import { derivativesPrefix } from './blob-layout.js';

/** Longest segment, in seconds: a keyframe is forced at every multiple, so a segment never runs past it. */
export const SEGMENT_SECONDS = 4;

/** Shorter sides of the ladder's rungs below the top one; the top is the source's, at most the first. */
const RUNGS = [1080, 720, 360, 180] as const;
const MAX_RENDITIONS = 3;

/** Bits per pixel per frame at 30 fps: about 5 Mb/s at 1080p, 2.2 at 720p, 550 kb/s at 360p. */
const BITS_PER_PIXEL = 0.08;
const MIN_VIDEO_KBPS = 200;

export const MASTER_PLAYLIST = 'master.m3u8';

/** The master, a rendition's playlist or one of its segments; nothing else (no dots, slashes or escapes). */
const NAME = /^(?:master\.m3u8|r[0-2]\.m3u8|r[0-2]_\d{5}\.ts)$/;

const HLS_CONTENT_TYPES = { m3u8: 'application/vnd.apple.mpegurl', ts: 'video/mp2t' } as const;

export interface Rendition {
  width: number;
  height: number;
  /** Target video bitrate; the encoder's peak is bounded near it so the master's BANDWIDTH holds. */
  videoKbps: number;
}

/** Whether the CDN path after `/:uuid/` addresses the stream. */
export function isHlsPath(rest: string): boolean {
  return rest.startsWith('hls/');
}

/** The asset's name for `hls/<name>` (`hls/` alone is the master), or null when it is none of Trove's names. */
export function hlsAssetName(rest: string): string | null {
  const name = rest.slice('hls/'.length) || MASTER_PLAYLIST;
  return NAME.test(name) ? name : null;
}

export function hlsContentType(name: string): string {
  return name.endsWith('.ts') ? HLS_CONTENT_TYPES.ts : HLS_CONTENT_TYPES.m3u8;
}

/**
 * Where the stream is kept: under the file's derivatives prefix, so that purging the file deletes
 * it. `v1` names this layout and encoding; another one would be made beside it, not over it.
 */
export function hlsPrefix(fileUuid: string): string {
  return `${derivativesPrefix(fileUuid)}hls-v1/`;
}

/** What is known of a stream not made yet: kept beside it, so deleting the file forgets it too. */
export const HLS_STATE = 'state.json';

export interface HlsState {
  status: 'processing' | 'failed';
  /** processing: when the attempt's job was asked for, or started; failed: when it failed (ISO-8601). */
  at: string;
  /** Attempts started so far, this one included; absent in a state written before attempts were kept. */
  attempts?: number;
  error?: string;
  /** A failed state's: from when a request starts the next attempt. Absent: the failure is final. */
  retryAt?: string;
  /** A processing state's: the job that took the attempt, once one did. */
  job?: string;
}

function even(value: number): number {
  return Math.max(2, Math.floor(value / 2) * 2);
}

/**
 * The renditions for a source of `width`×`height` (as displayed): the source's own size with its
 * shorter side capped at 1080, then the lower rungs (720, 360, 180 on the shorter side, so a
 * portrait video gets the same ladder turned), never above the source, each with even sides and the
 * source's aspect ratio.
 */
export function planLadder(width: number, height: number): Rendition[] {
  const short = Math.min(width, height);
  const top = Math.min(short, RUNGS[0]);
  const sides = [top, ...RUNGS.filter((rung) => rung < top)].slice(0, MAX_RENDITIONS);
  return sides.map((side) => {
    const w = even((width * side) / short);
    const h = even((height * side) / short);
    return { width: w, height: h, videoKbps: Math.max(MIN_VIDEO_KBPS, Math.round((w * h * 30 * BITS_PER_PIXEL) / 1000)) };
  });
}
