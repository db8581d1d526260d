import { randomBytes } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, postgresUnavailableReason, REQUIRE_SCALE } from '../helpers/backends.js';
import { makePng } from '../helpers/images.js';
import { startTcpProxy, type TcpProxy } from '../helpers/tcp-proxy.js';
import { createSharedScaleBackend, startTrove, type SharedScaleBackend, type TestTrove } from '../helpers/trove-server.js';
import { buildForm, fromUrlToken, multipartComplete, multipartStart, postBase, putPart, waitForFromUrl } from '../helpers/upload-http.js';

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
 * configuration per region, one server per region. `east` (the default region) keeps its originals
 * in one folder, on the shards `main` and `b`; `west` in another folder, on its shard `w`. Each
 * server reads keys and settings from its region's copy, which its syncer keeps current from the
 * change log, and keeps the derivatives it computes in its own region's folder.
 */
describe.skipIf(skip)('two regions: configuration copies, placement, delivery across regions, moves (PostgreSQL)', () => {
  let backend: SharedScaleBackend;
  let proxy: TcpProxy;
  const copies: Array<{ url: string; drop(): Promise<void> }> = [];
  let westShard: { url: string; drop(): Promise<void> };
  let east: TestTrove;
  let west: TestTrove;
  let mainUrl: string;
  let folders: string;
  const folder = (region: 'east' | 'west') => path.join(folders, region);
  const keys = { TROVE_PUBLIC_KEY: `pk_${randomBytes(8).toString('hex')}`, TROVE_SECRET_KEY: `sk_${randomBytes(16).toString('hex')}` };

  beforeAll(async () => {
    backend = await createSharedScaleBackend();
    mainUrl = backend.env.DATABASE_URL!;
    proxy = await startTcpProxy();
    const proxied = new URL(mainUrl);
    proxied.port = String(proxy.port);
    copies.push(await createTestDatabase(), await createTestDatabase());
    westShard = await createTestDatabase();
    folders = await mkdtemp(path.join(tmpdir(), 'trove-regions-'));
    const region = (name: string, copy: string) => ({
      ...keys,
      DATABASE_URL: proxied.toString(),
      STORAGE_URL: `file://${folder('east')}`,
      TROVE_DEFAULT_REGION: 'east',
      TROVE_REGIONS: `west=file://${folder('west')}`,
      TROVE_SHARDS: `${backend.env.TROVE_SHARDS!},w@west=${westShard.url}`,
      TROVE_REGION: name,
      TROVE_REGION_CONFIG_URL: copy,
      TROVE_CONFIG_SYNC_INTERVAL: '100ms',
      TROVE_MULTIPART_MIN_FILE_SIZE: '1MiB',
      TROVE_MULTIPART_MIN_PART_SIZE: '512KiB',
    });
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
    await westShard?.drop().catch(() => undefined);
    await backend?.close();
    if (folders) await rm(folders, { recursive: true, force: true });
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

  /** Where a region's folder keeps the original of a file. */
  const originalPath = (region: 'east' | 'west', uuid: string) => path.join(folder(region), 'originals', uuid.slice(0, 2), uuid);
  const exists = (file: string) => stat(file).then(() => true, () => false);
  const derivativesIn = async (region: 'east' | 'west', uuid: string) => (await readdir(path.join(folder(region), 'derivatives', uuid)).catch(() => [])).length;
  const projectRegion = async (trove: TestTrove, publicKey: string, secretKey: string) => {
    const response = await fetch(`${trove.url}/project/`, { headers: { accept: REST_ACCEPT, authorization: `Uploadcare.Simple ${publicKey}:${secretKey}` } });
    expect(response.status).toBe(200);
    return ((await response.json()) as { region: string }).region;
  };
  const uploadTo = async (trove: TestTrove, publicKey: string, options: { keyAfterFiles?: boolean; side?: number } = {}) => {
    const response = await postBase(trove, buildForm(trove, [{ bytes: await makePng(options.side ?? 9, 7), filename: 'west.png', type: 'image/png' }], { publicKey, keyAfterFiles: options.keyAfterFiles ?? false }));
    return response;
  };
  let westProject: { publicKey: string; secretKey: string; id: string };
  const westFiles: string[] = [];

  it('places a project created in a region on that region\'s shard, and the files any region receives for it in that region\'s storage', async () => {
    const created = await east.ctx.services.projects.create({ name: 'West shop', region: 'west' });
    expect(created.project.shard).toBe('w');
    westProject = { publicKey: created.project.publicKey, secretKey: created.secrets[0]!.secret, id: created.project.id };
    await Promise.all([east, west].map((trove) => timeUntil('the new project in both copies', 2_000, async () => (await listFiles(trove, westProject.publicKey, westProject.secretKey)).status === 200)));
    for (const trove of [east, west]) {
      expect(await projectRegion(trove, westProject.publicKey, westProject.secretKey)).toBe('west');
      expect(await projectRegion(trove, keys.TROVE_PUBLIC_KEY, keys.TROVE_SECRET_KEY)).toBe('east');
    }
    await expect(east.ctx.services.projects.create({ name: 'Nowhere', region: 'north' })).rejects.toMatchObject({ code: 'REGION_NOT_FOUND' });
    await expect(east.ctx.services.projects.create({ name: 'Mismatch', region: 'west', shard: 'b' })).rejects.toMatchObject({ code: 'REGION_NOT_FOUND' });

    // Through either region's node, with the key before the file (the bytes go straight to the
    // project's region) or after it (they land in the node's region and are moved once it is known).
    for (const [trove, keyAfterFiles] of [[east, false], [east, true], [west, false], [west, true]] as const) {
      const response = await uploadTo(trove, westProject.publicKey, { keyAfterFiles });
      expect(response.status, await response.clone().text()).toBe(200);
      const { file } = (await response.json()) as { file: string };
      westFiles.push(file);
      expect(await exists(originalPath('west', file))).toBe(true);
      expect(await exists(originalPath('east', file))).toBe(false);
      const shard = await trove.ctx.shards.forProject(westProject.id);
      expect(shard.shardName).toBe('w');
      expect((await shard.files.findForProject(westProject.id, file))?.blobKey).toBe(`regions/west/originals/${file.slice(0, 2)}/${file}`);
    }
    // The default region's project keeps its files in the default region's folder.
    const home = await uploadTo(west, keys.TROVE_PUBLIC_KEY);
    const { file: homeFile } = (await home.json()) as { file: string };
    expect(await exists(originalPath('east', homeFile))).toBe(true);
    expect(await exists(originalPath('west', homeFile))).toBe(false);

    // A multipart upload through the other region's node assembles in the project's region.
    const bytes = randomBytes(1536 * 1024);
    const started = await multipartStart(east, { filename: 'big.bin', size: String(bytes.length), content_type: 'application/octet-stream', part_size: String(768 * 1024) }, westProject.publicKey);
    expect(started.status).toBe(200);
    const { uuid: big, parts } = (await started.json()) as { uuid: string; parts: string[] };
    for (const [index, url] of parts.entries()) expect((await putPart(url, bytes.subarray(index * 768 * 1024, (index + 1) * 768 * 1024))).status).toBe(200);
    expect((await multipartComplete(east, big, westProject.publicKey)).status).toBe(200);
    expect((await readFile(originalPath('west', big))).equals(bytes)).toBe(true);
    expect(await exists(originalPath('east', big))).toBe(false);
    westFiles.push(big);

    // So does a file fetched from a URL (here the default project's file, from the east node's CDN).
    const token = await fromUrlToken(west, { pub_key: westProject.publicKey, source_url: `${east.url}/${homeFile}/`, store: '1' });
    const fetched = await waitForFromUrl(west, token);
    expect(fetched.status).toBe('success');
    const fetchedUuid = (fetched as { uuid: string }).uuid;
    expect(await exists(originalPath('west', fetchedUuid))).toBe(true);
    westFiles.push(fetchedUuid);
  }, 60_000);

  it('delivers a file from any region: the original read from its home region, each derivative kept in the region that computed it', async () => {
    const uuid = westFiles[0]!;
    const original = await readFile(originalPath('west', uuid));
    const fromEast = await fetch(`${east.url}/${uuid}/`);
    expect(fromEast.status).toBe(200);
    expect(Buffer.from(await fromEast.arrayBuffer()).equals(original)).toBe(true);

    const resized = await fetch(`${east.url}/${uuid}/-/resize/4x/-/format/png/`);
    expect(resized.status).toBe(200);
    expect(resized.headers.get('content-type')).toBe('image/png');
    await timeUntil('the derivative in the east folder', 5_000, async () => (await derivativesIn('east', uuid)) > 0);
    expect(await derivativesIn('west', uuid)).toBe(0);

    const fromWest = await fetch(`${west.url}/${uuid}/-/resize/4x/-/format/png/`);
    expect(fromWest.status).toBe(200);
    expect(Buffer.from(await fromWest.arrayBuffer()).equals(Buffer.from(await resized.arrayBuffer()))).toBe(true);
    await timeUntil('the derivative in the west folder', 5_000, async () => (await derivativesIn('west', uuid)) > 0);
  }, 30_000);

  it('moves a project to another region while it keeps serving: interrupted, resumed, then served from its new home', async () => {
    for (let i = 0; i < 12; i++) {
      const response = await uploadTo(i % 2 ? east : west, westProject.publicKey, { side: 10 + i });
      expect(response.status).toBe(200);
      westFiles.push(((await response.json()) as { file: string }).file);
    }
    const moves = east.ctx.services.moves;
    const target = await moves.targetInRegion(westProject.publicKey, 'east', east.ctx.services.placement);
    expect(['main', 'b']).toContain(target);

    // Interrupted while its originals are copied: the project stays in the west and serves from there.
    const stop = new AbortController();
    await expect(
      moves.move(westProject.publicKey, target, { signal: stop.signal, onProgress: (progress) => progress.step === 'originals' && stop.abort(new Error('stopped mid-copy')) }),
    ).rejects.toThrow('stopped mid-copy');
    expect((await moves.status(westProject.publicKey))?.phase).toBe('copying');
    expect((await fetch(`${west.url}/${westFiles[1]}/`)).status).toBe(200);

    // Uploads go on through both regions while the move runs; paused writes answer 503 with Retry-After.
    let moving = true;
    const during: string[] = [];
    const refused: number[] = [];
    const uploads = (async () => {
      for (let i = 0; moving; i++) {
        const response = await uploadTo(i % 2 ? east : west, westProject.publicKey, { side: 30 + (i % 20) });
        if (response.status === 200) during.push(((await response.json()) as { file: string }).file);
        else {
          refused.push(response.status);
          expect(response.headers.get('retry-after')).not.toBeNull();
        }
      }
    })();
    let finished;
    try {
      // The same command resumes it.
      expect(await moves.targetInRegion(westProject.publicKey, 'east', east.ctx.services.placement)).toBe(target);
      finished = await moves.move(westProject.publicKey, target);
    } finally {
      moving = false;
      await uploads;
    }
    expect(finished.phase).toBe('done');
    // The old rows went only once both regions' copies had applied the switch.
    const client = new pg.Client({ connectionString: mainUrl });
    await client.connect();
    try {
      const { rows: switched } = await client.query<{ seq: string }>('select max(seq) as seq from config_changes where project_id = $1', [westProject.id]);
      const { rows: copiesSeen } = await client.query<{ region: string; last_seq: string }>('select region, last_seq from config_copies order by region');
      expect(copiesSeen.map((copy) => copy.region)).toEqual(['east', 'west']);
      for (const copy of copiesSeen) expect(Number(copy.last_seq)).toBeGreaterThanOrEqual(Number(switched[0]!.seq));
    } finally {
      await client.end();
    }
    expect(refused.every((status) => status === 503)).toBe(true);
    expect(during.length).toBeGreaterThan(0);

    await Promise.all([east, west].map((trove) => timeUntil('the new region in both copies', 5_000, async () => (await projectRegion(trove, westProject.publicKey, westProject.secretKey)) === 'east')));
    for (const uuid of [...westFiles, ...during]) {
      expect(await exists(originalPath('east', uuid)), uuid).toBe(true);
      expect(await exists(originalPath('west', uuid)), uuid).toBe(false);
      for (const trove of [east, west]) expect((await fetch(`${trove.url}/${uuid}/`)).status, `${uuid} from ${trove === east ? 'east' : 'west'}`).toBe(200);
    }
    // A purge queued before the move names the old region's key: it deletes the file's original where
    // the record says now.
    const purged = westFiles[2]!;
    const shard = await east.ctx.shards.forProject(westProject.id);
    await shard.files.setRemoved(westProject.id, [purged], new Date().toISOString());
    await east.ctx.services.files.purge({
      id: 'stale-purge',
      name: 'file.purge',
      attempt: 1,
      enqueuedAt: new Date().toISOString(),
      payload: { uuid: purged, blobKey: `regions/west/originals/${purged.slice(0, 2)}/${purged}`, projectId: westProject.id },
    });
    expect(await exists(originalPath('east', purged))).toBe(false);
    westFiles.splice(2, 1);

    // New files go to the new region.
    const after = await uploadTo(west, westProject.publicKey);
    expect(after.status).toBe(200);
    const afterFile = ((await after.json()) as { file: string }).file;
    expect(await exists(originalPath('east', afterFile))).toBe(true);
    // Every file answered 200 is listed, once, and nothing else (the purged one is removed).
    const listed = (await (await fetch(`${east.url}/files/?limit=1000`, { headers: { accept: REST_ACCEPT, authorization: `Uploadcare.Simple ${westProject.publicKey}:${westProject.secretKey}` } })).json()) as { results: Array<{ uuid: string }> };
    expect(listed.results.map((file) => file.uuid).sort()).toEqual([...westFiles, ...during, afterFile].sort());
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
