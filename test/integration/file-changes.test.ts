import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KyselyMetadataStore } from '../../src/adapters/db/kysely-metadata-store.js';
import type { StoredFile } from '../../src/domain/file.js';
import { storedFile } from '../helpers/stored-file.js';
import { deleteFileRow, insertFiles, removeFiles, storeFiles, updateFileInfo } from '../../src/services/file-changes.js';

const T0 = '2024-03-01T00:00:00.000Z';
const T1 = '2024-03-02T00:00:00.000Z';
const T2 = '2024-03-03T00:00:00.000Z';

describe('file changes as the services write them (SQLite)', () => {
  let dir: string;
  let store: KyselyMetadataStore;

  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'trove-file-changes-'));
    store = new KyselyMetadataStore({ kind: 'sqlite', path: path.join(dir, 'trove.db') });
    await store.migrate();
  });

  afterAll(async () => {
    await store.close();
    await rm(dir, { recursive: true, force: true });
  });

  const fileOf = (projectId: string, overrides: Partial<StoredFile> = {}): StoredFile =>
    storedFile({ projectId, metadata: { k: 'v' }, tags: ['t'], datetimeUploaded: T0, expiresAt: T2, ...overrides });

  /** This file's events without their ids, oldest first; those of one instant (in id order, which is random) sorted by content. */
  const eventsOf = async (uuid: string) =>
    (await store.outbox.oldest(10_000))
      .filter((e) => e.fileUuid === uuid)
      .map(({ event, previousValues, createdAt }) => ({ event, previousValues, createdAt }))
      .sort((x, y) => x.createdAt.localeCompare(y.createdAt) || JSON.stringify(x).localeCompare(JSON.stringify(y)));

  it('records each change with its events and moves the counters with it', async () => {
    const project = await store.projects.create({ name: 'p', publicKey: `pk_${randomUUID()}` });
    const a = fileOf(project.id);
    const b = fileOf(project.id, { datetimeStored: T0, expiresAt: null });
    await insertFiles(store, [a, b]);
    expect(await store.fileCounters.counts(project.id)).toEqual({ stored: 1, unstored: 1, removed: 0 });
    expect(await eventsOf(b.uuid)).toEqual([
      { event: 'file.stored', previousValues: null, createdAt: T0 },
      { event: 'file.uploaded', previousValues: null, createdAt: T0 },
    ]);

    expect((await storeFiles(store, project.id, [a.uuid, b.uuid], T1)).map((f) => f.uuid)).toEqual([a.uuid]);
    expect(await store.fileCounters.counts(project.id)).toEqual({ stored: 2, unstored: 0, removed: 0 });

    await updateFileInfo(store, project.id, a.uuid, { tags: ['u'] }, { tags: ['t'] }, T1);
    await updateFileInfo(store, project.id, a.uuid, { metadata: { k: 'w' } }, { metadata: { k: 'v' } }, T1);
    expect(await updateFileInfo(store, project.id, randomUUID(), { tags: [] }, { tags: [] }, T1)).toBeNull();

    expect((await removeFiles(store, project.id, [a.uuid], T2)).map((f) => f.uuid)).toEqual([a.uuid]);
    expect(await store.fileCounters.counts(project.id)).toEqual({ stored: 1, unstored: 0, removed: 1 });
    expect(await eventsOf(a.uuid)).toEqual([
      { event: 'file.uploaded', previousValues: null, createdAt: T0 },
      { event: 'file.info_updated', previousValues: { metadata: { k: 'v' } }, createdAt: T1 },
      { event: 'file.info_updated', previousValues: { tags: ['t'] }, createdAt: T1 },
      { event: 'file.stored', previousValues: null, createdAt: T1 },
      { event: 'file.deleted', previousValues: null, createdAt: T2 },
    ]);

    expect(await deleteFileRow(store, a.uuid)).toBe(true);
    expect(await deleteFileRow(store, a.uuid)).toBe(false);
    expect(await store.fileCounters.counts(project.id)).toEqual({ stored: 1, unstored: 0, removed: 0 });
    expect(await eventsOf(a.uuid)).toHaveLength(5);
  });

  it('writes nothing of a batch that fails: no file, no event, no counter', async () => {
    const project = await store.projects.create({ name: 'p', publicKey: `pk_${randomUUID()}` });
    const existing = fileOf(project.id);
    await insertFiles(store, [existing]);
    const fresh = Array.from({ length: 60 }, () => fileOf(project.id));
    // The duplicate sits in the second INSERT statement, after the first has run.
    await expect(insertFiles(store, [...fresh, { ...existing }])).rejects.toThrow();
    expect(await store.files.findManyForProject(project.id, fresh.map((f) => f.uuid))).toEqual([]);
    expect(await eventsOf(fresh[0]!.uuid)).toEqual([]);
    expect(await store.fileCounters.counts(project.id)).toEqual({ stored: 0, unstored: 1, removed: 0 });
  });
});
