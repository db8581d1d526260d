/**
 * Executes planned steps: every sharp stage but the last is materialised as raw pixels (one copy of
 * the intermediate image), pixel passes run on those, and the last stage is handed back unexecuted
 * so the caller adds the output settings to that same pipeline. A plan that packs into one stage
 * therefore runs as exactly one sharp pipeline reading the source — the fast path.
 */

import sharp, { type OverlayOptions, type Sharp, type SharpOptions } from 'sharp';
import { sharpColour } from './colours.js';
import type { Deadline } from './deadline.js';
import { engineCall } from './engine-errors.js';
import type { Orientation, Size } from './geometry.js';
import { renderLayers } from './layers.js';
import type { SharpStage, Step } from './pipeline-planner.js';
import { runPixelPass } from './pixel-passes.js';
import { asColour, frameData, fromOutput, joinFrames, openRaw, type RawImage, singleFrame } from './raw-image.js';

export interface RunContext {
  source: Buffer;
  /** How to open the source (failOn, pixel limit, pages, autorotation). */
  sourceOptions: SharpOptions;
  /** One frame of the source once opened (after autorotation). */
  sourceSize: Size;
  /** Frames the source is opened with (1 unless the animation is kept). */
  pages: number;
  deadline: Deadline;
  maxSourcePixels: number;
}

/** The last stage, built but not run: the caller appends colour, metadata and encoder settings. */
interface FinalPipeline {
  pipeline: Sharp;
  /** The pipeline reads the source file (its metadata is available to keep). */
  fromSource: boolean;
}

type StageInput = { kind: 'source' } | { kind: 'raw'; image: RawImage };

export class StageRunner {
  constructor(private readonly context: RunContext) {}

  /** `start`: decoded pixels the first step reads instead of the source (an intermediate). */
  async prepareFinal(steps: readonly Step[], start?: RawImage): Promise<FinalPipeline> {
    let input: StageInput = start === undefined ? { kind: 'source' } : { kind: 'raw', image: start };
    for (let index = 0; index < steps.length; index += 1) {
      this.context.deadline.check();
      const step = steps[index]!;
      const last = index === steps.length - 1;
      if (step.kind === 'pixels') {
        const image = await this.materialiseInput(input);
        input = { kind: 'raw', image: await runPixelPass(image, step.pass, this.context.deadline) };
        continue;
      }
      if (step.perFrame) {
        input = { kind: 'raw', image: await this.runPerFrame(await this.materialiseInput(input), step) };
        continue;
      }
      const layers = await renderLayers(step.layers, this.context);
      const pipeline = applyStage(this.open(input), step, layers);
      if (last) return { pipeline, fromSource: input.kind === 'source' };
      input = { kind: 'raw', image: await this.materialise(pipeline, step.outputSize) };
    }
    // The plan ended with a pixel pass or a per-frame stage: encode what it produced.
    return { pipeline: this.open(input), fromSource: input.kind === 'source' };
  }

  /** Runs a pipeline whose frames are `frame` large to 8-bit RGB(A) raw pixels. */
  async materialise(pipeline: Sharp, frame: Size, pages = this.context.pages): Promise<RawImage> {
    const { data, info } = await engineCall('processing the image', () =>
      pipeline
        .timeout({ seconds: this.context.deadline.sharpSeconds() })
        .toColourspace('srgb')
        .raw({ depth: 'uchar' })
        .toBuffer({ resolveWithObject: true }),
    );
    return asColour(fromOutput(data, info, frame, pages));
  }

  open(input: StageInput): Sharp {
    return input.kind === 'source' ? sharp(this.context.source, this.context.sourceOptions) : openRaw(input.image);
  }

  private async materialiseInput(input: StageInput): Promise<RawImage> {
    return input.kind === 'raw' ? input.image : this.materialise(this.open(input), this.context.sourceSize);
  }

