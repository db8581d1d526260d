import { fileURLToPath } from 'node:url';
import type { Browser, BrowserContext, Page, Request, Route } from 'playwright-core';
import sharp from 'sharp';
import { thumbHashToAverageRGBA } from 'thumbhash';
import { afterAll, beforeAll, beforeEach, expect, it } from 'vitest';
import { describeWhenBrowser, launchBrowser, StepShots, watchPageErrors } from '../helpers/browser.js';
import { makePdf, makePhoto } from '../helpers/images.js';
import { startTrove, type TestTrove } from '../helpers/trove-server.js';
import { sleep, uploadFile } from '../helpers/upload-http.js';

/** `appdata.trove_image_analysis.data`, as far as these tests read it. */
interface AnalysisData {
  thumbhash: string;
  dominant_color: string;
}
interface AnalysedFile {
  uuid: string;
  appdata?: { trove_image_analysis?: { data: AnalysisData } };
}

/** What a placeholder and the image over it show at one moment, read in the page. */
interface PlaceholderView {
  kind: string | null;
  /** Mean colour of the placeholder's pixels, 0–255; null when there is no placeholder image. */
  mean: [number, number, number] | null;
  box: { width: number; height: number } | null;
  /** The real image has pixels (it has loaded). */
  imageLoaded: boolean;
}

const REST_ACCEPT = 'application/vnd.uploadcare-v0.7+json';
/** How long `expect.poll` waits for the page: vitest's 1 s default is short on a busy machine. */
const SOON = { timeout: 10_000 };
const THUMBNAIL = (url: URL) => url.pathname.includes('/-/preview/240x240/');
const PREVIEW = (url: URL) => url.pathname.includes('/-/preview/1200x1200/');
const SIMILAR = (url: URL) => url.pathname.endsWith('/files/') && url.searchParams.has('similar_to');

declare const placeholderKit: {
  read(root: string, image: string): PlaceholderView;
  placeholdersDrawn(roots: string[]): boolean;
  imagesLoaded(selectors: string[]): boolean;
};

const KIT = fileURLToPath(new URL('./fixtures/placeholder-kit.js', import.meta.url));

/** Reads the placeholder (and the image it stands in for) inside the element `root` selects. */
function readPlaceholder(page: Page, root: string, image: string): Promise<PlaceholderView> {
  return page.evaluate(([r, i]) => placeholderKit.read(r, i), [root, image] as const);
}

/** Holds every request `matches` picks until `release()`: the image stays "loading" as long as the test wants. */
async function holdRequests(page: Page, matches: (url: URL) => boolean): Promise<{ held: Route[]; release: () => Promise<void> }> {
  const held: Route[] = [];
  const handler = (route: Route) => {
    held.push(route);
  };
  await page.route(matches, handler);
  return {
    held,
    release: async () => {
      // Answered before the handler goes: unrouting first would let Playwright settle them itself.
      for (const route of held.splice(0)) await route.continue();
      await page.unroute(matches, handler);
    },
  };
}

