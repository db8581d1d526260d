/**
 * CDN URLs: `/:uuid/-/op/params/…/filename` and `/:group/nth/:i/…`, from the operation grammar,
 * then bent segment by segment and character by character; some are pure noise.
 */
import type { Fixtures } from '../fixtures.js';
import { hugeNumber, mutateList, mutateString, NASTY, percentEncode, randomString, uriEncode } from '../mutate.js';
import { chance, int, pick, weighted, type Rng } from '../rng.js';
import { randomUuid, uuidish, type FuzzCase, type Target } from './common.js';

const ALIGN = ['center', 'top', 'bottom', 'left', 'right', 'top_left', 'top_right', 'bottom_left', 'bottom_right', 'centre', 'middle'];
const COLOURS = ['fff', 'ffffff', '000000', 'ece3d280', 'f00', 'zzzzzz', 'ff00ff00', '#fff', 'red'];

function size(rng: Rng): number | string {
  return weighted<() => number | string>(rng, [
    [10, () => int(rng, 1, 300)],
    [2, () => int(rng, 300, 1100)],
    [1, () => int(rng, 1100, 9000)],
    [1, () => hugeNumber(rng)],
  ])();
}

const pct = (rng: Rng) => `${int(rng, 0, 120)}${pick(rng, ['p', '%', '%25', 'p', ''])}`;
const dims = (rng: Rng) => weighted<() => string>(rng, [[4, () => `${size(rng)}x${size(rng)}`], [1, () => `${size(rng)}x`], [1, () => `x${size(rng)}`], [1, () => `${pct(rng)}x${pct(rng)}`]])();
const offset = (rng: Rng) => weighted<() => string>(rng, [[2, () => `${int(rng, -10, 200)},${int(rng, -10, 200)}`], [2, () => `${pct(rng)},${pct(rng)}`], [2, () => pick(rng, ALIGN)]])();
const signed = (rng: Rng, lo: number, hi: number) => String(chance(rng, 0.9) ? int(rng, lo, hi) : hugeNumber(rng));

/** One directive as path segments (without the leading `-`), mostly the shapes the grammar accepts. */
function directive(rng: Rng, fx: Fixtures): string[] {
  return weighted<() => string[]>(rng, [
    [3, () => ['preview', ...(chance(rng, 0.7) ? [dims(rng)] : [])]],
    [4, () => ['resize', dims(rng)]],
    [1, () => ['smart_resize', dims(rng)]],
    [3, () => ['scale_crop', dims(rng), ...(chance(rng, 0.4) ? [pick(rng, ['smart', 'smart_faces', 'smart_objects', 'smart_faces_objects', 'smart_objects_faces_points'])] : []), ...(chance(rng, 0.5) ? [offset(rng)] : [])]],
    [3, () => ['crop', chance(rng, 0.8) ? dims(rng) : `${int(rng, 1, 20)}:${int(rng, 1, 20)}`, ...(chance(rng, 0.6) ? [offset(rng)] : [])]],
    [1, () => ['stretch', pick(rng, ['on', 'off', 'fill'])]],
    [1, () => ['setfill', pick(rng, COLOURS)]],
    [3, () => ['format', pick(rng, ['jpeg', 'png', 'webp', 'avif', 'gif', 'auto', 'preserve', 'tiff', 'jpg'])]],
    [2, () => ['quality', pick(rng, ['normal', 'better', 'best', 'lighter', 'lightest', 'smart', 'smart_retina', 'high'])]],
    [1, () => ['progressive', pick(rng, ['yes', 'no'])]],
    [1, () => ['autorotate', pick(rng, ['yes', 'no'])]],
    [2, () => ['rotate', String(chance(rng, 0.8) ? 90 * int(rng, -4, 8) : int(rng, -400, 400))]],
    [1, () => [pick(rng, ['flip', 'mirror', 'grayscale', 'invert'])]],
    [2, () => ['blur', ...(chance(rng, 0.7) ? [signed(rng, 0, 5001)] : []), ...(chance(rng, 0.3) ? [signed(rng, -201, 101)] : [])]],
    [1, () => ['blur_region', chance(rng, 0.8) ? dims(rng) : 'faces', ...(chance(rng, 0.8) ? [offset(rng)] : []), ...(chance(rng, 0.5) ? [signed(rng, 0, 5001)] : [])]],
    [1, () => ['sharp', signed(rng, 0, 21)]],
    [1, () => ['enhance', ...(chance(rng, 0.7) ? [signed(rng, 0, 101)] : [])]],
    [2, () => [pick(rng, ['brightness', 'exposure', 'contrast', 'saturation', 'vibrance', 'warmth', 'gamma']), signed(rng, -501, 501)]],
    [1, () => ['border_radius', Array.from({ length: int(rng, 1, 5) }, () => (chance(rng, 0.5) ? String(int(rng, 0, 60)) : pct(rng))).join(','), ...(chance(rng, 0.2) ? [`${int(rng, 0, 30)},${int(rng, 0, 30)}`] : [])]],
    [2, () => ['overlay', pick(rng, [fx.png.uuid, fx.jpeg.uuid, 'self', fx.bin.uuid, randomUuid(rng)]), ...(chance(rng, 0.6) ? [`${pct(rng)}x${pct(rng)}`] : []), ...(chance(rng, 0.5) ? [offset(rng)] : []), ...(chance(rng, 0.4) ? [pct(rng)] : [])]],
    [1, () => ['strip_meta', pick(rng, ['all', 'none', 'sensitive'])]],
    [2, () => ['inline', pick(rng, ['yes', 'no', 'maybe'])]],
    [1, () => ['json']],
    [1, () => ['main_colors', ...(chance(rng, 0.6) ? [signed(rng, 0, 20)] : [])]],
    [1, () => [pick(rng, ['unknown', '__proto__', 'constructor', 'toString', '', 'RESIZE', 'resize '])]],
  ])();
}

