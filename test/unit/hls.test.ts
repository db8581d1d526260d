import { describe, expect, it } from 'vitest';
import { hlsArgs } from '../../src/adapters/video/ffmpeg-args.js';
import { hlsAssetName, hlsContentType, hlsPrefix, planLadder } from '../../src/domain/hls.js';
import type { VideoProbe } from '../../src/domain/video-info.js';

const sides = (width: number, height: number) => planLadder(width, height).map((r) => `${r.width}x${r.height}`);

describe('HLS ladder', () => {
  it('caps the top rung at 1080 lines and never goes above the source', () => {
    expect(sides(3840, 2160)).toEqual(['1920x1080', '1280x720', '640x360']);
    expect(sides(1920, 1080)).toEqual(['1920x1080', '1280x720', '640x360']);
    expect(sides(1280, 720)).toEqual(['1280x720', '640x360', '320x180']);
    expect(sides(320, 240)).toEqual(['320x240', '240x180']);
    expect(sides(160, 120)).toEqual(['160x120']);
  });

  it('turns the ladder for portrait video and keeps every side even', () => {
    expect(sides(1080, 1920)).toEqual(['1080x1920', '720x1280', '360x640']);
    for (const r of planLadder(853, 481)) {
      expect(r.width % 2).toBe(0);
      expect(r.height % 2).toBe(0);
      expect(r.width).toBeLessThanOrEqual(853);
      expect(r.height).toBeLessThanOrEqual(481);
    }
  });

  it('gives each rung a bitrate that grows with its size', () => {
    const rates = planLadder(1920, 1080).map((r) => r.videoKbps);
    expect(rates[0]).toBeGreaterThan(rates[1]!);
    expect(rates[1]).toBeGreaterThan(rates[2]!);
    expect(Math.min(...planLadder(320, 240).map((r) => r.videoKbps))).toBeGreaterThanOrEqual(200);
  });
});

describe('HLS names', () => {
  it('accepts only the names Trove writes', () => {
    expect(hlsAssetName('hls/')).toBe('master.m3u8');
    expect(hlsAssetName('hls/master.m3u8')).toBe('master.m3u8');
    expect(hlsAssetName('hls/r2.m3u8')).toBe('r2.m3u8');
    expect(hlsAssetName('hls/r0_00012.ts')).toBe('r0_00012.ts');
    for (const bad of ['hls/r3.m3u8', 'hls/state.json', 'hls/../x', 'hls/%2e%2e/master.m3u8', 'hls/r0_1.ts', 'hls/master.m3u8/', 'hls/a/master.m3u8', 'hls/R0.m3u8']) {
      expect(hlsAssetName(bad), bad).toBeNull();
    }
    expect(hlsContentType('r0.m3u8')).toBe('application/vnd.apple.mpegurl');
    expect(hlsContentType('r0_00000.ts')).toBe('video/mp2t');
    expect(hlsPrefix('u')).toBe('derivatives/u/hls-v1/');
  });
});

describe('hlsArgs', () => {
  const source = (audio: boolean): VideoProbe =>
    ({ info: { video: [{ width: 1280, height: 720 }], audio: audio ? [{ channels: 6 }] : [] }, hdr: false }) as unknown as VideoProbe;

  it('forces keyframes at every segment boundary, maps audio per rendition and names every file itself', () => {
    const args = hlsArgs({ inputGuard: ['-protocol_whitelist', 'file'], maxStreams: 8, input: '/in', outputDir: '/out', source: source(true), renditions: planLadder(1280, 720), segmentSeconds: 4, threads: 2 });
    const after = (flag: string) => args[args.indexOf(flag) + 1];
    expect(after('-force_key_frames')).toBe('expr:gte(t,n_forced*4)');
    expect(after('-sc_threshold')).toBe('0');
    expect(after('-hls_time')).toBe('4');
    expect(after('-var_stream_map')).toBe('v:0,a:0 v:1,a:1 v:2,a:2');
    expect(after('-hls_segment_filename')).toBe('file:/out/r%v_%05d.ts');
    expect(after('-filter_complex')).toContain('split=3');
    expect(args.at(-1)).toBe('file:/out/r%v.m3u8');
    expect(args.indexOf('-protocol_whitelist')).toBeLessThan(args.indexOf('-i'));
  });

  it('leaves audio out of a silent video', () => {
    const args = hlsArgs({ inputGuard: [], maxStreams: 8, input: '/in', outputDir: '/out', source: source(false), renditions: planLadder(320, 240), segmentSeconds: 4, threads: 2 });
    expect(args[args.indexOf('-var_stream_map') + 1]).toBe('v:0 v:1');
    expect(args).not.toContain('0:a:0');
    expect(args).not.toContain('aac');
  });
});
