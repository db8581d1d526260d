import { execFile } from 'node:child_process';
import { request as httpRequest } from 'node:http';
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
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

/** The stream's state object as stored, or null. */
async function storedState(trove: TestTrove, uuid: string): Promise<Record<string, unknown> | null> {
  const body = await trove.ctx.blobs.get(`derivatives/${uuid}/hls-v1/state.json`);
  if (!body) return null;
  const chunks: Buffer[] = [];
  for await (const chunk of body) chunks.push(chunk as Buffer);
  return JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown>;
}

/** Asks for the master until the state is gone from the store (the file's purge), or fails. */
async function waitGone(trove: TestTrove, key: string): Promise<void> {
  const by = Date.now() + 15_000;
  while ((await trove.ctx.blobs.head(key)) && Date.now() < by) await sleep(100);
  expect(await trove.ctx.blobs.head(key), key).toBeNull();
}

let dir: string;
let clip: Buffer;
let silent: Buffer;
let live: Buffer;
let jumping: Buffer;
beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'trove-hls-'));
  clip = await testClip(dir, 'clip.mp4', { seconds: 9, size: '320x240' });
  silent = await ffmpegClip(dir, 'silent.mp4', ['-f', 'lavfi', '-i', 'testsrc=duration=2:size=160x120:rate=15', '-c:v', 'libx264', '-preset', 'ultrafast', '-pix_fmt', 'yuv420p']);
  const h264 = ['-f', 'lavfi', '-i', 'testsrc=duration=1:size=160x120:rate=15', '-c:v', 'libx264', '-preset', 'ultrafast', '-pix_fmt', 'yuv420p'];
  // Matroska written as a live stream: no duration anywhere in it, as a recording still going on.
  live = await ffmpegClip(dir, 'live.mkv', [...h264, '-f', 'matroska', '-live', '1']);
  // Two MPEG-TS pieces, the second 25 h later on the clock: ffprobe reads 90 001 s.
  const first = await ffmpegClip(dir, 'a.ts', [...h264, '-f', 'mpegts']);
  const later = await ffmpegClip(dir, 'b.ts', [...h264, '-output_ts_offset', '90000', '-f', 'mpegts']);
  jumping = Buffer.concat([first, later]);
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
    // The same request twice ran ffmpeg once. (The test S3 server rewrites an object in place, so the
    // second request may read the state half written, take it for none and ask again; the job it adds
    // ends at once.)
    expect(logger.about(uuid).filter((entry) => entry.message === 'HLS stream made')).toHaveLength(1);
    expect(logger.about(uuid).filter((entry) => entry.message === 'HLS stream requested').length).toBeLessThanOrEqual(2);

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
    const requested = logger.about(uuid).filter((entry) => entry.message === 'HLS stream requested').length;
    expect((await fetch(`${trove.url}/${uuid}/hls/master.m3u8`)).status).toBe(200);
    expect(logger.about(uuid).filter((entry) => entry.message === 'HLS stream requested')).toHaveLength(requested);

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

describe('a video without a duration, or an absurd one', () => {
  let trove: TestTrove;
  const logger = new RecordingLogger();
  beforeAll(async () => {
    trove = await startTrove({ logger });
  }, 60_000);
  afterAll(async () => trove?.close());

  it('is a 422 at once, and no job is started', async () => {
    for (const [bytes, name, reason] of [
      [live, 'live.mkv', 'does not say how long it is'],
      [jumping, 'jump.ts', 'lasts 90001.0 s, longer than TROVE_VIDEO_MAX_DURATION (3600 s)'],
    ] as const) {
      const uuid = await uploadFile(trove, bytes, name);
      const started = Date.now();
      const answer = await expectDeliveryError(await fetch(`${trove.url}/${uuid}/hls/master.m3u8`), 422);
      expect(Date.now() - started, name).toBeLessThan(5_000);
      expect(answer.code, name).toBe('STREAM_FAILED');
      expect(answer.message, name).toContain(reason);
      // Asked again, the same: the source is refused, not retried.
      expect((await fetch(`${trove.url}/${uuid}/hls/master.m3u8`)).status, name).toBe(422);
      expect(await storedState(trove, uuid), name).toBeNull();
      expect(logger.about(uuid).filter((entry) => entry.message === 'HLS stream requested'), name).toHaveLength(0);
    }
  }, 30_000);
});

