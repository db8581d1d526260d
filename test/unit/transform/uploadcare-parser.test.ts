import { describe, expect, it } from 'vitest';
import { AppError } from '../../../src/errors.js';
import { planHash } from '../../../src/domain/transform/cache-key.js';
import { normalizePlan } from '../../../src/domain/transform/normalize.js';
import {
  DEFAULT_BACKGROUND,
  DEFAULT_OUTPUT,
  type Operation,
  type TransformPlan,
} from '../../../src/domain/transform/operations.js';
import { loadConfig } from '../../../src/config/load-config.js';
import { parseUploadcarePath, type ParseLimits } from '../../../src/domain/transform/uploadcare-parser.js';
import { sanitizeOriginalFilename } from '../../../src/domain/filename.js';

const UUID = '3e7f1b44-6a3c-4f4e-9a53-2f9d2a6c1b01';
/** The limits Trove runs with by default. */
const LIMITS: ParseLimits = loadConfig({}).transform;

function parse(rest: string, limits: ParseLimits = LIMITS) {
  return parseUploadcarePath(rest, limits);
}
const WHITE = DEFAULT_BACKGROUND;
const BLACK = { r: 0, g: 0, b: 0, alpha: 255 };
const px = (value: number) => ({ unit: 'px', value }) as const;
const pct = (value: number) => ({ unit: 'percent', value }) as const;
const align = (x: 'left' | 'center' | 'right', y: 'top' | 'center' | 'bottom') => ({ type: 'align', x, y }) as const;

function ops(rest: string): Operation[] {
  return parse(rest).plan.operations;
}

function op(rest: string): Operation {
  const operations = ops(rest);
  expect(operations).toHaveLength(1);
  return operations[0]!;
}

function failure(rest: string, limits: ParseLimits = LIMITS): AppError {
  try {
    parse(rest, limits);
  } catch (error) {
    expect(error).toBeInstanceOf(AppError);
    expect((error as AppError).statusCode).toBe(400);
    return error as AppError;
  }
  throw new Error(`expected ${rest} to be refused`);
}

/** Both URLs must give deep-equal plans and one cache key. */
function expectEquivalent(a: string, b: string): void {
  const planA = parse(a).plan;
  const planB = parse(b).plan;
  expect(planA).toEqual(planB);
  expect(planHash(planA)).toBe(planHash(planB));
}

describe('parseUploadcarePath: the bare original', () => {
  it('serves the original as it is without operations', () => {
    expect(parse('')).toEqual({
      plan: { operations: [], output: DEFAULT_OUTPUT, info: null },
      inline: null,
      filename: null,
      transforms: false,
    });
  });

  it.each([
    ['photo.jpg', 'photo.jpg', null],
    ['-/inline/no/', null, false],
    ['-/inline/yes/photo.jpg', 'photo.jpg', true],
    ['-/inline/yes/-/inline/no/', null, false],
  ])('%j is inline/filename only, so no transformation', (rest, filename, inline) => {
    const parsed = parse(rest);
    expect(parsed.transforms).toBe(false);
    expect(parsed.filename).toBe(filename);
    expect(parsed.inline).toBe(inline);
    expect(parsed.plan.operations).toEqual([]);
  });

  it.each(['-/autorotate/no/', '-/strip_meta/all/', '-/setfill/000000/', '-/stretch/off/', '-/format/preserve/'])(
    'settings that change nothing on the original (%s) do not ask for a transformation',
    (rest) => {
      expect(parse(rest).transforms).toBe(false);
    },
  );

  it.each([
    '-/preview/',
    '-/format/auto/',
    '-/format/webp/',
    '-/quality/smart/',
    '-/progressive/yes/',
    '-/json/',
    '-/main_colors/',
    '-/grayscale/',
    '-/rotate/0/',
    '-/brightness/0/',
    '-/flip/-/flip/',
  ])('%s asks for a transformation (even when it normalises to nothing)', (rest) => {
    expect(parse(rest).transforms).toBe(true);
  });
});

