import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { describeWhenBrowser, launchBrowser, StepShots, watchPageErrors } from '../helpers/browser.js';
import { makeJpeg, makePdf, makePng } from '../helpers/images.js';
import { startS3Server, type TestS3Server } from '../helpers/s3-server.js';
import { startTrove, type TestTrove } from '../helpers/trove-server.js';
import { buildForm, postBase, type FormFile } from '../helpers/upload-http.js';
import { ffmpegClip, testClip } from '../helpers/video-clips.js';

/** The page-side helpers of fixtures/dashboard-kit.js, as page.evaluate sees them. */
interface FileSpec {
  name: string;
  type: string;
  base64: string;
}
interface ProgressDetail {
  file: { id: string; name: string };
  percent: number;
  totalPercent: number;
}
interface UploadedDetail {
  uuid: string;
  file: { id: string; name: string };
  info: { size: number; mime_type: string; original_filename: string };
}
interface ErrorDetail {
  file: { name: string } | null;
  message: string;
  code: string;
}
interface WidgetView {
  rows: Array<{ status: string; name: string; percent: string; progress: number | null; alert: string | null }>;
  total: { hidden: boolean; value: number; text: string };
  messages: string[];
  alertsRole: string | null;
  value: string[];
}
declare const dashKit: {
  events: Array<{ type: string; detail: unknown }>;
  reset(): void;
  uploaderReady(): boolean;
  waitFor(type: string, nth?: number, timeoutMs?: number): Promise<unknown>;
  drop(specs: FileSpec[]): { highlighted: boolean; accepted: boolean; stillHighlighted: boolean };
  widget(): WidgetView;
  watchDom(selector: string): void;
  domMax(): number;
  loadedCount(): number;
  scrollToBottom(): number;
  scrollToTop(): void;
  animationsSettled(): boolean;
  dismissToasts(): void;
  loadedImages(selector: string): number;
  image(selector: string): { src: string; complete: boolean; width: number; height: number } | null;
  media(selector: string): { src: string; controls: boolean; preload: string; readyState: number; duration: number } | null;
  thumbnails(): { images: number; loaded: number; fallbacks: number };
  injectInlineScript(): boolean;
};

/** A REST file object, as far as these tests read it. */
interface RestFile {
  uuid: string;
  original_filename: string;
  size: number;
  mime_type: string;
  datetime_removed: string | null;
  metadata: Record<string, string>;
  tags: string[];
}
/** The REST file object of a video, as far as the video test reads it. */
interface RestVideoFile extends RestFile {
  original_file_url: string;
  content_info: {
    video: {
      duration: number;
      format: string;
      video: Array<{ codec: string; width: number; height: number; frame_rate: number }>;
      audio: Array<{ codec: string; sample_rate: number; channels: number }>;
    };
  };
}
interface RestConversionStatus {
  status: string;
  error: string | null;
  result: { uuid: string; thumbnails_group_uuid: string } | null;
}
interface RestFileList {
  total: number;
  results: RestFile[];
}
interface RestUsage {
  files: { stored: number; unstored: number; removed: number };
  bytes: { stored: number; unstored: number };
  days: Array<{ date: string; uploads: number; upload_bytes: number; deliveries: number; cache_hits: number; cache_misses: number }>;
  cache_hit_ratio: number | null;
}
interface RestDelivery {
  id: string;
  status: 'pending' | 'delivered' | 'failed';
  attempts: number;
  last_status_code: number | null;
}

/** One browser tab with its own cookie jar, and what went wrong in it. */
interface Tab {
  context: BrowserContext;
  page: Page;
  /** Uncaught errors and console errors (watchPageErrors). */
  errors: string[];
  /** Responses of 400 and above, and requests that failed outright: `401 GET /dashboard/api/session`. */
  failures: string[];
  /** The CSRF token the page got when it signed in. */
  csrf: string | null;
}

const KIT = fileURLToPath(new URL('./fixtures/dashboard-kit.js', import.meta.url));
const ADMIN_PASSWORD = 'dashboard admin passphrase';
const REST_ACCEPT = 'application/vnd.uploadcare-v0.7+json';
/** What the page asks before anyone signed in: the answer is a 401 by design. */
const SESSION_PROBE = /^401 GET \/dashboard\/api\/session$/;
/** A library thumbnail over the project's rate of new transformations (the scale test's fast scroll provokes them). */
const THUMBNAIL_REFUSED = /^429 GET \/[0-9a-f-]{36}\/-\/preview\/240x240\//;
const count = (n: number) => n.toLocaleString('en-US');
const SEED_TOTAL = 1500;
const SEED_PDFS = 60;

