/**
 * ImageEngine on sharp/libvips.
 *
 * A transformation goes: header → limits → lowering (every size computed) → output/animation
 * limits → planning (primitives packed into as few sharp pipelines as sharp's fixed order allows)
 * → execution. A plan such as `resize + format + quality` is one sharp pipeline that reads the
 * source, so libvips shrinks JPEG/WebP while decoding, exactly like a bare sharp call.
 */

import sharp, { type SharpOptions } from 'sharp';
import { type InfoRequest, MAX_MAIN_COLORS, type Operation, type OutputFormat, type TransformPlan } from '../../domain/transform/operations.js';
import {
  EngineError,
  type EngineLimits,
  type EngineResult,
  type ImageEngine,
  type ImageProbe,
} from '../../ports/image-engine.js';
import { Deadline } from './deadline.js';
import {
  ALPHA_FORMATS,
  applyEncoder,
  applyMetadataPolicy,
  applyOutputColour,
  CONTENT_TYPES,
  type EncoderEfforts,
  FORMAT_MAX_SIDE,
} from './encoders.js';
import { engineCall } from './engine-errors.js';
import { FLIP, inverseOrientation, isUpright, MIRROR, type Orientation, orientedSize, orientRegion, pixelsOf, type Region, rotation, type Size, UPRIGHT } from './geometry.js';
import { describeImage } from './image-description.js';
import { mainColors } from './main-colors.js';
import { type IntermediateSettings, Intermediates } from './intermediates.js';
import { type FaceSet, scaleBoxes } from '../../domain/faces.js';
import { type LoweredPlan, lowerOperations, type OverlaySource } from './operation-lowering.js';
import { planSteps, type Step } from './pipeline-planner.js';
import { encoderQuality, isLossy, isSmartPreset, measureDetail } from './quality.js';
import { frameData, openRaw } from './raw-image.js';
import {
  ANIMATED_OUTPUTS,
  checkAnimationSourceLimits,
  checkSourceLimits,
  isAnimation,
  orientedSourceSize,
  probeOf,
  readSourceHeader,
  type SourceHeader,
} from './source-header.js';
import { type RunContext, StageRunner } from './stage-runner.js';

interface SharpImageEngineOptions {
  /**
   * AVIF encoder effort 0–9 (libaom speed 9 − effort). Default 1: on this 2-core machine an 800 px
   * AVIF takes ~35 ms at effort 0, ~50 ms at 1, ~100 ms at 2 and ~1.4 s at sharp's default 4 —
   * on-the-fly encoding needs the low end; 1 buys a little compression over 0 for ~1.4× the time.
   */
  avifEffort?: number;
  /**
   * WebP encoder effort (libwebp method) 0–6. Default 2: ~20 ms for an 800 px image against ~65 ms
   * at sharp's default 4 (methods 3+ switch on the slow rate-distortion search), sizes within a few %.
   */
  webpEffort?: number;
  /**
   * libvips threads per image (`sharp.concurrency`). Default 1: on 2 cores, one thread per image with
   * 2–4 images in flight gave the best throughput; more threads per image only added contention.
   */
  concurrency?: number;
  /** Decoded half-size copies of large originals, for responsive sets (off when absent). */
  intermediates?: IntermediateSettings;
}

interface TransformOptions {
  format: OutputFormat;
  overlays: ReadonlyMap<string, Buffer>;
  limits: EngineLimits;
  sourceKey?: string;
  faces?: FaceSet;
}

const DEFAULT_AVIF_EFFORT = 1;
const DEFAULT_WEBP_EFFORT = 2;
const DEFAULT_CONCURRENCY = 1;
/** `-/main_colors/` is computed on a thumbnail this size: plenty for a colour histogram. */
const MAIN_COLORS_THUMBNAIL = 112;

interface Prepared {
  header: SourceHeader;
  animated: boolean;
  /** One source frame after autorotation (the size lowering starts from). */
  startSize: Size;
  lowered: LoweredPlan;
  steps: Step[];
  sourceOptions: SharpOptions;
}

interface PrepareRequest {
  /** Known output format, or null when describing a plan whose format is still auto/preserve. */
  format: OutputFormat | null;
  overlays: ReadonlyMap<string, Buffer>;
  missingOverlay: 'error' | 'skip';
  limits: EngineLimits;
  faces?: FaceSet;
}

function integerIn(name: string, value: number, min: number, max: number): number {
  if (!Number.isInteger(value) || value < min || value > max) throw new RangeError(`${name} must be an integer from ${min} to ${max}`);
  return value;
}

export class SharpImageEngine implements ImageEngine {
  private readonly efforts: EncoderEfforts;
  private readonly intermediates: Intermediates;

