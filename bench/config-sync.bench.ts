/**
 * Replication lag of a region's copy of the configuration, on PostgreSQL: the time from a change
 * committed in the main database to its application in the copy, as the syncer measures it (the
 * delay histogram `trove_config_replication_delay_seconds` observes the same), for
 *
 *   normal   ordinary changes (a secret key added or revoked, a setting changed) at BENCH_RATE per second
 *   bulk     the same ordinary changes while one statement updates every one of BENCH_PROJECTS projects,
 *            as a migration would: the ordinary changes' delay, the bulk changes' delay, and the time
 *            until the copy has passed every change of the bulk
 *
 * The ceiling is the syncer's interval (TROVE_CONFIG_SYNC_INTERVAL, 200 ms by default): a change
 * waits for the next pass, so the median of an idle copy is about half of it. The syncer runs in this
 * process, as the worker process of a region runs it.
 *
 *   npm run bench:config-sync      (BENCH_SECONDS=20 BENCH_RATE=20 BENCH_PROJECTS=10000 BENCH_INTERVAL_MS=200 BENCH_BATCH=500
 *                                   BENCH_PG_URL=postgres://postgres@127.0.0.1:5432/postgres)
 *
 * Two fresh databases trove_bench_config_<random>_{main,copy} are created and dropped at the end.
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { KyselyConfigReplicator } from '../src/adapters/db/config-replica.js';
import { KyselyMetadataStore } from '../src/adapters/db/kysely-metadata-store.js';
import { systemClock } from '../src/lib/clock.js';
import { Metrics } from '../src/observability/metrics.js';
import { ConfigSyncService } from '../src/services/config-sync.service.js';
import { percentile } from './lib/trove-process.js';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 20);
const RATE = Number(process.env.BENCH_RATE ?? 20);
const PROJECTS = Number(process.env.BENCH_PROJECTS ?? 10_000);
const INTERVAL_MS = Number(process.env.BENCH_INTERVAL_MS ?? 200);
const BATCH = Number(process.env.BENCH_BATCH ?? 500);
const ADMIN_URL = process.env.BENCH_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

type Kind = 'ordinary' | 'bulk';

async function admin(query: string): Promise<void> {
  const client = new pg.Client({ connectionString: ADMIN_URL });
  await client.connect();
  try {
    await client.query(query);
  } finally {
    await client.end();
  }
}

function urlOf(name: string): string {
  const url = new URL(ADMIN_URL);
  url.pathname = `/${name}`;
  return url.toString();
}

function summary(label: string, delays: number[]): Record<string, string | number> {
  const sorted = [...delays].sort((a, b) => a - b);
  return {
    changes: label,
    count: sorted.length,
    'p50 ms': Math.round(percentile(sorted, 50)),
    'p95 ms': Math.round(percentile(sorted, 95)),
    'p99 ms': Math.round(percentile(sorted, 99)),
    'max ms': Math.round(sorted.at(-1) ?? NaN),
    'p99 / interval': (percentile(sorted, 99) / INTERVAL_MS).toFixed(2),
  };
}

async function main(): Promise<void> {
  const prefix = `trove_bench_config_${randomBytes(4).toString('hex')}`;
  await admin(`create database ${prefix}_main`);
  await admin(`create database ${prefix}_copy`);
  const mainStore = new KyselyMetadataStore({ kind: 'postgres', url: urlOf(`${prefix}_main`), poolSize: 4 });
  const copyStore = new KyselyMetadataStore({ kind: 'postgres', url: urlOf(`${prefix}_copy`), poolSize: 4 });
  try {
    await mainStore.migrate();
    await copyStore.migrate();
    const writer = new pg.Client({ connectionString: urlOf(`${prefix}_main`) });
    await writer.connect();
    await writer.query(`insert into projects (id, name, public_key, auto_store, signed_uploads, scan_on_upload, purge_infected, created_at, shard)
      select 'p-' || n, 'Project ' || n, 'pk_' || n, 1, 0, 0, 0, '2026-01-01T00:00:00.000Z', 'main' from generate_series(1, ${PROJECTS}) as n`);
    await writer.query(`insert into projects (id, name, public_key, auto_store, signed_uploads, scan_on_upload, purge_infected, created_at, shard)
      select 'o-' || n, 'Ordinary ' || n, 'pk_o_' || n, 1, 0, 0, 0, '2026-01-01T00:00:00.000Z', 'main' from generate_series(1, 50) as n`);

    // Ordinary changes touch the 50 projects o-…, the bulk one the PROJECTS projects p-….
    let phase: 'normal' | 'bulk' = 'normal';
    const delays: Record<string, number[]> = { 'normal/ordinary': [], 'bulk/ordinary': [], 'bulk/bulk': [] };
    const replicator = new KyselyConfigReplicator(mainStore.db, copyStore.db, { batch: BATCH, tail: 100, logRetentionMs: 7 * 24 * 3_600_000, region: 'bench' });
    const measuring = {
      async syncOnce(now: Date) {
        const result = await replicator.syncOnce(now);
        for (const change of result.changes) {
          const kind: Kind = change.projectId?.startsWith('o-') ? 'ordinary' : 'bulk';
          delays[`${phase}/${kind}`]?.push(now.getTime() - Date.parse(change.createdAt));
        }
        return result;
      },
    };
    const sync = new ConfigSyncService(measuring, { projectChanged: async () => undefined }, systemClock, new Metrics({ collectDefault: false }), console, { region: 'bench', intervalMs: INTERVAL_MS });
    // The initial load is copied before measuring.
    sync.start();
    while (Number((await copyStore.db.selectFrom('projects').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow()).n) < PROJECTS + 50) await new Promise((r) => setTimeout(r, 100));
    await new Promise((r) => setTimeout(r, 1_000));
    for (const list of Object.values(delays)) list.length = 0;

    const ordinary = async (seconds: number) => {
      const until = Date.now() + seconds * 1000;
      for (let i = 0; Date.now() < until; i++) {
        const project = `o-${1 + (i % 50)}`;
        await writer.query('update projects set name = $1 where id = $2', [`Project ${project} #${i}`, project]);
        await new Promise((r) => setTimeout(r, 1000 / RATE));
      }
    };
    await ordinary(SECONDS);

    phase = 'bulk';
    let bulkApplied = 0;
    const bulk = async () => {
      await new Promise((r) => setTimeout(r, 500));
      const client = new pg.Client({ connectionString: urlOf(`${prefix}_main`) });
      await client.connect();
      await client.query(`update projects set name = name || ' (migrated)' where id like 'p-%'`);
      const committed = Date.now();
      await client.end();
      // Until the copy holds every project migrated.
      for (;;) {
        const row = await copyStore.db.selectFrom('projects').select((eb) => eb.fn.countAll<number>().as('n')).where('name', 'like', '%(migrated)').executeTakeFirstOrThrow();
        if (Number(row.n) >= PROJECTS) break;
        await new Promise((r) => setTimeout(r, 20));
      }
      bulkApplied = Date.now() - committed;
    };
    await Promise.all([ordinary(SECONDS), bulk()]);
    const { rows } = await writer.query<{ seq: string }>('select max(seq) as seq from config_changes');
    const target = Number(rows[0]!.seq);
    for (;;) {
      const state = await copyStore.db.selectFrom('config_replica_state').select('last_seq').executeTakeFirst();
      if (Number(state?.last_seq ?? 0) >= target) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    await sync.stop();
    await writer.end();

    console.log(`\nConfiguration copy lag on PostgreSQL (interval ${INTERVAL_MS} ms, batch ${BATCH}, ${RATE} ordinary changes/s, ${PROJECTS} projects)\n`);
    console.log('| changes | count | p50 ms | p95 ms | p99 ms | max ms | p99 / interval |');
    console.log('| --- | ---: | ---: | ---: | ---: | ---: | ---: |');
    for (const row of [summary('ordinary, normal load', delays['normal/ordinary']!), summary('ordinary, during the bulk update', delays['bulk/ordinary']!), summary('bulk update', delays['bulk/bulk']!)]) {
      console.log(`| ${Object.values(row).join(' | ')} |`);
    }
    console.log(`\nThe copy held all ${PROJECTS} projects of the bulk update ${bulkApplied} ms after it was committed.`);
  } finally {
    await mainStore.close();
    await copyStore.close();
    await admin(`drop database if exists ${prefix}_main with (force)`).catch(() => undefined);
    await admin(`drop database if exists ${prefix}_copy with (force)`).catch(() => undefined);
  }
}

await main();
