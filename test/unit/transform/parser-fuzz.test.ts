/**
 * The parser takes arbitrary input from the internet: whatever it gets, it answers with a plan or
 * a 400 AppError, never another exception, and quickly. Seeded, so a failure can be replayed.
 */
import { describe, expect, it } from 'vitest';
import { AppError } from '../../../src/errors.js';
import { planHash } from '../../../src/domain/transform/cache-key.js';
import { normalizePlan } from '../../../src/domain/transform/normalize.js';
import type { DeliveryPlan } from '../../../src/domain/transform/operations.js';
import { parseUploadcarePath } from '../../../src/domain/transform/uploadcare-parser.js';
import { loadConfig } from '../../../src/config/load-config.js';
import { mulberry32 as random } from '../../../bench/fuzz/rng.js';

const LIMITS = loadConfig({}).transform;


const OPERATION_NAMES = [
  'preview', 'resize', 'smart_resize', 'scale_crop', 'crop', 'stretch', 'setfill', 'format', 'quality',
  'progressive', 'autorotate', 'strip_meta', 'inline', 'rotate', 'flip', 'mirror', 'grayscale', 'invert',
  'blur', 'blur_region', 'sharp', 'enhance', 'brightness', 'exposure', 'contrast', 'saturation', 'vibrance',
  'warmth', 'border_radius', 'overlay', 'json', 'main_colors', 'gamma', 'unknown', '__proto__', 'constructor', '',
];
const WORDS = [
  'center', 'top', 'bottom', 'left', 'right', 'top_left', 'bottom_right', 'smart', 'smart_faces', 'smart_points',
  'smart_faces_points', 'faces', 'face', 'self', 'yes', 'no', 'on', 'off', 'fill', 'auto', 'preserve', 'jpeg', 'webp',
  'gif', 'all', 'none', 'sensitive', 'normal', 'smart_retina', 'fff', '000000', 'ece3d280', 'x', ',', ':', '%', 'p',
  '3e7f1b44-6a3c-4f4e-9a53-2f9d2a6c1b01', 'photo.jpg', '%25', '%2F', '%00', '..', '-', '',
];

function pick<T>(next: () => number, items: readonly T[]): T {
  return items[Math.floor(next() * items.length)]!;
}

function number(next: () => number): string {
  const roll = next();
  if (roll < 0.1) return '0';
  if (roll < 0.2) return String(Math.floor(next() * 6000) - 500);
  if (roll < 0.3) return `${Math.floor(next() * 120)}.${Math.floor(next() * 1000)}`;
  if (roll < 0.35) return '9'.repeat(1 + Math.floor(next() * 15));
  return String(Math.floor(next() * 200));
}

function value(next: () => number): string {
  const roll = next();
  const unit = (): string => pick(next, ['', '', 'p', '%', '%25', 'px']);
  if (roll < 0.25) return `${next() < 0.8 ? number(next) + unit() : ''}x${next() < 0.8 ? number(next) + unit() : ''}`;
  if (roll < 0.4) return `${number(next)}${unit()},${number(next)}${unit()}`;
  if (roll < 0.5) return `${number(next)}:${number(next)}`;
  if (roll < 0.65) return number(next) + unit();
  if (roll < 0.7) return [number(next), number(next), number(next), number(next)].slice(0, 1 + Math.floor(next() * 5)).join(',');
  return pick(next, WORDS);
}

/** Mostly well-formed directives, with mistakes sprinkled in. */
function grammarPath(next: () => number): string {
  const segments: string[] = [];
  const directives = Math.floor(next() * 8);
  for (let i = 0; i < directives; i++) {
    if (next() < 0.97) segments.push('-');
    segments.push(pick(next, OPERATION_NAMES));
    const params = Math.floor(next() * 4);
    for (let j = 0; j < params; j++) segments.push(value(next));
  }
  if (next() < 0.3) segments.push(pick(next, ['photo.jpg', 'r%C3%A9sum%C3%A9.pdf', '100%.png', 'a%2Fb', 'x']));
  return segments.join('/') + (next() < 0.5 ? '/' : '');
}

const ALPHABET = '-/x,:%p0123456789abcdef_.% \u0000\n\u00e9\ud800\udc00\ud83d\ude00ZZ';

function noisePath(next: () => number): string {
  const length = Math.floor(next() * 80);
  let text = '';
  for (let i = 0; i < length; i++) {
    text += next() < 0.7 ? ALPHABET[Math.floor(next() * ALPHABET.length)]! : String.fromCharCode(Math.floor(next() * 0x10000));
  }
  return text;
}

function parseOrRefuse(rest: string): DeliveryPlan | AppError {
  try {
    return parseUploadcarePath(rest, LIMITS);
  } catch (error) {
    if (!(error instanceof AppError) || error.statusCode !== 400) {
      throw new Error(`${JSON.stringify(rest)} threw ${String(error)}`);
    }
    return error;
  }
}

function check(rest: string): 'plan' | 'refused' {
  const first = parseOrRefuse(rest);
  if (first instanceof AppError) {
    expect(first.message.length).toBeLessThan(1000);
    return 'refused';
  }
  const second = parseUploadcarePath(rest, LIMITS);
  expect(planHash(second.plan)).toBe(planHash(first.plan));
  expect(normalizePlan(first.plan)).toEqual(first.plan);
  return 'plan';
}

describe('parseUploadcarePath fuzzing', () => {
  it('answers grammar-shaped paths with a plan or a 400', () => {
    const next = random(0x7e57);
    const outcomes = { plan: 0, refused: 0 };
    for (let i = 0; i < 6000; i++) outcomes[check(grammarPath(next))]++;
    // The generator must exercise both sides, or it tests nothing.
    expect(outcomes.plan).toBeGreaterThan(500);
    expect(outcomes.refused).toBeGreaterThan(500);
  });

  it('answers random characters with a plan or a 400', () => {
    const next = random(0xb17e5);
    for (let i = 0; i < 4000; i++) check(noisePath(next));
  });

  it('stays fast on the longest inputs allowed', () => {
    const next = random(42);
    const started = performance.now();
    for (let i = 0; i < 200; i++) {
      const long = Array.from({ length: 400 }, () => (next() < 0.5 ? '-' : value(next))).join('/').slice(0, 2048);
      check(long);
    }
    check('-/'.repeat(1024));
    check('%'.repeat(2048));
    check('/'.repeat(2048));
    expect(performance.now() - started).toBeLessThan(1500);
  });
});
