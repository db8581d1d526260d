/**
 * Face detection quality and speed, `ssd` against `tiny`, on one labelled set:
 *
 * - the six group photos of face-api's npm package with their boxes (`faces-labels.json`);
 * - the same photos shrunk to 1/2 and 1/4 on a canvas of the original size (smaller faces);
 * - turned a quarter and a half (pixels turned, no EXIF), and tilted 15° (the label is the
 *   tilted face box's bounding box shrunk to 85 %, since a tilted face's tight box is smaller);
 * - images without faces: the part of each photo below its lowest face, and six synthetic ones.
 *
 * A detection matches a label at IoU ≥ 0.5 (greedy, best IoU first). Time per image is the
 * detector's whole call (decode, transfer to the worker, inference), after one warm-up image.
 *
 *   npm run bench:faces
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import sharp, { type Sharp } from 'sharp';
import { WorkerFaceDetector } from '../src/adapters/faces/worker-face-detector.js';
import { type Box, intersectionOverUnion } from '../src/domain/faces.js';

interface LabelFile {
  images: { file: string; width: number; height: number; faces: [number, number, number, number][] }[];
}

interface Case {
  group: string;
  name: string;
  bytes: Buffer;
  faces: Box[];
}

const require = createRequire(import.meta.url);
const DEMO = path.join(path.dirname(require.resolve('@vladmandic/face-api/package.json')), 'demo');
const labels = JSON.parse(readFileSync(new URL('./faces-labels.json', import.meta.url), 'utf8')) as LabelFile;
const IOU = 0.5;
/** The tiny model draws looser, squarer boxes than the labels: this threshold shows what it finds at all. */
const LOOSE_IOU = 0.3;
const GREY = { r: 128, g: 128, b: 128 };

const toBox = ([left, top, width, height]: [number, number, number, number]): Box => ({ left, top, width, height });

async function jpeg(image: Sharp): Promise<Buffer> {
  return image.jpeg({ quality: 90 }).toBuffer();
}

/** A box of a `width × height` image turned clockwise by quarter turns. */
function turnBox(box: Box, width: number, height: number, quarters: 1 | 2): Box {
  if (quarters === 2) return { left: width - box.left - box.width, top: height - box.top - box.height, width: box.width, height: box.height };
  return { left: height - box.top - box.height, top: box.left, width: box.height, height: box.width };
}

/** The label of a face tilted by `degrees` inside an image rotated about its centre into `outWidth × outHeight`. */
function tiltBox(box: Box, width: number, height: number, outWidth: number, outHeight: number, degrees: number): Box {
  const angle = (degrees * Math.PI) / 180;
  const corners = [
    [box.left, box.top],
    [box.left + box.width, box.top],
    [box.left, box.top + box.height],
    [box.left + box.width, box.top + box.height],
  ].map(([x, y]) => {
    const dx = x! - width / 2;
    const dy = y! - height / 2;
    return [dx * Math.cos(angle) - dy * Math.sin(angle) + outWidth / 2, dx * Math.sin(angle) + dy * Math.cos(angle) + outHeight / 2] as const;
  });
  const left = Math.min(...corners.map((c) => c[0]));
  const right = Math.max(...corners.map((c) => c[0]));
  const top = Math.min(...corners.map((c) => c[1]));
  const bottom = Math.max(...corners.map((c) => c[1]));
  const shrink = 0.85;
  const w = (right - left) * shrink;
  const h = (bottom - top) * shrink;
  return { left: Math.round((left + right - w) / 2), top: Math.round((top + bottom - h) / 2), width: Math.round(w), height: Math.round(h) };
}

