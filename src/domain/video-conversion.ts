/**
 * Uploadcare's video conversion: the path grammar of `POST /convert/video/`
 * (`<uuid>/video/-/format/mp4/-/size/640x/preserve_ratio/-/quality/normal/-/cut/0:0:10/end/-/thumbs~8/`),
 * parsed into numbers and names before anything runs, the geometry of the output, and the record
 * of a conversion job. Nothing here ever becomes a filter graph as text: the engine builds its
 * arguments from these numbers alone.
 */
import { createHash } from 'node:crypto';
import { isUuid } from './file.js';

export const VIDEO_FORMATS = ['mp4', 'webm', 'ogg'] as const;
export type VideoFormat = (typeof VIDEO_FORMATS)[number];

export const VIDEO_QUALITIES = ['normal', 'better', 'best', 'lighter', 'lightest'] as const;
export type VideoQuality = (typeof VIDEO_QUALITIES)[number];

const RESIZE_MODES = ['preserve_ratio', 'change_ratio', 'scale_crop', 'add_padding'] as const;
export type ResizeMode = (typeof RESIZE_MODES)[number];

/** Uploadcare's bounds of `thumbs~N`. */
const MAX_THUMBNAILS = 50;

export interface VideoPlan {
  format: VideoFormat;
  quality: VideoQuality;
  /** null: the source's size (made even). */
  size: { width: number | null; height: number | null; mode: ResizeMode } | null;
  /** null: the whole video. `lengthMs` null: to the end. */
  cut: { startMs: number; lengthMs: number | null } | null;
  thumbnails: number;
}

interface ParsedConversion {
  sourceUuid: string;
  plan: VideoPlan;
}

export class VideoPathError extends Error {
  override readonly name = 'VideoPathError';
}

const DEFAULT_PLAN: VideoPlan = { format: 'mp4', quality: 'normal', size: null, cut: null, thumbnails: 1 };

function bad(path: string, why: string): never {
  throw new VideoPathError(`Bad path "${path.slice(0, 300)}": ${why}`);
}

/** Milliseconds from `HHH:MM:SS.sss`, `MM:SS.sss` or seconds (`12.5`); null when it is none of those. */
export function parseVideoTime(text: string): number | null {
  const match = /^(?:(?:(\d{1,3}):)?(\d{1,2}):)?(\d{1,5})(?:\.(\d{1,3}))?$/.exec(text);
  if (!match) return null;
  const hours = Number(match[1] ?? 0);
  const minutes = Number(match[2] ?? 0);
  const seconds = Number(match[3]);
  // Minutes and seconds stay below 60 once a larger unit is written.
  if (match[2] !== undefined && seconds >= 60) return null;
  if (match[1] !== undefined && minutes >= 60) return null;
  const fraction = Number((match[4] ?? '').padEnd(3, '0'));
  return ((hours * 60 + minutes) * 60 + seconds) * 1000 + fraction;
}

/**
 * Reads one path of a conversion request. Throws `VideoPathError` with a sentence naming what is
 * wrong; sides above `maxDimension` are refused here, before any job exists.
 */
