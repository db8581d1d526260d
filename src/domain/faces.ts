/**
 * Faces found in an image, and the geometry of the operations built on them (`-/crop/face/`,
 * `-/blur_region/faces/`, smart crops). Pure: boxes in, boxes out.
 *
 * Boxes are in pixels of the image as it is shown: after its EXIF orientation is applied, at its
 * full size. A detection is made once per file and stored; every transformation reads it.
 */

/** A rectangle in whole pixels, top-left corner first. */
export interface Box {
  left: number;
  top: number;
  width: number;
  height: number;
}

export interface Dimensions {
  width: number;
  height: number;
}

/** What a detection found, in the frame it was made in (the oriented original). */
export interface FaceSet {
  frame: Dimensions;
  faces: Box[];
}

/** The detectors Trove can run; `off` runs none. */
export const FACE_MODELS = ['ssd', 'tiny', 'off'] as const;
export type FaceModel = (typeof FACE_MODELS)[number];

/**
 * Changes whenever the same pixels would give other boxes (model, thresholds, decode size), so a
 * stored detection of another version is made again on its next use.
 */
export function faceDetectionVersion(model: Exclude<FaceModel, 'off'>): string {
  return `${model}-1`;
}

/** A detection's stored outcome: the faces, or why the image could not be analysed. */
export type StoredFaces =
  | { status: 'done'; version: string; frame: Dimensions; faces: Box[] }
  | { status: 'failed'; version: string; reason: string };

/**
 * `-/crop/:tag/…`: what the crop is built around. `face` is the largest face, `faces` every face,
 * `image` the whole image.
 */
export type CropObject = 'face' | 'faces' | 'image';

/** Where the object sits inside a crop region larger than it. */
export type ObjectAlignment = { x: 'left' | 'center' | 'right'; y: 'top' | 'center' | 'bottom' };

/** A side of the region around the object: pixels, or percent of the object's side. */
export type ObjectLength = { unit: 'px'; value: number } | { unit: 'percent'; value: number };

/** The region asked for around the object. */
export type ObjectRegion =
  /** Exactly the object's box. */
  | { kind: 'object' }
  /** The smallest region of this aspect ratio that holds the object. */
  | { kind: 'ratio'; ratioWidth: number; ratioHeight: number; alignment: ObjectAlignment }
  /** A region of this size, the object placed in it by the alignment. */
  | { kind: 'size'; width: ObjectLength; height: ObjectLength; alignment: ObjectAlignment };

/** Most faces a detection keeps (the highest scores): a crowd beyond it adds nothing to crops or blurs. */
export const MAX_FACES = 256;

export const CENTRE: ObjectAlignment = { x: 'center', y: 'center' };

/** Area-weighted share of a face's box blurred beyond it on every side: a box cuts hair and chin close. */
const BLUR_MARGIN = 0.15;

/** Scales boxes from one frame to another (a downscaled decode to the original, or the original to a resized image). */
export function scaleBoxes(boxes: readonly Box[], from: Dimensions, to: Dimensions): Box[] {
  const sx = to.width / from.width;
  const sy = to.height / from.height;
  const scaled: Box[] = [];
  for (const box of boxes) {
    const left = Math.round(box.left * sx);
    const top = Math.round(box.top * sy);
    const right = Math.round((box.left + box.width) * sx);
    const bottom = Math.round((box.top + box.height) * sy);
    const clipped = clipBox({ left, top, width: right - left, height: bottom - top }, to);
    if (clipped) scaled.push(clipped);
  }
  return scaled;
}

/** The part of a box inside an image, or null when nothing of it is. */
export function clipBox(box: Box, image: Dimensions): Box | null {
  const left = Math.max(0, box.left);
  const top = Math.max(0, box.top);
  const right = Math.min(image.width, box.left + box.width);
  const bottom = Math.min(image.height, box.top + box.height);
  if (right <= left || bottom <= top) return null;
  return { left, top, width: right - left, height: bottom - top };
}

/** The largest box by area; the first of equals. */
export function largestBox(boxes: readonly Box[]): Box | null {
  let best: Box | null = null;
  for (const box of boxes) if (!best || box.width * box.height > best.width * best.height) best = box;
  return best;
}

/** The smallest box holding all of them. */
export function unionBox(boxes: readonly Box[]): Box | null {
  if (boxes.length === 0) return null;
  let left = Infinity;
  let top = Infinity;
  let right = -Infinity;
  let bottom = -Infinity;
  for (const box of boxes) {
    left = Math.min(left, box.left);
    top = Math.min(top, box.top);
    right = Math.max(right, box.left + box.width);
    bottom = Math.max(bottom, box.top + box.height);
  }
  return { left, top, width: right - left, height: bottom - top };
}

