import { mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { InvalidBlobKeyError } from '../../src/adapters/blob/blob-key.js';
import { FS_STAGING_DIR, FsBlobStore } from '../../src/adapters/blob/fs.blob-store.js';
import { RegionalBlobStore } from '../../src/adapters/blob/regional.blob-store.js';
import { S3BlobStore } from '../../src/adapters/blob/s3.blob-store.js';
import { derivativeBlobKey, derivativesPrefix, originalBlobKey, regionBlobRoot } from '../../src/domain/blob-layout.js';
import type { BlobStore } from '../../src/ports/blob-store.js';

const UUID = 'ab12c3d4-5e6f-4a7b-8c9d-0e1f2a3b4c5d';
const OTHER = 'ab98c3d4-5e6f-4a7b-8c9d-0e1f2a3b4c5e';
const HASH = '0123456789abcdef0123456789abcdef';
const REGIONS = ['default', 'west', 'east'] as const;
type RegionName = (typeof REGIONS)[number];

/** A byte stream of `text`. */
function bytes(text: string): Readable {
  return Readable.from([Buffer.from(text)]);
}

async function exists(file: string): Promise<boolean> {
  return stat(file).then(
    () => true,
    () => false,
  );
}

/** Every file under `root` but the staging directory, as keys relative to it, sorted. */
async function keysIn(root: string, dir = ''): Promise<string[]> {
  const entries = await readdir(path.join(root, dir), { withFileTypes: true }).catch(() => []);
  const keys: string[] = [];
  for (const entry of entries) {
    const key = dir === '' ? entry.name : `${dir}/${entry.name}`;
    if (key === FS_STAGING_DIR) continue;
    if (entry.isDirectory()) keys.push(...(await keysIn(root, key)));
    else keys.push(key);
  }
  return keys.sort();
}

/** What a call settles to, whether it throws synchronously or rejects. */
async function failureOf(call: () => unknown): Promise<unknown> {
  try {
    await call();
  } catch (error) {
    return error;
  }
  throw new Error('expected the call to fail');
}

describe('RegionalBlobStore', () => {
  let base: string;
  let roots: Record<RegionName, string>;
  let stores: Record<RegionName, FsBlobStore>;

  /** A store over the three regions' folders, the node serving in `local`. */
  function regional(local: RegionName = 'west', only: readonly RegionName[] = REGIONS): RegionalBlobStore {
    return new RegionalBlobStore(new Map<string, BlobStore>(only.map((name) => [name, stores[name]])), 'default', local);
  }

  beforeEach(async () => {
    base = await mkdtemp(path.join(tmpdir(), 'trove-regional-blob-'));
    roots = { default: path.join(base, 'default'), west: path.join(base, 'west'), east: path.join(base, 'east') };
    stores = {
      default: new FsBlobStore({ root: roots.default }),
      west: new FsBlobStore({ root: roots.west }),
      east: new FsBlobStore({ root: roots.east }),
    };
  });

  afterEach(async () => {
    await rm(base, { recursive: true, force: true });
  });

  it("keeps a region's original in that region's folder, without the region's root", async () => {
    // The node serves in east: west is neither its region nor the default one.
    const store = regional('east');
    const key = originalBlobKey(UUID, regionBlobRoot('west'));
    expect(key).toBe(`regions/west/originals/ab/${UUID}`);

    expect(await store.put(key, bytes('west original'))).toEqual({ size: 13 });
    expect(await readFile(path.join(roots.west, 'originals', 'ab', UUID), 'utf8')).toBe('west original');
    expect(await keysIn(roots.west)).toEqual([`originals/ab/${UUID}`]);
    expect(await keysIn(roots.default)).toEqual([]);
    expect(await keysIn(roots.east)).toEqual([]);

    expect(await store.head(key)).toEqual({ size: 13 });
    expect(await store.head(originalBlobKey(UUID))).toBeNull();
    await store.delete(key);
    expect(await exists(path.join(roots.west, 'originals', 'ab', UUID))).toBe(false);
  });

  it("keeps unrooted originals in the default region's folder, even on a node of another region", async () => {
    const store = regional('west');
    await store.put(originalBlobKey(UUID), bytes('default original'));
    expect(await keysIn(roots.default)).toEqual([`originals/ab/${UUID}`]);
    expect(await keysIn(roots.west)).toEqual([]);
    const stream = await store.get(originalBlobKey(UUID), { start: 8, end: 15 });
    expect(stream).not.toBeNull();
    const chunks: Buffer[] = [];
    for await (const chunk of stream ?? []) chunks.push(Buffer.from(chunk as Uint8Array));
    expect(Buffer.concat(chunks).toString()).toBe('original');
  });

  it("keeps derivatives and HLS renditions in the node's own region's folder", async () => {
    const store = regional('west');
    const derivative = derivativeBlobKey(UUID, HASH, 'auto-webp');
    await store.put(derivative, bytes('webp'));
    await store.put(`derivatives/${UUID}/x`, bytes('x'));
    await store.put(`hls/${UUID}/master.m3u8`, bytes('#EXTM3U'));
    expect(await keysIn(roots.west)).toEqual([`derivatives/${UUID}/${HASH}-auto-webp`, `derivatives/${UUID}/x`, `hls/${UUID}/master.m3u8`].sort());
    expect(await keysIn(roots.default)).toEqual([]);
    expect(await keysIn(roots.east)).toEqual([]);

    // A node of the default region keeps them in the default region's folder.
    await regional('default').put(`derivatives/${UUID}/y`, bytes('y'));
    expect(await keysIn(roots.default)).toEqual([`derivatives/${UUID}/y`]);
  });

  it("deletes a file's derivatives in every region's folder, counting them all", async () => {
    const store = regional('west');
    // Nodes of each region computed some: they are in their own region's folder.
    await stores.default.put(`derivatives/${UUID}/a`, bytes('a'));
    await stores.west.put(`derivatives/${UUID}/b`, bytes('b'));
    await stores.west.put(`derivatives/${UUID}/c`, bytes('c'));
    await stores.east.put(`derivatives/${UUID}/d`, bytes('d'));
    // Another file's derivatives and the originals stay.
    await stores.east.put(`derivatives/${OTHER}/a`, bytes('a'));
    await stores.default.put(originalBlobKey(UUID), bytes('o'));
    await stores.east.put(originalBlobKey(UUID), bytes('o'));

    expect(await store.deletePrefix(derivativesPrefix(UUID))).toBe(4);
    expect(await keysIn(roots.default)).toEqual([`originals/ab/${UUID}`]);
    expect(await keysIn(roots.west)).toEqual([]);
    expect(await keysIn(roots.east)).toEqual([`derivatives/${OTHER}/a`, `originals/ab/${UUID}`]);
    expect(await store.deletePrefix(derivativesPrefix(UUID))).toBe(0);
  });

  it('deletes a rooted prefix in its region alone, and an unrooted originals prefix in the default region alone', async () => {
    const store = regional('west');
    for (const region of REGIONS) {
      await stores[region].put(originalBlobKey(UUID), bytes(region));
      await stores[region].put(originalBlobKey(OTHER), bytes(region));
    }
    expect(await store.deletePrefix(`${regionBlobRoot('west')}originals/ab/`)).toBe(2);
    expect(await keysIn(roots.west)).toEqual([]);
    expect(await keysIn(roots.default)).toHaveLength(2);
    expect(await keysIn(roots.east)).toHaveLength(2);

    expect(await store.deletePrefix(`regions/east/originals/ab/${UUID}`)).toBe(1);
    expect(await keysIn(roots.east)).toEqual([`originals/ab/${OTHER}`]);

    expect(await store.deletePrefix('originals/ab/')).toBe(2);
    expect(await keysIn(roots.default)).toEqual([]);
    expect(await keysIn(roots.east)).toEqual([`originals/ab/${OTHER}`]);
  });

  it("assembles a multipart upload to a region's key in that region's folder, staging it there", async () => {
    const store = regional('east');
    const key = originalBlobKey(UUID, regionBlobRoot('west'));
    const { uploadId } = await store.createMultipart(key, { size: 6 });
    expect(await readdir(path.join(roots.west, FS_STAGING_DIR))).toEqual([`mp-${uploadId}`]);
    const parts = [
      await store.uploadPart(key, uploadId, { partNumber: 1, offset: 0, size: 3 }, bytes('abc')),
      await store.uploadPart(key, uploadId, { partNumber: 2, offset: 3, size: 3 }, bytes('def')),
    ];
    expect(await store.completeMultipart(key, uploadId, parts)).toEqual({ size: 6 });
    expect(await readFile(path.join(roots.west, 'originals', 'ab', UUID), 'utf8')).toBe('abcdef');
    expect(await readdir(path.join(roots.west, FS_STAGING_DIR))).toEqual([]);
    for (const region of ['default', 'east'] as const) expect(await exists(path.join(roots[region], FS_STAGING_DIR))).toBe(false);

    const aborted = await store.createMultipart(key, { size: 1 });
    await store.abortMultipart(key, aborted.uploadId);
    expect(await readdir(path.join(roots.west, FS_STAGING_DIR))).toEqual([]);
  });

  it('keeps the region root out of the key a region store checks', async () => {
    const store = regional('west');
    for (const key of ['regions/west/../x', 'regions/west//abs', 'regions/west/', `regions/west/${FS_STAGING_DIR}/x`]) {
      expect(await failureOf(() => store.put(key, bytes('x'))), key).toBeInstanceOf(InvalidBlobKeyError);
      expect(await failureOf(() => store.head(key)), key).toBeInstanceOf(InvalidBlobKeyError);
    }
    await expect(store.deletePrefix('regions/west/../')).rejects.toThrow(InvalidBlobKeyError);
    expect(await keysIn(base)).toEqual([]);
  });

  it('refuses a key of a region this node does not declare, with REGION_NOT_CONFIGURED', async () => {
    const store = regional('west');
    const key = originalBlobKey(UUID, regionBlobRoot('north'));
    const calls: Array<[string, () => unknown]> = [
      ['put', () => store.put(key, bytes('x'))],
      ['get', () => store.get(key)],
      ['head', () => store.head(key)],
      ['delete', () => store.delete(key)],
      ['deletePrefix', () => store.deletePrefix('regions/north/originals/')],
      ['createMultipart', () => store.createMultipart(key, { size: 1 })],
      ['uploadPart', () => store.uploadPart(key, 'upload', { partNumber: 1, offset: 0, size: 1 }, bytes('x'))],
      ['completeMultipart', () => store.completeMultipart(key, 'upload', [])],
      ['abortMultipart', () => store.abortMultipart(key, 'upload')],
      ['localPath', () => store.localPath(key)],
      ['pingRegion', () => store.pingRegion('north')],
    ];
    for (const [name, call] of calls) {
      const error = await failureOf(call);
      expect(error, name).toMatchObject({ code: 'REGION_NOT_CONFIGURED', statusCode: 503 });
      expect((error as Error).message, name).toMatch(/"north".*TROVE_REGIONS/);
    }
    expect(await keysIn(base)).toEqual([]);
  });

  // BlobStore methods return promises, and callers rely on it: `blobs.delete(key).catch(() => undefined)`
  // in FileIngestService.discard and `blobs.abortMultipart(…).catch(…)` in the multipart sweeper.
  it('rejects (never throws synchronously) for an undeclared region, so .catch() on the call sees the error', async () => {
    const store = regional('west');
    const key = originalBlobKey(UUID, regionBlobRoot('north'));
    await expect(store.delete(key).catch(() => 'caught')).resolves.toBe('caught');
    await expect(store.abortMultipart(key, 'upload').catch(() => 'caught')).resolves.toBe('caught');
  });

  it("answers the path of a key's file in its region's folder, and null for a region kept in S3", async () => {
    const store = regional('west');
    expect(store.localPath(originalBlobKey(UUID, regionBlobRoot('east')))).toBe(path.join(roots.east, 'originals', 'ab', UUID));
    expect(store.localPath(originalBlobKey(UUID))).toBe(path.join(roots.default, 'originals', 'ab', UUID));
    expect(store.localPath(`derivatives/${UUID}/x`)).toBe(path.join(roots.west, 'derivatives', UUID, 'x'));
    expect(() => store.localPath('regions/east/../x')).toThrow(InvalidBlobKeyError);

    // Constructing an S3 store opens no connection.
    const s3 = new S3BlobStore({ bucket: 'trove-north', region: 'us-east-1', forcePathStyle: true, endpoint: 'http://127.0.0.1:9', requestChecksum: 'when_required' });
    const mixed = new RegionalBlobStore(new Map<string, BlobStore>([['default', stores.default], ['west', stores.west], ['north', s3]]), 'default', 'west');
    expect(mixed.localPath(originalBlobKey(UUID, regionBlobRoot('north')))).toBeNull();
    expect(mixed.localPath(originalBlobKey(UUID))).toBe(path.join(roots.default, 'originals', 'ab', UUID));
    await s3.close();
  });

  it("refuses a map without the default region's store or the node's own", () => {
    expect(() => regional('west', ['west', 'east'])).toThrow(/default \(default\)/);
    expect(() => regional('east', ['default', 'west'])).toThrow(/this node's \(east\)/);
    expect(() => regional('default', ['default'])).not.toThrow();
  });

  it('lists the regions, the default first', () => {
    const store = new RegionalBlobStore(new Map<string, BlobStore>([['west', stores.west], ['default', stores.default], ['east', stores.east]]), 'default', 'east');
    expect(store.regions()).toEqual(['default', 'west', 'east']);
  });

  it("pings the node's own region alone; pingRegion checks any region", async () => {
    // A default region whose folder is a regular file cannot be written (FsBlobStore.ping fails).
    await writeFile(path.join(base, 'blocked'), 'not a folder');
    const blocked = new FsBlobStore({ root: path.join(base, 'blocked') });
    const store = new RegionalBlobStore(new Map<string, BlobStore>([['default', blocked], ['west', stores.west]]), 'default', 'west');
    await expect(store.ping()).resolves.toBeUndefined();
    await expect(store.pingRegion('west')).resolves.toBeUndefined();
    await expect(store.pingRegion('default')).rejects.toThrow();
    // On a node of the default region, that region is its own.
    const onDefault = new RegionalBlobStore(new Map<string, BlobStore>([['default', blocked], ['west', stores.west]]), 'default', 'default');
    await expect(onDefault.ping()).rejects.toThrow();
  });

  it("prunes stale staging files in every region's folder", async () => {
    const store = regional('west');
    for (const region of REGIONS) await stores[region].createMultipart('k', { size: 1 });
    expect(await store.pruneStale({ putOlderThanMs: 0, multipartOlderThanMs: -1 })).toBe(3);
    for (const region of REGIONS) expect(await readdir(path.join(roots[region], FS_STAGING_DIR))).toEqual([]);
  });

  it("takes its kind from the node's own region", async () => {
    const s3 = new S3BlobStore({ bucket: 'trove-north', region: 'us-east-1', forcePathStyle: true, endpoint: 'http://127.0.0.1:9', requestChecksum: 'when_required' });
    const withS3 = new Map<string, BlobStore>([['default', stores.default], ['north', s3]]);
    expect(new RegionalBlobStore(withS3, 'default', 'default').kind).toBe('fs');
    expect(new RegionalBlobStore(withS3, 'default', 'north').kind).toBe('s3');
    await s3.close();
  });
});