export function parseVideoConversionPath(path: string, maxDimension: number): ParsedConversion {
  if (path.length > 1024) bad(path, 'a path has at most 1024 characters.');
  const parts = path.replace(/^\/+/, '').split('/');
  if (parts.at(-1) === '') parts.pop();
  const uuid = (parts[0] ?? '').toLowerCase();
  if (!isUuid(uuid)) bad(path, 'it must start with the UUID of a file of this project.');
  if (parts[1] !== 'video') bad(path, 'the UUID must be followed by `/video/`.');
  const plan: VideoPlan = { ...DEFAULT_PLAN };
  const seen = new Set<string>();
  let index = 2;
  while (index < parts.length) {
    if (parts[index] !== '-') bad(path, 'operations are written `/-/<operation>/<parameters>/`.');
    const name = parts[index + 1] ?? '';
    index += 2;
    const params: string[] = [];
    while (index < parts.length && parts[index] !== '-') params.push(parts[index++]!);
    const [operation, count] = name.split('~', 2) as [string, string | undefined];
    if (seen.has(operation)) bad(path, `\`${operation}\` is given twice.`);
    seen.add(operation);
    switch (operation) {
      case 'format': {
        const format = params[0];
        if (params.length !== 1 || !VIDEO_FORMATS.includes(format as VideoFormat)) bad(path, `\`format\` is one of ${VIDEO_FORMATS.join(', ')}.`);
        plan.format = format as VideoFormat;
        break;
      }
      case 'quality': {
        const quality = params[0];
        if (params.length !== 1 || !VIDEO_QUALITIES.includes(quality as VideoQuality)) bad(path, `\`quality\` is one of ${VIDEO_QUALITIES.join(', ')}.`);
        plan.quality = quality as VideoQuality;
        break;
      }
      case 'size':
        plan.size = parseSize(path, params, maxDimension);
        break;
      case 'cut': {
        if (params.length !== 2) bad(path, '`cut` takes a start and a length: `/-/cut/<start>/<length or end>/`.');
        const startMs = parseVideoTime(params[0]!);
        if (startMs === null) bad(path, '`cut` start is a time such as `0:0:10`, `01:30.5` or `90`.');
        const lengthMs = params[1] === 'end' ? null : parseVideoTime(params[1]!);
        if (lengthMs === 0 || (lengthMs === null && params[1] !== 'end')) bad(path, '`cut` length is a time longer than 0 (such as `000:00:20`) or `end`.');
        plan.cut = { startMs, lengthMs };
        break;
      }
      case 'thumbs': {
        if (params.length !== 0 || count === undefined || !/^\d{1,3}$/.test(count)) bad(path, '`thumbs` is written `/-/thumbs~N/`.');
        const n = Number(count);
        if (n < 1 || n > MAX_THUMBNAILS) bad(path, `\`thumbs~N\` takes N from 1 to ${MAX_THUMBNAILS}.`);
        plan.thumbnails = n;
        break;
      }
      default:
        bad(path, `\`${operation.slice(0, 40)}\` is not a video operation (format, size, quality, cut, thumbs~N).`);
    }
  }
  return { sourceUuid: uuid, plan };
}

function parseSize(path: string, params: string[], maxDimension: number): NonNullable<VideoPlan['size']> {
  if (params.length < 1 || params.length > 2) bad(path, '`size` is written `/-/size/<W>x<H>/<mode>/` (either side may be left out).');
  const match = /^(\d{1,5})?x(\d{1,5})?$/.exec(params[0]!);
  if (!match || (match[1] === undefined && match[2] === undefined)) bad(path, '`size` dimensions are `<W>x<H>`, `<W>x` or `x<H>`.');
  const width = match[1] === undefined ? null : Number(match[1]);
  const height = match[2] === undefined ? null : Number(match[2]);
  for (const side of [width, height]) {
    if (side !== null && (side < 2 || side > maxDimension)) bad(path, `\`size\` sides are from 2 to ${maxDimension} pixels.`);
  }
  const mode = params[1] ?? 'preserve_ratio';
  if (!RESIZE_MODES.includes(mode as ResizeMode)) bad(path, `the \`size\` mode is one of ${RESIZE_MODES.join(', ')}.`);
  return { width, height, mode: mode as ResizeMode };
}

/** `H:MM:SS` with `.sss` when there are milliseconds: a time parseVideoTime reads back as the same number. */
function videoTimeText(ms: number): string {
  const seconds = Math.floor(ms / 1000);
  const fraction = ms % 1000;
  const clock = `${Math.floor(seconds / 3600)}:${String(Math.floor(seconds / 60) % 60).padStart(2, '0')}:${String(seconds % 60).padStart(2, '0')}`;
  return fraction === 0 ? clock : `${clock}.${String(fraction).padStart(3, '0')}`;
}

/**
 * A conversion's path as Trove writes it back (in listings): format, size, quality, cut, thumbs, in
 * that order, the default resize mode left out. Parsed again, it gives the same plan.
 */
export function videoConversionPath(sourceUuid: string, plan: VideoPlan): string {
  const operations = [`format/${plan.format}`];
  if (plan.size) {
    const { width, height, mode } = plan.size;
    operations.push(`size/${width ?? ''}x${height ?? ''}${mode === 'preserve_ratio' ? '' : `/${mode}`}`);
  }
  operations.push(`quality/${plan.quality}`);
  if (plan.cut) operations.push(`cut/${videoTimeText(plan.cut.startMs)}/${plan.cut.lengthMs === null ? 'end' : videoTimeText(plan.cut.lengthMs)}`);
  operations.push(`thumbs~${plan.thumbnails}`);
  return `${sourceUuid}/video/${operations.map((operation) => `-/${operation}/`).join('')}`;
}

/** The canonical text of a plan: equal plans, however they were spelled, share it. */
export function canonicalPlan(plan: VideoPlan): string {
  return JSON.stringify([plan.format, plan.quality, plan.size && [plan.size.width, plan.size.height, plan.size.mode], plan.cut && [plan.cut.startMs, plan.cut.lengthMs], plan.thumbnails]);
}