  constructor(options: SharpImageEngineOptions = {}) {
    this.efforts = {
      avif: integerIn('avifEffort', options.avifEffort ?? DEFAULT_AVIF_EFFORT, 0, 9),
      webp: integerIn('webpEffort', options.webpEffort ?? DEFAULT_WEBP_EFFORT, 0, 6),
    };
    this.intermediates = new Intermediates(options.intermediates ?? { maxBytes: 0, minSourcePixels: 0 });
    // Process-wide libvips settings. Trove caches results itself, so libvips' operation cache would
    // only hold memory for repeats that never reach the engine.
    sharp.cache(false);
    sharp.concurrency(integerIn('concurrency', options.concurrency ?? DEFAULT_CONCURRENCY, 0, 1024));
  }

  async probe(source: Buffer, limits: EngineLimits): Promise<ImageProbe> {
    return engineCall('reading the image header', async () => probeOf(await readSourceHeader(source, limits)));
  }

  async transform(source: Buffer, plan: TransformPlan, options: TransformOptions): Promise<EngineResult> {
    const deadline = new Deadline(options.limits.timeoutMs);
    // engineCall: even a parameter sharp rejects synchronously surfaces as an EngineError.
    return engineCall('processing the image', () => deadline.guard(this.runTransform(source, plan, options, deadline)));
  }

  async describe(source: Buffer, plan: TransformPlan, info: InfoRequest, limits: EngineLimits, faces?: FaceSet): Promise<Record<string, unknown>> {
    const deadline = new Deadline(limits.timeoutMs);
    return engineCall('describing the image', () =>
      deadline.guard(info.kind === 'json' ? this.describeJson(source, plan, limits, faces) : this.mainColors(source, plan, info.count, limits, deadline, faces)),
    );
  }

  /** Decoded pixel bytes held for responsive sets now, and decodes made for them so far. */
  intermediateStats(): { bytes: number; decodes: number } {
    return this.intermediates.stats();
  }

  private async runTransform(source: Buffer, plan: TransformPlan, options: TransformOptions, deadline: Deadline): Promise<EngineResult> {
    const { format, limits } = options;
    const prepared = await this.prepare(source, plan.operations, plan, { format, overlays: options.overlays, missingOverlay: 'error', limits, faces: options.faces });
    deadline.check();
    const runner = new StageRunner(runContext(source, prepared, deadline, limits));
    const eligible = this.intermediates.plan({
      sourceKey: options.sourceKey,
      header: prepared.header,
      animated: prepared.animated,
      autorotate: prepared.sourceOptions.autoOrient === true,
      stripMeta: plan.output.stripMeta,
      startSize: prepared.startSize,
      steps: prepared.steps,
    });
    const intermediate = eligible !== null && this.intermediates.shouldUse(eligible) ? eligible : null;
    let { pipeline, fromSource } = intermediate === null
      ? await runner.prepareFinal(prepared.steps)
      : await runner.prepareFinal(
          intermediate.steps,
          await this.intermediates.obtain(intermediate.key, () => {
            const { width, height } = intermediate.size;
            return runner.materialise(runner.open({ kind: 'source' }).resize({ width, height, fit: 'fill' }), intermediate.size);
          }),
        );

    let quality: number | null = null;
    if (isLossy(format)) {
      if (isSmartPreset(plan.output.quality)) {
        // Smart quality looks at the pixels it encodes: materialise them, measure, encode from raw.
        const image = await runner.materialise(pipeline, prepared.lowered.size);
        const detail = measureDetail(frameData(image, 0), image.width, image.frameHeight, image.channels);
        quality = encoderQuality(plan.output.quality, format, { detail, pixels: image.width * image.frameHeight });
        pipeline = openRaw(image);
        fromSource = false;
      } else {
        quality = encoderQuality(plan.output.quality, format, null);
      }
    }

    const { lowered, header, animated } = prepared;
    pipeline = applyOutputColour(pipeline, lowered.grey, lowered.opaque);
    pipeline = applyMetadataPolicy(pipeline, { stripMeta: plan.output.stripMeta, sourceProfile: header.profile, fromSource, grey: lowered.grey });
    const timing = animated ? { delay: header.metadata.delay, loop: header.metadata.loop } : null;
    pipeline = applyEncoder(pipeline, format, quality, plan.output, timing, this.efforts);
    const encoder = pipeline;
    const data = await engineCall(`encoding ${format}`, () => encoder.timeout({ seconds: deadline.sharpSeconds() }).toBuffer());
    // The planned size, not sharp's info: info reports the extract size when an extend follows a
    // post-resize extract (sharp 0.35). The planned sizes are checked against decoded output in tests.
    return { data, format, contentType: CONTENT_TYPES[format], width: lowered.size.width, height: lowered.size.height };
  }

