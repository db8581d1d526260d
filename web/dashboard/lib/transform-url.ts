/**
 * The transformation playground's state → an Uploadcare CDN operation path. Pure (no DOM), so it
 * can be unit-tested in Node.
 *
 * The builder writes whatever numbers it is given, even out of range: the playground shows the
 * server's own 400 text for a refused URL, which explains the limit better than a client copy of
 * the rules would. `transformIssues` lists the same limits for inline hints.
 */

export const GRAVITIES = [
  'center',
  'top',
  'bottom',
  'left',
  'right',
  'top_left',
  'top_right',
  'bottom_left',
  'bottom_right',
  'smart',
  'smart_faces',
  'smart_objects',
  'smart_faces_objects',
] as const;
export type Gravity = (typeof GRAVITIES)[number];

export const FORMATS = ['auto', 'jpeg', 'png', 'webp', 'avif', 'gif', 'preserve'] as const;
export type OutputFormat = (typeof FORMATS)[number];

export const QUALITIES = ['smart', 'smart_retina', 'normal', 'better', 'best', 'lighter', 'lightest'] as const;
export type Quality = (typeof QUALITIES)[number];

export const ROTATIONS = [0, 90, 180, 270] as const;
export type Rotation = (typeof ROTATIONS)[number];

export interface TransformState {
  /** `-/resize/`: either side alone keeps the aspect ratio. */
  resizeWidth: number | null;
  resizeHeight: number | null;
  /** `-/scale_crop/WxH/gravity/`: written only when both sides are set. */
  cropWidth: number | null;
  cropHeight: number | null;
  gravity: Gravity;
  /** Counterclockwise degrees, as Uploadcare counts them. */
  rotate: Rotation;
  flip: boolean;
  mirror: boolean;
  /** null: off. 0–100. */
  enhance: number | null;
  /** 0: unchanged. −100…100. */
  brightness: number;
  /** 0: unchanged. −100…500. */
  contrast: number;
  /** 0: unchanged. −100…500. */
  saturation: number;
  grayscale: boolean;
  invert: boolean;
  /** null: off. 0–20. */
  sharpen: number | null;
  /** null: off. 0–5000. */
  blur: number | null;
  /** null: the server's default (the original's format). */
  format: OutputFormat | null;
  quality: Quality | null;
  progressive: boolean;
}

export const DEFAULT_TRANSFORM: Readonly<TransformState> = Object.freeze({
  resizeWidth: null,
  resizeHeight: null,
  cropWidth: null,
  cropHeight: null,
  gravity: 'center',
  rotate: 0,
  flip: false,
  mirror: false,
  enhance: null,
  brightness: 0,
  contrast: 0,
  saturation: 0,
  grayscale: false,
  invert: false,
  sharpen: null,
  blur: null,
  format: null,
  quality: null,
  progressive: false,
});

export interface Limits {
  min: number;
  /** null: no upper bound the page knows of. */
  max: number | null;
}

/**
 * The fixed ranges of the URL parser (src/domain/transform/uploadcare-parser.ts). Sides are not
 * among them: their limit is the server's configuration, see `sideLimits`.
 */
export const LIMITS = {
  enhance: { min: 0, max: 100 },
  brightness: { min: -100, max: 100 },
  contrast: { min: -100, max: 500 },
  saturation: { min: -100, max: 500 },
  sharpen: { min: 0, max: 20 },
  blur: { min: 0, max: 5000 },
} as const;

/**
 * The sides a URL may ask for: up to the server's TROVE_MAX_OUTPUT_DIMENSION, which the page's boot
 * data carries. null (an older page): unbounded here, and the server's 400 explains its limit.
 */
export function sideLimits(maxOutputDimension: number | null): Limits {
  return { min: 1, max: maxOutputDimension };
}

const isSet = (value: number | null): value is number => value !== null && Number.isFinite(value);

/**
 * The operations in the order they apply: orientation first, so a crop box means what the user sees;
 * then crop and resize; colour before sharpening and blurring; output settings last.
 * Each entry is one directive like `-/resize/800x/`.
 */
