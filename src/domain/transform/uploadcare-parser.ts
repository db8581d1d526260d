/**
 * Uploadcare CDN URL operations → a normalised DeliveryPlan. Pure: no I/O, no configuration.
 *
 * Facts from Uploadcare's URL API reference (uploadcare.com/docs/transformations/image/*,
 * api-refs/url-api) this parser relies on:
 * - Grammar: `/:uuid/-/:operation/:params/…/:filename`. `-` opens each directive, parameters are
 *   `/`-separated, the optional filename is the last segment. Operations apply in URL order.
 * - `%` must be escaped in URLs: percent is written `p` or `%25` (so `%` after decoding).
 * - preview: `-/preview/` or `-/preview/WxH/`, downscale to fit; without a size the box is 2048x2048.
 * - resize: `Wx`, `xH` or `WxH` in px. smart_resize: `WxH`.
 * - Output sides: ≤ 3000 px, ≤ 5000 px with an explicit JPEG format. Trove refuses any requested
 *   preview/resize/smart_resize/scale_crop side above its own output limit (ParseLimits), the
 *   limit the engine holds results to.
 * - stretch on|off|fill (default on) applies to the resize/scale_crop operations after it.
 * - setfill: hex colour; fills crop/stretch-fill areas and flattens alpha for JPEG output.
 * - crop: `WxH` in px or percent, then `x,y` (px or percent) or an alignment; default top-left.
 *   `W:H` crops the largest region of that aspect ratio, default centred.
 * - scale_crop: `WxH`, then an optional smart type (smart, smart_faces_objects, …), then an optional
 *   percent offset pair or alignment; default centre. With a smart type the offset is only a fallback.
 * - rotate: counterclockwise, a multiple of 90. flip: top-to-bottom. mirror: left-to-right.
 * - autorotate yes|no (EXIF orientation, on by default).
 * - blur: strength up to 5000, default 10. `blur/:strength/:amount/`: amount −200…100, default 100;
 *   100 = the blurred image, 0 = unchanged, negative = unsharp masking.
 * - blur_region: `WxH/x,y/[strength]` in px or percent, strength up to 5000 (default: "automatic from
 *   the region size"); `blur_region/faces/[strength]` blurs every detected face.
 * - crop by object: `crop/face|faces|image/[W:H | WxH (px, or percent of the object)]/[alignment]`;
 *   `face` is the largest face. `zoom_objects` and `crop/objects` need an object detector: refused.
 * - `/:uuid/detect_faces/` is not an operation (no `-/`): the delivery route answers it.
 * - sharp: 0–20, default 5. enhance: 0–100, default 50.
 * - brightness −100…100, exposure −500…500, contrast/saturation/vibrance −100…500, warmth −100…100;
 *   0 = unchanged. (gamma 0…1000, zero point 100, has no Trove operation.)
 * - border_radius: 1–4 radii in px or percent (CSS order), optional second set of vertical radii.
 * - overlay: `:uuid|self/[:relative_dimensions]/[:relative_coordinates]/[:opacity]`, each optional
 *   but in that order; size defaults to 100% and keeps the overlay's aspect ratio; position defaults
 *   to the top-left corner and is px/percent (like CSS background-position) or an alignment; opacity
 *   is a percentage.
 * - format jpeg|png|webp|auto|preserve; quality normal|better|best|lighter|lightest|smart|smart_retina;
 *   progressive yes|no; strip_meta all|none|sensitive; inline yes|no.
 * - json: file info. main_colors: optional number of colours, default 4; must come last.
 */
import { createAppError, type AppError } from '../../errors.js';
import { isUuid } from '../file.js';
import { CENTRE, type CropObject, type ObjectAlignment } from '../faces.js';
import { cleanFilename } from '../filename.js';
import { normalizePlan } from './normalize.js';
import {
  DEFAULT_BACKGROUND,
  DEFAULT_OUTPUT,
  type DeliveryPlan,
  type HorizontalEdge,
  type InfoRequest,
  type Length,
  MAX_MAIN_COLORS,
  type Operation,
  type OutputSettings,
  type Placement,
  type QualityPreset,
  type Rgba,
  type UpscaleMode,
  type VerticalEdge,
} from './operations.js';

/** From configuration (the names match `Config['transform']`); the parser has no limits of its own. */
export interface ParseLimits {
  /** Directives (`-/name/…`) per URL, settings included. */
  maxOperations: number;
  /** Characters of everything after `/:uuid/`. */
  maxUrlLength: number;
  /** Largest side preview/resize/smart_resize/scale_crop may ask for: the largest side of a result. */
  maxOutputDimension: number;
}

/** Box used by a bare `-/preview/` (Uploadcare's), or the output limit when that is smaller. */
const DEFAULT_PREVIEW_SIZE = 2048;
/**
 * Crop sizes, offsets and radii in px are clamped to the image by the engine, so they only need a
 * sanity bound: the largest side any encoder Trove writes can hold.
 */
const MAX_COORDINATE = 65535;
/** An extension starting with a letter: `photo.jpg`, never a parameter like `12.5p`. */
const LOOKS_LIKE_FILENAME = /\.[a-z][a-z0-9]{0,4}$/i;
const DEFAULT_MAIN_COLORS = 4;
const DEFAULT_BLUR = 10;
/** Uploadcare derives it from the region size, which the URL alone does not know; strong enough to hide what it covers. */
const DEFAULT_BLUR_REGION_STRENGTH = 100;
const DEFAULT_SHARPEN = 5;
const DEFAULT_ENHANCE = 50;
const MAX_RATIO_TERM = 10000;

