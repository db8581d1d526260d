import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import sharp from 'sharp';
import { afterAll, describe, expect, it } from 'vitest';
import { WorkerFaceDetector } from '../../src/adapters/faces/worker-face-detector.js';
import { type FaceSet, intersectionOverUnion } from '../../src/domain/faces.js';
import { FaceDetectionError } from '../../src/ports/face-detector.js';
import { avifSequence, manyPageTiff } from '../helpers/page-bombs.js';

// Group photos shipped (MIT) with the face detector's npm package, read in place.
const require = createRequire(import.meta.url);
const DEMO = path.join(path.dirname(require.resolve('@vladmandic/face-api/package.json')), 'demo');
const photo = readFileSync(path.join(DEMO, 'sample1.jpg'));
const limits = { maxSourcePixels: 50_000_000, maxSourcePages: 1000 };

async function refusal(work: Promise<unknown>): Promise<FaceDetectionError> {
  const error = await work.then(
    () => null,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(FaceDetectionError);
  return error as FaceDetectionError;
}

/** Each found face matched to one of the reference faces with IoU ≥ 0.5. */
function matches(found: FaceSet, reference: FaceSet): number {
  return found.faces.filter((face) => reference.faces.some((other) => intersectionOverUnion(face, other) >= 0.5)).length;
}

describe('the worker face detector', () => {
  const detectors: WorkerFaceDetector[] = [];
  const detector = (options: ConstructorParameters<typeof WorkerFaceDetector>[0]) => {
    const made = new WorkerFaceDetector(options);
    detectors.push(made);
    return made;
  };
  afterAll(async () => {
    for (const made of detectors) await made.close();
  });

  it('finds the faces of a group photo in its own pixels, none in a plain image, and reads EXIF orientation', async () => {
    const ssd = detector({ model: 'ssd', timeoutMs: 60_000, recycleAfter: 100 });
    expect(ssd.status().state).toBe('idle');
    const found = await ssd.detect(photo, limits);
    expect(found.frame).toEqual({ width: 1920, height: 1280 });
    expect(found.faces.length).toBeGreaterThanOrEqual(3);
    for (const face of found.faces) {
      expect(face.left + face.width).toBeLessThanOrEqual(1920);
      expect(face.top + face.height).toBeLessThanOrEqual(1280);
    }
    expect(ssd.status()).toMatchObject({ model: 'ssd', state: 'running', detected: 1 });

    const plain = await sharp({ create: { width: 800, height: 600, channels: 3, background: '#5080c0' } }).jpeg().toBuffer();
    expect((await ssd.detect(plain, limits)).faces).toEqual([]);

    // Stored turned a quarter counterclockwise with EXIF orientation 6: shown upright, the same faces.
    const turned = await sharp(photo).rotate(-90).withMetadata({ orientation: 6 }).jpeg({ quality: 92 }).toBuffer();
    const upright = await ssd.detect(turned, limits);
    expect(upright.frame).toEqual({ width: 1920, height: 1280 });
    expect(matches(upright, found)).toBeGreaterThanOrEqual(found.faces.length - 1);
  }, 120_000);

  it('runs the tiny model too', async () => {
    const tiny = detector({ model: 'tiny', timeoutMs: 60_000, recycleAfter: 100 });
    const found = await tiny.detect(photo, limits);
    expect(found.faces.length).toBeGreaterThanOrEqual(2);
    expect(tiny.status().model).toBe('tiny');
  }, 120_000);

  it('refuses bytes it cannot decode and images over the pixel limit, before the model runs', async () => {
    const ssd = detector({ model: 'ssd', timeoutMs: 60_000, recycleAfter: 100 });
    expect((await refusal(ssd.detect(Buffer.from('not an image at all'), limits))).reason).toBe('unreadable');
    expect((await refusal(ssd.detect(photo, { ...limits, maxSourcePixels: 1_000_000 }))).reason).toBe('unreadable');
    // Counted from their structure, before libvips would spend seconds visiting every page or frame.
    const started = performance.now();
    expect((await refusal(ssd.detect(manyPageTiff({ pages: 50_000, width: 300, height: 200 }).bytes, limits))).message).toMatch(/more than the 1000 pages allowed/);
    expect((await refusal(ssd.detect(await avifSequence(4_000_000), limits))).message).toMatch(/4000000 frames, more than the 1000 frames allowed/);
    expect(performance.now() - started).toBeLessThan(1_500);
    expect(ssd.status().detected).toBe(0);
    const off = detector({ model: 'off', timeoutMs: 1_000, recycleAfter: 1 });
    expect((await refusal(off.detect(photo, limits))).reason).toBe('unavailable');
    expect(off.status().state).toBe('off');
  });

  it('replaces a worker that passes the per-image deadline', async () => {
    const hurried = detector({ model: 'ssd', timeoutMs: 1, recycleAfter: 100 });
    const error = await refusal(hurried.detect(photo, limits));
    expect(error.reason).toBe('timeout');
    expect(error.message).toMatch(/longer than 1 ms/);
    expect(hurried.status().state).toBe('idle');
  }, 120_000);

  it('recycles its worker after the configured number of images', async () => {
    const small = await sharp(photo).resize(480).jpeg().toBuffer();
    const recycled = detector({ model: 'tiny', timeoutMs: 60_000, recycleAfter: 2 });
    await recycled.detect(small, limits);
    expect(recycled.status().state).toBe('running');
    await recycled.detect(small, limits);
    expect(recycled.status().state).toBe('idle');
    const again = await recycled.detect(small, limits);
    expect(again.faces.length).toBeGreaterThanOrEqual(1);
    expect(recycled.status()).toMatchObject({ state: 'running', detected: 3 });
  }, 120_000);
});
