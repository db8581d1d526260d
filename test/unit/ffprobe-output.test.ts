import { describe, expect, it } from 'vitest';
import { videoLimitProblem, type VideoLimits } from '../../src/domain/video-info.js';
import { parseProbeOutput } from '../../src/adapters/video/ffprobe-output.js';
import { VideoProbeError } from '../../src/ports/video-engine.js';

const probe = (streams: unknown[], format: Record<string, unknown> = { format_name: 'mov,mp4,m4a', duration: '2.5', bit_rate: '125000', nb_streams: streams.length }) =>
  JSON.stringify({ streams, format });

const limits: VideoLimits = { maxFileSize: 1_000_000, maxDurationMs: 60_000, maxDimension: 1920, maxFrameRate: 60, maxStreams: 4 };

describe('parseProbeOutput', () => {
  it('reads milliseconds, kilobits and the first demuxer name', () => {
    const parsed = parseProbeOutput(
      probe([
        { codec_type: 'video', codec_name: 'h264', width: 640, height: 360, avg_frame_rate: '30000/1001', bit_rate: '800000' },
        { codec_type: 'audio', codec_name: 'aac', sample_rate: '48000', channels: 2, bit_rate: '128000' },
        { codec_type: 'subtitle', codec_name: 'mov_text' },
      ]),
    );
    expect(parsed).toEqual({
      info: {
        duration: 2500,
        format: 'mov',
        bitrate: 125,
        video: [{ width: 640, height: 360, frame_rate: 29.97, bitrate: 800, codec: 'h264', rotation: 0 }],
        audio: [{ bitrate: 128, codec: 'aac', sample_rate: 48000, channels: 2 }],
      },
      streamCount: 3,
    });
  });

  it('swaps the sides of a stream a player turns by a quarter, from the display matrix or the old tag', () => {
    const matrix = parseProbeOutput(probe([{ codec_type: 'video', width: 160, height: 120, side_data_list: [{ rotation: 90 }] }]));
    expect(matrix.info.video[0]).toMatchObject({ width: 120, height: 160, rotation: 270 });
    const tag = parseProbeOutput(probe([{ codec_type: 'video', width: 160, height: 120, tags: { rotate: '180' } }]));
    expect(tag.info.video[0]).toMatchObject({ width: 160, height: 120, rotation: 180 });
  });

  it('marks a PQ or HLG first video stream as HDR', () => {
    expect(parseProbeOutput(probe([{ codec_type: 'video', width: 16, height: 16, color_transfer: 'smpte2084' }])).hdr).toBe(true);
    expect(parseProbeOutput(probe([{ codec_type: 'video', width: 16, height: 16, color_transfer: 'arib-std-b67' }])).hdr).toBe(true);
    expect(parseProbeOutput(probe([{ codec_type: 'video', width: 16, height: 16, color_transfer: 'bt709' }])).hdr).toBeUndefined();
  });

  it('leaves out what it cannot trust: sizeless pictures, 0/0 rates, negative or absurd numbers', () => {
    const parsed = parseProbeOutput(
      probe(
        [
          { codec_type: 'video', codec_name: 'mjpeg' },
          { codec_type: 'video', width: 100, height: 100, avg_frame_rate: '0/0', r_frame_rate: '0/0', bit_rate: '-5' },
          { codec_type: 'audio', sample_rate: 'lots', channels: 1e300 },
        ],
        { format_name: 42, duration: 'N/A', nb_streams: '9' },
      ),
    );
    expect(parsed.info).toEqual({
      duration: null,
      format: 'unknown',
      bitrate: null,
      video: [{ width: 100, height: 100, frame_rate: null, bitrate: null, codec: null, rotation: 0 }],
      audio: [{ bitrate: null, codec: null, sample_rate: null, channels: null }],
    });
    expect(parsed.streamCount).toBe(9);
  });

  it('refuses output that is not ffprobe\'s JSON', () => {
    expect(() => parseProbeOutput('{"streams": [')).toThrow(VideoProbeError);
    expect(() => parseProbeOutput('{}')).toThrow(/no container/);
  });
});

describe('videoLimitProblem', () => {
  const good = parseProbeOutput(probe([{ codec_type: 'video', width: 1280, height: 720, avg_frame_rate: '30/1' }]));

  it('passes a video within every limit', () => {
    expect(videoLimitProblem(good, 1000, limits)).toBeNull();
  });

  it('names the setting of the first limit broken', () => {
    expect(videoLimitProblem(good, 2_000_000, limits)).toMatch(/TROVE_VIDEO_MAX_FILE_SIZE/);
    expect(videoLimitProblem({ ...good, streamCount: 5 }, 1000, limits)).toMatch(/TROVE_VIDEO_MAX_STREAMS/);
    expect(videoLimitProblem({ ...good, info: { ...good.info, duration: 61_000 } }, 1000, limits)).toMatch(/TROVE_VIDEO_MAX_DURATION/);
    expect(videoLimitProblem({ ...good, info: { ...good.info, duration: null } }, 1000, limits)).toMatch(/does not say how long/);
    const wide = { ...good, info: { ...good.info, video: [{ ...good.info.video[0]!, width: 3840 }] } };
    expect(videoLimitProblem(wide, 1000, limits)).toMatch(/TROVE_VIDEO_MAX_DIMENSION/);
    const fast = { ...good, info: { ...good.info, video: [{ ...good.info.video[0]!, frame_rate: 240 }] } };
    expect(videoLimitProblem(fast, 1000, limits)).toMatch(/TROVE_VIDEO_MAX_FRAME_RATE/);
    expect(videoLimitProblem({ ...good, info: { ...good.info, video: [] } }, 1000, limits)).toMatch(/no video stream/);
  });
});