describe('filenames', () => {
  it('decodes percent-encoding', () => {
    expect(parse('-/inline/yes/r%C3%A9sum%C3%A9.pdf').filename).toBe('résumé.pdf');
    expect(parse('my%20photo.jpg').filename).toBe('my photo.jpg');
  });

  it('keeps an already decoded name with a literal %', () => {
    expect(parse('-/resize/100x/100%.jpg').filename).toBe('100%.jpg');
  });

  it('tells the filename from the last operation\'s parameters', () => {
    expect(parse('-/resize/800x/photo.jpg').filename).toBe('photo.jpg');
    expect(parse('-/preview/photo.jpg')).toMatchObject({
      filename: 'photo.jpg',
      plan: { operations: [{ op: 'preview', width: 2048, height: 2048 }] },
    });
    expect(parse('-/main_colors/5').plan.info).toEqual({ kind: 'main_colors', count: 5 });
    expect(parse('-/main_colors/5/palette.json')).toMatchObject({
      filename: 'palette.json',
      plan: { info: { kind: 'main_colors', count: 5 } },
    });
    expect(parse('-/scale_crop/100x100/smart/x.png')).toMatchObject({ filename: 'x.png' });
    expect(parse('-/overlay/self/xray.jpg')).toMatchObject({ filename: 'xray.jpg' });
    expect(parse('-/resize/800x/').filename).toBeNull();
  });

  it('reads no filename from a path ending in "/", so a bad parameter is reported, not renamed', () => {
    expect(parse('-/preview/300x300').plan.operations).toEqual([{ op: 'preview', width: 300, height: 300 }]);
    expect(parse('-/preview/300x300').filename).toBeNull();
    expect(failure('-/preview/300x/').message).toContain('"300x" needs both sides');
    expect(failure('-/resize/800x/photo.jpg/').message).toBe('resize: unexpected parameter "photo.jpg"; use 800x, x600 or 800x600.');
  });

  it('reports the full reading\'s error when neither reading parses', () => {
    expect(failure('-/resize/800y/photo.jpg').message).toBe('resize: "800y" is not a size; use 800x, x600 or 800x600.');
  });

  it.each([
    ['evil%E2%80%AEgnp.exe', 'evilgnp.exe'],
    ['%E2%80%8Fmark%E2%81%A6.txt', 'mark.txt'],
    ['a%2Fb.jpg', 'b.jpg'],
    ['a%5Cb.jpg', 'b.jpg'],
    ['new%0Aline.jpg', 'newline.jpg'],
    ['nul%00.jpg', 'nul.jpg'],
    ['bell\u0007.jpg', 'bell.jpg'],
    ['report.pdf.%20.', 'report.pdf'],
    [`${'a'.repeat(300)}.jpeg`, `${'a'.repeat(250)}.jpeg`],
  ])('cleans %j exactly as a stored name is cleaned', (segment, expected) => {
    const { filename } = parse(`-/inline/yes/${segment}`);
    expect(filename).toBe(expected);
    expect(filename).toBe(sanitizeOriginalFilename(decodeURIComponent(segment)));
  });

  it('reads no name from a segment that cleans to nothing', () => {
    expect(parse('-/inline/yes/%E2%80%AE%E2%80%AE').filename).toBeNull();
    expect(parse('-/inline/yes/...').filename).toBeNull();
  });

  it('allows exactly 255 characters', () => {
    const name = `${'a'.repeat(251)}.jpg`;
    expect(parse(name).filename).toBe(name);
  });

  it('refuses stray segments before the operations or between them', () => {
    expect(failure('a/b').message).toContain('"a"');
    expect(failure('photo.jpg/-/resize/100x/').code).toBe('INVALID_OPERATION');
    expect(failure('-/resize/100x/extra/-/grayscale/').message).toBe(
      'resize: unexpected parameter "extra"; use 800x, x600 or 800x600.',
    );
  });

  it('ignores empty segments', () => {
    expectEquivalent('-//resize//800x//', '-/resize/800x/');
  });
});

describe('the output limit, from configuration', () => {
  const lower: ParseLimits = { ...LIMITS, maxOutputDimension: 4000 };

  it('allows every side up to TROVE_MAX_OUTPUT_DIMENSION (8192 by default)', () => {
    expect(LIMITS.maxOutputDimension).toBe(8192);
    for (const rest of ['-/resize/6000x/', '-/preview/6000x6000/', '-/smart_resize/6000x100/', '-/scale_crop/100x6000/', '-/resize/8192x8192/']) {
      expect(parse(rest).plan.operations).toHaveLength(1);
    }
  });

  it('refuses a side above the configured limit, naming it', () => {
    for (const [rest, message] of [
      ['-/resize/6000x/', 'resize: width 6000 is larger than the 4000 px allowed per side.'],
      ['-/preview/100x6000/', 'preview: height 6000 is larger than the 4000 px allowed per side.'],
      ['-/smart_resize/6000x100/', 'smart_resize: width 6000 is larger than the 4000 px allowed per side.'],
      ['-/scale_crop/100x4001/', 'scale_crop: height 4001 is larger than the 4000 px allowed per side.'],
    ] as const) {
      expect(failure(rest, lower).message).toBe(message);
    }
    expect(parse('-/resize/4000x/', lower).plan.operations).toHaveLength(1);
  });

  it('makes a bare preview box no larger than the limit', () => {
    expect(parse('-/preview/', { ...LIMITS, maxOutputDimension: 1000 }).plan.operations).toEqual([{ op: 'preview', width: 1000, height: 1000 }]);
  });
});

describe('preview', () => {
  it('defaults to the 2048x2048 box', () => {
    expect(op('-/preview/')).toEqual({ op: 'preview', width: 2048, height: 2048 });
    expectEquivalent('-/preview/', '-/preview/2048x2048/');
  });

  it('takes a box', () => {
    expect(op('-/preview/300x500/')).toEqual({ op: 'preview', width: 300, height: 500 });
  });

  it.each([
    ['-/preview/300x/', 'preview: "300x" needs both sides, like 800x600; use -/resize/300x/ to fix one side.'],
    ['-/preview/8193x100/', 'preview: width 8193 is larger than the 8192 px allowed per side.'],
    ['-/preview/0x100/', 'preview: width 0 is not a size; sizes are whole pixels from 1 to 8192.'],
    ['-/preview/big/', 'preview: "big" is not a size; use a box like 800x600 (both sides).'],
    ['-/preview/1x1/2x2/', 'preview: unexpected parameter "2x2"; use -/preview/ or -/preview/800x600/.'],
  ])('%s → %s', (rest, message) => {
    const error = failure(rest);
    expect(error.code).toBe('INVALID_OPERATION');
    expect(error.message).toBe(message);
  });
});

