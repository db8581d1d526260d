import { describe, expect, it } from 'vitest';
import { progressPosition, thumbnailTimes, transcodeArgs, videoFilter } from '../../src/adapters/video/ffmpeg-args.js';
import {
  canonicalPlan,
  parseVideoConversionPath,
  parseVideoTime,
  thumbnailUuid,
  videoConversionPath,
  videoGeometry,
  VideoPathError,
} from '../../src/domain/video-conversion.js';
import { isUuid } from '../../src/domain/file.js';
import type { VideoProbe } from '../../src/domain/video-info.js';

const UUID = '0f8c1e2a-5b7d-4c3e-9a1f-2b3c4d5e6f70';

describe('parseVideoConversionPath', () => {
  it('reads every operation of Uploadcare\'s grammar into numbers and names', () => {
    expect(parseVideoConversionPath(`${UUID}/video/-/format/webm/-/size/640x/-/quality/better/-/cut/0:0:10/000:00:20.5/-/thumbs~8/`, 4096)).toEqual({
      sourceUuid: UUID,
      plan: { format: 'webm', quality: 'better', size: { width: 640, height: null, mode: 'preserve_ratio' }, cut: { startMs: 10_000, lengthMs: 20_500 }, thumbnails: 8 },
    });
    expect(parseVideoConversionPath(`/${UUID.toUpperCase()}/video`, 4096)).toEqual({
      sourceUuid: UUID,
      plan: { format: 'mp4', quality: 'normal', size: null, cut: null, thumbnails: 1 },
    });
    expect(parseVideoConversionPath(`${UUID}/video/-/size/x360/add_padding/-/cut/90/end/`, 4096).plan).toMatchObject({
      size: { width: null, height: 360, mode: 'add_padding' },
      cut: { startMs: 90_000, lengthMs: null },
    });
  });

  it('gives equal plans one canonical text, however they are spelled', () => {
    const a = parseVideoConversionPath(`${UUID}/video/-/quality/normal/-/format/mp4/-/cut/1:30/end`, 4096).plan;
    const b = parseVideoConversionPath(`${UUID}/video/-/cut/0:01:30.000/end/`, 4096).plan;
    expect(canonicalPlan(a)).toBe(canonicalPlan(b));
    expect(canonicalPlan(a)).not.toBe(canonicalPlan({ ...b, thumbnails: 2 }));
  });

  it('writes a plan back as a path that reads as the same plan', () => {
    const written = [
      `${UUID}/video/`,
      `${UUID}/video/-/format/webm/-/size/640x/-/quality/better/-/cut/0:0:10/000:00:20.5/-/thumbs~8/`,
      `${UUID}/video/-/size/x360/add_padding/-/cut/90/end/`,
      `${UUID}/video/-/format/ogg/-/size/101x41/scale_crop/-/quality/lightest/-/cut/999:59:59.999/0.001/-/thumbs~50/`,
    ];
    for (const path of written) {
      const { plan } = parseVideoConversionPath(path, 4096);
      const again = videoConversionPath(UUID, plan);
      expect(parseVideoConversionPath(again, 4096)).toEqual({ sourceUuid: UUID, plan });
    }
    const { plan } = parseVideoConversionPath(written[1]!, 4096);
    expect(videoConversionPath(UUID, plan)).toBe(`${UUID}/video/-/format/webm/-/size/640x/-/quality/better/-/cut/0:00:10/0:00:20.500/-/thumbs~8/`);
    expect(videoConversionPath(UUID, parseVideoConversionPath(written[0]!, 4096).plan)).toBe(`${UUID}/video/-/format/mp4/-/quality/normal/-/thumbs~1/`);
  });

  it.each([
    ['not-a-uuid/video/', /UUID of a file/],
    [`${UUID}/-/format/mp4/`, /followed by `\/video\/`/],
    [`${UUID}/video/format/mp4/`, /`\/-\/<operation>/],
    [`${UUID}/video/-/format/mkv/`, /`format` is one of mp4, webm, ogg/],
    [`${UUID}/video/-/quality/ultra/`, /`quality` is one of/],
    [`${UUID}/video/-/size/640x480/stretch/`, /mode is one of/],
    [`${UUID}/video/-/size/5000x/`, /from 2 to 4096 pixels/],
    [`${UUID}/video/-/size/x/`, /`<W>x<H>`/],
    [`${UUID}/video/-/size/1x1/`, /from 2 to 4096/],
    [`${UUID}/video/-/cut/10/`, /takes a start and a length/],
    [`${UUID}/video/-/cut/0:0:75/end/`, /start is a time/],
    [`${UUID}/video/-/cut/0/0/`, /length is a time longer than 0/],
    [`${UUID}/video/-/cut/0/;rm -rf/`, /length is a time/],
    [`${UUID}/video/-/thumbs~0/`, /from 1 to 50/],
    [`${UUID}/video/-/thumbs~51/`, /from 1 to 50/],
    [`${UUID}/video/-/thumbs/`, /`\/-\/thumbs~N\/`/],
    [`${UUID}/video/-/format/mp4/-/format/webm/`, /given twice/],
    [`${UUID}/video/-/scale=iw*2:ih/`, /not a video operation/],
  ])('refuses %s, saying why', (path, why) => {
    expect(() => parseVideoConversionPath(path, 4096)).toThrow(VideoPathError);
    expect(() => parseVideoConversionPath(path, 4096)).toThrow(why);
  });
});

describe('parseVideoTime', () => {
  it.each([
    ['0:0:10', 10_000],
    ['000:00:20', 20_000],
    ['1:02:03.5', 3_723_500],
    ['01:30', 90_000],
    ['12.25', 12_250],
    ['100', 100_000],
  ])('%s is %i ms', (text, ms) => expect(parseVideoTime(text)).toBe(ms));

  it.each(['', '1:60', '1:60:00', '-5', '1e3', '0:0:10.1234', '1:2:3:4'])('refuses "%s"', (text) => expect(parseVideoTime(text)).toBeNull());
});

describe('videoGeometry', () => {
  it('keeps the source size, made even, without a size', () => {
    expect(videoGeometry(161, 121, null)).toMatchObject({ width: 160, height: 120, crop: null, pad: null });
  });

  it('follows the source\'s ratio when one side is given', () => {
    expect(videoGeometry(1920, 1080, { width: 640, height: null, mode: 'change_ratio' })).toMatchObject({ width: 640, height: 360 });
    expect(videoGeometry(1920, 1080, { width: null, height: 101, mode: 'preserve_ratio' })).toMatchObject({ width: 178, height: 100 });
  });

  it('applies each mode within the box, every side even', () => {
    expect(videoGeometry(1920, 1080, { width: 640, height: 640, mode: 'preserve_ratio' })).toMatchObject({ width: 640, height: 360 });
    expect(videoGeometry(1920, 1080, { width: 640, height: 640, mode: 'change_ratio' })).toMatchObject({ width: 640, height: 640, crop: null, pad: null });
    expect(videoGeometry(1920, 1080, { width: 640, height: 640, mode: 'scale_crop' })).toEqual({
      scaleWidth: 1138, scaleHeight: 640, crop: { width: 640, height: 640 }, pad: null, width: 640, height: 640,
    });
    expect(videoGeometry(1920, 1080, { width: 641, height: 641, mode: 'add_padding' })).toEqual({
      scaleWidth: 640, scaleHeight: 360, crop: null, pad: { width: 640, height: 640 }, width: 640, height: 640,
    });
  });
});

describe('ffmpeg arguments', () => {
  const source: VideoProbe = {
    info: { duration: 4000, format: 'mov', bitrate: 100, video: [{ width: 120, height: 160, frame_rate: 30, bitrate: 90, codec: 'h264', rotation: 270 }], audio: [{ bitrate: 64, codec: 'aac', sample_rate: 48000, channels: 6 }] },
    streamCount: 2,
  };
  const plan = parseVideoConversionPath(`${UUID}/video/-/format/mp4/-/size/60x60/scale_crop/-/cut/1.5/2/`, 4096).plan;

  it('are built from numbers and names only, with the input guarded and the output 4:2:0', () => {
    const args = transcodeArgs({ inputGuard: ['-protocol_whitelist', 'file'], maxStreams: 16, input: '/data/in', output: '/scratch/out', source, plan, threads: 2 });
    expect(args.slice(args.indexOf('-protocol_whitelist'), args.indexOf('-protocol_whitelist') + 2)).toEqual(['-protocol_whitelist', 'file']);
    expect(args[args.indexOf('-ss') + 1]).toBe('1.500');
    expect(args[args.indexOf('-t') + 1]).toBe('2.000');
    expect(args.indexOf('-ss')).toBeLessThan(args.indexOf('-i'));
    expect(args[args.indexOf('-i') + 1]).toBe('file:/data/in');
    expect(args.at(-1)).toBe('file:/scratch/out');
    expect(args[args.indexOf('-ac') + 1]).toBe('2');
    expect(args).toContain('libx264');
    expect(videoFilter(source, plan)).toBe('scale=60:80,crop=60:60,setsar=1,format=yuv420p');
  });

  it('tone-map an HDR source to BT.709 before scaling, with Debian\'s filters', () => {
    const filter = videoFilter({ ...source, hdr: true }, plan);
    expect(filter.startsWith('zscale=t=linear:npl=100,format=gbrpf32le,zscale=p=bt709,tonemap=tonemap=hable:desat=0,zscale=t=bt709:m=bt709:r=tv,scale=60:80')).toBe(true);
    const args = transcodeArgs({ inputGuard: [], maxStreams: 16, input: 'i', output: 'o', source: { ...source, hdr: true }, plan, threads: 2 });
    expect(args[args.indexOf('-color_trc') + 1]).toBe('bt709');
  });

  it('read the last position of ffmpeg\'s progress report', () => {
    expect(progressPosition('frame=10\nout_time_us=400000\nout_time_ms=400000\nprogress=continue\nout_time_us=1250000\n')).toBe(1250);
    expect(progressPosition('frame=1\nprogress=continue\n')).toBeNull();
    expect(progressPosition('out_time_us=N/A\n')).toBeNull();
  });

  it('spread thumbnails over the middles of equal parts', () => {
    expect(thumbnailTimes(2000, 1)).toEqual([1000]);
    expect(thumbnailTimes(2000, 4)).toEqual([250, 750, 1250, 1750]);
  });

  it('name thumbnails the same for the same conversion', () => {
    expect(isUuid(thumbnailUuid('123', 0))).toBe(true);
    expect(thumbnailUuid('123', 0)).toBe(thumbnailUuid('123', 0));
    expect(thumbnailUuid('123', 0)).not.toBe(thumbnailUuid('123', 1));
  });
});
