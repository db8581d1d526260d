import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readdir, rm, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { availableBackends } from '../helpers/backends.js';
import { startTrove, type TestTrove } from '../helpers/trove-server.js';
import { fileInfo, uploadFile } from '../helpers/upload-http.js';
import { ffmpegClip, RecordingLogger, testClip } from '../helpers/video-clips.js';

const backends = await availableBackends();

interface VideoFacts {
  duration: number | null;
  format: string;
  bitrate: number | null;
  video: { width: number; height: number; frame_rate: number | null; bitrate: number | null; codec: string | null; rotation: number }[];
  audio: { bitrate: number | null; codec: string | null; sample_rate: number | null; channels: number | null }[];
}

async function restFile(trove: TestTrove, uuid: string): Promise<{ is_image: boolean; mime_type: string; content_info: { video?: VideoFacts } | null }> {
  const response = await fetch(`${trove.url}/files/${uuid}/`, {
    headers: { Accept: 'application/vnd.uploadcare-v0.7+json', Authorization: `Uploadcare.Simple ${trove.publicKey}:${trove.secretKey}` },
  });
  expect(response.status).toBe(200);
  return (await response.json()) as { is_image: boolean; mime_type: string; content_info: { video?: VideoFacts } | null };
}

let clips: string;
let plain: Buffer;
let rotated: Buffer;
beforeAll(async () => {
  clips = await mkdtemp(path.join(tmpdir(), 'trove-clips-'));
  plain = await testClip(clips, 'plain.mp4');
  rotated = await ffmpegClip(clips, 'rotated.mp4', ['-i', path.join(clips, 'plain.mp4'), '-c', 'copy', '-metadata:s:v:0', 'rotate=90']);
}, 60_000);
afterAll(async () => rm(clips, { recursive: true, force: true }));

describe.each(backends)('video facts at upload (%s)', (backend) => {
  let trove: TestTrove;
  beforeAll(async () => {
    trove = await startTrove({ backend });
  }, 60_000);
  afterAll(async () => trove?.close());

  it('reads a clip\'s container, streams, duration and bitrates into the Upload API and REST answers', async () => {
    const uuid = await uploadFile(trove, plain, 'clip.mp4');
    const info = await fileInfo(trove, uuid);
    expect(info.mime_type).toBe('video/mp4');
    expect(info.is_image).toBe(false);
    expect(info.image_info).toBeNull();
    const video = info.video_info as { duration: number; format: string; bitrate: number; video: VideoFacts['video'][number]; audio: VideoFacts['audio'][number] };
    expect(video.format).toBe('mp4');
    expect(video.duration).toBeGreaterThanOrEqual(950);
    expect(video.duration).toBeLessThanOrEqual(1100);
    expect(video.bitrate).toBeGreaterThan(0);
    expect(video.video).toMatchObject({ width: 160, height: 120, frame_rate: 15, codec: 'h264', rotation: 0 });
    expect(video.audio).toMatchObject({ codec: 'aac', sample_rate: 44100, channels: 1 });

    const rest = await restFile(trove, uuid);
    expect(rest.is_image).toBe(false);
    const facts = rest.content_info?.video;
    expect(facts?.video).toHaveLength(1);
    expect(facts?.audio).toHaveLength(1);
    expect(facts?.video[0]).toEqual(video.video);
    expect(facts?.duration).toBe(video.duration);
  });

  it('reports no duration for a live Matroska stream, and what the clock says for an MPEG-TS whose clock jumps', async () => {
    const h264 = ['-f', 'lavfi', '-i', 'testsrc=duration=1:size=160x120:rate=15', '-c:v', 'libx264', '-preset', 'ultrafast', '-pix_fmt', 'yuv420p'];
    const live = await ffmpegClip(clips, 'live.mkv', [...h264, '-f', 'matroska', '-live', '1']);
    const jumping = Buffer.concat([
      await ffmpegClip(clips, 'a.ts', [...h264, '-f', 'mpegts']),
      await ffmpegClip(clips, 'b.ts', [...h264, '-output_ts_offset', '90000', '-f', 'mpegts']),
    ]);
    const liveFacts = (await restFile(trove, await uploadFile(trove, live, 'live.mkv'))).content_info?.video;
    expect(liveFacts?.video[0]).toMatchObject({ width: 160, height: 120 });
    expect(liveFacts?.duration).toBeNull();
    const jumpFacts = (await restFile(trove, await uploadFile(trove, jumping, 'jump.ts'))).content_info?.video;
    expect(jumpFacts?.format).toBe('mpegts');
    expect(jumpFacts?.duration).toBe(90_001_000);
  }, 30_000);

  it('reports a rotated clip with the sides a player shows', async () => {
    const uuid = await uploadFile(trove, rotated, 'rotated.mp4');
    const facts = (await restFile(trove, uuid)).content_info?.video;
    expect(facts?.video[0]).toMatchObject({ width: 120, height: 160 });
    expect([90, 270]).toContain(facts?.video[0]?.rotation);
  });
});