describe('resize and stretch', () => {
  it.each([
    ['-/resize/800x/', 800, null],
    ['-/resize/x600/', null, 600],
    ['-/resize/800x600/', 800, 600],
    ['-/resize/8192x8192/', 8192, 8192],
  ])('%s', (rest, width, height) => {
    expect(op(rest)).toEqual({ op: 'resize', width, height, upscale: 'on', background: WHITE });
  });

  it.each([
    ['-/resize/800y/', 'resize: "800y" is not a size; use 800x, x600 or 800x600.'],
    ['-/resize/x/', 'resize: "x" is not a size; use 800x, x600 or 800x600.'],
    ['-/resize/', 'resize: missing parameter; use 800x, x600 or 800x600.'],
    ['-/resize/-5x/', 'resize: "-5x" is not a size; use 800x, x600 or 800x600.'],
    ['-/resize/1.5x/', 'resize: "1.5x" is not a size; use 800x, x600 or 800x600.'],
    ['-/resize/x9000/', 'resize: height 9000 is larger than the 8192 px allowed per side.'],
    ['-/resize/99999999999x/', 'resize: "99999999999x" is not a size; use 800x, x600 or 800x600.'],
  ])('%s → %s', (rest, message) => {
    expect(failure(rest).message).toBe(message);
  });

  it('applies stretch to the resize and scale_crop operations after it', () => {
    expect(ops('-/resize/10x/-/stretch/off/-/resize/20x/-/scale_crop/5x5/-/stretch/on/-/resize/30x/')).toEqual([
      { op: 'resize', width: 10, height: null, upscale: 'on', background: WHITE },
      { op: 'resize', width: 20, height: null, upscale: 'off', background: WHITE },
      { op: 'scale_crop', width: 5, height: 5, placement: align('center', 'center'), upscale: 'off', background: WHITE },
      { op: 'resize', width: 30, height: null, upscale: 'on', background: WHITE },
    ]);
  });

  it('fills with the setfill colour in force when stretch is fill', () => {
    expect(op('-/setfill/000/-/stretch/fill/-/resize/200x200/')).toEqual({
      op: 'resize',
      width: 200,
      height: 200,
      upscale: 'fill',
      background: BLACK,
    });
  });

  it('does not let an unused fill colour split the cache', () => {
    expectEquivalent('-/setfill/ff0000/-/resize/200x/-/setfill/ffffff/', '-/resize/200x/');
    expectEquivalent('-/stretch/on/-/resize/200x/', '-/resize/200x/');
  });

  it('refuses unknown stretch modes', () => {
    expect(failure('-/stretch/maybe/').message).toBe('stretch: "maybe" is not allowed; use one of on, off, fill.');
  });
});

describe('smart_resize', () => {
  it('needs both sides', () => {
    expect(op('-/smart_resize/440x600/')).toEqual({ op: 'smart_resize', width: 440, height: 600, background: WHITE });
    expect(failure('-/smart_resize/440x/').message).toBe('smart_resize: "440x" needs both sides; use a size like 800x600.');
  });
});

describe('scale_crop', () => {
  const base = { op: 'scale_crop', width: 300, height: 200, upscale: 'on', background: WHITE } as const;

  it('centres by default', () => {
    expect(op('-/scale_crop/300x200/')).toEqual({ ...base, placement: align('center', 'center') });
    expectEquivalent('-/scale_crop/300x200/', '-/scale_crop/300x200/center/');
    expectEquivalent('-/scale_crop/300x200/', '-/scale_crop/300x200/50p,50p/');
  });

  it.each([
    ['top', align('center', 'top')],
    ['bottom', align('center', 'bottom')],
    ['left', align('left', 'center')],
    ['right', align('right', 'center')],
    ['top_left', align('left', 'top')],
    ['bottom_right', align('right', 'bottom')],
  ])('takes the alignment %s', (keyword, placement) => {
    expect(op(`-/scale_crop/300x200/${keyword}/`)).toEqual({ ...base, placement });
  });

  it.each(['30p,70p', '30%,70%', '30%25,70%25', '30p,70%'])('takes the focal point %s in any percent spelling', (point) => {
    expect(op(`-/scale_crop/300x200/${point}/`)).toEqual({ ...base, placement: { type: 'point', x: pct(30), y: pct(70) } });
  });

  it('writes edge and centre points as alignments', () => {
    expectEquivalent('-/scale_crop/300x200/0p,100p/', '-/scale_crop/300x200/bottom_left/');
  });

  it.each(['smart', 'smart_faces', 'smart_objects', 'smart_faces_objects', 'smart_objects_faces', 'smart_points'] as const)(
    'takes the smart type %s',
    (mode) => {
      expect(op(`-/scale_crop/300x200/${mode}/`)).toEqual({ ...base, placement: { type: 'smart', mode } });
    },
  );

  it('accepts a centre fallback after a smart type (the default fallback)', () => {
    expectEquivalent('-/scale_crop/300x200/smart/center/', '-/scale_crop/300x200/smart/');
  });

  it.each([
    ['-/scale_crop/300x/', 'scale_crop: "300x" needs both sides; use a size like 800x600.'],
    ['-/scale_crop/9000x200/', 'scale_crop: width 9000 is larger than the 8192 px allowed per side.'],
    ['-/scale_crop/300x200/10,20/', 'scale_crop: "10,20": the position is given in percent, e.g. 30p,50p, or as an alignment like center.'],
    ['-/scale_crop/300x200/120p,20p/', 'scale_crop: x "120p" is more than 100 percent.'],
    ['-/scale_crop/300x200/smartest/', 'scale_crop: "smartest" is not allowed; use one of smart, smart_faces, smart_objects, smart_faces_objects, smart_objects_faces, smart_points.'],
    ['-/scale_crop/300x200/smart_faces_points/', 'scale_crop: the smart type "smart_faces_points" is not supported; use one of smart, smart_faces, smart_objects, smart_faces_objects, smart_objects_faces, smart_points.'],
    ['-/scale_crop/300x200/smart/30p,50p/', 'scale_crop: a fallback position after smart is not supported; use either -/scale_crop/300x200/smart/ or a position.'],
    ['-/scale_crop/300x200/center/top/', 'scale_crop: unexpected parameter "top"; use -/scale_crop/800x600/, optionally followed by a smart type and/or a position like center or 30p,50p.'],
  ])('%s → %s', (rest, message) => {
    expect(failure(rest).message).toBe(message);
  });
});