async function buildCases(): Promise<Case[]> {
  const cases: Case[] = [];
  for (const label of labels.images) {
    const source = readFileSync(path.join(DEMO, label.file));
    const faces = label.faces.map(toBox);
    const { width, height } = label;
    cases.push({ group: 'original', name: label.file, bytes: source, faces });
    for (const scale of [0.5, 0.25]) {
      const small = await sharp(source).resize(Math.round(width * scale)).toBuffer();
      const canvas = sharp({ create: { width, height, channels: 3, background: GREY } }).composite([{ input: small, left: 0, top: 0 }]);
      const scaled = faces.map((f) => ({ left: Math.round(f.left * scale), top: Math.round(f.top * scale), width: Math.round(f.width * scale), height: Math.round(f.height * scale) }));
      cases.push({ group: `scale ${scale}`, name: label.file, bytes: await jpeg(canvas), faces: scaled });
    }
    cases.push({ group: 'turn 90°', name: label.file, bytes: await jpeg(sharp(source).rotate(90)), faces: faces.map((f) => turnBox(f, width, height, 1)) });
    cases.push({ group: 'turn 180°', name: label.file, bytes: await jpeg(sharp(source).rotate(180)), faces: faces.map((f) => turnBox(f, width, height, 2)) });
    const tilted = await sharp(source).rotate(15, { background: GREY }).toBuffer({ resolveWithObject: true });
    cases.push({
      group: 'tilt 15°',
      name: label.file,
      bytes: await jpeg(sharp(tilted.data)),
      faces: faces.map((f) => tiltBox(f, width, height, tilted.info.width, tilted.info.height, 15)),
    });
    const lowest = Math.max(...faces.map((f) => f.top + f.height));
    if (height - lowest > 200) {
      cases.push({ group: 'no face', name: `${label.file} below the faces`, bytes: await jpeg(sharp(source).extract({ left: 0, top: lowest + 20, width, height: height - lowest - 20 })), faces: [] });
    }
  }
  const synthetic: [string, Sharp][] = [
    ['plain', sharp({ create: { width: 1200, height: 800, channels: 3, background: { r: 70, g: 120, b: 180 } } })],
    ['gradient', sharp(Buffer.from(`<svg width="1200" height="800"><defs><linearGradient id="g"><stop offset="0" stop-color="#e0a060"/><stop offset="1" stop-color="#304070"/></linearGradient></defs><rect width="1200" height="800" fill="url(#g)"/></svg>`))],
    ['circles', sharp(Buffer.from(`<svg width="1200" height="800"><rect width="1200" height="800" fill="#eee"/>${Array.from({ length: 30 }, (_, i) => `<circle cx="${(i * 137) % 1200}" cy="${(i * 89) % 800}" r="${20 + (i % 7) * 15}" fill="#${((i * 2654435761) >>> 8).toString(16).slice(0, 6).padEnd(6, '8')}"/>`).join('')}</svg>`))],
    ['checks', sharp(Buffer.from(`<svg width="1200" height="800"><defs><pattern id="p" width="80" height="80" patternUnits="userSpaceOnUse"><rect width="40" height="40" fill="#222"/><rect x="40" y="40" width="40" height="40" fill="#222"/></pattern></defs><rect width="1200" height="800" fill="#ddd"/><rect width="1200" height="800" fill="url(#p)"/></svg>`))],
    ['noise', sharp(Buffer.from(Array.from({ length: 600 * 400 * 3 }, (_, i) => (i * 2654435761) % 251)), { raw: { width: 600, height: 400, channels: 3 } })],
    ['text', sharp(Buffer.from(`<svg width="1200" height="800"><rect width="1200" height="800" fill="white"/>${Array.from({ length: 14 }, (_, i) => `<text x="40" y="${60 + i * 52}" font-size="40" fill="black">Quarterly figures, line ${i + 1}: 12.5% up</text>`).join('')}</svg>`))],
  ];
  for (const [name, image] of synthetic) cases.push({ group: 'no face', name, bytes: await jpeg(image), faces: [] });
  return cases;
}