  private async describeJson(source: Buffer, plan: TransformPlan, limits: EngineLimits, faces?: FaceSet): Promise<Record<string, unknown>> {
    const explicit = plan.output.format === 'auto' || plan.output.format === 'preserve' ? null : plan.output.format;
    const prepared = await this.prepare(source, plan.operations, plan, { format: explicit, overlays: new Map(), missingOverlay: 'skip', limits, faces });
    return describeImage({
      header: prepared.header,
      plan,
      lowered: prepared.lowered,
      alpha: explicit === null || ALPHA_FORMATS.has(explicit),
      animated: explicit === null ? isAnimation(prepared.header) : prepared.animated,
    });
  }

  private async mainColors(
    source: Buffer,
    plan: TransformPlan,
    count: number,
    limits: EngineLimits,
    deadline: Deadline,
    faces?: FaceSet,
  ): Promise<Record<string, unknown>> {
    if (!Number.isInteger(count) || count < 1 || count > MAX_MAIN_COLORS) {
      throw new EngineError('INVALID_OPERATION', `main_colors: ${count} colours asked for; from 1 to ${MAX_MAIN_COLORS} can be listed`);
    }
    // The colours of the transformed image, measured on a thumbnail of it (one more resize, fused
    // with the plan's own when it ends with one; with no operations it shrinks on load).
    const operations: Operation[] = [...plan.operations, { op: 'preview', width: MAIN_COLORS_THUMBNAIL, height: MAIN_COLORS_THUMBNAIL }];
    const prepared = await this.prepare(source, operations, plan, { format: null, overlays: new Map(), missingOverlay: 'skip', limits, faces });
    const runner = new StageRunner(runContext(source, prepared, deadline, limits));
    const { pipeline } = await runner.prepareFinal(prepared.steps);
    const image = await runner.materialise(pipeline, prepared.lowered.size);
    return { main_colors: mainColors({ ...image, data: frameData(image, 0), pages: 1 }, count) };
  }

  private async prepare(source: Buffer, operations: readonly Operation[], plan: TransformPlan, request: PrepareRequest): Promise<Prepared> {
    const { format, limits } = request;
    const header = await readSourceHeader(source, limits);
    checkSourceLimits(header, limits);
    const animated = format !== null && isAnimation(header) && ANIMATED_OUTPUTS.has(format);
    if (animated) checkAnimationSourceLimits(header, limits);
    // EXIF rotation of an animation would need per-frame turns; animations essentially never carry it.
    const autorotate = plan.output.autorotate && !animated;
    const startSize = orientedSourceSize(header, autorotate);
    const overlays = await loadOverlays(operations, request.overlays, source, limits, request.missingOverlay);

    const lowered = lowerOperations(operations, {
      sourceSize: startSize,
      sourceHasAlpha: header.hasAlpha,
      sourceGrey: header.grey,
      animated,
      outputHasAlpha: format === null || ALPHA_FORMATS.has(format),
      outputBackground: plan.output.background,
      overlays,
      missingOverlay: request.missingOverlay,
      faces: request.faces ? facesInSource(request.faces, header.orientation, autorotate, startSize) : [],
    });
    const steps = planSteps(lowered.primitives, startSize, animated, header.grey);
    checkOutputLimits(lowered.size, format, limits);
    checkIntermediateLimits(steps, lowered.size, header, limits, animated);

    const pages = animated ? header.pages : 1;
    const sourceOptions: SharpOptions = {
      // Reject broken data, but not the harmless warnings many real-world JPEGs raise.
      failOn: 'error',
      // libvips' own guard against a header that lies about its size (it counts all loaded frames).
      limitInputPixels: animated && limits.maxAnimationSourcePixels !== undefined
        ? Math.min(limits.maxSourcePixels * pages, limits.maxAnimationSourcePixels)
        : limits.maxSourcePixels * pages,
      autoOrient: autorotate,
      ...(animated ? { animated: true } : {}),
    };
    return { header, animated, startSize, lowered, steps, sourceOptions };
  }
}

function runContext(source: Buffer, prepared: Prepared, deadline: Deadline, limits: EngineLimits): RunContext {
  return {
    source,
    sourceOptions: prepared.sourceOptions,
    sourceSize: prepared.startSize,
    pages: prepared.animated ? prepared.header.pages : 1,
    deadline,
    maxSourcePixels: limits.maxSourcePixels,
  };
}

