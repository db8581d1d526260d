import { describe, expect, it } from 'vitest';
import { parseAnimationProbe } from '../../../src/adapters/video/ffprobe-output.js';
import { gifToVideoArgs } from '../../../src/adapters/video/ffmpeg-args.js';
import {
  checkAnimation,
  checkGifRecord,
  gif2videoHash,
  isGif2VideoPath,
  parseGif2VideoPath,
  type Gif2VideoLimits,
} from '../../../src/domain/transform/gif2video.js';
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
    ['gif2video/', { format: 'mp4', quality: 'normal' }, null],
    ['gif2video', { format: 'mp4', quality: 'normal' }, null],
    ['gif2video/-/format/webm/', { format: 'webm', quality: 'normal' }, null],
    ['gif2video/-/format/webm', { format: 'webm', quality: 'normal' }, null],
    ['gif2video/-/quality/better/-/format/mp4/', { format: 'mp4', quality: 'better' }, null],
    ['gif2video/-/format/webm/-/quality/lightest/road.gif', { format: 'webm', quality: 'lightest' }, 'road.gif'],
    ['gif2video/road.gif', { format: 'mp4', quality: 'normal' }, 'road.gif'],
    ['gif2video/my%20clip.gif', { format: 'mp4', quality: 'normal' }, 'my clip.gif'],
  ])('%s', (rest, plan, filename) => {
    expect(parseGif2VideoPath(rest, 2048)).toEqual({ plan, filename });
  });

  it.each([
    ['gif2video/-/format/ogg/', 'format "ogg" is not allowed; use -/format/mp4|webm/'],
    ['gif2video/-/format/', '-/format/ takes one value'],
    ['gif2video/-/format/mp4/webm/', '-/format/ takes one value'],
    ['gif2video/-/quality/smart/', 'quality "smart" is not allowed; use -/quality/normal|better|best|lighter|lightest/'],
    ['gif2video/-/format/mp4/-/format/webm/', '-/format/ is given twice'],
    ['gif2video/-/resize/100x/', '-/resize/ is not supported by Trove\'s gif2video yet'],
    ['gif2video/-/blur/', 'unknown operation "blur"'],
    ['gif2video/-/', '"-/" must be followed by format or quality'],
    ['gif2video/extra/-/format/webm/', 'unexpected segment "extra"'],
  ])('refuses %s with a 400 that says why', (rest, why) => {
    const error = refusal(() => parseGif2VideoPath(rest, 2048));
    expect(error).toMatchObject({ code: 'INVALID_OPERATION', statusCode: 400 });
    expect(error.message).toContain(why);
  });

  it('refuses an overlong path', () => {
    expect(refusal(() => parseGif2VideoPath(`gif2video/${'x'.repeat(100)}.gif`, 50)).code).toBe('URL_TOO_LONG');
  });

  it('names each format and quality by its own stable hash', () => {
    const hashes = new Set(
      (['mp4', 'webm'] as const).flatMap((format) => (['normal', 'better', 'best', 'lighter', 'lightest'] as const).map((quality) => gif2videoHash({ format, quality }))),
    );
    expect(hashes.size).toBe(10);
    expect(gif2videoHash({ format: 'mp4', quality: 'normal' })).toMatch(/^[0-9a-f]{32}$/);
    expect(gif2videoHash({ format: 'mp4', quality: 'normal' })).toBe(gif2videoHash({ quality: 'normal', format: 'mp4' }));
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
    expect(refusal(() => checkGifRecord({ uuid: 'u', mimeType: 'image/webp', size: 10 }, LIMITS))).toMatchObject({ code: 'NOT_A_GIF', statusCode: 400 });
    const large = refusal(() => checkGifRecord({ uuid: 'u', mimeType: 'image/gif', size: 1_000_001 }, LIMITS));
    expect(large).toMatchObject({ code: 'SOURCE_TOO_LARGE', statusCode: 422 });
    expect(large.message).toContain('TROVE_VIDEO_MAX_FILE_SIZE');
  });
});

describe('gif2video engine arguments and probe', () => {
  it('reads the GIF demuxer alone, keeps each frame\'s time, makes sides even and writes no audio', () => {
    const args = gifToVideoArgs({ inputGuard: ['-protocol_whitelist', 'file', '-format_whitelist', 'gif', '-f', 'gif'], input: '/in', output: '/out', plan: { format: 'mp4', quality: 'best' }, threads: 2 });
    expect(args.slice(args.indexOf('-protocol_whitelist'), args.indexOf('-i') + 2)).toEqual(['-protocol_whitelist', 'file', '-format_whitelist', 'gif', '-f', 'gif', '-i', 'file:/in']);
    expect(args[args.indexOf('-vf') + 1]).toBe('scale=trunc(iw/2)*2:trunc(ih/2)*2,setsar=1,format=yuv420p');
    expect(args).toContain('-an');
    expect(args[args.indexOf('-fps_mode') + 1]).toBe('vfr');
    expect(args[args.indexOf('-c:v') + 1]).toBe('libx264');
    expect(args[args.indexOf('-crf') + 1]).toBe('18');
    expect(args[args.indexOf('-movflags') + 1]).toBe('+faststart');
    expect(args.at(-1)).toBe('file:/out');
    const webm = gifToVideoArgs({ inputGuard: [], input: '/in', output: '/out', plan: { format: 'webm', quality: 'lightest' }, threads: 2 });
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