describe('a stream whose ffmpeg crashes', () => {
  let trove: TestTrove;
  const logger = new RecordingLogger();
  let flag: string;
  beforeAll(async () => {
    // ffmpeg itself, except that an HLS ladder run kills itself (SIGSEGV) while the flag file exists.
    flag = path.join(dir, 'crash-hls');
    const script = path.join(dir, 'crashing-ffmpeg');
    const ffmpeg = (await run('sh', ['-c', 'command -v ffmpeg'])).stdout.trim();
    await writeFile(
      script,
      `#!/bin/sh\nfor arg in "$@"; do\n  if [ "$arg" = "-master_pl_name" ] && [ -e '${flag}' ]; then kill -SEGV $$; fi\ndone\nexec '${ffmpeg}' "$@"\n`,
    );
    await chmod(script, 0o755);
    await writeFile(flag, '');
    trove = await startTrove({ logger, env: { TROVE_FFMPEG_PATH: script } });
  }, 60_000);
  afterAll(async () => trove?.close());

  it('answers 503 with Retry-After until the back-off ends, then a request makes it', async () => {
    const uuid = await uploadFile(trove, silent, 'crash.mp4');
    const other = await uploadFile(trove, silent, 'deleted.mp4');
    const failed = await waitForMaster(trove, uuid);
    expect(failed.headers.get('retry-after')).toMatch(/^\d+$/);
    const wait = Number(failed.headers.get('retry-after'));
    expect(wait).toBeGreaterThan(0);
    expect(wait).toBeLessThanOrEqual(60);
    expect(failed.headers.get('cache-control')).toBe('no-store');
    const answer = await expectDeliveryError(failed, 503);
    expect(answer.code).toBe('STREAM_RETRY_PENDING');
    expect(answer.message).toContain('1 attempt');
    expect(answer.message).toContain('ffmpeg failed in its HLS ladder');
    expect(answer.message).toMatch(/tried again on a request from \d{4}-\d\d-\d\dT/);
    const state = await storedState(trove, uuid);
    expect(state).toMatchObject({ status: 'failed', attempts: 1, error: expect.stringContaining('ffmpeg failed'), retryAt: expect.any(String) });
    expect(Date.parse(String(state?.retryAt)) - Date.parse(String(state?.at))).toBe(60_000);

    // A file deleted while its stream waits for a retry takes the state with it.
    expect((await waitForMaster(trove, other)).status).toBe(503);
    expect((await rest(trove, `/files/${other}/storage/`, 'DELETE')).status).toBe(200);
    await expectDeliveryError(await fetch(`${trove.url}/${other}/hls/master.m3u8`), 404);
    await waitGone(trove, `derivatives/${other}/hls-v1/state.json`);

    // ffmpeg works again, but the back-off has not ended: still 503, and no job.
    await rm(flag);
    trove.clock.advance(30_000);
    const early = await expectDeliveryError(await fetch(`${trove.url}/${uuid}/hls/master.m3u8`), 503);
    expect(early.code).toBe('STREAM_RETRY_PENDING');
    expect(logger.about(uuid).filter((entry) => entry.message === 'HLS stream requested')).toHaveLength(1);

    // Past it: the next request starts attempt 2, requests together start one job, and the stream is made.
    trove.clock.advance(31_000);
    const together = await Promise.all([1, 2, 3].map(() => fetch(`${trove.url}/${uuid}/hls/master.m3u8`)));
    for (const response of together) {
      await response.arrayBuffer();
      expect([200, 202]).toContain(response.status);
    }
    const made = await waitForMaster(trove, uuid);
    expect(made.status).toBe(200);
    expect(await made.text()).toContain('#EXT-X-STREAM-INF');
    expect(await storedState(trove, uuid)).toBeNull();
    const requested = logger.about(uuid).filter((entry) => entry.message === 'HLS stream requested');
    expect(requested.map((entry) => entry.object.attempt)).toEqual(expect.arrayContaining([1, 2]));
    expect(requested.filter((entry) => entry.object.attempt === 2).length).toBeGreaterThanOrEqual(1);
    const runs = logger.about(uuid).filter((entry) => entry.message === 'HLS stream made' || entry.message === 'HLS stream failed');
    expect(runs.map((entry) => [entry.message, entry.object.attempt])).toEqual([
      ['HLS stream failed', 1],
      ['HLS stream made', 2],
    ]);

    // Deleting the file deletes the stream.
    expect((await rest(trove, `/files/${uuid}/storage/`, 'DELETE')).status).toBe(200);
    await waitGone(trove, `derivatives/${uuid}/hls-v1/master.m3u8`);
  }, 120_000);
});

describe('an attempt whose job never ran', () => {
  it('is replaced by a request once it is stale, and the queued job makes the new attempt', async () => {
    const shared = await mkdtemp(path.join(tmpdir(), 'trove-hls-roles-'));
    const env = { DATA_DIR: shared, TROVE_PUBLIC_KEY: `pk_${'e5'.repeat(8)}`, TROVE_SECRET_KEY: `sk_${'f6'.repeat(16)}` };
    try {
      // No video role: the job is queued and nothing takes it, as when every video worker is down.
      const front = await startTrove({ env: { ...env, TROVE_ROLES: 'upload,api,delivery,worker' } });
      let uuid: string;
      try {
        uuid = await uploadFile(front, silent, 'waiting.mp4');
        expect((await fetch(`${front.url}/${uuid}/hls/master.m3u8`)).status).toBe(202);
        expect(await storedState(front, uuid)).toMatchObject({ status: 'processing', attempts: 1 });
        // Younger than the job's lease (1.5 h with the defaults) and a margin: still being prepared.
        front.clock.advance(3_600_000);
        expect((await fetch(`${front.url}/${uuid}/hls/master.m3u8`)).status).toBe(202);
        expect(await storedState(front, uuid)).toMatchObject({ attempts: 1 });
        // Past it: the attempt counts as lost and the request starts the next (its job merges with the waiting one).
        front.clock.advance(3_600_000);
        const replaced = await fetch(`${front.url}/${uuid}/hls/master.m3u8`);
        expect(replaced.status).toBe(202);
        const state = await storedState(front, uuid);
        expect(state).toMatchObject({ status: 'processing', attempts: 2 });
        expect(state?.job).toBeUndefined();
      } finally {
        await front.close();
      }
      const logger = new RecordingLogger();
      const video = await startTrove({ logger, env: { ...env, TROVE_ROLES: 'api,delivery,video' } });
      try {
        const master = await waitForMaster(video, uuid);
        expect(master.status).toBe(200);
        expect(await master.text()).toContain('#EXT-X-STREAM-INF');
        const runs = logger.about(uuid).filter((entry) => entry.message === 'HLS stream made' || entry.message === 'HLS stream failed');
        expect(runs.map((entry) => [entry.message, entry.object.attempt])).toEqual([['HLS stream made', 2]]);
        expect(await storedState(video, uuid)).toBeNull();
      } finally {
        await video.close();
      }
    } finally {
      await rm(shared, { recursive: true, force: true });
    }
  }, 90_000);
});
