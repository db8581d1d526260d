import { execFile } from 'node:child_process';
import { request as httpRequest } from 'node:http';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { availableBackends } from '../helpers/backends.js';
import { startTrove, type TestTrove } from '../helpers/trove-server.js';
import { expectDeliveryError, sleep, uploadFile } from '../helpers/upload-http.js';
import { ffmpegClip, RecordingLogger, testClip } from '../helpers/video-clips.js';

const run = promisify(execFile);
const backends = await availableBackends();

/** GET with the path sent as written: fetch and URL would resolve `..` before it leaves. */
function rawGet(base: string, rawPath: string): Promise<{ status: number; body: string }> {
  const target = new URL(base);
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: target.hostname, port: target.port, path: rawPath, method: 'GET' }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
    });
    req.on('error', reject);
    req.end();
  });
}

/** Asks for the master until it is there, as a player's page would. */
async function waitForMaster(trove: TestTrove, uuid: string, timeoutMs = 90_000): Promise<Response> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const response = await fetch(`${trove.url}/${uuid}/hls/master.m3u8`);
    if (response.status !== 202) return response;
    await response.arrayBuffer();
    if (Date.now() > deadline) throw new Error(`the stream of ${uuid} is still being prepared`);
    await sleep(200);
  }
}

function rest(trove: TestTrove, pathname: string, method: string): Promise<Response> {
  return fetch(`${trove.url}${pathname}`, {
    method,
    headers: { Accept: 'application/vnd.uploadcare-v0.7+json', Authorization: `Uploadcare.Simple ${trove.publicKey}:${trove.secretKey}` },
  });
}

let dir: string;
let clip: Buffer;
let silent: Buffer;
beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'trove-hls-'));
  clip = await testClip(dir, 'clip.mp4', { seconds: 9, size: '320x240' });
  silent = await ffmpegClip(dir, 'silent.mp4', ['-f', 'lavfi', '-i', 'testsrc=duration=2:size=160x120:rate=15', '-c:v', 'libx264', '-preset', 'ultrafast', '-pix_fmt', 'yuv420p']);
}, 60_000);
afterAll(async () => rm(dir, { recursive: true, force: true }));

