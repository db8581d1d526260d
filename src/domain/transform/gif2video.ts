/**
 * Uploadcare's GIF to video on the CDN: `/:uuid/gif2video/`, `/:uuid/gif2video/-/format/webm/`,
 * `/:uuid/gif2video/-/format/mp4/-/quality/better/road.gif`. Unlike image operations the directive
 * follows `/` (not `/-/`); `format` (mp4, the default, or webm) and `quality` (normal, the default,
 * better, best, lighter, lightest) follow it as ordinary directives, and a filename may end the path.
 * It applies to a file whose `image_info.sequence` is true; anything else is a 400.
 *
 * Parsed into names before anything runs: no text of the URL reaches ffmpeg.
 */
import { createHash } from 'node:crypto';
import { createAppError, type AppError } from '../../errors.js';
import { VIDEO_QUALITIES, type VideoQuality } from '../video-conversion.js';
import { parseFilename } from './uploadcare-parser.js';

const GIF2VIDEO_FORMATS = ['mp4', 'webm'] as const;
export type Gif2VideoFormat = (typeof GIF2VIDEO_FORMATS)[number];

export interface Gif2VideoPlan {
  format: Gif2VideoFormat;
  quality: VideoQuality;
}

export interface Gif2VideoRequest {
  plan: Gif2VideoPlan;
  /** The filename ending the path, cleaned; null when there is none. */
  filename: string | null;
}

const DIRECTIVE = 'gif2video';
/** Uploadcare's other gif2video operations, which Trove does not apply yet: a clearer 400 than "unknown". */
const NOT_YET = new Set(['preview', 'resize', 'crop', 'scale_crop']);
const LOOKS_LIKE_FILENAME = /\.[a-z][a-z0-9]{0,4}$/i;
/** Part of every key: bump it when the meaning of a plan or the encoder settings change. */
const HASH_VERSION = 'trove-gif2video-v1';

export const CONTENT_TYPES: Readonly<Record<Gif2VideoFormat, string>> = { mp4: 'video/mp4', webm: 'video/webm' };

/** The path after `/:uuid/` names a GIF to video conversion (its first segment is `gif2video`). */
export function isGif2VideoPath(rest: string): boolean {
  return rest === DIRECTIVE || rest.startsWith(`${DIRECTIVE}/`);
}

/** Parses `gif2video/[-/format/<f>/][-/quality/<q>/][filename]`; throws a 400 naming what is wrong. */
export function parseGif2VideoPath(rest: string, maxUrlLength: number): Gif2VideoRequest {
  if (rest.length > maxUrlLength) {
    throw createAppError('URL_TOO_LONG', 400, `The operations part of the URL is ${rest.length} characters long; at most ${maxUrlLength} are allowed.`);
  }
  const segments = rest.split('/').filter((segment) => segment !== '');
  if (segments[0] !== DIRECTIVE) throw invalid('the path must start with gif2video/');
  let filename: string | null = null;
  // The filename stands after the last `/`, as in image URLs: a path ending in `/` has none.
  const last = segments[segments.length - 1];
  if (!rest.endsWith('/') && segments.length > 1 && last !== undefined && last !== '-' && (segments.length === 2 || LOOKS_LIKE_FILENAME.test(last))) {
    filename = parseFilename(last);
    segments.pop();
  }
  const plan: Gif2VideoPlan = { format: 'mp4', quality: 'normal' };
  const seen = new Set<string>();
  for (let i = 1; i < segments.length; ) {
    if (segments[i] !== '-') throw invalid(`unexpected segment ${quote(segments[i]!)}; write operations as -/format/webm/ or -/quality/better/`);
    const name = segments[i + 1];
    const params: string[] = [];
    let next = i + 2;
    while (next < segments.length && segments[next] !== '-') params.push(segments[next++]!);
    i = next;
    if (name === undefined) throw invalid('"-/" must be followed by format or quality');
    if (seen.has(name)) throw invalid(`-/${name}/ is given twice`);
    seen.add(name);
    if (name === 'format') plan.format = oneOf(name, params, GIF2VIDEO_FORMATS);
    else if (name === 'quality') plan.quality = oneOf(name, params, VIDEO_QUALITIES);
    else if (NOT_YET.has(name)) throw invalid(`-/${name}/ is not supported by Trove's gif2video yet; use format and quality`);
    else throw invalid(`unknown operation ${quote(name)}; gif2video takes -/format/mp4|webm/ and -/quality/normal|better|best|lighter|lightest/`);
  }
  return { plan, filename };
}