describe('crop', () => {
  it('anchors at the top-left corner by default', () => {
    expect(op('-/crop/640x480/')).toEqual({
      op: 'crop',
      width: px(640),
      height: px(480),
      placement: align('left', 'top'),
      background: WHITE,
    });
    expectEquivalent('-/crop/640x480/', '-/crop/640x480/0,0/');
    expectEquivalent('-/crop/640x480/', '-/crop/640x480/0p,0%/');
    expectEquivalent('-/crop/640x480/', '-/crop/640x480/top_left/');
  });

  it('takes sizes and offsets in px or percent, in every percent spelling', () => {
    const expected = { op: 'crop', width: pct(50), height: px(300), placement: { type: 'point', x: px(10), y: pct(12.5) }, background: WHITE };
    expect(op('-/crop/50px300/10,12.5p/')).toEqual(expected);
    expect(op('-/crop/50%x300/10,12.5%/')).toEqual(expected);
    expect(op('-/crop/50%25x300/10,12.5%25/')).toEqual(expected);
  });

  it('takes alignments', () => {
    expect(op('-/crop/2000x1325/center/')).toMatchObject({ placement: align('center', 'center') });
    expect(op('-/crop/20x10/bottom_right/')).toMatchObject({ placement: align('right', 'bottom') });
  });

  it('drops a crop to the whole image', () => {
    expect(ops('-/crop/100px100p/')).toEqual([]);
    expect(ops('-/crop/100px100p/center/')).toEqual([]);
    // Offset: the region is clamped, so the result is smaller than the image.
    expect(ops('-/crop/100px100p/10,10/')).toHaveLength(1);
  });

  it('uses the setfill colour in force', () => {
    expect(op('-/setfill/000000/-/crop/10x10/')).toMatchObject({ background: BLACK });
  });

  it('crops to an aspect ratio, centred by default', () => {
    expect(op('-/crop/16:9/')).toEqual({ op: 'crop_ratio', ratioWidth: 16, ratioHeight: 9, placement: align('center', 'center') });
    expect(op('-/crop/4:3/top/')).toEqual({ op: 'crop_ratio', ratioWidth: 4, ratioHeight: 3, placement: align('center', 'top') });
    expectEquivalent('-/crop/32:18/', '-/crop/16:9/center/');
  });

  it.each([
    ['-/crop/', 'crop: missing parameter; use -/crop/800x600/ (px or percent, e.g. 50px50p), optionally followed by x,y or an alignment like center; or -/crop/16:9/.'],
    ['-/crop/640/', 'crop: "640" is not a size; use -/crop/800x600/ (px or percent, e.g. 50px50p), optionally followed by x,y or an alignment like center; or -/crop/16:9/.'],
    ['-/crop/0x10/', 'crop: width must be greater than 0.'],
    ['-/crop/101px10/', 'crop: width "101p" is more than 100 percent.'],
    ['-/crop/10.5x10/', 'crop: width "10.5": pixels are whole numbers; write a percentage as 12.5p.'],
    ['-/crop/70000x10/', 'crop: width 70000 is larger than 65535 px.'],
    ['-/crop/10x10/middle/', 'crop: "middle" is not a position; use x,y in px or percent (e.g. 10,20 or 30p,50p) or an alignment: center, top, bottom, left, right, top_left, top_right, bottom_left, bottom_right.'],
    ['-/crop/10x10/-5,0/', 'crop: "-5" is not a valid x; use whole pixels like 120 or a percentage like 50p.'],
    ['-/crop/0:9/', 'crop: aspect ratio 0 is out of range; use 1 to 10000.'],
    ['-/crop/objects/', 'crop: crop by detected objects needs an object detector, which Trove does not have; use -/crop/face/, -/crop/faces/, -/crop/image/ or -/crop/800x600/ (px or percent, e.g. 50px50p), optionally followed by x,y or an alignment like center; or -/crop/16:9/.'],
    ['-/crop/face/1:1/2:1/', 'crop: "2:1" is not an alignment; use one of center, top, bottom, left, right, top_left, top_right, bottom_left, bottom_right.'],
    ['-/crop/faces/10/', 'crop: "10" is neither an aspect ratio nor a size; use -/crop/face/, -/crop/faces/ or -/crop/image/, optionally followed by an aspect ratio like 1:1 or a size like 200px200p (percent of the object), then an alignment like center.'],
  ])('%s → %s', (rest, message) => {
    expect(failure(rest).message).toBe(message);
  });
});

describe('setfill', () => {
  it.each([
    ['fff', WHITE],
    ['000000', BLACK],
    ['ECE3D2', { r: 0xec, g: 0xe3, b: 0xd2, alpha: 255 }],
    ['ece3d280', { r: 0xec, g: 0xe3, b: 0xd2, alpha: 0x80 }],
  ])('reads %s', (hex, color) => {
    expect(parse(`-/setfill/${hex}/`).plan.output.background).toEqual(color);
  });

  it('sets the output background; the last one wins', () => {
    expect(parse('-/setfill/fff/-/setfill/000/').plan.output.background).toEqual(BLACK);
  });

  it.each(['ff', 'ffff', 'gggggg', 'red', '#fff'])('refuses %j', (hex) => {
    expect(failure(`-/setfill/${encodeURIComponent(hex)}/`).message).toMatch(/^setfill: ".*" is not a colour; use hex digits/);
  });
});

