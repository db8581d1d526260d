import { Readable } from 'node:stream';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { ClamdScanner } from '../../src/adapters/scan/clamd-scanner.js';
import { parseClamdUrl } from '../../src/config/parse-values.js';
import { VirusScanError } from '../../src/ports/virus-scanner.js';
import { describeWhenClamd, EICAR, EICAR_SIGNATURE, startClamd, type TestClamd } from '../helpers/clamd.js';

/** The clamd adapter against a real clamd (Debian's), with a one-line EICAR database of its own. */
describeWhenClamd('clamd adapter')('ClamdScanner against a real clamd', () => {
  let clamd: TestClamd;
  const scanner = (url: string, maxStreamBytes = 25 * 1024 * 1024) => new ClamdScanner({ address: parseClamdUrl(url), timeoutMs: 10_000, maxStreamBytes });

  beforeAll(async () => {
    // A 1 MiB stream limit, so a larger file meets clamd's own refusal.
    clamd = await startClamd({ streamMaxLength: '1M' });
  }, 60_000);
  afterAll(async () => clamd?.stop());

  it('answers PING and its version, over TCP and over its Unix socket', async () => {
    for (const url of [clamd.tcpUrl, clamd.unixUrl]) {
      await scanner(url).ping();
      expect(await scanner(url).version()).toMatch(/^\d+\.\d+/);
    }
  });

  it('finds EICAR, with the signature of the test database', async () => {
    const verdict = await scanner(clamd.tcpUrl).scan(Readable.from([EICAR]), EICAR.length);
    expect(verdict.infected).toBe(true);
    expect(verdict.signature).toContain(EICAR_SIGNATURE);
    const overUnix = await scanner(clamd.unixUrl).scan(Readable.from([EICAR]), EICAR.length);
    expect(overUnix.infected).toBe(true);
  });

  it('finds a clean file clean, also when it arrives in many small pieces', async () => {
    const text = Buffer.from('Nothing to see here, just a harmless line of text.\n'.repeat(2000));
    const pieces = Array.from({ length: Math.ceil(text.length / 777) }, (_, i) => text.subarray(i * 777, (i + 1) * 777));
    expect(await scanner(clamd.tcpUrl).scan(Readable.from(pieces), text.length)).toEqual({ infected: false, signature: null });
  });

  it('reports a file over clamd’s StreamMaxLength as TOO_LARGE, quickly', async () => {
    const big = Buffer.alloc(3 * 1024 * 1024, 1);
    const started = Date.now();
    // Trove is told a larger limit than clamd's: clamd's own refusal is what answers.
    const error = await scanner(clamd.tcpUrl, 100 * 1024 * 1024).scan(Readable.from([big]), big.length).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(VirusScanError);
    expect((error as VirusScanError).code).toBe('TOO_LARGE');
    expect(Date.now() - started).toBeLessThan(5_000);
    // clamd is still there for the next file.
    expect((await scanner(clamd.tcpUrl).scan(Readable.from([EICAR]), EICAR.length)).infected).toBe(true);
  });
});