describe('hostile and unreadable videos', () => {
  let trove: TestTrove;
  const logger = new RecordingLogger();
  beforeAll(async () => {
    trove = await startTrove({ logger, env: { TROVE_VIDEO_MAX_STREAMS: '16' } });
  }, 60_000);
  afterAll(async () => trove?.close());

  async function keptPlain(bytes: Buffer, filename: string): Promise<{ uuid: string; mime: string }> {
    const started = Date.now();
    const uuid = await uploadFile(trove, bytes, filename);
    expect(Date.now() - started).toBeLessThan(15_000);
    const info = await fileInfo(trove, uuid);
    expect(info.video_info).toBeNull();
    expect(info.is_image).toBe(false);
    expect((info.content_info as { video?: unknown } | null)?.video).toBeUndefined();
    return { uuid, mime: info.mime_type };
  }

  it('keeps a truncated clip as a plain file and logs why', async () => {
    // The moov atom is at the end of an MP4 written by ffmpeg: cut it off and no stream can be read.
    const { uuid, mime } = await keptPlain(plain.subarray(0, Math.floor(plain.length / 2)), 'cut.mp4');
    expect(mime).toBe('video/mp4');
    const logged = logger.about(uuid);
    expect(logged).toHaveLength(1);
    expect(logged[0]).toMatchObject({ level: 'warn', message: 'video facts not read' });
    expect(String(logged[0]!.object.reason)).toMatch(/ffprobe cannot read the file/);
  });

  it('keeps random bytes named .mp4 as binary: the bytes decide, not the name', async () => {
    const { uuid, mime } = await keptPlain(randomBytes(64 * 1024), 'fake.mp4');
    expect(mime).toBe('application/octet-stream');
    expect(logger.about(uuid)).toHaveLength(0);
  });

  it('keeps a lying header (an MP4 signature over random bytes) as a plain file with a reason', async () => {
    const lying = Buffer.concat([plain.subarray(0, 32), randomBytes(32 * 1024)]);
    const { uuid, mime } = await keptPlain(lying, 'lying.mp4');
    expect(mime).toBe('video/mp4');
    expect(logger.about(uuid)[0]?.object.reason).toEqual(expect.any(String));
  });

  it('refuses to describe a file of a thousand streams, before the demuxer allocates them', async () => {
    const maps = Array.from({ length: 999 }, () => ['-map', '0:a']).flat();
    const many = await ffmpegClip(clips, 'many.mkv', ['-f', 'lavfi', '-i', 'sine=duration=0.01:sample_rate=8000', ...maps, '-c:a', 'pcm_s16le']);
    const { uuid } = await keptPlain(many, 'many.mkv');
    expect(String(logger.about(uuid)[0]?.object.reason)).toMatch(/more than TROVE_VIDEO_MAX_STREAMS \(16\)/);
  }, 30_000);
});

describe('a server without ffmpeg', () => {
  let trove: TestTrove;
  const logger = new RecordingLogger();
  beforeAll(async () => {
    trove = await startTrove({ logger, env: { TROVE_FFPROBE_PATH: '/nonexistent/ffprobe', TROVE_FFMPEG_PATH: '/nonexistent/ffmpeg' } });
  }, 60_000);
  afterAll(async () => trove?.close());

  it('starts, says in /ready that video is unavailable and why, and still takes videos as plain files', async () => {
    const ready = await fetch(`${trove.url}/ready`);
    expect(ready.status).toBe(200);
    const report = (await ready.json()) as { status: string; video?: { available: boolean; reason?: string } };
    expect(report.status).toBe('ready');
    expect(report.video).toEqual({ available: false, reason: expect.stringMatching(/\/nonexistent\/ffmpeg: not found/) });

    const uuid = await uploadFile(trove, plain, 'clip.mp4');
    const info = await fileInfo(trove, uuid);
    expect(info.mime_type).toBe('video/mp4');
    expect(info.video_info).toBeNull();
    expect(String(logger.about(uuid)[0]?.object.reason)).toMatch(/Video is not available on this server/);
  });
});

describe('/ready on a server with ffmpeg', () => {
  let trove: TestTrove;
  let scratch: string;
  beforeAll(async () => {
    scratch = await mkdtemp(path.join(tmpdir(), 'trove-scratch-'));
    await mkdir(path.join(scratch, 'video-scratch'));
    // What a process that crashed mid-conversion two days ago left behind, and what one running now writes.
    await writeFile(path.join(scratch, 'video-scratch', 'out-old'), 'stale');
    const old = new Date(Date.now() - 2 * 86_400_000);
    await utimes(path.join(scratch, 'video-scratch', 'out-old'), old, old);
    await writeFile(path.join(scratch, 'video-scratch', 'out-new'), 'running');
    trove = await startTrove({ env: { DATA_DIR: scratch } });
  }, 60_000);
  afterAll(async () => rm(scratch, { recursive: true, force: true }));
  afterAll(async () => trove?.close());

  it('names the engine, having cleared scratch files older than any conversion can last', async () => {
    const report = (await (await fetch(`${trove.url}/ready`)).json()) as { video?: { available: boolean; engine?: string } };
    expect(report.video).toEqual({ available: true, engine: expect.stringMatching(/^ffmpeg version /) });
    expect((await readdir(path.join(scratch, 'video-scratch'))).sort()).toEqual(['out-new']);
  });
});
