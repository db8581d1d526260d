import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { describe } from 'vitest';

/** Debian's Chromium; Trove's browser tests never download a browser of their own. */
const CHROMIUM_PATH = process.env.TROVE_TEST_CHROMIUM ?? '/usr/bin/chromium';
const REQUIRE_BROWSER = process.env.TROVE_TEST_REQUIRE_BROWSER === '1';

/**
 * `describe` for browser suites: skipped with a message when Chromium is not installed, unless
 * TROVE_TEST_REQUIRE_BROWSER=1 (set by .ci/run) makes that a failure.
 */
export function describeWhenBrowser(what: string): typeof describe | typeof describe.skip {
  if (existsSync(CHROMIUM_PATH) || REQUIRE_BROWSER) return describe;
  console.warn(`[trove tests] skipping the ${what} browser tests: no Chromium at ${CHROMIUM_PATH} (apt-get install chromium). Set TROVE_TEST_REQUIRE_BROWSER=1 to make this an error.`);
  return describe.skip;
}

export async function launchBrowser(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM_PATH,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--disable-dev-shm-usage'],
  });
}

/** Screenshots of each step, kept for people to look at: test-artifacts/screenshots/<suite>/NN-step.png (git-ignored). */
export class StepShots {
  private step = 0;
  readonly dir: string;

  constructor(suite: string) {
    this.dir = path.resolve('test-artifacts', 'screenshots', suite);
  }

  async take(page: Page, name: string): Promise<string> {
    await mkdir(this.dir, { recursive: true });
    this.step += 1;
    const file = path.join(this.dir, `${String(this.step).padStart(2, '0')}-${name.replace(/[^a-z0-9-]+/gi, '-')}.png`);
    await page.screenshot({ path: file, fullPage: true });
    return file;
  }
}

/** Collects uncaught page errors and console errors, so a test can assert the page ran clean. */
export function watchPageErrors(page: Page): string[] {
  const errors: string[] = [];
  page.on('pageerror', (error) => errors.push(`pageerror: ${error.message}`));
  page.on('console', (message) => {
    if (message.type() === 'error') errors.push(`console: ${message.text()}`);
  });
  return errors;
}
