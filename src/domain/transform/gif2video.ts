/**
 * Uploadcare's GIF to video on the CDN: `/:uuid/gif2video/`, `/:uuid/gif2video/-/format/webm/`,
 * `/:uuid/gif2video/-/format/mp4/-/quality/better/-/resize/320x/road.gif`. Unlike image operations
 * the directive follows `/` (not `/-/`); `format` (mp4, the default, or webm) and `quality` (normal,
 * the default, better, best, lighter, lightest) follow it as ordinary directives, each at most once,
 * and so do Uploadcare's size operations for gif2video (`preview`, `resize`, `crop`, `scale_crop`),
 * applied in URL order; a filename may end the path. It applies to a file whose
 * `image_info.sequence` is true; anything else is a 400.
 *
 * Parsed into names and numbers before anything runs: no text of the URL reaches ffmpeg.
 */
import { createHash } from 'node:crypto';
import { createAppError, type AppError } from '../../errors.js';
import { VIDEO_QUALITIES, type VideoQuality } from '../video-conversion.js';
import type { Length, Placement } from './operations.js';
import { parseFilename, parseSizeOperation, type ParseLimits, type SizeOperationName } from './uploadcare-parser.js';

const GIF2VIDEO_FORMATS = ['mp4', 'webm'] as const;
export type Gif2VideoFormat = (typeof GIF2VIDEO_FORMATS)[number];

/** Where a crop stands: an alignment or a point (no content-aware placement: nothing detects objects in frames). */
export type FramePlacement = Exclude<Placement, { type: 'smart' }>;

/**
 * The size operations, as the image operations of the same name mean them, except that none
 * enlarges the frames (Uploadcare documents no `stretch` for gif2video) and none pads them (nor
 * `setfill`): a crop larger than the frame keeps the whole side.
 */
export type Gif2VideoOperation =
  /** Fit inside the box, keeping proportions; a frame already inside is kept. */
  | { op: 'preview'; width: number; height: number }
  /** One side: the other follows; both: that size (proportions may change); an axis never grows. */
  | { op: 'resize'; width: number | null; height: number | null }
  /** A region in px or percent of the current frame, at a placement; clamped to the frame. */
  | { op: 'crop'; width: Length; height: Length; placement: FramePlacement }
  /** Scale to cover the box, then cut the box at the placement; a frame smaller than the box gives the largest region of its proportions. */
  | { op: 'scale_crop'; width: number; height: number; placement: FramePlacement };

export interface Gif2VideoPlan {
  format: Gif2VideoFormat;
  quality: VideoQuality;
  operations: Gif2VideoOperation[];
}

export interface Gif2VideoRequest {
  plan: Gif2VideoPlan;
  /** The filename ending the path, cleaned; null when there is none. */
  filename: string | null;
}

const DIRECTIVE = 'gif2video';
const SIZE_OPERATIONS: ReadonlySet<string> = new Set<SizeOperationName>(['preview', 'resize', 'crop', 'scale_crop']);
const USAGE = '-/format/mp4|webm/, -/quality/normal|better|best|lighter|lightest/, -/preview/WxH/, -/resize/WxH/, -/crop/WxH/[x,y|alignment]/ and -/scale_crop/WxH/[alignment]/';
const LOOKS_LIKE_FILENAME = /\.[a-z][a-z0-9]{0,4}$/i;
/**
 * Part of every key: bump it when the meaning of a plan or the encoder settings change. Adding
 * operations did not: a plan without them hashes the same text as before and converts the same way.
 */
const HASH_VERSION = 'trove-gif2video-v1';

export const CONTENT_TYPES: Readonly<Record<Gif2VideoFormat, string>> = { mp4: 'video/mp4', webm: 'video/webm' };

/** The path after `/:uuid/` names a GIF to video conversion (its first segment is `gif2video`). */
export function isGif2VideoPath(rest: string): boolean {
  return rest === DIRECTIVE || rest.startsWith(`${DIRECTIVE}/`);
}