describeWhenBrowser('image analysis in the dashboard')('image analysis in the dashboard, in Chromium', () => {
  let trove: TestTrove;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  let errors: string[];
  const shots = new StepShots('image-analysis-ui');
  let projectId: string;
  let original: string;
  let nearCopy: string;
  let unrelated: string;
  let guide: string;
  /** The server's ThumbHash of each analysed image. */
  const hashes = new Map<string, string>();

  async function rest<T>(path: string): Promise<{ status: number; body: T }> {
    const response = await fetch(`${trove.url}${path}`, {
      headers: { accept: REST_ACCEPT, authorization: `Uploadcare.Simple ${trove.publicKey}:${trove.secretKey}` },
    });
    return { status: response.status, body: (await response.json()) as T };
  }

  async function analysed(uuid: string): Promise<AnalysisData> {
    const deadline = Date.now() + 30_000;
    for (;;) {
      const { body } = await rest<AnalysedFile>(`/files/${uuid}/?include=appdata`);
      const data = body.appdata?.trove_image_analysis?.data;
      if (data) return data;
      if (Date.now() > deadline) throw new Error(`no analysis of ${uuid} after 30 s`);
      await sleep(100);
    }
  }

  /** The colour a ThumbHash averages to, 0–255, as a reference for what the page drew. */
  function averageOf(uuid: string): [number, number, number] {
    const hash = hashes.get(uuid);
    if (!hash) throw new Error(`no hash kept for ${uuid}`);
    const { r, g, b } = thumbHashToAverageRGBA(Buffer.from(hash, 'base64'));
    return [r * 255, g * 255, b * 255];
  }

  function expectNearColour(actual: readonly number[] | null, expected: readonly number[], tolerance = 14): void {
    expect(actual).not.toBeNull();
    actual!.forEach((channel, index) => expect(Math.abs(channel - expected[index]!), `channel ${index}: ${actual!.join(',')} vs ${expected.join(',')}`).toBeLessThan(tolerance));
  }

  const panel = () => page.getByTestId('similar-images');
  const similarUuids = () => page.getByTestId('similar-file').evaluateAll((nodes) => nodes.map((node) => node.getAttribute('data-uuid') ?? ''));

  beforeAll(async () => {
    [trove, browser] = await Promise.all([startTrove(), launchBrowser()]);
    projectId = (await trove.ctx.metadata.projects.findByPublicKey(trove.publicKey))!.id;
    const landscape = await makePhoto(1200, 800, 'landscape').jpeg({ quality: 90 }).toBuffer();
    original = await uploadFile(trove, landscape, 'landscape.jpg', { UPLOADCARE_STORE: '1' });
    // A near-duplicate: the same picture smaller and recompressed, as a re-upload or a shared copy is.
    nearCopy = await uploadFile(trove, await sharp(landscape).resize(480).jpeg({ quality: 60 }).toBuffer(), 'landscape-small.jpg', { UPLOADCARE_STORE: '1' });
    unrelated = await uploadFile(trove, await makePhoto(900, 900, 'other').jpeg({ quality: 90 }).toBuffer(), 'rings.jpg', { UPLOADCARE_STORE: '1' });
    guide = await uploadFile(trove, makePdf(), 'guide.pdf', { UPLOADCARE_STORE: '1' });
    for (const uuid of [original, nearCopy, unrelated]) hashes.set(uuid, (await analysed(uuid)).thumbhash);
    // The server's own answer, which the panel relies on: the copy is similar, the other picture is not.
    const similar = await rest<{ results: AnalysedFile[] }>(`/files/?similar_to=${original}`);
    expect(similar.body.results.map((file) => file.uuid)).toEqual([nearCopy]);
    // `rings.jpg` goes back to having no analysis: what a file looks like while its job has not run.
    expect(await (await trove.projectShard()).imageAnalysis.deleteForFiles(projectId, [unrelated])).toBe(1);

    context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    await context.addInitScript({ path: KIT });
    page = await context.newPage();
    page.setDefaultTimeout(10_000);
    errors = watchPageErrors(page);
    await page.goto(`${trove.url}/dashboard`);
    await page.getByTestId('signin-pub-key').fill(trove.publicKey);
    await page.getByTestId('signin-secret-key').fill(trove.secretKey);
    await page.getByTestId('signin-submit').click();
    await page.getByTestId('nav-library').waitFor();
  }, 120_000);

  beforeEach(() => {
    // The sign-in page's probe of the session (a 401 by design), and whatever a test before provoked.
    errors.length = 0;
  });

  afterAll(async () => {
    await context?.close();
    await browser?.close();
    await trove?.close();
  });

  it('shows each analysed image’s ThumbHash in the library until its thumbnail arrives, and nothing for one without analysis', async () => {
    const thumbnails = await holdRequests(page, THUMBNAIL);
    await page.goto(`${trove.url}/dashboard/files`);
    const card = (uuid: string) => `[data-testid="file-card"][data-uuid="${uuid}"]`;
    for (const uuid of [original, nearCopy, unrelated, guide]) await page.locator(card(uuid)).waitFor();
    // Every image asked for its thumbnail, and none got it. (Counted by address: the library the
    // sign-in opened may still ask for its own when the route is set, on a busy machine.)
    await expect.poll(() => new Set(thumbnails.held.map((route) => route.request().url())).size, SOON).toBe(3);
    await page.waitForFunction((roots) => placeholderKit.placeholdersDrawn(roots), [card(original), card(nearCopy)]);
    for (const uuid of [original, nearCopy]) {
      const view = await readPlaceholder(page, card(uuid), 'img:not([data-testid="placeholder"])');
      expect(view.kind).toBe('thumbhash');
      expect(view.imageLoaded).toBe(false);
      // The picture drawn is this file's hash decoded, not some stock grey.
      expectNearColour(view.mean, averageOf(uuid));
    }
    // Without an analysis there is no placeholder, and the tile waits as it always did; a PDF keeps its label.
    expect(await page.locator(`${card(unrelated)} [data-testid="placeholder"]`).count()).toBe(0);
    expect(await page.locator(`${card(guide)} [data-testid="placeholder"]`).count()).toBe(0);
    await shots.take(page, 'library-placeholders');

    await thumbnails.release();
    await page.waitForFunction((selectors) => placeholderKit.imagesLoaded(selectors), [card(original), card(nearCopy), card(unrelated)].map((root) => `${root} .thumb img:not([data-testid="placeholder"])`));
    // A loaded thumbnail stands alone: a transparent image must not show the placeholder through it.
    for (const uuid of [original, nearCopy, unrelated]) await expect.poll(() => page.locator(`${card(uuid)} [data-testid="placeholder"]`).count(), SOON).toBe(0);
    await shots.take(page, 'library-loaded');
    expect(errors).toEqual([]);
  });

  it('shows the placeholder at the preview’s shape on the file page until the preview loads', async () => {
    const previews = await holdRequests(page, PREVIEW);
    await page.goto(`${trove.url}/dashboard/files/${original}`);
    await page.getByTestId('file-title').waitFor();
    await expect.poll(() => previews.held.length, SOON).toBe(1);
    await page.waitForFunction(() => placeholderKit.placeholdersDrawn(['[data-testid="file-preview"]']));
    const view = await readPlaceholder(page, '[data-testid="file-preview"]', '[data-testid="file-preview-image"]');
    expect(view.kind).toBe('thumbhash');
    expect(view.imageLoaded).toBe(false);
    expectNearColour(view.mean, averageOf(original));
    // 1200 × 800: the box has the picture's 3:2 shape and a real size before a single byte of it came.
    expect(view.box!.width).toBeGreaterThan(300);
    expect(view.box!.width / view.box!.height).toBeCloseTo(1.5, 1);
    await shots.take(page, 'file-page-placeholder');

    await previews.release();
    await page.waitForFunction(() => placeholderKit.imagesLoaded(['[data-testid="file-preview-image"]']));
    await expect.poll(() => page.getByTestId('file-preview').getByTestId('placeholder').count(), SOON).toBe(0);
    expect(errors).toEqual([]);
  });

  it('lists the near-duplicate under “Similar images”, not the other picture, through the session’s REST call', async () => {
    // The analysis of rings.jpg is back, so it could match if the server thought it similar.
    expect(await trove.ctx.services.analysis.backfill(projectId)).toBe(1);
    hashes.set(unrelated, (await analysed(unrelated)).thumbhash);

    const asked = page.waitForRequest((request: Request) => SIMILAR(new URL(request.url())));
    await page.goto(`${trove.url}/dashboard/files/${original}`);
    const request = await asked;
    // The dashboard's session, not a key: the cookie and the CSRF token, no Authorization header.
    expect(request.headers()['x-csrf-token']).toBeTruthy();
    expect(request.headers().authorization).toBeUndefined();
    await expect.poll(() => panel().getAttribute('data-state'), SOON).toBe('done');
    expect(await similarUuids()).toEqual([nearCopy]);
    await panel().scrollIntoViewIfNeeded();
    await shots.take(page, 'similar-panel');

    // Each look-alike links to its own page, whose panel finds the original in turn.
    await panel().getByTestId('similar-file').getByRole('link').click();
    await page.waitForURL(`${trove.url}/dashboard/files/${nearCopy}`);
    await expect.poll(() => page.getByTestId('file-title').textContent(), SOON).toBe('landscape-small.jpg');
    await expect.poll(() => similarUuids(), SOON).toEqual([original]);
    expect(errors).toEqual([]);
  });

  it('says when nothing is similar, and says the analysis is in progress (409) until it is done', async () => {
    await page.goto(`${trove.url}/dashboard/files/${unrelated}`);
    await expect.poll(() => panel().getAttribute('data-state'), SOON).toBe('done');
    await expect.poll(() => panel().getByTestId('similar-none').isVisible(), SOON).toBe(true);

    expect(await (await trove.projectShard()).imageAnalysis.deleteForFiles(projectId, [unrelated])).toBe(1);
    const conflicts: number[] = [];
    page.on('response', (response) => {
      if (SIMILAR(new URL(response.url())) && response.status() === 409) conflicts.push(response.status());
    });
    await page.reload();
    await expect.poll(() => panel().getAttribute('data-state'), SOON).toBe('pending');
    expect(await panel().getByTestId('similar-pending').textContent()).toMatch(/analysis in progress/i);
    expect(conflicts.length).toBeGreaterThan(0);
    await shots.take(page, 'similar-pending');
    // The panel keeps asking, so the analysis finishing shows without a reload.
    await expect.poll(() => conflicts.length, { timeout: 10_000 }).toBeGreaterThan(1);
    expect(await panel().getAttribute('data-state')).toBe('pending');
    expect(await trove.ctx.services.analysis.backfill(projectId)).toBe(1);
    await expect.poll(() => panel().getAttribute('data-state'), { timeout: 20_000 }).toBe('done');
    expect(await panel().getByTestId('similar-none').isVisible()).toBe(true);
    // 409s are the answers the page asked for; nothing else went wrong.
    expect(errors.filter((error) => !/status of 409/.test(error))).toEqual([]);
  });

  it('shows a failed look-up as an error with a retry', async () => {
    let refused = 0;
    const refuse = (route: Route) => {
      refused += 1;
      return route.fulfill({ status: 500, contentType: 'application/json', body: JSON.stringify({ detail: 'Similar images are unavailable right now.' }) });
    };
    await page.route(SIMILAR, refuse);
    await page.goto(`${trove.url}/dashboard/files/${nearCopy}`);
    await expect.poll(() => panel().getAttribute('data-state'), SOON).toBe('error');
    expect(await panel().getByTestId('error').textContent()).toContain('Similar images are unavailable right now.');
    expect(refused).toBe(1);
    await page.unroute(SIMILAR, refuse);
    await panel().getByRole('button', { name: 'Try again' }).click();
    await expect.poll(() => panel().getAttribute('data-state'), SOON).toBe('done');
    expect(await similarUuids()).toEqual([original]);
    expect(errors.filter((error) => !/status of 500/.test(error))).toEqual([]);
  });
});
