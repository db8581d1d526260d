import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ENV_VARS, loadConfig } from '../../src/config/load-config.js';
import { parseBytes, parseDuration } from '../../src/config/parse-values.js';
import { ConfigError } from '../../src/errors.js';

describe('parseBytes / parseDuration', () => {
  it.each([
    ['104857600', 104857600],
    ['100MiB', 100 * 1024 ** 2],
    ['100 MB', 100_000_000],
    ['1.5GiB', 1.5 * 1024 ** 3],
    ['5kb', 5000],
  ])('%s bytes', (raw, expected) => expect(parseBytes(raw)).toBe(expected));

  it.each(['', 'lots', '10 parsecs', '-5MB'])('refuses %j', (raw) => expect(() => parseBytes(raw)).toThrow());

  it.each([
    ['500ms', 500],
    ['30s', 30_000],
    ['15m', 900_000],
    ['24h', 86_400_000],
    ['7d', 604_800_000],
    ['250', 250],
  ])('%s', (raw, expected) => expect(parseDuration(raw)).toBe(expected));
});

describe('loadConfig', () => {
  it('runs with no environment at all: SQLite and files under ./data', () => {
    const config = loadConfig({});
    expect(config.port).toBe(3000);
    expect(config.database.kind).toBe('sqlite');
    expect(config.storage.kind).toBe('fs');
    expect(config.http.uploadPrefix).toBe('/upload');
    expect(config.http.deliveryPrefix).toBe('');
    expect([...config.roles]).toEqual(['upload', 'api', 'delivery', 'worker', 'video']);
    expect(config.fetch.allowPrivate).toBe(false);
  });

  it('switches to PostgreSQL and S3 by environment alone', () => {
    const config = loadConfig({
      DATABASE_URL: 'postgres://trove:pw@db:5432/trove',
      STORAGE_URL: 's3://media-bucket/trove/files?endpoint=http://minio:9000&region=eu-west-1&forcePathStyle=true',
      AWS_ACCESS_KEY_ID: 'AKIA',
      AWS_SECRET_ACCESS_KEY: 'secret',
    });
    expect(config.database).toMatchObject({ kind: 'postgres', url: 'postgres://trove:pw@db:5432/trove' });
    expect(config.storage).toMatchObject({
      kind: 's3',
      bucket: 'media-bucket',
      prefix: 'trove/files',
      endpoint: 'http://minio:9000',
      region: 'eu-west-1',
      forcePathStyle: true,
      credentials: { accessKeyId: 'AKIA', secretAccessKey: 'secret' },
      requestChecksum: 'when_required',
    });
  });

  it('reports every bad value at once, one line each, naming the variable', () => {
    let error: unknown;
    try {
      loadConfig({ PORT: 'eighty', TROVE_MAX_FILE_SIZE: 'huge', DATABASE_URL: 'mysql://x', TROVE_ROLES: 'upload,cooking', STORAGE_URL: 's3://B!/x?colour=red' });
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const problems = (error as ConfigError).problems;
    expect(problems).toHaveLength(5);
    expect(problems.join('\n')).toMatch(/^PORT: /m);
    expect(problems.join('\n')).toMatch(/^TROVE_MAX_FILE_SIZE: /m);
    expect(problems.join('\n')).toMatch(/^DATABASE_URL: .*postgres/m);
    expect(problems.join('\n')).toMatch(/^TROVE_ROLES: unknown role "cooking"/m);
    expect(problems.join('\n')).toMatch(/^STORAGE_URL: /m);
  });

  it('bounds sources by frames or pages and animations by frames × source pixels, with defaults that ordinary GIFs pass', () => {
    expect(loadConfig({}).transform).toMatchObject({ maxSourcePages: 1000, maxAnimationSourcePixels: 500_000_000 });
    expect(loadConfig({ TROVE_MAX_SOURCE_PAGES: '50', TROVE_MAX_ANIMATION_SOURCE_PIXELS: '1000000' }).transform).toMatchObject({
      maxSourcePages: 50,
      maxAnimationSourcePixels: 1_000_000,
    });
    expect(() => loadConfig({ TROVE_MAX_SOURCE_PAGES: '0' })).toThrow(/^.*TROVE_MAX_SOURCE_PAGES: expected a number from 1 to 100000/m);
    expect(() => loadConfig({ TROVE_MAX_ANIMATION_SOURCE_PIXELS: 'lots' })).toThrow(/TROVE_MAX_ANIMATION_SOURCE_PIXELS: expected a whole number/);
  });

  it('chooses the face detector, its deadline and its recycling, refusing values out of range', () => {
    expect(loadConfig({}).faces).toEqual({ model: 'ssd', timeoutMs: 20_000, recycleAfter: 500 });
    expect(loadConfig({ TROVE_FACE_MODEL: 'tiny', TROVE_FACE_TIMEOUT: '5s', TROVE_FACE_RECYCLE_AFTER: '10' }).faces).toEqual({ model: 'tiny', timeoutMs: 5_000, recycleAfter: 10 });
    expect(loadConfig({ TROVE_FACE_MODEL: 'off' }).faces.model).toBe('off');
    expect(() => loadConfig({ TROVE_FACE_MODEL: 'haar' })).toThrow(/TROVE_FACE_MODEL/);
    expect(() => loadConfig({ TROVE_FACE_TIMEOUT: '10ms' })).toThrow(/TROVE_FACE_TIMEOUT/);
    expect(() => loadConfig({ TROVE_FACE_RECYCLE_AFTER: '0' })).toThrow(/TROVE_FACE_RECYCLE_AFTER/);
  });

  it('still reads TROVE_MAX_ANIMATION_FRAMES, the page limit\'s former name, but not next to the new name', () => {
    expect(loadConfig({ TROVE_MAX_ANIMATION_FRAMES: '70' }).transform.maxSourcePages).toBe(70);
    expect(() => loadConfig({ TROVE_MAX_ANIMATION_FRAMES: '0' })).toThrow(/^.*TROVE_MAX_ANIMATION_FRAMES: expected a number from 1 to 100000/m);
    expect(() => loadConfig({ TROVE_MAX_ANIMATION_FRAMES: '70', TROVE_MAX_SOURCE_PAGES: '80' })).toThrow(
      /^.*TROVE_MAX_ANIMATION_FRAMES: the former name of TROVE_MAX_SOURCE_PAGES, which is set too; keep only TROVE_MAX_SOURCE_PAGES/m,
    );
    expect(ENV_VARS.filter((v) => /PAGES|ANIMATION_FRAMES/.test(v.name) && !v.name.startsWith('TROVE_DOCUMENT_')).map((v) => v.name)).toEqual(['TROVE_MAX_SOURCE_PAGES']);
  });

  it('refuses credentials given by half', () => {
    expect(() => loadConfig({ STORAGE_URL: 's3://bucket-a', AWS_ACCESS_KEY_ID: 'only-id' })).toThrow(/set both or neither/);
  });
});

describe('document settings', () => {
  it('have defaults sized for a small server, and read every variable', () => {
    expect(loadConfig({}).documents).toEqual({ concurrency: 1, timeoutMs: 30_000, maxPages: 1000, maxPagePixels: 50_000_000, libreOfficePath: 'soffice', libreOfficeTimeoutMs: 120_000, programSearchPath: '/usr/local/bin:/usr/bin:/bin' });
    const set = loadConfig({
      TROVE_DOCUMENT_CONCURRENCY: '2',
      TROVE_DOCUMENT_TIMEOUT: '5s',
      TROVE_DOCUMENT_MAX_PAGES: '50',
      TROVE_DOCUMENT_MAX_PAGE_PIXELS: '1000000',
      TROVE_LIBREOFFICE_PATH: '/opt/libreoffice/program/soffice',
      TROVE_LIBREOFFICE_TIMEOUT: '30s',
      PATH: '/opt/bin:/usr/bin',
    }).documents;
    expect(set).toEqual({ concurrency: 2, timeoutMs: 5_000, maxPages: 50, maxPagePixels: 1_000_000, libreOfficePath: '/opt/libreoffice/program/soffice', libreOfficeTimeoutMs: 30_000, programSearchPath: '/opt/bin:/usr/bin' });
    for (const name of ['TROVE_DOCUMENT_CONCURRENCY', 'TROVE_DOCUMENT_TIMEOUT', 'TROVE_DOCUMENT_MAX_PAGES', 'TROVE_DOCUMENT_MAX_PAGE_PIXELS', 'TROVE_LIBREOFFICE_PATH', 'TROVE_LIBREOFFICE_TIMEOUT']) {
      expect(ENV_VARS.some((entry) => entry.name === name)).toBe(true);
    }
  });

  it('refuse values out of range, naming the variable', () => {
    expect(() => loadConfig({ TROVE_DOCUMENT_CONCURRENCY: '0' })).toThrow(/TROVE_DOCUMENT_CONCURRENCY: expected a number from 1 to 64/);
    expect(() => loadConfig({ TROVE_DOCUMENT_MAX_PAGES: 'many' })).toThrow(/TROVE_DOCUMENT_MAX_PAGES: expected a whole number/);
    expect(() => loadConfig({ TROVE_DOCUMENT_MAX_PAGE_PIXELS: '10' })).toThrow(/TROVE_DOCUMENT_MAX_PAGE_PIXELS: expected a number from 10000/);
    expect(() => loadConfig({ TROVE_DOCUMENT_TIMEOUT: '10ms' })).toThrow(/TROVE_DOCUMENT_TIMEOUT/);
    expect(() => loadConfig({ TROVE_LIBREOFFICE_TIMEOUT: 'soon' })).toThrow(/TROVE_LIBREOFFICE_TIMEOUT/);
  });
});

describe('region settings', () => {
  /** The problems loadConfig reports for `env` (none: it loaded). */
  function problemsOf(env: Record<string, string>): string[] {
    try {
      loadConfig(env);
      return [];
    } catch (error) {
      if (!(error instanceof ConfigError)) throw error;
      return error.problems;
    }
  }

  it('default to one region, named default, that the node serves in', () => {
    const { region, shards } = loadConfig({});
    expect(region).toMatchObject({ name: 'default', defaultName: 'default', configCopy: null });
    expect(region.others).toEqual(new Map());
    expect(shards.configured).toEqual([]);
    for (const name of ['TROVE_DEFAULT_REGION', 'TROVE_REGIONS', 'TROVE_REGION']) expect(ENV_VARS.some((entry) => entry.name === name)).toBe(true);
  });

  it('name the default region, where the node then serves unless told otherwise', () => {
    expect(loadConfig({ TROVE_DEFAULT_REGION: 'us' }).region).toMatchObject({ name: 'us', defaultName: 'us' });
    expect(loadConfig({ TROVE_DEFAULT_REGION: ' us ', TROVE_REGION: 'us' }).region).toMatchObject({ name: 'us', defaultName: 'us' });
    expect(problemsOf({ TROVE_DEFAULT_REGION: 'US' })).toEqual([expect.stringMatching(/^TROVE_DEFAULT_REGION: a region name is 1–32 lowercase letters/)]);
  });

  it('read the other regions, each with a storage of its own, on the filesystem or in S3', () => {
    const config = loadConfig({
      TROVE_REGIONS: 'eu=s3://trove-eu/media?region=eu-central-1&endpoint=http://minio-eu:9000&forcePathStyle=true, ap=file:///srv/trove/ap',
      AWS_ACCESS_KEY_ID: 'AKIA',
      AWS_SECRET_ACCESS_KEY: 'secret',
      TROVE_REGION: 'ap',
    });
    expect(config.region).toMatchObject({ name: 'ap', defaultName: 'default' });
    expect([...config.region.others.keys()]).toEqual(['eu', 'ap']);
    expect(config.region.others.get('eu')).toEqual({
      kind: 's3',
      bucket: 'trove-eu',
      prefix: 'media',
      endpoint: 'http://minio-eu:9000',
      region: 'eu-central-1',
      forcePathStyle: true,
      credentials: { accessKeyId: 'AKIA', secretAccessKey: 'secret' },
      requestChecksum: 'when_required',
    });
    expect(config.region.others.get('ap')).toEqual({ kind: 'fs', root: '/srv/trove/ap' });
    // The default region's storage is still STORAGE_URL's.
    expect(config.storage).toEqual({ kind: 'fs', root: path.join(config.dataDir, 'blobs') });
  });

  it.each([
    ['a region named like the default one', { TROVE_REGIONS: 'default=file:///srv/d' }, /^TROVE_REGIONS: "default" is the default region \(TROVE_DEFAULT_REGION\), whose storage is STORAGE_URL$/],
    ['a region named like a renamed default one', { TROVE_DEFAULT_REGION: 'us', TROVE_REGIONS: 'eu=file:///srv/eu,us=file:///srv/us' }, /^TROVE_REGIONS: "us" is the default region/],
    ['a region listed twice', { TROVE_REGIONS: 'eu=file:///srv/eu1 eu=file:///srv/eu2' }, /^TROVE_REGIONS: region "eu" is listed twice$/],
    ['an entry without a name', { TROVE_REGIONS: '=file:///srv/eu' }, /^TROVE_REGIONS: "=file:\/\/\/srv\/eu" is not name=storage_url/],
    ['an entry without a storage', { TROVE_REGIONS: 'eu' }, /^TROVE_REGIONS: "eu" is not name=storage_url/],
    ['a name in capitals', { TROVE_REGIONS: 'EU=file:///srv/eu' }, /^TROVE_REGIONS: region name "EU" must be 1–32 lowercase letters/],
    ['a name starting with a digit', { TROVE_REGIONS: '1eu=file:///srv/eu' }, /^TROVE_REGIONS: region name "1eu" must be/],
    ['a name too long', { TROVE_REGIONS: `r${'a'.repeat(32)}=file:///srv/eu` }, /^TROVE_REGIONS: region name "ra+" must be/],
    ['a storage that is neither s3 nor file', { TROVE_REGIONS: 'eu=http://storage-eu' }, /^TROVE_REGIONS: expected a URL starting with s3:\/\/ or file:\/\//],
    ['a file storage without a folder', { TROVE_REGIONS: 'eu=file:///' }, /^TROVE_REGIONS: file: URL needs a folder/],
    ['a node in an undeclared region', { TROVE_REGIONS: 'eu=file:///srv/eu', TROVE_REGION: 'ap' }, /^TROVE_REGION: "ap" is neither TROVE_DEFAULT_REGION \(default\) nor in TROVE_REGIONS/],
    ['a node region with a bad name', { TROVE_REGION: 'Eu' }, /^TROVE_REGION: a region name is 1–32 lowercase letters/],
    ['a shard in an undeclared region', { TROVE_SHARDS: 'x@north=sqlite:///tmp/x.db' }, /^TROVE_SHARDS: shard "x" is in region "north", which is neither TROVE_DEFAULT_REGION \(default\) nor in TROVE_REGIONS$/],
    ['a shard in a region with a bad name', { TROVE_SHARDS: 'x@North=sqlite:///tmp/x.db' }, /^TROVE_SHARDS: region "North" of shard "x" must be/],
    ['a shard with an empty region', { TROVE_SHARDS: 'x@=sqlite:///tmp/x.db' }, /^TROVE_SHARDS: region "" of shard "x" must be/],
  ])('refuse %s, saying why in one line', (_label, env, message) => {
    const problems = problemsOf(env);
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(message);
  });

  it('refuse a node in the region of another node only when that region is not declared', () => {
    expect(problemsOf({ TROVE_REGIONS: 'eu=file:///srv/eu', TROVE_REGION: 'eu' })).toEqual([]);
    expect(problemsOf({ TROVE_REGION: 'default' })).toEqual([]);
    expect(problemsOf({ TROVE_DEFAULT_REGION: 'us', TROVE_REGION: 'default' })).toEqual([expect.stringMatching(/^TROVE_REGION: "default" is neither TROVE_DEFAULT_REGION \(us\)/)]);
  });

  it('put shards in their region: none named or the default one gives null, another declared one its name', () => {
    const shards = loadConfig({
      TROVE_REGIONS: 'west=file:///srv/west',
      TROVE_SHARDS: 'a=sqlite:///tmp/a.db,b@default=sqlite:///tmp/b.db,w@west=sqlite:///tmp/w.db',
    }).shards.configured;
    expect(shards.map(({ name, region }) => ({ name, region }))).toEqual([
      { name: 'a', region: null },
      { name: 'b', region: null },
      { name: 'w', region: 'west' },
    ]);
    expect(shards[2]?.database).toEqual({ kind: 'sqlite', path: '/tmp/w.db' });

    // With the default region renamed, its own name gives null, and the former name is no region at all.
    expect(loadConfig({ TROVE_DEFAULT_REGION: 'us', TROVE_SHARDS: 'b@us=sqlite:///tmp/b.db' }).shards.configured[0]?.region).toBeNull();
    expect(problemsOf({ TROVE_DEFAULT_REGION: 'us', TROVE_SHARDS: 'b@default=sqlite:///tmp/b.db' })).toEqual([
      expect.stringMatching(/^TROVE_SHARDS: shard "b" is in region "default", which is neither TROVE_DEFAULT_REGION \(us\) nor in TROVE_REGIONS$/),
    ]);
  });

  it('report every region problem at once', () => {
    const problems = problemsOf({ TROVE_REGIONS: 'eu=file:///srv/eu', TROVE_REGION: 'ap', TROVE_SHARDS: 'x@north=sqlite:///tmp/x.db,y@south=sqlite:///tmp/y.db' });
    expect(problems).toHaveLength(3);
    expect(problems.join('\n')).toMatch(/^TROVE_SHARDS: shard "x" is in region "north"/m);
    expect(problems.join('\n')).toMatch(/^TROVE_SHARDS: shard "y" is in region "south"/m);
    expect(problems.join('\n')).toMatch(/^TROVE_REGION: "ap"/m);
  });

  it('refuses a shard entry with more than one region', () => {
    expect(problemsOf({ TROVE_REGIONS: 'eu=file:///srv/eu', TROVE_SHARDS: 'x@eu@ap=sqlite:///tmp/x.db' })).toEqual([expect.stringMatching(/^TROVE_SHARDS: /)]);
  });
});
