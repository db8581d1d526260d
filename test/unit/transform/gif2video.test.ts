import { describe, expect, it } from 'vitest';
import { parseAnimationProbe } from '../../../src/adapters/video/ffprobe-output.js';
import { gifFrameFilter, gifToVideoArgs } from '../../../src/adapters/video/ffmpeg-args.js';
import { gif2videoGeometry } from '../../../src/domain/transform/gif2video-geometry.js';
import {
  checkAnimation,
  checkGifRecord,
  gif2videoHash,
  isGif2VideoPath,
  parseGif2VideoPath,
  type Gif2VideoLimits,
  type Gif2VideoOperation,
} from '../../../src/domain/transform/gif2video.js';
import type { ParseLimits } from '../../../src/domain/transform/uploadcare-parser.js';
import { AppError } from '../../../src/errors.js';
import { VideoProbeError } from '../../../src/ports/video-engine.js';

const LIMITS: Gif2VideoLimits = {
  maxSourceBytes: 1_000_000,
  maxSourcePixels: 1_000_000,
  maxDimension: 2000,
  maxFrames: 100,
  maxAnimationPixels: 10_000_000,
  maxDurationMs: 60_000,
};

const PARSE: ParseLimits = { maxUrlLength: 2048, maxOperations: 8, maxOutputDimension: 3000 };

function refusal(run: () => unknown): { code: string; statusCode: number; message: string } {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(AppError);
    const { code, statusCode, message } = error as AppError;
    return { code, statusCode, message };
  }
  throw new Error('expected a refusal');
}