async function loadOverlays(
  operations: readonly Operation[],
  buffers: ReadonlyMap<string, Buffer>,
  source: Buffer,
  limits: EngineLimits,
  missing: 'error' | 'skip',
): Promise<Map<string, OverlaySource>> {
  const overlays = new Map<string, OverlaySource>();
  for (const operation of operations) {
    if (operation.op !== 'overlay' || overlays.has(operation.source)) continue;
    const data = buffers.get(operation.source) ?? (operation.source === 'self' ? source : undefined);
    if (data === undefined) {
      if (missing === 'skip') continue;
      throw new EngineError('INVALID_OPERATION', `overlay source ${operation.source} was not loaded`);
    }
    // Decoded as a still (its first frame), but its header read is bounded like the source's.
    const header = await readSourceHeader(data, limits);
    const pixels = header.width * header.frameHeight;
    if (pixels > limits.maxSourcePixels) {
      throw new EngineError(
        'SOURCE_TOO_LARGE',
        `overlay ${operation.source} is ${header.width}×${header.frameHeight} = ${pixels} pixels, more than the ${limits.maxSourcePixels} allowed`,
      );
    }
    overlays.set(operation.source, { data, size: orientedSourceSize(header, true) });
  }
  return overlays;
}

function checkOutputLimits(size: Size, format: OutputFormat | null, limits: EngineLimits): void {
  const longest = Math.max(size.width, size.height);
  if (longest > limits.maxOutputDimension) {
    throw new EngineError(
      'OUTPUT_TOO_LARGE',
      `the result would be ${size.width}×${size.height}, larger than the ${limits.maxOutputDimension} px allowed per side`,
    );
  }
  if (format !== null && longest > FORMAT_MAX_SIDE[format]) {
    throw new EngineError('OUTPUT_TOO_LARGE', `${format} images cannot be larger than ${FORMAT_MAX_SIDE[format]} px per side (result: ${size.width}×${size.height})`);
  }
}

/**
 * Images held in memory between pipelines must stay within the source budget (pixels) and within the
 * larger of the output limit and the source's own sides; animations must fit the animation budget
 * at every size that is materialised or output (frames × pixels per frame).
 */
function checkIntermediateLimits(steps: readonly Step[], outputSize: Size, header: SourceHeader, limits: EngineLimits, animated: boolean): void {
  const materialised: Size[] = [outputSize];
  steps.forEach((step, index) => {
    const last = index === steps.length - 1;
    if (step.kind === 'pixels') materialised.push(step.size);
    else {
      if (step.perFrame) materialised.push(step.inputSize);
      if (!last || step.perFrame) materialised.push(step.outputSize);
    }
  });
  const maxSide = Math.max(limits.maxOutputDimension, header.width, header.frameHeight);
  for (const size of materialised) {
    if (pixelsOf(size) > limits.maxSourcePixels || Math.max(size.width, size.height) > maxSide) {
      throw new EngineError(
        'OUTPUT_TOO_LARGE',
        `an intermediate image of ${size.width}×${size.height} would exceed the limits (${limits.maxSourcePixels} pixels, ${maxSide} px per side)`,
      );
    }
  }
  if (animated) {
    const largestFrame = Math.max(...materialised.map(pixelsOf));
    const total = header.pages * largestFrame;
    if (total > limits.maxAnimationPixels) {
      throw new EngineError(
        'ANIMATION_TOO_LARGE',
        `the animation has ${header.pages} frames of up to ${largestFrame} pixels = ${total} pixels, more than the ${limits.maxAnimationPixels} allowed`,
      );
    }
  }
}

/** EXIF orientation → how the stored pixels are turned to be shown (mirror first, then clockwise quarter turns). */
const EXIF_ORIENTATIONS: readonly Orientation[] = [
  UPRIGHT,
  UPRIGHT,
  MIRROR,
  rotation(2),
  FLIP,
  { mirrored: true, quarterTurns: 3 },
  rotation(1),
  { mirrored: true, quarterTurns: 1 },
  rotation(3),
];

/**
 * Faces are stored in the shown (oriented) frame. Lowering starts from the source as it is read:
 * the same frame with autorotation, else the stored pixels, which the inverse orientation gives.
 */
function facesInSource(faces: FaceSet, exifOrientation: number, autorotate: boolean, startSize: Size): Region[] {
  const shown = EXIF_ORIENTATIONS[exifOrientation] ?? UPRIGHT;
  if (autorotate || isUpright(shown)) return scaleBoxes(faces.faces, faces.frame, startSize);
  const shownSize = orientedSize(startSize, shown);
  const inShown = scaleBoxes(faces.faces, faces.frame, shownSize);
  return inShown.map((face) => orientRegion(face, shownSize, inverseOrientation(shown)));
}
