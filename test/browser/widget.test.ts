import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { computeUploadSignature } from '../../src/domain/upload-signature.js';
import { describeWhenBrowser, launchBrowser, StepShots, watchPageErrors } from '../helpers/browser.js';
import { thumbHashToApproximateAspectRatio, thumbHashToAverageRGBA, thumbHashToRGBA } from 'thumbhash';
import { makeJpeg, makePhoto, makePngWithAlpha } from '../helpers/images.js';
import { startTrove, type TestTrove } from '../helpers/trove-server.js';
import { ffmpegClip } from '../helpers/video-clips.js';
import { sleep, updateDefaultProject } from '../helpers/upload-http.js';

/** The page-side helpers of fixtures/widget-kit.js, as page.evaluate sees them. */
interface FileSpec {
  name: string;
  type?: string;
  base64?: string;
  size?: number;
}
interface RowSnapshot {
  status: string;
  name: string;
  percent: string;
  progress: number;
  progressLabel: string | null;
  alert: string | null;
  hasPreview: boolean;
}
interface Snapshot {
  value: string[];
  files: Array<{ id: string; name: string; status: string; uuid: string | null; placeholder: string | null; error: { message: string; code: string } | null }>;
  hidden: Array<{ name: string; value: string }>;
  rows: RowSnapshot[];
  messages: string[];
  alertsRole: string | null;
  configError: string | null;
  total: { hidden: boolean; value: number; text: string };
  live: string;
  focused: string | null;
  cameraHidden: boolean;
  cameraCaptureDisabled: boolean | null;
}
interface UploadInfo {
  uuid: string;
  size: number;
  mime_type: string;
  is_image: boolean;
  original_filename: string;
  sha256: string;
}
interface FileUploadedDetail {
  uuid: string;
  info: UploadInfo;
  cdnUrl: string;
  placeholder: string | null;
  file: { id: string; name: string };
}
interface ProgressDetail {
  file: { id: string; name: string };
  loaded: number;
  total: number;
  percent: number;
  totalPercent: number;
}
interface ErrorDetail {
  file: { id: string | null; name: string } | null;
  message: string;
  code: string;
}
interface DoneDetail {
  files: Array<{ uuid: string; cdnUrl: string; info: UploadInfo; placeholder: string | null }>;
  group?: { id: string; cdnUrl: string };
}
interface VideoPreview {
  src: string;
  muted: boolean;
  loop: boolean;
  controls: boolean;
  paused: boolean;
  currentTime: number;
  videoWidth: number;
  videoHeight: number;
}
interface RecordedEvent {
  type: string;
  detail: unknown;
}
declare const troveKit: {
  events: RecordedEvent[];
  live: string[];
  ready(): boolean;
  reset(): void;
  count(type: string): number;
  waitFor(type: string, nth?: number, timeoutMs?: number): Promise<unknown>;
  startDrag(specs: FileSpec[], selector?: string): boolean;
  finishDrop(): { accepted: boolean; stillHighlighted: boolean };
  paste(specs: FileSpec[]): boolean;
  add(specs: FileSpec[], selector?: string): void;
  addGenerated(name: string, size: number, selector?: string): Promise<string>;
  fakeCamera(): void;
  useSignatureEndpoint(path: string, selector?: string): void;
  setStrings(strings: Record<string, string>, selector?: string): void;
  blur(): boolean;
  previewLoaded(selector?: string): boolean;
  videoPreviews(selector?: string): Array<VideoPreview | null>;
  blobAlive(url: string): Promise<boolean>;
  useExports(url: string): Promise<{ before: string; isClass: boolean; defined: boolean }>;
  watchLive(selector?: string): void;
  snapshot(selector?: string): Snapshot;
};

const MIB = 1024 * 1024;
const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');
const events = <T>(list: RecordedEvent[], type: string): T[] => list.filter((event) => event.type === type).map((event) => event.detail as T);

/** A one-page PDF, small and valid enough for any sniffer. */
const PDF = Buffer.from(
  '%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj\n' +
    '3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 200 200]>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n',
);

