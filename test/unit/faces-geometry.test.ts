import { describe, expect, it } from 'vitest';
import { lowerOperations, type LoweringContext } from '../../src/adapters/image/operation-lowering.js';
import {
  blurRegions,
  type Box,
  CENTRE,
  clipBox,
  intersectionOverUnion,
  largestBox,
  objectBox,
  padBox,
  regionAroundObject,
  scaleBoxes,
  unionBox,
  windowOnFaces,
} from '../../src/domain/faces.js';
import { DEFAULT_BACKGROUND, type Operation, planRequiresFaces, planUsesFaces } from '../../src/domain/transform/operations.js';
import { planHash } from '../../src/domain/transform/cache-key.js';
import { parseUploadcarePath } from '../../src/domain/transform/uploadcare-parser.js';

const image = { width: 1000, height: 600 };
const box = (left: number, top: number, width: number, height: number): Box => ({ left, top, width, height });

describe('face boxes', () => {
  it('scales boxes from a downscaled decode to the original and clips them to it', () => {
    expect(scaleBoxes([box(10, 20, 30, 40)], { width: 100, height: 60 }, image)).toEqual([box(100, 200, 300, 400)]);
    // A box reaching past the edge is cut to the image; one wholly outside is dropped.
    expect(scaleBoxes([box(90, 50, 20, 20), box(200, 0, 5, 5)], { width: 100, height: 60 }, image)).toEqual([box(900, 500, 100, 100)]);
  });

  it('clips, picks the largest, unites and pads', () => {
    expect(clipBox(box(-10, -10, 30, 30), image)).toEqual(box(0, 0, 20, 20));
    expect(clipBox(box(1000, 0, 30, 30), image)).toBeNull();
    expect(largestBox([box(0, 0, 10, 10), box(50, 50, 20, 20), box(5, 5, 20, 20)])).toEqual(box(50, 50, 20, 20));
    expect(largestBox([])).toBeNull();
    expect(unionBox([box(10, 20, 30, 30), box(100, 5, 10, 10)])).toEqual(box(10, 5, 100, 45));
    expect(unionBox([])).toBeNull();
    expect(padBox(box(100, 100, 100, 100), 0.1, image)).toEqual(box(90, 90, 120, 120));
    expect(padBox(box(0, 0, 100, 100), 0.5, image)).toEqual(box(0, 0, 150, 150));
    expect(blurRegions([box(500, 300, 100, 100)], image)).toEqual([box(485, 285, 130, 130)]);
  });

  it('measures overlap as intersection over union', () => {
    expect(intersectionOverUnion(box(0, 0, 10, 10), box(0, 0, 10, 10))).toBe(1);
    expect(intersectionOverUnion(box(0, 0, 10, 10), box(20, 20, 10, 10))).toBe(0);
    expect(intersectionOverUnion(box(0, 0, 10, 10), box(5, 0, 10, 10))).toBeCloseTo(50 / 150);
  });

  it('builds crops around the object: exact, by ratio, by size in px or percent of the object, aligned', () => {
    const face = box(400, 200, 100, 150);
    expect(objectBox('image', [face], image)).toEqual(box(0, 0, 1000, 600));
    expect(objectBox('face', [], image)).toBeNull();
    expect(regionAroundObject(face, { kind: 'object' }, image)).toEqual(face);
    // The smallest square holding the face, centred on it.
    expect(regionAroundObject(face, { kind: 'ratio', ratioWidth: 1, ratioHeight: 1, alignment: CENTRE }, image)).toEqual(box(375, 200, 150, 150));
    // Twice the face, centred on it.
    const twice = { kind: 'size', width: { unit: 'percent', value: 200 }, height: { unit: 'percent', value: 200 }, alignment: CENTRE } as const;
    expect(regionAroundObject(face, twice, image)).toEqual(box(350, 125, 200, 300));
    // The face at the region's top-left corner.
    const corner = { kind: 'size', width: { unit: 'px', value: 300 }, height: { unit: 'px', value: 300 }, alignment: { x: 'left', y: 'top' } } as const;
    expect(regionAroundObject(face, corner, image)).toEqual(box(400, 200, 300, 300));
  });

  it('clamps crops to the image: moved inside, or cut to it, a ratio kept by shrinking', () => {
    const edge = box(950, 550, 50, 50);
    expect(regionAroundObject(edge, { kind: 'size', width: { unit: 'px', value: 200 }, height: { unit: 'px', value: 100 }, alignment: CENTRE }, image)).toEqual(box(800, 500, 200, 100));
    const huge = { kind: 'size', width: { unit: 'percent', value: 5000 }, height: { unit: 'percent', value: 5000 }, alignment: CENTRE } as const;
    expect(regionAroundObject(edge, huge, image)).toEqual(box(0, 0, 1000, 600));
    // A 1:2 region around a tall face is larger than the image: the largest 1:2 region it holds.
    expect(regionAroundObject(box(450, 0, 100, 600), { kind: 'ratio', ratioWidth: 2, ratioHeight: 1, alignment: CENTRE }, image)).toEqual(box(0, 50, 1000, 500));
  });

  it('places a smart window on all faces when they fit, else on the largest', () => {
    const faces = [box(0, 0, 100, 100), box(150, 50, 50, 50)];
    expect(windowOnFaces(faces, { width: 300, height: 300 }, image)).toEqual(box(0, 0, 300, 300));
    expect(windowOnFaces([box(0, 0, 100, 100), box(800, 400, 150, 150)], { width: 300, height: 300 }, image)).toEqual(box(700, 300, 300, 300));
    expect(windowOnFaces([], { width: 300, height: 300 }, image)).toBeNull();
  });
});