/** Parses `gif2video/[-/name/params/]…[filename]`; throws a 400 naming what is wrong. */
export function parseGif2VideoPath(rest: string, limits: ParseLimits): Gif2VideoRequest {
  if (rest.length > limits.maxUrlLength) {
    throw createAppError('URL_TOO_LONG', 400, `The operations part of the URL is ${rest.length} characters long; at most ${limits.maxUrlLength} are allowed.`);
  }
  const segments = rest.split('/').filter((segment) => segment !== '');
  if (segments[0] !== DIRECTIVE) throw invalid('the path must start with gif2video/');
  const directiveCount = segments.filter((segment) => segment === '-').length;
  if (directiveCount > limits.maxOperations) {
    throw createAppError('TOO_MANY_OPERATIONS', 400, `gif2video: the URL has ${directiveCount} operations; at most ${limits.maxOperations} are allowed.`);
  }
  let filename: string | null = null;
  // The filename stands after the last `/`, as in image URLs: a path ending in `/` has none.
  const last = segments[segments.length - 1];
  if (!rest.endsWith('/') && segments.length > 1 && last !== undefined && last !== '-' && (segments.length === 2 || LOOKS_LIKE_FILENAME.test(last))) {
    filename = parseFilename(last);
    segments.pop();
  }
  const plan: Gif2VideoPlan = { format: 'mp4', quality: 'normal', operations: [] };
  const seen = new Set<string>();
  for (let i = 1; i < segments.length; ) {
    if (segments[i] !== '-') throw invalid(`unexpected segment ${quote(segments[i]!)}; write operations as -/format/webm/ or -/resize/320x/`);
    const name = segments[i + 1];
    const params: string[] = [];
    let next = i + 2;
    while (next < segments.length && segments[next] !== '-') params.push(segments[next++]!);
    i = next;
    if (name === undefined) throw invalid(`"-/" must be followed by an operation; gif2video takes ${USAGE}`);
    if (name === 'format' || name === 'quality') {
      if (seen.has(name)) throw invalid(`-/${name}/ is given twice`);
      seen.add(name);
      if (name === 'format') plan.format = oneOf(name, params, GIF2VIDEO_FORMATS);
      else plan.quality = oneOf(name, params, VIDEO_QUALITIES);
    } else if (SIZE_OPERATIONS.has(name)) {
      plan.operations.push(sizeOperation(name as SizeOperationName, params, limits));
    } else {
      throw invalid(`unknown operation ${quote(name)}; gif2video takes ${USAGE}`);
    }
  }
  return { plan, filename };
}

/** The image parser reads sizes and positions; what gif2video cannot do with them is refused here. */
function sizeOperation(name: SizeOperationName, params: readonly string[], limits: ParseLimits): Gif2VideoOperation {
  const operation = parseSizeOperation(name, params, limits);
  switch (operation.op) {
    case 'preview':
      return { op: 'preview', width: operation.width, height: operation.height };
    case 'resize':
      return { op: 'resize', width: operation.width, height: operation.height };
    case 'crop':
      return { op: 'crop', width: operation.width, height: operation.height, placement: framePlacement(name, operation.placement) };
    case 'scale_crop':
      return { op: 'scale_crop', width: operation.width, height: operation.height, placement: framePlacement(name, operation.placement) };
    case 'crop_ratio':
      throw invalid(`-/crop/ by aspect ratio (${operation.ratioWidth}:${operation.ratioHeight}) is not supported; give a size like -/crop/320x240/center/`);
    case 'crop_object':
      throw invalid(`-/crop/${operation.object}/ is not supported (no face detection in video frames); give a size like -/crop/320x240/center/`);
    default:
      // parseSizeOperation returns only the operations named above.
      throw invalid(`-/${name}/ is not supported`);
  }
}

function framePlacement(name: string, placement: Placement): FramePlacement {
  if (placement.type === 'smart') throw invalid(`-/${name}/${placement.mode}/ is not supported (no content detection in video frames); give an alignment like center or a position`);
  return placement;
}

/** The derivative's name: the same on every node and across restarts, as image plans' hashes are. */
export function gif2videoHash(plan: Gif2VideoPlan): string {
  const lines = [HASH_VERSION, plan.format, plan.quality, ...plan.operations.map(canonicalOperation)];
  return createHash('sha256').update(lines.join('\n')).digest('hex').slice(0, 32);
}

/** One operation as text built from its parsed values, so equivalent spellings (`0320x`, `320x`) name one derivative. */
function canonicalOperation(operation: Gif2VideoOperation): string {
  switch (operation.op) {
    case 'preview':
      return `preview ${operation.width}x${operation.height}`;
    case 'resize':
      return `resize ${operation.width ?? ''}x${operation.height ?? ''}`;
    case 'crop':
      return `crop ${length(operation.width)}x${length(operation.height)} ${placementText(operation.placement)}`;
    case 'scale_crop':
      return `scale_crop ${operation.width}x${operation.height} ${placementText(operation.placement)}`;
  }
}

function length(value: Length): string {
  return value.unit === 'px' ? String(value.value) : `${value.value}%`;
}

function placementText(placement: FramePlacement): string {
  return placement.type === 'align' ? `${placement.x}-${placement.y}` : `${length(placement.x)},${length(placement.y)}`;
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
  if (file.mimeType === 'image/webp') {
    // Checked with Debian's ffmpeg 5.1: its WebP decoder skips the ANIM and ANMF chunks, so an animated WebP has no frame it can read.
    throw createAppError(
      'NOT_A_GIF',
      400,
      `gif2video: file ${file.uuid} is image/webp; Trove converts animated GIFs only, because the ffmpeg it runs cannot decode animated WebP.`,
    );
  }
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