describe('output settings', () => {
  it('defaults', () => {
    expect(parse('-/preview/').plan.output).toEqual(DEFAULT_OUTPUT);
  });

  it('reads every setting; the last occurrence wins', () => {
    const { output } = parse(
      '-/format/png/-/quality/best/-/progressive/yes/-/autorotate/no/-/strip_meta/all/-/format/webp/-/quality/smart_retina/',
    ).plan;
    expect(output).toEqual({ ...DEFAULT_OUTPUT, format: 'webp', quality: 'smart_retina', progressive: true, autorotate: false, stripMeta: 'all' });
  });

  it.each(['jpeg', 'png', 'webp', 'avif', 'gif', 'auto', 'preserve'] as const)('format %s', (format) => {
    expect(parse(`-/format/${format}/`).plan.output.format).toBe(format);
  });

  it.each(['normal', 'better', 'best', 'lighter', 'lightest', 'smart', 'smart_retina'] as const)('quality %s', (quality) => {
    expect(parse(`-/quality/${quality}/`).plan.output.quality).toBe(quality);
  });

  it.each([
    ['-/format/jpg/', 'format: "jpg" is not allowed; use one of jpeg, png, webp, avif, gif, auto, preserve.'],
    ['-/format/', 'format: missing parameter; use jpeg, png, webp, avif, gif, auto, preserve.'],
    ['-/quality/90/', 'quality: "90" is not allowed; use one of normal, better, best, lighter, lightest, smart, smart_retina.'],
    ['-/progressive/true/', 'progressive: "true" is not allowed; use one of yes, no.'],
    ['-/autorotate/off/', 'autorotate: "off" is not allowed; use one of yes, no.'],
    ['-/strip_meta/gps/', 'strip_meta: "gps" is not allowed; use one of all, none, sensitive.'],
    ['-/inline/maybe/', 'inline: "maybe" is not allowed; use one of yes, no.'],
  ])('%s → %s', (rest, message) => {
    expect(failure(rest).message).toBe(message);
  });
});

describe('rotate, flip, mirror', () => {
  it.each([
    ['90', 3],
    ['180', 2],
    ['270', 1],
    ['-90', 1],
    ['450', 3],
  ] as const)('rotate %s (counterclockwise) is %i clockwise quarter turns', (angle, quarterTurns) => {
    expect(op(`-/rotate/${angle}/`)).toEqual({ op: 'rotate', quarterTurns });
  });

  it('drops rotations by whole turns', () => {
    expect(ops('-/rotate/0/')).toEqual([]);
    expect(ops('-/rotate/360/')).toEqual([]);
    expect(ops('-/rotate/90/-/rotate/270/')).toEqual([]);
  });

  it('combines consecutive rotations', () => {
    expectEquivalent('-/rotate/90/-/rotate/90/', '-/rotate/180/');
    expectEquivalent('-/rotate/90/-/rotate/90/-/rotate/90/', '-/rotate/270/');
  });

  it('cancels repeated flips and mirrors, and writes their combinations once', () => {
    expect(ops('-/flip/-/flip/')).toEqual([]);
    expect(ops('-/mirror/-/mirror/')).toEqual([]);
    expect(op('-/flip/')).toEqual({ op: 'flip' });
    expect(op('-/mirror/')).toEqual({ op: 'mirror' });
    expectEquivalent('-/flip/-/mirror/', '-/rotate/180/');
    expectEquivalent('-/rotate/180/-/mirror/', '-/flip/');
    expectEquivalent('-/mirror/-/rotate/180/', '-/flip/');
    // mirror then a quarter turn equals a three-quarter turn then mirror.
    expectEquivalent('-/mirror/-/rotate/90/', '-/rotate/270/-/mirror/');
  });

  it('does not merge across other operations', () => {
    expect(ops('-/rotate/90/-/resize/10x/-/rotate/90/')).toEqual([
      { op: 'rotate', quarterTurns: 3 },
      { op: 'resize', width: 10, height: null, upscale: 'on', background: WHITE },
      { op: 'rotate', quarterTurns: 3 },
    ]);
  });

  it('merges again once what stood between cancels out', () => {
    expect(ops('-/rotate/90/-/invert/-/invert/-/rotate/90/')).toEqual([{ op: 'rotate', quarterTurns: 2 }]);
  });

  it.each([
    ['-/rotate/45/', 'rotate: "45" is not a multiple of 90; use 90, 180 or 270 (degrees counterclockwise).'],
    ['-/rotate/right/', 'rotate: "right" is not a multiple of 90; use 90, 180 or 270 (degrees counterclockwise).'],
    ['-/rotate/', 'rotate: missing parameter; use 90, 180 or 270 (degrees counterclockwise).'],
    ['-/flip/yes/', 'flip: unexpected parameter "yes"; use -/flip/ without parameters.'],
  ])('%s → %s', (rest, message) => {
    expect(failure(rest).message).toBe(message);
  });
});