/** One `-/name/params…` directive, as the URL wrote it (parameters still encoded). */
interface Directive {
  name: string;
  params: string[];
}

/** What one directive means, before the settings in force (stretch, setfill) are applied. */
type Step =
  | { kind: 'operation'; operation: Operation }
  /** An image operation that changes nothing (rotate 0): the URL still asks for processing. */
  | { kind: 'no_change' }
  | { kind: 'stretch'; mode: UpscaleMode }
  | { kind: 'setfill'; color: Rgba }
  | { kind: 'output'; settings: Partial<OutputSettings> }
  | { kind: 'inline'; inline: boolean }
  | { kind: 'info'; info: InfoRequest };

type DirectiveParser = (params: readonly string[], name: string, limits: ParseLimits) => Step;

/**
 * Parses the part of a delivery URL after `/:uuid/` (e.g. `-/resize/800x/-/format/auto/photo.jpg`).
 * Throws a 400 AppError naming the operation and parameter for anything it cannot honour.
 */
export function parseUploadcarePath(rest: string, limits: ParseLimits): DeliveryPlan {
  if (rest.length > limits.maxUrlLength) {
    throw createAppError(
      'URL_TOO_LONG',
      400,
      `The operations part of the URL is ${rest.length} characters long; at most ${limits.maxUrlLength} are allowed.`,
    );
  }
  // Empty segments (`//`, a trailing `/`) carry nothing.
  const segments = rest.split('/').filter((segment) => segment !== '');
  const directiveCount = segments.filter((segment) => segment === '-').length;
  if (directiveCount > limits.maxOperations) {
    throw createAppError(
      'TOO_MANY_OPERATIONS',
      400,
      `The URL has ${directiveCount} operations; at most ${limits.maxOperations} are allowed.`,
    );
  }
  const { directives, trailing } = splitDirectives(segments);

  // Uploadcare writes the filename after the last `/`: a path ending in `/` has none.
  const mayEndWithFilename = !rest.endsWith('/');
  const steps: Array<{ name: string; step: Step }> = [];
  let filenameSegment = trailing;
  directives.forEach((directive, index) => {
    const { name, params } = directive;
    const isLast = index === directives.length - 1;
    if (!isLast || !mayEndWithFilename || params.length === 0) {
      steps.push({ name, step: parseDirective(name, params, limits) });
      return;
    }
    // The last directive's parameters run to the end of the path, and the filename may be among
    // them: try them all first (`-/main_colors/5`), then all but the last, which is then the filename.
    const candidate = params[params.length - 1]!;
    try {
      steps.push({ name, step: parseDirective(name, params, limits) });
    } catch (withAll) {
      try {
        steps.push({ name, step: parseDirective(name, params.slice(0, -1), limits) });
      } catch (withoutLast) {
        // Neither reading works: explain the one the author most likely meant.
        throw LOOKS_LIKE_FILENAME.test(candidate) ? withoutLast : withAll;
      }
      filenameSegment = candidate;
    }
  });

  const applied = applySteps(steps);
  return {
    plan: normalizePlan(applied.plan),
    inline: applied.inline,
    filename: filenameSegment === null ? null : parseFilename(filenameSegment),
    transforms: applied.transforms,
  };
}

function splitDirectives(segments: readonly string[]): { directives: Directive[]; trailing: string | null } {
  const first = segments[0];
  if (first === undefined) return { directives: [], trailing: null };
  if (first !== '-') {
    if (segments.length === 1) return { directives: [], trailing: first };
    throw createAppError(
      'INVALID_OPERATION',
      400,
      `Unexpected path segment ${quote(first)}: operations are written -/name/params/ and only the filename may stand alone, at the end.`,
    );
  }
  const directives: Directive[] = [];
  for (let i = 0; i < segments.length; ) {
    const name = segments[i + 1];
    if (name === undefined || name === '-') {
      throw createAppError('INVALID_OPERATION', 400, 'Empty operation: "-/" must be followed by an operation name, e.g. -/resize/800x/.');
    }
    let end = i + 2;
    while (end < segments.length && segments[end] !== '-') end++;
    directives.push({ name, params: segments.slice(i + 2, end) });
    i = end;
  }
  return { directives, trailing: null };
}

/**
 * Parameters arrive decoded (Fastify's wildcard) or raw (`50%25`), even mixed; both must mean the
 * same. Parameters are ASCII, so ASCII escapes are decoded one by one and a `%` that starts no
 * escape (as in an already decoded `50%`) stays as it is.
 */
function decodeParameter(segment: string): string {
  return segment.replace(/%([0-9a-f]{2})/gi, (escape, hex: string) => {
    const code = parseInt(hex, 16);
    return code < 0x80 ? String.fromCharCode(code) : escape;
  });
}

