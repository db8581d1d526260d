import { describe, expect, it } from 'vitest';
import { ENV_VARS, loadConfig } from '../../src/config/load-config.js';
import { ConfigError } from '../../src/errors.js';

function purgeConfig(env: Record<string, string>) {
  return loadConfig({ DATA_DIR: '/tmp/trove-purge-settings', ...env }).purge;
}

function problemsOf(env: Record<string, string>): string {
  try {
    loadConfig({ DATA_DIR: '/tmp/trove-purge-settings', ...env });
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as Error).message;
  }
  throw new Error('expected a ConfigError');
}

describe('TROVE_PURGE_* settings', () => {
  it('configures nothing by default', () => {
    expect(purgeConfig({})).toEqual({ shield: null, http: null, cloudflare: null, fastly: null, cloudfront: null, timeoutMs: 10_000 });
  });

  it('reads every provider from one URL-shaped value', () => {
    const config = purgeConfig({
      TROVE_PURGE_SHIELD: 'http://127.0.0.1:6081, http://10.0.0.2:6081',
      TROVE_PURGE_HTTP: 'https://tok%2Fen@purge.example.com/hook?x=1',
      TROVE_PURGE_CLOUDFLARE: 'cloudflare://cf-token@023e105f4ecef8ad9ca31a8372d0c353',
      TROVE_PURGE_FASTLY: 'fastly://fastly-token@SU1Z0isxPaozGVKXdv0eY?soft=1&rate=10/s&burst=20',
      TROVE_PURGE_CLOUDFRONT: 'cloudfront://AKIAX:se%2Fcret@EDFDVBD632BHDS5?region=eu-west-1&endpoint=http://127.0.0.1:9999',
      TROVE_PURGE_TIMEOUT: '3s',
    });
    expect(config.shield).toEqual({ urls: ['http://127.0.0.1:6081', 'http://10.0.0.2:6081'], rate: null });
    expect(config.http).toEqual({ url: 'https://purge.example.com/hook?x=1', token: 'tok/en', rate: null });
    expect(config.cloudflare).toEqual({
      apiToken: 'cf-token',
      zoneId: '023e105f4ecef8ad9ca31a8372d0c353',
      endpoint: 'https://api.cloudflare.com/',
      // The Free plan's documented budget: 5 purge requests a minute.
      rate: { perSecond: 5 / 60, burst: 5 },
    });
    expect(config.fastly).toEqual({
      apiToken: 'fastly-token',
      serviceId: 'SU1Z0isxPaozGVKXdv0eY',
      endpoint: 'https://api.fastly.com/',
      soft: true,
      rate: { perSecond: 10, burst: 20 },
    });
    expect(config.cloudfront).toEqual({
      accessKeyId: 'AKIAX',
      secretAccessKey: 'se/cret',
      distributionId: 'EDFDVBD632BHDS5',
      endpoint: 'http://127.0.0.1:9999/',
      region: 'eu-west-1',
      rate: null,
    });
    expect(config.timeoutMs).toBe(3_000);
  });

  it('takes rates per second, minute or hour, or off', () => {
    expect(purgeConfig({ TROVE_PURGE_CLOUDFLARE: 'cloudflare://t@z?rate=1200/h' }).cloudflare?.rate).toEqual({ perSecond: 1 / 3, burst: 1200 });
    expect(purgeConfig({ TROVE_PURGE_CLOUDFLARE: 'cloudflare://t@z?rate=off' }).cloudflare?.rate).toBeNull();
  });

  it('refuses bad values with a message that says what is expected and never repeats a secret', () => {
    const message = problemsOf({
      TROVE_PURGE_SHIELD: 'ftp://shield',
      TROVE_PURGE_HTTP: 'https://user:hunter2-secret@purge.example.com/',
      TROVE_PURGE_CLOUDFLARE: 'cloudflare://@zone-only',
      TROVE_PURGE_FASTLY: 'fastly://fastly-secret-token@svc?soft=maybe',
      TROVE_PURGE_CLOUDFRONT: 'cloudfront://AKIAX@EDFD?region=eu-west-1',
    });
    expect(message).toContain('TROVE_PURGE_SHIELD: expected http(s) base URLs');
    expect(message).toContain('TROVE_PURGE_HTTP: expected https://<token>@purge.example.com/hook: put the token alone before "@"');
    expect(message).toContain('TROVE_PURGE_CLOUDFLARE: expected cloudflare://<api_token>@<zone_id>');
    expect(message).toContain('TROVE_PURGE_FASTLY: soft= expects 1 or 0, got "maybe"');
    expect(message).toContain('TROVE_PURGE_CLOUDFRONT: expected cloudfront://<access_key_id>:<secret_access_key>@<distribution_id>');
    expect(message).not.toContain('hunter2-secret');
    expect(message).not.toContain('fastly-secret-token');
    expect(problemsOf({ TROVE_PURGE_CLOUDFLARE: 'cloudflare://t@z?rate=5/fortnight' })).toContain('rate= expects <requests>/<s|min|h>');
    expect(problemsOf({ TROVE_PURGE_FASTLY: 'fastly://t@s?purge=all' })).toContain('unknown parameter "purge"');
  });

  it('documents each variable with placeholders, not secrets', () => {
    const names = ENV_VARS.map((entry) => entry.name);
    for (const name of ['TROVE_PURGE_SHIELD', 'TROVE_PURGE_HTTP', 'TROVE_PURGE_CLOUDFLARE', 'TROVE_PURGE_FASTLY', 'TROVE_PURGE_CLOUDFRONT', 'TROVE_PURGE_TIMEOUT']) {
      expect(names).toContain(name);
    }
    const cloudflare = ENV_VARS.find((entry) => entry.name === 'TROVE_PURGE_CLOUDFLARE')!;
    expect(cloudflare.description).toContain('cloudflare://<api_token>@<zone_id>');
  });
});
