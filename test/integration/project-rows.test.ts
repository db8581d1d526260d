import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import SqliteDatabase from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { KyselyMetadataStore } from '../../src/adapters/db/kysely-metadata-store.js';
import { KyselyProjectRowCopier } from '../../src/adapters/db/project-rows.js';
import { KyselyShardSet } from '../../src/adapters/db/shard-set.js';
import { originalBlobKey, regionBlobRoot } from '../../src/domain/blob-layout.js';
import type { StoredFile } from '../../src/domain/file.js';
import { storedFile } from '../helpers/stored-file.js';
import type { Project } from '../../src/domain/project.js';

/** A file record of the project with its original under `root` (its region's key root). */
function inRegion(projectId: string, root: string): StoredFile {
  const uuid = randomUUID();
  return storedFile({ projectId, uuid, size: 3, blobKey: originalBlobKey(uuid, root) });
}

/** Copying a project's rows between two shards (SQLite) while the project keeps writing. */
describe('project rows copied between shards', () => {
  let dir: string;
  let main: KyselyMetadataStore;
  let shards: KyselyShardSet;
  let project: Project;

  beforeEach(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'trove-project-rows-'));
    main = new KyselyMetadataStore({ kind: 'sqlite', path: path.join(dir, 'main.db') });
    await main.migrate();
    shards = await KyselyShardSet.open(main, {
      configured: [{ name: 'w', database: { kind: 'sqlite', path: path.join(dir, 'w.db') }, region: 'west' }],
      poolSize: 1,
      cacheTtlMs: 60_000,
    });
    project = await main.projects.create({ id: randomUUID(), name: 'Moving', publicKey: 'pk_rows', shard: 'w', createdAt: new Date().toISOString() });
    await shards.anchor('w', project);
  });

  afterEach(async () => {
    await shards.close();
    await main.close();
    await rm(dir, { recursive: true, force: true });
  });

  const analysisOf = (file: StoredFile) => ({
    fileUuid: file.uuid,
    projectId: file.projectId,
    thumbhash: 'AAAA',
    blurhash: 'LEHV6nWB2yk8pyo0adR*.7kCMdnj',
    dominantColor: '#102030',
    palette: ['#102030'],
    phash: '0123456789abcdef',
    version: '1',
    createdAt: new Date().toISOString(),
    computedAt: new Date().toISOString(),
  });

  it('leaves a row whose parent appeared after its table was copied for the next sync, which then copies both', async () => {
    const source = await shards.forProject(project.id);
    const first = inRegion(project.id, regionBlobRoot('west'));
    await source.files.insertMany([first]);
    expect(await source.imageAnalysis.save(analysisOf(first))).toBe(true);
    const copier = new KyselyProjectRowCopier(shards);
    // A file and its analysis written once the files table has been copied, before image_analysis
    // is: written at that very moment through a connection of their own, as another process would.
    const writer = new SqliteDatabase(path.join(dir, 'w.db'));
    const lateUuid = randomUUID();
    const cloneRow = (table: 'files' | 'image_analysis', key: 'uuid' | 'file_uuid') => {
      const columns = (writer.pragma(`table_info(${table})`) as Array<{ name: string }>).map((c) => c.name);
      const values = columns.map((c) => (c === key ? '?' : c === 'blob_key' ? `'originals/' || substr(?, 1, 2) || '/' || ?` : c));
      const parameters = columns.flatMap((c) => (c === key ? [lateUuid] : c === 'blob_key' ? [lateUuid, lateUuid] : []));
      writer.prepare(`insert into ${table} (${columns.join(', ')}) select ${values.join(', ')} from ${table} where ${key} = ?`).run(...parameters, first.uuid);
    };
    try {
      await copier.sync(project.id, 'w', 'main', {
        onRows: (table) => {
          if (table === 'files' && !writer.prepare('select 1 from files where uuid = ?').get(lateUuid)) {
            cloneRow('files', 'uuid');
            cloneRow('image_analysis', 'file_uuid');
          }
        },
      });
    } finally {
      writer.close();
    }
    expect(await source.imageAnalysis.find(project.id, lateUuid)).not.toBeNull();
    const differing = (await copier.compare(project.id, 'w', 'main')).filter((t) => t.sourceRows !== t.targetRows || t.sourceChecksum !== t.targetChecksum);
    expect(differing.map((t) => t.table)).toContain('files');
    await copier.sync(project.id, 'w', 'main');
    const after = (await copier.compare(project.id, 'w', 'main')).filter((t) => t.sourceRows !== t.targetRows || t.sourceChecksum !== t.targetChecksum);
    expect(after).toEqual([]);
  });

  it('lists the originals its rows name, relative to the region, in pages by uuid', async () => {
    const source = await shards.forProject(project.id);
    expect(source.region).toBe('west');
    expect(source.blobRoot).toBe('regions/west/');
    const files = Array.from({ length: 5 }, () => inRegion(project.id, source.blobRoot));
    await source.files.insertMany(files);
    const copier = new KyselyProjectRowCopier(shards);
    const firstPage = await copier.originals(project.id, 'w', null, 3);
    const secondPage = await copier.originals(project.id, 'w', firstPage.at(-1)!.uuid, 3);
    const listed = [...firstPage, ...secondPage];
    expect(listed.map((o) => o.uuid)).toEqual(files.map((f) => f.uuid).sort());
    for (const original of listed) expect(original).toEqual({ uuid: original.uuid, key: originalBlobKey(original.uuid), size: 3 });
    // A key of another region cannot be recorded on this shard.
    await expect(source.files.insertMany([inRegion(project.id, '')])).rejects.toMatchObject({ code: 'PROJECT_MOVING' });
  });
});