/** `rawParams` as they stand in the path; a filename among them is decoded separately, once. */
function parseDirective(name: string, rawParams: readonly string[], limits: ParseLimits): Step {
  const parser = DIRECTIVES.get(name);
  if (parser) return parser(rawParams.map(decodeParameter), name, limits);
  if (name === 'gif2video') {
    throw createAppError('INVALID_OPERATION', 400, 'gif2video follows the file directly, not "-/": write /:uuid/gif2video/ or /:uuid/gif2video/-/format/webm/-/quality/better/.');
  }
  if (name === 'detect_faces') {
    throw createAppError('INVALID_OPERATION', 400, 'detect_faces follows the file directly, not "-/", and cannot be combined with operations: write /:uuid/detect_faces/.');
  }
  if (name === 'zoom_objects') {
    throw createAppError('INVALID_OPERATION', 400, 'zoom_objects: this Uploadcare operation needs an object detector (it zooms the main object, not faces), which Trove does not have.');
  }
  if (UNSUPPORTED_UPLOADCARE_OPERATIONS.has(name)) {
    throw createAppError('INVALID_OPERATION', 400, `${name}: this Uploadcare operation is not supported by Trove.`);
  }
  throw createAppError(
    'UNKNOWN_OPERATION',
    400,
    `Unknown operation ${quote(name)}. Operations are written -/name/params/, e.g. -/resize/800x/; supported: ${[...DIRECTIVES.keys()].join(', ')}.`,
  );
}

/** The size operations other Uploadcare grammars take as they stand in image URLs (gif2video's). */
export type SizeOperationName = 'preview' | 'resize' | 'crop' | 'scale_crop';

/**
 * One size directive parsed exactly as in an image URL (the same sizes, positions, bounds and 400s),
 * for grammars that take these operations alone. Settings that shape it in image URLs (stretch,
 * setfill) are not read: the operation carries the defaults.
 */
export function parseSizeOperation(name: SizeOperationName, rawParams: readonly string[], limits: ParseLimits): Operation {
  const step = parseDirective(name, rawParams, limits);
  // Every size directive parses into an operation; anything else would be a parser change.
  if (step.kind !== 'operation') throw invalid(name, 'does not describe a size');
  return step.operation;
}

interface AppliedSteps {
  plan: { operations: Operation[]; output: OutputSettings; info: InfoRequest | null };
  inline: boolean | null;
  transforms: boolean;
}

/** Folds settings into the operations that follow them; settings themselves: the last one wins. */
function applySteps(steps: ReadonlyArray<{ name: string; step: Step }>): AppliedSteps {
  let upscale: UpscaleMode = 'on';
  let fill: Rgba = DEFAULT_BACKGROUND;
  const output: OutputSettings = { ...DEFAULT_OUTPUT };
  const operations: Operation[] = [];
  let info: { name: string; request: InfoRequest } | null = null;
  let inline: boolean | null = null;
  let transforms = false;
  let formatGiven = false;

  for (const { name, step } of steps) {
    switch (step.kind) {
      case 'operation':
        if (info) {
          throw invalid(info.name, `must be the last operation; move -/${name}/ before -/${info.name}/`);
        }
        operations.push(inContext(step.operation, upscale, fill));
        transforms = true;
        break;
      case 'no_change':
        if (info) throw invalid(info.name, `must be the last operation; move -/${name}/ before -/${info.name}/`);
        transforms = true;
        break;
      case 'stretch':
        upscale = step.mode;
        break;
      case 'setfill':
        fill = step.color;
        output.background = step.color;
        break;
      case 'output':
        Object.assign(output, step.settings);
        if (step.settings.format !== undefined) formatGiven = true;
        if (step.settings.quality !== undefined || step.settings.progressive !== undefined) transforms = true;
        break;
      case 'inline':
        inline = step.inline;
        break;
      case 'info':
        if (info) throw invalid(name, `cannot be combined with -/${info.name}/; use one of them`);
        info = { name, request: step.info };
        transforms = true;
        break;
    }
  }
  // preserve alone asks for nothing the original does not already have.
  if (formatGiven && output.format !== 'preserve') transforms = true;
  return { plan: { operations, output, info: info?.request ?? null }, inline, transforms };
}

/** Gives an operation the stretch mode and fill colour in force where it stands in the URL. */
function inContext(operation: Operation, upscale: UpscaleMode, background: Rgba): Operation {
  switch (operation.op) {
    case 'resize':
    case 'scale_crop':
      return { ...operation, upscale, background };
    case 'smart_resize':
    case 'crop':
    case 'border_radius':
      return { ...operation, background };
    default:
      return operation;
  }
}

/**
 * The name is untrusted text headed for Content-Disposition: it gets exactly the cleaning a stored
 * name gets (bidi overrides, controls, directories, length). Null when nothing usable is left: the
 * answer then names the file as it would without one.
 */
export function parseFilename(segment: string): string | null {
  let name: string;
  try {
    name = decodeURIComponent(segment);
  } catch {
    // Already decoded (a literal `%` in the name) or not percent-encoding at all: take it as written.
    name = segment;
  }
  return cleanFilename(name);
}

// ---------------------------------------------------------------------------------------------
// Directives

