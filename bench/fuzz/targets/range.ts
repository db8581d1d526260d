/**
 * `Range` (and `If-Range`) on delivery: single, suffix, open, multiple and malformed ranges against
 * originals served from memory and from storage. Every 200/206/416 is checked against the file's bytes.
 */
import { createHash } from 'node:crypto';
import type { FixtureFile, Fixtures } from '../fixtures.js';
import type { HttpResponse } from '../http-client.js';
import { hugeNumber, mutateString, NASTY, randomString, uriEncode } from '../mutate.js';
import { chance, int, pick, weighted, type Rng } from '../rng.js';
import type { FuzzCase, Target } from './common.js';

function position(rng: Rng, size: number): string {
  return weighted<() => string>(rng, [
    [8, () => String(int(rng, 0, size + 2))],
    [2, () => String(int(rng, 0, 20))],
    [1, () => hugeNumber(rng)],
    [1, () => `${'0'.repeat(int(rng, 1, 30))}${int(rng, 0, size)}`],
    [0.5, () => '9'.repeat(int(rng, 16, 2000))],
  ])();
}

function spec(rng: Rng, size: number): string {
  return weighted<() => string>(rng, [
    [6, () => `${position(rng, size)}-${position(rng, size)}`],
    [2, () => `${position(rng, size)}-`],
    [2, () => `-${position(rng, size)}`],
    [1, () => '-'],
    [1, () => `${position(rng, size)}`],
    [1, () => `${position(rng, size)}-${position(rng, size)}-${position(rng, size)}`],
  ])();
}

const SPACE = ['', '', '', '', ' ', '\t', '  ', ' '.repeat(40)];

function rangeHeader(rng: Rng, size: number): string {
  return weighted<() => string>(rng, [
    [10, () => `bytes=${spec(rng, size)}`],
    [2, () => `${pick(rng, SPACE)}${pick(rng, ['bytes', 'Bytes', 'BYTES'])}${pick(rng, SPACE)}=${pick(rng, SPACE)}${position(rng, size)}${pick(rng, SPACE)}-${pick(rng, SPACE)}${position(rng, size)}${pick(rng, SPACE)}`],
    [2, () => `bytes=${Array.from({ length: int(rng, 2, 6) }, () => spec(rng, size)).join(pick(rng, [',', ', ', ' ,', ',,']))}`],
    [1, () => `${pick(rng, ['items', 'byte', 'bytes ', 'none', '', 'bits'])}=${spec(rng, size)}`],
    [1, () => pick(rng, ['bytes=', 'bytes', '=', 'bytes=--1', 'bytes=-0', 'bytes=0-0', 'bytes=0--1', 'bytes=+1-2', 'bytes=1-+2', 'bytes=1.0-2', 'bytes=0x1-2', 'bytes=٣-5', 'bytes=0-0,-1', 'bytes=-1-2'])],
    [2, () => mutateString(rng, `bytes=${spec(rng, size)}`)],
    [0.3, () => `bytes=${' '.repeat(int(rng, 1000, 12_000))}${pick(rng, ['x', '0', '-', '0-'])}`],
    [0.3, () => `bytes=0-${' '.repeat(int(rng, 1000, 12_000))}${pick(rng, ['x', '1', '-'])}`],
    [0.3, () => `bytes=${' '.repeat(int(rng, 500, 7000))}${pick(rng, ['', '1'])}-${' '.repeat(int(rng, 500, 7000))}${pick(rng, ['x', '', '2 !'])}`],
    [0.3, () => `bytes=${Array.from({ length: int(rng, 100, 2000) }, () => '0-1').join(',')}`],
    [1, () => randomString(rng, 40).replace(/[\r\n]/g, '')],
    [0.5, () => pick(rng, NASTY).replace(/[\r\n]/g, '')],
  ])();
}

/** The RFC 9110 answer for the strict single-range forms; null when Trove may choose (ignore or refuse). */
function expected(header: string, size: number): { status: 206; start: number; end: number } | { status: 416 } | null {
  const m = /^bytes=(\d+)-(\d*)$/.exec(header) ?? /^bytes=-(\d+)$/.exec(header);
  if (!m) return null;
  if (header.startsWith('bytes=-')) {
    const suffix = Number(m[1]);
    if (suffix === 0 || size === 0) return { status: 416 };
    return { status: 206, start: Math.max(0, size - suffix), end: size - 1 };
  }
  const start = Number(m[1]);
  const end = m[2] === '' ? size - 1 : Math.min(Number(m[2]), size - 1);
  if (m[2] !== '' && Number(m[2]) < start) return null;
  if (start >= size) return { status: 416 };
  return { status: 206, start, end };
}

