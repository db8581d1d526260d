import { findOnAnyShard } from '../../src/services/shard-lookup.js';
import { execFile } from 'node:child_process';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import {
  ConversionStatus,
  ConversionType,
  conversionJobPoller,
  conversionJobStatus,
  convert,
  createWebhook,
  UploadcareAuthSchema,
  type UserSettings,
  type WebhookEvent,
} from '@uploadcare/rest-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { availableBackends } from '../helpers/backends.js';
import { startTrove, type TestTrove } from '../helpers/trove-server.js';
import { fileInfo, sleep, uploadFile } from '../helpers/upload-http.js';
import { ffmpegClip, testClip } from '../helpers/video-clips.js';

const run = promisify(execFile);
const backends = await availableBackends();

interface Conversion {
  problems: Record<string, string>;
  result: { original_source: string; token: number; uuid: string; thumbnails_group_uuid: string }[];
}
interface Status {
  status: string;
  error: string | null;
  result: { uuid: string; thumbnails_group_uuid: string } | null;
}

function rest(trove: TestTrove, pathname: string, init: RequestInit = {}): Promise<Response> {
  return fetch(`${trove.url}${pathname}`, {
    ...init,
    headers: {
      Accept: 'application/vnd.uploadcare-v0.7+json',
      'Content-Type': 'application/json',
      Authorization: `Uploadcare.Simple ${trove.publicKey}:${trove.secretKey}`,
    },
  });
}

async function postConvert(trove: TestTrove, body: unknown): Promise<{ status: number; body: Conversion & { detail?: string } }> {
  const response = await rest(trove, '/convert/video/', { method: 'POST', body: JSON.stringify(body) });
  return { status: response.status, body: (await response.json()) as Conversion & { detail?: string } };
}

async function waitForConversion(trove: TestTrove, token: number, timeoutMs = 60_000): Promise<Status> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const response = await rest(trove, `/convert/video/status/${token}/`);
    expect(response.status).toBe(200);
    const status = (await response.json()) as Status;
    if (status.status === 'finished' || status.status === 'failed' || status.status === 'cancelled') return status;
    if (Date.now() > deadline) throw new Error(`conversion ${token} still ${status.status}`);
    await sleep(100);
  }
}

/** What ffprobe says of a delivered result: its streams' codec, size and pixel format. */
async function probeBytes(dir: string, name: string, bytes: Buffer): Promise<{ codec_name: string; width?: number; height?: number; pix_fmt?: string; codec_type: string }[]> {
  const file = path.join(dir, name);
  await writeFile(file, bytes);
  const { stdout } = await run('ffprobe', ['-v', 'error', '-show_entries', 'stream=codec_name,codec_type,width,height,pix_fmt', '-of', 'json', file]);
  return (JSON.parse(stdout) as { streams: { codec_name: string; width?: number; height?: number; pix_fmt?: string; codec_type: string }[] }).streams;
}

async function download(trove: TestTrove, uuid: string): Promise<Buffer> {
  const response = await fetch(`${trove.url}/${uuid}/`);
  expect(response.status).toBe(200);
  return Buffer.from(await response.arrayBuffer());
}

let clips: string;
let plain: Buffer;
let rotated: Buffer;
beforeAll(async () => {
  clips = await mkdtemp(path.join(tmpdir(), 'trove-convert-'));
  plain = await testClip(clips, 'plain.mp4', { seconds: 2 });
  rotated = await ffmpegClip(clips, 'rotated.mp4', ['-i', path.join(clips, 'plain.mp4'), '-c', 'copy', '-metadata:s:v:0', 'rotate=90']);
}, 60_000);
afterAll(async () => rm(clips, { recursive: true, force: true }));