const SIZE_USAGE = 'a size like 800x600';
const RESIZE_USAGE = '800x, x600 or 800x600';
const SCALE_CROP_USAGE = '-/scale_crop/800x600/, optionally followed by a smart type and/or a position like center or 30p,50p';
const CROP_USAGE = '-/crop/800x600/ (px or percent, e.g. 50px50p), optionally followed by x,y or an alignment like center; or -/crop/16:9/';
const POSITION_USAGE = 'x,y in px or percent (e.g. 10,20 or 30p,50p) or an alignment: center, top, bottom, left, right, top_left, top_right, bottom_left, bottom_right';
const CROP_OBJECT_USAGE = '-/crop/face/, -/crop/faces/ or -/crop/image/, optionally followed by an aspect ratio like 1:1 or a size like 200px200p (percent of the object), then an alignment like center';
const BLUR_FACES_USAGE = '-/blur_region/faces/, optionally followed by a strength 0–5000';
/** A region around an object may be this many times its size (percent): more is the whole image anyway. */
const MAX_OBJECT_PERCENT = 10_000;
const BLUR_REGION_USAGE = '-/blur_region/WxH/x,y/ with px or percent values, optionally followed by a strength 0–5000';
const BORDER_RADIUS_USAGE = '1 to 4 comma-separated radii in px or percent, e.g. 20 or 10,50p';
const OVERLAY_USAGE = '-/overlay/:uuid/ (or self), optionally followed by a size like 50px50p, a position like center or 10p,90p, and an opacity like 80p';

const SMART_TYPES = ['smart', 'smart_faces', 'smart_objects', 'smart_faces_objects', 'smart_objects_faces', 'smart_points'] as const;
type SmartType = (typeof SMART_TYPES)[number];
/** Uploadcare's other detection chains; Placement has no value for them. */
const UNSUPPORTED_SMART_TYPES = new Set(['smart_faces_points', 'smart_objects_points', 'smart_objects_faces_points', 'smart_faces_objects_points']);

const FORMATS = ['jpeg', 'png', 'webp', 'avif', 'gif', 'auto', 'preserve'] as const;
const QUALITIES: readonly QualityPreset[] = ['normal', 'better', 'best', 'lighter', 'lightest', 'smart', 'smart_retina'];
const STRIP_META = ['all', 'none', 'sensitive'] as const;
const STRETCH_MODES = ['on', 'off', 'fill'] as const;

type ColorAdjustment = Extract<Operation, { value: number }>['op'];
const COLOR_ADJUSTMENTS: Readonly<Record<ColorAdjustment, { min: number; max: number }>> = {
  brightness: { min: -100, max: 100 },
  exposure: { min: -500, max: 500 },
  contrast: { min: -100, max: 500 },
  saturation: { min: -100, max: 500 },
  vibrance: { min: -100, max: 500 },
  warmth: { min: -100, max: 100 },
};

/** Uploadcare operations Trove recognises but does not implement: a clearer 400 than "unknown". */
const UNSUPPORTED_UPLOADCARE_OPERATIONS = new Set([
  'gamma',
  'filter',
  'srgb',
  'max_icc_size',
  'rasterize',
  'trim',
  'text',
  'text_align',
  'font',
  'text_box',
  'rect',
]);

const DIRECTIVES: ReadonlyMap<string, DirectiveParser> = new Map<string, DirectiveParser>([
  ['preview', parsePreview],
  ['resize', parseResize],
  ['smart_resize', parseSmartResize],
  ['scale_crop', parseScaleCrop],
  ['crop', parseCrop],
  ['stretch', (params, name) => ({ kind: 'stretch', mode: oneOf(name, onlyParam(name, params, 'on, off or fill'), STRETCH_MODES) })],
  ['setfill', (params, name) => ({ kind: 'setfill', color: parseColor(name, onlyParam(name, params, 'a hex colour like ffffff')) })],
  ['format', (params, name) => ({ kind: 'output', settings: { format: oneOf(name, onlyParam(name, params, FORMATS.join(', ')), FORMATS) } })],
  ['quality', (params, name) => ({ kind: 'output', settings: { quality: oneOf(name, onlyParam(name, params, QUALITIES.join(', ')), QUALITIES) } })],
  ['progressive', (params, name) => ({ kind: 'output', settings: { progressive: yesNo(name, params) } })],
  ['autorotate', (params, name) => ({ kind: 'output', settings: { autorotate: yesNo(name, params) } })],
  ['strip_meta', (params, name) => ({ kind: 'output', settings: { stripMeta: oneOf(name, onlyParam(name, params, STRIP_META.join(', ')), STRIP_META) } })],
  ['inline', (params, name) => ({ kind: 'inline', inline: yesNo(name, params) })],
  ['rotate', parseRotate],
  ['flip', (params, name) => noParams(name, params, { op: 'flip' })],
  ['mirror', (params, name) => noParams(name, params, { op: 'mirror' })],
  ['grayscale', (params, name) => noParams(name, params, { op: 'grayscale' })],
  ['invert', (params, name) => noParams(name, params, { op: 'invert' })],
  ['blur', parseBlur],
  ['blur_region', parseBlurRegion],
  ['sharp', (params, name) => operation({ op: 'sharpen', strength: optionalInteger(name, params, 'strength', 0, 20, DEFAULT_SHARPEN) })],
  ['enhance', (params, name) => operation({ op: 'enhance', strength: optionalInteger(name, params, 'strength', 0, 100, DEFAULT_ENHANCE) })],
  ...(Object.keys(COLOR_ADJUSTMENTS) as ColorAdjustment[]).map((adjustment): [string, DirectiveParser] => [adjustment, (params) => parseAdjustment(adjustment, params)]),
  ['border_radius', parseBorderRadius],
  ['overlay', parseOverlay],
  ['json', (params, name) => {
    atMost(name, params, 0, '-/json/ without parameters');
    return { kind: 'info', info: { kind: 'json' } };
  }],
  ['main_colors', (params, name) => ({
    kind: 'info',
    info: { kind: 'main_colors', count: optionalInteger(name, params, 'number of colours', 1, MAX_MAIN_COLORS, DEFAULT_MAIN_COLORS) },
  })],
]);