describe('faces through the lowering of a plan', () => {
  const context = (faces: Box[]): LoweringContext => ({
    sourceSize: image,
    sourceHasAlpha: false,
    animated: false,
    outputHasAlpha: false,
    outputBackground: DEFAULT_BACKGROUND,
    overlays: new Map(),
    missingOverlay: 'error',
    faces,
  });
  const lower = (operations: Operation[], faces: Box[]) => lowerOperations(operations, context(faces));

  it('follows the faces through a resize and a rotation before cropping to them', () => {
    const face = box(100, 50, 200, 100);
    const plan = lower([{ op: 'resize', width: 500, height: null, upscale: 'on', background: DEFAULT_BACKGROUND }, { op: 'crop_object', object: 'face', region: { kind: 'object' } }], [face]);
    expect(plan.primitives.at(-1)).toEqual({ kind: 'extract', region: box(50, 25, 100, 50) });
    // A quarter turn clockwise of a 1000×600 image: (x, y) → (599 − y, x).
    const turned = lower([{ op: 'rotate', quarterTurns: 1 }, { op: 'crop_object', object: 'face', region: { kind: 'object' } }], [face]);
    expect(turned.primitives.at(-1)).toEqual({ kind: 'extract', region: box(450, 100, 100, 200) });
    expect(turned.size).toEqual({ width: 100, height: 200 });
  });

  it('blurs each face with a margin, and keeps the image whole without faces', () => {
    const blurred = lower([{ op: 'blur_faces', strength: 100 }], [box(100, 100, 100, 100), box(500, 300, 50, 50)]);
    expect(blurred.primitives.map((p) => (p.kind === 'pixels' && p.pass.kind === 'blur-region' ? p.pass.region : null))).toEqual([box(85, 85, 130, 130), box(492, 292, 66, 66)]);
    expect(lower([{ op: 'crop_object', object: 'faces', region: { kind: 'object' } }], []).primitives).toEqual([]);
    expect(lower([{ op: 'blur_faces', strength: 100 }], []).primitives).toEqual([]);
  });

  it('crops smart scale_crops around faces, falling back to attention without them', () => {
    const smart = { op: 'scale_crop', width: 300, height: 300, placement: { type: 'smart', mode: 'smart' }, upscale: 'on', background: DEFAULT_BACKGROUND } as const;
    const withFace = lower([smart], [box(900, 0, 100, 100)]);
    expect(withFace.primitives).toEqual([{ kind: 'resize', size: { width: 500, height: 300 } }, { kind: 'extract', region: box(200, 0, 300, 300) }]);
    expect(lower([smart], []).primitives).toEqual([{ kind: 'attention-crop', size: { width: 300, height: 300 }, scale: true }]);
    const facesOnly = lower([{ ...smart, placement: { type: 'smart', mode: 'smart_faces' } }], []);
    expect(facesOnly.primitives).toEqual([{ kind: 'resize', size: { width: 500, height: 300 } }, { kind: 'extract', region: box(100, 0, 300, 300) }]);
  });
});

describe('face operations in URLs', () => {
  const limits = { maxUrlLength: 4096, maxOperations: 32, maxOutputDimension: 3000 };
  const operations = (tail: string) => parseUploadcarePath(tail, limits).plan.operations;

  it('parses crop by face, faces and image, and blur_region/faces', () => {
    expect(operations('-/crop/face/')).toEqual([{ op: 'crop_object', object: 'face', region: { kind: 'object' } }]);
    expect(operations('-/crop/faces/4:2/top/')).toEqual([{ op: 'crop_object', object: 'faces', region: { kind: 'ratio', ratioWidth: 2, ratioHeight: 1, alignment: { x: 'center', y: 'top' } } }]);
    expect(operations('-/crop/face/200px200p/')).toEqual([
      { op: 'crop_object', object: 'face', region: { kind: 'size', width: { unit: 'percent', value: 200 }, height: { unit: 'percent', value: 200 }, alignment: CENTRE } },
    ]);
    expect(operations('-/blur_region/faces/')).toEqual([{ op: 'blur_faces', strength: 100 }]);
    expect(operations('-/blur_region/faces/0/')).toEqual([]);
    expect(() => operations('-/blur_region/faces/5001/')).toThrow(/strength/);
    expect(() => operations('-/crop/face/1:1/middle/')).toThrow(/alignment/);
    expect(() => operations('-/crop/objects/')).toThrow(/object detector/);
  });

  it('names other derivatives when what the faces came from changes', () => {
    const plan = parseUploadcarePath('-/crop/face/', limits).plan;
    expect(planHash(plan, 'faces:ssd-1')).not.toBe(planHash(plan, 'faces:tiny-1'));
    expect(planHash(plan, 'faces:ssd-1')).not.toBe(planHash(plan, 'faces:off'));
    expect(planHash(plan, 'faces:ssd-1')).toBe(planHash(parseUploadcarePath('-/crop/face/', limits).plan, 'faces:ssd-1'));
    expect(planHash(plan)).toMatch(/^[0-9a-f]{32}$/);
  });

  it('knows which plans need faces, and which cannot run without them', () => {
    const plan = (tail: string) => parseUploadcarePath(tail, limits).plan;
    expect(planUsesFaces(plan('-/scale_crop/100x100/smart/'))).toBe(true);
    expect(planRequiresFaces(plan('-/scale_crop/100x100/smart/'))).toBe(false);
    expect(planUsesFaces(plan('-/scale_crop/100x100/smart_objects/'))).toBe(false);
    expect(planRequiresFaces(plan('-/crop/faces/'))).toBe(true);
    expect(planUsesFaces(plan('-/crop/image/1:1/'))).toBe(false);
    expect(planRequiresFaces(plan('-/blur_region/faces/'))).toBe(true);
  });
});