function filename(rng: Rng): string {
  return weighted<() => string>(rng, [
    [5, () => pick(rng, ['photo.jpg', 'image.png', 'r%C3%A9sum%C3%A9.pdf', '100%25.png', 'a%2Fb', 'x', '.', 'file.webp', 'a%20b.txt'])],
    [1, () => uriEncode(randomString(rng, 30))],
    [1, () => pick(rng, NASTY)],
    [1, () => 'a'.repeat(int(rng, 100, 2100))],
  ])();
}

/** The path segments after the id: directives, optional filename, trailing slash or not. */
function grammarTail(rng: Rng, fx: Fixtures): string[] {
  const segments: string[] = [];
  const count = weighted(rng, [[2, 0], [6, int(rng, 1, 3)], [2, int(rng, 4, 8)], [0.3, int(rng, 30, 40)]] as const);
  for (let i = 0; i < count; i++) segments.push('-', ...directive(rng, fx));
  if (chance(rng, 0.3)) segments.push(filename(rng));
  return segments;
}

/** Non-ASCII and control characters go mostly percent-encoded, as a browser would send them. */
function onTheWire(rng: Rng, text: string): string {
  if (chance(rng, 0.1)) return text.replace(/[\r\n]/g, (c) => uriEncode(c));
  return text.replace(/[^\x21-\x7e]|[#?]/g, (c) => (chance(rng, 0.97) ? percentEncode(rng, c, true) : c === '\r' || c === '\n' ? '%0A' : c));
}

function idSegment(rng: Rng, fx: Fixtures): { id: string; group: boolean } {
  return weighted<() => { id: string; group: boolean }>(rng, [
    [12, () => ({ id: pick(rng, [fx.png.uuid, fx.png.uuid, fx.jpeg.uuid]), group: false })],
    [3, () => ({ id: pick(rng, [fx.bin.uuid, fx.tiny.uuid, fx.temporary.uuid]), group: false })],
    [3, () => ({ id: fx.groupId, group: true })],
    [1, () => ({ id: randomUuid(rng), group: false })],
    [1, () => ({ id: chance(rng, 0.5) ? fx.png.uuid.toUpperCase() : mutateString(rng, fx.groupId), group: false })],
    [1, () => ({ id: uuidish(rng, fx), group: false })],
    [0.5, () => ({ id: pick(rng, ['', '-', 'upload', 'files', 'dashboard', 'health', 'widget.js', '..', '%2e%2e', 'docs']), group: false })],
  ])();
}

export const urlTarget: Target = {
  name: 'url',
  generate(rng: Rng, fx: Fixtures): FuzzCase {
    const { id, group } = idSegment(rng, fx);
    let segments = grammarTail(rng, fx);
    if (group) segments.unshift('nth', weighted<() => string>(rng, [[6, () => String(int(rng, 0, 3))], [1, () => hugeNumber(rng)], [1, () => '']])());
    const style = weighted(rng, [[5, 'grammar'], [3, 'segments'], [3, 'chars'], [1, 'noise']] as const);
    if (style === 'segments') {
      segments = mutateList(rng, segments, () => (chance(rng, 0.5) ? pick(rng, ['-', ...directive(rng, fx)]) : pick(rng, NASTY)), (s) => mutateString(rng, s));
    }
    let tail = segments.join('/');
    if (style === 'chars') tail = mutateString(rng, tail);
    if (style === 'noise') tail = randomString(rng, int(rng, 0, 1) ? 80 : 2500);
    let path = `/${id}/${tail}${chance(rng, 0.6) ? '/' : ''}`;
    if (chance(rng, 0.03)) path = path.replace(/\//g, () => pick(rng, ['/', '//', '\\', '/./']));
    let target = onTheWire(rng, path);
    if (chance(rng, 0.05)) target += `?${pick(rng, ['', 'a=1', 'format=png', randomString(rng, 20).replace(/[\s#]/g, '')])}`;
    if (chance(rng, 0.01)) target = pick(rng, ['*', 'http://127.0.0.1/' + target.slice(1), target.slice(1), `//${target}`]);
    const headers: Array<[string, string]> = [];
    if (chance(rng, 0.7)) headers.push(['accept', pick(rng, ['image/avif,image/webp,image/apng,image/*,*/*;q=0.8', 'image/webp,*/*', '*/*', 'image/png', 'text/html', '', 'image/avif;q=0, image/webp;q=0.5', randomString(rng, 30).replace(/[\r\n]/g, '')])]);
    if (chance(rng, 0.05)) headers.push(['if-none-match', pick(rng, ['*', '"x"', 'W/"x"', randomString(rng, 20).replace(/[\r\n]/g, '')])]);
    const method = weighted(rng, [[17, 'GET'], [3, 'HEAD'], [0.2, 'POST'], [0.2, 'OPTIONS']] as const);
    return { request: { method, target, headers, body: Buffer.alloc(0), framing: 'none' }, kind: `url-${style}${group ? '-group' : ''}` };
  },
};