describe('gif2video paths', () => {
  it('recognises the directive only as the first segment', () => {
    expect(isGif2VideoPath('gif2video/')).toBe(true);
    expect(isGif2VideoPath('gif2video')).toBe(true);
    expect(isGif2VideoPath('gif2video/-/format/webm/')).toBe(true);
    expect(isGif2VideoPath('gif2videos/')).toBe(false);
    expect(isGif2VideoPath('-/gif2video/')).toBe(false);
    expect(isGif2VideoPath('')).toBe(false);
  });

  it.each([
    ['gif2video/', { format: 'mp4', quality: 'normal', operations: [] }, null],
    ['gif2video', { format: 'mp4', quality: 'normal', operations: [] }, null],
    ['gif2video/-/format/webm/', { format: 'webm', quality: 'normal', operations: [] }, null],
    ['gif2video/-/format/webm', { format: 'webm', quality: 'normal', operations: [] }, null],
    ['gif2video/-/quality/better/-/format/mp4/', { format: 'mp4', quality: 'better', operations: [] }, null],
    ['gif2video/-/format/webm/-/quality/lightest/road.gif', { format: 'webm', quality: 'lightest', operations: [] }, 'road.gif'],
    ['gif2video/road.gif', { format: 'mp4', quality: 'normal', operations: [] }, 'road.gif'],
    ['gif2video/my%20clip.gif', { format: 'mp4', quality: 'normal', operations: [] }, 'my clip.gif'],
  ])('%s', (rest, plan, filename) => {
    expect(parseGif2VideoPath(rest, PARSE)).toEqual({ plan, filename });
  });

  const center = { type: 'align', x: 'center', y: 'center' } as const;
  it.each<[string, Gif2VideoOperation[]]>([
    ['gif2video/-/preview/', [{ op: 'preview', width: 2048, height: 2048 }]],
    ['gif2video/-/preview/320x240/', [{ op: 'preview', width: 320, height: 240 }]],
    ['gif2video/-/resize/320x/', [{ op: 'resize', width: 320, height: null }]],
    ['gif2video/-/resize/x0240/', [{ op: 'resize', width: null, height: 240 }]],
    ['gif2video/-/resize/320x240/', [{ op: 'resize', width: 320, height: 240 }]],
    ['gif2video/-/crop/100x50/', [{ op: 'crop', width: { unit: 'px', value: 100 }, height: { unit: 'px', value: 50 }, placement: { type: 'align', x: 'left', y: 'top' } }]],
    ['gif2video/-/crop/100x50/center/', [{ op: 'crop', width: { unit: 'px', value: 100 }, height: { unit: 'px', value: 50 }, placement: center }]],
    ['gif2video/-/crop/50px100p/10,20p/', [{ op: 'crop', width: { unit: 'percent', value: 50 }, height: { unit: 'percent', value: 100 }, placement: { type: 'point', x: { unit: 'px', value: 10 }, y: { unit: 'percent', value: 20 } } }]],
    ['gif2video/-/scale_crop/64x64/', [{ op: 'scale_crop', width: 64, height: 64, placement: center }]],
    ['gif2video/-/scale_crop/64x64/bottom_right/', [{ op: 'scale_crop', width: 64, height: 64, placement: { type: 'align', x: 'right', y: 'bottom' } }]],
    ['gif2video/-/resize/320x/-/crop/100x100/center/-/format/webm/', [
      { op: 'resize', width: 320, height: null },
      { op: 'crop', width: { unit: 'px', value: 100 }, height: { unit: 'px', value: 100 }, placement: center },
    ]],
  ])('reads the size operations of %s as the image parser does', (rest, operations) => {
    expect(parseGif2VideoPath(rest, PARSE).plan.operations).toEqual(operations);
  });

  it('takes a filename after a size operation', () => {
    expect(parseGif2VideoPath('gif2video/-/resize/320x/road.gif', PARSE)).toEqual({
      plan: { format: 'mp4', quality: 'normal', operations: [{ op: 'resize', width: 320, height: null }] },
      filename: 'road.gif',
    });
  });

  it.each([
    ['gif2video/-/format/ogg/', 'format "ogg" is not allowed; use -/format/mp4|webm/'],
    ['gif2video/-/format/', '-/format/ takes one value'],
    ['gif2video/-/format/mp4/webm/', '-/format/ takes one value'],
    ['gif2video/-/quality/smart/', 'quality "smart" is not allowed; use -/quality/normal|better|best|lighter|lightest/'],
    ['gif2video/-/format/mp4/-/format/webm/', '-/format/ is given twice'],
    ['gif2video/-/blur/', 'unknown operation "blur"'],
    ['gif2video/-/', '"-/" must be followed by an operation'],
    ['gif2video/-/resize/', 'resize: missing parameter'],
    ['gif2video/-/resize/x/', 'resize: "x" is not a size'],
    ['gif2video/-/resize/0x100/', 'resize: width 0 is not a size'],
    ['gif2video/-/resize/-5x100/', 'resize: "-5x100" is not a size'],
    ['gif2video/-/resize/abcx100/', 'resize: "abcx100" is not a size'],
    ['gif2video/-/resize/3001x/', 'resize: width 3001 is larger than the 3000 px allowed per side'],
    ['gif2video/-/resize/99999999999x/', 'resize: "99999999999x" is not a size'],
    ['gif2video/-/resize/1e3x/', 'resize: "1e3x" is not a size'],
    ['gif2video/-/preview/320x/', 'preview: "320x" needs both sides'],
    ['gif2video/-/preview/100x0/', 'preview: height 0 is not a size'],
    ['gif2video/-/crop/0x10/', 'crop: width must be greater than 0'],
    ['gif2video/-/crop/100x100/-1,0/', 'crop: "-1" is not a valid x'],
    ['gif2video/-/crop/100x100/nowhere/', 'crop: "nowhere" is not a position'],
    ['gif2video/-/crop/70000x10/', 'crop: width 70000 is larger than 65535 px'],
    ['gif2video/-/crop/150px10/', 'crop: width "150p" is more than 100 percent'],
    ['gif2video/-/crop/16:9/', '-/crop/ by aspect ratio (16:9) is not supported'],
    ['gif2video/-/scale_crop/100x/', 'scale_crop: "100x" needs both sides'],
    ['gif2video/-/scale_crop/100x100/smart/', '-/scale_crop/smart/ is not supported'],
    ['gif2video/-/scale_crop/100x100/10,20/', 'the position is given in percent'],
    ['gif2video/-/scale_crop/100x100/center/extra/', 'scale_crop: unexpected parameter "extra"'],
    ['gif2video/extra/-/format/webm/', 'unexpected segment "extra"'],
  ])('refuses %s with a 400 that says why', (rest, why) => {
    const error = refusal(() => parseGif2VideoPath(rest, PARSE));
    expect(error).toMatchObject({ code: 'INVALID_OPERATION', statusCode: 400 });
    expect(error.message).toContain(why);
  });

  it('refuses an overlong path and too many operations', () => {
    expect(refusal(() => parseGif2VideoPath(`gif2video/${'x'.repeat(100)}.gif`, { ...PARSE, maxUrlLength: 50 })).code).toBe('URL_TOO_LONG');
    const many = refusal(() => parseGif2VideoPath(`gif2video/${'-/resize/100x/'.repeat(9)}`, PARSE));
    expect(many).toMatchObject({ code: 'TOO_MANY_OPERATIONS', statusCode: 400 });
  });

  it('names each format and quality by its own stable hash', () => {
    const hashes = new Set(
      (['mp4', 'webm'] as const).flatMap((format) => (['normal', 'better', 'best', 'lighter', 'lightest'] as const).map((quality) => gif2videoHash({ format, quality, operations: [] }))),
    );
    expect(hashes.size).toBe(10);
    expect(gif2videoHash({ format: 'mp4', quality: 'normal', operations: [] })).toBe(gif2videoHash({ quality: 'normal', format: 'mp4', operations: [] }));
  });

  it('keeps the hash of URLs without size operations (their stored videos stay valid)', () => {
    // The values written by the grammar without size operations.
    expect(gif2videoHash({ format: 'mp4', quality: 'normal', operations: [] })).toBe('975672a05784e443f8c578674cb26a53');
    expect(gif2videoHash({ format: 'webm', quality: 'better', operations: [] })).toBe('b97097995389e25a94601ffdd6a53ac1');
  });

  it('hashes size operations by their values: equal spellings share a video, different ones do not', () => {
    const hash = (rest: string) => gif2videoHash(parseGif2VideoPath(rest, PARSE).plan);
    expect(hash('gif2video/-/resize/0320x/')).toBe(hash('gif2video/-/resize/320x/'));
    expect(hash('gif2video/-/crop/50px50%25/center/')).toBe(hash('gif2video/-/crop/50px50p/center/'));
    const distinct = new Set([
      'gif2video/',
      'gif2video/-/resize/320x/',
      'gif2video/-/resize/x320/',
      'gif2video/-/preview/320x320/',
      'gif2video/-/scale_crop/320x320/',
      'gif2video/-/scale_crop/320x320/top/',
      'gif2video/-/crop/50x50/',
      'gif2video/-/crop/50x50/center/',
      'gif2video/-/crop/50px50/',
      'gif2video/-/resize/320x/-/crop/100x100/',
      'gif2video/-/crop/100x100/-/resize/320x/',
    ].map(hash));
    expect(distinct.size).toBe(11);
  });
});