function operation(op: Operation): Step {
  return { kind: 'operation', operation: op };
}

function noParams(name: string, params: readonly string[], op: Operation): Step {
  atMost(name, params, 0, `-/${name}/ without parameters`);
  return operation(op);
}

function parseAdjustment(name: ColorAdjustment, params: readonly string[]): Step {
  const { min, max } = COLOR_ADJUSTMENTS[name];
  const value = integerInRange(name, 'value', onlyParam(name, params, `a value from ${min} to ${max}`), min, max);
  return operation({ op: name, value });
}

function parsePreview(params: readonly string[], name: string, limits: ParseLimits): Step {
  atMost(name, params, 1, `-/preview/ or -/preview/800x600/`);
  const size = params[0];
  if (size === undefined) {
    const side = Math.min(DEFAULT_PREVIEW_SIZE, limits.maxOutputDimension);
    return operation({ op: 'preview', width: side, height: side });
  }
  const { width, height } = parseBox(name, size, 'a box like 800x600 (both sides)', limits);
  if (width === null || height === null) {
    throw invalid(name, `${quote(size)} needs both sides, like 800x600; use -/resize/${size}/ to fix one side`);
  }
  return operation({ op: 'preview', width, height });
}

function parseResize(params: readonly string[], name: string, limits: ParseLimits): Step {
  const { width, height } = parseBox(name, onlyParam(name, params, RESIZE_USAGE), RESIZE_USAGE, limits);
  return operation({ op: 'resize', width, height, upscale: 'on', background: DEFAULT_BACKGROUND });
}

function parseSmartResize(params: readonly string[], name: string, limits: ParseLimits): Step {
  const { width, height } = fullBox(name, onlyParam(name, params, SIZE_USAGE), limits);
  return operation({ op: 'smart_resize', width, height, background: DEFAULT_BACKGROUND });
}

function parseScaleCrop(params: readonly string[], name: string, limits: ParseLimits): Step {
  atMost(name, params, 3, SCALE_CROP_USAGE);
  const { width, height } = fullBox(name, required(name, params, 0, SCALE_CROP_USAGE), limits);
  let next = 1;
  let smart: SmartType | null = null;
  const typeParam = params[next];
  if (typeParam !== undefined && typeParam.startsWith('smart')) {
    if (UNSUPPORTED_SMART_TYPES.has(typeParam)) {
      throw invalid(name, `the smart type ${quote(typeParam)} is not supported; use one of ${SMART_TYPES.join(', ')}`);
    }
    smart = oneOf(name, typeParam, SMART_TYPES);
    next++;
  }
  const positionParam = params[next];
  if (positionParam === undefined) {
    atMost(name, params, next, SCALE_CROP_USAGE);
  } else {
    atMost(name, params, next + 1, SCALE_CROP_USAGE);
  }
  const position = positionParam === undefined ? null : parseFocalPoint(name, positionParam);
  if (smart && position && !(position.type === 'align' && position.x === 'center' && position.y === 'center')) {
    // Uploadcare would use the position only when detection finds nothing; a Placement holds one of them.
    throw invalid(name, `a fallback position after ${smart} is not supported; use either -/scale_crop/${width}x${height}/${smart}/ or a position`);
  }
  const placement: Placement = smart ? { type: 'smart', mode: smart } : (position ?? alignment('center', 'center'));
  return operation({ op: 'scale_crop', width, height, placement, upscale: 'on', background: DEFAULT_BACKGROUND });
}

function parseCrop(params: readonly string[], name: string): Step {
  const size = required(name, params, 0, CROP_USAGE);
  if (size === 'face' || size === 'faces' || size === 'image') return parseCropObject(name, size, params.slice(1));
  if (size === 'objects' || size === 'object') {
    throw invalid(name, `crop by detected ${size} needs an object detector, which Trove does not have; use -/crop/face/, -/crop/faces/, -/crop/image/ or ${CROP_USAGE}`);
  }
  atMost(name, params, 2, CROP_USAGE);
  const positionParam = params[1];
  const ratio = splitPair(size, ':');
  if (ratio) {
    const ratioWidth = integerInRange(name, 'aspect ratio', ratio[0], 1, MAX_RATIO_TERM);
    const ratioHeight = integerInRange(name, 'aspect ratio', ratio[1], 1, MAX_RATIO_TERM);
    const placement = positionParam === undefined ? alignment('center', 'center') : parsePosition(name, positionParam);
    return operation({ op: 'crop_ratio', ratioWidth, ratioHeight, placement });
  }
  const sides = splitPair(size, 'x');
  if (!sides) throw invalid(name, `${quote(size)} is not a size; use ${CROP_USAGE}`);
  const width = parseLength(name, 'width', sides[0], 'positive');
  const height = parseLength(name, 'height', sides[1], 'positive');
  const placement = positionParam === undefined ? alignment('left', 'top') : parsePosition(name, positionParam);
  return operation({ op: 'crop', width, height, placement, background: DEFAULT_BACKGROUND });
}