/** True positives of one image: greedy one-to-one matching at IoU ≥ 0.5, best pairs first. */
function truePositives(found: readonly Box[], labelled: readonly Box[], threshold = IOU): number {
  const pairs: { i: number; j: number; iou: number }[] = [];
  found.forEach((f, i) => labelled.forEach((l, j) => {
    const iou = intersectionOverUnion(f, l);
    if (iou >= threshold) pairs.push({ i, j, iou });
  }));
  pairs.sort((a, b) => b.iou - a.iou);
  const usedFound = new Set<number>();
  const usedLabel = new Set<number>();
  for (const pair of pairs) {
    if (usedFound.has(pair.i) || usedLabel.has(pair.j)) continue;
    usedFound.add(pair.i);
    usedLabel.add(pair.j);
  }
  return usedFound.size;
}

interface Tally {
  tp: number;
  /** True positives at the loose threshold: boxes drawn larger or smaller than the labels still count. */
  looseTp: number;
  found: number;
  labelled: number;
  ms: number[];
}

const percent = (part: number, whole: number) => (whole === 0 ? '  —  ' : `${((100 * part) / whole).toFixed(1).padStart(5)}%`);
const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? 0;
};

async function main(): Promise<void> {
  const cases = await buildCases();
  const groups = [...new Set(cases.map((c) => c.group))];
  const results = new Map<string, Map<string, Tally>>();
  for (const model of ['ssd', 'tiny'] as const) {
    const detector = new WorkerFaceDetector({ model, timeoutMs: 120_000, recycleAfter: 10_000 });
    await detector.detect(cases[0]!.bytes, { maxSourcePixels: 100_000_000, maxSourcePages: 1000 });
    const tallies = new Map<string, Tally>(groups.map((g) => [g, { tp: 0, looseTp: 0, found: 0, labelled: 0, ms: [] }]));
    for (const item of cases) {
      const started = performance.now();
      const { faces } = await detector.detect(item.bytes, { maxSourcePixels: 100_000_000, maxSourcePages: 1000 });
      const tally = tallies.get(item.group)!;
      tally.ms.push(performance.now() - started);
      tally.tp += truePositives(faces, item.faces);
      tally.looseTp += truePositives(faces, item.faces, LOOSE_IOU);
      tally.found += faces.length;
      tally.labelled += item.faces.length;
    }
    await detector.close();
    results.set(model, tallies);
  }
  console.log(`Face detection, ${cases.length} images (${cases.filter((c) => c.faces.length === 0).length} without a face, ${cases.reduce((n, c) => n + c.faces.length, 0)} labelled faces), IoU ≥ ${IOU}`);
  console.log('');
  console.log('group        images | ssd: precision  recall  false+  ms/img | tiny: precision  recall  false+  ms/img');
  const total = (model: string): Tally => {
    const all: Tally = { tp: 0, looseTp: 0, found: 0, labelled: 0, ms: [] };
    for (const t of results.get(model)!.values()) {
      all.tp += t.tp;
      all.looseTp += t.looseTp;
      all.found += t.found;
      all.labelled += t.labelled;
      all.ms.push(...t.ms);
    }
    return all;
  };
  const row = (name: string, count: number, ssd: Tally, tiny: Tally) => {
    const part = (t: Tally) => `${percent(t.tp, t.found).padStart(14)} ${percent(t.tp, t.labelled).padStart(7)} ${String(t.found - t.tp).padStart(7)} ${median(t.ms).toFixed(0).padStart(7)}`;
    console.log(`${name.padEnd(12)} ${String(count).padStart(6)} | ${part(ssd)} | ${part(tiny)}`);
  };
  for (const group of groups) row(group, cases.filter((c) => c.group === group).length, results.get('ssd')!.get(group)!, results.get('tiny')!.get(group)!);
  row('all', cases.length, total('ssd'), total('tiny'));
  const loose = (t: Tally): Tally => ({ ...t, tp: t.looseTp });
  row(`all IoU≥${LOOSE_IOU}`, cases.length, loose(total('ssd')), loose(total('tiny')));
  console.log('');
  console.log('ms/img: median of the group (all: of every image); decode + worker transfer + inference, 2-core machine, warm worker.');
}

await main();