describe('gif2video limits', () => {
  const facts = { width: 100, height: 100, frames: 10, durationMs: 1000 };

  it('takes an animated GIF within every limit', () => {
    expect(() => checkAnimation(facts, LIMITS)).not.toThrow();
    expect(() => checkAnimation({ ...facts, durationMs: null }, LIMITS)).not.toThrow();
    expect(() => checkGifRecord({ uuid: 'u', mimeType: 'image/gif', size: 1000 }, LIMITS)).not.toThrow();
  });

  it.each([
    [{ ...facts, frames: 1 }, 'NOT_ANIMATED', 400, 'one frame'],
    [{ ...facts, width: 2000, height: 600 }, 'SOURCE_TOO_LARGE', 422, 'TROVE_MAX_SOURCE_PIXELS'],
    [{ ...facts, width: 2001, height: 10 }, 'SOURCE_TOO_LARGE', 422, 'TROVE_VIDEO_MAX_DIMENSION'],
    [{ ...facts, frames: 101 }, 'SOURCE_TOO_LARGE', 422, 'TROVE_MAX_SOURCE_PAGES'],
    [{ ...facts, width: 1000, height: 1000, frames: 11 }, 'ANIMATION_TOO_LARGE', 422, 'TROVE_MAX_ANIMATION_SOURCE_PIXELS'],
    [{ ...facts, durationMs: 61_000 }, 'SOURCE_TOO_LARGE', 422, 'TROVE_VIDEO_MAX_DURATION'],
  ])('refuses %o', (input, code, status, setting) => {
    const error = refusal(() => checkAnimation(input, LIMITS));
    expect(error).toMatchObject({ code, statusCode: status });
    expect(error.message).toContain(setting);
  });

  it('refuses what is not a GIF, and a GIF over the byte limit, from the record', () => {
    const webp = refusal(() => checkGifRecord({ uuid: 'u', mimeType: 'image/webp', size: 10 }, LIMITS));
    expect(webp).toMatchObject({ code: 'NOT_A_GIF', statusCode: 400 });
    expect(webp.message).toContain('cannot decode animated WebP');
    expect(refusal(() => checkGifRecord({ uuid: 'u', mimeType: 'image/png', size: 10 }, LIMITS)).message).toContain('is image/png, not an animated GIF');
    const large = refusal(() => checkGifRecord({ uuid: 'u', mimeType: 'image/gif', size: 1_000_001 }, LIMITS));
    expect(large).toMatchObject({ code: 'SOURCE_TOO_LARGE', statusCode: 422 });
    expect(large.message).toContain('TROVE_VIDEO_MAX_FILE_SIZE');
  });
});

