import type { FuzzRequest, HttpResponse } from '../http-client.js';
import type { Fixtures } from '../fixtures.js';
import { hugeNumber, mutateList, mutateString, NASTY, percentEncode, randomString, uriEncode } from '../mutate.js';
import { chance, int, pick, weighted, type Rng } from '../rng.js';

export interface FuzzCase {
  request: FuzzRequest;
  /** What the case exercises (`base`, `files-list`, …), for the counts in the report. */
  kind: string;
  /** A check beyond "no 5xx, no hang, 4xx explained", e.g. the bytes of a 206. A problem, or null. */
  verify?: (response: HttpResponse) => string | null;
}

export interface Target {
  name: string;
  generate(rng: Rng, fx: Fixtures): FuzzCase;
}

export const REST_ACCEPT = 'application/vnd.uploadcare-v0.7+json';

export function randomUuid(rng: Rng): string {
  const hex = () => Math.floor(rng() * 16).toString(16);
  const run = (n: number) => Array.from({ length: n }, hex).join('');
  return `${run(8)}-${run(4)}-4${run(3)}-${pick(rng, ['8', '9', 'a', 'b'])}${run(3)}-${run(12)}`;
}

/** A date the way people and programs write them, right and wrong. */
export function isoDate(rng: Rng): string {
  const y = weighted<() => string>(rng, [
    [6, () => String(int(rng, 1990, 2040))],
    [1, () => String(int(rng, 0, 9999)).padStart(4, '0')],
    [1, () => String(int(rng, 10000, 300000))],
    [1, () => `+${String(int(rng, 0, 300000)).padStart(6, '0')}`],
  ])();
  const two = (lo: number, hi: number) => String(int(rng, lo, hi)).padStart(2, '0');
  const date = `${y}-${two(0, 13)}-${two(0, 32)}`;
  return weighted<() => string>(rng, [
    [2, () => date],
    [4, () => `${date}T${two(0, 24)}:${two(0, 60)}:${two(0, 61)}Z`],
    [2, () => `${date}T${two(0, 23)}:${two(0, 59)}:${two(0, 59)}.${String(int(rng, 0, 999999999))}${pick(rng, ['Z', '+02:00', '-0530', ' 01:00', '+99:99', ''])}`],
    [1, () => `${date}T${two(0, 23)}:${two(0, 59)}`],
    [1, () => `${date} ${two(0, 23)}:${two(0, 59)}:${two(0, 59)}`],
    [1, () => new Date(Math.floor(rng() * 4e12)).toISOString()],
    [1, () => pick(rng, ['now', 'yesterday', '0', '-1', '1e20', 'Tue, 01 Jan 2030 00:00:00 GMT', '2026', '2026-01', 'T', '--', '2026-02-30T00:00:00Z', '2026-01-31T24:00:00Z', '9999-12-31T23:59:59.999Z', '-271821-04-20T00:00:00Z', '+275760-09-13T00:00:00.001Z'])],
    [1, () => mutateString(rng, new Date(Math.floor(rng() * 4e12)).toISOString())],
  ])();
}

export interface Param {
  name: string;
  value: string | null;
}

/** Encodes a query the ways clients do (and the ways they should not): encoded, raw, partly encoded. */
export function encodeQuery(rng: Rng, params: readonly Param[]): string {
  const style = weighted(rng, [
    [6, 'standard'],
    [2, 'raw'],
    [2, 'partial'],
  ] as const);
  const enc = (text: string) =>
    style === 'standard' ? uriEncode(text) : style === 'partial' ? percentEncode(rng, text) : text.replace(/[\s#]/g, (c) => uriEncode(c));
  return params.map((p) => (p.value === null ? enc(p.name) : `${enc(p.name)}=${enc(p.value)}`)).join(chance(rng, 0.97) ? '&' : pick(rng, ['&&', ';', '&amp;', '&=&']));
}

/** Parameters of a valid request, then bent: names and values mutated, duplicated, dropped, arrays, noise. */
export function mutateParams(rng: Rng, params: Param[], extraNames: readonly string[]): Param[] {
  if (chance(rng, 0.35)) return params;
  return mutateList(
    rng,
    params,
    () => ({ name: chance(rng, 0.7) ? pick(rng, extraNames) : randomString(rng, 12), value: chance(rng, 0.9) ? fuzzValue(rng) : null }),
    (p) =>
      weighted<() => Param>(rng, [
        [5, () => ({ ...p, value: mutateString(rng, p.value ?? '') })],
        [2, () => ({ ...p, value: fuzzValue(rng) })],
        [1, () => ({ ...p, name: `${p.name}${pick(rng, ['[]', '[0]', '[a]', '.x', ' ', '%00'])}` })],
        [1, () => ({ ...p, name: mutateString(rng, p.name) })],
        [1, () => ({ ...p, value: null })],
      ])(),
  );
}

export function fuzzValue(rng: Rng): string {
  return weighted<() => string>(rng, [
    [3, () => pick(rng, NASTY)],
    [3, () => hugeNumber(rng)],
    [2, () => randomString(rng, 30)],
    [1, () => isoDate(rng)],
    [1, () => 'x'.repeat(int(rng, 100, 70_000))],
  ])();
}

/** JSON text of `value`, sometimes damaged. */
export function jsonText(rng: Rng, value: unknown): string {
  const text = JSON.stringify(value) ?? 'null';
  return chance(rng, 0.7) ? text : mutateString(rng, text);
}

/** A JSON value of any shape (for fields that expect one shape). */
export function anyJson(rng: Rng, depth = 0): unknown {
  return weighted<() => unknown>(rng, [
    [2, () => fuzzValue(rng)],
    [1, () => Number(hugeNumber(rng))],
    [1, () => pick(rng, [true, false, null, 0, -1, 1.5, 1e308, [], {}])],
    [depth < 3 ? 1 : 0, () => Array.from({ length: int(rng, 0, 4) }, () => anyJson(rng, depth + 1))],
    [depth < 3 ? 1 : 0, () => Object.fromEntries(Array.from({ length: int(rng, 0, 4) }, () => [pick(rng, ['__proto__', 'constructor', 'a', randomString(rng, 6)]), anyJson(rng, depth + 1)]))],
  ])();
}

export function fixtureUuid(rng: Rng, fx: Fixtures): string {
  return pick(rng, [fx.png, fx.jpeg, fx.bin, fx.tiny, fx.one, fx.temporary]).uuid;
}

/** A uuid-like path segment: fixtures, unknown, shouting, damaged. */
export function uuidish(rng: Rng, fx: Fixtures): string {
  return weighted<() => string>(rng, [
    [6, () => fixtureUuid(rng, fx)],
    [2, () => randomUuid(rng)],
    [1, () => fixtureUuid(rng, fx).toUpperCase()],
    [2, () => mutateString(rng, fixtureUuid(rng, fx))],
    [1, () => uriEncode(randomString(rng, 20))],
  ])();
}

/** Bytes of a JSON answer's message: a 4xx must say what is wrong. */
export function errorMessageOf(body: Buffer, contentType: string | undefined): string | null {
  if (!contentType || !/json/i.test(contentType)) return null;
  let parsed: unknown;
  try {
    parsed = JSON.parse(body.toString('utf8'));
  } catch {
    return null;
  }
  if (typeof parsed !== 'object' || parsed === null) return null;
  const record = parsed as Record<string, unknown>;
  const nested = record.error;
  const candidates = [record.detail, record.message, typeof nested === 'object' && nested !== null ? (nested as Record<string, unknown>).content : nested];
  const message = candidates.find((c): c is string => typeof c === 'string' && c.trim().length > 0);
  return message ?? null;
}