export function transformOperations(state: TransformState): string[] {
  const ops: string[] = [];
  if (state.rotate !== 0) ops.push(`-/rotate/${state.rotate}/`);
  if (state.flip) ops.push('-/flip/');
  if (state.mirror) ops.push('-/mirror/');
  if (isSet(state.cropWidth) && isSet(state.cropHeight)) {
    ops.push(`-/scale_crop/${int(state.cropWidth)}x${int(state.cropHeight)}/${state.gravity}/`);
  }
  if (isSet(state.resizeWidth) || isSet(state.resizeHeight)) {
    const width = isSet(state.resizeWidth) ? String(int(state.resizeWidth)) : '';
    const height = isSet(state.resizeHeight) ? String(int(state.resizeHeight)) : '';
    ops.push(`-/resize/${width}x${height}/`);
  }
  if (isSet(state.enhance)) ops.push(`-/enhance/${int(state.enhance)}/`);
  if (isSet(state.brightness) && state.brightness !== 0) ops.push(`-/brightness/${int(state.brightness)}/`);
  if (isSet(state.contrast) && state.contrast !== 0) ops.push(`-/contrast/${int(state.contrast)}/`);
  if (isSet(state.saturation) && state.saturation !== 0) ops.push(`-/saturation/${int(state.saturation)}/`);
  if (state.grayscale) ops.push('-/grayscale/');
  if (state.invert) ops.push('-/invert/');
  if (isSet(state.sharpen)) ops.push(`-/sharp/${int(state.sharpen)}/`);
  if (isSet(state.blur)) ops.push(`-/blur/${int(state.blur)}/`);
  if (state.format !== null) ops.push(`-/format/${state.format}/`);
  if (state.quality !== null) ops.push(`-/quality/${state.quality}/`);
  if (state.progressive) ops.push('-/progressive/yes/');
  return ops;
}

/** `-/resize/800x/-/format/webp/`, or `''` when nothing is set. Ends with `/` whenever non-empty. */
function operationPath(state: TransformState): string {
  return transformOperations(state).join('');
}

/** `${cdnBase}/${uuid}/${operationPath}`: always ends with `/`. */
export function transformUrl(cdnBase: string, uuid: string, state: TransformState): string {
  return `${cdnBase.replace(/\/+$/, '')}/${uuid}/${operationPath(state)}`;
}

interface TransformIssue {
  field: keyof TransformState;
  message: string;
}

/**
 * Values the server will refuse or the builder leaves out; empty when the URL should work.
 * `maxOutputDimension`: the server's side limit (see `sideLimits`).
 */
export function transformIssues(state: TransformState, maxOutputDimension: number | null): TransformIssue[] {
  const issues: TransformIssue[] = [];
  const range = (field: keyof TransformState, label: string, value: number | null, limits: Limits) => {
    if (!isSet(value)) return;
    const whole = int(value);
    if (whole >= limits.min && (limits.max === null || whole <= limits.max)) return;
    issues.push({ field, message: limits.max === null ? `${label} must be at least ${limits.min}.` : `${label} must be from ${limits.min} to ${limits.max}.` });
  };
  const side = sideLimits(maxOutputDimension);
  range('resizeWidth', 'Width', state.resizeWidth, side);
  range('resizeHeight', 'Height', state.resizeHeight, side);
  range('cropWidth', 'Crop width', state.cropWidth, side);
  range('cropHeight', 'Crop height', state.cropHeight, side);
  if (isSet(state.cropWidth) !== isSet(state.cropHeight)) {
    issues.push({ field: isSet(state.cropWidth) ? 'cropHeight' : 'cropWidth', message: 'Crop needs both width and height.' });
  }
  range('enhance', 'Enhance', state.enhance, LIMITS.enhance);
  range('brightness', 'Brightness', state.brightness, LIMITS.brightness);
  range('contrast', 'Contrast', state.contrast, LIMITS.contrast);
  range('saturation', 'Saturation', state.saturation, LIMITS.saturation);
  range('sharpen', 'Sharpen', state.sharpen, LIMITS.sharpen);
  range('blur', 'Blur', state.blur, LIMITS.blur);
  return issues;
}

/** Truncates toward zero: URL parameters are whole numbers. */
function int(value: number): number {
  return Math.trunc(value);
}