describe('filters', () => {
  it('grayscale and invert', () => {
    expect(op('-/grayscale/')).toEqual({ op: 'grayscale' });
    expect(op('-/invert/')).toEqual({ op: 'invert' });
    expectEquivalent('-/grayscale/-/grayscale/', '-/grayscale/');
    expect(ops('-/invert/-/invert/')).toEqual([]);
    expect(ops('-/invert/-/invert/-/invert/')).toEqual([{ op: 'invert' }]);
  });

  it('blur: default strength 10, amount form is unsharp masking', () => {
    expect(op('-/blur/')).toEqual({ op: 'blur', strength: 10 });
    expect(op('-/blur/5000/')).toEqual({ op: 'blur', strength: 5000 });
    expect(op('-/blur/100/-50/')).toEqual({ op: 'unsharp', strength: 100, amount: -50 });
    expect(op('-/blur/100/40/')).toEqual({ op: 'unsharp', strength: 100, amount: 40 });
    expectEquivalent('-/blur/20/100/', '-/blur/20/');
    expectEquivalent('-/blur/', '-/blur/10/');
    expect(ops('-/blur/0/')).toEqual([]);
    expect(ops('-/blur/100/0/')).toEqual([]);
  });

  it('sharp → sharpen, default 5; enhance default 50', () => {
    expect(op('-/sharp/')).toEqual({ op: 'sharpen', strength: 5 });
    expect(op('-/sharp/20/')).toEqual({ op: 'sharpen', strength: 20 });
    expect(op('-/enhance/')).toEqual({ op: 'enhance', strength: 50 });
    expect(op('-/enhance/100/')).toEqual({ op: 'enhance', strength: 100 });
    expectEquivalent('-/enhance/', '-/enhance/50/');
    expect(ops('-/sharp/0/-/enhance/0/')).toEqual([]);
  });

  it.each([
    ['brightness', -100, 100],
    ['exposure', -500, 500],
    ['contrast', -100, 500],
    ['saturation', -100, 500],
    ['vibrance', -100, 500],
    ['warmth', -100, 100],
  ] as const)('%s takes %i…%i and drops 0', (name, min, max) => {
    expect(op(`-/${name}/${min}/`)).toEqual({ op: name, value: min });
    expect(op(`-/${name}/${max}/`)).toEqual({ op: name, value: max });
    expect(ops(`-/${name}/0/`)).toEqual([]);
    expect(ops(`-/${name}/-0/`)).toEqual([]);
    expect(failure(`-/${name}/${max + 1}/`).message).toBe(`${name}: value ${max + 1} is out of range; use ${min} to ${max}.`);
    expect(failure(`-/${name}/${min - 1}/`).message).toBe(`${name}: value ${min - 1} is out of range; use ${min} to ${max}.`);
    expect(failure(`-/${name}/`).message).toBe(`${name}: missing parameter; use a value from ${min} to ${max}.`);
    expect(failure(`-/${name}/1.5/`).message).toBe(`${name}: value "1.5" is not a whole number from ${min} to ${max}.`);
  });

  it.each([
    ['-/blur/5001/', 'blur: strength 5001 is out of range; use 0 to 5000.'],
    ['-/blur/10/101/', 'blur: amount 101 is out of range; use -200 to 100.'],
    ['-/blur/10/-201/', 'blur: amount -201 is out of range; use -200 to 100.'],
    ['-/blur/a/', 'blur: strength "a" is not a whole number from 0 to 5000.'],
    ['-/sharp/21/', 'sharp: strength 21 is out of range; use 0 to 20.'],
    ['-/enhance/101/', 'enhance: strength 101 is out of range; use 0 to 100.'],
    ['-/enhance/-1/', 'enhance: strength -1 is out of range; use 0 to 100.'],
  ])('%s → %s', (rest, message) => {
    expect(failure(rest).message).toBe(message);
  });
});

describe('blur_region', () => {
  it('takes a region in px or percent and an optional strength', () => {
    expect(op('-/blur_region/130x180/220,25/')).toEqual({
      op: 'blur_region',
      width: px(130),
      height: px(180),
      x: px(220),
      y: px(25),
      strength: 100,
    });
    const expected = { op: 'blur_region', width: pct(30), height: pct(80), x: pct(50), y: pct(10), strength: 20 };
    expect(op('-/blur_region/30%x80%/50%,10%/20/')).toEqual(expected);
    expect(op('-/blur_region/30px80p/50p,10p/20/')).toEqual(expected);
    expect(op('-/blur_region/30%25x80%25/50%25,10%25/20/')).toEqual(expected);
  });

  it.each([
    ['-/blur_region/faces/x/', 'blur_region: strength "x" is not a whole number from 0 to 5000.'],
    ['-/blur_region/100x100/', 'blur_region: missing parameter; use -/blur_region/WxH/x,y/ with px or percent values, optionally followed by a strength 0–5000.'],
    ['-/blur_region/100x100/10/', 'blur_region: "10" is not a position; use x,y in px or percent, e.g. 10,20 or 30p,50p.'],
    ['-/blur_region/100/10,10/', 'blur_region: "100" is not a region size; use -/blur_region/WxH/x,y/ with px or percent values, optionally followed by a strength 0–5000.'],
    ['-/blur_region/100x100/10,10/6000/', 'blur_region: strength 6000 is out of range; use 0 to 5000.'],
  ])('%s → %s', (rest, message) => {
    expect(failure(rest).message).toBe(message);
  });
});

