import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, postgresUnavailableReason, REQUIRE_SCALE } from '../helpers/backends.js';
import { makePng } from '../helpers/images.js';
import { startTcpProxy, type TcpProxy } from '../helpers/tcp-proxy.js';
import { createSharedScaleBackend, startTrove, type SharedScaleBackend, type TestTrove } from '../helpers/trove-server.js';
import { buildForm, postBase } from '../helpers/upload-http.js';

const REST_ACCEPT = 'application/vnd.uploadcare-v0.7+json';
const reason = await postgresUnavailableReason();
const skip = reason !== null && !REQUIRE_SCALE;
if (skip) console.warn(`[trove tests] skipping the region configuration copies: ${reason}`);

function listFiles(trove: TestTrove, publicKey: string, secretKey: string): Promise<Response> {
  return fetch(`${trove.url}/files/?limit=1`, { headers: { accept: REST_ACCEPT, authorization: `Uploadcare.Simple ${publicKey}:${secretKey}` } });
}

/** Milliseconds until `check` holds, polling every 10 ms, or throws after `limitMs`. */
async function timeUntil(what: string, limitMs: number, check: () => Promise<boolean>): Promise<number> {
  const started = performance.now();
  while (performance.now() - started < limitMs) {
    if (await check()) return performance.now() - started;
    await sleep(10);
  }
  throw new Error(`${what}: not within ${limitMs} ms`);
}

/**
 * Two regions on one machine: one main database (behind a TCP proxy the test can cut), a copy of the
 * configuration per region, one server per region, the shard and the blob store shared. Each server
 * reads keys and settings from its region's copy, which its syncer keeps current from the change log.
 */