describeWhenBrowser('widget')('<trove-uploader> in Chromium, embedded in a page of another origin', () => {
  let trove: TestTrove;
  let browser: Browser;
  let host: Server;
  let hostUrl: string;
  const pages = new Map<string, string>();
  const submitted: string[] = [];
  let signatureRequests = 0;
  let catJpeg: Buffer;
  let photoJpeg: Buffer;
  let logoPng: Buffer;
  let clipMp4: Buffer;
  let landscapeJpeg: Buffer;
  let clipDir: string;
  const shots = new StepShots('widget');

  const shell = (body: string) => `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Widget host</title><link rel="icon" href="data:,">
<script src="/kit.js"></script>
<script type="module" src="${trove.url}/widget.js"></script>
<style>body{font-family:system-ui,sans-serif;margin:24px;background:#f8fafc;color:#0f172a}main{max-width:46rem}trove-uploader{margin-bottom:16px}label.other{display:block;margin-top:16px}</style>
</head><body><main><h1>Host page</h1>${body}<label class="other">Somewhere else <input id="elsewhere"></label></main></body></html>`;

  beforeAll(async () => {
    clipDir = await mkdtemp(path.join(tmpdir(), 'trove-widget-video-'));
    [trove, browser, catJpeg, photoJpeg, logoPng, clipMp4, landscapeJpeg] = await Promise.all([
      startTrove(),
      launchBrowser(),
      makeJpeg({ width: 640, height: 400 }),
      makeJpeg({ width: 1200, height: 800, noise: true }),
      makePngWithAlpha(64, 48),
      // One second of test pattern with a tone, as a phone's clip would carry both.
      ffmpegClip(clipDir, 'clip.mp4', [
        '-f', 'lavfi', '-i', 'testsrc=size=160x120:rate=10', '-f', 'lavfi', '-i', 'sine', '-t', '1',
        '-pix_fmt', 'yuv420p', '-c:v', 'libx264', '-c:a', 'aac',
      ]),
      // Colours and shapes that a placeholder can get right or wrong (a noisy photo blurs to flat grey).
      makePhoto(1200, 800, 'landscape').jpeg({ quality: 88 }).toBuffer(),
    ]);
    const kit = await readFile(new URL('./fixtures/widget-kit.js', import.meta.url));
    host = createServer((request, response) => {
      const url = new URL(request.url ?? '/', 'http://host.invalid');
      if (url.pathname === '/favicon.ico') {
        response.writeHead(204).end();
      } else if (url.pathname === '/kit.js') {
        response.writeHead(200, { 'content-type': 'text/javascript' }).end(kit);
      } else if (url.pathname.startsWith('/page/') && pages.has(url.pathname.slice(6))) {
        response.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(shell(pages.get(url.pathname.slice(6)) ?? ''));
      } else if (url.pathname === '/images/cat.jpg') {
        response.writeHead(200, { 'content-type': 'image/jpeg', 'content-length': catJpeg.length }).end(catJpeg);
      } else if (url.pathname === '/sign') {
        // What a site's backend does for signed uploads: it holds the secret, the browser never sees it.
        signatureRequests += 1;
        const expire = String(Math.floor(Date.now() / 1000) + 600);
        response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ signature: computeUploadSignature(trove.secretKey, expire), expire }));
      } else if (url.pathname === '/submit' && request.method === 'POST') {
        let body = '';
        request.setEncoding('utf8');
        request.on('data', (chunk: string) => (body += chunk));
        request.on('end', () => {
          submitted.push(body);
          response.writeHead(200, { 'content-type': 'text/html' }).end('<!doctype html><title>Thanks</title><p>Received.</p>');
        });
      } else {
        response.writeHead(404).end();
      }
    });
    await new Promise<void>((resolve) => host.listen(0, '127.0.0.1', resolve));
    hostUrl = `http://127.0.0.1:${(host.address() as AddressInfo).port}`;
    // Another port is another origin: every widget request below is cross-origin.
    expect(new URL(hostUrl).origin).not.toBe(new URL(trove.url).origin);
  });

  afterAll(async () => {
    await browser?.close();
    if (host) await new Promise((resolve) => host.close(resolve));
    await trove?.close();
    if (clipDir) await rm(clipDir, { recursive: true, force: true });
  });

  async function open(name: string, body: string): Promise<{ page: Page; errors: string[] }> {
    pages.set(name, body);
    const page = await browser.newPage({ viewport: { width: 900, height: 700 } });
    const errors = watchPageErrors(page);
    // Turning file-chooser interception on takes a round trip; a key press can beat a fresh
    // waitForEvent('filechooser') to it. A standing listener keeps it on from the start.
    page.on('filechooser', () => undefined);
    await page.goto(`${hostUrl}/page/${name}`);
    await page.waitForFunction(() => troveKit.ready());
    return { page, errors };
  }

  async function choose(page: Page, files: Array<{ name: string; mimeType: string; buffer: Buffer }>, button = 'Choose files'): Promise<void> {
    const [chooser] = await Promise.all([page.waitForEvent('filechooser'), page.getByRole('button', { name: button }).click()]);
    await chooser.setFiles(files);
  }

  async function info(uuid: string): Promise<UploadInfo> {
    const response = await fetch(`${trove.uploadUrl}/info/?pub_key=${trove.publicKey}&file_id=${uuid}`);
    expect(response.status).toBe(200);
    return (await response.json()) as UploadInfo;
  }

  const snapshot = (page: Page) => page.evaluate(() => troveKit.snapshot());
  const recorded = (page: Page) => page.evaluate(() => troveKit.events);

  it('uploads two images and a PDF from the file chooser, with per-file and total progress', async () => {
    const { page, errors } = await open('chooser', `<trove-uploader pubkey="${trove.publicKey}" multiple></trove-uploader>`);
    await shots.take(page, 'empty');
    const done = page.evaluate(() => troveKit.waitFor('done'));
    await choose(page, [
      { name: 'cat.jpg', mimeType: 'image/jpeg', buffer: catJpeg },
      { name: 'photo.jpg', mimeType: 'image/jpeg', buffer: photoJpeg },
      { name: 'terms.pdf', mimeType: 'application/pdf', buffer: PDF },
    ]);
    const doneDetail = (await done) as DoneDetail;
    await shots.take(page, 'three-uploaded');

    const list = await recorded(page);
    expect(events(list, 'upload-start')).toHaveLength(3);
    const uploaded = events<FileUploadedDetail>(list, 'file-uploaded');
    expect(uploaded.map((event) => event.file.name).sort()).toEqual(['cat.jpg', 'photo.jpg', 'terms.pdf']);
    const progress = events<ProgressDetail>(list, 'progress');
    for (const event of uploaded) {
      const own = progress.filter((p) => p.file.id === event.file.id);
      expect(own.at(-1)?.percent).toBe(100);
      // Never backwards within one attempt.
      own.forEach((p, i) => i > 0 && expect(p.percent).toBeGreaterThanOrEqual(own[i - 1]!.percent));
    }
    expect(progress.at(-1)?.totalPercent).toBe(100);
    expect(doneDetail.files).toHaveLength(3);
    expect(doneDetail.group).toBeUndefined();

    const sources = { 'cat.jpg': catJpeg, 'photo.jpg': photoJpeg, 'terms.pdf': PDF } as Record<string, Buffer>;
    for (const event of uploaded) {
      const bytes = sources[event.file.name]!;
      expect(event.uuid).toMatch(/^[0-9a-f-]{36}$/);
      expect(event.cdnUrl).toBe(`${trove.url}/${event.uuid}/`);
      expect(event.info).toMatchObject({ uuid: event.uuid, size: bytes.length, original_filename: event.file.name });
      // The server really has them, and serves the very bytes.
      expect(await info(event.uuid)).toMatchObject({ size: bytes.length, sha256: sha256(bytes) });
      const delivered = Buffer.from(await (await fetch(event.cdnUrl)).arrayBuffer());
      expect(sha256(delivered)).toBe(sha256(bytes));
    }
    expect(uploaded.find((event) => event.file.name === 'terms.pdf')?.info.mime_type).toBe('application/pdf');

    const state = await snapshot(page);
    expect(state.rows.map((row) => [row.status, row.percent, row.progress])).toEqual([
      ['uploaded', '100%', 100],
      ['uploaded', '100%', 100],
      ['uploaded', '100%', 100],
    ]);
    expect(state.rows.filter((row) => row.hasPreview)).toHaveLength(2);
    expect(state.rows[0]?.progressLabel).toBe('Upload progress of cat.jpg');
    expect(state.total).toEqual({ hidden: false, value: 100, text: '100%' });
    expect(state.hidden.map((input) => input.value).sort()).toEqual(uploaded.map((event) => event.uuid).sort());
    expect(state.live).toMatch(/All uploads finished: 3 uploaded/);

    // Removing a file takes its hidden input with it.
    await page.getByRole('button', { name: 'Remove terms.pdf' }).click();
    const after = await snapshot(page);
    expect(after.rows).toHaveLength(2);
    expect(after.hidden).toHaveLength(2);
    expect(after.value).not.toContain(uploaded.find((event) => event.file.name === 'terms.pdf')?.uuid);
    expect(errors).toEqual([]);
    await page.close();
  });

  it('previews a picked video as a silent looping clip, and lets its object URL go with the row', async () => {
    const { page, errors } = await open('video', `<trove-uploader pubkey="${trove.publicKey}" multiple></trove-uploader>`);
    await choose(page, [
      { name: 'clip.mp4', mimeType: 'video/mp4', buffer: clipMp4 },
      { name: 'terms.pdf', mimeType: 'application/pdf', buffer: PDF },
    ]);
    await page.evaluate(() => troveKit.waitFor('done'));
    // The clip plays in its row: muted, looping, without controls; the PDF keeps its label.
    await page.waitForFunction(() => (troveKit.videoPreviews()[0]?.currentTime ?? 0) > 0);
    const [video, pdf] = await page.evaluate(() => troveKit.videoPreviews());
    expect(video).toMatchObject({ muted: true, loop: true, controls: false, paused: false, videoWidth: 160, videoHeight: 120 });
    expect(video?.src).toMatch(/^blob:/);
    expect(pdf).toBeNull();
    const state = await snapshot(page);
    expect(state.rows.map((row) => [row.name, row.status, row.hasPreview])).toEqual([
      ['clip.mp4', 'uploaded', false],
      ['terms.pdf', 'uploaded', false],
    ]);
    const uploaded = events<FileUploadedDetail>(await recorded(page), 'file-uploaded').find((event) => event.file.name === 'clip.mp4');
    expect(uploaded?.info).toMatchObject({ mime_type: 'video/mp4', is_image: false, size: clipMp4.length });
    await shots.take(page, 'video-preview');

    // Removing the row revokes the object URL: its bytes are no longer readable.
    const src = video!.src;
    expect(await page.evaluate((url) => troveKit.blobAlive(url), src)).toBe(true);
    expect(errors).toEqual([]);
    await page.getByRole('button', { name: 'Remove clip.mp4' }).click();
    expect(await page.evaluate(() => troveKit.videoPreviews())).toEqual([null]);
    expect(await page.evaluate((url) => troveKit.blobAlive(url), src)).toBe(false);
    // The one failed load is the test's own read of the revoked URL.
    expect(errors).toEqual(['console: Failed to load resource: net::ERR_FILE_NOT_FOUND']);
    await page.close();
  });

  it('takes files dropped on the drop zone and pasted from the clipboard', async () => {
    const { page, errors } = await open('drop', `<trove-uploader pubkey="${trove.publicKey}" multiple></trove-uploader>`);
    const png = logoPng.toString('base64');
    expect(await page.evaluate((data) => troveKit.startDrag([{ name: 'dropped.png', type: 'image/png', base64: data }]), png)).toBe(true);
    await shots.take(page, 'drag-over-highlight');
    expect(await page.evaluate(() => troveKit.finishDrop())).toEqual({ accepted: true, stillHighlighted: false });
    const dropped = (await page.evaluate(() => troveKit.waitFor('file-uploaded'))) as FileUploadedDetail;
    expect(dropped.info).toMatchObject({ original_filename: 'dropped.png', size: logoPng.length, mime_type: 'image/png' });

    // A paste while a field elsewhere on the page has focus belongs to that field.
    await page.locator('#elsewhere').focus();
    expect(await page.evaluate((data) => troveKit.paste([{ name: 'ignored.png', type: 'image/png', base64: data }]), png)).toBe(false);
    // With nothing focused, the page's uploader takes it.
    expect(await page.evaluate(() => troveKit.blur())).toBe(true);
    expect(await page.evaluate((data) => troveKit.paste([{ name: 'pasted.png', type: 'image/png', base64: data }]), png)).toBe(true);
    const pasted = (await page.evaluate(() => troveKit.waitFor('file-uploaded', 2))) as FileUploadedDetail;
    expect(pasted.info.original_filename).toBe('pasted.png');
    // And with focus inside the widget too.
    await page.getByRole('button', { name: 'Choose files' }).focus();
    expect(await page.evaluate((data) => troveKit.paste([{ name: 'focused.png', type: 'image/png', base64: data }]), png)).toBe(true);
    await page.evaluate(() => troveKit.waitFor('file-uploaded', 3));
    const state = await snapshot(page);
    expect(state.files.map((file) => file.name)).toEqual(['dropped.png', 'pasted.png', 'focused.png']);
    expect(state.files.every((file) => file.status === 'uploaded')).toBe(true);
    await shots.take(page, 'dropped-and-pasted');
    expect(errors).toEqual([]);
    await page.close();
  });

  it('uploads from a public URL through /from_url/, polling its status', async () => {
    const { page, errors } = await open('url', `<trove-uploader pubkey="${trove.publicKey}" sources="url,local"></trove-uploader>`);
    const field = page.getByRole('textbox', { name: 'Or upload from a link' });
    await field.fill('not a link');
    await field.press('Enter');
    expect((await snapshot(page)).messages).toEqual(['Enter a full link that starts with http:// or https://.']);
    await field.fill(`${hostUrl}/images/cat.jpg`);
    await shots.take(page, 'url-typed');
    await page.getByRole('button', { name: 'Upload link' }).click();
    const uploaded = (await page.evaluate(() => troveKit.waitFor('file-uploaded'))) as FileUploadedDetail;
    expect(uploaded.info).toMatchObject({ original_filename: 'cat.jpg', size: catJpeg.length, is_image: true });
    expect(uploaded.cdnUrl).toBe(`${trove.url}/${uploaded.uuid}/`);
    // The bytes of a link never pass through the page: there is nothing to hash.
    expect(uploaded.placeholder).toBeNull();
    expect(await info(uploaded.uuid)).toMatchObject({ sha256: sha256(catJpeg) });
    const state = await snapshot(page);
    expect(state.rows).toEqual([expect.objectContaining({ status: 'uploaded', name: 'cat.jpg', percent: '100%' })]);
    expect(state.messages).toEqual([]);
    // The preview of a fetched image comes from the CDN.
    await page.waitForFunction(() => troveKit.previewLoaded());
    await shots.take(page, 'url-uploaded');
    expect(errors).toEqual([]);
    await page.close();
  });

  it('gives each picked image’s ThumbHash as `placeholder` with file-uploaded and done, like the one the server computes later', async () => {
    const { page, errors } = await open('placeholder', `<trove-uploader pubkey="${trove.publicKey}" multiple></trove-uploader>`);
    const done = page.evaluate(() => troveKit.waitFor('done'));
    await choose(page, [
      { name: 'landscape.jpg', mimeType: 'image/jpeg', buffer: landscapeJpeg },
      { name: 'terms.pdf', mimeType: 'application/pdf', buffer: PDF },
    ]);
    const doneDetail = (await done) as DoneDetail;
    const uploaded = events<FileUploadedDetail>(await recorded(page), 'file-uploaded');
    const image = uploaded.find((event) => event.file.name === 'landscape.jpg')!;
    const pdf = uploaded.find((event) => event.file.name === 'terms.pdf')!;
    expect(pdf.placeholder).toBeNull();
    expect(image.placeholder).toMatch(/^[A-Za-z0-9+/]+={0,2}$/);
    const local = Buffer.from(image.placeholder!, 'base64');
    // A ThumbHash is a few dozen bytes; this one is of a landscape picture (3:2, which the hash rounds).
    expect(local.length).toBeGreaterThan(4);
    expect(local.length).toBeLessThan(40);
    expect(thumbHashToApproximateAspectRatio(local)).toBeGreaterThan(1.3);
    // `done` and `element.files` carry the same value.
    expect(doneDetail.files.find((file) => file.uuid === image.uuid)?.placeholder).toBe(image.placeholder);
    expect(doneDetail.files.find((file) => file.uuid === pdf.uuid)?.placeholder).toBeNull();
    expect((await snapshot(page)).files.map((file) => [file.name, file.placeholder])).toEqual([
      ['landscape.jpg', image.placeholder],
      ['terms.pdf', null],
    ]);

    // Made in the page from the file, it looks like the server's own, computed after the upload.
    let server: string | undefined;
    for (const deadline = Date.now() + 30_000; !server && Date.now() < deadline; await sleep(100)) {
      const response = await fetch(`${trove.url}/files/${image.uuid}/?include=appdata`, {
        headers: { accept: 'application/vnd.uploadcare-v0.7+json', authorization: `Uploadcare.Simple ${trove.publicKey}:${trove.secretKey}` },
      });
      server = ((await response.json()) as { appdata?: { trove_image_analysis?: { data: { thumbhash: string } } } }).appdata?.trove_image_analysis?.data.thumbhash;
    }
    expect(server, 'the server analysed the image').toBeDefined();
    const remote = Buffer.from(server!, 'base64');
    expect(thumbHashToApproximateAspectRatio(local)).toBe(thumbHashToApproximateAspectRatio(remote));
    const [a, b] = [thumbHashToAverageRGBA(local), thumbHashToAverageRGBA(remote)];
    for (const channel of ['r', 'g', 'b'] as const) expect(Math.abs(a[channel] - b[channel])).toBeLessThan(0.04);
    const [pictureA, pictureB] = [thumbHashToRGBA(local), thumbHashToRGBA(remote)];
    expect([pictureA.w, pictureA.h]).toEqual([pictureB.w, pictureB.h]);
    let difference = 0;
    for (let i = 0; i < pictureA.rgba.length; i++) difference += Math.abs(pictureA.rgba[i]! - pictureB.rgba[i]!);
    expect(difference / pictureA.rgba.length).toBeLessThan(8);
    expect(errors).toEqual([]);
    await page.close();
  });

  it('refuses files over max-size, of other types and over max-files before sending anything', async () => {
    const { page } = await open(
      'limits',
      `<trove-uploader pubkey="${trove.publicKey}" multiple max-files="2" max-size="1MB" accept="image/*,.pdf"></trove-uploader>`,
    );
    const uploadRequests: string[] = [];
    page.on('request', (request) => request.url().startsWith(trove.uploadUrl) && uploadRequests.push(request.url()));
    await choose(page, [
      { name: 'big.jpg', mimeType: 'image/jpeg', buffer: Buffer.alloc(1_200_000, 1) },
      { name: 'notes.txt', mimeType: 'text/plain', buffer: Buffer.from('hello') },
    ]);
    let state = await snapshot(page);
    expect(state.messages).toEqual(['big.jpg is 1.2 MB; the limit is 1 MB.', 'notes.txt is not an accepted type; accepted: image/*, .pdf.']);
    expect(state.alertsRole).toBe('alert');
    expect(state.rows).toEqual([]);
    await shots.take(page, 'client-refusals');
    const refusals = events<ErrorDetail>(await recorded(page), 'error');
    expect(refusals.map((event) => [event.file?.name, event.code])).toEqual([
      ['big.jpg', 'too-large'],
      ['notes.txt', 'not-accepted'],
    ]);
    expect(uploadRequests).toEqual([]);

    await choose(page, [
      { name: 'a.jpg', mimeType: 'image/jpeg', buffer: catJpeg },
      { name: 'b.pdf', mimeType: 'application/pdf', buffer: PDF },
      { name: 'c.jpg', mimeType: 'image/jpeg', buffer: catJpeg },
    ]);
    state = await snapshot(page);
    expect(state.messages).toEqual(['c.jpg was not added: at most 2 files can be uploaded here.']);
    await page.evaluate(() => troveKit.waitFor('done'));
    state = await snapshot(page);
    expect(state.files.map((file) => [file.name, file.status])).toEqual([
      ['a.jpg', 'uploaded'],
      ['b.pdf', 'uploaded'],
    ]);
    await page.close();
  });

  it('shows the server’s own refusal (413) as an alert on the file', async () => {
    await updateDefaultProject(trove, { maxFileSize: 50_000 });
    try {
      const { page, errors } = await open('server-limit', `<trove-uploader pubkey="${trove.publicKey}"></trove-uploader>`);
      await choose(page, [{ name: 'photo.jpg', mimeType: 'image/jpeg', buffer: photoJpeg }], 'Choose a file');
      const failure = (await page.evaluate(() => troveKit.waitFor('error'))) as ErrorDetail;
      expect(failure.code).toBe('FileSizeLimitExceededError');
      expect(failure.message).toMatch(/larger than 50 kB \(50000 bytes\)/);
      const state = await snapshot(page);
      expect(state.rows).toEqual([expect.objectContaining({ status: 'failed', alert: failure.message })]);
      expect(state.hidden).toEqual([]);
      await page.getByRole('alert').filter({ hasText: 'larger than 50 kB (50000 bytes)' }).waitFor({ state: 'visible' });
      await page.evaluate(() => troveKit.waitFor('done'));
      await shots.take(page, 'server-413');
      // The browser logs the failed request itself; nothing else went wrong.
      expect(errors.filter((error) => !/status of 413/.test(error))).toEqual([]);
      await page.close();
    } finally {
      await updateDefaultProject(trove, { maxFileSize: null });
    }
  });

  it('uploads a large file in parallel chunks and retries a chunk that failed', async () => {
    const { page, errors } = await open('multipart', `<trove-uploader pubkey="${trove.publicKey}" multiple concurrency="3"></trove-uploader>`);
    const attempts = new Map<string, number>();
    await page.route(/\/multipart\/part\/[^/]+\/\d+\//, async (route) => {
      const index = /\/multipart\/part\/[^/]+\/(\d+)\//.exec(route.request().url())?.[1] ?? '?';
      const attempt = (attempts.get(index) ?? 0) + 1;
      attempts.set(index, attempt);
      // The first try of part 2 dies with the connection, as on a flaky network.
      if (index === '2' && attempt === 1) await route.abort('connectionreset');
      else await route.continue();
    });
    const size = 24 * MIB + 4321;
    const digest = await page.evaluate((bytes) => troveKit.addGenerated('video.bin', bytes), size);
    // During the backoff before part 2's second try the upload is visibly part-way.
    await expect.poll(() => attempts.get('2') ?? 0, { timeout: 20_000 }).toBeGreaterThanOrEqual(1);
    await shots.take(page, 'multipart-in-progress');
    const uploaded = (await page.evaluate(() => troveKit.waitFor('file-uploaded', 1, 40_000))) as FileUploadedDetail;
    await shots.take(page, 'multipart-done');
    expect([...attempts.keys()].sort()).toEqual(['0', '1', '2', '3', '4']);
    expect(attempts.get('2')).toBe(2);
    expect(attempts.get('0')).toBe(1);
    expect(uploaded.info.size).toBe(size);
    expect(await info(uploaded.uuid)).toMatchObject({ size, sha256: digest, original_filename: 'video.bin' });
    const progress = events<ProgressDetail>(await recorded(page), 'progress');
    expect(progress.some((p) => p.percent > 0 && p.percent < 100)).toBe(true);
    expect(progress.at(-1)).toMatchObject({ percent: 100, totalPercent: 100, loaded: size });
    // Failed connections are logged by the browser; the widget itself raised nothing.
    expect(errors.filter((error) => !/ERR_CONNECTION_RESET|Failed to load resource/.test(error))).toEqual([]);
    await page.close();
  }, 60_000);

  it('cancels an upload in flight, and retries a failed and a cancelled one', async () => {
    const { page } = await open('cancel', `<trove-uploader pubkey="${trove.publicKey}" multiple></trove-uploader>`);
    let slow = true;
    let failNext = false;
    await page.route(`${trove.uploadUrl}/base/`, async (route) => {
      if (failNext) {
        failNext = false;
        await route.abort('connectionreset');
        return;
      }
      if (slow) await new Promise((resolve) => setTimeout(resolve, 1500));
      await route.continue().catch(() => undefined);
    });
    const originalsBefore = await trove.countOriginals();
    await choose(page, [{ name: 'slow.jpg', mimeType: 'image/jpeg', buffer: catJpeg }]);
    await page.evaluate(() => troveKit.waitFor('upload-start'));
    await shots.take(page, 'uploading-with-cancel');
    await page.getByRole('button', { name: 'Cancel upload of slow.jpg' }).click();
    let state = await snapshot(page);
    expect(state.rows).toEqual([expect.objectContaining({ status: 'cancelled' })]);
    expect(state.live).toBe('Upload of slow.jpg cancelled.');
    const done = (await page.evaluate(() => troveKit.waitFor('done'))) as DoneDetail;
    expect(done.files).toEqual([]);
    await shots.take(page, 'cancelled');
    // The cancelled request never reached the server: nothing was stored.
    expect(await trove.countOriginals()).toBe(originalsBefore);

    slow = false;
    await page.getByRole('button', { name: 'Retry upload of slow.jpg' }).click();
    const uploaded = (await page.evaluate(() => troveKit.waitFor('file-uploaded'))) as FileUploadedDetail;
    expect(uploaded.file.name).toBe('slow.jpg');

    failNext = true;
    await choose(page, [{ name: 'flaky.png', mimeType: 'image/png', buffer: logoPng }]);
    const failure = (await page.evaluate(() => troveKit.waitFor('error'))) as ErrorDetail;
    expect(failure).toMatchObject({ code: 'network', file: { name: 'flaky.png' } });
    state = await snapshot(page);
    expect(state.rows[1]).toMatchObject({ status: 'failed', alert: 'The connection to the upload server failed. Check your connection and retry.' });
    await shots.take(page, 'failed-with-retry');
    await page.getByRole('button', { name: 'Retry upload of flaky.png' }).click();
    await page.evaluate(() => troveKit.waitFor('file-uploaded', 2));
    state = await snapshot(page);
    expect(state.rows.map((row) => [row.name, row.status, row.alert])).toEqual([
      ['slow.jpg', 'uploaded', null],
      ['flaky.png', 'uploaded', null],
    ]);
    await page.close();
  });

  it('signs uploads for a project that requires it, and says so clearly without a signature', async () => {
    await updateDefaultProject(trove, { signedUploads: true });
    try {
      const { page, errors } = await open('signed', `<trove-uploader pubkey="${trove.publicKey}" multiple></trove-uploader>`);
      await choose(page, [{ name: 'unsigned.jpg', mimeType: 'image/jpeg', buffer: catJpeg }]);
      const failure = (await page.evaluate(() => troveKit.waitFor('error'))) as ErrorDetail;
      expect(failure).toMatchObject({ code: 'SignatureRequiredError', message: 'This project accepts signed uploads only: send signature and expire.' });
      await page.getByRole('alert').filter({ hasText: 'signed uploads only' }).waitFor({ state: 'visible' });
      await shots.take(page, 'signature-required');

      // The site's own endpoint signs; the widget asks it once and reuses the answer.
      await page.evaluate(() => troveKit.useSignatureEndpoint('/sign'));
      const before = signatureRequests;
      await page.getByRole('button', { name: 'Retry upload of unsigned.jpg' }).click();
      await page.evaluate(() => troveKit.waitFor('file-uploaded'));
      await choose(page, [
        { name: 'signed-1.png', mimeType: 'image/png', buffer: logoPng },
        { name: 'signed-2.pdf', mimeType: 'application/pdf', buffer: PDF },
      ]);
      await page.evaluate(() => troveKit.waitFor('file-uploaded', 3));
      expect(signatureRequests - before).toBe(1);
      expect((await snapshot(page)).files.every((file) => file.status === 'uploaded')).toBe(true);
      expect(errors.filter((error) => !/status of 403/.test(error))).toEqual([]);
      await page.close();

      // The signature-url attribute does the same without script.
      const second = await open('signed-url', `<trove-uploader pubkey="${trove.publicKey}" signature-url="/sign"></trove-uploader>`);
      await choose(second.page, [{ name: 'by-attribute.jpg', mimeType: 'image/jpeg', buffer: catJpeg }], 'Choose a file');
      const viaAttribute = (await second.page.evaluate(() => troveKit.waitFor('file-uploaded'))) as FileUploadedDetail;
      expect(viaAttribute.info.original_filename).toBe('by-attribute.jpg');
      expect(second.errors).toEqual([]);
      await second.page.close();
    } finally {
      await updateDefaultProject(trove, { signedUploads: false });
    }
  });

  it('fills a plain HTML form with hidden inputs, and makes a group with the group attribute', async () => {
    const { page, errors } = await open(
      'form',
      `<form method="post" action="/submit"><p><label>Title <input name="title" value="Holiday"></label></p>
       <trove-uploader pubkey="${trove.publicKey}" multiple group name="attachments"></trove-uploader>
       <p><button type="submit">Send the form</button></p></form>`,
    );
    await choose(page, [
      { name: 'cat.jpg', mimeType: 'image/jpeg', buffer: catJpeg },
      { name: 'logo.png', mimeType: 'image/png', buffer: logoPng },
    ]);
    const done = (await page.evaluate(() => troveKit.waitFor('done'))) as DoneDetail;
    expect(done.files).toHaveLength(2);
    expect(done.group?.id).toMatch(/^[0-9a-f-]{36}~2$/);
    expect(done.group?.cdnUrl).toBe(`${trove.url}/${done.group?.id}/`);
    const groupInfo = await fetch(`${trove.uploadUrl}/group/info/?pub_key=${trove.publicKey}&group_id=${encodeURIComponent(done.group?.id ?? '')}`);
    expect(groupInfo.status).toBe(200);
    expect(((await groupInfo.json()) as { files_count: number }).files_count).toBe(2);

    const state = await snapshot(page);
    expect(state.hidden).toEqual([
      { name: 'attachments', value: done.files[0]!.uuid },
      { name: 'attachments', value: done.files[1]!.uuid },
      { name: 'attachments-group', value: done.group?.id },
    ]);
    await shots.take(page, 'form-before-submit');

    // Groups are immutable: removing a file makes a new group of what is left.
    await page.getByRole('button', { name: 'Remove logo.png' }).click();
    const regrouped = (await page.evaluate(() => troveKit.waitFor('done', 2))) as DoneDetail;
    const cat = done.files.find((file) => file.info.original_filename === 'cat.jpg')!;
    expect(regrouped.files.map((file) => file.uuid)).toEqual([cat.uuid]);
    expect(regrouped.group?.id).toMatch(/^[0-9a-f-]{36}~1$/);
    expect((await snapshot(page)).hidden).toEqual([
      { name: 'attachments', value: cat.uuid },
      { name: 'attachments-group', value: regrouped.group?.id },
    ]);

    await Promise.all([page.waitForURL(`${hostUrl}/submit`), page.getByRole('button', { name: 'Send the form' }).click()]);
    const posted = new URLSearchParams(submitted.at(-1));
    expect(posted.get('title')).toBe('Holiday');
    expect(posted.getAll('attachments')).toEqual([cat.uuid]);
    expect(posted.get('attachments-group')).toBe(regrouped.group?.id);
    expect(errors).toEqual([]);
    await page.close();
  });

  it('works from the keyboard and announces progress in a polite live region', async () => {
    const { page, errors } = await open('keyboard', `<trove-uploader pubkey="${trove.publicKey}" multiple></trove-uploader>`);
    await page.evaluate(() => troveKit.watchLive());
    await page.keyboard.press('Tab');
    expect((await snapshot(page)).focused).toBe('button choose-button');
    await shots.take(page, 'keyboard-focus');
    const [chooser] = await Promise.all([page.waitForEvent('filechooser'), page.keyboard.press('Enter')]);
    await chooser.setFiles([{ name: 'photo.jpg', mimeType: 'image/jpeg', buffer: photoJpeg }]);
    await page.evaluate(() => troveKit.waitFor('done'));
    const said = await page.evaluate(() => troveKit.live);
    expect(said[0]).toBe('Uploading photo.jpg: 0%');
    expect(said).toContain('Uploading photo.jpg: 100%');
    expect(said).toContain('photo.jpg uploaded.');
    expect(said.at(-1)).toBe('photo.jpg uploaded.');
    // Coarse steps only: at most 0/25/50/75/100, then done.
    expect(said.filter((text) => text.startsWith('Uploading')).length).toBeLessThanOrEqual(5);

    // Focus follows the user: Tab reaches the row's Remove button; removing moves focus back to the picker.
    await page.getByRole('button', { name: 'Remove photo.jpg' }).focus();
    await page.keyboard.press('Enter');
    expect((await snapshot(page)).focused).toBe('button choose-button');
    expect(errors).toEqual([]);
    await page.close();
  });

  it('takes a photo with the camera dialog, and explains a missing pubkey', async () => {
    pages.set('camera', `<trove-uploader pubkey="${trove.publicKey}" sources="camera,local"></trove-uploader><trove-uploader id="broken"></trove-uploader>`);
    const page = await browser.newPage({ viewport: { width: 900, height: 700 } });
    const errors = watchPageErrors(page);
    await page.goto(`${hostUrl}/page/camera`);
    await page.waitForFunction(() => troveKit.ready());
    await page.evaluate(() => troveKit.fakeCamera());
    expect((await page.evaluate(() => troveKit.snapshot('#broken'))).configError).toMatch(/pubkey attribute/);
    await page.getByRole('button', { name: 'Take a photo' }).first().click();
    const dialog = page.getByRole('dialog', { name: 'Camera' });
    await dialog.waitFor({ state: 'visible' });
    const capture = dialog.getByRole('button', { name: 'Take photo' });
    await page.waitForFunction(() => !troveKit.snapshot().cameraCaptureDisabled);
    await shots.take(page, 'camera-dialog');
    await capture.click();
    const uploaded = (await page.evaluate(() => troveKit.waitFor('file-uploaded'))) as FileUploadedDetail;
    expect(uploaded.info).toMatchObject({ mime_type: 'image/jpeg', is_image: true });
    expect(uploaded.info.original_filename).toMatch(/^photo-\d{8}-\d{6}\.jpg$/);
    await dialog.waitFor({ state: 'detached' });
    await shots.take(page, 'camera-uploaded');
    expect(errors).toEqual([]);
    await page.close();
  });

  it('exports its class, definer and strings, takes translated strings and properties set before it loaded', async () => {
    const { page, errors } = await open(
      'strings',
      `<trove-uploader pubkey="${trove.publicKey}" multiple></trove-uploader>
       <trove-uploader id="early" pubkey="${trove.publicKey}"></trove-uploader>
       <script>document.getElementById('early').metadata = { album: 'early' };</script>`,
    );
    const exported = await page.evaluate((url) => troveKit.useExports(url), `${trove.url}/widget.js`);
    expect(exported).toEqual({ before: 'Choose files', isClass: true, defined: true });
    await page.getByRole('button', { name: 'Dateien auswählen' }).waitFor({ state: 'visible' });
    await page.evaluate(() => troveKit.setStrings({ chooseFiles: 'Fichiers…' }));
    await page.getByRole('button', { name: 'Fichiers…' }).waitFor({ state: 'visible' });

    // The page set `metadata` while the element was still unknown (the module loads after parsing).
    await page.evaluate((data) => troveKit.add([{ name: 'early.png', type: 'image/png', base64: data }], '#early'), logoPng.toString('base64'));
    const uploaded = (await page.evaluate(() => troveKit.waitFor('file-uploaded'))) as FileUploadedDetail;
    expect((await info(uploaded.uuid)) as UploadInfo & { metadata: Record<string, string> }).toMatchObject({ metadata: { album: 'early' } });
    expect(errors).toEqual([]);
    await page.close();
  });
});
