import { describe, expect, it, afterAll, beforeAll } from 'vitest';
import {
  parseCloudflareSetting,
  parseCloudFrontSetting,
  parseFastlySetting,
  parseHttpSetting,
  parseShieldSetting,
  type PurgeConfig,
} from '../../src/config/purge-settings.js';
import type { CachePurger } from '../../src/ports/cache-purger.js';
import { createPurgeTargets } from '../../src/wiring/purge.js';
import { purgeSettingFor, startPurgeStandIn, type PurgeStandIn } from '../helpers/purge-stand-ins.js';
import { runCachePurgerConformance } from './cache-purger.suite.js';

const NONE: PurgeConfig = { shield: null, http: null, cloudflare: null, fastly: null, cloudfront: null, timeoutMs: 500 };

/** The adapter exactly as Trove builds it from its setting. */
function purgerFrom(config: Partial<PurgeConfig>, timeoutMs: number): CachePurger {
  const { targets } = createPurgeTargets({ ...NONE, ...config, timeoutMs });
  expect(targets).toHaveLength(1);
  return targets[0]!.purger;
}

runCachePurgerConformance('shield', {
  kind: 'shield',
  boundsAnswer: true,
  create: (standIn, timeoutMs) => purgerFrom({ shield: parseShieldSetting(purgeSettingFor(standIn)) }, timeoutMs),
});
runCachePurgerConformance('http', {
  kind: 'http',
  boundsAnswer: true,
  create: (standIn, timeoutMs) => purgerFrom({ http: parseHttpSetting(purgeSettingFor(standIn)) }, timeoutMs),
});
runCachePurgerConformance('cloudflare', {
  kind: 'cloudflare',
  boundsAnswer: true,
  create: (standIn, timeoutMs) => purgerFrom({ cloudflare: parseCloudflareSetting(purgeSettingFor(standIn)) }, timeoutMs),
});
runCachePurgerConformance('fastly', {
  kind: 'fastly',
  boundsAnswer: true,
  create: (standIn, timeoutMs) => purgerFrom({ fastly: parseFastlySetting(purgeSettingFor(standIn)) }, timeoutMs),
});
runCachePurgerConformance('cloudfront', {
  kind: 'cloudfront',
  boundsAnswer: false,
  create: (standIn, timeoutMs) => purgerFrom({ cloudfront: parseCloudFrontSetting(purgeSettingFor(standIn)) }, timeoutMs),
});

describe('provider specifics', () => {
  let shieldA: PurgeStandIn;
  let shieldB: PurgeStandIn;
  let fastly: PurgeStandIn;
  let cloudflare: PurgeStandIn;
  beforeAll(async () => {
    [shieldA, shieldB, fastly, cloudflare] = await Promise.all([startPurgeStandIn('shield'), startPurgeStandIn('shield'), startPurgeStandIn('fastly'), startPurgeStandIn('cloudflare')]);
  });
  afterAll(async () => {
    await Promise.all([shieldA, shieldB, fastly, cloudflare].map((standIn) => standIn?.close()));
  });

  it('shield: every instance gets the purge, and one that refuses (403) fails it with advice', async () => {
    const purger = purgerFrom({ shield: parseShieldSetting(`${shieldA.url},${shieldB.url}`) }, 1_000);
    await purger.purge({ tags: ['f:a', 'p:b'], paths: [] });
    expect(shieldA.received.map((r) => r.headers['xkey-purge'])).toEqual(['f:a p:b']);
    expect(shieldB.received.map((r) => r.headers['xkey-purge'])).toEqual(['f:a p:b']);
    shieldB.mode = 'error';
    await expect(purger.purge({ tags: ['f:a'], paths: [] })).rejects.toThrow(/403.*purge ACL/);
  });

  it('fastly: a soft purge asks for it with Fastly-Soft-Purge: 1, a hard one does not', async () => {
    await purgerFrom({ fastly: parseFastlySetting(purgeSettingFor(fastly, 'soft=1')) }, 1_000).purge({ tags: ['f:a'], paths: [] });
    await purgerFrom({ fastly: parseFastlySetting(purgeSettingFor(fastly)) }, 1_000).purge({ tags: ['f:b'], paths: [] });
    expect(fastly.received.map((r) => r.headers['fastly-soft-purge'])).toEqual(['1', undefined]);
    expect(fastly.malformed).toEqual([]);
  });

  it('cloudflare: the messages of errors[] explain a refusal', async () => {
    cloudflare.mode = 'error';
    await expect(purgerFrom({ cloudflare: parseCloudflareSetting(purgeSettingFor(cloudflare)) }, 1_000).purge({ tags: ['f:a'], paths: [] })).rejects.toThrow(
      'cloudflare answered 403: 10000 Authentication error',
    );
  });

  it('purges that carry nothing for a provider send nothing', async () => {
    const before = cloudflare.received.length;
    await purgerFrom({ cloudflare: parseCloudflareSetting(purgeSettingFor(cloudflare)) }, 1_000).purge({ tags: [], paths: ['/x*'] });
    expect(cloudflare.received.length).toBe(before);
  });
});
