/**
 * Mutations shared by every target: valid requests are bent at the places parsers tend to break
 * (lengths, numbers, encodings, separators, control characters), and some inputs are pure noise.
 */
import { chance, int, pick, weighted, type Rng } from './rng.js';

export const HUGE_NUMBERS = [
  '0', '-0', '-1', '1', '00000000000000000001', '2147483647', '2147483648', '4294967296', '-2147483649',
  '9007199254740991', '9007199254740993', '18446744073709551616', '1e3', '1e309', '-1e309', '1.5', '.5', '5.',
  '0x10', '0b1', '0o7', 'NaN', 'Infinity', '-Infinity', '+1', ' 1', '1 ', '1_000', '１２', '٣', '1e-7', '-',
];

/** Fragments that have broken parsers before: separators, encodings, control and exotic characters. */
export const NASTY = [
  '', ' ', '  ', '\t', '\u0000', '\u0001', '\u001f', '\u007f', '\u0085', '\u00a0', '\u2028', '\u200b', '\ufeff', '\ufffd',
  '\ud800', '\udfff', '\ud83d\ude00', 'é', 'ß', 'İ', 'ﬁ', '\u0301', '日本', '%', '%%', '%2', '%zz', '%00', '%0a', '%0d%0a',
  '%25', '%2F', '%2f', '%5C', '%C3%A9', '%C3', '%FF', '%ED%A0%80', '%F0%9F%98%80', '%u0041', '+', '&', '=', '?', '#', ';',
  ',', ':', '/', '//', '\\', '..', '../', './', '~', '-', '--', '-/', '/-/', 'x', 'X', '*', '"', "'", '<', '>', '`', '{', '}',
  '[', ']', '[]', '()', '$', '@', '!', '|', '^', '__proto__', 'constructor', 'prototype', 'toString', 'null', 'undefined',
  'true', 'false', 'NaN', '\r', '\n', '\r\n', '\r\n\r\n', 'A'.repeat(64), 'A'.repeat(300), '9'.repeat(40), 'é'.repeat(50),
];

export function hugeNumber(rng: Rng): string {
  const roll = rng();
  if (roll < 0.5) return pick(rng, HUGE_NUMBERS);
  if (roll < 0.7) return '9'.repeat(int(rng, 1, 400));
  if (roll < 0.8) return `-${int(rng, 0, 1e9)}`;
  if (roll < 0.9) return String(rng() * 10 ** int(rng, -10, 30));
  return '0'.repeat(int(rng, 1, 50)) + String(int(rng, 0, 999));
}

const ASCII = ' !"#$%&\'()*+,-./0123456789:;<=>?@ABCDEFGHIJKLMNOPQRSTUVWXYZ[\\]^_`abcdefghijklmnopqrstuvwxyz{|}~';

export function randomChar(rng: Rng): string {
  return weighted<() => string>(rng, [
    [6, () => ASCII[int(rng, 0, ASCII.length - 1)]!],
    [1, () => String.fromCharCode(int(rng, 0, 0x1f))],
    [1, () => String.fromCharCode(int(rng, 0x80, 0x7ff))],
    [1, () => String.fromCharCode(int(rng, 0, 0xffff))],
    [0.5, () => String.fromCodePoint(int(rng, 0x10000, 0x10ffff))],
  ])();
}

export function randomString(rng: Rng, maxLength = 40): string {
  const length = int(rng, 0, maxLength);
  let text = '';
  for (let i = 0; i < length; i++) text += randomChar(rng);
  return text;
}

function encodeAll(text: string): string {
  let out = '';
  for (const byte of Buffer.from(text, 'utf8')) out += `%${byte < 16 ? '0' : ''}${byte.toString(16)}`;
  return out;
}

/** Percent-encodes every character of `text` (or only some), as UTF-8, in upper or lower case. */
export function percentEncode(rng: Rng, text: string, all = false): string {
  const upper = chance(rng, 0.5);
  const encode = (part: string) => (upper ? encodeAll(part).toUpperCase() : encodeAll(part));
  if (all) return encode(text);
  // Long values are cut into a few runs rather than decided per character: the fuzzer's own time matters.
  const chars = Array.from(text);
  const run = Math.max(1, Math.ceil(chars.length / 32));
  let out = '';
  for (let at = 0; at < chars.length; at += run) {
    const part = chars.slice(at, at + run).join('');
    out += chance(rng, 0.5) ? encode(part) : part;
  }
  return out;
}

function fragment(rng: Rng): string {
  return weighted<() => string>(rng, [
    [4, () => pick(rng, NASTY)],
    [2, () => hugeNumber(rng)],
    [2, () => randomString(rng, 8)],
    [1, () => `%${int(rng, 0, 255).toString(16).padStart(2, '0')}`],
  ])();
}