/**
 * `-/crop/:tag/`, `-/crop/:tag/:ratio/[:alignment/]`, `-/crop/:tag/:size/[:alignment/]`: the region
 * around the largest face, all faces or the whole image. A size in percent is relative to the
 * object (200p is twice its side); the alignment places the object in the region (default centre).
 */
function parseCropObject(name: string, object: CropObject, params: readonly string[]): Step {
  atMost(name, params, 2, CROP_OBJECT_USAGE);
  const regionParam = params[0];
  if (regionParam === undefined) return operation({ op: 'crop_object', object, region: { kind: 'object' } });
  const alignmentParam = params[1];
  let objectAlignment: ObjectAlignment = CENTRE;
  if (alignmentParam !== undefined) {
    const edges = ALIGNMENTS.get(alignmentParam);
    if (!edges) throw invalid(name, `${quote(alignmentParam)} is not an alignment; use one of ${[...ALIGNMENTS.keys()].join(', ')}`);
    objectAlignment = { x: edges[0], y: edges[1] };
  }
  const ratio = splitPair(regionParam, ':');
  if (ratio) {
    const ratioWidth = integerInRange(name, 'aspect ratio', ratio[0], 1, MAX_RATIO_TERM);
    const ratioHeight = integerInRange(name, 'aspect ratio', ratio[1], 1, MAX_RATIO_TERM);
    return operation({ op: 'crop_object', object, region: { kind: 'ratio', ratioWidth, ratioHeight, alignment: objectAlignment } });
  }
  const sides = splitPair(regionParam, 'x');
  if (!sides) throw invalid(name, `${quote(regionParam)} is neither an aspect ratio nor a size; use ${CROP_OBJECT_USAGE}`);
  const width = parseLength(name, 'width', sides[0], 'positive', MAX_OBJECT_PERCENT);
  const height = parseLength(name, 'height', sides[1], 'positive', MAX_OBJECT_PERCENT);
  return operation({ op: 'crop_object', object, region: { kind: 'size', width, height, alignment: objectAlignment } });
}

function parseRotate(params: readonly string[], name: string): Step {
  const angle = onlyParam(name, params, '90, 180 or 270 (degrees counterclockwise)');
  if (!/^-?\d{1,6}$/.test(angle) || Number(angle) % 90 !== 0) {
    throw invalid(name, `${quote(angle)} is not a multiple of 90; use 90, 180 or 270 (degrees counterclockwise)`);
  }
  // Uploadcare turns counterclockwise; the plan counts clockwise quarter turns.
  const quarterTurns = (((-Number(angle) / 90) % 4) + 4) % 4;
  if (quarterTurns === 1 || quarterTurns === 2 || quarterTurns === 3) return operation({ op: 'rotate', quarterTurns });
  return { kind: 'no_change' };
}

function parseBlur(params: readonly string[], name: string): Step {
  atMost(name, params, 2, '-/blur/, -/blur/:strength/ (0–5000) or -/blur/:strength/:amount/ (amount −200…100)');
  const strength = params[0] === undefined ? DEFAULT_BLUR : integerInRange(name, 'strength', params[0], 0, 5000);
  if (params[1] === undefined) return operation({ op: 'blur', strength });
  // amount defaults to 100, which is the plain blur above; normalisation folds an explicit 100 back into it.
  const amount = integerInRange(name, 'amount', params[1], -200, 100);
  return operation({ op: 'unsharp', strength, amount });
}

function parseBlurRegion(params: readonly string[], name: string): Step {
  atMost(name, params, 3, BLUR_REGION_USAGE);
  const size = required(name, params, 0, BLUR_REGION_USAGE);
  if (size === 'faces') {
    atMost(name, params, 2, BLUR_FACES_USAGE);
    const strength = params[1] === undefined ? DEFAULT_BLUR_REGION_STRENGTH : integerInRange(name, 'strength', params[1], 0, 5000);
    return operation({ op: 'blur_faces', strength });
  }
  const sides = splitPair(size, 'x');
  if (!sides) throw invalid(name, `${quote(size)} is not a region size; use ${BLUR_REGION_USAGE}`);
  const width = parseLength(name, 'width', sides[0], 'positive');
  const height = parseLength(name, 'height', sides[1], 'positive');
  const at = required(name, params, 1, BLUR_REGION_USAGE);
  const offsets = splitPair(at, ',');
  if (!offsets) throw invalid(name, `${quote(at)} is not a position; use x,y in px or percent, e.g. 10,20 or 30p,50p`);
  const x = parseLength(name, 'x', offsets[0], 'zero');
  const y = parseLength(name, 'y', offsets[1], 'zero');
  const strength = params[2] === undefined ? DEFAULT_BLUR_REGION_STRENGTH : integerInRange(name, 'strength', params[2], 0, 5000);
  return operation({ op: 'blur_region', width, height, x, y, strength });
}