/** What makes two requests the same conversion: the project, the source, the plan and where the result goes. */
export function conversionRequestKey(projectId: string, sourceUuid: string, plan: VideoPlan, store: boolean): string {
  return createHash('sha256').update(`trove-video-v1\n${projectId}\n${sourceUuid}\n${canonicalPlan(plan)}\n${store ? 1 : 0}`).digest('hex');
}

/** How the picture is scaled, cropped and padded: every number the filter graph needs. */
interface VideoGeometry {
  /** The size the picture is scaled to. */
  scaleWidth: number;
  scaleHeight: number;
  /** A centred crop of the scaled picture, or null. */
  crop: { width: number; height: number } | null;
  /** A centred black pad around the scaled picture, or null. */
  pad: { width: number; height: number } | null;
  /** The frame's size. */
  width: number;
  height: number;
}

/** Down to an even number, at least 2: H.264 with 4:2:0 chroma needs even sides. */
export function even(value: number): number {
  return Math.max(2, Math.floor(value / 2) * 2);
}

/**
 * The output geometry for a source as displayed (rotation already applied): Uploadcare's resize
 * modes, every side even.
 */
export function videoGeometry(sourceWidth: number, sourceHeight: number, size: VideoPlan['size']): VideoGeometry {
  const plain = (w: number, h: number): VideoGeometry => ({ scaleWidth: even(w), scaleHeight: even(h), crop: null, pad: null, width: even(w), height: even(h) });
  if (!size) return plain(sourceWidth, sourceHeight);
  const { width, height, mode } = size;
  if (width === null || height === null) {
    // One side given: the other follows the source's ratio, whatever the mode.
    if (width !== null) return plain(width, (width * sourceHeight) / sourceWidth);
    return plain((height! * sourceWidth) / sourceHeight, height!);
  }
  const boxWidth = even(width);
  const boxHeight = even(height);
  switch (mode) {
    case 'change_ratio':
      return plain(boxWidth, boxHeight);
    case 'scale_crop': {
      const scale = Math.max(boxWidth / sourceWidth, boxHeight / sourceHeight);
      const scaleWidth = Math.max(boxWidth, even(Math.ceil(sourceWidth * scale)));
      const scaleHeight = Math.max(boxHeight, even(Math.ceil(sourceHeight * scale)));
      return { scaleWidth, scaleHeight, crop: { width: boxWidth, height: boxHeight }, pad: null, width: boxWidth, height: boxHeight };
    }
    case 'add_padding': {
      const scale = Math.min(boxWidth / sourceWidth, boxHeight / sourceHeight);
      const scaleWidth = Math.min(boxWidth, even(sourceWidth * scale));
      const scaleHeight = Math.min(boxHeight, even(sourceHeight * scale));
      return { scaleWidth, scaleHeight, crop: null, pad: { width: boxWidth, height: boxHeight }, width: boxWidth, height: boxHeight };
    }
    case 'preserve_ratio': {
      const scale = Math.min(boxWidth / sourceWidth, boxHeight / sourceHeight);
      return plain(sourceWidth * scale, sourceHeight * scale);
    }
  }
}

export const CONVERSION_STATUSES = ['pending', 'processing', 'finished', 'failed', 'cancelled'] as const;
export type ConversionStatus = (typeof CONVERSION_STATUSES)[number];

/** One conversion job as Trove keeps it (table `video_conversions`). */
export interface VideoConversion {
  /** Uploadcare's job token: a positive integer, kept as its decimal text. */
  token: string;
  projectId: string;
  requestKey: string;
  sourceUuid: string;
  plan: VideoPlan;
  store: boolean;
  /** Chosen when the job is accepted, so the answer names the file before it exists. */
  resultUuid: string;
  /** `<uuid>~<N>`, likewise chosen in advance. */
  thumbnailsGroupId: string;
  status: ConversionStatus;
  error: string | null;
  /** Percent of the transcode done: 0 until it starts, 100 once finished. */
  progress: number;
  createdAt: string;
  updatedAt: string;
}

/**
 * The uuid of thumbnail `index` of a conversion, derived from its token: a job run twice (after a
 * crash) finds the thumbnails it already stored instead of making new ones.
 */
export function thumbnailUuid(token: string, index: number): string {
  const hex = createHash('sha256').update(`trove-video-thumb\n${token}\n${index}`).digest('hex');
  const variant = ((Number.parseInt(hex[16]!, 16) & 0x3) | 0x8).toString(16);
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-${variant}${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}
