import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { sql } from 'kysely';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { KyselyConfigChangeLog, KyselyConfigCopies, KyselyConfigReplicator } from '../../src/adapters/db/config-replica.js';
import { KyselyMetadataStore } from '../../src/adapters/db/kysely-metadata-store.js';

const RETENTION_MS = 7 * 24 * 3_600_000;

/** The replicator between two SQLite databases: a main one and a region's copy. */
describe('a region copy of the configuration (SQLite)', () => {
  let dir: string;
  let main: KyselyMetadataStore;
  let copy: KyselyMetadataStore;
  let replicator: KyselyConfigReplicator;
  let clock = Date.parse('2026-12-04T10:00:00.000Z');
  const now = () => new Date(clock);

  beforeEach(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'trove-config-copy-'));
    main = new KyselyMetadataStore({ kind: 'sqlite', path: path.join(dir, 'main.db') });
    copy = new KyselyMetadataStore({ kind: 'sqlite', path: path.join(dir, 'copy.db') });
    await main.migrate();
    await copy.migrate();
    replicator = new KyselyConfigReplicator(main.db, copy.db, { batch: 3, tail: 2, logRetentionMs: RETENTION_MS, region: 'west' });
    clock = Date.now();
  });

  afterEach(async () => {
    await main.close();
    await copy.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('copies projects, keys and their changes and deletions, and the copy logs nothing of its own', async () => {
    const project = await main.projects.create({ name: 'Site', publicKey: 'pk_site' });
    const key = await main.projects.addSecretKey(project.id, 'secret-1');
    let result = await replicator.syncOnce(now());
    expect(result.projects).toEqual([project.id]);
    expect(result.pendingSince).toBeNull();
    expect(await copy.projects.findByPublicKey('pk_site')).toEqual(project);
    expect((await copy.projects.listSecretKeys(project.id)).map((k) => k.secret)).toEqual(['secret-1']);
    // The copy's own triggers stay quiet: it is not a source of changes.
    expect(await copy.db.selectFrom('config_changes').selectAll().execute()).toEqual([]);

    await main.projects.revokeSecretKey(project.id, key.id);
    await main.projects.update(project.id, { name: 'Renamed' });
    result = await replicator.syncOnce(now());
    expect(result.changes).toHaveLength(2);
    expect((await copy.projects.findById(project.id))?.name).toBe('Renamed');
    expect(await copy.projects.listSecretKeys(project.id)).toEqual([]);

    await main.db.deleteFrom('projects').where('id', '=', project.id).execute();
    await replicator.syncOnce(now());
    expect(await copy.projects.findById(project.id)).toBeNull();
    // Nothing new: a pass reads nothing and reports nothing.
    expect((await replicator.syncOnce(now())).changes).toEqual([]);
  });

  it('goes through a bulk change in bounded passes, the newest changes first, and reports what is pending', async () => {
    const projects = [];
    for (let i = 0; i < 9; i++) projects.push(await main.projects.create({ name: `P${i}`, publicKey: `pk_${i}` }));
    // 9 changes, 3 per pass from the front, and the 2 newest each pass.
    const first = await replicator.syncOnce(now());
    expect(first.changes).toHaveLength(5);
    expect(first.projects.sort()).toEqual([projects[0]!.id, projects[1]!.id, projects[2]!.id, projects[7]!.id, projects[8]!.id].sort());
    expect(first.pendingSince).not.toBeNull();
    const second = await replicator.syncOnce(now());
    expect(second.changes.map((change) => change.projectId)).toEqual([projects[3]!.id, projects[4]!.id, projects[5]!.id]);
    const third = await replicator.syncOnce(now());
    // The 7th, and the 8th and 9th applied already: met again, not news.
    expect(third.changes.map((change) => change.projectId)).toEqual([projects[6]!.id]);
    expect(third.pendingSince).toBeNull();
    expect(third.caughtUpAt).not.toBeNull();
    expect((await copy.projects.list()).length).toBe(9);
  });

  it('waits for a hole in the numbers (a change not committed yet), and passes it once it is old', async () => {
    const project = await main.projects.create({ name: 'Site', publicKey: 'pk_site' });
    await replicator.syncOnce(now());
    // A number taken by a transaction that has not committed: the next one is visible, the hole is not.
    const { rows } = await sql<{ seq: number }>`select max(seq) as seq from config_changes`.execute(main.db);
    const hole = Number(rows[0]!.seq) + 1;
    await main.db.insertInto('config_changes').values({ seq: hole + 1, project_id: project.id, created_at: now().toISOString() }).execute();
    await replicator.syncOnce(now());
    const held = await copy.db.selectFrom('config_replica_state').select('last_seq').executeTakeFirstOrThrow();
    expect(Number(held.last_seq)).toBe(hole - 1);
    // The late commit arrives: its change is applied and the cursor moves past both.
    await main.projects.update(project.id, { name: 'Late' });
    clock += 1;
    await main.db.updateTable('config_changes').set({ seq: hole }).where('seq', '=', hole + 2).execute();
    await replicator.syncOnce(now());
    expect((await copy.projects.findById(project.id))?.name).toBe('Late');
    // A hole that stays (a rolled-back change) is passed after five seconds.
    await main.db.insertInto('config_changes').values({ seq: hole + 5, project_id: project.id, created_at: now().toISOString() }).execute();
    await replicator.syncOnce(now());
    expect(Number((await copy.db.selectFrom('config_replica_state').select('last_seq').executeTakeFirstOrThrow()).last_seq)).toBeLessThan(hole + 5);
    clock += 6_000;
    await replicator.syncOnce(now());
    expect(Number((await copy.db.selectFrom('config_replica_state').select('last_seq').executeTakeFirstOrThrow()).last_seq)).toBe(hole + 5);
  });

  it('starts a new copy with the whole configuration, including what was made before the log existed', async () => {
    const early = await main.projects.create({ name: 'Early', publicKey: 'pk_early' });
    await main.projects.addSecretKey(early.id, 'secret-early');
    // As on a database migrated from before the change log: nothing logged of it.
    await main.db.deleteFrom('config_changes').execute();
    await replicator.syncOnce(now());
    expect(await copy.projects.findByPublicKey('pk_early')).toEqual(early);
    expect((await copy.projects.listSecretKeys(early.id)).map((key) => key.secret)).toEqual(['secret-early']);
  });

  it('copies everything again after an absence longer than half the log is kept, dropping what the main database deleted', async () => {
    const kept = await main.projects.create({ name: 'Kept', publicKey: 'pk_kept' });
    const gone = await main.projects.create({ name: 'Gone', publicKey: 'pk_gone' });
    await replicator.syncOnce(now());
    expect(await copy.projects.findByPublicKey('pk_gone')).not.toBeNull();
    // Days later: changes made meanwhile were pruned from the log before the copy read them.
    clock += RETENTION_MS;
    await main.projects.update(kept.id, { name: 'Kept (renamed)' });
    await main.db.deleteFrom('projects').where('id', '=', gone.id).execute();
    const pruned = await new KyselyConfigChangeLog(main.db).pruneBefore(new Date(clock + 60_000).toISOString());
    expect(pruned).toBeGreaterThan(0);
    expect(await main.db.selectFrom('config_changes').selectAll().execute()).toEqual([]);
    await replicator.syncOnce(now());
    expect((await copy.projects.findById(kept.id))?.name).toBe('Kept (renamed)');
    expect(await copy.projects.findById(gone.id)).toBeNull();
  });

  it('reports how far it got to the main database, where moves read which copies lag', async () => {
    const project = await main.projects.create({ name: 'Site', publicKey: 'pk_report' });
    await replicator.syncOnce(now());
    const copies = new KyselyConfigCopies(main.db);
    const seq = await copies.lastChangeOf(project.id);
    const reported = await main.db.selectFrom('config_copies').selectAll().execute();
    expect(reported).toEqual([{ region: 'west', last_seq: seq, updated_at: now().toISOString() }]);
    expect(await copies.behind(seq!, new Date(clock - 60_000).toISOString())).toEqual([]);
    await main.projects.update(project.id, { name: 'Renamed' });
    const next = await copies.lastChangeOf(project.id);
    expect(next).toBeGreaterThan(seq!);
    expect(await copies.behind(next!, new Date(clock - 60_000).toISOString())).toEqual([{ region: 'west', lastSeq: seq }]);
    // A copy that has not reported for longer than asked does not count.
    expect(await copies.behind(next!, new Date(clock + 60_000).toISOString())).toEqual([]);
    expect(await copies.lastChangeOf('no-such-project')).toBeNull();
  });

  it('prunes only changes older than the time given', async () => {
    await main.projects.create({ name: 'Site', publicKey: 'pk_prune' });
    const log = new KyselyConfigChangeLog(main.db);
    expect(await log.pruneBefore('2000-01-01T00:00:00.000Z')).toBe(0);
    expect((await main.db.selectFrom('config_changes').selectAll().execute()).length).toBeGreaterThan(0);
    expect(await log.pruneBefore(new Date(Date.now() + 60_000).toISOString())).toBeGreaterThan(0);
  });
});