function parseBorderRadius(params: readonly string[], name: string): Step {
  atMost(name, params, 2, `${BORDER_RADIUS_USAGE}, optionally followed by vertical radii`);
  const radii = parseRadii(name, required(name, params, 0, BORDER_RADIUS_USAGE));
  const verticalParam = params[1];
  if (verticalParam !== undefined) {
    const vertical = parseRadii(name, verticalParam);
    if (!vertical.every((radius, i) => sameLength(radius, radii[i]!))) {
      throw invalid(name, `elliptical corners (vertical radii ${quote(verticalParam)} differing from the horizontal ones) are not supported`);
    }
  }
  return operation({ op: 'border_radius', radii, background: DEFAULT_BACKGROUND });
}

/** CSS border-radius shorthand: 1–4 values, clockwise from top-left. */
function parseRadii(name: string, token: string): [Length, Length, Length, Length] {
  const parts = token.split(',');
  if (parts.length > 4) throw invalid(name, `${quote(token)} has more than 4 radii; use ${BORDER_RADIUS_USAGE}`);
  const values = parts.map((part) => parseLength(name, 'radius', part, 'zero'));
  const [a, b = a, c = a, d = b] = values as [Length, Length?, Length?, Length?];
  return [a, b, c, d];
}

function parseOverlay(params: readonly string[], name: string): Step {
  atMost(name, params, 4, OVERLAY_USAGE);
  const sourceParam = required(name, params, 0, OVERLAY_USAGE);
  const source = sourceParam.toLowerCase();
  if (source !== 'self' && !isUuid(source)) {
    throw invalid(name, `${quote(sourceParam)} is not a file uuid; use ${OVERLAY_USAGE}`);
  }
  // Every later parameter is optional but they keep their order: size, position, opacity.
  let next = 1;
  let width: Length = { unit: 'percent', value: 100 };
  let height: Length = { unit: 'percent', value: 100 };
  const sizeParam = params[next];
  if (sizeParam !== undefined && sizeParam.includes('x')) {
    const sides = splitPair(sizeParam, 'x');
    if (!sides) throw invalid(name, `${quote(sizeParam)} is not a size; use e.g. 50px50p`);
    width = parseLength(name, 'width', sides[0], 'positive');
    height = parseLength(name, 'height', sides[1], 'positive');
    next++;
  }
  let placement: Placement = alignment('left', 'top');
  const positionParam = params[next];
  if (positionParam !== undefined && (ALIGNMENTS.has(positionParam) || positionParam.includes(','))) {
    placement = parsePosition(name, positionParam);
    next++;
  }
  let opacity = 100;
  const opacityParam = params[next];
  if (opacityParam !== undefined) {
    const value = parseLength(name, 'opacity', opacityParam, 'zero');
    if (value.unit !== 'percent') throw invalid(name, `${quote(opacityParam)} is not an opacity; use a percentage like 80p`);
    opacity = value.value;
    next++;
  }
  const extra = params[next];
  if (extra !== undefined) throw invalid(name, `unexpected parameter ${quote(extra)}; use ${OVERLAY_USAGE}`);
  return operation({ op: 'overlay', source, width, height, placement, opacity });
}

// ---------------------------------------------------------------------------------------------
// Values

const ALIGNMENTS: ReadonlyMap<string, readonly [HorizontalEdge, VerticalEdge]> = new Map([
  ['center', ['center', 'center']],
  ['top', ['center', 'top']],
  ['bottom', ['center', 'bottom']],
  ['left', ['left', 'center']],
  ['right', ['right', 'center']],
  ['top_left', ['left', 'top']],
  ['top_right', ['right', 'top']],
  ['bottom_left', ['left', 'bottom']],
  ['bottom_right', ['right', 'bottom']],
]);

function alignment(x: HorizontalEdge, y: VerticalEdge): Placement {
  return { type: 'align', x, y };
}

/** Crop and overlay positions: an alignment keyword, or x,y in px or percent. */
function parsePosition(name: string, token: string): Placement {
  const edges = ALIGNMENTS.get(token);
  if (edges) return alignment(edges[0], edges[1]);
  const pair = splitPair(token, ',');
  if (!pair) throw invalid(name, `${quote(token)} is not a position; use ${POSITION_USAGE}`);
  return { type: 'point', x: parseLength(name, 'x', pair[0], 'zero'), y: parseLength(name, 'y', pair[1], 'zero') };
}

/** scale_crop positions: an alignment keyword, or a percent pair naming the point kept in view. */
function parseFocalPoint(name: string, token: string): Placement {
  const placement = parsePosition(name, token);
  if (placement.type === 'point' && (placement.x.unit !== 'percent' || placement.y.unit !== 'percent')) {
    throw invalid(name, `${quote(token)}: the position is given in percent, e.g. 30p,50p, or as an alignment like center`);
  }
  return placement;
}

interface Box {
  width: number | null;
  height: number | null;
}

/** `WxH`, `Wx` or `xH` in whole pixels, each side from 1 to the output limit. */
function parseBox(name: string, token: string, usage: string, limits: ParseLimits): Box {
  const match = /^(\d{1,9})?x(\d{1,9})?$/.exec(token);
  if (!match || (match[1] === undefined && match[2] === undefined)) {
    throw invalid(name, `${quote(token)} is not a size; use ${usage}`);
  }
  return {
    width: match[1] === undefined ? null : dimension(name, 'width', match[1], limits.maxOutputDimension),
    height: match[2] === undefined ? null : dimension(name, 'height', match[2], limits.maxOutputDimension),
  };
}

