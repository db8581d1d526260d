import { readFile, mkdtemp, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeWhenBrowser, launchBrowser, watchPageErrors } from '../helpers/browser.js';
import { startTrove, type TestTrove } from '../helpers/trove-server.js';
import { sleep, uploadFile } from '../helpers/upload-http.js';
import { testClip } from '../helpers/video-clips.js';

interface Played {
  levels: [number, number, number][];
  currentTime: number;
  videoWidth: number;
}

/**
 * Plays `src` with hls.js, muted: resolves with the levels hls.js read from the master once playback
 * has passed 4.5 s, rejects on a fatal hls.js error or a stall.
 */
const PLAYER = `
window.playStream = async (src) => {
  const video = document.getElementById('v');
  const hls = new Hls();
  const failed = new Promise((_, reject) => hls.on(Hls.Events.ERROR, (_e, data) => { if (data.fatal) reject(new Error('hls.js: ' + data.details)); }));
  const levels = await Promise.race([failed, new Promise((resolve) => {
    hls.on(Hls.Events.MANIFEST_PARSED, (_e, data) => resolve(data.levels.map((l) => [l.width, l.height, l.bitrate])));
    hls.loadSource(src);
    hls.attachMedia(video);
  })]);
  await video.play();
  await Promise.race([failed, new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('playback stalled at ' + video.currentTime + ' s')), 30000);
    video.addEventListener('timeupdate', () => { if (video.currentTime > 4.5) { clearTimeout(timer); resolve(); } });
  })]);
  return { levels, currentTime: video.currentTime, videoWidth: video.videoWidth };
};`;

/** A page on an origin of its own (the stream is fetched across origins, as from a site to its CDN) with hls.js. */
async function startSite(): Promise<{ url: string; server: Server }> {
  const hls = await readFile(createRequire(import.meta.url).resolve('hls.js/dist/hls.min.js'));
  const server = createServer((request, response) => {
    if (request.url === '/hls.js') {
      response.writeHead(200, { 'content-type': 'text/javascript' }).end(hls);
      return;
    }
    response.writeHead(200, { 'content-type': 'text/html' }).end(`<!doctype html><script src="/hls.js"></script><video id="v" muted playsinline></video><script>${PLAYER}</script>`);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/`, server };
}

describeWhenBrowser('HLS player')('an HLS stream in a browser', () => {
  let trove: TestTrove;
  let browser: Browser;
  let site: { url: string; server: Server };
  let dir: string;
  let uuid: string;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'trove-hls-browser-'));
    [trove, browser, site] = await Promise.all([startTrove(), launchBrowser(), startSite()]);
    uuid = await uploadFile(trove, await testClip(dir, 'clip.mp4', { seconds: 6, size: '320x240' }), 'clip.mp4');
    const deadline = Date.now() + 60_000;
    while ((await fetch(`${trove.url}/${uuid}/hls/master.m3u8`)).status === 202 && Date.now() < deadline) await sleep(200);
  }, 90_000);
  afterAll(async () => {
    await browser?.close();
    await new Promise((resolve) => site?.server.close(resolve));
    await trove?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('plays with hls.js from another origin: both renditions listed, playback advances', async () => {
    const page = await browser.newPage();
    const errors = watchPageErrors(page);
    await page.goto(site.url);
    const src = `${trove.url}/${uuid}/hls/master.m3u8`;
    const played = await page.evaluate((url) => (globalThis as unknown as { playStream(url: string): Promise<Played> }).playStream(url), src);
    expect(played.levels.map(([w, h]) => `${w}x${h}`).sort()).toEqual(['240x180', '320x240']);
    for (const [, , bitrate] of played.levels) expect(bitrate).toBeGreaterThan(100_000);
    // Past 4.5 s: the player crossed from the first segment into the second.
    expect(played.currentTime).toBeGreaterThan(4.5);
    expect([240, 320]).toContain(played.videoWidth);
    expect(errors).toEqual([]);
    await page.close();
  }, 60_000);
});