describe.each(backends)('GET /:uuid/hls/ over HTTP (%s)', (backend) => {
  let trove: TestTrove;
  const logger = new RecordingLogger();
  beforeAll(async () => {
    trove = await startTrove({ backend, logger });
  }, 60_000);
  afterAll(async () => trove?.close());

  it('prepares the ladder in one job, then serves playlists and segments a player can read', async () => {
    const uuid = await uploadFile(trove, clip, 'clip.mp4');
    const first = await fetch(`${trove.url}/${uuid}/hls/master.m3u8`);
    expect(first.status).toBe(202);
    expect(first.headers.get('retry-after')).toBe('5');
    expect(first.headers.get('cache-control')).toBe('no-store');
    expect(await first.json()).toMatchObject({ status: 'processing', detail: expect.stringContaining('being prepared') });
    const again = await fetch(`${trove.url}/${uuid}/hls/`);
    expect([200, 202]).toContain(again.status);
    await again.arrayBuffer();

    const master = await waitForMaster(trove, uuid);
    expect(master.status).toBe(200);
    expect(master.headers.get('content-type')).toBe('application/vnd.apple.mpegurl');
    expect(master.headers.get('cache-control')).toMatch(/immutable|max-age=\d{6,}/);
    expect(master.headers.get('etag')).toBe('"hls-v1-master-m3u8"');
    expect(master.headers.get('cache-tag')).toContain(uuid);
    expect(master.headers.get('access-control-allow-origin')).toBe('*');
    const text = await master.text();
    // The same request twice started one job.
    expect(logger.about(uuid).filter((entry) => entry.message === 'HLS stream requested')).toHaveLength(1);

    // 320×240 has two rungs: its own size and 180 lines; nothing above the source.
    const variants = [...text.matchAll(/#EXT-X-STREAM-INF:BANDWIDTH=(\d+),RESOLUTION=(\d+)x(\d+)[^\n]*\n(\S+)/g)];
    expect(variants.map((v) => [v[2], v[3], v[4]])).toEqual([
      ['320', '240', 'r0.m3u8'],
      ['240', '180', 'r1.m3u8'],
    ]);
    for (const variant of variants) expect(Number(variant[1])).toBeGreaterThan(100_000);

    const cuts: string[] = [];
    for (const variant of variants) {
      const playlist = await fetch(`${trove.url}/${uuid}/hls/${variant[4]}`);
      expect(playlist.status).toBe(200);
      expect(playlist.headers.get('content-type')).toBe('application/vnd.apple.mpegurl');
      const body = await playlist.text();
      expect(body).toContain('#EXT-X-PLAYLIST-TYPE:VOD');
      expect(body).toContain('#EXT-X-ENDLIST');
      expect(Number(/#EXT-X-TARGETDURATION:(\d+)/.exec(body)?.[1])).toBeLessThanOrEqual(4);
      const segments = body.split('\n').filter((line) => line.endsWith('.ts'));
      // 9 s at 4 s a segment: three segments, named relatively.
      expect(segments).toHaveLength(3);
      for (const segment of segments) expect(segment).toMatch(/^r[01]_\d{5}\.ts$/);
      const durations = [...body.matchAll(/#EXTINF:([\d.]+)/g)].map((m) => Number(m[1]));
      for (const duration of durations) expect(duration).toBeLessThanOrEqual(4.01);
      // Keyframes aligned: every rendition cuts at the same instants.
      cuts.push(durations.map((d) => d.toFixed(2)).join(','));

      const response = await fetch(`${trove.url}/${uuid}/hls/${segments[0]}`);
      expect(response.status).toBe(200);
      expect(response.headers.get('content-type')).toBe('video/mp2t');
      expect(response.headers.get('etag')).toMatch(/^"hls-v1-r[01]_\d{5}-ts"$/);
      const file = path.join(dir, `${uuid}-${segments[0]}`);
      await writeFile(file, Buffer.from(await response.arrayBuffer()));
      const { stdout } = await run('nice', ['-n', '19', 'ffprobe', '-v', 'error', '-print_format', 'json', '-show_entries', 'stream=codec_type,codec_name,pix_fmt,width,height', file]);
      const streams = (JSON.parse(stdout) as { streams: { codec_type: string; codec_name: string; pix_fmt?: string; width?: number; height?: number }[] }).streams;
      expect(streams.find((s) => s.codec_type === 'video')).toMatchObject({ codec_name: 'h264', pix_fmt: 'yuv420p', width: Number(variant[2]), height: Number(variant[3]) });
      expect(streams.find((s) => s.codec_type === 'audio')).toMatchObject({ codec_name: 'aac' });
    }

    expect(new Set(cuts).size).toBe(1);

    // An HLS client (ffmpeg's demuxer) follows the master over HTTP, finds every rendition and decodes one end to end.
    const { stdout: probed } = await run('nice', ['-n', '19', 'ffprobe', '-v', 'error', '-print_format', 'json', '-show_entries', 'stream=codec_type,width,height:format=duration', `${trove.url}/${uuid}/hls/master.m3u8`]);
    const overHttp = JSON.parse(probed) as { streams: { codec_type: string; width?: number }[]; format: { duration: string } };
    expect(overHttp.streams.filter((s) => s.codec_type === 'video').map((s) => s.width).sort()).toEqual([240, 320]);
    expect(Number(overHttp.format.duration)).toBeCloseTo(9, 0);
    await run('nice', ['-n', '19', 'ffmpeg', '-v', 'error', '-xerror', '-i', `${trove.url}/${uuid}/hls/master.m3u8`, '-map', '0:v:0', '-map', '0:a:0', '-f', 'null', '-']);

    // Revalidation answers 304 without a body.
    const revalidated = await fetch(`${trove.url}/${uuid}/hls/master.m3u8`, { headers: { 'if-none-match': '"hls-v1-master-m3u8"' } });
    expect(revalidated.status).toBe(304);

    // Asking again once it is made starts nothing more.
    expect((await fetch(`${trove.url}/${uuid}/hls/master.m3u8`)).status).toBe(200);
    expect(logger.about(uuid).filter((entry) => entry.message === 'HLS stream requested')).toHaveLength(1);

    // Names outside Trove's own, and paths that climb, are 404s before any lookup.
    for (const bad of ['hls/r7.m3u8', 'hls/r0_00099.ts', 'hls/state.json', 'hls/..%2F..%2Fetc%2Fpasswd', 'hls/%2e%2e/master.m3u8', 'hls/r0.m3u8%00', 'hls/sub/r0.m3u8']) {
      const answer = await rawGet(trove.url, `/${uuid}/${bad}`);
      expect(answer.status, bad).toBe(404);
      expect(JSON.parse(answer.body), bad).toMatchObject({ code: 'NOT_FOUND' });
    }
    const climbing = await rawGet(trove.url, `/${uuid}/hls/../../../etc/passwd`);
    expect([400, 404]).toContain(climbing.status);
    expect(climbing.body).not.toContain('root:');
    expect(climbing.body).not.toContain('#EXTM3U');

    // Deleting the file takes the stream with it.
    expect((await rest(trove, `/files/${uuid}/storage/`, 'DELETE')).status).toBe(200);
    await expectDeliveryError(await fetch(`${trove.url}/${uuid}/hls/master.m3u8`), 404);
    await expectDeliveryError(await fetch(`${trove.url}/${uuid}/hls/r0.m3u8`), 404);
    // …and its bytes: the stream lives under the file's derivatives, which the file's purge deletes.
    const stored = `derivatives/${uuid}/hls-v1/master.m3u8`;
    const purgedBy = Date.now() + 15_000;
    while ((await trove.ctx.blobs.head(stored)) && Date.now() < purgedBy) await sleep(100);
    expect(await trove.ctx.blobs.head(stored)).toBeNull();
  }, 120_000);

  it('streams a video without sound as one silent rendition', async () => {
    const uuid = await uploadFile(trove, silent, 'silent.mp4');
    const master = await waitForMaster(trove, uuid);
    expect(master.status).toBe(200);
    const text = await master.text();
    expect(text).toMatch(/RESOLUTION=160x120/);
    expect(text).not.toContain('mp4a');
    const playlist = await (await fetch(`${trove.url}/${uuid}/hls/r0.m3u8`)).text();
    const segment = playlist.split('\n').find((line) => line.endsWith('.ts'))!;
    const response = await fetch(`${trove.url}/${uuid}/hls/${segment}`);
    expect(response.status).toBe(200);
    expect(Number(response.headers.get('content-length'))).toBeGreaterThan(1000);
    await expectDeliveryError(await fetch(`${trove.url}/${uuid}/hls/r1.m3u8`), 404);
  }, 60_000);

  it('refuses a file that is not a video with a 400 that says why', async () => {
    const uuid = await uploadFile(trove, Buffer.from('just some text\n'), 'notes.txt');
    const answer = await expectDeliveryError(await fetch(`${trove.url}/${uuid}/hls/master.m3u8`), 400);
    expect(answer.code).toBe('NOT_A_VIDEO');
    expect(answer.message).toContain('text/plain');
  });
});

describe('a video over the limits', () => {
  let trove: TestTrove;
  beforeAll(async () => {
    trove = await startTrove({ env: { TROVE_VIDEO_MAX_DURATION: '5s' } });
  }, 60_000);
  afterAll(async () => trove?.close());

  it('is a 422 naming the limit, and no job is started', async () => {
    const uuid = await uploadFile(trove, clip, 'long.mp4');
    const answer = await expectDeliveryError(await fetch(`${trove.url}/${uuid}/hls/master.m3u8`), 422);
    expect(answer.code).toBe('STREAM_FAILED');
    expect(answer.message).toContain('TROVE_VIDEO_MAX_DURATION');
    expect(await trove.ctx.blobs.head(`derivatives/${uuid}/hls-v1/state.json`)).toBeNull();
  });
});