describe('POST /convert/video/ over HTTP', () => {
  let trove: TestTrove;
  let source: string;
  beforeAll(async () => {
    trove = await startTrove();
    source = await uploadFile(trove, plain, 'clip.mp4');
  }, 60_000);
  afterAll(async () => trove?.close());

  it('converts, cuts and resizes a clip into an ordinary file with thumbnails as a group, once for the same request', async () => {
    const spec = `${source}/video/-/format/mp4/-/size/80x/-/quality/lighter/-/cut/0:0:0.5/000:00:01/-/thumbs~2/`;
    const first = await postConvert(trove, { paths: [spec], store: '1' });
    expect(first.status).toBe(200);
    expect(first.body.problems).toEqual({});
    const [job] = first.body.result;
    expect(job).toEqual({ original_source: spec, token: expect.any(Number), uuid: expect.any(String), thumbnails_group_uuid: expect.stringMatching(/~2$/) });

    const again = await postConvert(trove, { paths: [spec.replace('/-/thumbs~2/', '/-/thumbs~2')], store: 'true' });
    expect(again.body.result[0]).toMatchObject({ token: job!.token, uuid: job!.uuid, thumbnails_group_uuid: job!.thumbnails_group_uuid });

    const done = await waitForConversion(trove, job!.token);
    expect(done).toEqual({ status: 'finished', error: null, progress: 100, result: { uuid: job!.uuid, thumbnails_group_uuid: job!.thumbnails_group_uuid } });

    const info = await fileInfo(trove, job!.uuid);
    expect(info).toMatchObject({ mime_type: 'video/mp4', is_image: false, is_stored: true, original_filename: 'clip.mp4' });
    const facts = info.video_info as { duration: number; video: { width: number; height: number; codec: string }; audio: { codec: string } | null };
    expect(facts.video).toMatchObject({ width: 80, height: 60, codec: 'h264' });
    expect(facts.audio?.codec).toBe('aac');
    expect(facts.duration).toBeGreaterThanOrEqual(900);
    expect(facts.duration).toBeLessThanOrEqual(1200);
    const streams = await probeBytes(clips, 'out.mp4', await download(trove, job!.uuid));
    expect(streams.find((s) => s.codec_type === 'video')).toMatchObject({ codec_name: 'h264', width: 80, height: 60, pix_fmt: 'yuv420p' });

    const group = await rest(trove, `/groups/${job!.thumbnails_group_uuid}/`);
    expect(group.status).toBe(200);
    const groupBody = (await group.json()) as { datetime_stored: string | null; files: { uuid: string; is_image: boolean; mime_type: string; datetime_stored: string | null }[] };
    expect(groupBody.datetime_stored).not.toBeNull();
    const members = groupBody.files;
    expect(members).toHaveLength(2);
    for (const member of members) {
      expect(member).toMatchObject({ is_image: true, mime_type: 'image/jpeg', content_info: { image: { width: 80, height: 60 } } });
      expect(member.datetime_stored).not.toBeNull();
    }
    // Thumbnails are images like any other: they transform on the fly.
    const small = await fetch(`${trove.url}/${members[0]!.uuid}/-/resize/40x/`);
    expect(small.status).toBe(200);
  }, 60_000);

  it('honours rotation, and writes WebM and Ogg with Uploadcare\'s resize modes, every side even', async () => {
    const turned = await uploadFile(trove, rotated, 'rotated.mp4');
    const paths = [`${turned}/video/`, `${source}/video/-/format/webm/-/size/64x64/scale_crop/`, `${source}/video/-/format/ogg/-/size/101x41/add_padding/-/quality/lightest/`];
    const { body } = await postConvert(trove, { paths, store: '0' });
    expect(body.problems).toEqual({});
    const results = await Promise.all(body.result.map(async (job) => ({ job, status: await waitForConversion(trove, job.token) })));
    for (const { status } of results) expect(status.status, status.error ?? '').toBe('finished');

    const [upright, webm, ogg] = await Promise.all(results.map(({ job }) => fileInfo(trove, job.uuid)));
    expect(upright!.video_info).toMatchObject({ video: { width: 120, height: 160, rotation: 0 } });
    expect(upright!.is_stored).toBe(false);
    expect(webm).toMatchObject({ mime_type: 'video/webm', video_info: { video: { width: 64, height: 64, codec: 'vp9' }, audio: { codec: 'opus' } } });
    expect(ogg!.video_info).toMatchObject({ format: 'ogg', video: { width: 100, height: 40, codec: 'theora' } });
  }, 90_000);

  it('writes 8-bit 4:2:0 from 10-bit sources, and tone-maps HDR (PQ) to BT.709', async () => {
    const tenBit = ['-f', 'lavfi', '-i', 'testsrc=duration=1:size=160x120:rate=15', '-c:v', 'libx264', '-preset', 'ultrafast', '-pix_fmt', 'yuv420p10le'];
    const sdr10 = await uploadFile(trove, await ffmpegClip(clips, 'ten.mp4', tenBit), 'ten.mp4');
    const pq = await uploadFile(trove, await ffmpegClip(clips, 'pq.mp4', [...tenBit, '-color_primaries', 'bt2020', '-color_trc', 'smpte2084', '-colorspace', 'bt2020nc']), 'pq.mp4');
    const { body } = await postConvert(trove, { paths: [`${sdr10}/video/`, `${pq}/video/`] });
    expect(body.problems).toEqual({});
    const outputs = [];
    for (const job of body.result) {
      expect((await waitForConversion(trove, job.token)).status).toBe('finished');
      const file = path.join(clips, `${job.uuid}.mp4`);
      await writeFile(file, await download(trove, job.uuid));
      const { stdout } = await run('ffprobe', ['-v', 'error', '-select_streams', 'v:0', '-show_entries', 'stream=pix_fmt,color_transfer', '-of', 'json', file]);
      outputs.push((JSON.parse(stdout) as { streams: { pix_fmt: string; color_transfer?: string }[] }).streams[0]);
    }
    expect(outputs[0]).toMatchObject({ pix_fmt: 'yuv420p' });
    expect(outputs[1]).toEqual({ pix_fmt: 'yuv420p', color_transfer: 'bt709' });
  }, 60_000);

  it('answers paths it cannot convert in `problems`, by path, and refuses a malformed body', async () => {
    const text = await uploadFile(trove, Buffer.from('just text\n'), 'notes.txt');
    const paths = [
      `${source}/video/-/flip/`,
      `${source}/video/-/size/99999x/`,
      `${source}/video/-/format/avi/`,
      `${source}/video/-/cut/0:0:5/end/`,
      `${source}/video/-/thumbs~51/`,
      `${text}/video/`,
      '00000000-0000-4000-8000-000000000000/video/',
      'not-a-uuid/video/',
    ];
    const { status, body } = await postConvert(trove, { paths });
    expect(status).toBe(200);
    expect(body.result).toEqual([]);
    expect(Object.keys(body.problems).sort()).toEqual([...paths].sort());
    expect(body.problems[paths[0]!]).toMatch(/`flip` is not a video operation/);
    expect(body.problems[paths[1]!]).toMatch(/from 2 to 4096 pixels/);
    expect(body.problems[paths[3]!]).toMatch(/after the video's end/);
    expect(body.problems[paths[5]!]).toMatch(/not a video/);
    expect(body.problems[paths[6]!]).toMatch(/does not exist in this project/);

    const missing = await postConvert(trove, { store: '1' });
    expect(missing.status).toBe(400);
    expect(missing.body.detail).toMatch(/`paths` is required/);
    const badStore = await postConvert(trove, { paths: [`${source}/video/`], store: 'maybe' });
    expect(badStore.status).toBe(400);
    const unknown = await rest(trove, '/convert/video/status/12345/');
    expect(unknown.status).toBe(404);
  });

  it('cancels a processing conversion (its ffmpeg stops, nothing is stored) and a pending one (it never starts)', async () => {
    // Long enough to still be running when the cancel comes: 12 s of 640×480 into VP9 at `best`.
    const long = await uploadFile(trove, await testClip(clips, 'long.mp4', { seconds: 12, size: '640x480' }), 'long.mp4');
    const slow = await postConvert(trove, { paths: [`${long}/video/-/format/webm/-/quality/best/`], store: '1' });
    const running = slow.body.result[0]!;
    for (let tries = 0; ; tries += 1) {
      const status = (await (await rest(trove, `/convert/video/status/${running.token}/`)).json()) as Status;
      if (status.status === 'processing') break;
      expect(status.status).toBe('pending');
      expect(tries).toBeLessThan(300);
      await sleep(50);
    }
    // One video slot: a second conversion waits while the first runs.
    const queued = (await postConvert(trove, { paths: [`${long}/video/-/format/mp4/-/size/64x/`], store: '1' })).body.result[0]!;
    const cancelQueued = await rest(trove, `/convert/video/${queued.token}/`, { method: 'DELETE' });
    expect(cancelQueued.status).toBe(200);
    expect(await cancelQueued.json()).toMatchObject({ status: 'cancelled', error: 'Cancelled at the request of the project.' });

    const cancelRunning = await rest(trove, `/convert/video/${running.token}/`, { method: 'DELETE' });
    expect(cancelRunning.status).toBe(200);
    expect(((await cancelRunning.json()) as Status).status).toBe('cancelled');
    // Cancelling again answers the same; another project sees nothing.
    expect(((await (await rest(trove, `/convert/video/${running.token}/`, { method: 'DELETE' })).json()) as Status).status).toBe('cancelled');

    // The running ffmpeg stops within about a second; neither conversion leaves a file behind.
    await sleep(3_000);
    for (const { token, uuid } of [running, queued]) {
      expect(((await (await rest(trove, `/convert/video/status/${token}/`)).json()) as Status).status).toBe('cancelled');
      expect((await rest(trove, `/files/${uuid}/`)).status).toBe(404);
    }
    // ffmpeg writes into the scratch folder until it is stopped; a stopped run leaves nothing there.
    expect((await readdir(path.join(trove.dataDir, 'video-scratch'))).filter((name) => name.startsWith('out-'))).toEqual([]);

    // An ended conversion cannot be cancelled.
    const small = (await postConvert(trove, { paths: [`${source}/video/-/size/32x/-/quality/lightest/`], store: '1' })).body.result[0]!;
    expect((await waitForConversion(trove, small.token)).status).toBe('finished');
    const late = await rest(trove, `/convert/video/${small.token}/`, { method: 'DELETE' });
    expect(late.status).toBe(409);
    expect(((await late.json()) as { detail: string }).detail).toMatch(/has already ended \(finished\); only a pending or processing conversion can be cancelled/);
    expect((await rest(trove, '/convert/video/99999/', { method: 'DELETE' })).status).toBe(404);
  }, 60_000);

  it("keeps projects apart: another project can neither convert this one's video nor read its conversions", async () => {
    const created = await trove.ctx.services.projects.create({ name: 'someone else' });
    const other = { ...trove, publicKey: created.project.publicKey, secretKey: created.secrets[0]!.secret };
    const spec = `${source}/video/-/size/64x/-/quality/lightest/`;
    const mine = await postConvert(trove, { paths: [spec], store: '1' });
    const token = mine.body.result[0]!.token;

    const theirs = await postConvert(other, { paths: [spec], store: '1' });
    expect(theirs.status).toBe(200);
    expect(theirs.body.result).toEqual([]);
    expect(theirs.body.problems[spec]).toMatch(/does not exist in this project/);
    const peek = await rest(other, `/convert/video/status/${token}/`);
    expect(peek.status).toBe(404);
    expect(((await peek.json()) as { detail: string }).detail).toMatch(/No video conversion of this project/);

    // Their own copy of the same clip converts under its own token and result.
    const copy = await uploadFile(trove, plain, 'copy.mp4', {}, { publicKey: other.publicKey });
    const own = await postConvert(other, { paths: [`${copy}/video/-/size/64x/-/quality/lightest/`], store: '1' });
    expect(own.body.result[0]!.token).not.toBe(token);
    expect((await waitForConversion(other, own.body.result[0]!.token)).status).toBe('finished');
    expect((await waitForConversion(trove, token)).status).toBe('finished');
  });
});

describe.each(backends)('@uploadcare/rest-client conversions against Trove (%s)', (backend) => {
  let trove: TestTrove;
  let settings: UserSettings;
  let source: string;
  beforeAll(async () => {
    trove = await startTrove({ backend });
    settings = { authSchema: new UploadcareAuthSchema({ publicKey: trove.publicKey, secretKey: trove.secretKey }), apiBaseURL: `${trove.url}/` };
    source = await uploadFile(trove, plain, 'clip.mp4');
  }, 60_000);
  afterAll(async () => trove?.close());

  it('convert + conversionJobStatus with type video, unchanged', async () => {
    const path = `${source}/video/-/size/x60/-/thumbs~1/`;
    const response = await convert({ type: ConversionType.VIDEO, paths: [path], store: true }, settings);
    expect(response.problems).toEqual({});
    const [job] = response.result;
    expect(job).toMatchObject({ originalSource: path, token: expect.any(Number), uuid: expect.any(String) });
    expect(job!.thumbnailsGroupUuid).toMatch(/~1$/);
    let status = await conversionJobStatus({ type: ConversionType.VIDEO, token: job!.token }, settings);
    for (let i = 0; i < 600 && status.status !== ConversionStatus.FINISHED && status.status !== ConversionStatus.FAILED; i++) {
      await sleep(100);
      status = await conversionJobStatus({ type: ConversionType.VIDEO, token: job!.token }, settings);
    }
    expect(status).toMatchObject({ status: ConversionStatus.FINISHED, error: null, result: { uuid: job!.uuid, thumbnailsGroupUuid: job!.thumbnailsGroupUuid } });
    expect((await fileInfo(trove, job!.uuid)).video_info).toMatchObject({ video: { width: 80, height: 60 } });
  }, 60_000);

  it('announces the results with file.uploaded webhooks, like uploads', async () => {
    const received: string[] = [];
    const receiver = createServer((request, response) => {
      let body = '';
      request.on('data', (chunk: Buffer) => (body += chunk.toString('utf8')));
      request.on('end', () => {
        received.push((JSON.parse(body) as { data: { uuid: string } }).data.uuid);
        response.writeHead(200).end('ok');
      });
    });
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
    try {
      const target = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hooks`;
      await createWebhook({ targetUrl: target, event: 'file.uploaded' as WebhookEvent, isActive: true }, settings);
      const response = await convert({ type: ConversionType.VIDEO, paths: [`${source}/video/-/quality/lightest/-/thumbs~1/`], store: true }, settings);
      const job = response.result[0]!;
      const deadline = Date.now() + 30_000;
      while (!(received.includes(job.uuid) && received.length >= 2) && Date.now() < deadline) await sleep(100);
      expect(received).toContain(job.uuid);
      // The video and its one thumbnail.
      expect(received.length).toBeGreaterThanOrEqual(2);
    } finally {
      await new Promise((resolve) => receiver.close(resolve));
    }
  }, 60_000);

  it('conversionJobPoller runs each path to its end, a refused one as failed with its problem', async () => {
    const good = `${source}/video/-/quality/lightest/-/cut/0:0:0/0:0:0.5/`;
    const bad = `${source}/video/-/format/mkv/`;
    const jobs = await conversionJobPoller({ type: ConversionType.VIDEO, paths: [good, bad], pollOptions: { interval: 100, timeout: 60_000 } }, settings);
    const [finished, refused] = await Promise.allSettled(jobs);
    expect(finished).toMatchObject({ status: 'fulfilled', value: { path: good, status: ConversionStatus.FINISHED } });
    expect(refused).toMatchObject({ status: 'fulfilled', value: { path: bad, status: ConversionStatus.FAILED, error: expect.stringMatching(/`format` is one of mp4, webm, ogg/), result: null } });
  }, 60_000);
});

describe('limits and failures', () => {
  let trove: TestTrove;
  beforeAll(async () => {
    trove = await startTrove({ env: { TROVE_VIDEO_TIMEOUT: '1s', TROVE_VIDEO_MAX_DURATION: '3s' } });
  }, 60_000);
  afterAll(async () => trove?.close());

  it('refuses a video over a limit from its facts, and fails a conversion that passes its deadline, saying why', async () => {
    const long = await uploadFile(trove, await testClip(clips, 'long.mp4', { seconds: 4 }), 'long.mp4');
    const refused = await postConvert(trove, { paths: [`${long}/video/`] });
    expect(Object.values(refused.body.problems)[0]).toMatch(/TROVE_VIDEO_MAX_DURATION/);

    const heavy = await uploadFile(trove, await testClip(clips, 'heavy.mp4', { seconds: 2.5, size: '640x480' }), 'heavy.mp4');
    const { body } = await postConvert(trove, { paths: [`${heavy}/video/-/format/webm/-/quality/best/-/thumbs~50/`] });
    const status = await waitForConversion(trove, body.result[0]!.token);
    expect(status.status).toBe('failed');
    expect(status.error).toMatch(/TROVE_VIDEO_TIMEOUT/);
  }, 60_000);
});

describe('a video without a duration', () => {
  let trove: TestTrove;
  beforeAll(async () => {
    trove = await startTrove();
  }, 60_000);
  afterAll(async () => trove?.close());

  it('is refused before any job, naming why', async () => {
    const live = await ffmpegClip(clips, 'live.mkv', ['-f', 'lavfi', '-i', 'testsrc=duration=1:size=160x120:rate=15', '-c:v', 'libx264', '-preset', 'ultrafast', '-pix_fmt', 'yuv420p', '-f', 'matroska', '-live', '1']);
    const uuid = await uploadFile(trove, live, 'live.mkv');
    const refused = await postConvert(trove, { paths: [`${uuid}/video/`] });
    expect(refused.status).toBe(200);
    expect(refused.body.result).toEqual([]);
    expect(Object.values(refused.body.problems)[0]).toMatch(/does not say how long it is/);
  }, 30_000);
});

describe('a conversion queued before a restart', () => {
  it('is run by the next process on the same data: the job and its record are durable', async () => {
    const shared = await mkdtemp(path.join(tmpdir(), 'trove-restart-'));
    const env = { DATA_DIR: shared, TROVE_PUBLIC_KEY: `pk_${'a1'.repeat(8)}`, TROVE_SECRET_KEY: `sk_${'b2'.repeat(16)}` };
    try {
      // No worker role: the job waits in the queue.
      const first = await startTrove({ env: { ...env, TROVE_ROLES: 'upload,api,delivery' } });
      let token: number;
      try {
        const source = await uploadFile(first, plain, 'clip.mp4');
        const { body } = await postConvert(first, { paths: [`${source}/video/-/thumbs~1/`] });
        token = body.result[0]!.token;
        await sleep(300);
        expect(((await (await rest(first, `/convert/video/status/${token}/`)).json()) as Status).status).toBe('pending');
      } finally {
        await first.close();
      }
      const second = await startTrove({ env });
      try {
        expect((await waitForConversion(second, token)).status).toBe('finished');
      } finally {
        await second.close();
      }
    } finally {
      await rm(shared, { recursive: true, force: true });
    }
  }, 60_000);
});

describe('the video role', () => {
  it('is the only one that takes conversions: a worker leaves them queued, a video node runs them', async () => {
    const shared = await mkdtemp(path.join(tmpdir(), 'trove-roles-'));
    const env = { DATA_DIR: shared, TROVE_PUBLIC_KEY: `pk_${'c3'.repeat(8)}`, TROVE_SECRET_KEY: `sk_${'d4'.repeat(16)}` };
    try {
      const worker = await startTrove({ env: { ...env, TROVE_ROLES: 'upload,api,delivery,worker' } });
      let token: number;
      try {
        const source = await uploadFile(worker, plain, 'clip.mp4');
        const { body } = await postConvert(worker, { paths: [`${source}/video/-/size/x40/`] });
        token = body.result[0]!.token;
        await sleep(500);
        expect(((await (await rest(worker, `/convert/video/status/${token}/`)).json()) as Status).status).toBe('pending');
      } finally {
        await worker.close();
      }
      const video = await startTrove({ env: { ...env, TROVE_ROLES: 'api,video' } });
      try {
        expect((await waitForConversion(video, token)).status).toBe('finished');
      } finally {
        await video.close();
      }
    } finally {
      await rm(shared, { recursive: true, force: true });
    }
  }, 60_000);
});

describe('projects in the video lane', () => {
  it("take turns: a project's conversion queued after another's four runs second, not fifth", async () => {
    const shared = await mkdtemp(path.join(tmpdir(), 'trove-turns-'));
    const env = { DATA_DIR: shared, TROVE_PUBLIC_KEY: `pk_${'e5'.repeat(8)}`, TROVE_SECRET_KEY: `sk_${'f6'.repeat(16)}`, TROVE_VIDEO_CONCURRENCY: '1' };
    try {
      // Queued while no process takes video jobs, so the order they run in is the queue's alone.
      const front = await startTrove({ env: { ...env, TROVE_ROLES: 'upload,api,delivery,worker' } });
      const tokens: { project: string; token: number }[] = [];
      try {
        const busy = await uploadFile(front, plain, 'busy.mp4');
        for (const width of [40, 48, 56, 64]) {
          const { body } = await postConvert(front, { paths: [`${busy}/video/-/size/${width}x/-/quality/lightest/`] });
          tokens.push({ project: 'busy', token: body.result[0]!.token });
          await sleep(5);
        }
        const created = await front.ctx.services.projects.create({ name: 'quiet' });
        const quiet = { ...front, publicKey: created.project.publicKey, secretKey: created.secrets[0]!.secret };
        const clip = await uploadFile(front, plain, 'quiet.mp4', {}, { publicKey: quiet.publicKey });
        const { body } = await postConvert(quiet, { paths: [`${clip}/video/-/size/40x/-/quality/lightest/`] });
        tokens.push({ project: 'quiet', token: body.result[0]!.token });
      } finally {
        await front.close();
      }

      const video = await startTrove({ env: { ...env, TROVE_ROLES: 'api,video' } });
      try {
        // The status route answers per project; the node's own services read every project's rows, on every shard.
        const finished: string[] = [];
        const deadline = Date.now() + 60_000;
        while (finished.length < tokens.length && Date.now() < deadline) {
          for (const { project, token } of tokens) {
            if (finished.includes(`${project}:${token}`)) continue;
            const row = await findOnAnyShard(video.ctx.shards, (shard) => shard.videoConversions.findByToken(String(token)));
            if (row?.status === 'finished') finished.push(`${project}:${token}`);
          }
          await sleep(50);
        }
        expect(finished.map((entry) => entry.split(':')[0])).toEqual(['busy', 'quiet', 'busy', 'busy', 'busy']);
      } finally {
        await video.close();
      }
    } finally {
      await rm(shared, { recursive: true, force: true });
    }
  }, 90_000);
});

describe('a server without ffmpeg', () => {
  let trove: TestTrove;
  beforeAll(async () => {
    trove = await startTrove({ env: { TROVE_FFMPEG_PATH: '/nonexistent/ffmpeg', TROVE_FFPROBE_PATH: '/nonexistent/ffprobe' } });
  }, 60_000);
  afterAll(async () => trove?.close());

  it('answers conversions with 503 saying why', async () => {
    const { status, body } = await postConvert(trove, { paths: ['00000000-0000-4000-8000-000000000000/video/'] });
    expect(status).toBe(503);
    expect(body.detail).toMatch(/Video conversion is not available on this server: .*not found/);
  });
});