describe('border_radius', () => {
  it('expands 1–4 radii like CSS (top-left, top-right, bottom-right, bottom-left)', () => {
    const radii = (rest: string) => (op(rest) as Extract<Operation, { op: 'border_radius' }>).radii;
    expect(radii('-/border_radius/50p/')).toEqual([pct(50), pct(50), pct(50), pct(50)]);
    expect(radii('-/border_radius/10,20/')).toEqual([px(10), px(20), px(10), px(20)]);
    expect(radii('-/border_radius/10,20,30/')).toEqual([px(10), px(20), px(30), px(20)]);
    expect(radii('-/border_radius/10,20,30,40/')).toEqual([px(10), px(20), px(30), px(40)]);
    expectEquivalent('-/border_radius/50p/', '-/border_radius/50%,50%25,50p,50p/');
  });

  it('drops zero radii and accepts vertical radii equal to the horizontal ones', () => {
    expect(ops('-/border_radius/0/')).toEqual([]);
    expect(ops('-/border_radius/0,0p/')).toEqual([]);
    expectEquivalent('-/border_radius/10/10/', '-/border_radius/10/');
  });

  it('uses the setfill colour in force', () => {
    expect(op('-/setfill/000/-/border_radius/10/')).toMatchObject({ background: BLACK });
  });

  it.each([
    ['-/border_radius/', 'border_radius: missing parameter; use 1 to 4 comma-separated radii in px or percent, e.g. 20 or 10,50p.'],
    ['-/border_radius/1,2,3,4,5/', 'border_radius: "1,2,3,4,5" has more than 4 radii; use 1 to 4 comma-separated radii in px or percent, e.g. 20 or 10,50p.'],
    ['-/border_radius/10px/', 'border_radius: "10px" is not a valid radius; use whole pixels like 120 or a percentage like 50p.'],
    ['-/border_radius/10/20/', 'border_radius: elliptical corners (vertical radii "20" differing from the horizontal ones) are not supported.'],
  ])('%s → %s', (rest, message) => {
    expect(failure(rest).message).toBe(message);
  });
});

describe('overlay', () => {
  const full = { source: UUID, width: pct(100), height: pct(100), placement: align('left', 'top'), opacity: 100 };

  it('defaults: full size, top-left, opaque', () => {
    expect(op(`-/overlay/${UUID}/`)).toEqual({ op: 'overlay', ...full });
    expect(op(`-/overlay/${UUID.toUpperCase()}/`)).toEqual({ op: 'overlay', ...full });
    expect(op('-/overlay/self/')).toEqual({ op: 'overlay', ...full, source: 'self' });
    expectEquivalent(`-/overlay/${UUID}/`, `-/overlay/${UUID}/100px100p/0,0/100p/`);
  });

  it('takes every optional parameter in order, any of them omitted', () => {
    expect(op(`-/overlay/${UUID}/50%x50%/center/`)).toEqual({ op: 'overlay', ...full, width: pct(50), height: pct(50), placement: align('center', 'center') });
    expect(op(`-/overlay/${UUID}/50px50p/20p/`)).toEqual({ op: 'overlay', ...full, width: pct(50), height: pct(50), opacity: 20 });
    expect(op(`-/overlay/${UUID}/10%25,90%25/`)).toEqual({ op: 'overlay', ...full, placement: { type: 'point', x: pct(10), y: pct(90) } });
    expect(op(`-/overlay/${UUID}/80p/`)).toEqual({ op: 'overlay', ...full, opacity: 80 });
    expect(op(`-/overlay/${UUID}/120x80/bottom_right/75%/`)).toEqual({
      op: 'overlay',
      ...full,
      width: px(120),
      height: px(80),
      placement: align('right', 'bottom'),
      opacity: 75,
    });
  });

  it.each([
    ['-/overlay/', 'overlay: missing parameter; use -/overlay/:uuid/ (or self), optionally followed by a size like 50px50p, a position like center or 10p,90p, and an opacity like 80p.'],
    ['-/overlay/not-a-uuid/', 'overlay: "not-a-uuid" is not a file uuid; use -/overlay/:uuid/ (or self), optionally followed by a size like 50px50p, a position like center or 10p,90p, and an opacity like 80p.'],
    [`-/overlay/${UUID}/50/`, 'overlay: "50" is not an opacity; use a percentage like 80p.'],
    [`-/overlay/${UUID}/120p/`, 'overlay: opacity "120p" is more than 100 percent.'],
    [`-/overlay/${UUID}/10x10/center/50p/top/`, 'overlay: unexpected parameter "top"; use -/overlay/:uuid/ (or self), optionally followed by a size like 50px50p, a position like center or 10p,90p, and an opacity like 80p.'],
    [`-/overlay/${UUID}/center/10x10/`, 'overlay: "10x10" is not a valid opacity; use whole pixels like 120 or a percentage like 50p.'],
  ])('%s → %s', (rest, message) => {
    expect(failure(rest).message).toBe(message);
  });
});

describe('json and main_colors', () => {
  it('asks for information instead of an image', () => {
    expect(parse('-/json/').plan.info).toEqual({ kind: 'json' });
    expect(parse('-/preview/-/main_colors/').plan).toMatchObject({
      operations: [{ op: 'preview' }],
      info: { kind: 'main_colors', count: 4 },
    });
    expect(parse('-/main_colors/8/').plan.info).toEqual({ kind: 'main_colors', count: 8 });
  });

  it.each([
    ['-/main_colors/0/', 'main_colors: number of colours 0 is out of range; use 1 to 32.'],
    ['-/main_colors/33/', 'main_colors: number of colours 33 is out of range; use 1 to 32.'],
    ['-/main_colors/-/resize/10x/', 'main_colors: must be the last operation; move -/resize/ before -/main_colors/.'],
    ['-/json/-/rotate/0/', 'json: must be the last operation; move -/rotate/ before -/json/.'],
    ['-/json/-/main_colors/', 'main_colors: cannot be combined with -/json/; use one of them.'],
    ['-/json/x/y/', 'json: unexpected parameter "x"; use -/json/ without parameters.'],
  ])('%s → %s', (rest, message) => {
    expect(failure(rest).message).toBe(message);
  });

  it('allows settings after them', () => {
    expect(parse('-/json/-/inline/yes/').inline).toBe(true);
  });
});

