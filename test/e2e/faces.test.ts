import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { availableBackends } from '../helpers/backends.js';
import { startTrove, type TestTrove } from '../helpers/trove-server.js';
import { expectDeliveryError, sleep, uploadFile } from '../helpers/upload-http.js';

// Group photos shipped (MIT) with the face detector's npm package: read in place, never copied into this repository.
const require = createRequire(import.meta.url);
const DEMO = path.join(path.dirname(require.resolve('@vladmandic/face-api/package.json')), 'demo');
const groupPhoto = readFileSync(path.join(DEMO, 'sample1.jpg'));

interface DetectAnswer {
  id: string;
  width: number;
  height: number;
  faces: [number, number, number, number][];
}

async function get(trove: TestTrove, tail: string): Promise<Response> {
  return fetch(`${trove.url}/${tail}`);
}

async function image(response: Response): Promise<{ width: number; height: number; data: Buffer }> {
  expect(response.status, response.status === 200 ? '' : await response.clone().text()).toBe(200);
  const bytes = Buffer.from(await response.arrayBuffer());
  const { data, info } = await sharp(bytes).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  return { width: info.width, height: info.height, data };
}

async function detect(trove: TestTrove, uuid: string): Promise<DetectAnswer> {
  const response = await get(trove, `${uuid}/detect_faces/`);
  expect(response.status, await response.clone().text()).toBe(200);
  expect(response.headers.get('content-type')).toMatch(/application\/json/);
  return (await response.json()) as DetectAnswer;
}

/** Mean absolute difference of two same-size RGB buffers, per channel value. */
function meanDifference(a: Buffer, b: Buffer): number {
  let sum = 0;
  for (let i = 0; i < a.length; i++) sum += Math.abs(a[i]! - b[i]!);
  return sum / a.length;
}

async function until<T>(what: string, probe: () => Promise<T | null | undefined>, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(100);
  }
}

const backends = await availableBackends();

