/**
 * Canonical image transformations. Every URL dialect (Uploadcare's `-/op/params/` now, Cloudinary's
 * later) parses into a TransformPlan; the engine executes plans and knows no URL grammar. Plans are
 * normalised (defaults filled in, settings folded into the operations that use them, no-ops dropped)
 * so that equivalent URLs produce byte-identical plans, and therefore one cache key.
 */

import type { CropObject, ObjectRegion } from '../faces.js';

/** sRGB colour with alpha, each channel 0–255. */
export interface Rgba {
  r: number;
  g: number;
  b: number;
  alpha: number;
}

/** A length in pixels, or a percentage (0–100, may be fractional) of a reference dimension. */
export type Length = { unit: 'px'; value: number } | { unit: 'percent'; value: number };

export type HorizontalEdge = 'left' | 'center' | 'right';
export type VerticalEdge = 'top' | 'center' | 'bottom';

/** Where a crop or an overlay is anchored. */
export type Placement =
  /** Aligned to an edge or the centre, e.g. top-left. */
  | { type: 'align'; x: HorizontalEdge; y: VerticalEdge }
  /** A point given as lengths from the top-left corner (px or percent of the image). For crops the point is the region's top-left corner; for scale_crop focal points it is the point kept in view. */
  | { type: 'point'; x: Length; y: Length }
  /**
   * Content-aware, see `mode`: detected faces first for `smart`, `smart_faces`, `smart_faces_objects`
   * and `smart_objects_faces`, then the most salient region (libvips attention stands in for objects).
   */
  | { type: 'smart'; mode: 'smart' | 'smart_faces' | 'smart_objects' | 'smart_faces_objects' | 'smart_objects_faces' | 'smart_points' };

/** What a resize does when the requested size is larger than the image (Uploadcare `stretch`). */
export type UpscaleMode = 'on' | 'off' | 'fill';

export type Operation =
  /** Downscale to fit inside the box, keeping proportions; never enlarges. */
  | { op: 'preview'; width: number; height: number }
  /**
   * Resize. With one side null the other follows proportionally; with both set the image is resized
   * to exactly that size (proportions may change). `upscale` is the stretch mode in force; `fill`
   * means: do not enlarge, centre the image on `background` at the requested size.
   */
  | { op: 'resize'; width: number | null; height: number | null; upscale: UpscaleMode; background: Rgba }
  /** Fit inside the box keeping proportions, then fill the rest of the box so it has exactly that size. */
  | { op: 'smart_resize'; width: number; height: number; background: Rgba }
  /** Scale to cover the box, then crop to exactly the box around `placement` (align, point or smart). */
  | { op: 'scale_crop'; width: number; height: number; placement: Placement; upscale: UpscaleMode; background: Rgba }
  /** Cut a region out. Size in px or percent of the current image; position by placement. Clamped to the image. */
  | { op: 'crop'; width: Length; height: Length; placement: Placement; background: Rgba }
  /** Cut the largest region of the given aspect ratio (width:height) out, anchored by placement. */
  | { op: 'crop_ratio'; ratioWidth: number; ratioHeight: number; placement: Placement }
  /**
   * Cut the region around a detected object out (Uploadcare `-/crop/face/…`): the largest face, all
   * faces, or the whole image. Without a face the image is kept whole.
   */
  | { op: 'crop_object'; object: CropObject; region: ObjectRegion }
  /** Clockwise rotation by a multiple of 90 degrees (1–3 quarter turns; 0 is dropped). */
  | { op: 'rotate'; quarterTurns: 1 | 2 | 3 }
  /** Mirror top-to-bottom. */
  | { op: 'flip' }
  /** Mirror left-to-right. */
  | { op: 'mirror' }
  | { op: 'grayscale' }
  | { op: 'invert' }
  /** Gaussian blur; strength is Uploadcare's 0–5000 scale. */
  | { op: 'blur'; strength: number }
  /** Uploadcare's blur with amount: unsharp masking when amount > 0, blur when < 0. */
  | { op: 'unsharp'; strength: number; amount: number }
  /** Blur a rectangle (px or percent of the image). */
  | { op: 'blur_region'; width: Length; height: Length; x: Length; y: Length; strength: number }
  /** Blur every detected face (Uploadcare `-/blur_region/faces/`); strength on the blur scale. */
  | { op: 'blur_faces'; strength: number }
  /** Sharpen, Uploadcare's 0–20 scale. */
  | { op: 'sharpen'; strength: number }
  /** Auto-levels and colour boost, 0–100. */
  | { op: 'enhance'; strength: number }
  /** Colour adjustments on Uploadcare's scales (0 = unchanged, so never present with value 0). */
  | { op: 'brightness'; value: number }
  | { op: 'exposure'; value: number }
  | { op: 'contrast'; value: number }
  | { op: 'saturation'; value: number }
  | { op: 'vibrance'; value: number }
  | { op: 'warmth'; value: number }
  /** Rounded corners, radii per corner (top-left, top-right, bottom-right, bottom-left); percent of the shorter side. */
  | { op: 'border_radius'; radii: [Length, Length, Length, Length]; background: Rgba }
  /**
   * Composite another image on top. `source` is a file uuid of the same project or 'self' (the
   * original of this file). Size is relative to the current image; placement positions it; opacity 0–100.
   */
  | { op: 'overlay'; source: string | 'self'; width: Length | null; height: Length | null; placement: Placement; opacity: number };