/** The derivative's name: the same on every node and across restarts, as image plans' hashes are. */
export function gif2videoHash(plan: Gif2VideoPlan): string {
  return createHash('sha256').update(`${HASH_VERSION}\n${plan.format}\n${plan.quality}`).digest('hex').slice(0, 32);
}

/** What the GIF's structure says, read before any frame is decoded. */
export interface AnimationFacts {
  width: number;
  height: number;
  frames: number;
  /** null: the file does not say. */
  durationMs: number | null;
}

/** Which settings bound a GIF to video conversion (their names, for the messages). */
export interface Gif2VideoLimits {
  /** min(TROVE_MAX_SOURCE_SIZE, TROVE_VIDEO_MAX_FILE_SIZE) */
  maxSourceBytes: number;
  /** TROVE_MAX_SOURCE_PIXELS, per frame. */
  maxSourcePixels: number;
  /** TROVE_VIDEO_MAX_DIMENSION, the longest side. */
  maxDimension: number;
  /** TROVE_MAX_SOURCE_PAGES */
  maxFrames: number;
  /** TROVE_MAX_ANIMATION_SOURCE_PIXELS: frames × pixels per frame. */
  maxAnimationPixels: number;
  /** TROVE_VIDEO_MAX_DURATION */
  maxDurationMs: number;
}

/** What the record alone says: a GIF (by its bytes), within the byte limit. */
export function checkGifRecord(file: { uuid: string; mimeType: string; size: number }, limits: Pick<Gif2VideoLimits, 'maxSourceBytes'>): void {
  if (file.mimeType !== 'image/gif') {
    throw createAppError('NOT_A_GIF', 400, `gif2video: file ${file.uuid} is ${file.mimeType}, not an animated GIF.`);
  }
  if (file.size > limits.maxSourceBytes) {
    throw createAppError(
      'SOURCE_TOO_LARGE',
      422,
      `gif2video: file ${file.uuid} has ${file.size} bytes; Trove converts GIFs up to ${limits.maxSourceBytes} bytes (the lower of TROVE_MAX_SOURCE_SIZE and TROVE_VIDEO_MAX_FILE_SIZE).`,
    );
  }
}

/** The first limit the animation breaks, as a 4xx AppError; a still GIF is a 400. */
export function checkAnimation(facts: AnimationFacts, limits: Gif2VideoLimits): void {
  if (facts.frames < 2) throw createAppError('NOT_ANIMATED', 400, 'gif2video: the GIF has one frame; only animated GIFs become videos.');
  const pixels = facts.width * facts.height;
  const tooLarge = (why: string) => createAppError('SOURCE_TOO_LARGE', 422, `gif2video: ${why}`);
  if (pixels > limits.maxSourcePixels) throw tooLarge(`the GIF is ${facts.width}×${facts.height}, more than TROVE_MAX_SOURCE_PIXELS (${limits.maxSourcePixels}) pixels.`);
  if (Math.max(facts.width, facts.height) > limits.maxDimension) {
    throw tooLarge(`the GIF is ${facts.width}×${facts.height}, larger than TROVE_VIDEO_MAX_DIMENSION (${limits.maxDimension} px).`);
  }
  if (facts.frames > limits.maxFrames) throw tooLarge(`the GIF has ${facts.frames} frames, more than TROVE_MAX_SOURCE_PAGES (${limits.maxFrames}).`);
  if (facts.frames * pixels > limits.maxAnimationPixels) {
    throw createAppError(
      'ANIMATION_TOO_LARGE',
      422,
      `gif2video: ${facts.frames} frames of ${facts.width}×${facts.height} are ${facts.frames * pixels} pixels, more than TROVE_MAX_ANIMATION_SOURCE_PIXELS (${limits.maxAnimationPixels}).`,
    );
  }
  if (facts.durationMs !== null && facts.durationMs > limits.maxDurationMs) {
    throw tooLarge(`the GIF lasts ${(facts.durationMs / 1000).toFixed(1)} s, longer than TROVE_VIDEO_MAX_DURATION (${limits.maxDurationMs / 1000} s).`);
  }
}

function oneOf<T extends string>(name: string, params: readonly string[], allowed: readonly T[]): T {
  const usage = `use -/${name}/${allowed.join('|')}/`;
  if (params.length !== 1) throw invalid(`-/${name}/ takes one value; ${usage}`);
  const found = allowed.find((value) => value === params[0]);
  if (found === undefined) throw invalid(`${name} ${quote(params[0]!)} is not allowed; ${usage}`);
  return found;
}

function invalid(detail: string): AppError {
  return createAppError('INVALID_OPERATION', 400, `gif2video: ${detail}.`);
}

function quote(value: string): string {
  return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value);
}