/** The box grown by `share` of its own size on every side, kept inside the image. */
export function padBox(box: Box, share: number, image: Dimensions): Box {
  const dx = Math.round(box.width * share);
  const dy = Math.round(box.height * share);
  return clipBox({ left: box.left - dx, top: box.top - dy, width: box.width + 2 * dx, height: box.height + 2 * dy }, image) ?? box;
}

/** The regions `-/blur_region/faces/` blurs: each face with a margin, inside the image. */
export function blurRegions(faces: readonly Box[], image: Dimensions): Box[] {
  return faces.map((face) => padBox(face, BLUR_MARGIN, image));
}

/** The box a crop is built around; null when the object is a face and there is none. */
export function objectBox(object: CropObject, faces: readonly Box[], image: Dimensions): Box | null {
  if (object === 'image') return { left: 0, top: 0, width: image.width, height: image.height };
  return object === 'face' ? largestBox(faces) : unionBox(faces);
}

/**
 * The region of the image a crop around `object` keeps. A region larger than the image along an
 * axis is cut to the image along it (a ratio region keeps its ratio by shrinking on both axes);
 * one that fits is moved inside the image, keeping the object in view as far as the edges allow.
 */
export function regionAroundObject(object: Box, region: ObjectRegion, image: Dimensions): Box {
  if (region.kind === 'object') return clipBox(object, image) ?? { left: 0, top: 0, width: image.width, height: image.height };
  let width: number;
  let height: number;
  if (region.kind === 'ratio') {
    // The smallest region of the ratio that holds the object, then the largest of the ratio the image holds, if smaller.
    const ratio = region.ratioWidth / region.ratioHeight;
    width = Math.max(object.width, object.height * ratio);
    height = width / ratio;
    const fit = Math.min(1, image.width / width, image.height / height);
    width = Math.max(1, Math.round(width * fit));
    height = Math.max(1, Math.round(height * fit));
  } else {
    width = clampInt(lengthOf(region.width, object.width), 1, image.width);
    height = clampInt(lengthOf(region.height, object.height), 1, image.height);
  }
  const left = placeAxis(object.left, object.width, width, image.width, region.alignment.x);
  const top = placeAxis(object.top, object.height, height, image.height, region.alignment.y);
  return { left, top, width: Math.min(width, image.width), height: Math.min(height, image.height) };
}

/**
 * A region of the crop's size that keeps the faces in view: centred on all of them when they fit,
 * else on the largest. Null without faces (the caller falls back).
 */
export function windowOnFaces(faces: readonly Box[], window: Dimensions, image: Dimensions): Box | null {
  const all = unionBox(faces);
  if (!all) return null;
  const target = all.width <= window.width && all.height <= window.height ? all : (largestBox(faces) ?? all);
  const width = Math.min(window.width, image.width);
  const height = Math.min(window.height, image.height);
  return {
    left: placeAxis(target.left, target.width, width, image.width, 'center'),
    top: placeAxis(target.top, target.height, height, image.height, 'center'),
    width,
    height,
  };
}

/** Intersection over union of two boxes (0 when apart, 1 when equal). */
export function intersectionOverUnion(a: Box, b: Box): number {
  const width = Math.min(a.left + a.width, b.left + b.width) - Math.max(a.left, b.left);
  const height = Math.min(a.top + a.height, b.top + b.height) - Math.max(a.top, b.top);
  if (width <= 0 || height <= 0) return 0;
  const shared = width * height;
  return shared / (a.width * a.height + b.width * b.height - shared);
}

function lengthOf(length: ObjectLength, objectSide: number): number {
  return length.unit === 'px' ? length.value : (objectSide * length.value) / 100;
}

function clampInt(value: number, min: number, max: number): number {
  return Math.min(max, Math.max(min, Math.round(value)));
}

/** Start of a span of `length` placing the object by `edge` inside it, then moved inside the image. */
function placeAxis(objectStart: number, objectLength: number, length: number, imageLength: number, edge: 'left' | 'center' | 'right' | 'top' | 'bottom'): number {
  let start: number;
  if (edge === 'left' || edge === 'top') start = objectStart;
  else if (edge === 'right' || edge === 'bottom') start = objectStart + objectLength - length;
  else start = objectStart + (objectLength - length) / 2;
  return clampInt(start, 0, Math.max(0, imageLength - length));
}