describe('unknown and unsupported operations', () => {
  it('names an unknown operation', () => {
    const error = failure('-/explode/now/');
    expect(error.code).toBe('UNKNOWN_OPERATION');
    expect(error.message).toMatch(/^Unknown operation "explode"\. Operations are written -\/name\/params\//);
  });

  it('is not fooled by Object.prototype names', () => {
    for (const name of ['constructor', '__proto__', 'toString', 'hasOwnProperty']) {
      expect(failure(`-/${name}/`).code).toBe('UNKNOWN_OPERATION');
    }
  });

  it('says an Uploadcare operation Trove lacks is not supported', () => {
    const error = failure('-/gamma/100/');
    expect(error.code).toBe('INVALID_OPERATION');
    expect(error.message).toBe('gamma: this Uploadcare operation is not supported by Trove.');
  });

  it('refuses an empty operation', () => {
    expect(failure('-/').code).toBe('INVALID_OPERATION');
    expect(failure('-/-/resize/10x/').code).toBe('INVALID_OPERATION');
  });

  it('bounds what it echoes', () => {
    const error = failure(`-/${'x'.repeat(500)}/`);
    expect(error.message.length).toBeLessThan(700);
    expect(failure('-/resize/\u0000\n/').message).toContain('"\\u0000\\n"');
  });
});

describe('limits', () => {
  it('refuses more operations than allowed', () => {
    const rest = '-/grayscale/'.repeat(33);
    expect(failure(rest).code).toBe('TOO_MANY_OPERATIONS');
    expect(parse('-/grayscale/'.repeat(32)).plan.operations).toEqual([{ op: 'grayscale' }]);
    expect(failure('-/grayscale/-/invert/', { ...LIMITS, maxOperations: 1 }).code).toBe('TOO_MANY_OPERATIONS');
  });

  it('refuses a URL longer than allowed', () => {
    const rest = `-/resize/100x/${'a'.repeat(2048)}`;
    const error = failure(rest);
    expect(error.code).toBe('URL_TOO_LONG');
    expect(failure('-/resize/100x/', { ...LIMITS, maxUrlLength: 10 }).code).toBe('URL_TOO_LONG');
  });
});

describe('equivalent URLs', () => {
  it.each([
    ['-/resize/800x/-/format/auto/', '-/format/auto/-/resize/800x/'],
    ['-/format/webp/-/format/auto/-/resize/800x/', '-/resize/800x/'],
    ['-/crop/50px50p/center/', '-/crop/50%25x50%25/center/'],
    ['-/crop/50.00px50p/', '-/crop/50px50.0p/'],
    ['-/brightness/0/-/resize/10x/-/warmth/0/', '-/resize/10x/'],
    ['-/quality/normal/-/preview/', '-/preview/'],
    ['-/progressive/no/-/autorotate/yes/-/strip_meta/sensitive/-/preview/', '-/preview/'],
  ])('%s ≡ %s', (a, b) => {
    expectEquivalent(a, b);
  });

  it('keeps distinct plans apart', () => {
    const hashes = [
      '-/resize/800x/',
      '-/resize/x800/',
      '-/resize/800x800/',
      '-/preview/800x800/',
      '-/rotate/90/',
      '-/rotate/270/',
      '-/format/webp/-/resize/800x/',
      '-/resize/800x/-/grayscale/',
      '-/grayscale/-/resize/800x/',
    ].map((rest) => planHash(parse(rest).plan));
    expect(new Set(hashes).size).toBe(hashes.length);
  });
});

describe('normalizePlan', () => {
  it('is idempotent and does not reorder', () => {
    const plan = parse('-/blur/10/-/resize/10x/-/mirror/-/rotate/90/-/invert/-/grayscale/').plan;
    expect(normalizePlan(plan)).toEqual(plan);
    expect(plan.operations.map((operation) => operation.op)).toEqual(['blur', 'resize', 'mirror', 'rotate', 'invert', 'grayscale']);
  });

  it('rounds percentages and writes zero lengths as px', () => {
    const plan: TransformPlan = {
      operations: [
        { op: 'crop', width: pct(33.333333333), height: pct(50), placement: { type: 'point', x: pct(0), y: px(0) }, background: WHITE },
      ],
      output: DEFAULT_OUTPUT,
      info: null,
    };
    expect(normalizePlan(plan).operations).toEqual([
      { op: 'crop', width: pct(33.3333), height: pct(50), placement: align('left', 'top'), background: WHITE },
    ]);
  });
});

describe('cache keys', () => {
  it('are stable and short', () => {
    const plan = parse('-/resize/800x/').plan;
    expect(planHash(plan)).toMatch(/^[0-9a-f]{32}$/);
    expect(planHash(plan)).toBe(planHash(parse('-/resize/800x/').plan));
  });

  it('ignore key order', () => {
    const plan = parse('-/resize/800x/').plan;
    const reordered: TransformPlan = { info: plan.info, output: { ...plan.output }, operations: plan.operations };
    expect(planHash(reordered)).toBe(planHash(plan));
  });
});