function verifier(file: FixtureFile, header: string | undefined, method: string, rangeApplies: boolean) {
  const size = file.bytes.length;
  return (response: HttpResponse): string | null => {
    const { status, headers, body } = response;
    const length = Number(headers['content-length']);
    if (status === 200) {
      if (length !== size) return `200 with content-length ${headers['content-length']}, file has ${size} bytes`;
      if (method === 'GET' && !body.equals(file.bytes)) return `200 body differs from the file (${body.length} bytes)`;
      if (rangeApplies && header !== undefined) {
        const want = expected(header, size);
        if (want) return `${JSON.stringify(header)} answered 200; RFC 9110 says ${want.status}`;
      }
      return null;
    }
    if (status === 206) {
      const m = /^bytes (\d+)-(\d+)\/(\d+)$/.exec(headers['content-range'] ?? '');
      if (!m) return `206 with content-range ${JSON.stringify(headers['content-range'])}`;
      const [start, end, total] = [Number(m[1]), Number(m[2]), Number(m[3])];
      if (total !== size || start > end || end >= size) return `206 with impossible content-range ${headers['content-range']} for ${size} bytes`;
      if (length !== end - start + 1) return `206 content-length ${headers['content-length']} for range ${start}-${end}`;
      if (method === 'GET' && !body.equals(file.bytes.subarray(start, end + 1))) return `206 body is not bytes ${start}-${end} of the file`;
      if (header !== undefined) {
        const want = expected(header, size);
        if (want && (want.status !== 206 || want.start !== start || want.end !== end)) return `${JSON.stringify(header)} answered bytes ${start}-${end}; RFC 9110 says ${want.status === 206 ? `${want.start}-${want.end}` : '416'}`;
      }
      return null;
    }
    if (status === 416) {
      if (headers['content-range'] !== `bytes */${size}`) return `416 with content-range ${JSON.stringify(headers['content-range'])}`;
      if (header !== undefined) {
        const want = expected(header, size);
        if (want && want.status !== 416) return `${JSON.stringify(header)} answered 416; RFC 9110 says 206 ${want.start}-${want.end}`;
      }
      return null;
    }
    return null;
  };
}

export const rangeTarget: Target = {
  name: 'range',
  generate(rng: Rng, fx: Fixtures): FuzzCase {
    const file = weighted<() => FixtureFile>(rng, [
      [4, () => fx.bin],
      [3, () => fx.tiny],
      [2, () => fx.one],
      [2, () => fx.png],
      [1, () => fx.temporary],
    ])();
    const size = file.bytes.length;
    const where = weighted(rng, [[10, 'plain'], [2, 'filename'], [1, 'inline'], [1, 'group'], [1, 'derivative']] as const);
    let target = `/${file.uuid}/`;
    let verified: FixtureFile | null = file;
    if (where === 'filename') target += uriEncode(pick(rng, ['x.bin', 'résumé.pdf', file.name]));
    if (where === 'inline') target += `-/inline/${pick(rng, ['yes', 'no'])}/`;
    if (where === 'group') {
      const index = int(rng, 0, 3);
      target = `/${fx.groupId}/nth/${index}/`;
      // Member 1 carries its own resize: a derivative, which ranges do not apply to.
      verified = index === 0 ? fx.png : index === 2 ? fx.bin : null;
    }
    if (where === 'derivative') {
      target = `/${fx.png.uuid}/-/resize/${int(rng, 5, 40)}x/`;
      verified = null;
    }
    const headers: Array<[string, string]> = [];
    const ranges = weighted(rng, [[12, 1], [1, 0], [1, 2]] as const);
    for (let i = 0; i < ranges; i++) headers.push([chance(rng, 0.95) ? 'range' : pick(rng, ['Range', 'RANGE', 'range ']), rangeHeader(rng, size)]);
    const etag = `"${createSha(file)}"`;
    let rangeApplies = true;
    if (chance(rng, 0.15)) {
      const ifRange = pick(rng, [etag, etag, `W/${etag}`, '"other"', new Date().toUTCString(), 'Thu, 01 Jan 1970 00:00:00 GMT', mutateString(rng, etag).replace(/[\r\n]/g, '')]);
      headers.push(['if-range', ifRange]);
      rangeApplies = ifRange === etag;
    }
    if (chance(rng, 0.05)) headers.push(['if-none-match', pick(rng, [etag, '*', '"x"'])]);
    const method = chance(rng, 0.85) ? 'GET' : 'HEAD';
    const header = ranges === 1 ? headers[0]![1] : undefined;
    return {
      request: { method, target, headers, body: Buffer.alloc(0), framing: 'none' },
      kind: `range-${where}`,
      ...(verified ? { verify: verifier(verified, verified === file ? header : undefined, method, rangeApplies && ranges === 1 && verified === file) } : {}),
    };
  },
};

const shaCache = new WeakMap<FixtureFile, string>();
function createSha(file: FixtureFile): string {
  let sha = shaCache.get(file);
  if (!sha) {
    sha = createHash('sha256').update(file.bytes).digest('hex');
    shaCache.set(file, sha);
  }
  return sha;
}
