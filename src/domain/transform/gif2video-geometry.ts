/**
 * The frames' geometry of a gif2video plan: its size operations turned into scale and crop steps
 * in whole pixels, from the GIF's size alone, before a frame is decoded. Nothing here enlarges the
 * picture beyond what it is when the step runs, so the result is never larger than the GIF.
 */
import { even } from '../video-conversion.js';
import type { FramePlacement, Gif2VideoOperation } from './gif2video.js';
import type { HorizontalEdge, Length, VerticalEdge } from './operations.js';

interface FrameSize {
  width: number;
  height: number;
}

export type FrameStep =
  | { kind: 'scale'; width: number; height: number }
  | { kind: 'crop'; width: number; height: number; left: number; top: number };

interface FrameGeometry {
  /** In order; empty when the operations leave the frames as decoded. */
  steps: FrameStep[];
  /** The video's size: even sides (H.264 and VP9 in 4:2:0 need them), at least 2. */
  width: number;
  height: number;
}

/**
 * The steps for `operations` on frames of `source`. When there are steps, the last one gives even
 * sides; without steps the frames keep their size, rounded down to even by the encoder's filter.
 */
export function gif2videoGeometry(source: FrameSize, operations: readonly Gif2VideoOperation[]): FrameGeometry {
  const steps: FrameStep[] = [];
  let size: FrameSize = { width: source.width, height: source.height };
  const scaleTo = (target: FrameSize): void => {
    if (target.width === size.width && target.height === size.height) return;
    steps.push({ kind: 'scale', width: target.width, height: target.height });
    size = target;
  };
  const cropTo = (region: { width: number; height: number; left: number; top: number }): void => {
    if (region.width === size.width && region.height === size.height) return;
    steps.push({ kind: 'crop', ...region });
    size = { width: region.width, height: region.height };
  };

  for (const operation of operations) {
    switch (operation.op) {
      case 'preview':
        if (size.width > operation.width || size.height > operation.height) scaleTo(fitInside(size, operation));
        break;
      case 'resize':
        scaleTo(resized(size, operation.width, operation.height));
        break;
      case 'crop':
        cropTo(cropRegion(size, operation.width, operation.height, operation.placement));
        break;
      case 'scale_crop':
        scaleCrop(size, operation, scaleTo, cropTo);
        break;
    }
  }

  const output = { width: even(size.width), height: even(size.height) };
  if (steps.length > 0 && (output.width !== size.width || output.height !== size.height)) {
    const last = steps[steps.length - 1]!;
    // A last scale takes the even size itself; after a crop, one more scale rounds the sides down.
    if (last.kind === 'scale') steps[steps.length - 1] = { kind: 'scale', ...output };
    else steps.push({ kind: 'scale', ...output });
  }
  return { steps, width: steps.length > 0 ? output.width : even(source.width), height: steps.length > 0 ? output.height : even(source.height) };
}

/** A computed side: rounded, never below one pixel. */
function side(value: number): number {
  return Math.max(1, Math.round(value));
}

function clamp(value: number, min: number, max: number): number {
  return Math.min(max, Math.max(min, value));
}

/** Largest size of `size`'s proportions inside `box` (ratios compared by cross-multiplication, free of rounding noise). */
function fitInside(size: FrameSize, box: FrameSize): FrameSize {
  if (size.width * box.height >= size.height * box.width) return { width: box.width, height: side((size.height * box.width) / size.width) };
  return { width: side((size.width * box.height) / size.height), height: box.height };
}

/** Smallest size of `size`'s proportions covering `box`. */
function coverBox(size: FrameSize, box: FrameSize): FrameSize {
  if (size.width * box.height >= size.height * box.width) return { width: Math.max(box.width, side((size.width * box.height) / size.height)), height: box.height };
  return { width: box.width, height: Math.max(box.height, side((size.height * box.width) / size.width)) };
}

/**
 * The requested size, each axis held to the current one (an image resize under `stretch/off`): with
 * one side given both axes grow together, so a larger request leaves the frame as it is.
 */
function resized(size: FrameSize, width: number | null, height: number | null): FrameSize {
  let target: FrameSize;
  if (width !== null && height !== null) target = { width, height };
  else if (width !== null) target = { width, height: side((size.height * width) / size.width) };
  else if (height !== null) target = { width: side((size.width * height) / size.height), height };
  else return size;
  return { width: Math.min(target.width, size.width), height: Math.min(target.height, size.height) };
}

function alignOffset(outer: number, inner: number, edge: HorizontalEdge | VerticalEdge): number {
  if (edge === 'left' || edge === 'top') return 0;
  if (edge === 'right' || edge === 'bottom') return outer - inner;
  return Math.floor((outer - inner) / 2);
}

function pixels(length: Length, reference: number): number {
  return length.unit === 'px' ? length.value : (length.value * reference) / 100;
}

/** A region within the frame: a side larger than the frame keeps the whole side (there is no fill). */
function cropRegion(size: FrameSize, width: Length, height: Length, placement: FramePlacement): { width: number; height: number; left: number; top: number } {
  const horizontal = cropAxis(size.width, side(pixels(width, size.width)), placement.type === 'align' ? placement.x : Math.round(pixels(placement.x, size.width)));
  const vertical = cropAxis(size.height, side(pixels(height, size.height)), placement.type === 'align' ? placement.y : Math.round(pixels(placement.y, size.height)));
  return { width: horizontal.length, height: vertical.length, left: horizontal.start, top: vertical.start };
}

function cropAxis(frame: number, wanted: number, anchor: number | HorizontalEdge | VerticalEdge): { start: number; length: number } {
  if (wanted <= frame) {
    return { start: typeof anchor === 'number' ? clamp(anchor, 0, frame - wanted) : alignOffset(frame, wanted, anchor), length: wanted };
  }
  // Larger than the frame: from an offset, the rest of the side; at an alignment, all of it.
  const start = typeof anchor === 'number' ? clamp(anchor, 0, frame - 1) : 0;
  return { start, length: frame - start };
}

/**
 * Cover the box, then cut it at the placement (a point is kept as near the middle as the edges
 * allow). When covering would enlarge, the frame is not scaled: the cut is the largest region of
 * the box's proportions, so the video keeps the asked shape at a smaller size.
 */
function scaleCrop(
  size: FrameSize,
  operation: { width: number; height: number; placement: FramePlacement },
  scaleTo: (target: FrameSize) => void,
  cropTo: (region: { width: number; height: number; left: number; top: number }) => void,
): void {
  const cover = coverBox(size, operation);
  const enlarges = cover.width > size.width || cover.height > size.height;
  const scaled = enlarges ? size : cover;
  const crop = enlarges ? fitInside(operation, size) : { width: operation.width, height: operation.height };
  scaleTo(scaled);
  const { placement } = operation;
  let left: number;
  let top: number;
  if (placement.type === 'align') {
    left = alignOffset(scaled.width, crop.width, placement.x);
    top = alignOffset(scaled.height, crop.height, placement.y);
  } else {
    const x = (pixels(placement.x, size.width) * scaled.width) / size.width;
    const y = (pixels(placement.y, size.height) * scaled.height) / size.height;
    left = clamp(Math.round(x - crop.width / 2), 0, scaled.width - crop.width);
    top = clamp(Math.round(y - crop.height / 2), 0, scaled.height - crop.height);
  }
  cropTo({ width: crop.width, height: crop.height, left, top });
}
