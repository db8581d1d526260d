import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { availableBackends } from '../helpers/backends.js';
import { startTrove, type TestTrove } from '../helpers/trove-server.js';
import { expectDeliveryError, uploadFile } from '../helpers/upload-http.js';
import { ffmpegClip } from '../helpers/video-clips.js';

const run = promisify(execFile);
const backends = await availableBackends();

/** A grainy fractal zoom through a per-animation palette with dithering: how photo-like GIFs are made. */
const PHOTO_FILTER = 'mandelbrot=s=161x121:r=10,trim=end_frame=12,noise=alls=6:allf=t,split[a][b];[a]palettegen[p];[b][p]paletteuse';

interface Probed {
  codec: string;
  pixFmt: string;
  width: number;
  height: number;
  frames: number;
  durationS: number;
  streams: string[];
}

/** What ffprobe reads in a delivered video, its frames counted by decoding them. */
async function probeVideo(dir: string, name: string, bytes: Buffer): Promise<Probed> {
  const file = path.join(dir, name);
  await writeFile(file, bytes);
  const { stdout } = await run('nice', [
    '-n', '19', 'ffprobe', '-v', 'error', '-count_frames', '-print_format', 'json',
    '-show_entries', 'stream=codec_type,codec_name,pix_fmt,width,height,nb_read_frames:format=duration', file,
  ]);
  const json = JSON.parse(stdout) as {
    streams: { codec_type: string; codec_name: string; pix_fmt: string; width: number; height: number; nb_read_frames: string }[];
    format: { duration: string };
  };
  const video = json.streams.find((stream) => stream.codec_type === 'video')!;
  return {
    codec: video.codec_name,
    pixFmt: video.pix_fmt,
    width: video.width,
    height: video.height,
    frames: Number(video.nb_read_frames),
    durationS: Number(json.format.duration),
    streams: json.streams.map((stream) => stream.codec_type),
  };
}

async function conversions(trove: TestTrove, format: string): Promise<number> {
  const text = await (await fetch(`${trove.url}/metrics`)).text();
  const match = new RegExp(`^trove_gif2video_duration_seconds_count\\{format="${format}"\\} (\\d+)$`, 'm').exec(text);
  return match ? Number(match[1]) : 0;
}

let dir: string;
let photoGif: Buffer;
let stillGif: Buffer;
let png: Buffer;
beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'trove-gif2video-'));
  photoGif = await ffmpegClip(dir, 'photo.gif', ['-f', 'lavfi', '-i', PHOTO_FILTER]);
  stillGif = await sharp({ create: { width: 40, height: 30, channels: 3, background: '#3366cc' } }).gif().toBuffer();
  png = await sharp({ create: { width: 40, height: 30, channels: 3, background: '#3366cc' } }).png().toBuffer();
}, 60_000);
afterAll(async () => rm(dir, { recursive: true, force: true }));