describe('gif2video engine arguments and probe', () => {
  it('reads the GIF demuxer alone, keeps each frame\'s time, makes sides even and writes no audio', () => {
    const args = gifToVideoArgs({ inputGuard: ['-protocol_whitelist', 'file', '-format_whitelist', 'gif', '-f', 'gif'], input: '/in', output: '/out', plan: { format: 'mp4', quality: 'best', operations: [] }, steps: [], threads: 2 });
    expect(args.slice(args.indexOf('-protocol_whitelist'), args.indexOf('-i') + 2)).toEqual(['-protocol_whitelist', 'file', '-format_whitelist', 'gif', '-f', 'gif', '-i', 'file:/in']);
    expect(args[args.indexOf('-vf') + 1]).toBe('scale=trunc(iw/2)*2:trunc(ih/2)*2,setsar=1,format=yuv420p');
    expect(args).toContain('-an');
    expect(args[args.indexOf('-fps_mode') + 1]).toBe('vfr');
    expect(args[args.indexOf('-c:v') + 1]).toBe('libx264');
    expect(args[args.indexOf('-crf') + 1]).toBe('18');
    expect(args[args.indexOf('-movflags') + 1]).toBe('+faststart');
    expect(args.at(-1)).toBe('file:/out');
    const webm = gifToVideoArgs({ inputGuard: [], input: '/in', output: '/out', plan: { format: 'webm', quality: 'lightest', operations: [] }, steps: [], threads: 2 });
    expect(webm[webm.indexOf('-c:v') + 1]).toBe('libvpx-vp9');
    expect(webm[webm.indexOf('-f') + 1]).toBe('webm');
  });

  it('reads size, frames and duration from ffprobe\'s answer, defensively', () => {
    expect(parseAnimationProbe(JSON.stringify({ streams: [{ width: 161, height: 121, nb_read_packets: '15' }], format: { duration: '1.500000' } }))).toEqual({
      width: 161,
      height: 121,
      frames: 15,
      durationMs: 1500,
    });
    expect(parseAnimationProbe(JSON.stringify({ streams: [{ width: 10, height: 10, nb_read_packets: 'lots' }], format: {} }))).toEqual({
      width: 10,
      height: 10,
      frames: 0,
      durationMs: null,
    });
    expect(() => parseAnimationProbe('{}')).toThrow(VideoProbeError);
    expect(() => parseAnimationProbe('not json')).toThrow(VideoProbeError);
    expect(() => parseAnimationProbe(JSON.stringify({ streams: [{ width: -1, height: 5 }] }))).toThrow(VideoProbeError);
  });
});