describe.each(backends)('faces (%s)', (backend) => {
  let trove: TestTrove;
  let group: string;
  let plain: string;
  let text: string;
  /** A wide picture with one face at its left edge: a centred crop would miss it. */
  let sideFace: string;
  let sideFaceBytes: Buffer;

  beforeAll(async () => {
    trove = await startTrove({ backend, env: { TROVE_FACE_MODEL: 'ssd', TROVE_FACE_TIMEOUT: '60s' } });
    group = await uploadFile(trove, groupPhoto, 'group.jpg');
    plain = await uploadFile(trove, await sharp({ create: { width: 640, height: 480, channels: 3, background: { r: 90, g: 140, b: 200 } } }).png().toBuffer(), 'plain.png');
    text = await uploadFile(trove, Buffer.from('no faces in here'), 'notes.txt');
    const face = await sharp(groupPhoto).extract({ left: 330, top: 270, width: 340, height: 400 }).resize(300, 400).toBuffer();
    sideFaceBytes = await sharp({ create: { width: 1200, height: 400, channels: 3, background: { r: 200, g: 200, b: 190 } } })
      .composite([{ input: face, left: 0, top: 0 }])
      .jpeg({ quality: 95 })
      .toBuffer();
    sideFace = await uploadFile(trove, sideFaceBytes, 'side.jpg');
  }, 120_000);
  afterAll(async () => trove?.close());

  it('detects faces once after upload and keeps them (faces.detect), for this project only', async () => {
    const file = await (await trove.projectShard()).files.findLive(group);
    expect(file).not.toBeNull();
    const stored = await until('the stored detection', async () => (await trove.projectShard()).faceDetections.find(file!.projectId, group));
    expect(stored.status).toBe('done');
    expect(await (await trove.projectShard()).faceDetections.find('another-project', group)).toBeNull();
  }, 90_000);

  it('answers /:uuid/detect_faces/ with the faces in the original pixels', async () => {
    const answer = await detect(trove, group);
    expect(answer.id).toBe(group);
    expect([answer.width, answer.height]).toEqual([1920, 1280]);
    // Like -/json/, plus the faces.
    expect(answer).toMatchObject({ format: 'JPEG', color_mode: 'RGB', sequence: false });
    expect(answer.faces.length).toBeGreaterThanOrEqual(3);
    for (const [x, y, w, h] of answer.faces) {
      expect(x).toBeGreaterThanOrEqual(0);
      expect(y).toBeGreaterThanOrEqual(0);
      expect(w).toBeGreaterThan(50);
      expect(h).toBeGreaterThan(50);
      expect(x + w).toBeLessThanOrEqual(1920);
      expect(y + h).toBeLessThanOrEqual(1280);
    }
    expect((await detect(trove, plain)).faces).toEqual([]);
  }, 90_000);

  it('crops to the largest face, to every face, to a ratio or a size around them', async () => {
    const { faces } = await detect(trove, group);
    const largest = faces.reduce((a, b) => (b[2] * b[3] > a[2] * a[3] ? b : a));
    const face = await image(await get(trove, `${group}/-/crop/face/-/format/png/`));
    expect([face.width, face.height]).toEqual([largest[2], largest[3]]);

    const described = (await (await get(trove, `${group}/-/crop/face/-/json/`)).json()) as { width: number; height: number };
    expect([described.width, described.height]).toEqual([largest[2], largest[3]]);

    const left = Math.min(...faces.map((f) => f[0]));
    const right = Math.max(...faces.map((f) => f[0] + f[2]));
    const all = await image(await get(trove, `${group}/-/crop/faces/-/format/png/`));
    expect(all.width).toBe(right - left);

    const square = await image(await get(trove, `${group}/-/crop/face/1:1/-/format/png/`));
    expect(square.width).toBe(square.height);
    expect(square.width).toBe(Math.max(largest[2], largest[3]));

    const spaced = await image(await get(trove, `${group}/-/crop/face/200px200p/-/format/png/`));
    expect(spaced.width).toBe(largest[2] * 2);
    expect(spaced.height).toBe(largest[3] * 2);

    const fixed = await image(await get(trove, `${group}/-/crop/face/300x300/top_left/-/format/png/`));
    expect([fixed.width, fixed.height]).toEqual([300, 300]);

    const whole = await image(await get(trove, `${group}/-/crop/image/16:9/-/format/png/`));
    expect(whole.width / whole.height).toBeCloseTo(16 / 9, 1);
    // No face: the image is kept whole.
    const kept = await image(await get(trove, `${plain}/-/crop/face/-/format/png/`));
    expect([kept.width, kept.height]).toEqual([640, 480]);
  }, 90_000);

  it('blurs every face and nothing else (-/blur_region/faces/), with an optional strength', async () => {
    const { faces } = await detect(trove, group);
    const original = await image(await get(trove, `${group}/-/format/png/`));
    const blurred = await image(await get(trove, `${group}/-/blur_region/faces/-/format/png/`));
    expect([blurred.width, blurred.height]).toEqual([original.width, original.height]);
    const [x, y, w, h] = faces[0]!;
    const region = async (bytes: Buffer) =>
      sharp(bytes, { raw: { width: original.width, height: original.height, channels: 3 } }).extract({ left: x, top: y, width: w, height: h }).raw().toBuffer();
    expect(meanDifference(await region(original.data), await region(blurred.data))).toBeGreaterThan(3);
    const corner = async (bytes: Buffer) => sharp(bytes, { raw: { width: original.width, height: original.height, channels: 3 } }).extract({ left: 0, top: 0, width: 40, height: 40 }).raw().toBuffer();
    const bottomFree = faces.every(([, fy]) => fy > 60);
    if (bottomFree) expect(meanDifference(await corner(original.data), await corner(blurred.data))).toBeLessThan(0.5);

    const light = await image(await get(trove, `${group}/-/blur_region/faces/20/-/format/png/`));
    expect(meanDifference(await region(original.data), await region(light.data))).toBeLessThan(meanDifference(await region(original.data), await region(blurred.data)));
  }, 90_000);

  it('follows the faces through a resize before blurring them', async () => {
    const { faces } = await detect(trove, group);
    const plainHalf = await image(await get(trove, `${group}/-/resize/960x/-/format/png/`));
    const blurredHalf = await image(await get(trove, `${group}/-/resize/960x/-/blur_region/faces/-/format/png/`));
    const raw = { raw: { width: 960, height: 640, channels: 3 as const } };
    for (const [x, y, w, h] of faces) {
      const at = { left: Math.round(x / 2), top: Math.round(y / 2), width: Math.round(w / 2), height: Math.round(h / 2) };
      const before = await sharp(plainHalf.data, raw).extract(at).raw().toBuffer();
      const after = await sharp(blurredHalf.data, raw).extract(at).raw().toBuffer();
      expect(meanDifference(before, after)).toBeGreaterThan(2);
    }
    // The bottom rows hold no face: untouched.
    const bottom = { left: 0, top: 600, width: 960, height: 40 };
    expect(meanDifference(await sharp(plainHalf.data, raw).extract(bottom).raw().toBuffer(), await sharp(blurredHalf.data, raw).extract(bottom).raw().toBuffer())).toBeLessThan(0.5);
    const head = await fetch(`${trove.url}/${group}/detect_faces/`, { method: 'HEAD' });
    expect(head.status).toBe(200);
  }, 90_000);

  it('keeps the face in a smart crop (faces first), where a centred crop would lose it', async () => {
    const expected = await sharp(sideFaceBytes).extract({ left: 0, top: 0, width: 400, height: 400 }).raw().toBuffer();
    const centred = await sharp(sideFaceBytes).extract({ left: 400, top: 0, width: 400, height: 400 }).raw().toBuffer();
    for (const mode of ['smart_faces', 'smart_faces_objects', 'smart_objects_faces', 'smart']) {
      const result = await image(await get(trove, `${sideFace}/-/scale_crop/400x400/${mode}/-/format/png/`));
      expect([result.width, result.height]).toEqual([400, 400]);
      expect(meanDifference(result.data, expected), mode).toBeLessThan(meanDifference(result.data, centred));
    }
    // Without a face, smart falls back to saliency and smart_faces to the centre.
    const saliency = await image(await get(trove, `${plain}/-/scale_crop/200x200/smart/-/format/png/`));
    expect([saliency.width, saliency.height]).toEqual([200, 200]);
    const centre = await image(await get(trove, `${plain}/-/scale_crop/200x300/smart_faces/-/format/png/`));
    expect([centre.width, centre.height]).toEqual([200, 300]);
  }, 90_000);

  it('refuses bad input with a JSON error: non-images, bad strengths, object detection, misplaced detect_faces', async () => {
    expect((await expectDeliveryError(await get(trove, `${text}/-/crop/faces/`), 400)).code).toBe('NOT_AN_IMAGE');
    expect((await expectDeliveryError(await get(trove, `${text}/detect_faces/`), 400)).code).toBe('NOT_AN_IMAGE');
    expect((await expectDeliveryError(await get(trove, `${group}/-/blur_region/faces/9999/`), 400)).code).toBe('INVALID_OPERATION');
    expect((await expectDeliveryError(await get(trove, `${group}/-/blur_region/faces/strong/`), 400)).code).toBe('INVALID_OPERATION');
    expect((await expectDeliveryError(await get(trove, `${group}/-/blur_region/faces/10/20/`), 400)).code).toBe('INVALID_OPERATION');
    expect((await expectDeliveryError(await get(trove, `${group}/-/crop/face/0:1/`), 400)).code).toBe('INVALID_OPERATION');
    expect((await expectDeliveryError(await get(trove, `${group}/-/crop/face/1:1/sideways/`), 400)).code).toBe('INVALID_OPERATION');
    expect((await expectDeliveryError(await get(trove, `${group}/-/crop/face/99999px1p/`), 400)).code).toBe('INVALID_OPERATION');
    expect((await expectDeliveryError(await get(trove, `${group}/-/crop/objects/`), 400)).message).toMatch(/object detector/);
    expect((await expectDeliveryError(await get(trove, `${group}/-/zoom_objects/50/`), 400)).message).toMatch(/object detector/);
    expect((await expectDeliveryError(await get(trove, `${group}/-/detect_faces/`), 400)).code).toBe('INVALID_OPERATION');
    expect((await expectDeliveryError(await get(trove, `${group}/detect_faces/extra/`), 400)).code).toMatch(/OPERATION/);
    await expectDeliveryError(await get(trove, '00000000-0000-4000-8000-000000000000/detect_faces/'), 404);
  }, 60_000);

  it('reports the detector in /ready', async () => {
    const ready = (await (await fetch(`${trove.url}/ready`)).json()) as { faces?: { available: boolean; engine?: string } };
    expect(ready.faces?.available).toBe(true);
    expect(ready.faces?.engine).toMatch(/^ssd/);
  });

  it('detects a new file once when requests and the upload job ask at the same time', async () => {
    const before = trove.ctx.services.faces.readiness().detected;
    const uuid = await uploadFile(trove, await sharp(groupPhoto).resize(960).jpeg().toBuffer(), 'again.jpg');
    const answers = await Promise.all([
      get(trove, `${uuid}/detect_faces/`),
      get(trove, `${uuid}/-/crop/face/`),
      get(trove, `${uuid}/-/blur_region/faces/`),
      get(trove, `${uuid}/-/scale_crop/100x100/smart/`),
    ]);
    expect(answers.map((a) => a.status)).toEqual([200, 200, 200, 200]);
    await sleep(1_500);
    expect(trove.ctx.services.faces.readiness().detected - before).toBe(1);
  }, 90_000);
});