  /** Applies a stage to each frame separately (animations with operations that would cross frames). */
  private async runPerFrame(image: RawImage, stage: SharpStage): Promise<RawImage> {
    const layers = await renderLayers(stage.layers, this.context);
    const frames: RawImage[] = [];
    for (let index = 0; index < image.pages; index += 1) {
      this.context.deadline.check();
      const frame = singleFrame(frameData(image, index), image.width, image.frameHeight, image.channels);
      frames.push(await this.materialise(applyStage(openRaw(frame), stage, layers), stage.outputSize, 1));
    }
    return joinFrames(frames);
  }
}

/**
 * Calls sharp's methods for one stage. Call order matters to sharp in exactly two ways, both used
 * on purpose: a rotation called before resize()/extract() happens before them ("rotate-before"), one
 * called after resize() happens after it; and extract() before resize() crops before resizing, after
 * resize() crops after it.
 */
function applyStage(input: Sharp, stage: SharpStage, layers: OverlayOptions[]): Sharp {
  let pipeline = input;
  if (stage.flatten !== null) pipeline = pipeline.flatten({ background: sharpColour(stage.flatten) });
  if (stage.greyscale) pipeline = pipeline.greyscale();
  if (stage.orientBefore !== null) pipeline = orientBefore(pipeline, stage.orientBefore);
  if (stage.preExtract !== null) pipeline = pipeline.extract(stage.preExtract);

  const { resize } = stage;
  if (resize?.kind === 'exact') {
    // Both sides with `fill`, always: sharp derives a missing side after shrink-on-load from the
    // shrunk (rounded-up) size, which can differ by a pixel from the proportion computed here.
    pipeline = pipeline.resize({ width: resize.size.width, height: resize.size.height, fit: 'fill' });
  } else if (resize?.kind === 'attention') {
    pipeline = pipeline.resize({
      width: resize.size.width,
      height: resize.size.height,
      fit: 'cover',
      position: sharp.strategy.attention,
      // Without scaling, cover must not shrink: the crop alone is wanted.
      withoutReduction: !resize.scale,
    });
  } else if (stage.orientPost !== null || stage.postExtract !== null) {
    // A resize to the current size costs nothing (libvips skips it) but puts the rotation and the
    // extract that follow in sharp's post-resize positions.
    const { width, height } = stage.sizeBeforeResize;
    pipeline = pipeline.resize({ width, height, fit: 'fill' });
  }
  if (stage.orientPost !== null) pipeline = orientPost(pipeline, stage.orientPost);
  if (stage.postExtract !== null) pipeline = pipeline.extract(stage.postExtract);
  if (stage.extend !== null) {
    const { padding, background } = stage.extend;
    pipeline = pipeline.extend({ ...padding, background: sharpColour(background) });
  }
  if (stage.blurSigma !== null) pipeline = pipeline.blur(stage.blurSigma);
  if (stage.recomb !== null) pipeline = pipeline.recomb(stage.recomb);
  if (stage.saturation !== null) pipeline = pipeline.modulate({ saturation: stage.saturation });
  if (stage.sharpen !== null) {
    const { sigma, flat, jagged } = stage.sharpen;
    pipeline = pipeline.sharpen({ sigma, m1: flat, m2: jagged });
  }
  if (layers.length > 0) pipeline = pipeline.composite(layers);
  if (stage.linear !== null) pipeline = pipeline.linear(stage.linear.multiply, stage.linear.add);
  if (stage.negate) pipeline = pipeline.negate({ alpha: false });
  return pipeline;
}

/**
 * Rotate-before: sharp runs flip, flop, then the rotation, before extract and resize — but only when
 * an angle is set, so a pure mirror is written as flip + half turn (= mirror left-right).
 */
function orientBefore(pipeline: Sharp, orientation: Orientation): Sharp {
  if (orientation.quarterTurns === 0) return orientation.mirrored ? pipeline.flip().rotate(180) : pipeline;
  return pipeline.flop(orientation.mirrored).rotate(orientation.quarterTurns * 90);
}

/** Post-resize: flop then the rotation (also right for animations when there is no rotation). */
function orientPost(pipeline: Sharp, orientation: Orientation): Sharp {
  const mirrored = pipeline.flop(orientation.mirrored);
  return orientation.quarterTurns === 0 ? mirrored : mirrored.rotate(orientation.quarterTurns * 90);
}