describeWhenBrowser('dashboard')('the dashboard in Chromium', () => {
  let trove: TestTrove;
  let browser: Browser;
  const shots = new StepShots('dashboard');
  const openTabs = new Set<Tab>();

  // A webhook receiver on loopback whose answer the test sets, and a site of another origin.
  let receiver: Server;
  let receiverUrl: string;
  let receiverStatus = 500;
  const received: Array<{ path: string; body: string }> = [];
  let other: Server;
  let otherPort: number;
  // A bucket for the project's storages: an S3 server that accepts only its own access key.
  let bucket: TestS3Server;

  beforeAll(async () => {
    bucket = await startS3Server();
    [trove, browser] = await Promise.all([
      startTrove({
        env: {
          TROVE_ADMIN_PASSWORD: ADMIN_PASSWORD,
          TROVE_STORAGE_CREDENTIALS_KEY: '0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef',
          // A failed delivery waits for the replay the test clicks, not for an automatic retry.
          TROVE_WEBHOOK_RETRY_BASE: '10m',
          // The default rate of new transformations with a smaller burst: scrolling through the big
          // library surely runs into it, as a fast scroll through a real one can (thumbnails are new
          // transformations), and the library must still end up showing every thumbnail.
          TROVE_RATE_LIMIT_DELIVERY_MISS: '50:200',
        },
      }),
      launchBrowser(),
    ]);
    receiver = createServer((request, response) => {
      let body = '';
      request.setEncoding('utf8');
      request.on('data', (chunk: string) => (body += chunk));
      request.on('end', () => {
        received.push({ path: request.url ?? '', body });
        response.writeHead(receiverStatus, { 'content-type': 'text/plain' }).end(receiverStatus < 300 ? 'ok' : 'receiver is down');
      });
    });
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
    receiverUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}`;
    other = createServer((request: IncomingMessage, response) => {
      if (request.url === '/favicon.ico') {
        response.writeHead(204).end();
        return;
      }
      response
        .writeHead(200, { 'content-type': 'text/html; charset=utf-8' })
        .end('<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Another site</title><link rel="icon" href="data:,"></head><body><h1>Some other site</h1></body></html>');
    });
    // Every interface: the page is opened both as 127.0.0.1 (same site, other origin) and as localhost (another site).
    await new Promise<void>((resolve) => other.listen(0, resolve));
    otherPort = (other.address() as AddressInfo).port;
  }, 60_000);

  afterAll(async () => {
    for (const tab of openTabs) await tab.context.close().catch(() => undefined);
    await browser?.close();
    if (receiver) await new Promise((resolve) => receiver.close(resolve));
    if (other) await new Promise((resolve) => other.close(resolve));
    await trove?.close();
    await bucket?.stop();
  });

  // -- Helpers ------------------------------------------------------------------------------------

  async function openTab(): Promise<Tab> {
    const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    await context.addInitScript({ path: KIT });
    const page = await context.newPage();
    page.setDefaultTimeout(10_000);
    const errors = watchPageErrors(page);
    const failures: string[] = [];
    page.on('response', (response) => {
      if (response.status() >= 400) failures.push(`${response.status()} ${response.request().method()} ${new URL(response.url()).pathname}`);
    });
    page.on('requestfailed', (request) => {
      // Aborts are the page's own doing (a superseded list request, an image scrolled away).
      if (request.failure()?.errorText !== 'net::ERR_ABORTED') failures.push(`failed ${request.method()} ${new URL(request.url()).pathname}: ${request.failure()?.errorText}`);
    });
    // File-chooser interception stays on from the start (see widget.test.ts).
    page.on('filechooser', () => undefined);
    const tab: Tab = { context, page, errors, failures, csrf: null };
    openTabs.add(tab);
    return tab;
  }

  async function closeTab(tab: Tab): Promise<void> {
    openTabs.delete(tab);
    await tab.context.close();
  }

  /** The page ran clean: no script errors, and every failed request is one the test provoked. */
  function expectClean(tab: Tab, provoked: RegExp[] = [SESSION_PROBE]): void {
    expect(tab.failures.filter((failure) => !provoked.some((pattern) => pattern.test(failure)))).toEqual([]);
    const resourceLines = tab.errors.filter((error) => /^console: Failed to load resource: the server responded with a status of \d+/.test(error));
    expect(tab.errors.filter((error) => !resourceLines.includes(error))).toEqual([]);
    expect(resourceLines.length).toBeLessThanOrEqual(tab.failures.length);
  }

  /** Fills the sign-in form and waits for the signed-in layout; remembers the CSRF token the page got. */
  async function signInWithKeys(tab: Tab, publicKey: string, secretKey: string): Promise<void> {
    const { page } = tab;
    if (!page.url().startsWith(`${trove.url}/dashboard`)) await page.goto(`${trove.url}/dashboard`);
    await page.getByTestId('signin-pub-key').fill(publicKey);
    await page.getByTestId('signin-secret-key').fill(secretKey);
    const [response] = await Promise.all([
      page.waitForResponse((r) => r.url() === `${trove.url}/dashboard/api/session` && r.request().method() === 'POST'),
      page.getByTestId('signin-submit').click(),
    ]);
    expect(response.status()).toBe(200);
    tab.csrf = ((await response.json()) as { csrf_token: string }).csrf_token;
    await page.getByTestId('nav-library').waitFor();
  }

  /** A REST call from outside the browser, with the project's keys. */
  async function rest<T>(path: string, init: { method?: string; body?: unknown; secretKey?: string; publicKey?: string } = {}): Promise<{ status: number; body: T }> {
    const response = await fetch(`${trove.url}${path}`, {
      method: init.method ?? 'GET',
      headers: {
        accept: REST_ACCEPT,
        authorization: `Uploadcare.Simple ${init.publicKey ?? trove.publicKey}:${init.secretKey ?? trove.secretKey}`,
        ...(init.body !== undefined ? { 'content-type': 'application/json' } : {}),
      },
      ...(init.body !== undefined ? { body: JSON.stringify(init.body) } : {}),
    });
    const text = await response.text();
    return { status: response.status, body: (text ? JSON.parse(text) : null) as T };
  }

  async function restOk<T>(path: string, init: Parameters<typeof rest>[1] = {}): Promise<T> {
    const { status, body } = await rest<T>(path, init);
    expect(status, `${init.method ?? 'GET'} ${path}: ${JSON.stringify(body)}`).toBeLessThan(300);
    return body;
  }

  /** Files through the Upload API's /base/, several per request; answers filename → uuid. */
  async function uploadMany(files: FormFile[], publicKey = trove.publicKey): Promise<Map<string, string>> {
    const response = await postBase(trove, buildForm(trove, files, { publicKey, fields: { UPLOADCARE_STORE: '1' } }));
    const text = await response.text();
    expect(response.status, text).toBe(200);
    const body = JSON.parse(text) as Record<string, string>;
    const uuids = new Map<string, string>();
    files.forEach((file, index) => uuids.set(file.filename ?? '', body[file.field ?? (index === 0 ? 'file' : `file${index}`)] ?? ''));
    return uuids;
  }

  /**
   * A numbered screenshot of the step, once entrance animations (toasts) have finished.
   * `viewport`: what the user sees, for the virtualised library (whose full page is mostly spacer) and dialogs over long pages
   * (StepShots always takes the full page, so it gets a view of the page that only knows the viewport).
   */
  async function shot(page: Page, name: string, area: 'full' | 'viewport' = 'full'): Promise<void> {
    await page.waitForFunction(() => dashKit.animationsSettled());
    // A full-page capture paints the sticky sidebar and top bar where the page is scrolled to: from the top they sit where they belong.
    if (area === 'full') await page.evaluate(() => dashKit.scrollToTop());
    const target = area === 'full' ? page : ({ screenshot: (options: Parameters<Page['screenshot']>[0]) => page.screenshot({ ...options, fullPage: false }) } as unknown as Page);
    await shots.take(target, name);
  }

  const spec = (name: string, type: string, bytes: Buffer): FileSpec => ({ name, type, base64: bytes.toString('base64') });
  const cardUuids = (page: Page, testId = 'file-card') => page.getByTestId(testId).evaluateAll((nodes) => nodes.map((node) => node.getAttribute('data-uuid') ?? ''));
  const toast = (page: Page, text: string | RegExp) => page.getByTestId('toast').filter({ hasText: text });
  /** Dismisses every toast (with its × button), so the next one the test waits for is new. */
  async function clearToasts(page: Page): Promise<void> {
    // In one go: a toast may time out between a locator's lookup and its click.
    await page.evaluate(() => dashKit.dismissToasts());
    await expect.poll(() => page.getByTestId('toast').count()).toBe(0);
  }

  // -- 1. Main scenario ---------------------------------------------------------------------------

  describe('main scenario: sign in, upload, find, inspect, transform, annotate, delete, refuse', () => {
    let tab: Tab;
    let sunset: Buffer;
    let mountain: Buffer;
    let guide: Buffer;
    let huge: Buffer;
    const uuids = new Map<string, string>();

    beforeAll(async () => {
      [sunset, mountain, huge] = await Promise.all([makeJpeg({ width: 640, height: 400 }), makePng(300, 200), makeJpeg({ width: 1200, height: 800, noise: true })]);
      guide = makePdf();
      tab = await openTab();
    });

    afterAll(async () => {
      if (tab) await closeTab(tab);
    });

    it('signs in with the project keys, after explaining a wrong secret key', async () => {
      const { page } = tab;
      const response = await page.goto(`${trove.url}/dashboard`);
      expect(response?.status()).toBe(200);
      await page.getByTestId('signin-submit').waitFor();
      expect(await page.title()).toBe('Sign in · Trove');
      await shot(page, 'sign-in');

      await page.getByTestId('signin-pub-key').fill(trove.publicKey);
      await page.getByTestId('signin-secret-key').fill('sk_this_is_not_the_key');
      await page.getByTestId('signin-submit').click();
      await expect.poll(() => page.getByTestId('signin-error').textContent()).toBe('Wrong public key or secret key.');
      await expect.poll(() => page.getByTestId('signin-error').getAttribute('role')).toBe('alert');
      await shot(page, 'sign-in-wrong-key');

      await signInWithKeys(tab, trove.publicKey, trove.secretKey);
      expect(await page.getByTestId('project-name').textContent()).toBe('Default project');
      await page.getByText('No files yet.').waitFor();
      await shot(page, 'signed-in-empty-library');
    });

    it('uploads an image by the file chooser, and an image and a PDF by a drop, watching progress reach 100%', async () => {
      const { page } = tab;
      await page.getByTestId('nav-upload').click();
      await page.waitForFunction(() => dashKit.uploaderReady());
      expect(await page.getByTestId('uploader').evaluate((node) => node.localName)).toBe('trove-uploader');
      await shot(page, 'upload-page');

      // The file chooser, opened by the widget's own button inside its shadow root.
      const [chooser] = await Promise.all([page.waitForEvent('filechooser'), page.getByRole('button', { name: 'Choose files' }).click()]);
      expect(chooser.isMultiple()).toBe(true);
      await chooser.setFiles([{ name: 'sunset-beach.jpg', mimeType: 'image/jpeg', buffer: sunset }]);
      await page.evaluate(() => dashKit.waitFor('done', 1));
      await toast(page, 'Upload finished.').waitFor();
      await shot(page, 'uploaded-by-chooser');
      await clearToasts(page);

      // A drop of two files on the drop zone.
      const dropped = await page.evaluate((files) => dashKit.drop(files), [spec('mountain-lake.png', 'image/png', mountain), spec('travel-guide.pdf', 'application/pdf', guide)]);
      expect(dropped).toEqual({ highlighted: true, accepted: true, stillHighlighted: false });
      await page.evaluate(() => dashKit.waitFor('done', 2));

      const events = await page.evaluate(() => dashKit.events);
      const uploaded = events.filter((event) => event.type === 'file-uploaded').map((event) => event.detail as UploadedDetail);
      // The chooser's file first; the two dropped files upload side by side and finish in either order.
      expect(uploaded[0]?.file.name).toBe('sunset-beach.jpg');
      expect(uploaded.map((event) => event.file.name).sort()).toEqual(['mountain-lake.png', 'sunset-beach.jpg', 'travel-guide.pdf']);
      expect(events.filter((event) => event.type === 'error')).toEqual([]);
      const progress = events.filter((event) => event.type === 'progress').map((event) => event.detail as ProgressDetail);
      for (const file of uploaded) {
        const own = progress.filter((p) => p.file.id === file.file.id);
        expect(own.length, file.file.name).toBeGreaterThan(0);
        own.forEach((p, i) => i > 0 && expect(p.percent).toBeGreaterThanOrEqual(own[i - 1]!.percent));
        expect(own.at(-1)?.percent, file.file.name).toBe(100);
        uuids.set(file.file.name, file.uuid);
      }
      expect(progress.at(-1)?.totalPercent).toBe(100);

      const widget = await page.evaluate(() => dashKit.widget());
      expect(widget.rows.map((row) => [row.name, row.status, row.percent, row.progress])).toEqual([
        ['sunset-beach.jpg', 'uploaded', '100%', 100],
        ['mountain-lake.png', 'uploaded', '100%', 100],
        ['travel-guide.pdf', 'uploaded', '100%', 100],
      ]);
      expect(widget.total).toEqual({ hidden: false, value: 100, text: '100%' });
      // The dashboard lists them under the widget, newest first, with links to their pages.
      await expect.poll(() => page.getByTestId('uploaded-file').count()).toBe(3);
      const listed = await page.getByTestId('uploaded-file').allTextContents();
      expect(listed[2]).toMatch(/^sunset-beach\.jpg · [\d.]+ KB$/);
      expect(listed.map((text) => text.split(' · ')[0]).sort()).toEqual(['mountain-lake.png', 'sunset-beach.jpg', 'travel-guide.pdf']);
      expect(await page.getByTestId('uploaded-file').getByRole('link').evaluateAll((links) => links.map((link) => link.getAttribute('href')))).toEqual(
        uploaded.map((event) => `/dashboard/files/${event.uuid}`).reverse(),
      );
      await toast(page, 'Upload finished.').waitFor();
      await shot(page, 'uploaded-three-files');

      // The server has them, byte for byte in size.
      const sources: Record<string, Buffer> = { 'sunset-beach.jpg': sunset, 'mountain-lake.png': mountain, 'travel-guide.pdf': guide };
      for (const [name, uuid] of uuids) {
        const file = await restOk<RestFile>(`/files/${uuid}/`);
        expect(file).toMatchObject({ original_filename: name, size: sources[name]!.length, datetime_removed: null });
      }
    });

    it('finds the three files in the library, and a search by filename finds exactly one', async () => {
      const { page } = tab;
      await page.getByTestId('nav-library').click();
      await expect.poll(() => cardUuids(page)).toHaveLength(3);
      expect((await cardUuids(page)).sort()).toEqual([...uuids.values()].sort());
      expect(await page.getByTestId('file-total').textContent()).toBe('3 files');
      // Thumbnails of the two images come from the CDN.
      await page.waitForFunction(() => dashKit.loadedImages('[data-testid="file-card"]') === 2);
      await shot(page, 'library-three-files');

      // Four characters or more: Uploadcare's full-text search (POST /files/search/), matches marked in the name.
      const searched = page.waitForRequest((request) => request.method() === 'POST' && new URL(request.url()).pathname === '/files/search/');
      await page.getByTestId('search').fill('sunset');
      await page.waitForURL(/[?&]q=sunset/);
      expect(JSON.parse((await searched).postData() ?? '{}')).toEqual({ query: 'sunset', sort: ['-datetime_uploaded'] });
      await expect.poll(() => cardUuids(page)).toEqual([uuids.get('sunset-beach.jpg')]);
      expect(await page.getByTestId('file-total').textContent()).toBe('1 matching file');
      expect(await page.getByTestId('file-totals').textContent()).toBe('3 stored, 0 temporary, 0 removed');
      expect(await page.getByTestId('name-match').allTextContents()).toEqual(['sunset']);
      await shot(page, 'library-search-sunset');

      // A part of a word is found; a typo only once typos are allowed, through the URL as well.
      await page.getByTestId('search').fill('ountai');
      await expect.poll(() => cardUuids(page)).toEqual([uuids.get('mountain-lake.png')]);
      expect(await page.getByTestId('name-match').allTextContents()).toEqual(['ountai']);
      await page.getByTestId('search').fill('montain');
      await page.waitForURL(/[?&]q=montain/);
      await page.getByText('No files match these filters.').waitFor();
      await page.getByTestId('search-typos').check();
      await page.waitForURL(/[?&]typos=1/);
      await expect.poll(() => cardUuids(page)).toEqual([uuids.get('mountain-lake.png')]);
      await shot(page, 'library-search-typo');

      // Best match is offered while searching text; a short text is looked for in the list's own way.
      await page.getByTestId('search').fill('pdf');
      await page.waitForURL(/[?&]q=pdf(&|$)/);
      await expect.poll(() => cardUuids(page)).toEqual([uuids.get('travel-guide.pdf')]);
      expect(await page.getByTestId('sort').locator('option').allTextContents()).toEqual(['Newest first', 'Oldest first']);
      await page.getByTestId('search').fill('sunset');
      await expect.poll(() => cardUuids(page)).toEqual([uuids.get('sunset-beach.jpg')]);
      expect(await page.getByTestId('sort').locator('option').allTextContents()).toEqual(['Best match', 'Newest first', 'Oldest first']);
    });

    it('opens the image: its facts match what was uploaded', async () => {
      const { page } = tab;
      const uuid = uuids.get('sunset-beach.jpg')!;
      await page.getByTestId('file-card').getByTestId('file-link').click();
      await page.waitForURL(`${trove.url}/dashboard/files/${uuid}`);
      expect(await page.getByTestId('file-title').textContent()).toBe('sunset-beach.jpg');
      const fact = (name: string) => page.getByTestId(`fact-${name}`).locator('dd').textContent();
      expect(await fact('size')).toContain(`(${count(sunset.length)} bytes)`);
      expect(await fact('mime')).toBe('image/jpeg');
      expect(await fact('dimensions')).toMatch(/^640 × 400 px/);
      expect(await fact('filename')).toBe('sunset-beach.jpg');
      expect(await fact('uuid')).toBe(uuid);
      expect(await page.getByTestId('cdn-url').inputValue()).toBe(`${trove.url}/${uuid}/`);
      await page.waitForFunction(() => (dashKit.image('[data-testid="file-preview-image"]')?.width ?? 0) > 0);
      await shot(page, 'file-page');
    });

    it('builds a transformation in the playground, and the preview really has the new size', async () => {
      const { page } = tab;
      // The untouched playground shows the original.
      await expect.poll(() => page.getByTestId('preview-size').textContent()).toBe('640 × 400');
      await page.getByTestId('playground-width').fill('120');
      await page.getByTestId('playground-format').selectOption('png');
      await page.getByTestId('playground-grayscale').check();
      const url = await page.getByTestId('playground-url').inputValue();
      expect(url).toMatch(new RegExp(`^${trove.url}/${uuids.get('sunset-beach.jpg')}/-/`));
      expect(url).toContain('/-/format/png/');
      expect(url).toContain('/-/grayscale/');
      expect(url).toMatch(/\/-\/resize\/120x\//);

      await page.locator('[data-testid="playground-stage"][data-state="loaded"]').waitFor();
      await expect.poll(() => page.getByTestId('preview-size').textContent()).toBe('120 × 75');
      const shown = await page.evaluate(() => dashKit.image('[data-testid="playground-preview"]'));
      expect(shown).toEqual({ src: url, complete: true, width: 120, height: 75 });
      await shot(page, 'playground-resized-png-grayscale');

      // The same URL, fetched and decoded outside the browser.
      const response = await fetch(url);
      expect(response.status).toBe(200);
      expect(response.headers.get('content-type')).toBe('image/png');
      const bytes = Buffer.from(await response.arrayBuffer());
      const meta = await sharp(bytes).metadata();
      expect({ format: meta.format, width: meta.width, height: meta.height }).toEqual({ format: 'png', width: 120, height: 75 });
      const stats = await sharp(bytes).stats();
      const means = stats.channels.slice(0, 3).map((channel) => Math.round(channel.mean));
      // Grey: one channel, or three equal ones.
      expect(means.every((mean) => mean === means[0])).toBe(true);
    });

    it('adds and edits metadata and a tag; the REST API has them', async () => {
      const { page } = tab;
      const uuid = uuids.get('sunset-beach.jpg')!;
      await page.getByTestId('metadata-key').fill('alt_text');
      await page.getByTestId('metadata-value').fill('Sunset over the beach');
      await page.getByTestId('metadata-add').click();
      const row = page.locator('[data-testid="metadata-row"][data-key="alt_text"]');
      await expect.poll(() => row.getByTestId('metadata-row-value').textContent()).toBe('Sunset over the beach');
      await toast(page, 'Metadata “alt_text” added.').waitFor();
      await shot(page, 'metadata-added');

      await row.getByTestId('metadata-edit').click();
      await row.getByTestId('metadata-edit-value').fill('Golden hour at the beach');
      await shot(page, 'metadata-editing');
      await row.getByTestId('metadata-save').click();
      await expect.poll(() => row.getByTestId('metadata-row-value').textContent()).toBe('Golden hour at the beach');
      await toast(page, 'Metadata “alt_text” saved.').waitFor();
      expect(await restOk<Record<string, string>>(`/files/${uuid}/metadata/`)).toEqual({ alt_text: 'Golden hour at the beach' });
      await shot(page, 'metadata-edited');

      // A tag with a space is refused before any request, naming the rule.
      await page.getByTestId('tag-input').fill('good boy');
      await page.getByTestId('tag-input').press('Enter');
      await expect.poll(() => page.getByTestId('tag-error').textContent()).toContain('Latin letters, digits, and - _ . only');
      // Tags are lowercased and trimmed as the API stores them.
      await page.getByTestId('tag-input').fill(' Holiday ');
      await page.getByTestId('tag-input').press('Enter');
      await expect.poll(() => page.getByTestId('tag-chip').allTextContents()).toEqual([expect.stringContaining('holiday')]);
      await page.getByTestId('tags-save').click();
      await toast(page, 'Tags saved.').waitFor();
      expect((await restOk<RestFile>(`/files/${uuid}/`)).tags).toEqual(['holiday']);
      await shot(page, 'tag-saved');
    });

    it('selects the files in the library and deletes them in bulk; cancelling the confirmation keeps them', async () => {
      const { page } = tab;
      await page.getByTestId('nav-library').click();
      await expect.poll(() => cardUuids(page)).toHaveLength(3);
      await page.getByTestId('select-all').click();
      expect(await page.getByTestId('selection-count').textContent()).toBe('3 selected');
      await shot(page, 'library-all-selected');

      await page.getByTestId('bulk-delete').click();
      const dialog = page.getByTestId('confirm-dialog');
      await dialog.getByText('Delete 3 files?').waitFor();
      await shot(page, 'bulk-delete-confirmation');
      await dialog.getByTestId('cancel').click();
      await dialog.getByText('Delete 3 files?').waitFor({ state: 'detached' });
      expect(await cardUuids(page)).toHaveLength(3);
      expect(await page.getByTestId('selection-count').textContent()).toBe('3 selected');
      for (const uuid of uuids.values()) expect((await restOk<RestFile>(`/files/${uuid}/`)).datetime_removed).toBeNull();

      await page.getByTestId('bulk-delete').click();
      await dialog.getByTestId('confirm').click();
      await toast(page, 'Deleted 3 files.').waitFor();
      await page.getByText('No files yet.').waitFor();
      expect(await page.getByTestId('file-card').count()).toBe(0);
      await shot(page, 'library-after-bulk-delete');
      for (const uuid of uuids.values()) expect((await restOk<RestFile>(`/files/${uuid}/`)).datetime_removed).not.toBeNull();
      expect((await restOk<RestFileList>('/files/')).total).toBe(0);
    });

    it('explains a file too large for the project, set on the Settings page, and adds nothing', async () => {
      const { page } = tab;
      await page.getByTestId('nav-settings').click();
      await page.getByTestId('settings-max-size').fill('0.05');
      await page.getByTestId('settings-save').click();
      await toast(page, 'Settings saved.').waitFor();
      await page.getByText('Now 50 KB.').waitFor();
      expect((await restOk<{ max_file_size: number | null }>('/project/')).max_file_size).toBe(50_000);
      await shot(page, 'settings-max-file-size');

      await page.getByTestId('nav-upload').click();
      await page.waitForFunction(() => dashKit.uploaderReady());
      await page.getByText('Largest file: 50 KB.').waitFor();
      await page.evaluate(() => dashKit.reset());
      const [chooser] = await Promise.all([page.waitForEvent('filechooser'), page.getByRole('button', { name: 'Choose files' }).click()]);
      await chooser.setFiles([{ name: 'huge-panorama.jpg', mimeType: 'image/jpeg', buffer: huge }]);
      const refusal = (await page.evaluate(() => dashKit.waitFor('error'))) as ErrorDetail;
      expect(refusal).toMatchObject({ code: 'too-large', file: { name: 'huge-panorama.jpg' } });
      const widget = await page.evaluate(() => dashKit.widget());
      expect(widget.alertsRole).toBe('alert');
      expect(widget.messages).toEqual([expect.stringMatching(/^huge-panorama\.jpg is [\d.]+ KB; the limit is 50 KB\.$/)]);
      expect(widget.rows).toEqual([]);
      await page.getByRole('alert').filter({ hasText: 'huge-panorama.jpg' }).first().waitFor();
      await toast(page, /huge-panorama\.jpg is .* the limit is 50 KB/).waitFor();
      await shot(page, 'too-large-refused-by-the-limit');
      expect(await page.getByTestId('uploaded-file').count()).toBe(0);
      expect((await restOk<RestFileList>('/files/')).total).toBe(0);

      // Back to the server's limit.
      await page.getByTestId('nav-settings').click();
      await clearToasts(page);
      await page.getByTestId('settings-max-size').fill('');
      await page.getByTestId('settings-save').click();
      await toast(page, 'Settings saved.').waitFor();
      expect((await restOk<{ max_file_size: number | null }>('/project/')).max_file_size).toBeNull();
    });

    it('shows the server’s refusal when the limit changed after the page loaded', async () => {
      const { page } = tab;
      await page.getByTestId('nav-upload').click();
      await page.waitForFunction(() => dashKit.uploaderReady());
      await page.evaluate(() => dashKit.reset());
      // Someone else lowers the limit: this page does not know, so the server refuses the upload.
      await trove.ctx.services.projects.update(trove.publicKey, { maxFileSize: 50_000 });
      try {
        const [chooser] = await Promise.all([page.waitForEvent('filechooser'), page.getByRole('button', { name: 'Choose files' }).click()]);
        await chooser.setFiles([{ name: 'huge-panorama.jpg', mimeType: 'image/jpeg', buffer: huge }]);
        const failure = (await page.evaluate(() => dashKit.waitFor('error'))) as ErrorDetail;
        expect(failure.code).toBe('FileSizeLimitExceededError');
        expect(failure.message).toContain('huge-panorama.jpg');
        await page.evaluate(() => dashKit.waitFor('done'));
        const widget = await page.evaluate(() => dashKit.widget());
        expect(widget.rows).toEqual([expect.objectContaining({ name: 'huge-panorama.jpg', status: 'failed', alert: failure.message })]);
        expect(widget.value).toEqual([]);
        await page.getByRole('alert').filter({ hasText: failure.message }).first().waitFor();
        await toast(page, failure.message).waitFor();
        // A batch whose only file failed is not reported as a finished upload.
        expect(await toast(page, 'Upload finished').count()).toBe(0);
        await shot(page, 'too-large-refused-by-the-server');
        expect((await restOk<RestFileList>('/files/')).total).toBe(0);
      } finally {
        await trove.ctx.services.projects.update(trove.publicKey, { maxFileSize: null });
      }
      expectClean(tab, [SESSION_PROBE, /^401 POST \/dashboard\/api\/session$/, /^413 POST \/upload\/base\/$/]);
    });
  });

  // -- 2. Library at scale ------------------------------------------------------------------------

  it(`keeps a library of ${count(SEED_TOTAL)} files light: infinite scroll, list view, sort and type filter`, async () => {
    // Seeding through the Upload API: 100 files per request, three requests at a time.
    const seedStarted = performance.now();
    const colours = await Promise.all(
      Array.from({ length: 12 }, (_, i) => sharp({ create: { width: 8, height: 8, channels: 3, background: { r: (i * 53) % 256, g: (i * 97) % 256, b: (i * 151) % 256 } } }).png().toBuffer()),
    );
    const pdf = makePdf();
    const first = await uploadMany([{ bytes: colours[0]!, filename: 'aaa-first-upload.png', type: 'image/png' }]);
    const seeded: FormFile[] = [];
    const pdfNames = new Set<string>();
    for (let i = 1; i <= SEED_TOTAL - 2; i++) {
      const n = String(i).padStart(4, '0');
      if (i % Math.floor((SEED_TOTAL - 2) / SEED_PDFS) === 0 && pdfNames.size < SEED_PDFS) {
        const name = `invoice-${n}.pdf`;
        pdfNames.add(name);
        seeded.push({ bytes: Buffer.concat([pdf, Buffer.from(`% ${n}\n`)]), filename: name, type: 'application/pdf' });
      } else {
        const stem = ['photo', 'scan', 'avatar', 'banner', 'icon'][i % 5];
        seeded.push({ bytes: colours[i % colours.length]!, filename: `${stem}-${n}.png`, type: 'image/png' });
      }
    }
    const batches: FormFile[][] = [];
    for (let i = 0; i < seeded.length; i += 100) batches.push(seeded.slice(i, i + 100));
    const byName = new Map<string, string>(first);
    for (let i = 0; i < batches.length; i += 3) {
      for (const uuids of await Promise.all(batches.slice(i, i + 3).map((batch) => uploadMany(batch)))) for (const [name, uuid] of uuids) byName.set(name, uuid);
    }
    await new Promise((resolve) => setTimeout(resolve, 5));
    for (const [name, uuid] of await uploadMany([{ bytes: colours[1]!, filename: 'zzz-last-upload.png', type: 'image/png' }])) byName.set(name, uuid);
    expect(byName.size).toBe(SEED_TOTAL);
    expect((await restOk<RestFileList>('/files/?limit=1')).total).toBe(SEED_TOTAL);
    const pdfUuids = new Set([...pdfNames].map((name) => byName.get(name)!));
    expect(pdfUuids.size).toBe(SEED_PDFS);
    const seedMs = performance.now() - seedStarted;

    const tab = await openTab();
    const { page } = tab;
    await page.goto(`${trove.url}/dashboard`);
    await signInWithKeys(tab, trove.publicKey, trove.secretKey);
    const firstPageStarted = performance.now();
    await page.goto(`${trove.url}/dashboard/files`);
    await page.getByTestId('file-card').first().waitFor();
    const firstPageMs = performance.now() - firstPageStarted;
    expect(await page.getByTestId('file-total').textContent()).toBe(`${count(SEED_TOTAL)} files`);
    // Newest first: the last upload leads.
    expect((await cardUuids(page))[0]).toBe(byName.get('zzz-last-upload.png'));
    await shot(page, 'scale-library-first-page', 'viewport');

    // Scroll to the bottom until every page is loaded, watching how many cards the DOM ever holds.
    await page.evaluate(() => dashKit.watchDom('[data-testid="file-card"]'));
    const scrollStarted = performance.now();
    let loaded = await page.evaluate(() => dashKit.loadedCount());
    let scrolls = 0;
    while (loaded < SEED_TOTAL) {
      scrolls += 1;
      expect(scrolls, `stuck at ${loaded} files`).toBeLessThan(100);
      await page.evaluate(() => dashKit.scrollToBottom());
      const before = loaded;
      await page.waitForFunction((previous) => dashKit.loadedCount() > previous, before, { timeout: 10_000 });
      loaded = await page.evaluate(() => dashKit.loadedCount());
    }
    await page.getByText(`All ${count(SEED_TOTAL)} files shown.`).waitFor();
    const scrollMs = performance.now() - scrollStarted;
    await page.evaluate(() => dashKit.scrollToBottom());
    // The oldest file is the last card, rendered at the bottom.
    await expect.poll(async () => (await cardUuids(page)).at(-1)).toBe(byName.get('aaa-first-upload.png'));
    const maxCards = await page.evaluate(() => dashKit.domMax());
    // Where the user stopped, every image shows its thumbnail, even those first refused for the rate of new transformations.
    await page.waitForFunction(
      () => {
        const thumbs = dashKit.thumbnails();
        return thumbs.images > 0 && thumbs.loaded === thumbs.images;
      },
      undefined,
      { timeout: 20_000 },
    ).catch(async (error: unknown) => {
      throw new Error(`thumbnails at the end of the list: ${JSON.stringify(await page.evaluate(() => dashKit.thumbnails()))}: ${String(error)}`);
    });
    const refused = tab.failures.filter((failure) => THUMBNAIL_REFUSED.test(failure)).length;
    // The grid renders the rows near the viewport (with 800 px to spare each way): a few dozen cards, never the whole list.
    expect(maxCards).toBeGreaterThan(0);
    expect(maxCards).toBeLessThanOrEqual(100);
    expect(await page.getByTestId('file-total').textContent()).toBe(`${count(SEED_TOTAL)} files`);
    await shot(page, 'scale-library-scrolled-to-the-end', 'viewport');

    // Oldest first puts the first upload on top, newest first the last.
    await page.evaluate(() => dashKit.scrollToTop());
    await page.getByTestId('sort').selectOption('oldest');
    await page.waitForURL(/[?&]sort=oldest/);
    await expect.poll(async () => (await cardUuids(page))[0]).toBe(byName.get('aaa-first-upload.png'));
    await shot(page, 'scale-library-oldest-first', 'viewport');
    await page.getByTestId('sort').selectOption('newest');
    await expect.poll(async () => (await cardUuids(page))[0]).toBe(byName.get('zzz-last-upload.png'));

    // The list view: rows instead of cards, as light.
    await page.getByTestId('view-list').click();
    await page.waitForURL(/[?&]view=list/);
    await page.getByTestId('file-row').first().waitFor();
    expect(await page.getByTestId('file-card').count()).toBe(0);
    expect((await cardUuids(page, 'file-row'))[0]).toBe(byName.get('zzz-last-upload.png'));
    const rows = await page.getByTestId('file-row').count();
    expect(rows).toBeGreaterThan(5);
    expect(rows).toBeLessThanOrEqual(100);
    await shot(page, 'scale-library-list-view', 'viewport');

    // PDF only: every file shown is one of the seeded PDFs, and the count says how many match.
    await page.getByTestId('filter-type').selectOption('application/pdf');
    await expect.poll(() => page.getByTestId('file-total').textContent()).toBe(`${SEED_PDFS} matching files`);
    const listed = await cardUuids(page, 'file-row');
    expect(listed.length).toBeGreaterThan(5);
    expect(listed.filter((uuid) => !pdfUuids.has(uuid))).toEqual([]);
    expect(new Set(await page.locator('[data-testid="file-row"] td.col-type').allTextContents())).toEqual(new Set(['application/pdf']));
    await shot(page, 'scale-library-pdf-only', 'viewport');
    await page.getByTestId('view-grid').click();
    await page.getByTestId('file-card').first().waitFor();
    expect(new Set(await page.locator('[data-testid="file-card"] .thumb-ext').allTextContents())).toEqual(new Set(['PDF']));
    await shot(page, 'scale-library-pdf-only-grid', 'viewport');

    console.log(
      `[dashboard at scale] seeded ${count(SEED_TOTAL)} files in ${Math.round(seedMs)} ms; first page rendered in ${Math.round(firstPageMs)} ms; ` +
        `scrolled through all of them in ${Math.round(scrollMs)} ms (${scrolls} scrolls); at most ${maxCards} cards in the DOM at once; ` +
        `${refused} thumbnail requests refused on the way for the rate of new transformations`,
    );
    expectClean(tab, [SESSION_PROBE, THUMBNAIL_REFUSED]);
    await closeTab(tab);
  }, 90_000);

  // -- 3. Webhooks --------------------------------------------------------------------------------

  it('creates a webhook, shows a failed delivery, replays it to success, edits and deletes it', async () => {
    const tab = await openTab();
    const { page } = tab;
    await signInWithKeys(tab, trove.publicKey, trove.secretKey);
    await page.getByTestId('nav-webhooks').click();
    await page.getByTestId('webhooks-empty').waitFor();
    await shot(page, 'webhooks-empty');

    await page.getByTestId('webhook-new').click();
    await page.getByTestId('webhook-url').fill(`${receiverUrl}/hooks/trove`);
    await page.getByTestId('webhook-event').selectOption('file.uploaded');
    await shot(page, 'webhook-new-dialog');
    await page.getByTestId('webhook-save').click();
    await toast(page, 'Webhook created.').waitFor();
    const row = page.getByTestId('webhook-row');
    await expect.poll(() => row.count()).toBe(1);
    expect(await row.locator('.webhook-url').textContent()).toBe(`${receiverUrl}/hooks/trove`);
    expect(await row.getByTestId('webhook-state').textContent()).toBe('Active');
    const [hook] = await restOk<Array<{ id: number; target_url: string; event: string; is_active: boolean }>>('/webhooks/');
    expect(hook).toMatchObject({ target_url: `${receiverUrl}/hooks/trove`, event: 'file.uploaded', is_active: true });

    // The receiver is down: the first attempt fails.
    receiverStatus = 500;
    const receivedBefore = received.length;
    const uploaded = await uploadMany([{ bytes: await makePng(20, 20), filename: 'hooked.png', type: 'image/png' }]);
    const deliveries = () => restOk<{ results: RestDelivery[] }>(`/webhooks/${hook!.id}/deliveries/`).then((body) => body.results);
    await expect.poll(async () => (await deliveries())[0]?.last_status_code ?? null, { timeout: 15_000 }).toBe(500);
    expect(JSON.parse(received.at(-1)!.body) as { data: { uuid: string } }).toMatchObject({ data: { uuid: uploaded.get('hooked.png') } });
    expect(received.length - receivedBefore).toBe(1);

    await row.getByTestId('webhook-deliveries').click();
    const log = page.getByTestId('delivery-log');
    const delivery = log.getByTestId('delivery-row');
    await expect.poll(() => delivery.count()).toBe(1);
    expect(await delivery.getByTestId('delivery-status').textContent()).not.toBe('delivered');
    expect(await delivery.textContent()).toContain('HTTP 500');
    await delivery.getByTestId('delivery-attempts-toggle').click();
    expect(await log.getByTestId('delivery-attempt').allTextContents()).toEqual([expect.stringMatching(/^#1HTTP 500/)]);
    await shot(page, 'webhook-delivery-failed');

    // The receiver is back: a replay delivers.
    receiverStatus = 200;
    await delivery.getByTestId('delivery-replay').click();
    await toast(page, 'Delivery queued again.').waitFor();
    await expect.poll(async () => (await deliveries())[0]?.status, { timeout: 15_000 }).toBe('delivered');
    await log.getByTestId('deliveries-refresh').click();
    await expect.poll(() => delivery.getByTestId('delivery-status').textContent()).toBe('delivered');
    expect(await delivery.textContent()).toContain('HTTP 200');
    expect(received.length - receivedBefore).toBe(2);
    // The attempts stay open across the refresh.
    await expect.poll(() => log.getByTestId('delivery-attempt').count()).toBe(2);
    expect((await log.getByTestId('delivery-attempt').allTextContents())[1]).toMatch(/^#2HTTP 200/);
    await shot(page, 'webhook-delivery-replayed');

    // Edit: another event, paused.
    await row.getByTestId('webhook-edit').click();
    await page.getByTestId('webhook-event').selectOption('file.stored');
    await page.getByTestId('webhook-active').uncheck();
    await shot(page, 'webhook-edit-dialog');
    await page.getByTestId('webhook-save').click();
    await toast(page, 'Webhook saved.').waitFor();
    await expect.poll(() => row.getByTestId('webhook-state').textContent()).toBe('Paused');
    expect(await row.locator('.badge-event').textContent()).toBe('file.stored');
    expect((await restOk<Array<{ event: string; is_active: boolean }>>('/webhooks/'))[0]).toMatchObject({ event: 'file.stored', is_active: false });
    await row.getByTestId('webhook-toggle').click();
    await toast(page, 'Webhook activated.').waitFor();
    await expect.poll(() => row.getByTestId('webhook-state').textContent()).toBe('Active');
    await shot(page, 'webhook-edited');

    // Delete, after a change of mind.
    await row.getByTestId('webhook-delete').click();
    const dialog = page.getByTestId('confirm-dialog');
    await dialog.getByText('Delete this webhook?').waitFor();
    await shot(page, 'webhook-delete-confirmation');
    await dialog.getByTestId('cancel').click();
    expect(await row.count()).toBe(1);
    await row.getByTestId('webhook-delete').click();
    await dialog.getByTestId('confirm').click();
    await toast(page, 'Webhook deleted.').waitFor();
    await page.getByTestId('webhooks-empty').waitFor();
    expect(await restOk<unknown[]>('/webhooks/')).toEqual([]);
    await shot(page, 'webhook-deleted');
    expectClean(tab);
    await closeTab(tab);
  }, 60_000);

  // -- 4. Settings and keys -----------------------------------------------------------------------

  it('renames the project, creates a secret key shown once, revokes it; revoking the key of the session signs it out', async () => {
    const tab = await openTab();
    const { page } = tab;
    await signInWithKeys(tab, trove.publicKey, trove.secretKey);
    await page.getByTestId('nav-settings').click();
    await expect.poll(() => page.getByTestId('secret-row').count()).toBe(1);
    // The region holding the project's files: the default one on a server without TROVE_REGIONS.
    expect((await page.getByTestId('settings-region').textContent())?.trim()).toBe('default');
    expect((await restOk<{ region: string }>('/project/')).region).toBe('default');
    await shot(page, 'settings');

    await page.getByTestId('settings-name').fill('Holiday photos');
    await page.getByTestId('settings-save').click();
    await toast(page, 'Settings saved.').waitFor();
    await expect.poll(() => page.getByTestId('project-name').textContent()).toBe('Holiday photos');
    expect((await restOk<{ name: string }>('/project/')).name).toBe('Holiday photos');

    await page.getByTestId('secret-create').click();
    const secret = (await page.getByTestId('new-secret').textContent())?.trim() ?? '';
    expect(secret).toMatch(/^[A-Za-z0-9_-]{20,}$/);
    await shot(page, 'new-secret-shown-once', 'viewport');
    await page.getByTestId('new-secret-done').click();
    await page.getByTestId('new-secret').waitFor({ state: 'detached' });
    await expect.poll(() => page.getByTestId('secret-row').count()).toBe(2);
    // Never shown again: the page holds its last characters only.
    expect(await page.content()).not.toContain(secret);
    expect((await rest<RestFileList>('/files/', { secretKey: secret })).status).toBe(200);

    const newRow = page.getByTestId('secret-row').filter({ has: page.getByTestId('secret-hint').filter({ hasText: secret.slice(-4) }) });
    await newRow.getByTestId('secret-revoke').click();
    const dialog = page.getByTestId('confirm-dialog');
    await dialog.getByText('Revoke this secret key?').waitFor();
    await shot(page, 'secret-revoke-confirmation', 'viewport');
    await dialog.getByTestId('cancel').click();
    expect(await page.getByTestId('secret-row').count()).toBe(2);
    expect((await rest<RestFileList>('/files/', { secretKey: secret })).status).toBe(200);
    await newRow.getByTestId('secret-revoke').click();
    await dialog.getByTestId('confirm').click();
    await toast(page, 'Key revoked.').waitFor();
    await expect.poll(() => page.getByTestId('secret-row').count()).toBe(1);
    expect((await rest<RestFileList>('/files/', { secretKey: secret })).status).toBe(401);
    // This session's own key still stands.
    expect(await page.getByTestId('nav-library').isVisible()).toBe(true);
    await shot(page, 'secret-revoked');

    // A second browser signs in with a key of its own, then revokes it.
    const own = await restOk<{ id: string; secret: string }>('/project/secrets/', { method: 'POST' });
    const second = await openTab();
    await signInWithKeys(second, trove.publicKey, own.secret);
    await second.page.getByTestId('nav-settings').click();
    const ownRow = second.page.getByTestId('secret-row').filter({ has: second.page.getByTestId('secret-hint').filter({ hasText: own.secret.slice(-4) }) });
    await ownRow.getByTestId('secret-revoke').click();
    await second.page.getByTestId('confirm-dialog').getByTestId('confirm').click();
    await second.page.getByTestId('signin-submit').waitFor();
    expect(await second.page.getByTestId('signin-notice').textContent()).toMatch(/session has ended/i);
    await shot(second.page, 'signed-out-after-revoking-own-key');
    await second.page.reload();
    await second.page.getByTestId('signin-submit').waitFor();
    expectClean(second, [SESSION_PROBE]);
    await closeTab(second);

    // The first browser is still signed in.
    await page.reload();
    await page.getByTestId('nav-library').waitFor();
    await clearToasts(page);
    await page.getByTestId('settings-name').fill('Default project');
    await page.getByTestId('settings-save').click();
    await toast(page, 'Settings saved.').waitFor();
    expectClean(tab);
    await closeTab(tab);
  }, 60_000);

  it('adds a storage for remote copies once the server could write to it, explains a refused one, and removes it', async () => {
    const tab = await openTab();
    const { page } = tab;
    await signInWithKeys(tab, trove.publicKey, trove.secretKey);
    await page.getByTestId('nav-settings').click();
    await page.getByTestId('storages-empty').waitFor();

    await page.getByTestId('storage-add').click();
    await page.getByTestId('storage-name').fill('backups');
    await page.getByTestId('storage-bucket').fill(bucket.bucket);
    await page.getByTestId('storage-prefix').fill('dashboard/copies');
    await page.getByTestId('storage-endpoint').fill(bucket.endpoint);
    await page.getByTestId('storage-path-style').check();
    await page.getByTestId('storage-access-key').fill('NOT-THE-KEY');
    await page.getByTestId('storage-secret').fill(bucket.secretAccessKey);
    expect(await page.getByTestId('storage-secret').getAttribute('type')).toBe('password');
    await page.getByTestId('storage-save').click();
    await expect.poll(() => page.getByTestId('storage-error').textContent()).toMatch(/^Could not write to bucket "trove-test" at http:\/\/127\.0\.0\.1:\d+: the storage rejected the credentials/);
    await shot(page, 'storage-refused', 'viewport');
    expect((await restOk<{ results: unknown[] }>('/project/storages/')).results).toEqual([]);

    await page.getByTestId('storage-access-key').fill(bucket.accessKeyId);
    await page.getByTestId('storage-save').click();
    await toast(page, 'Storage “backups” added.').waitFor();
    await page.getByTestId('storage-name').waitFor({ state: 'detached' });
    await expect.poll(() => page.getByTestId('storage-row').count()).toBe(1);
    expect(await page.getByTestId('storage-location').textContent()).toBe(`s3://${bucket.bucket}/dashboard/copies/`);
    expect(await page.getByTestId('storage-service').textContent()).toBe(`${bucket.endpoint} · us-east-1`);
    await shot(page, 'storage-added');

    // The storage serves the REST API's remote copies at once.
    const [uuid] = [...(await uploadMany([{ bytes: await makePng(30, 20), filename: 'copy-me.png', type: 'image/png' }])).values()];
    const copied = await rest<{ type: string; result: string }>('/files/remote_copy/', { method: 'POST', body: { source: uuid, target: 'backups' } });
    expect(copied).toEqual({ status: 201, body: { type: 'url', result: `s3://${bucket.bucket}/dashboard/copies/${uuid}/copyme.png` } });

    await page.getByTestId('storage-remove').click();
    const confirmDialog = page.getByTestId('confirm-dialog');
    await confirmDialog.getByText('Remove storage “backups”?').waitFor();
    await confirmDialog.getByTestId('confirm').click();
    await toast(page, 'Storage removed.').waitFor();
    await page.getByTestId('storages-empty').waitFor();
    expect((await restOk<{ results: unknown[] }>('/project/storages/')).results).toEqual([]);
    expectClean(tab, [SESSION_PROBE, /^400 POST \/project\/storages\/$/]);
    await closeTab(tab);
  }, 60_000);

  // -- 5. Admin -----------------------------------------------------------------------------------

  it('signs in as admin and switches project; the library shows that project’s files only', async () => {
    const created = await trove.ctx.services.projects.create({ name: 'Second project' });
    const secondKey = created.project.publicKey;
    const secondFiles = await uploadMany(
      [
        { bytes: await makePng(64, 64), filename: 'second-logo.png', type: 'image/png' },
        { bytes: makePdf(), filename: 'second-contract.pdf', type: 'application/pdf' },
      ],
      secondKey,
    );

    const defaultTotal = count((await restOk<RestFileList>('/files/?limit=1')).total);
    const tab = await openTab();
    const { page } = tab;
    await page.goto(`${trove.url}/dashboard`);
    await page.getByTestId('signin-tab-admin').click();
    await page.getByTestId('signin-password').fill(ADMIN_PASSWORD);
    await shot(page, 'admin-sign-in');
    await page.getByTestId('signin-submit').click();
    const switcher = page.getByTestId('project-switcher');
    await switcher.waitFor();
    expect(await switcher.locator('option').allTextContents()).toEqual(['Default project', 'Second project']);
    expect(await switcher.inputValue()).toBe(trove.publicKey);
    await page.getByText('Admin', { exact: true }).waitFor();
    await expect.poll(() => page.getByTestId('file-total').textContent()).toBe(`${defaultTotal} files`);
    await shot(page, 'admin-default-project', 'viewport');

    await switcher.selectOption(secondKey);
    await toast(page, 'Switched project.').waitFor();
    await expect.poll(() => page.getByTestId('project-name').textContent()).toBe('Second project');
    await expect.poll(async () => (await cardUuids(page)).sort()).toEqual([...secondFiles.values()].sort());
    expect(await page.getByTestId('file-total').textContent()).toBe('2 files');
    await shot(page, 'admin-second-project');

    // Back: the default project's files again.
    await switcher.selectOption(trove.publicKey);
    await expect.poll(() => page.getByTestId('file-total').textContent()).toBe(`${defaultTotal} files`);
    expect((await cardUuids(page)).some((uuid) => [...secondFiles.values()].includes(uuid))).toBe(false);
    expectClean(tab);
    await closeTab(tab);
  }, 60_000);

  // -- 6. Usage -----------------------------------------------------------------------------------

  it('shows usage counts and three charts with their summaries after some deliveries', async () => {
    const { results } = await restOk<RestFileList>('/files/?limit=2&mime_type=image/png');
    const [a, b] = results;
    for (const path of [`/${a!.uuid}/`, `/${a!.uuid}/`, `/${a!.uuid}/-/resize/20x/`, `/${a!.uuid}/-/resize/20x/`, `/${b!.uuid}/-/preview/30x30/`, `/${b!.uuid}/-/preview/30x30/`]) {
      const response = await fetch(`${trove.url}${path}`);
      expect(response.status, path).toBe(200);
      await response.arrayBuffer();
    }

    // Requests of the tabs closed before (thumbnails) may still be counted: wait until the counts stand still.
    const deliveriesNow = async () => (await restOk<RestUsage>('/project/usage/?days=30')).days.reduce((total, day) => total + day.deliveries, 0);
    let previous = -1;
    await expect.poll(async () => {
      const now = await deliveriesNow();
      const still = now === previous;
      previous = now;
      return still;
    }, { interval: 300 }).toBe(true);

    const tab = await openTab();
    const { page } = tab;
    await signInWithKeys(tab, trove.publicKey, trove.secretKey);
    await page.getByTestId('nav-usage').click();
    await page.getByTestId('chart-cache-summary').waitFor();
    const usage = await restOk<RestUsage>('/project/usage/?days=30');
    const sum = (key: 'uploads' | 'deliveries') => usage.days.reduce((total, day) => total + day[key], 0);
    expect(usage.days).toHaveLength(30);
    expect(sum('uploads')).toBeGreaterThanOrEqual(SEED_TOTAL);
    expect(sum('deliveries')).toBeGreaterThanOrEqual(6);
    expect(usage.cache_hit_ratio).not.toBeNull();

    expect(await page.getByTestId('usage-stored-value').textContent()).toBe(count(usage.files.stored));
    expect(await page.getByTestId('usage-removed-value').textContent()).toBe(count(usage.files.removed));
    expect(usage.files.removed).toBeGreaterThanOrEqual(3);
    expect(await page.getByTestId('chart-uploads-summary').textContent()).toMatch(new RegExp(`^${count(sum('uploads'))} uploads \\(.+\\) in the last 30 days; the busiest day was .+ with [\\d,]+\\.$`));
    expect(await page.getByTestId('chart-deliveries-summary').textContent()).toMatch(new RegExp(`^${count(sum('deliveries'))} files and transformations served in the last 30 days`));
    expect(await page.getByTestId('chart-cache-summary').textContent()).toBe(`${(usage.cache_hit_ratio! * 100).toFixed(1)}% of transformed images came from a cache over the last 30 days.`);
    // Each chart is drawn: a bar per day with uploads or deliveries, a point per day with transformed images (today, unless the run spans midnight UTC).
    const daysWith = (key: 'uploads' | 'deliveries' | 'cache') => usage.days.filter((day) => (key === 'cache' ? day.cache_hits + day.cache_misses : day[key]) > 0).length;
    expect(await page.getByTestId('chart-uploads').locator('rect.chart-bar').count()).toBe(daysWith('uploads'));
    expect(await page.getByTestId('chart-deliveries').locator('rect.chart-bar').count()).toBe(daysWith('deliveries'));
    expect(await page.getByTestId('chart-cache').locator('circle.chart-dot').count()).toBe(daysWith('cache'));
    for (const chart of ['chart-uploads', 'chart-deliveries', 'chart-cache']) {
      const box = await page.getByTestId(chart).locator('svg').boundingBox();
      expect(box?.width, chart).toBeGreaterThan(250);
      expect(box?.height, chart).toBeGreaterThan(100);
    }
    await shot(page, 'usage-30-days');

    await page.getByTestId('usage-days').selectOption('7');
    await expect.poll(() => page.getByTestId('chart-uploads-summary').textContent()).toContain('in the last 7 days');
    await shot(page, 'usage-7-days');
    expectClean(tab);
    await closeTab(tab);
  }, 60_000);

  // -- 7. Sign out --------------------------------------------------------------------------------

  it('signing out ends the session: a reload shows sign-in, and the old cookie gets 401', async () => {
    const tab = await openTab();
    const { page, context } = tab;
    await signInWithKeys(tab, trove.publicKey, trove.secretKey);
    const [cookie] = await context.cookies(trove.url);
    expect(cookie).toMatchObject({ name: 'trove_session', httpOnly: true, sameSite: 'Strict' });
    const withCookie = () =>
      fetch(`${trove.url}/files/?limit=1`, { headers: { accept: REST_ACCEPT, cookie: `${cookie!.name}=${cookie!.value}`, 'x-csrf-token': tab.csrf ?? '' } });
    expect((await withCookie()).status).toBe(200);

    await page.getByTestId('sign-out').click();
    await page.getByTestId('signin-submit').waitFor();
    await toast(page, 'Signed out.').waitFor();
    await shot(page, 'signed-out');
    await page.reload();
    await page.getByTestId('signin-submit').waitFor();
    expect(await page.getByTestId('nav-library').count()).toBe(0);
    await shot(page, 'signed-out-after-reload');
    expect((await withCookie()).status).toBe(401);
    expect(await context.cookies(trove.url)).toEqual([]);
    expectClean(tab);
    await closeTab(tab);
  });

  // -- 8. Security --------------------------------------------------------------------------------

  it('another origin cannot read the REST API with the user’s cookie, and the dashboard sends a CSP', async () => {
    const tab = await openTab();
    const { page, context } = tab;
    const response = await page.goto(`${trove.url}/dashboard`);
    const headers = response!.headers();
    expect(headers['content-security-policy']).toContain("script-src 'self'");
    expect(headers['content-security-policy']).toContain("frame-ancestors 'none'");
    expect(headers['content-security-policy']).toContain("default-src 'self'");
    expect(headers['x-frame-options']).toBe('DENY');
    await signInWithKeys(tab, trove.publicKey, trove.secretKey);

    // The policy is enforced: an injected inline script does not run.
    expect(await page.evaluate(() => dashKit.injectInlineScript())).toBe(false);
    const violations = tab.errors.filter((error) => /inline script violates the following Content Security Policy directive 'script-src 'self''/.test(error));
    expect(violations).toHaveLength(1);
    tab.errors.splice(tab.errors.indexOf(violations[0]!), 1);

    // What reaches Trove from the other pages, seen by the server itself.
    const arrived: Array<{ origin: string; method: string; cookie: boolean; csrf: boolean; status: number }> = [];
    const spy = (request: IncomingMessage, response: ServerResponse) => {
      // The dashboard's own calls carry no Origin of another port; the other pages' always do.
      if (!request.url?.startsWith('/files/') || !request.headers.origin?.endsWith(`:${otherPort}`)) return;
      response.on('finish', () =>
        arrived.push({
          origin: request.headers.origin ?? '',
          method: request.method ?? '',
          cookie: /trove_session=/.test(request.headers.cookie ?? ''),
          csrf: 'x-csrf-token' in request.headers,
          status: response.statusCode,
        }),
      );
    };
    trove.app.server.on('request', spy);
    try {
      for (const origin of [`http://127.0.0.1:${otherPort}`, `http://localhost:${otherPort}`]) {
        arrived.length = 0;
        const evil = await context.newPage();
        await evil.goto(`${origin}/`);
        const attempts = await evil.evaluate(async (target) => {
          const tryFetch = async (init: RequestInit) => {
            try {
              const answer = await fetch(`${target}/files/`, init);
              return `read ${answer.status}: ${(await answer.text()).slice(0, 80)}`;
            } catch (error) {
              return `blocked: ${String(error)}`;
            }
          };
          return [
            await tryFetch({ credentials: 'include', headers: { Accept: 'application/vnd.uploadcare-v0.7+json' } }),
            // With a guessed CSRF header the request needs a preflight, which the server does not grant.
            await tryFetch({ credentials: 'include', headers: { Accept: 'application/vnd.uploadcare-v0.7+json', 'X-CSRF-Token': 'guess' } }),
          ];
        }, trove.url);
        expect(attempts, origin).toEqual([expect.stringMatching(/^blocked: TypeError/), expect.stringMatching(/^blocked: TypeError/)]);
        await expect.poll(() => arrived.length).toBe(2);
        const [simple, preflight] = arrived;
        expect(simple?.origin).toBe(origin);
        // The guessed token never travels: only the preflight (OPTIONS) arrived for it.
        expect(preflight).toMatchObject({ method: 'OPTIONS', csrf: false });
        if (origin.includes('localhost')) {
          // Another site: SameSite=Strict keeps the cookie at home.
          expect(simple).toMatchObject({ method: 'GET', cookie: false, status: 401 });
        } else {
          // Same site, other origin: the cookie goes along, but without the CSRF token the server refuses.
          expect(simple).toMatchObject({ method: 'GET', cookie: true, csrf: false });
          expect([401, 403]).toContain(simple!.status);
        }
        await shot(evil, `other-origin-${origin.includes('localhost') ? 'site' : 'port'}`);
        await evil.close();
      }
    } finally {
      trove.app.server.off('request', spy);
    }
    // The dashboard itself still works with its cookie.
    await page.getByTestId('nav-library').click();
    await page.getByTestId('file-total').waitFor();
    expectClean(tab);
    await closeTab(tab);
  });

  it('plays a video on its page with its probed facts, converts it and follows the conversion to its result', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'trove-dashboard-video-'));
    try {
      const clip = await ffmpegClip(dir, 'clip.mp4', [
        '-f', 'lavfi', '-i', 'testsrc=size=160x120:rate=10', '-f', 'lavfi', '-i', 'sine', '-t', '1',
        '-pix_fmt', 'yuv420p', '-c:v', 'libx264', '-c:a', 'aac',
      ]);
      const uuid = (await uploadMany([{ bytes: clip, filename: 'test-pattern.mp4', type: 'video/mp4' }])).get('test-pattern.mp4')!;
      const file = await restOk<RestVideoFile>(`/files/${uuid}/`);
      const facts = file.content_info.video;
      expect(facts).toMatchObject({ format: 'mp4', video: [{ codec: 'h264', width: 160, height: 120, frame_rate: 10 }], audio: [{ codec: 'aac', sample_rate: 44100, channels: 1 }] });

      const tab = await openTab();
      const { page } = tab;
      await page.goto(`${trove.url}/dashboard/files/${uuid}`);
      await signInWithKeys(tab, trove.publicKey, trove.secretKey);
      await page.getByTestId('file-title').waitFor();
      expect(await page.getByTestId('file-title').textContent()).toBe('test-pattern.mp4');

      // The player loads the file from its delivery URL; the browser reads the same length the probe did.
      const player = '[data-testid="file-preview-video"]';
      expect(await page.evaluate((selector) => dashKit.media(selector), player)).toMatchObject({ src: file.original_file_url, controls: true, preload: 'metadata' });
      expect(file.original_file_url.startsWith(`${trove.url}/${uuid}/`)).toBe(true);
      await page.waitForFunction((selector) => (dashKit.media(selector)?.readyState ?? 0) >= 1, player);
      const playerDuration = (await page.evaluate((selector) => dashKit.media(selector), player))!.duration;
      expect(Math.abs(playerDuration * 1000 - facts.duration)).toBeLessThan(100);

      const fact = (name: string) => page.getByTestId(`fact-${name}`).locator('dd').allTextContents();
      expect(await fact('duration')).toEqual([`0:${(facts.duration / 1000).toFixed(1).padStart(4, '0')}`]);
      expect((await fact('duration'))[0]).toMatch(/^0:01\.\d$/);
      expect(await fact('container')).toEqual(['mp4']);
      expect(await fact('bitrate')).toEqual([expect.stringMatching(/^[\d,]+ kbit\/s$/)]);
      expect(await fact('video-stream')).toEqual([expect.stringMatching(/^h264 · 160 × 120 · 10 fps( · [\d,]+ kbit\/s)?$/)]);
      expect(await fact('audio-stream')).toEqual([expect.stringMatching(/^aac · 44\.1 kHz · mono( · [\d,]+ kbit\/s)?$/)]);
      expect(await page.getByTestId('fact-video-stream').locator('dt').textContent()).toBe('Video stream');
      // A video has no image playground; it has the conversion form instead, with nothing started yet.
      expect(await page.getByTestId('playground').count()).toBe(0);
      await page.getByTestId('convert-none').waitFor();

      // The form writes Uploadcare's path and refuses what the API would.
      await page.getByLabel('Thumbnails (optional)').fill('99');
      await expect.poll(() => page.locator('#convert-thumbs-issue').textContent()).toBe('Thumbnails are from 1 to 50.');
      expect(await page.getByTestId('convert-submit').isDisabled()).toBe(true);
      await page.getByLabel('Thumbnails (optional)').fill('2');
      // A size the server will not make: its reason is shown, and nothing is listed as started.
      await page.getByLabel('Width (px)').fill('99999');
      await page.getByTestId('convert-submit').click();
      await expect.poll(() => page.getByTestId('convert-error').textContent()).toMatch(/`size` sides are from 2 to \d+ pixels\./);
      expect(await page.getByTestId('convert-error').getAttribute('role')).toBe('alert');
      expect(await page.getByTestId('conversion').count()).toBe(0);
      await page.getByLabel('Width (px)').fill('80');
      expect(await page.getByTestId('convert-error').count()).toBe(0);
      // The fit applies once both sides are given.
      expect(await page.getByLabel('Fit').isDisabled()).toBe(true);
      await page.getByLabel('Height (px)').fill('60');
      await page.getByLabel('Fit').selectOption('scale_crop');
      expect(await page.getByTestId('convert-path').textContent()).toBe(`${uuid}/video/-/format/mp4/-/size/80x60/scale_crop/-/quality/normal/-/thumbs~2/`);
      await page.getByLabel('Height (px)').fill('');
      expect(await page.getByLabel('Fit').isDisabled()).toBe(true);
      await page.getByLabel('Format').selectOption('mp4');
      await page.getByLabel('Quality').selectOption('lighter');
      const path = `${uuid}/video/-/format/mp4/-/size/80x/-/quality/lighter/-/thumbs~2/`;
      expect(await page.getByTestId('convert-path').textContent()).toBe(path);
      await shot(page, 'video-file-page');

      const [request] = await Promise.all([
        page.waitForRequest((r) => r.method() === 'POST' && new URL(r.url()).pathname === '/convert/video/'),
        page.getByTestId('convert-submit').click(),
      ]);
      expect(JSON.parse(request.postData() ?? '{}')).toEqual({ paths: [path] });
      const row = page.getByTestId('conversion');
      await row.waitFor();
      const token = await row.getAttribute('data-token');
      expect(token).toMatch(/^\d+$/);
      // Polled until it is over: a one-second clip converts in a few seconds.
      await expect.poll(() => row.getAttribute('data-status'), { timeout: 60_000 }).toBe('finished');
      expect(await row.getByTestId('conversion-status').textContent()).toBe('Finished');
      const status = await restOk<RestConversionStatus>(`/convert/video/status/${token}/`);
      expect(status).toMatchObject({ status: 'finished', error: null });
      const resultLink = row.getByTestId('conversion-result');
      expect(await resultLink.getAttribute('href')).toBe(`/dashboard/files/${status.result!.uuid}`);
      expect(await row.getByTestId('conversion-thumbnails').getAttribute('href')).toBe(`${trove.url}/${status.result!.thumbnails_group_uuid}/`);
      await shot(page, 'video-conversion-finished');

      // The list is the server's: it outlives a reload of the tab.
      await page.reload();
      await expect.poll(() => page.getByTestId('conversion').getAttribute('data-status')).toBe('finished');

      // The result is a video of its own: 80 pixels wide, with its own player and facts.
      await page.getByTestId('conversion-result').click();
      await page.waitForURL(`${trove.url}/dashboard/files/${status.result!.uuid}`);
      await expect.poll(() => fact('video-stream')).toEqual([expect.stringMatching(/^h264 · 80 × 60 · /)]);
      expect(await page.getByTestId('file-preview-video').getAttribute('src')).toMatch(new RegExp(`^${trove.url}/${status.result!.uuid}/`));
      expect(await page.getByTestId('convert-none').count()).toBe(1);

      expectClean(tab);
      await closeTab(tab);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('lists a video\'s conversions started elsewhere, follows one while it runs, and cancels it', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'trove-dashboard-cancel-'));
    try {
      // Long enough to be still running when Cancel is clicked: 12 s of 640×480 into VP9 at `best`.
      const clip = await testClip(dir, 'long.mp4', { seconds: 12, size: '640x480' });
      const uuid = (await uploadMany([{ bytes: clip, filename: 'long.mp4', type: 'video/mp4' }])).get('long.mp4')!;
      const started = await restOk<{ result: { token: number }[] }>('/convert/video/', { method: 'POST', body: { paths: [`${uuid}/video/-/format/webm/-/quality/best/`] } });
      const token = String(started.result[0]!.token);

      const tab = await openTab();
      const { page } = tab;
      await page.goto(`${trove.url}/dashboard/files/${uuid}`);
      await signInWithKeys(tab, trove.publicKey, trove.secretKey);
      // Started by the REST API, not from this tab: listed all the same, with the path written out.
      const row = page.locator(`[data-testid="conversion"][data-token="${token}"]`);
      await row.waitFor();
      expect(await page.getByTestId('conversion').count()).toBe(1);
      expect(await row.locator('code').textContent()).toBe('-/format/webm/-/quality/best/-/thumbs~1/');
      await expect.poll(() => row.getAttribute('data-status'), { timeout: 30_000 }).toBe('processing');
      // Polled while it runs: the badge shows the progress.
      await expect.poll(() => row.getByTestId('conversion-status').textContent()).toMatch(/^Processing · \d+%$/);

      await row.getByTestId('conversion-cancel').click();
      await expect.poll(() => row.getAttribute('data-status')).toBe('cancelled');
      expect(await row.getByTestId('conversion-status').textContent()).toBe('Cancelled');
      expect(await row.getByTestId('conversion-error').textContent()).toBe('Cancelled at the request of the project.');
      expect(await row.getByTestId('conversion-cancel').count()).toBe(0);
      expect(await restOk<RestConversionStatus>(`/convert/video/status/${token}/`)).toMatchObject({ status: 'cancelled' });

      expectClean(tab);
      await closeTab(tab);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }, 90_000);
});