describe('faces with detection off', () => {
  let trove: TestTrove;
  let photo: string;

  beforeAll(async () => {
    trove = await startTrove({ env: { TROVE_FACE_MODEL: 'off' } });
    photo = await uploadFile(trove, groupPhoto, 'group.jpg');
  }, 60_000);
  afterAll(async () => trove?.close());

  it('answers 503 FACE_DETECTION_UNAVAILABLE for face operations, and smart crops still work', async () => {
    for (const tail of ['detect_faces/', '-/crop/face/', '-/crop/faces/1:1/', '-/blur_region/faces/']) {
      const error = await expectDeliveryError(await get(trove, `${photo}/${tail}`), 503);
      expect(error.code).toBe('FACE_DETECTION_UNAVAILABLE');
      expect(error.message).toMatch(/TROVE_FACE_MODEL=off/);
    }
    const smart = await image(await get(trove, `${photo}/-/scale_crop/300x300/smart/-/format/png/`));
    expect([smart.width, smart.height]).toEqual([300, 300]);
    const ready = (await (await fetch(`${trove.url}/ready`)).json()) as { faces?: { available: boolean; reason?: string } };
    expect(ready.faces).toEqual({ available: false, reason: 'TROVE_FACE_MODEL=off' });
  }, 60_000);
});