describe.skipIf(skip)('configuration copied to each region (PostgreSQL)', () => {
  let backend: SharedScaleBackend;
  let proxy: TcpProxy;
  const copies: Array<{ url: string; drop(): Promise<void> }> = [];
  let east: TestTrove;
  let west: TestTrove;
  let mainUrl: string;
  const keys = { TROVE_PUBLIC_KEY: `pk_${randomBytes(8).toString('hex')}`, TROVE_SECRET_KEY: `sk_${randomBytes(16).toString('hex')}` };

  beforeAll(async () => {
    backend = await createSharedScaleBackend();
    mainUrl = backend.env.DATABASE_URL!;
    proxy = await startTcpProxy();
    const proxied = new URL(mainUrl);
    proxied.port = String(proxy.port);
    copies.push(await createTestDatabase(), await createTestDatabase());
    const region = (name: string, copy: string) => ({ ...keys, DATABASE_URL: proxied.toString(), TROVE_REGION: name, TROVE_REGION_CONFIG_URL: copy, TROVE_CONFIG_SYNC_INTERVAL: '100ms' });
    east = await startTrove({ backend: 'scale', shared: backend, env: region('east', copies[0]!.url) });
    west = await startTrove({ backend: 'scale', shared: backend, env: region('west', copies[1]!.url) });
    // Each copy starts empty: the default project's key works once the region's syncer has copied it.
    for (const trove of [east, west]) await timeUntil('the first copy', 20_000, async () => (await listFiles(trove, keys.TROVE_PUBLIC_KEY, keys.TROVE_SECRET_KEY)).status === 200);
  }, 120_000);

  afterAll(async () => {
    await east?.close();
    await west?.close();
    await proxy?.stop();
    for (const copy of copies) await copy.drop().catch(() => undefined);
    await backend?.close();
  });

  it('uses in both regions, within a second, a key made in the main database, and refuses a revoked one in both', async () => {
    const added = await east.ctx.services.projects.addSecret(keys.TROVE_PUBLIC_KEY);
    const took = await Promise.all([east, west].map((trove) => timeUntil('the new key', 1_000, async () => (await listFiles(trove, keys.TROVE_PUBLIC_KEY, added.secret)).status === 200)));
    expect(Math.max(...took)).toBeLessThan(1_000);

    await west.ctx.services.projects.revokeSecret(keys.TROVE_PUBLIC_KEY, added.id);
    await Promise.all([east, west].map((trove) => timeUntil('the revocation', 1_000, async () => (await listFiles(trove, keys.TROVE_PUBLIC_KEY, added.secret)).status === 401)));
    // The key still in force keeps working.
    expect((await listFiles(west, keys.TROVE_PUBLIC_KEY, keys.TROVE_SECRET_KEY)).status).toBe(200);
  });

  it('copies a change of every one of 10 000 projects in bounded passes, while other changes and uploads go on', async () => {
    const client = new pg.Client({ connectionString: mainUrl });
    await client.connect();
    try {
      const started = Date.now();
      // As a hand-written migration would: rows written straight into the main database.
      await client.query(`insert into projects (id, name, public_key, auto_store, signed_uploads, scan_on_upload, purge_infected, created_at, shard)
        select 'bulk-' || n, 'Bulk ' || n, 'pk_bulk_' || n, 1, 0, 0, 0, '2026-01-01T00:00:00.000Z', 'main' from generate_series(1, 10000) as n`);
      await client.query(`update projects set name = name || ' (renamed)' where id like 'bulk-%'`);
      // Meanwhile an ordinary change crosses to both regions without waiting for the backlog.
      const added = await east.ctx.services.projects.addSecret(keys.TROVE_PUBLIC_KEY);
      const took = await Promise.all([east, west].map((trove) => timeUntil('a key during the bulk change', 1_500, async () => (await listFiles(trove, keys.TROVE_PUBLIC_KEY, added.secret)).status === 200)));
      expect(Math.max(...took)).toBeLessThan(1_500);
      // And uploads go on in both regions, without an error.
      for (const trove of [east, west]) {
        const response = await postBase(trove, buildForm(trove, [{ bytes: await makePng(6, 6), filename: 'during.png', type: 'image/png' }], {}));
        expect(response.status).toBe(200);
      }
      // Both copies pass every change of the log, and hold every project renamed.
      const { rows: last } = await client.query<{ seq: string }>('select max(seq) as seq from config_changes');
      const target = Number(last[0]!.seq);
      for (const copy of copies) {
        const replica = new pg.Client({ connectionString: copy.url });
        await replica.connect();
        try {
          await timeUntil('the bulk change in a copy', 60_000, async () => {
            const { rows } = await replica.query<{ last_seq: string }>("select last_seq from config_replica_state where name = 'config'");
            return Number(rows[0]?.last_seq ?? 0) >= target;
          });
          const { rows } = await replica.query<{ count: string }>(`select count(*) from projects where id like 'bulk-%' and name like '%(renamed)'`);
          expect(Number(rows[0]!.count)).toBe(10_000);
        } finally {
          await replica.end();
        }
      }
      console.log(`[region copies] 20 000 changes of 10 000 projects applied in both regions in ${Date.now() - started} ms`);
      await timeUntil('no change pending in the metrics', 5_000, async () => /trove_config_replica_lag_seconds\{region="west"\} 0\n/.test(await (await fetch(`${west.url}/metrics`)).text()));
      const metrics = await (await fetch(`${west.url}/metrics`)).text();
      expect(metrics).toMatch(/trove_config_replication_delay_seconds_count\{region="west"\} (\d{5})/);
    } finally {
      await client.end();
    }
  }, 120_000);

  it('keeps serving uploads, deliveries and the API in both regions with the main database down, and says so', async () => {
    await proxy.stop();
    try {
      for (const trove of [east, west]) {
        const upload = await postBase(trove, buildForm(trove, [{ bytes: await makePng(5, 7), filename: 'offline.png', type: 'image/png' }], {}));
        expect(upload.status, await upload.clone().text()).toBe(200);
        const { file } = (await upload.json()) as { file: string };
        expect((await fetch(`${trove.url}/${file}/`)).status).toBe(200);
        expect((await listFiles(trove, keys.TROVE_PUBLIC_KEY, keys.TROVE_SECRET_KEY)).status).toBe(200);
        const ready = await fetch(`${trove.url}/ready`);
        expect(ready.status).toBe(200);
        const body = (await ready.json()) as { status: string; checks: Record<string, { ok: boolean; error?: string }> };
        expect(body.status).toBe('degraded');
        expect(body.checks.database?.ok).toBe(false);
        expect(body.checks['config-copy']?.ok).toBe(true);
      }
      // A change of configuration waits for the main database.
      await expect(east.ctx.services.projects.addSecret(keys.TROVE_PUBLIC_KEY)).rejects.toThrow();
    } finally {
      await proxy.start();
    }
    await timeUntil('the main database back', 15_000, async () => ((await (await fetch(`${east.url}/ready`)).json()) as { status: string }).status === 'ready');
  }, 60_000);
});