describe.each(backends)('gif2video (%s)', (backend) => {
  let trove: TestTrove;
  let photo: string;
  beforeAll(async () => {
    trove = await startTrove({ backend });
    photo = await uploadFile(trove, photoGif, 'photo.gif');
  }, 60_000);
  afterAll(async () => trove?.close());

  it('answers an MP4 a fraction of the GIF: H.264, yuv420p, even sides, the GIF\'s frames and duration, index first, no audio', async () => {
    const response = await fetch(`${trove.url}/${photo}/gif2video/`);
    expect(response.status, await response.clone().text()).toBe(200);
    expect(response.headers.get('content-type')).toBe('video/mp4');
    expect(response.headers.get('accept-ranges')).toBe('bytes');
    expect(response.headers.get('surrogate-key')).toContain(`f:${photo}`);
    expect(response.headers.get('cache-control')).toMatch(/max-age=\d+/);
    const bytes = Buffer.from(await response.arrayBuffer());
    expect(Number(response.headers.get('content-length'))).toBe(bytes.length);
    const video = await probeVideo(dir, 'photo.mp4', bytes);
    expect(video).toMatchObject({ codec: 'h264', pixFmt: 'yuv420p', width: 160, height: 120, streams: ['video'] });
    expect(video.frames).toBe(12);
    expect(video.durationS).toBeGreaterThan(1.1);
    expect(video.durationS).toBeLessThan(1.3);
    // +faststart: the index (moov) comes before the frames (mdat).
    expect(bytes.indexOf('moov')).toBeGreaterThan(0);
    expect(bytes.indexOf('moov')).toBeLessThan(bytes.indexOf('mdat'));
    expect(bytes.length).toBeLessThan(photoGif.length / 4);
  });

  it('answers a WebM (VP9) for -/format/webm/ at each quality, lighter ones smaller', async () => {
    const better = await fetch(`${trove.url}/${photo}/gif2video/-/format/webm/-/quality/better/`);
    expect(better.status).toBe(200);
    expect(better.headers.get('content-type')).toBe('video/webm');
    const betterBytes = Buffer.from(await better.arrayBuffer());
    const video = await probeVideo(dir, 'photo.webm', betterBytes);
    expect(video).toMatchObject({ codec: 'vp9', pixFmt: 'yuv420p', width: 160, height: 120, streams: ['video'] });
    expect(video.frames).toBe(12);
    expect(betterBytes.length).toBeLessThan(photoGif.length / 4);
    const lightest = await fetch(`${trove.url}/${photo}/gif2video/-/format/webm/-/quality/lightest/clip.gif`);
    expect(lightest.status).toBe(200);
    expect(lightest.headers.get('content-disposition')).toContain('clip.gif');
    expect((await lightest.arrayBuffer()).byteLength).toBeLessThan(betterBytes.length);
  });

  it('serves the second request from the derivative cache without running ffmpeg, then from the blob store', async () => {
    const url = `${trove.url}/${photo}/gif2video/-/quality/lighter/`;
    const ranBefore = await conversions(trove, 'mp4');
    const lookups = trove.ctx.metrics.derivativeLookups;
    const missesBefore = lookups.miss;
    // Two at once share one conversion.
    const [first, second] = await Promise.all([fetch(url), fetch(url)]);
    const firstBytes = Buffer.from(await first.arrayBuffer());
    expect(Buffer.from(await second.arrayBuffer()).equals(firstBytes)).toBe(true);
    expect(lookups.miss).toBe(missesBefore + 1);
    expect(await conversions(trove, 'mp4')).toBe(ranBefore + 1);

    const l1Before = lookups.l1;
    const again = await fetch(url);
    expect(Buffer.from(await again.arrayBuffer()).equals(firstBytes)).toBe(true);
    expect(again.headers.get('etag')).toBe(first.headers.get('etag'));
    expect(lookups.l1).toBe(l1Before + 1);

    await trove.ctx.services.transform.drain();
    trove.ctx.services.transform.clearMemoryTier();
    const l2Before = lookups.l2;
    const fromStore = await fetch(url);
    expect(Buffer.from(await fromStore.arrayBuffer()).equals(firstBytes)).toBe(true);
    expect(fromStore.headers.get('content-type')).toBe('video/mp4');
    expect(lookups.l2).toBe(l2Before + 1);
    expect(lookups.miss).toBe(missesBefore + 1);
    expect(await conversions(trove, 'mp4')).toBe(ranBefore + 1);
  });

  it('answers 304 to its ETag, and byte ranges', async () => {
    const url = `${trove.url}/${photo}/gif2video/-/format/mp4/-/quality/normal/`;
    const full = await fetch(url);
    const etag = full.headers.get('etag')!;
    const bytes = Buffer.from(await full.arrayBuffer());
    // The defaults spelled out name the same derivative as the bare URL.
    expect((await fetch(`${trove.url}/${photo}/gif2video/`)).headers.get('etag')).toBe(etag);
    const revalidated = await fetch(url, { headers: { 'if-none-match': etag } });
    expect(revalidated.status).toBe(304);
    expect(revalidated.headers.get('etag')).toBe(etag);
    expect(await revalidated.text()).toBe('');
    const part = await fetch(url, { headers: { range: 'bytes=10-109' } });
    expect(part.status).toBe(206);
    expect(part.headers.get('content-range')).toBe(`bytes 10-109/${bytes.length}`);
    expect(Buffer.from(await part.arrayBuffer()).equals(bytes.subarray(10, 110))).toBe(true);
    const beyond = await fetch(url, { headers: { range: `bytes=${bytes.length + 10}-` } });
    expect(beyond.status).toBe(416);
  });

  it('shows transparent pixels as white', async () => {
    // Three frames of a red square moving over a transparent background.
    const [width, height, frames] = [40, 30, 3];
    const rgba = Buffer.alloc(width * height * frames * 4);
    for (let frame = 0; frame < frames; frame++) {
      for (let y = 10; y < 20; y++) {
        for (let x = 5 + frame * 10; x < 15 + frame * 10; x++) rgba.set([255, 0, 0, 255], ((frame * height + y) * width + x) * 4);
      }
    }
    const gif = await sharp(rgba, { raw: { width, height: height * frames, channels: 4, pageHeight: height } }).gif({ delay: [100, 100, 100], loop: 0 }).toBuffer();
    const uuid = await uploadFile(trove, gif, 'transparent.gif');
    const response = await fetch(`${trove.url}/${uuid}/gif2video/-/quality/best/`);
    expect(response.status).toBe(200);
    const file = path.join(dir, `transparent-${backend}.mp4`);
    await writeFile(file, Buffer.from(await response.arrayBuffer()));
    const { stdout } = await run('nice', ['-n', '19', 'ffmpeg', '-v', 'error', '-i', file, '-frames:v', '1', '-f', 'rawvideo', '-pix_fmt', 'rgb24', 'pipe:1'], { encoding: 'buffer' });
    const pixel = (x: number, y: number) => [...stdout.subarray((y * width + x) * 3, (y * width + x) * 3 + 3)];
    for (const channel of pixel(1, 1)) expect(channel).toBeGreaterThan(240);
    const [red, green, blue] = pixel(9, 15) as [number, number, number];
    expect(red).toBeGreaterThan(200);
    expect(green).toBeLessThan(60);
    expect(blue).toBeLessThan(60);
  });

  it('forgets the video when its GIF is deleted, memory tier included', async () => {
    const uuid = await uploadFile(trove, photoGif, 'gone.gif');
    const url = `${trove.url}/${uuid}/gif2video/-/format/webm/`;
    expect((await fetch(url)).status).toBe(200);
    expect((await fetch(url)).status).toBe(200);
    const deleted = await fetch(`${trove.url}/files/${uuid}/storage/`, {
      method: 'DELETE',
      headers: { Accept: 'application/vnd.uploadcare-v0.7+json', Authorization: `Uploadcare.Simple ${trove.publicKey}:${trove.secretKey}` },
    });
    expect(deleted.status).toBe(200);
    await expectDeliveryError(await fetch(url), 404);
  });

  it.each([
    // The photo GIF is 161×121: the video never grows past it, and every side is even.
    ['-/preview/80x80/', 80, 60],
    ['-/preview/', 160, 120],
    ['-/resize/100x/', 100, 74],
    ['-/resize/x60/', 80, 60],
    ['-/resize/64x100/', 64, 100],
    ['-/resize/1000x/', 160, 120],
    ['-/crop/100x50/', 100, 50],
    ['-/crop/100x50/center/', 100, 50],
    ['-/crop/50px50p/10,20/', 80, 60],
    ['-/scale_crop/64x64/', 64, 64],
    ['-/scale_crop/64x64/center/', 64, 64],
    ['-/scale_crop/400x100/', 160, 40],
    ['-/resize/120x/-/crop/60x40/center/', 60, 40],
  ])('%s gives a %i×%i video', async (operations, width, height) => {
    const response = await fetch(`${trove.url}/${photo}/gif2video/${operations}-/format/webm/`);
    expect(response.status, await response.clone().text()).toBe(200);
    const video = await probeVideo(dir, `sized-${backend}.webm`, Buffer.from(await response.arrayBuffer()));
    expect(video).toMatchObject({ codec: 'vp9', pixFmt: 'yuv420p', width, height });
    expect(video.frames).toBe(12);
  });

  it('crops where the position says', async () => {
    // Left half red, right half blue, two frames.
    const [width, height] = [40, 20];
    const rgba = Buffer.alloc(width * height * 2 * 4);
    for (let y = 0; y < height * 2; y++) {
      for (let x = 0; x < width; x++) rgba.set(x < width / 2 ? [255, 0, 0, 255] : [0, 0, 255, 255], (y * width + x) * 4);
    }
    // The second frame differs (its bottom-left corner), so the GIF keeps two frames.
    rgba.set([0, 255, 0, 255], ((height * 2 - 1) * width) * 4);
    const gif = await sharp(rgba, { raw: { width, height: height * 2, channels: 4, pageHeight: height } }).gif({ delay: [100, 100], loop: 0 }).toBuffer();
    const uuid = await uploadFile(trove, gif, 'halves.gif');
    const firstPixel = async (operations: string): Promise<number[]> => {
      const response = await fetch(`${trove.url}/${uuid}/gif2video/${operations}-/quality/best/`);
      expect(response.status).toBe(200);
      const file = path.join(dir, `halves-${backend}.mp4`);
      await writeFile(file, Buffer.from(await response.arrayBuffer()));
      const { stdout } = await run('nice', ['-n', '19', 'ffmpeg', '-v', 'error', '-i', file, '-frames:v', '1', '-f', 'rawvideo', '-pix_fmt', 'rgb24', 'pipe:1'], { encoding: 'buffer' });
      expect(stdout.length).toBe(10 * 10 * 3);
      return [...stdout.subarray(5 * 10 * 3 + 5 * 3, 5 * 10 * 3 + 5 * 3 + 3)];
    };
    const [leftRed, , leftBlue] = (await firstPixel('-/crop/10x10/')) as [number, number, number];
    expect(leftRed).toBeGreaterThan(200);
    expect(leftBlue).toBeLessThan(60);
    const [rightRed, , rightBlue] = (await firstPixel('-/crop/10x10/bottom_right/')) as [number, number, number];
    expect(rightRed).toBeLessThan(60);
    expect(rightBlue).toBeGreaterThan(200);
    const [pointRed, , pointBlue] = (await firstPixel('-/crop/10x10/25,5/')) as [number, number, number];
    expect(pointRed).toBeLessThan(60);
    expect(pointBlue).toBeGreaterThan(200);
  });

  it('names each size its own derivative and keeps the bare URL\'s', async () => {
    const etag = async (tail: string) => (await fetch(`${trove.url}/${photo}/gif2video/${tail}`)).headers.get('etag');
    const bare = await etag('');
    const resized = await etag('-/resize/100x/');
    expect(resized).not.toBe(bare);
    expect(await etag('-/resize/0100x/')).toBe(resized);
    expect(await etag('-/resize/x100/')).not.toBe(resized);
  });

  it.each([
    ['-/resize/0x100/', 'width 0 is not a size'],
    ['-/resize/-100x/', 'is not a size'],
    ['-/resize/abcx/', '"abcx" is not a size'],
    ['-/resize/99999x/', 'width 99999 is larger than the'],
    ['-/resize/99999999999999999999x/', 'is not a size'],
    ['-/resize/1e9x/', '"1e9x" is not a size'],
    ['-/resize/100x100x100/', 'is not a size'],
    ['-/preview/100x/', 'needs both sides'],
    ['-/preview/0x0/', 'width 0 is not a size'],
    ['-/crop/0x10/', 'width must be greater than 0'],
    ['-/crop/10x10/-5,0/', 'is not a valid x'],
    ['-/crop/99999999x10/', 'is larger than 65535 px'],
    ['-/crop/10x10/%3Bdrawtext/', 'is not a position'],
    ['-/crop/16:9/', 'by aspect ratio'],
    ['-/scale_crop/10x10/smart_faces/', 'not supported'],
    ['-/scale_crop/10x/', 'needs both sides'],
    ['-/scale_crop/10x10/5,5/', 'in percent'],
    ['-/scale_crop/scale=iw*9:ih*9/', 'is not a size'],
  ])('refuses %s with a 400 that names the problem', async (operations, why) => {
    const response = await fetch(`${trove.url}/${photo}/gif2video/${operations}`);
    const error = await expectDeliveryError(response, 400);
    expect(error.code).toBe('INVALID_OPERATION');
    expect(error.message).toContain(why);
  });

  it('refuses an animated WebP with a 400 that says why', async () => {
    const [width, height] = [20, 10];
    const rgba = Buffer.alloc(width * height * 2 * 4);
    for (let i = 0; i < rgba.length; i += 4) rgba.set(i < rgba.length / 2 ? [255, 0, 0, 255] : [0, 0, 255, 255], i);
    const webp = await sharp(rgba, { raw: { width, height: height * 2, channels: 4, pageHeight: height } }).webp({ delay: [100, 100], loop: 0 }).toBuffer();
    const uuid = await uploadFile(trove, webp, 'anim.webp');
    const error = await expectDeliveryError(await fetch(`${trove.url}/${uuid}/gif2video/-/resize/10x/`), 400);
    expect(error.code).toBe('NOT_A_GIF');
    expect(error.message).toContain('cannot decode animated WebP');
  });

  it('refuses a PNG, a still GIF and bad parameters with 400s that say why', async () => {
    const pngUuid = await uploadFile(trove, png, 'flat.png');
    const notGif = await expectDeliveryError(await fetch(`${trove.url}/${pngUuid}/gif2video/`), 400);
    expect(notGif.code).toBe('NOT_A_GIF');
    expect(notGif.message).toContain('image/png');

    const stillUuid = await uploadFile(trove, stillGif, 'still.gif');
    const still = await expectDeliveryError(await fetch(`${trove.url}/${stillUuid}/gif2video/`), 400);
    expect(still.code).toBe('NOT_ANIMATED');

    const ogg = await expectDeliveryError(await fetch(`${trove.url}/${photo}/gif2video/-/format/ogg/`), 400);
    expect(ogg.code).toBe('INVALID_OPERATION');
    expect(ogg.message).toContain('mp4|webm');
    const quality = await expectDeliveryError(await fetch(`${trove.url}/${photo}/gif2video/-/quality/smart/`), 400);
    expect(quality.message).toContain('lightest');
    const blur = await expectDeliveryError(await fetch(`${trove.url}/${photo}/gif2video/-/blur/10/`), 400);
    expect(blur.message).toContain('unknown operation "blur"');
    const dashed = await expectDeliveryError(await fetch(`${trove.url}/${photo}/-/gif2video/`), 400);
    expect(dashed.message).toContain('/:uuid/gif2video/');
  });
});

