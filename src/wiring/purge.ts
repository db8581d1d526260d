import { CloudflarePurger } from '../adapters/purge/cloudflare.purger.js';
import { CloudFrontPurger } from '../adapters/purge/cloudfront.purger.js';
import { FastlyPurger } from '../adapters/purge/fastly.purger.js';
import { HttpHookPurger } from '../adapters/purge/http-hook.purger.js';
import { ShieldPurger } from '../adapters/purge/shield.purger.js';
import type { PurgeConfig } from '../config/purge-settings.js';
import type { PurgeTarget } from '../services/cache-purge.service.js';

/** The caches in front of Trove that TROVE_PURGE_* configure, each with its request budget. */
export function createPurgeTargets(config: PurgeConfig): { targets: PurgeTarget[]; close(): void } {
  const { timeoutMs } = config;
  const targets: PurgeTarget[] = [];
  const closers: Array<() => void> = [];
  if (config.shield) {
    targets.push({ purger: new ShieldPurger({ urls: config.shield.urls.map((url) => new URL(url)), timeoutMs }), rate: config.shield.rate });
  }
  if (config.http) {
    targets.push({ purger: new HttpHookPurger({ url: new URL(config.http.url), token: config.http.token, timeoutMs }), rate: config.http.rate });
  }
  if (config.cloudflare) {
    const { apiToken, zoneId, endpoint, rate } = config.cloudflare;
    targets.push({ purger: new CloudflarePurger({ apiToken, zoneId, endpoint: new URL(endpoint), timeoutMs }), rate });
  }
  if (config.fastly) {
    const { apiToken, serviceId, endpoint, soft, rate } = config.fastly;
    targets.push({ purger: new FastlyPurger({ apiToken, serviceId, endpoint: new URL(endpoint), soft, timeoutMs }), rate });
  }
  if (config.cloudfront) {
    const { rate, ...settings } = config.cloudfront;
    const purger = new CloudFrontPurger({ ...settings, timeoutMs });
    closers.push(() => purger.close());
    targets.push({ purger, rate });
  }
  return { targets, close: () => closers.forEach((close) => close()) };
}