/** One to four edits: insert, delete, duplicate, replace, encode, case-flip, truncate, repeat. */
export function mutateString(rng: Rng, input: string): string {
  let text = input;
  const edits = int(rng, 1, 4);
  for (let e = 0; e < edits; e++) {
    const at = int(rng, 0, text.length);
    const to = Math.min(text.length, at + int(rng, 0, 12));
    text = weighted<() => string>(rng, [
      [4, () => text.slice(0, at) + fragment(rng) + text.slice(at)],
      [2, () => text.slice(0, at) + text.slice(to)],
      [2, () => text.slice(0, to) + text.slice(at, to).repeat(int(rng, 1, 20)) + text.slice(to)],
      [3, () => text.slice(0, at) + fragment(rng) + text.slice(to)],
      [2, () => text.slice(0, at) + percentEncode(rng, text.slice(at, to), chance(rng, 0.5)) + text.slice(to)],
      [1, () => text.slice(0, at) + text.slice(at, to).toUpperCase() + text.slice(to)],
      [1, () => text.slice(0, at)],
      [0.5, () => text.repeat(int(rng, 2, 30))],
      [1, () => text.slice(0, at) + String.fromCharCode(int(rng, 0, 0x1f)) + text.slice(at)],
    ])();
  }
  return text;
}

/** Edits to a list of segments (path parts, fields, headers): insert, delete, duplicate, replace, swap, mutate one. */
export function mutateList<T>(rng: Rng, items: readonly T[], make: () => T, mutate: (item: T) => T): T[] {
  const list = [...items];
  const edits = int(rng, 1, 3);
  for (let e = 0; e < edits; e++) {
    const i = int(rng, 0, Math.max(0, list.length - 1));
    weighted<() => void>(rng, [
      [2, () => list.splice(int(rng, 0, list.length), 0, make())],
      [2, () => list.length > 0 && list.splice(i, 1)],
      [1, () => list.length > 0 && list.splice(i, 0, ...Array<T>(int(rng, 1, 5)).fill(list[i]!))],
      [2, () => list.length > 0 && (list[i] = make())],
      [1, () => {
        const j = int(rng, 0, Math.max(0, list.length - 1));
        if (list.length > 1) [list[i], list[j]] = [list[j]!, list[i]!];
      }],
      [4, () => list.length > 0 && (list[i] = mutate(list[i]!))],
    ])();
  }
  return list;
}

/** Byte-level damage: flips, insertions, deletions, duplicated runs. */
export function mutateBytes(rng: Rng, input: Buffer): Buffer {
  let bytes: Buffer = Buffer.from(input);
  const edits = int(rng, 1, 6);
  for (let e = 0; e < edits; e++) {
    const at = int(rng, 0, bytes.length);
    const to = Math.min(bytes.length, at + int(rng, 1, 64));
    bytes = weighted<() => Buffer>(rng, [
      [3, () => {
        if (at < bytes.length) bytes[at] = int(rng, 0, 255);
        return bytes;
      }],
      [2, () => Buffer.concat([bytes.subarray(0, at), Buffer.from(fragment(rng), 'utf8'), bytes.subarray(at)])],
      [2, () => Buffer.concat([bytes.subarray(0, at), bytes.subarray(to)])],
      [1, () => Buffer.concat([bytes.subarray(0, to), bytes.subarray(at, to), bytes.subarray(at, to), bytes.subarray(to)])],
      [1, () => bytes.subarray(0, at)],
    ])();
  }
  return bytes;
}

export function randomBytes(rng: Rng, maxLength: number): Buffer {
  const bytes = Buffer.alloc(int(rng, 0, maxLength));
  let at = 0;
  for (; at + 4 <= bytes.length; at += 4) bytes.writeUInt32LE(Math.floor(rng() * 4294967296), at);
  for (; at < bytes.length; at++) bytes[at] = Math.floor(rng() * 256);
  return bytes;
}

/** A value for a header: mostly printable, sometimes with the bytes HTTP forbids (the server must refuse, not crash). */
export function headerNoise(rng: Rng): string {
  return weighted<() => string>(rng, [
    [3, () => randomString(rng, 30).replace(/[\r\n]/g, '')],
    [1, () => pick(rng, NASTY).replace(/[\r\n]/g, '')],
    [1, () => 'x'.repeat(int(rng, 1, 12_000))],
  ])();
}

/** encodeURIComponent that also takes lone surrogates (sent as U+FFFD's UTF-8, as browsers do). */
export function uriEncode(text: string): string {
  try {
    return encodeURIComponent(text);
  } catch {
    return encodeURIComponent(Buffer.from(text, 'utf8').toString('utf8'));
  }
}