describe('gif2video limits and availability', () => {
  it('refuses a GIF over the frame limit before running ffmpeg (422)', async () => {
    const trove = await startTrove({ env: { TROVE_MAX_SOURCE_PAGES: '8' } });
    try {
      const uuid = await uploadFile(trove, photoGif, 'photo.gif');
      const error = await expectDeliveryError(await fetch(`${trove.url}/${uuid}/gif2video/`), 422);
      expect(error.code).toBe('SOURCE_TOO_LARGE');
      expect(error.message).toContain('TROVE_MAX_SOURCE_PAGES');
      expect(await conversions(trove, 'mp4')).toBe(0);
    } finally {
      await trove.close();
    }
  }, 60_000);

  it('kills ffmpeg at TROVE_TRANSFORM_TIMEOUT and answers 503 TIMEOUT with Retry-After, caching nothing', async () => {
    const trove = await startTrove({ env: { TROVE_TRANSFORM_TIMEOUT: '10ms' } });
    try {
      const uuid = await uploadFile(trove, photoGif, 'photo.gif');
      for (let attempt = 0; attempt < 2; attempt++) {
        const response = await fetch(`${trove.url}/${uuid}/gif2video/-/format/webm/`);
        expect(response.headers.get('retry-after')).toBe('5');
        const error = await expectDeliveryError(response, 503);
        expect(error.code).toBe('TIMEOUT');
      }
      expect(trove.ctx.metrics.derivativeLookups.miss).toBe(2);
    } finally {
      await trove.close();
    }
  }, 60_000);

  it('answers 503 with Retry-After when ffmpeg cannot run', async () => {
    const trove = await startTrove({ env: { TROVE_FFMPEG_PATH: '/nonexistent/ffmpeg', TROVE_FFPROBE_PATH: '/nonexistent/ffprobe' } });
    try {
      const uuid = await uploadFile(trove, photoGif, 'photo.gif');
      const response = await fetch(`${trove.url}/${uuid}/gif2video/`);
      expect(response.headers.get('retry-after')).toBe('30');
      const error = await expectDeliveryError(response, 503);
      expect(error.code).toBe('VIDEO_UNAVAILABLE');
      expect(error.message).toContain('/nonexistent/ffmpeg');
    } finally {
      await trove.close();
    }
  }, 60_000);
});
