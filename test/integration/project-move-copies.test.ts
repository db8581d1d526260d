import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FsBlobStore } from '../../src/adapters/blob/fs.blob-store.js';
import { KyselyConfigCopies } from '../../src/adapters/db/config-replica.js';
import { KyselyMetadataStore } from '../../src/adapters/db/kysely-metadata-store.js';
import { KyselyProjectRowCopier } from '../../src/adapters/db/project-rows.js';
import { KyselyShardSet } from '../../src/adapters/db/shard-set.js';
import { systemClock } from '../../src/lib/clock.js';
import { ProjectBlobCopy } from '../../src/services/project-blob-copy.js';
import { ProjectMoveService, type MoveProgress } from '../../src/services/project-move.service.js';
import { storedFile } from '../helpers/stored-file.js';

/**
 * A move between shards waits, before deleting the old rows, for every region's configuration copy
 * that reported lately to have applied the switch (SQLite; the copies' progress written by hand, as
 * their syncers would).
 */
describe('a move waits for the regions’ configuration copies', () => {
  let dir: string;
  let main: KyselyMetadataStore;
  let shards: KyselyShardSet;
  let blobs: FsBlobStore;

  beforeEach(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'trove-move-copies-'));
    main = new KyselyMetadataStore({ kind: 'sqlite', path: path.join(dir, 'main.db') });
    await main.migrate();
    shards = await KyselyShardSet.open(main, { configured: [{ name: 'b', database: { kind: 'sqlite', path: path.join(dir, 'b.db') }, region: null }], poolSize: 1, cacheTtlMs: 50 });
    blobs = new FsBlobStore({ root: path.join(dir, 'blobs') });
  });

  afterEach(async () => {
    await shards.close();
    await main.close();
    await blobs.close();
    await rm(dir, { recursive: true, force: true });
  });

  const report = (region: string, lastSeq: number, at = new Date()) =>
    main.db
      .insertInto('config_copies')
      .values({ region, last_seq: lastSeq, updated_at: at.toISOString() })
      .onConflict((oc) => oc.column('region').doUpdateSet({ last_seq: lastSeq, updated_at: at.toISOString() }))
      .execute();

  it('keeps the old rows while an active copy lags, says which, and finishes once it has caught up; a silent copy does not hold it', async () => {
    const project = await main.projects.create({ id: randomUUID(), name: 'Shop', publicKey: 'pk_move_copies', shard: 'main', createdAt: new Date().toISOString() });
    await (await shards.forProject(project.id)).files.insertMany([storedFile({ projectId: project.id })]);
    const filesOnMain = async () => (await main.db.selectFrom('files').select('uuid').where('project_id', '=', project.id).execute()).length;
    const rows = new KyselyProjectRowCopier(shards);
    const copies = new KyselyConfigCopies(main.db);
    const moves = new ProjectMoveService(main.projects, main.moves, rows, shards, { projectChanged: async () => undefined }, systemClock, { shardCacheTtlMs: 50, copiesWaitMs: 300 }, new ProjectBlobCopy(blobs, rows), copies);
    // East is current, west lags at change 0, and a region silent for an hour is gone.
    await report('east', 1_000_000);
    await report('west', 0);
    await report('gone', 0, new Date(Date.now() - 3_600_000));
    const progress: MoveProgress[] = [];
    await expect(moves.move(project.publicKey, 'b', { onProgress: (p) => progress.push(p) })).rejects.toMatchObject({ code: 'MOVE_REGIONS_BEHIND', message: expect.stringContaining('west (at change 0)') });
    const waiting = progress.find((p) => p.step === 'regions');
    expect(waiting).toMatchObject({ step: 'regions', behind: [{ region: 'west', lastSeq: 0 }] });
    // Switched, not cleaned: the project works on its new shard and its old rows are still there.
    expect((await moves.status(project.publicKey))?.phase).toBe('switched');
    expect((await main.projects.findById(project.id))?.shard).toBe('b');
    expect(await filesOnMain()).toBe(1);

    const seq = await copies.lastChangeOf(project.id);
    expect(seq).not.toBeNull();
    await report('west', seq!);
    const done = await moves.move(project.publicKey, 'b');
    expect(done.phase).toBe('done');
    expect(await filesOnMain()).toBe(0);
    expect(await copies.behind(seq!, new Date(Date.now() - 600_000).toISOString())).toEqual([]);
  });
});