describe('gif2video geometry', () => {
  const parsed = (rest: string) => parseGif2VideoPath(`gif2video/${rest}`, PARSE).plan.operations;
  const geometry = (width: number, height: number, rest: string) => gif2videoGeometry({ width, height }, parsed(rest));

  it.each([
    // [source, operations, output size, steps]
    [[161, 121], '', [160, 120], []],
    [[160, 120], '-/preview/80x80/', [80, 60], [{ kind: 'scale', width: 80, height: 60 }]],
    [[160, 120], '-/preview/', [160, 120], []],
    [[160, 120], '-/preview/1000x1000/', [160, 120], []],
    [[160, 120], '-/resize/100x/', [100, 74], [{ kind: 'scale', width: 100, height: 74 }]],
    [[160, 120], '-/resize/x60/', [80, 60], [{ kind: 'scale', width: 80, height: 60 }]],
    [[160, 120], '-/resize/50x100/', [50, 100], [{ kind: 'scale', width: 50, height: 100 }]],
    [[160, 120], '-/resize/320x/', [160, 120], []],
    [[160, 120], '-/resize/320x60/', [160, 60], [{ kind: 'scale', width: 160, height: 60 }]],
    [[160, 120], '-/crop/100x50/', [100, 50], [{ kind: 'crop', width: 100, height: 50, left: 0, top: 0 }]],
    [[160, 120], '-/crop/100x50/center/', [100, 50], [{ kind: 'crop', width: 100, height: 50, left: 30, top: 35 }]],
    [[160, 120], '-/crop/100x50/bottom_right/', [100, 50], [{ kind: 'crop', width: 100, height: 50, left: 60, top: 70 }]],
    [[160, 120], '-/crop/100x50/150,100/', [100, 50], [{ kind: 'crop', width: 100, height: 50, left: 60, top: 70 }]],
    [[160, 120], '-/crop/50px50p/25p,0/', [80, 60], [{ kind: 'crop', width: 80, height: 60, left: 40, top: 0 }]],
    [[160, 120], '-/crop/1000x1000/center/', [160, 120], []],
    [[160, 120], '-/crop/1000x50/100,0/', [60, 50], [{ kind: 'crop', width: 60, height: 50, left: 100, top: 0 }]],
    [[160, 120], '-/crop/51x51/', [50, 50], [{ kind: 'crop', width: 51, height: 51, left: 0, top: 0 }, { kind: 'scale', width: 50, height: 50 }]],
    [[160, 120], '-/crop/1x1/', [2, 2], [{ kind: 'crop', width: 1, height: 1, left: 0, top: 0 }, { kind: 'scale', width: 2, height: 2 }]],
    [[160, 120], '-/scale_crop/60x60/', [60, 60], [{ kind: 'scale', width: 80, height: 60 }, { kind: 'crop', width: 60, height: 60, left: 10, top: 0 }]],
    [[160, 120], '-/scale_crop/60x60/left/', [60, 60], [{ kind: 'scale', width: 80, height: 60 }, { kind: 'crop', width: 60, height: 60, left: 0, top: 0 }]],
    [[160, 120], '-/scale_crop/60x60/100p,50p/', [60, 60], [{ kind: 'scale', width: 80, height: 60 }, { kind: 'crop', width: 60, height: 60, left: 20, top: 0 }]],
    [[160, 120], '-/scale_crop/400x100/', [160, 40], [{ kind: 'crop', width: 160, height: 40, left: 0, top: 40 }]],
    [[160, 120], '-/scale_crop/160x120/', [160, 120], []],
    [[160, 120], '-/resize/80x/-/crop/40x40/center/', [40, 40], [{ kind: 'scale', width: 80, height: 60 }, { kind: 'crop', width: 40, height: 40, left: 20, top: 10 }]],
    [[161, 121], '-/resize/81x/', [80, 60], [{ kind: 'scale', width: 80, height: 60 }]],
  ] as const)('%j %s gives %j', (source, rest, size, steps) => {
    const result = geometry(source[0], source[1], rest);
    expect(result).toEqual({ width: size[0], height: size[1], steps });
  });

  it('never gives a video larger than its GIF, nor an odd side', () => {
    const sizes = ['1x1', '7x3', '99x999', '3000x3000', '3000x1', '1x3000', '160x120', '161x121'];
    const operations = ['-/preview/', ...sizes.flatMap((size) => [`-/preview/${size}/`, `-/resize/${size}/`, `-/resize/${size.split('x')[0]}x/`, `-/crop/${size}/center/`, `-/scale_crop/${size}/`])];
    for (const [width, height] of [[161, 121], [2, 2], [3000, 7], [7, 3000]] as const) {
      for (const operation of operations) {
        const result = geometry(width, height, operation);
        expect(result.width % 2, `${width}x${height} ${operation}`).toBe(0);
        expect(result.height % 2).toBe(0);
        expect(result.width).toBeLessThanOrEqual(Math.max(2, width));
        expect(result.height).toBeLessThanOrEqual(Math.max(2, height));
        for (const step of result.steps) {
          expect(Number.isSafeInteger(step.width) && step.width >= 1).toBe(true);
          expect(Number.isSafeInteger(step.height) && step.height >= 1).toBe(true);
        }
      }
    }
  });

  it('writes the steps into the filter graph as integers only', () => {
    expect(gifFrameFilter([])).toBe('scale=trunc(iw/2)*2:trunc(ih/2)*2,setsar=1,format=yuv420p');
    expect(gifFrameFilter([{ kind: 'scale', width: 80, height: 60 }, { kind: 'crop', width: 60, height: 60, left: 10, top: 0 }])).toBe('scale=80:60,crop=60:60:10:0,setsar=1,format=yuv420p');
    expect(() => gifFrameFilter([{ kind: 'scale', width: 1.5, height: 2 }])).toThrow();
    expect(() => gifFrameFilter([{ kind: 'crop', width: 2, height: 2, left: -1, top: 0 }])).toThrow();
    const args = gifToVideoArgs({ inputGuard: [], input: '/in', output: '/out', plan: { format: 'mp4', quality: 'normal', operations: [] }, steps: [{ kind: 'scale', width: 80, height: 60 }], threads: 2 });
    expect(args[args.indexOf('-vf') + 1]).toBe('scale=80:60,setsar=1,format=yuv420p');
  });
});