export type OutputFormat = 'jpeg' | 'png' | 'webp' | 'avif' | 'gif';

export type QualityPreset = 'normal' | 'better' | 'best' | 'lighter' | 'lightest' | 'smart' | 'smart_retina';

export interface OutputSettings {
  /** `auto`: negotiated from Accept; `preserve`: the source's format when it can be encoded, else auto rules. */
  format: OutputFormat | 'auto' | 'preserve';
  quality: QualityPreset;
  progressive: boolean;
  /** Apply EXIF orientation before anything else (on by default). */
  autorotate: boolean;
  /** `sensitive` drops GPS and other identifying EXIF but keeps the colour profile. */
  stripMeta: 'all' | 'none' | 'sensitive';
  /** Colour used to flatten transparency for formats without alpha (JPEG), from `setfill`. */
  background: Rgba;
}

/** What the URL asks for instead of an image. */
export type InfoRequest = { kind: 'json' } | { kind: 'main_colors'; count: number };

/**
 * Most colours `main_colors` lists (Uploadcare documents no maximum): more clusters describe noise,
 * not main colours, and cost k-means time. URL parsers refuse more; the engine refuses more too.
 */
export const MAX_MAIN_COLORS = 32;

export interface TransformPlan {
  operations: Operation[];
  output: OutputSettings;
  info: InfoRequest | null;
}

/** A parsed delivery URL: the plan plus the parts that only shape the HTTP answer. */
export interface DeliveryPlan {
  plan: TransformPlan;
  inline: boolean | null;
  filename: string | null;
  /** True when the URL had image operations (or format/quality); false: serve the original as it is. */
  transforms: boolean;
}

export const DEFAULT_BACKGROUND: Rgba = { r: 255, g: 255, b: 255, alpha: 255 };

export const DEFAULT_OUTPUT: OutputSettings = {
  format: 'auto',
  quality: 'normal',
  progressive: false,
  autorotate: true,
  stripMeta: 'sensitive',
  background: DEFAULT_BACKGROUND,
};

/** Operations that change geometry (size, crop, rotation): only they may make a result larger than its original and still be served. */
export const GEOMETRIC_OPERATIONS: ReadonlySet<Operation['op']> = new Set([
  'preview',
  'resize',
  'smart_resize',
  'scale_crop',
  'crop',
  'crop_ratio',
  'crop_object',
  'rotate',
  'flip',
  'mirror',
]);

/**
 * Operations that hide part of the image: their result is served even when it has more bytes than
 * the original (serving the original would show what was asked to be hidden).
 */
export const CONCEALING_OPERATIONS: ReadonlySet<Operation['op']> = new Set(['blur', 'blur_region', 'blur_faces']);

/** Smart modes that look for faces before anything else. */
const FACE_FIRST_MODES: ReadonlySet<string> = new Set(['smart', 'smart_faces', 'smart_faces_objects', 'smart_objects_faces']);

export function placementUsesFaces(placement: Placement): boolean {
  return placement.type === 'smart' && FACE_FIRST_MODES.has(placement.mode);
}

/** Whether running the plan needs the file's face detection (read once before the job runs). */
export function planUsesFaces(plan: TransformPlan): boolean {
  return plan.operations.some((operation) => {
    switch (operation.op) {
      case 'crop_object':
        return operation.object !== 'image';
      case 'blur_faces':
        return true;
      case 'scale_crop':
      case 'crop':
      case 'crop_ratio':
        return placementUsesFaces(operation.placement);
      default:
        return false;
    }
  });
}

/** Operations that cannot run without a face detection (the smart placements fall back instead). */
export function planRequiresFaces(plan: TransformPlan): boolean {
  return plan.operations.some((operation) => operation.op === 'blur_faces' || (operation.op === 'crop_object' && operation.object !== 'image'));
}