function fullBox(name: string, token: string, limits: ParseLimits): { width: number; height: number } {
  const { width, height } = parseBox(name, token, SIZE_USAGE, limits);
  if (width === null || height === null) throw invalid(name, `${quote(token)} needs both sides; use ${SIZE_USAGE}`);
  return { width, height };
}

function dimension(name: string, side: string, digits: string, max: number): number {
  const value = Number(digits);
  if (value === 0) throw invalid(name, `${side} 0 is not a size; sizes are whole pixels from 1 to ${max}`);
  if (value > max) {
    throw invalid(name, `${side} ${value} is larger than the ${max} px allowed per side`);
  }
  return value;
}

const LENGTH = /^(\d{1,9}(?:\.\d{1,6})?)(p|%)?$/;

/** Whole pixels (`120`) or a percentage (`50p`, `50%`, up to `maxPercent`, 100 unless said, fractions allowed). */
function parseLength(name: string, what: string, token: string, least: 'positive' | 'zero', maxPercent = 100): Length {
  const match = LENGTH.exec(token);
  if (!match) throw invalid(name, `${quote(token)} is not a valid ${what}; use whole pixels like 120 or a percentage like 50p`);
  const value = Number(match[1]);
  if (least === 'positive' && value === 0) throw invalid(name, `${what} must be greater than 0`);
  if (match[2] !== undefined) {
    if (value > maxPercent) throw invalid(name, `${what} ${quote(token)} is more than ${maxPercent} percent`);
    return { unit: 'percent', value };
  }
  if (!Number.isInteger(value)) throw invalid(name, `${what} ${quote(token)}: pixels are whole numbers; write a percentage as 12.5p`);
  if (value > MAX_COORDINATE) throw invalid(name, `${what} ${value} is larger than ${MAX_COORDINATE} px`);
  return { unit: 'px', value };
}

function sameLength(a: Length, b: Length): boolean {
  return a.unit === b.unit && a.value === b.value;
}

const HEX_COLOR = /^(?:[0-9a-f]{3}|[0-9a-f]{6}|[0-9a-f]{8})$/i;

/** `rgb`, `rrggbb` or `rrggbbaa` in hex. */
function parseColor(name: string, token: string): Rgba {
  if (!HEX_COLOR.test(token)) {
    throw invalid(name, `${quote(token)} is not a colour; use hex digits like fff, ece3d2 or ece3d280 (with alpha)`);
  }
  const full = token.length === 3 ? [...token].map((digit) => digit + digit).join('') : token;
  const channel = (index: number): number => parseInt(full.slice(index * 2, index * 2 + 2), 16);
  return { r: channel(0), g: channel(1), b: channel(2), alpha: full.length === 8 ? channel(3) : 255 };
}

function integerInRange(name: string, what: string, token: string, min: number, max: number): number {
  if (!/^[-+]?\d{1,9}$/.test(token)) throw invalid(name, `${what} ${quote(token)} is not a whole number from ${min} to ${max}`);
  const value = Number(token) + 0; // + 0 turns -0 into 0
  if (value < min || value > max) throw invalid(name, `${what} ${value} is out of range; use ${min} to ${max}`);
  return value;
}

function optionalInteger(name: string, params: readonly string[], what: string, min: number, max: number, fallback: number): number {
  atMost(name, params, 1, `-/${name}/ or -/${name}/:${what.replace(/ /g, '_')}/ (${min}–${max})`);
  const token = params[0];
  return token === undefined ? fallback : integerInRange(name, what, token, min, max);
}

function oneOf<T extends string>(name: string, token: string, allowed: readonly T[]): T {
  const found = allowed.find((value) => value === token);
  if (found === undefined) throw invalid(name, `${quote(token)} is not allowed; use one of ${allowed.join(', ')}`);
  return found;
}

function yesNo(name: string, params: readonly string[]): boolean {
  return oneOf(name, onlyParam(name, params, 'yes or no'), ['yes', 'no'] as const) === 'yes';
}

function splitPair(token: string, separator: string): [string, string] | null {
  const parts = token.split(separator);
  return parts.length === 2 ? [parts[0]!, parts[1]!] : null;
}

function required(name: string, params: readonly string[], index: number, usage: string): string {
  const value = params[index];
  if (value === undefined) throw invalid(name, `missing parameter; use ${usage}`);
  return value;
}

function onlyParam(name: string, params: readonly string[], usage: string): string {
  atMost(name, params, 1, usage);
  return required(name, params, 0, usage);
}

function atMost(name: string, params: readonly string[], count: number, usage: string): void {
  const extra = params[count];
  if (extra !== undefined) throw invalid(name, `unexpected parameter ${quote(extra)}; use ${usage}`);
}

function invalid(name: string, detail: string): AppError {
  return createAppError('INVALID_OPERATION', 400, `${name}: ${detail}.`);
}

/** Echoes user input safely: bounded, and JSON-escaped so control characters cannot reach a log line raw. */
function quote(value: string): string {
  return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value);
}
