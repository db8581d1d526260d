import { KyselyShardSet } from '../../src/adapters/db/shard-set.js';
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FsBlobStore } from '../../src/adapters/blob/fs.blob-store.js';
import { KyselyMetadataStore } from '../../src/adapters/db/kysely-metadata-store.js';
import { insertFiles } from '../../src/services/file-changes.js';
import { DeliveryService } from '../../src/services/delivery.service.js';
import { MutableClock } from '../helpers/clock.js';
import { storedFile } from '../helpers/stored-file.js';

const TTL_MS = 30_000;

/** A hot `/<group>/nth/<i>/` URL is answered from memory like a file URL: no database read per request. */
describe('group members in the delivery cache (SQLite)', () => {
  let dir: string;
  let store: KyselyMetadataStore;
  let shards: KyselyShardSet;
  let blobs: FsBlobStore;
  const clock = new MutableClock();

  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'trove-group-cache-'));
    store = new KyselyMetadataStore({ kind: 'sqlite', path: path.join(dir, 'trove.db') });
    await store.migrate();
    // Two shards, the project on the second: a CDN URL names no project, so a miss asks both.
    shards = await KyselyShardSet.open(store, { configured: [{ name: 'b', database: { kind: 'sqlite', path: path.join(dir, 'shard-b.db') }, region: null }], poolSize: 1, cacheTtlMs: 1_000 });
    blobs = new FsBlobStore({ root: path.join(dir, 'blobs') });
  });

  afterAll(async () => {
    await blobs.close();
    await shards.close();
    await store.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('serves a member from memory until the record lifetime passes, then reads the group again', async () => {
    const placed = { id: randomUUID(), name: 'p', publicKey: `pk-${randomUUID()}`, createdAt: clock.now().toISOString(), shard: 'b' };
    await shards.anchor('b', placed);
    const project = await store.projects.create(placed);
    const shard = await shards.forProject(project.id);
    const uuid = randomUUID();
    const now = clock.now().toISOString();
    await insertFiles(shard, [storedFile({ uuid, projectId: project.id, datetimeUploaded: now, datetimeStored: now })]);
    const groupId = `${randomUUID()}~1`;
    await shard.groups.create({ id: groupId, projectId: project.id, filesCount: 1, datetimeCreated: now, datetimeStored: null }, [
      { position: 0, fileUuid: uuid, effects: '-/resize/10x/' },
    ]);
    const delivery = new DeliveryService(shards, blobs, clock, {
      originalCacheBytes: 0,
      originalCacheMaxEntryBytes: 0,
      sourceCacheBytes: 0,
      sourceCacheMaxEntryBytes: 0,
      recordCacheEntries: 100,
      recordCacheTtlMs: TTL_MS,
    });

    const first = await delivery.findGroupMember(groupId, 0);
    expect([first.file.uuid, first.effects]).toEqual([uuid, '-/resize/10x/']);

    // With the rows gone, only memory can still answer.
    expect(await shard.groups.delete(project.id, groupId)).toBe(true);
    const again = await delivery.findGroupMember(groupId, 0);
    expect(again.file.uuid).toBe(uuid);

    clock.advance(TTL_MS + 1);
    await expect(delivery.findGroupMember(groupId, 0)).rejects.toMatchObject({ statusCode: 404 });
  });
});
