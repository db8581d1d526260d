/**
 * Dominant colours of an image (Uploadcare `-/main_colors/`): weighted k-means over a colour
 * histogram of a small thumbnail. Deterministic — no random seeding — so equal inputs give equal
 * answers and the result can be cached like any derivative.
 */

import type { RawImage } from './raw-image.js';

/** Histogram buckets: 5 bits per channel (32 768 buckets) — fine enough to separate real colours. */
const BITS = 5;
const SHIFT = 8 - BITS;
const LEVELS = 1 << BITS;
const MAX_ITERATIONS = 20;
/** Pixels with less alpha than this are not part of what is seen. */
const VISIBLE_ALPHA = 128;

interface Bucket {
  r: number;
  g: number;
  b: number;
  weight: number;
}

type Rgb = [number, number, number];

export function mainColors(image: RawImage, count: number): Rgb[] {
  const buckets = histogram(image);
  if (buckets.length === 0 || count < 1) return [];
  const centres = initialCentres(buckets, Math.min(count, buckets.length));
  const assignment = new Int32Array(buckets.length).fill(-1);
  for (let iteration = 0; iteration < MAX_ITERATIONS; iteration += 1) {
    let changed = false;
    buckets.forEach((bucket, index) => {
      const nearest = nearestCentre(bucket, centres);
      if (nearest !== assignment[index]) {
        assignment[index] = nearest;
        changed = true;
      }
    });
    if (!changed) break;
    const sums = centres.map(() => ({ r: 0, g: 0, b: 0, weight: 0 }));
    buckets.forEach((bucket, index) => {
      const sum = sums[assignment[index]!]!;
      sum.r += bucket.r * bucket.weight;
      sum.g += bucket.g * bucket.weight;
      sum.b += bucket.b * bucket.weight;
      sum.weight += bucket.weight;
    });
    sums.forEach((sum, index) => {
      // An emptied cluster keeps its position with no weight (dropped from the answer if it stays empty).
      centres[index] = sum.weight > 0 ? { r: sum.r / sum.weight, g: sum.g / sum.weight, b: sum.b / sum.weight, weight: sum.weight } : { ...centres[index]!, weight: 0 };
    });
  }
  return centres
    .filter((centre) => centre.weight > 0)
    .sort((a, b) => b.weight - a.weight || a.r - b.r || a.g - b.g || a.b - b.b)
    .map((centre): Rgb => [Math.round(centre.r), Math.round(centre.g), Math.round(centre.b)]);
}

function histogram(image: RawImage): Bucket[] {
  const { data, channels } = image;
  const grey = channels < 3;
  const hasAlpha = channels === 2 || channels === 4;
  const sums = new Float64Array(LEVELS ** 3 * 4);
  for (let offset = 0; offset < data.length; offset += channels) {
    if (hasAlpha && data[offset + channels - 1]! < VISIBLE_ALPHA) continue;
    const r = data[offset]!;
    const g = grey ? r : data[offset + 1]!;
    const b = grey ? r : data[offset + 2]!;
    const index = (((r >> SHIFT) * LEVELS + (g >> SHIFT)) * LEVELS + (b >> SHIFT)) * 4;
    sums[index] = sums[index]! + r;
    sums[index + 1] = sums[index + 1]! + g;
    sums[index + 2] = sums[index + 2]! + b;
    sums[index + 3] = sums[index + 3]! + 1;
  }
  const buckets: Bucket[] = [];
  for (let index = 0; index < sums.length; index += 4) {
    const weight = sums[index + 3]!;
    if (weight > 0) buckets.push({ r: sums[index]! / weight, g: sums[index + 1]! / weight, b: sums[index + 2]! / weight, weight });
  }
  return buckets;
}

function distance(a: Bucket, b: Bucket): number {
  return (a.r - b.r) ** 2 + (a.g - b.g) ** 2 + (a.b - b.b) ** 2;
}

function nearestCentre(bucket: Bucket, centres: readonly Bucket[]): number {
  let best = 0;
  let bestDistance = Number.POSITIVE_INFINITY;
  centres.forEach((centre, index) => {
    const d = distance(bucket, centre);
    if (d < bestDistance) {
      bestDistance = d;
      best = index;
    }
  });
  return best;
}

/**
 * Deterministic k-means++-style seeding: the most populated bucket first, then repeatedly the bucket
 * with the largest weight × squared distance to its nearest chosen centre (common and different).
 */
function initialCentres(buckets: readonly Bucket[], count: number): Bucket[] {
  const first = buckets.reduce((best, bucket) => (bucket.weight > best.weight ? bucket : best));
  const centres: Bucket[] = [{ ...first }];
  const nearest = buckets.map((bucket) => distance(bucket, first));
  while (centres.length < count) {
    let pick = -1;
    let score = 0;
    buckets.forEach((bucket, index) => {
      const candidate = bucket.weight * nearest[index]!;
      if (candidate > score) {
        score = candidate;
        pick = index;
      }
    });
    if (pick === -1) break;
    const chosen = buckets[pick]!;
    centres.push({ ...chosen });
    buckets.forEach((bucket, index) => (nearest[index] = Math.min(nearest[index]!, distance(bucket, chosen))));
  }
  return centres;
}
