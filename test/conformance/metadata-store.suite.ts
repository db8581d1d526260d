import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FENCE_MESSAGE } from '../../src/adapters/db/migrations/0015-shards.js';
import type { KyselyShardSet } from '../../src/adapters/db/shard-set.js';
import type { DashboardSession } from '../../src/domain/dashboard-session.js';
import type { ImageAnalysis } from '../../src/domain/image-analysis.js';
import { parseFileSearch } from '../../src/domain/file-search.js';
import { AppError } from '../../src/errors.js';
import { storedFile } from '../helpers/stored-file.js';
import type { StoredFile } from '../../src/domain/file.js';
import type { Project } from '../../src/domain/project.js';
import type { WebhookDelivery } from '../../src/domain/webhook.js';
import type {
  FileListQuery,
  FromUrlTask,
  GroupMember,
  GroupRecord,
  MetadataRepositories,
  MetadataStore,
  MultipartUpload,
  NewOutboxEvent,
  NewProject,
  ProjectStorageRecord,
} from '../../src/ports/repositories.js';
import type { ProjectShard, ShardRepositories, ShardScan } from '../../src/ports/shards.js';

interface ShardedStoreFixture {
  /** The main database, migrated, on a database no other fixture uses. */
  main: MetadataStore;
  /** The main database as shard `main` and a second database as shard `b`, both migrated. */
  shards: KyselyShardSet;
  cleanup(): Promise<void>;
}

/** The fixture's shards, in the order a fan-out answers. */
const SHARDS = ['main', 'b'] as const;
type ShardName = (typeof SHARDS)[number];

/** What each shard answered to one fan-out. */
type PerShard<T> = Record<ShardName, T>;

/** The fixture's shard holding the project, and the other one. */
function here(project: Pick<Project, 'shard'>): ShardName {
  if (project.shard !== 'main' && project.shard !== 'b') throw new Error(`A project of this suite is on shard ${project.shard}.`);
  return project.shard;
}

function away(project: Pick<Project, 'shard'>): ShardName {
  return here(project) === 'main' ? 'b' : 'main';
}

/**
 * The contract of every repository, on a sharded store: the app-wide ones (projects, sessions,
 * storages) on the main database; a project's rows through the handle of the shard holding it, and
 * scans across projects through an explicit fan-out, each shard answering for its own rows only.
 *
 * One main database and one shard serve the whole suite (a fresh database per test would cost
 * seconds on PostgreSQL): projects are placed on both in turn, tests keep to projects of their own,
 * and those reading across projects (outbox, expiry and staleness scans) use instants no other test
 * uses. A test whose two projects must not see each other's rows keeps both on one shard: isolation
 * inside a database is what the repositories answer for; between shards the resolver keeps it.
 */
export function runMetadataStoreConformance(name: string, factory: () => Promise<ShardedStoreFixture>): void {
  describe(`MetadataStore conformance: ${name}`, () => {
    let fixture: ShardedStoreFixture;
    /** Only the app-wide repositories: a project's rows are never reached through the main database's. */
    let main: Pick<MetadataRepositories, 'projects' | 'sessions' | 'storages'>;
    let shards: KyselyShardSet;
    let placed = 0;

    beforeAll(async () => {
      fixture = await factory();
      main = fixture.main;
      shards = fixture.shards;
    });

    afterAll(async () => {
      await fixture?.cleanup();
    });

    /** A project on the shard named, or on `main` and `b` in turn, anchored there first as placement does. */
    const newProject = async (overrides: Partial<NewProject> = {}): Promise<Project> => {
      const shard = overrides.shard ?? (placed++ % 2 === 0 ? 'main' : 'b');
      const project = { name: 'p', publicKey: `pk_${randomUUID()}`, id: randomUUID(), createdAt: new Date().toISOString(), ...overrides, shard };
      await shards.anchor(shard, project);
      return main.projects.create(project);
    };

    const shardOf = (project: Pick<Project, 'id'>): Promise<ProjectShard> => shards.forProject(project.id);

    /** Runs `visit` on every shard; a shard that fails fails the test. */
    const onEveryShard = async <T>(visit: (scan: ShardScan) => Promise<T>): Promise<PerShard<T>> => {
      const outcomes = await shards.fanOut(visit);
      expect(outcomes.map((outcome) => outcome.shard)).toEqual([...SHARDS]);
      const valueOf = (shard: ShardName): T => {
        const outcome = outcomes.find((o) => o.shard === shard);
        if (!outcome) throw new Error(`Shard ${shard} did not answer.`);
        if (!outcome.ok) throw outcome.error;
        return outcome.value;
      };
      return { main: valueOf('main'), b: valueOf('b') };
    };

    /** What the shard not holding the project answers (for reads: it runs on both). */
    const onOtherShard = async <T>(project: Project, visit: (scan: ShardScan) => Promise<T>): Promise<T> => (await onEveryShard(visit))[away(project)];

    /** Every row a shard answered belongs to a project that the main database places on that shard. */
    const expectOwnRows = async <T>(answers: PerShard<T[]>, projectIdOf: (row: T) => string): Promise<void> => {
      for (const shard of SHARDS) {
        for (const projectId of new Set(answers[shard].map(projectIdOf))) {
          expect((await main.projects.findById(projectId))?.shard, `a row of project ${projectId} on shard ${shard}`).toBe(shard);
        }
      }
    };

    describe('projects', () => {
      it('creates a project with defaults and finds it by id and by public key', async () => {
        const project = await newProject({ name: 'Site' });
        expect(project).toMatchObject({ name: 'Site', autoStore: true, signedUploads: false, maxFileSize: null, allowedMimeTypes: null });
        expect(await main.projects.findById(project.id)).toEqual(project);
        expect(await main.projects.findByPublicKey(project.publicKey)).toEqual(project);
        expect(await main.projects.findById(randomUUID())).toBeNull();
        expect(await main.projects.findByPublicKey('pk_missing')).toBeNull();
      });

      it('keeps the settings given at creation', async () => {
        const project = await newProject({ autoStore: false, signedUploads: true, maxFileSize: 1234, allowedMimeTypes: ['image/*', 'text/plain'] });
        expect(await main.projects.findById(project.id)).toMatchObject({
          autoStore: false,
          signedUploads: true,
          maxFileSize: 1234,
          allowedMimeTypes: ['image/*', 'text/plain'],
        });
      });

      it('refuses a second project with the same public key', async () => {
        const project = await newProject();
        await expect(main.projects.create({ name: 'p', publicKey: project.publicKey })).rejects.toThrow();
        await expect(main.projects.create({ name: 'p', publicKey: project.publicKey, shard: away(project) })).rejects.toThrow();
      });

      it('updates only the settings a patch names; an unknown project gives null', async () => {
        const project = await newProject({ name: 'Before', maxFileSize: 10, allowedMimeTypes: ['image/*'] });
        const updated = await main.projects.update(project.id, { name: 'After', autoStore: false, allowedMimeTypes: null });
        expect(updated).toEqual({ ...project, name: 'After', autoStore: false, allowedMimeTypes: null });
        expect(await main.projects.update(project.id, {})).toEqual(updated);
        expect(await main.projects.update(project.id, { maxFileSize: null, signedUploads: true })).toEqual({ ...updated, maxFileSize: null, signedUploads: true });
        expect(await main.projects.update(randomUUID(), { name: 'x' })).toBeNull();
      });

      it('lists projects oldest first', async () => {
        const first = await newProject();
        await pause();
        const second = await newProject();
        const ids = (await main.projects.list()).map((p) => p.id);
        expect(ids).toContain(first.id);
        expect(ids.indexOf(first.id)).toBeLessThan(ids.indexOf(second.id));
      });

      it('keeps secret keys oldest first, revokes each once and only in its own project', async () => {
        const project = await newProject();
        const other = await newProject();
        const first = await main.projects.addSecretKey(project.id, 'secret-1');
        await pause();
        const second = await main.projects.addSecretKey(project.id, 'secret-2');
        expect(first).toMatchObject({ projectId: project.id, secret: 'secret-1', revokedAt: null });
        expect((await main.projects.listSecretKeys(project.id)).map((k) => k.id)).toEqual([first.id, second.id]);
        expect(await main.projects.revokeSecretKey(other.id, first.id)).toBe(false);
        expect(await main.projects.revokeSecretKey(project.id, first.id)).toBe(true);
        expect(await main.projects.revokeSecretKey(project.id, first.id)).toBe(false);
        expect(await main.projects.revokeSecretKey(project.id, randomUUID())).toBe(false);
        expect((await main.projects.listSecretKeys(project.id)).map((k) => k.id)).toEqual([second.id]);
        const all = await main.projects.listSecretKeys(project.id, { includeRevoked: true });
        expect(all.map((k) => k.id)).toEqual([first.id, second.id]);
        expect(all[0]!.revokedAt).not.toBeNull();
        expect(await main.projects.listSecretKeys(other.id)).toEqual([]);
      });

      it('grants the bootstrap claim to exactly one caller, ever', async () => {
        const claims = await Promise.all(Array.from({ length: 5 }, () => main.projects.claimBootstrap()));
        expect(claims.filter(Boolean)).toHaveLength(1);
        expect(await main.projects.claimBootstrap()).toBe(false);
      });

      it('keeps the id, creation time and shard chosen before creation; a random id, now and main otherwise', async () => {
        const id = randomUUID();
        const publicKey = `pk_${randomUUID()}`;
        await shards.anchor('b', { id, name: 'Placed', createdAt: at(7) });
        const placedOnB = await main.projects.create({ id, createdAt: at(7), shard: 'b', name: 'Placed', publicKey });
        expect(placedOnB).toMatchObject({ id, createdAt: at(7), shard: 'b', name: 'Placed', publicKey, autoStore: true });
        expect(await main.projects.findById(id)).toEqual(placedOnB);
        // The anchor lets the shard hold the project's rows.
        const shard = await shardOf(placedOnB);
        expect(shard.shardName).toBe('b');
        const file = fileOf(id);
        await shard.files.insertMany([file]);
        expect(await shard.files.findForProject(id, file.uuid)).toEqual(file);

        const before = new Date().toISOString();
        const unplaced = await main.projects.create({ name: 'p', publicKey: `pk_${randomUUID()}` });
        expect(unplaced.shard).toBe('main');
        expect(unplaced.id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
        expect(unplaced.createdAt >= before && unplaced.createdAt <= new Date().toISOString()).toBe(true);
        await expect(main.projects.create({ id, name: 'p', publicKey: `pk_${randomUUID()}` })).rejects.toThrow();
      });

      it('counts the projects of each shard', async () => {
        const before = await main.projects.countByShard();
        await newProject({ shard: 'main' });
        await newProject({ shard: 'b' });
        await newProject({ shard: 'b' });
        const after = await main.projects.countByShard();
        expect(after.get('main')).toBe((before.get('main') ?? 0) + 1);
        expect(after.get('b')).toBe((before.get('b') ?? 0) + 2);
        expect([...after.keys()].sort()).toEqual(['b', 'main']);
      });

      it('points a project at another shard, touching nothing else, and says whether there was one', async () => {
        const project = await newProject({ shard: 'main' });
        expect((await shardOf(project)).shardName).toBe('main');
        const before = await main.projects.countByShard();
        await shards.anchor('b', project);
        expect(await main.projects.setShard(project.id, 'b')).toBe(true);
        expect(await main.projects.findById(project.id)).toEqual({ ...project, shard: 'b' });
        const after = await main.projects.countByShard();
        expect(after.get('main')).toBe(before.get('main')! - 1);
        expect(after.get('b')).toBe(before.get('b')! + 1);
        // The resolver trusts what it read until told to forget it (a move's switch does).
        expect((await shardOf(project)).shardName).toBe('main');
        shards.forget(project.id);
        expect((await shardOf(project)).shardName).toBe('b');
        expect(await main.projects.setShard(randomUUID(), 'b')).toBe(false);
      });
    });

    describe('files', () => {
      it('keeps every field of a file as written', async () => {
        const project = await newProject();
        const shard = await shardOf(project);
        const plain = fileOf(project.id, { sourceUrl: 'https://example.com/a.txt', source: 'url' });
        const image = fileOf(project.id, {
          mimeType: 'image/png',
          isImage: true,
          size: 5_000_000_000,
          contentInfo: {
            mime: { mime: 'image/png', type: 'image', subtype: 'png' },
            image: { color_mode: 'RGBA', orientation: null, format: 'PNG', width: 3, height: 2, dpi: [72, 72], geo_location: null, datetime_original: null, sequence: false },
          },
          metadata: { subsystem: 'x', 'k.e-y:1': 'v a l' },
          tags: ['one', 'two'],
          datetimeStored: at(1),
          expiresAt: null,
        });
        await shard.files.insertMany([plain, image]);
        expect(await shard.files.findForProject(project.id, plain.uuid)).toEqual(plain);
        expect(await shard.files.findForProject(project.id, image.uuid)).toEqual(image);
      });

      it('inserts many files at once (more than one statement holds) and nothing for an empty list', async () => {
        const project = await newProject();
        const shard = await shardOf(project);
        const files = Array.from({ length: 120 }, () => fileOf(project.id));
        await shard.files.insertMany(files);
        await shard.files.insertMany([]);
        const found = await shard.files.findManyForProject(project.id, files.map((f) => f.uuid));
        expect(found).toHaveLength(120);
      });

      it('refuses a duplicate uuid and writes none of the batch that carried it', async () => {
        const project = await newProject();
        const shard = await shardOf(project);
        const existing = fileOf(project.id);
        await shard.files.insertMany([existing]);
        const fresh = fileOf(project.id);
        await expect(shard.files.insertMany([fresh, { ...existing }])).rejects.toThrow();
        expect(await shard.files.findForProject(project.id, fresh.uuid)).toBeNull();
      });

      it('finds a file only in its own project, and a removed one only when asked', async () => {
        const project = await newProject();
        const shard = await shardOf(project);
        const other = await newProject({ shard: project.shard });
        const otherShard = await shardOf(other);
        const live = fileOf(project.id);
        const removed = fileOf(project.id, { datetimeRemoved: at(5) });
        await shard.files.insertMany([live, removed]);
        expect(await otherShard.files.findForProject(other.id, live.uuid)).toBeNull();
        expect(await otherShard.files.findForProject(other.id, removed.uuid, { includeRemoved: true })).toBeNull();
        expect(await shard.files.findForProject(project.id, removed.uuid)).toBeNull();
        expect(await shard.files.findForProject(project.id, removed.uuid, { includeRemoved: true })).toEqual(removed);
        expect(await shard.files.findForProject(project.id, randomUUID())).toBeNull();
        // The other shard holds none of the project's rows.
        expect(await onOtherShard(project, (scan) => scan.files.findForProject(project.id, removed.uuid, { includeRemoved: true }))).toBeNull();
      });

      it('finds a live file by uuid alone, whatever its project, on the shard holding it only', async () => {
        const project = await newProject();
        const shard = await shardOf(project);
        const live = fileOf(project.id);
        const removed = fileOf(project.id, { datetimeRemoved: at(5) });
        await shard.files.insertMany([live, removed]);
        expect(await onEveryShard((scan) => scan.files.findLive(live.uuid))).toEqual({ [here(project)]: live, [away(project)]: null });
        expect(await onEveryShard((scan) => scan.files.findLive(removed.uuid))).toEqual({ main: null, b: null });
        expect(await onEveryShard((scan) => scan.files.findLive(randomUUID()))).toEqual({ main: null, b: null });
      });

      it("finds many files of a project (more than 500 uuids), never another project's", async () => {
        const project = await newProject();
        const shard = await shardOf(project);
        const other = await newProject({ shard: project.shard });
        const otherShard = await shardOf(other);
        const mine = Array.from({ length: 520 }, () => fileOf(project.id));
        const removed = fileOf(project.id, { datetimeRemoved: at(5) });
        const theirs = fileOf(other.id);
        await shard.files.insertMany([...mine, removed]);
        await otherShard.files.insertMany([theirs]);
        const wanted = [...mine.map((f) => f.uuid), removed.uuid, theirs.uuid, randomUUID()];
        const live = await shard.files.findManyForProject(project.id, wanted);
        expect(new Set(live.map((f) => f.uuid))).toEqual(new Set(mine.map((f) => f.uuid)));
        const all = await shard.files.findManyForProject(project.id, wanted, { includeRemoved: true });
        expect(all).toHaveLength(521);
        expect(all.some((f) => f.uuid === theirs.uuid)).toBe(false);
        expect(await shard.files.findManyForProject(project.id, [])).toEqual([]);
      });

      it("finds the project's newest live file fetched from a URL", async () => {
        const project = await newProject();
        const shard = await shardOf(project);
        const other = await newProject({ shard: project.shard });
        const otherShard = await shardOf(other);
        const url = `https://example.com/${randomUUID()}`;
        const older = fileOf(project.id, { sourceUrl: url, datetimeUploaded: at(1) });
        const newer = fileOf(project.id, { sourceUrl: url, datetimeUploaded: at(2) });
        const newestRemoved = fileOf(project.id, { sourceUrl: url, datetimeUploaded: at(3), datetimeRemoved: at(4) });
        const theirs = fileOf(other.id, { sourceUrl: url, datetimeUploaded: at(9) });
        await shard.files.insertMany([older, newer, newestRemoved]);
        await otherShard.files.insertMany([theirs]);
        expect((await shard.files.findBySourceUrl(project.id, url))?.uuid).toBe(newer.uuid);
        expect((await otherShard.files.findBySourceUrl(other.id, url))?.uuid).toBe(theirs.uuid);
        expect(await shard.files.findBySourceUrl(project.id, `${url}/other`)).toBeNull();
      });

      describe('list', () => {
        let project: Project;
        let other: Project;
        let shard: ProjectShard;
        let otherShard: ProjectShard;
        /** In ascending list order: upload time, then uuid. */
        let ordered: StoredFile[];
        const query = (overrides: Partial<FileListQuery> = {}): FileListQuery => ({ stored: null, removed: false, order: 'asc', after: null, limit: 100, ...overrides });
        const uuids = (files: StoredFile[]) => files.map((f) => f.uuid);

        beforeAll(async () => {
          project = await newProject();
          other = await newProject({ shard: project.shard });
          [shard, otherShard] = await Promise.all([shardOf(project), shardOf(other)]);
          // Three files share one upload time: the uuid orders them.
          const files = [
            fileOf(project.id, { datetimeUploaded: at(1), datetimeStored: at(1) }),
            fileOf(project.id, { datetimeUploaded: at(2) }),
            fileOf(project.id, { datetimeUploaded: at(2), datetimeStored: at(2) }),
            fileOf(project.id, { datetimeUploaded: at(2) }),
            fileOf(project.id, { datetimeUploaded: at(3), datetimeStored: at(3) }),
            fileOf(project.id, { datetimeUploaded: at(4), datetimeRemoved: at(5) }),
          ];
          await shard.files.insertMany(files);
          await otherShard.files.insertMany([fileOf(other.id, { datetimeUploaded: at(2) })]);
          ordered = [...files].sort((a, b) => a.datetimeUploaded.localeCompare(b.datetimeUploaded) || compareUuids(a.uuid, b.uuid));
        });

        it("lists a project's live files by upload time then uuid, either way", async () => {
          const live = ordered.filter((f) => !f.datetimeRemoved);
          expect(uuids(await shard.files.list(project.id, query()))).toEqual(uuids(live));
          expect(uuids(await shard.files.list(project.id, query({ order: 'desc' })))).toEqual(uuids([...live].reverse()));
          expect(uuids(await shard.files.list(project.id, query({ limit: 2 })))).toEqual(uuids(live.slice(0, 2)));
        });

        it('filters by storage state and lists removed files apart', async () => {
          const live = ordered.filter((f) => !f.datetimeRemoved);
          expect(uuids(await shard.files.list(project.id, query({ stored: true })))).toEqual(uuids(live.filter((f) => f.datetimeStored)));
          expect(uuids(await shard.files.list(project.id, query({ stored: false })))).toEqual(uuids(live.filter((f) => !f.datetimeStored)));
          expect(uuids(await shard.files.list(project.id, query({ removed: true })))).toEqual(uuids(ordered.filter((f) => f.datetimeRemoved)));
        });

        it('pages after a file (exclusive), also among files of the same upload time', async () => {
          const live = ordered.filter((f) => !f.datetimeRemoved);
          for (let i = 0; i < live.length; i++) {
            const after = { datetime: live[i]!.datetimeUploaded, uuid: live[i]!.uuid };
            expect(uuids(await shard.files.list(project.id, query({ after })))).toEqual(uuids(live.slice(i + 1)));
            expect(uuids(await shard.files.list(project.id, query({ after, order: 'desc' })))).toEqual(uuids(live.slice(0, i).reverse()));
          }
        });

        it('pages from an instant (inclusive) when no uuid is given', async () => {
          const live = ordered.filter((f) => !f.datetimeRemoved);
          expect(uuids(await shard.files.list(project.id, query({ after: { datetime: at(2), uuid: null } })))).toEqual(
            uuids(live.filter((f) => f.datetimeUploaded >= at(2))),
          );
          expect(uuids(await shard.files.list(project.id, query({ order: 'desc', after: { datetime: at(2), uuid: null } })))).toEqual(
            uuids(live.filter((f) => f.datetimeUploaded <= at(2)).reverse()),
          );
        });

        it('counts what a query matches, whatever its position and limit', async () => {
          expect(await shard.files.countMatching(project.id, { stored: null, removed: false })).toBe(5);
          expect(await shard.files.countMatching(project.id, { stored: true, removed: false })).toBe(3);
          expect(await shard.files.countMatching(project.id, { stored: false, removed: false })).toBe(2);
          expect(await shard.files.countMatching(project.id, { stored: null, removed: true })).toBe(1);
          expect(await otherShard.files.countMatching(other.id, { stored: null, removed: false })).toBe(1);
        });
      });

      describe('search filters', () => {
        let project: Project;
        let shard: ProjectShard;
        const found = async (filters: Partial<NonNullable<FileListQuery['filters']>>, stored: boolean | null = null) => {
          const full = { text: null, tag: null, mimeTypes: null, since: null, before: null, ...filters };
          const rows = await shard.files.list(project.id, { stored, removed: false, order: 'asc', after: null, limit: 100, filters: full });
          expect(await shard.files.countMatching(project.id, { stored, removed: false, filters: full })).toBe(rows.length);
          return rows.map((f) => f.originalFilename).sort();
        };

        beforeAll(async () => {
          project = await newProject();
          shard = await shardOf(project);
          const other = await newProject({ shard: project.shard });
          const otherShard = await shardOf(other);
          await shard.files.insertMany([
            fileOf(project.id, { originalFilename: 'Holiday.JPG', mimeType: 'image/jpeg', datetimeUploaded: at(1), tags: ['cats'], datetimeStored: at(1) }),
            fileOf(project.id, { originalFilename: 'notes.txt', mimeType: 'text/plain', datetimeUploaded: at(2), metadata: { Owner: 'Alice' } }),
            fileOf(project.id, { originalFilename: '100%_done.pdf', mimeType: 'application/pdf', datetimeUploaded: at(3), tags: ['cat', 'x_y'] }),
            fileOf(project.id, { originalFilename: '100x done.png', mimeType: 'image/png', datetimeUploaded: at(4) }),
            fileOf(project.id, { originalFilename: 'odd.bin', mimeType: 'x_y/data', datetimeUploaded: at(5) }),
            fileOf(project.id, { originalFilename: 'odder.bin', mimeType: 'xzy/data', datetimeUploaded: at(6), tags: ['xzy'] }),
            fileOf(project.id, { originalFilename: 'back\\slash.txt', mimeType: 'text/markdown', datetimeUploaded: at(1.5) }),
            fileOf(project.id, { originalFilename: 'gone.txt', datetimeUploaded: at(7), datetimeRemoved: at(8) }),
          ]);
          await otherShard.files.insertMany([fileOf(other.id, { originalFilename: 'holiday-other.jpg', mimeType: 'image/jpeg' })]);
        });

        it('finds text in the filename, metadata keys and values, and tags, ignoring case', async () => {
          expect(await found({ text: 'HOLIDAY' })).toEqual(['Holiday.JPG']);
          expect(await found({ text: 'owner' })).toEqual(['notes.txt']);
          expect(await found({ text: 'alice' })).toEqual(['notes.txt']);
          expect(await found({ text: 'cat' })).toEqual(['100%_done.pdf', 'Holiday.JPG']);
          expect(await found({ text: 'nothing-like-this' })).toEqual([]);
        });

        it("takes LIKE's wildcards and the escape character literally", async () => {
          expect(await found({ text: '%' })).toEqual(['100%_done.pdf']);
          expect(await found({ text: '100%' })).toEqual(['100%_done.pdf']);
          expect(await found({ text: '_' })).toEqual(['100%_done.pdf']);
          expect(await found({ text: 'k\\s' })).toEqual(['back\\slash.txt']);
          expect(await found({ tag: 'x_y' })).toEqual(['100%_done.pdf']);
          expect(await found({ mimeTypes: ['x_y/*'] })).toEqual(['odd.bin']);
        });

        it('matches a tag exactly, not as a part of another', async () => {
          expect(await found({ tag: 'cat' })).toEqual(['100%_done.pdf']);
          expect(await found({ tag: 'cats' })).toEqual(['Holiday.JPG']);
          expect(await found({ tag: 'ca' })).toEqual([]);
        });

        it('matches exact MIME types and type/* prefixes, any of them', async () => {
          expect(await found({ mimeTypes: ['image/*'] })).toEqual(['100x done.png', 'Holiday.JPG']);
          expect(await found({ mimeTypes: ['image/png', 'text/plain'] })).toEqual(['100x done.png', 'notes.txt']);
          expect(await found({ mimeTypes: ['image/pn'] })).toEqual([]);
        });

        it('bounds the upload time: since inclusive, before exclusive', async () => {
          expect(await found({ since: at(5) })).toEqual(['odd.bin', 'odder.bin']);
          expect(await found({ before: at(2) })).toEqual(['Holiday.JPG', 'back\\slash.txt']);
          expect(await found({ since: at(2), before: at(4) })).toEqual(['100%_done.pdf', 'notes.txt']);
        });

        it('combines filters with each other and with the storage state', async () => {
          expect(await found({ mimeTypes: ['image/*'], text: 'done' })).toEqual(['100x done.png']);
          expect(await found({ mimeTypes: ['image/*'] }, true)).toEqual(['Holiday.JPG']);
        });
      });

      it("stores only the project's live, unstored files among those named, and returns just those", async () => {
        const project = await newProject();
        const shard = await shardOf(project);
        const other = await newProject({ shard: project.shard });
        const otherShard = await shardOf(other);
        const unstored = fileOf(project.id, { expiresAt: at(50) });
        const stored = fileOf(project.id, { datetimeStored: at(1) });
        const removed = fileOf(project.id, { datetimeRemoved: at(1), expiresAt: null });
        const theirs = fileOf(other.id, { expiresAt: at(50) });
        await shard.files.insertMany([unstored, stored, removed]);
        await otherShard.files.insertMany([theirs]);
        const changed = await shard.files.setStored(project.id, [unstored.uuid, stored.uuid, removed.uuid, theirs.uuid, randomUUID()], at(10));
        expect(changed).toEqual([{ ...unstored, datetimeStored: at(10), expiresAt: null }]);
        expect(await shard.files.setStored(project.id, [unstored.uuid], at(11))).toEqual([]);
        expect(await shard.files.findForProject(project.id, stored.uuid)).toEqual(stored);
        expect(await shard.files.findForProject(project.id, removed.uuid, { includeRemoved: true })).toEqual(removed);
        expect(await otherShard.files.findForProject(other.id, theirs.uuid)).toEqual(theirs);
        expect(await shard.files.setStored(project.id, [], at(12))).toEqual([]);
      });

      it("removes only the project's live files among those named, and returns just those", async () => {
        const project = await newProject();
        const shard = await shardOf(project);
        const other = await newProject({ shard: project.shard });
        const otherShard = await shardOf(other);
        const unstored = fileOf(project.id, { expiresAt: at(50) });
        const stored = fileOf(project.id, { datetimeStored: at(1) });
        const removed = fileOf(project.id, { datetimeRemoved: at(1) });
        const theirs = fileOf(other.id);
        await shard.files.insertMany([unstored, stored, removed]);
        await otherShard.files.insertMany([theirs]);
        const changed = await shard.files.setRemoved(project.id, [unstored.uuid, stored.uuid, removed.uuid, theirs.uuid], at(10));
        expect(sortByUuid(changed)).toEqual(
          sortByUuid([
            { ...unstored, datetimeRemoved: at(10), expiresAt: null },
            { ...stored, datetimeRemoved: at(10) },
          ]),
        );
        expect(await shard.files.setRemoved(project.id, [stored.uuid], at(11))).toEqual([]);
        expect(await shard.files.findForProject(project.id, removed.uuid, { includeRemoved: true })).toEqual(removed);
        expect(await otherShard.files.findForProject(other.id, theirs.uuid)).toEqual(theirs);
        expect(await shard.files.setRemoved(project.id, [], at(12))).toEqual([]);
      });

      it("changes the metadata or the tags of a live file of the project, and nothing else", async () => {
        const project = await newProject();
        const shard = await shardOf(project);
        const other = await newProject({ shard: project.shard });
        const otherShard = await shardOf(other);
        const file = fileOf(project.id, { metadata: { a: '1' }, tags: ['t'] });
        const removed = fileOf(project.id, { datetimeRemoved: at(1), metadata: { a: '1' } });
        await shard.files.insertMany([file, removed]);
        const withMetadata = await shard.files.updateInfo(project.id, file.uuid, { metadata: { b: '2' } });
        expect(withMetadata).toEqual({ ...file, metadata: { b: '2' } });
        const withTags = await shard.files.updateInfo(project.id, file.uuid, { tags: ['u', 'v'] });
        expect(withTags).toEqual({ ...file, metadata: { b: '2' }, tags: ['u', 'v'] });
        expect(await otherShard.files.updateInfo(other.id, file.uuid, { tags: [] })).toBeNull();
        expect(await shard.files.updateInfo(project.id, removed.uuid, { metadata: {} })).toBeNull();
        expect(await shard.files.findForProject(project.id, removed.uuid, { includeRemoved: true })).toEqual(removed);
        expect(await shard.files.findForProject(project.id, file.uuid)).toEqual(withTags);
      });

      it('changes metadata or tags only while the file still holds the expected values', async () => {
        const project = await newProject();
        const shard = await shardOf(project);
        const file = fileOf(project.id, { metadata: { a: '1' }, tags: ['t'] });
        await shard.files.insertMany([file]);
        expect(await shard.files.updateInfo(project.id, file.uuid, { tags: ['x'] }, { tags: ['other'] })).toBeNull();
        expect(await shard.files.updateInfo(project.id, file.uuid, { metadata: { b: '2' } }, { metadata: { a: '2' } })).toBeNull();
        expect(await shard.files.findForProject(project.id, file.uuid)).toEqual(file);
        const tagged = await shard.files.updateInfo(project.id, file.uuid, { tags: ['t', 'u'] }, { tags: ['t'] });
        expect(tagged?.tags).toEqual(['t', 'u']);
        // The same expectation again is stale now.
        expect(await shard.files.updateInfo(project.id, file.uuid, { tags: ['t', 'v'] }, { tags: ['t'] })).toBeNull();
        expect((await shard.files.updateInfo(project.id, file.uuid, { metadata: { a: '1', b: '2' } }, { metadata: { a: '1' } }))?.metadata).toEqual({ a: '1', b: '2' });
      });

      it('lists unstored files past their expiry, soonest expiry first, up to the limit, each shard its own', async () => {
        const projects = [await newProject({ shard: 'main' }), await newProject({ shard: 'b' })];
        const due = new Map<string, string[]>();
        for (const project of projects) {
          // Expiries in 1990: no other test's files expire that early.
          const expired = [old(3), old(1), old(2)].map((expiresAt) => fileOf(project.id, { expiresAt }));
          const notYet = fileOf(project.id, { expiresAt: old(9) });
          const storedWithExpiry = fileOf(project.id, { expiresAt: old(1), datetimeStored: old(0) });
          const removedUnstored = fileOf(project.id, { expiresAt: old(1), datetimeRemoved: old(2) });
          await (await shardOf(project)).files.insertMany([...expired, notYet, storedWithExpiry, removedUnstored]);
          due.set(project.id, [...expired, removedUnstored].map((f) => f.uuid));
        }
        const listed = await onEveryShard((scan) => scan.files.listExpired(old(5), 100));
        await expectOwnRows(listed, (f) => f.projectId);
        for (const project of projects) {
          const mine = listed[here(project)].filter((f) => f.projectId === project.id);
          expect(mine.map((f) => f.expiresAt)).toEqual([old(1), old(1), old(2), old(3)]);
          expect(new Set(mine.map((f) => f.uuid))).toEqual(new Set(due.get(project.id)));
          expect(listed[away(project)].some((f) => f.projectId === project.id)).toBe(false);
        }
        expect(await onEveryShard(async (scan) => (await scan.files.listExpired(old(5), 2)).length)).toEqual({ main: 2, b: 2 });
        const upToOld3 = await onEveryShard((scan) => scan.files.listExpired(old(3), 100));
        for (const project of projects) expect(upToOld3[here(project)].filter((f) => f.projectId === project.id)).toHaveLength(4);
      });

      it('deletes a row for good, returning what it was, once', async () => {
        const project = await newProject();
        const shard = await shardOf(project);
        const file = fileOf(project.id, { datetimeRemoved: at(3) });
        await shard.files.insertMany([file]);
        expect(await shard.files.deleteRow(file.uuid)).toEqual(file);
        expect(await shard.files.deleteRow(file.uuid)).toBeNull();
        expect(await shard.files.findForProject(project.id, file.uuid, { includeRemoved: true })).toBeNull();
      });
    });

    describe('file search', () => {
      // Every expectation here is exact (which files, in which order), so an engine that matched,
      // scored or ordered differently from the other fails the same line.
      let project: Project;
      let other: Project;
      let shard: ProjectShard;
      let otherShard: ProjectShard;
      const uuids = new Map<string, string>();
      /** Uuids that sort in the order of `n`, for ties broken by uuid. */
      const uuidOf = (n: number) => `${String(n).padStart(8, '0')}${randomUUID().slice(8)}`;
      const NOW = at(100);
      const search = async (body: unknown, params: Record<string, string> = {}, projectId = project.id) => {
        const { criteria, paging } = parseFileSearch(body, params);
        const result = await (projectId === other.id ? otherShard : shard).fileSearch.search(projectId, criteria, paging, NOW);
        return { names: result.files.map((file) => file.originalFilename), total: result.total, alternatives: result.alternatives, fuzzy: result.fuzzy };
      };
      const names = async (body: unknown, params: Record<string, string> = {}) => (await search(body, params)).names;

      beforeAll(async () => {
        project = await newProject();
        // On one shard: words of another project of the same database must never stand in.
        other = await newProject({ shard: project.shard });
        [shard, otherShard] = await Promise.all([shardOf(project), shardOf(other)]);
        const files = [
          fileOf(project.id, {
            uuid: uuidOf(1),
            originalFilename: 'sunset-beach.jpg',
            mimeType: 'image/jpeg',
            isImage: true,
            size: 300,
            datetimeUploaded: at(1),
            datetimeStored: at(1),
            metadata: { alt: 'Golden hour at the beach', camera: 'Nikon' },
            tags: ['cat', 'summer'],
          }),
          fileOf(project.id, { uuid: uuidOf(2), originalFilename: 'Sunset_Pier.png', mimeType: 'image/png', isImage: true, size: 500, datetimeUploaded: at(2), metadata: { alt: 'Pier at dusk' }, tags: ['summer'] }),
          fileOf(project.id, {
            uuid: uuidOf(3),
            originalFilename: 'photographer-portfolio.pdf',
            mimeType: 'application/pdf',
            size: 1000,
            datetimeUploaded: at(3),
            datetimeStored: at(3),
            metadata: { client: 'Acme Corp' },
            tags: ['work'],
          }),
          fileOf(project.id, { uuid: uuidOf(4), originalFilename: 'holiday-photo.jpg', mimeType: 'image/jpeg', isImage: true, size: 200, datetimeUploaded: at(4), expiresAt: at(200), metadata: { place: 'Sunset Boulevard' }, tags: ['cat'] }),
          fileOf(project.id, { uuid: uuidOf(5), originalFilename: 'Café-Menü.txt', mimeType: 'text/plain', size: 50, datetimeUploaded: at(5), metadata: { lang: 'de' }, tags: ['menu'] }),
          // Expired (not swept yet) and removed files match `sunset` too, and are never found.
          fileOf(project.id, { uuid: uuidOf(6), originalFilename: 'expired-sunset.jpg', mimeType: 'image/jpeg', datetimeUploaded: at(6), expiresAt: old(1) }),
          fileOf(project.id, { uuid: uuidOf(7), originalFilename: 'removed-sunset.jpg', mimeType: 'image/jpeg', datetimeUploaded: at(7), datetimeRemoved: at(8) }),
        ];
        for (const file of files) uuids.set(file.originalFilename, file.uuid);
        await shard.files.insertMany(files);
        await otherShard.files.insertMany([fileOf(other.id, { originalFilename: 'sunset-secret.jpg', mimeType: 'image/jpeg', metadata: { alt: 'Nikon beach' }, tags: ['cat'] })]);
      });

      it('matches every query term as a substring of a word of some field, most relevant first', async () => {
        expect(await search({ query: 'sunset' })).toMatchObject({ names: ['Sunset_Pier.png', 'sunset-beach.jpg', 'holiday-photo.jpg'], total: 3 });
        expect(await names({ query: 'unse' })).toEqual(['Sunset_Pier.png', 'sunset-beach.jpg', 'holiday-photo.jpg']);
        expect(await names({ query: 'tograph' })).toEqual(['photographer-portfolio.pdf']);
        expect(await names({ query: 'photo' })).toEqual(['holiday-photo.jpg', 'photographer-portfolio.pdf']);
        expect(await names({ query: 'sunset nikon' })).toEqual(['sunset-beach.jpg']);
        expect(await names({ query: 'image/jpeg' })).toEqual(['holiday-photo.jpg', 'sunset-beach.jpg']);
        expect(await names({ query: 'cafe MENU' })).toEqual(['Café-Menü.txt']);
        expect(await names({ query: 'beach dusk' })).toEqual([]);
        expect(await names({ query: 'a b c d e' })).toEqual([]);
        expect(await names({ query: uuids.get('photographer-portfolio.pdf')! })).toEqual(['photographer-portfolio.pdf']);
        expect(await names({ query: uuids.get('removed-sunset.jpg')! })).toEqual([]);
      });

      it('matches a phrase in its own field, its words in order', async () => {
        expect(await names({ phrase: { original_filename: 'sunset beach' } })).toEqual(['sunset-beach.jpg']);
        expect(await names({ phrase: { original_filename: 'unset bea' } })).toEqual(['sunset-beach.jpg']);
        expect(await names({ phrase: { original_filename: 'beach sunset' } })).toEqual([]);
        expect(await names({ phrase: { metadata: 'sunset' } })).toEqual(['holiday-photo.jpg']);
        expect(await names({ phrase: { metadata: 'hour at the' } })).toEqual(['sunset-beach.jpg']);
        expect(await names({ phrase: { metadata: 'golden nikon' } })).toEqual([]);
        expect(await names({ phrase: { detected_mime_type: 'image/png' } })).toEqual(['Sunset_Pier.png']);
        expect(await names({ phrase: { original_filename: 'a.b!' } })).toEqual([]);
      });

      it('matches exact values: any of a field’s, every field given', async () => {
        expect(await names({ exact: { uuid: [uuids.get('Café-Menü.txt')!, uuids.get('removed-sunset.jpg')!] } })).toEqual(['Café-Menü.txt']);
        expect(await names({ exact: { detected_mime_type: ['image/png', 'application/pdf'] } })).toEqual(['photographer-portfolio.pdf', 'Sunset_Pier.png']);
        expect(await names({ exact: { original_filename: ['Sunset_Pier.png', 'sunset_pier.png'] } })).toEqual(['Sunset_Pier.png']);
        expect(await names({ exact: { 'metadata[camera]': ['Nikon'] } })).toEqual(['sunset-beach.jpg']);
        expect(await names({ exact: { 'metadata[camera]': ['nikon'] } })).toEqual([]);
        expect(await names({ exact: { 'metadata[alt]': ['Pier at dusk', 'Golden hour at the beach'], detected_mime_type: ['image/png'] } })).toEqual(['Sunset_Pier.png']);
      });

      it('bounds the upload time and the size, and tells images apart', async () => {
        expect(await names({ datetime_uploaded: { gt: at(2), lte: at(4) } })).toEqual(['holiday-photo.jpg', 'photographer-portfolio.pdf']);
        expect(await names({ datetime_uploaded: { gte: at(2), lt: at(3) } })).toEqual(['Sunset_Pier.png']);
        expect(await names({ size: { gte: 200, lt: 500 } })).toEqual(['holiday-photo.jpg', 'sunset-beach.jpg']);
        expect(await names({ size: { gt: 999 } })).toEqual(['photographer-portfolio.pdf']);
        expect(await names({ is_image: true })).toEqual(['holiday-photo.jpg', 'Sunset_Pier.png', 'sunset-beach.jpg']);
        expect(await names({ is_image: false })).toEqual(['Café-Menü.txt', 'photographer-portfolio.pdf']);
        expect(await names({ is_image: true }, { stored: 'true' })).toEqual(['sunset-beach.jpg']);
        expect(await names({ query: 'sunset' }, { stored: 'false', mime_type: 'image/*' })).toEqual(['Sunset_Pier.png', 'holiday-photo.jpg']);
      });

      it('filters by tags: any, all, none', async () => {
        expect(await names({ tags: { any: ['cat', 'work'] } })).toEqual(['holiday-photo.jpg', 'photographer-portfolio.pdf', 'sunset-beach.jpg']);
        expect(await names({ tags: { all: ['cat', 'summer'] } })).toEqual(['sunset-beach.jpg']);
        expect(await names({ tags: { none: ['summer', 'cat'] } })).toEqual(['Café-Menü.txt', 'photographer-portfolio.pdf']);
        expect(await names({ tags: { any: ['summer'], none: ['cat'] } })).toEqual(['Sunset_Pier.png']);
        expect(await names({ tags: { all: ['ca'] } })).toEqual([]);
      });

      it('tolerates typos with the same similar words, in the same order, on every engine', async () => {
        // Both test engines can (PostgreSQL with pg_trgm); without it see test/integration/search-without-pg-trgm.test.ts.
        expect(await shard.fileSearch.supportsFuzziness()).toBe(true);
        const fuzzy = await search({ query: 'photografer', fuzziness: true });
        expect(fuzzy.fuzzy).toBe(true);
        // `photographer` is similar too, but holds `photo`: it would find no other file.
        expect(fuzzy.alternatives).toEqual({ photografer: ['photo'] });
        expect(fuzzy.names).toEqual(['holiday-photo.jpg', 'photographer-portfolio.pdf']);
        expect(await search({ query: 'sunsett nikkon', fuzziness: true })).toMatchObject({ names: ['sunset-beach.jpg'], alternatives: { sunsett: ['sunset'], nikkon: ['nikon'] } });
        expect(await names({ query: 'sunsett' })).toEqual([]);
        expect(await names({ phrase: { metadata: 'goldn hour' }, fuzziness: true })).toEqual(['sunset-beach.jpg']);
        expect(await names({ phrase: { original_filename: 'portfollio' }, fuzziness: true })).toEqual(['photographer-portfolio.pdf']);
        // Words of other projects never stand in.
        expect((await search({ query: 'sekret', fuzziness: true })).alternatives).toEqual({});
      });

      it('sorts by each key, then by uuid', async () => {
        expect(await names({ is_image: true, sort: ['size'] })).toEqual(['holiday-photo.jpg', 'sunset-beach.jpg', 'Sunset_Pier.png']);
        expect(await names({ size: { gte: 0 }, sort: ['-size'] })).toEqual(['photographer-portfolio.pdf', 'Sunset_Pier.png', 'sunset-beach.jpg', 'holiday-photo.jpg', 'Café-Menü.txt']);
        expect(await names({ size: { gte: 0 }, sort: ['datetime_uploaded'] })).toEqual(['sunset-beach.jpg', 'Sunset_Pier.png', 'photographer-portfolio.pdf', 'holiday-photo.jpg', 'Café-Menü.txt']);
        expect(await names({ size: { gte: 0 }, sort: ['-original_filename'] })).toEqual(['Sunset_Pier.png', 'sunset-beach.jpg', 'photographer-portfolio.pdf', 'holiday-photo.jpg', 'Café-Menü.txt']);
        expect(await names({ query: 'sunset', sort: ['score'] })).toEqual(['holiday-photo.jpg', 'sunset-beach.jpg', 'Sunset_Pier.png']);
        expect(await names({ query: 'sunset', sort: ['-score', 'size'] })).toEqual(['sunset-beach.jpg', 'Sunset_Pier.png', 'holiday-photo.jpg']);
        // Equal on every key given: by uuid.
        expect(await names({ tags: { any: ['cat', 'summer'] }, sort: ['-score'] })).toEqual(['sunset-beach.jpg', 'Sunset_Pier.png', 'holiday-photo.jpg']);
      });

      it('pages by limit and offset, counting every match', async () => {
        const all = await names({ size: { gte: 0 }, sort: ['size'] });
        const pages = [];
        for (const offset of ['0', '2', '4']) pages.push(await search({ size: { gte: 0 }, sort: ['size'] }, { limit: '2', offset }));
        expect(pages.map((page) => page.total)).toEqual([5, 5, 5]);
        expect(pages.flatMap((page) => page.names)).toEqual(all);
        expect(await search({ size: { gte: 0 } }, { limit: '5', offset: '900' })).toEqual({ names: [], total: 5, alternatives: {}, fuzzy: true });
      });

      it('follows every change to a file: metadata, tags, removal and deletion', async () => {
        const file = fileOf(project.id, { originalFilename: 'draft.txt', datetimeUploaded: at(9), expiresAt: at(300), metadata: { note: 'lighthouse keeper' }, tags: ['todo'] });
        await shard.files.insertMany([file]);
        expect(await names({ query: 'lighthouse' })).toEqual(['draft.txt']);
        await shard.files.updateInfo(project.id, file.uuid, { metadata: { note: 'harbour master' } });
        expect(await names({ query: 'lighthouse' })).toEqual([]);
        expect(await names({ query: 'harbour' })).toEqual(['draft.txt']);
        // A word no live file has any more stands in for nothing.
        expect((await search({ query: 'lighthous', fuzziness: true })).alternatives).toEqual({});
        await shard.files.updateInfo(project.id, file.uuid, { tags: ['done'] });
        expect(await names({ tags: { any: ['todo'] } })).toEqual([]);
        expect(await names({ tags: { any: ['done'] } })).toEqual(['draft.txt']);
        expect(await names({ exact: { 'metadata[note]': ['harbour master'] } })).toEqual(['draft.txt']);
        expect(await names({ query: 'harbour' }, { stored: 'true' })).toEqual([]);
        await shard.files.setStored(project.id, [file.uuid], at(9.5));
        expect(await names({ query: 'harbour' }, { stored: 'true' })).toEqual(['draft.txt']);
        expect(await names({ query: 'harbour' }, { stored: 'false' })).toEqual([]);
        await shard.files.setRemoved(project.id, [file.uuid], at(10));
        expect(await names({ query: 'harbour' })).toEqual([]);
        expect(await names({ tags: { any: ['done'] } })).toEqual([]);
        const again = fileOf(project.id, { originalFilename: 'scratch.txt', datetimeUploaded: at(9), metadata: { note: 'harbour' } });
        await shard.files.insertMany([again]);
        expect(await names({ query: 'harbour' })).toEqual(['scratch.txt']);
        await shard.files.deleteRow(again.uuid);
        expect(await names({ query: 'harbour' })).toEqual([]);
      });

      it("finds nothing of another project's, whatever the condition", async () => {
        expect(await names({ query: 'secret' })).toEqual([]);
        expect(await names({ query: 'nikon beach' })).toEqual(['sunset-beach.jpg']);
        expect(await names({ tags: { all: ['cat'] }, is_image: true })).toEqual(['holiday-photo.jpg', 'sunset-beach.jpg']);
        expect((await search({ query: 'sunset' }, {}, other.id)).names).toEqual(['sunset-secret.jpg']);
        expect((await search({ exact: { uuid: [uuids.get('sunset-beach.jpg')!] } }, {}, other.id)).names).toEqual([]);
        expect((await search({ query: 'nikon', fuzziness: true }, {}, randomUUID())).names).toEqual([]);
        // Nor does the other shard find anything of the project's.
        const { criteria, paging } = parseFileSearch({ query: 'sunset', fuzziness: true }, {});
        expect((await onOtherShard(project, (scan) => scan.fileSearch.search(project.id, criteria, paging, NOW))).files).toEqual([]);
      });

      it('reads hostile text as words, never as query syntax', async () => {
        for (const query of ['"sunset" OR "x"', "sun' | set & !beach:*", 'NEAR(sunset beach)', 'filename_text : sunset', '\\\\\'\'', '%_%_', '\u0000sunset']) {
          const result = await search({ query, fuzziness: true });
          expect(result.total, query).toBe(result.names.length);
        }
        expect(await names({ query: "sunset'; drop table files; --" })).toEqual([]);
        expect(await names({ query: 'sunset"' })).toEqual(['Sunset_Pier.png', 'sunset-beach.jpg', 'holiday-photo.jpg']);
        expect(await names({ phrase: { metadata: '"golden" hour' } })).toEqual(['sunset-beach.jpg']);
        expect(await names({ exact: { original_filename: ["' or '1'='1"], 'metadata[a]': ['%'] } })).toEqual([]);
      });
    });

    describe('file counters', () => {
      it('start at zero and add each delta, per project', async () => {
        const project = await newProject();
        const shard = await shardOf(project);
        const other = await newProject({ shard: project.shard });
        const otherShard = await shardOf(other);
        expect(await shard.fileCounters.counts(project.id)).toEqual({ stored: 0, unstored: 0, removed: 0 });
        await shard.fileCounters.apply(project.id, { stored: 2, unstored: 3, removed: 0 });
        await shard.fileCounters.apply(project.id, { stored: 1, unstored: -2, removed: 1 });
        await otherShard.fileCounters.apply(other.id, { stored: 7, unstored: 0, removed: 0 });
        expect(await shard.fileCounters.counts(project.id)).toEqual({ stored: 3, unstored: 1, removed: 1 });
        expect(await otherShard.fileCounters.counts(other.id)).toEqual({ stored: 7, unstored: 0, removed: 0 });
      });

      it('add up deltas applied at the same time', async () => {
        const project = await newProject();
        const shard = await shardOf(project);
        await Promise.all(Array.from({ length: 10 }, () => shard.fileCounters.apply(project.id, { stored: 1, unstored: 0, removed: 2 })));
        expect(await shard.fileCounters.counts(project.id)).toEqual({ stored: 10, unstored: 0, removed: 20 });
      });
    });

    describe('event outbox', () => {
      /** The outbox is one queue for every project of a shard: each test starts every shard's empty. */
      async function emptyOutbox(): Promise<void> {
        await onEveryShard(async (scan) => {
          for (;;) {
            const events = await scan.outbox.oldest(500);
            if (events.length === 0) return;
            for (const event of events) await scan.outbox.remove(event.id);
          }
        });
      }

      it('appends events with ids of their own and gives them back oldest first, as written', async () => {
        await emptyOutbox();
        const project = await newProject();
        const shard = await shardOf(project);
        const events: NewOutboxEvent[] = [
          { projectId: project.id, event: 'file.stored', fileUuid: randomUUID(), previousValues: null, createdAt: at(3) },
          { projectId: project.id, event: 'file.uploaded', fileUuid: randomUUID(), previousValues: null, createdAt: at(1) },
          { projectId: project.id, event: 'file.info_updated', fileUuid: randomUUID(), previousValues: { metadata: { k: 'v' }, tags: ['a'] }, createdAt: at(2) },
        ];
        await shard.outbox.append(events);
        await shard.outbox.append([]);
        const elsewhere = await newProject({ shard: away(project) });
        const theirs: NewOutboxEvent = { projectId: elsewhere.id, event: 'file.uploaded', fileUuid: randomUUID(), previousValues: null, createdAt: at(0) };
        await (await shardOf(elsewhere)).outbox.append([theirs]);
        const oldest = await shard.outbox.oldest(10);
        expect(oldest.map(({ id: _id, ...event }) => event)).toEqual([events[1], events[2], events[0]]);
        expect(new Set(oldest.map((e) => e.id)).size).toBe(3);
        expect(await shard.outbox.oldest(2)).toEqual(oldest.slice(0, 2));
        // Each shard queues its own projects' events only.
        const queued = await onEveryShard((scan) => scan.outbox.oldest(10));
        expect(queued[here(project)]).toEqual(oldest);
        expect(queued[away(project)].map(({ id: _id, ...event }) => event)).toEqual([theirs]);
        await emptyOutbox();
      });

      it('orders events of the same instant by id, and forgets a removed one', async () => {
        await emptyOutbox();
        const project = await newProject();
        const shard = await shardOf(project);
        await shard.outbox.append(
          Array.from({ length: 150 }, () => ({ projectId: project.id, event: 'file.uploaded' as const, fileUuid: randomUUID(), previousValues: null, createdAt: at(1) })),
        );
        const oldest = await shard.outbox.oldest(200);
        expect(oldest).toHaveLength(150);
        expect(oldest.map((e) => e.id)).toEqual(oldest.map((e) => e.id).sort(compareUuids));
        await shard.outbox.remove(oldest[0]!.id);
        await shard.outbox.remove(randomUUID());
        expect((await shard.outbox.oldest(1))[0]?.id).toBe(oldest[1]!.id);
        await emptyOutbox();
      });
    });

    describe('unit of work', () => {
      it('commits the change, its counters and its events together, and returns what the work returns', async () => {
        const project = await newProject();
        const shard = await shardOf(project);
        const file = fileOf(project.id);
        const result = await shard.transaction(async (tx) => {
          await tx.files.insertMany([file]);
          await tx.fileCounters.apply(project.id, { stored: 0, unstored: 1, removed: 0 });
          await tx.outbox.append([{ projectId: project.id, event: 'file.uploaded', fileUuid: file.uuid, previousValues: null, createdAt: at(1) }]);
          return 'done';
        });
        expect(result).toBe('done');
        expect(await shard.files.findForProject(project.id, file.uuid)).toEqual(file);
        expect(await shard.fileCounters.counts(project.id)).toEqual({ stored: 0, unstored: 1, removed: 0 });
        expect(await outboxEventsOf(shard, file.uuid)).toEqual(['file.uploaded']);
        // Committed on the project's shard, and only there.
        expect(await onOtherShard(project, (scan) => scan.files.findLive(file.uuid))).toBeNull();
        expect(await onOtherShard(project, (scan) => outboxEventsOf(scan, file.uuid))).toEqual([]);
      });

      it('leaves neither the change nor its counters nor its events when the work throws', async () => {
        const project = await newProject();
        const shard = await shardOf(project);
        const file = fileOf(project.id);
        await shard.files.insertMany([file]);
        const failure = new Error('the work failed');
        await expect(
          shard.transaction(async (tx) => {
            const stored = await tx.files.setStored(project.id, [file.uuid], at(5));
            expect(stored).toHaveLength(1);
            await tx.fileCounters.apply(project.id, { stored: 1, unstored: -1, removed: 0 });
            await tx.outbox.append([{ projectId: project.id, event: 'file.stored', fileUuid: file.uuid, previousValues: null, createdAt: at(5) }]);
            throw failure;
          }),
        ).rejects.toBe(failure);
        expect(await shard.files.findForProject(project.id, file.uuid)).toEqual(file);
        expect(await shard.fileCounters.counts(project.id)).toEqual({ stored: 0, unstored: 0, removed: 0 });
        expect(await outboxEventsOf(shard, file.uuid)).toEqual([]);
      });

      it('rolls back a failed statement with the rest of the work', async () => {
        const project = await newProject();
        const shard = await shardOf(project);
        const existing = fileOf(project.id);
        await shard.files.insertMany([existing]);
        const fresh = fileOf(project.id);
        await expect(
          shard.transaction(async (tx) => {
            await tx.files.insertMany([fresh]);
            await tx.outbox.append([{ projectId: project.id, event: 'file.uploaded', fileUuid: fresh.uuid, previousValues: null, createdAt: at(1) }]);
            await tx.files.insertMany([existing]);
          }),
        ).rejects.toThrow();
        expect(await shard.files.findForProject(project.id, fresh.uuid)).toBeNull();
        expect(await outboxEventsOf(shard, fresh.uuid)).toEqual([]);
      });

      it('joins the unit of work it is called in, committing and rolling back with it', async () => {
        const project = await newProject();
        const shard = await shardOf(project);
        const committed = fileOf(project.id);
        await shard.transaction(async (tx) => {
          await tx.transaction(async (inner) => inner.files.insertMany([committed]));
          await tx.fileCounters.apply(project.id, { stored: 0, unstored: 1, removed: 0 });
        });
        expect(await shard.files.findForProject(project.id, committed.uuid)).toEqual(committed);

        const rolledBack = fileOf(project.id);
        await expect(
          shard.transaction(async (tx) => {
            await tx.transaction(async (inner) => {
              await inner.files.insertMany([rolledBack]);
              await inner.outbox.append([{ projectId: project.id, event: 'file.uploaded', fileUuid: rolledBack.uuid, previousValues: null, createdAt: at(1) }]);
            });
            throw new Error('after the inner work');
          }),
        ).rejects.toThrow('after the inner work');
        expect(await shard.files.findForProject(project.id, rolledBack.uuid)).toBeNull();
        expect(await outboxEventsOf(shard, rolledBack.uuid)).toEqual([]);
      });

      it('runs repositories that write several rows atomically inside it, and rolls them back with it', async () => {
        const project = await newProject();
        const shard = await shardOf(project);
        const group = groupOf(project.id, at(1));
        await expect(
          shard.transaction(async (tx) => {
            await tx.groups.create(group, [{ position: 0, fileUuid: randomUUID(), effects: '' }]);
            await tx.webhooks.create({ projectId: project.id, targetUrl: 'https://hooks.example/rollback', event: 'file.uploaded', isActive: true, signingSecret: null, version: '0.7', at: at(1) });
            expect(await tx.groups.delete(project.id, group.id)).toBe(true);
            await tx.groups.create(group, []);
            throw new Error('undo');
          }),
        ).rejects.toThrow('undo');
        expect(await shard.groups.findForProject(project.id, group.id)).toBeNull();
        expect(await shard.webhooks.list(project.id)).toEqual([]);
      });
    });

    describe('multipart uploads', () => {
      it('keeps an upload as created and finds it by uuid', async () => {
        const project = await newProject();
        const shard = await shardOf(project);
        const upload = multipartOf(project.id, at(30));
        await shard.multipart.create(upload);
        expect(await shard.multipart.find(upload.uuid)).toEqual(upload);
        expect(await shard.multipart.find(randomUUID())).toBeNull();
        expect(await onOtherShard(project, (scan) => scan.multipart.find(upload.uuid))).toBeNull();
      });

      it('records parts in part order, a re-sent part replacing the first', async () => {
        const project = await newProject();
        const shard = await shardOf(project);
        const upload = multipartOf(project.id, at(30));
        await shard.multipart.create(upload);
        await shard.multipart.savePart(upload.uuid, { partNumber: 2, etag: 'b', size: 5 });
        await shard.multipart.savePart(upload.uuid, { partNumber: 1, etag: 'a', size: 10 });
        await shard.multipart.savePart(upload.uuid, { partNumber: 2, etag: 'b2', size: 6 });
        expect(await shard.multipart.listParts(upload.uuid)).toEqual([
          { partNumber: 1, etag: 'a', size: 10 },
          { partNumber: 2, etag: 'b2', size: 6 },
        ]);
      });

      it('deletes an upload and its parts, answering true only the first time', async () => {
        const project = await newProject();
        const shard = await shardOf(project);
        const upload = multipartOf(project.id, at(30));
        await shard.multipart.create(upload);
        await shard.multipart.savePart(upload.uuid, { partNumber: 1, etag: 'a', size: 10 });
        expect(await shard.multipart.delete(upload.uuid)).toBe(true);
        expect(await shard.multipart.delete(upload.uuid)).toBe(false);
        expect(await shard.multipart.find(upload.uuid)).toBeNull();
        expect(await shard.multipart.listParts(upload.uuid)).toEqual([]);
      });

      it('lists uploads past their expiry, soonest first, up to the limit, each shard its own', async () => {
        const projects = [await newProject({ shard: 'main' }), await newProject({ shard: 'b' })];
        for (const project of projects) {
          const shard = await shardOf(project);
          const uploads = [old(3), old(1), old(2), old(8)].map((expiresAt) => multipartOf(project.id, expiresAt));
          for (const upload of uploads) await shard.multipart.create(upload);
        }
        const listed = await onEveryShard((scan) => scan.multipart.listExpired(old(5), 100));
        await expectOwnRows(listed, (u) => u.projectId);
        for (const project of projects) {
          const mine = listed[here(project)].filter((u) => u.projectId === project.id);
          expect(mine.map((u) => u.expiresAt)).toEqual([old(1), old(2), old(3)]);
          expect(listed[away(project)].some((u) => u.projectId === project.id)).toBe(false);
        }
        expect(await onEveryShard(async (scan) => (await scan.multipart.listExpired(old(5), 1)).length)).toEqual({ main: 1, b: 1 });
      });
    });

    describe('from_url tasks', () => {
      it('keeps a task as created and applies patches, touching its update time', async () => {
        const project = await newProject();
        const shard = await shardOf(project);
        const task = taskOf(project.id, 'waiting', old(1));
        await shard.fromUrlTasks.create(task);
        expect(await shard.fromUrlTasks.find(task.token)).toEqual(task);
        expect(await shard.fromUrlTasks.find(randomUUID())).toBeNull();
        expect(await onOtherShard(project, (scan) => scan.fromUrlTasks.find(task.token))).toBeNull();
        await shard.fromUrlTasks.update(task.token, { status: 'progress', done: 5, total: 10 });
        const progressed = await shard.fromUrlTasks.find(task.token);
        expect(progressed).toMatchObject({ status: 'progress', done: 5, total: 10, fileUuid: null, error: null });
        expect(progressed!.updatedAt > task.updatedAt).toBe(true);
        const fileUuid = randomUUID();
        await shard.fromUrlTasks.update(task.token, { status: 'success', fileUuid });
        expect(await shard.fromUrlTasks.find(task.token)).toMatchObject({ status: 'success', done: 5, total: 10, fileUuid });
        await shard.fromUrlTasks.update(task.token, { status: 'error', error: 'boom', errorCode: 'E' });
        expect(await shard.fromUrlTasks.find(task.token)).toMatchObject({ status: 'error', error: 'boom', errorCode: 'E' });
      });

      it('lists waiting and running tasks untouched since an instant as stale, each shard its own', async () => {
        const projects = [await newProject({ shard: 'main' }), await newProject({ shard: 'b' })];
        const made = new Map<string, FromUrlTask[]>();
        for (const project of projects) {
          const tasks = [taskOf(project.id, 'waiting', old(1)), taskOf(project.id, 'progress', old(2)), taskOf(project.id, 'success', old(1)), taskOf(project.id, 'error', old(1)), taskOf(project.id, 'waiting', old(7))];
          const shard = await shardOf(project);
          for (const task of tasks) await shard.fromUrlTasks.create(task);
          made.set(project.id, tasks);
        }
        const listed = await onEveryShard((scan) => scan.fromUrlTasks.listStale(old(5), 1000));
        await expectOwnRows(listed, (t) => t.projectId);
        for (const project of projects) {
          const tasks = made.get(project.id)!;
          const stale = listed[here(project)].filter((t) => t.projectId === project.id);
          expect(new Set(stale.map((t) => t.token))).toEqual(new Set([tasks[0]!.token, tasks[1]!.token]));
          expect(listed[away(project)].some((t) => t.projectId === project.id)).toBe(false);
        }
        expect(await onEveryShard(async (scan) => (await scan.fromUrlTasks.listStale(old(5), 1)).length)).toEqual({ main: 1, b: 1 });
        // Their clean-up must not leave them to the next test.
        for (const project of projects) {
          const shard = await shardOf(project);
          for (const task of made.get(project.id)!) await shard.fromUrlTasks.update(task.token, { status: 'success' });
        }
      });

      it('deletes finished tasks last touched before an instant, and says how many, each shard its own', async () => {
        const projects = [await newProject({ shard: 'main' }), await newProject({ shard: 'b' })];
        const made = new Map<string, FromUrlTask[]>();
        for (const project of projects) {
          const tasks = [taskOf(project.id, 'success', ancient(1)), taskOf(project.id, 'error', ancient(2)), taskOf(project.id, 'waiting', ancient(1)), taskOf(project.id, 'success', ancient(8))];
          const shard = await shardOf(project);
          for (const task of tasks) await shard.fromUrlTasks.create(task);
          made.set(project.id, tasks);
        }
        expect(await onEveryShard((scan) => scan.fromUrlTasks.deleteFinishedBefore(ancient(5)))).toEqual({ main: 2, b: 2 });
        for (const project of projects) {
          const shard = await shardOf(project);
          const tasks = made.get(project.id)!;
          expect(await shard.fromUrlTasks.find(tasks[0]!.token)).toBeNull();
          expect(await shard.fromUrlTasks.find(tasks[1]!.token)).toBeNull();
          expect(await shard.fromUrlTasks.find(tasks[2]!.token)).not.toBeNull();
          expect(await shard.fromUrlTasks.find(tasks[3]!.token)).not.toBeNull();
        }
      });
    });

    describe('groups', () => {
      it('keeps a group with its members in position order, for its own project only', async () => {
        const project = await newProject();
        const shard = await shardOf(project);
        const other = await newProject({ shard: project.shard });
        const otherShard = await shardOf(other);
        const group = groupOf(project.id, at(1), 250);
        const members: GroupMember[] = Array.from({ length: 250 }, (_, position) => ({ position, fileUuid: randomUUID(), effects: position % 2 ? '-/resize/10x/' : '' })).reverse();
        await shard.groups.create(group, members);
        const found = await shard.groups.findForProject(project.id, group.id);
        expect(found?.group).toEqual(group);
        expect(found?.members).toEqual([...members].sort((a, b) => a.position - b.position));
        expect(await otherShard.groups.findForProject(other.id, group.id)).toBeNull();
        expect(await onOtherShard(project, (scan) => scan.groups.findForProject(project.id, group.id))).toBeNull();
      });

      it('finds one member by position, whatever the project, on the shard holding the group only', async () => {
        const project = await newProject();
        const shard = await shardOf(project);
        const group = groupOf(project.id, at(1), 2);
        const members = [
          { position: 0, fileUuid: randomUUID(), effects: '' },
          { position: 1, fileUuid: randomUUID(), effects: '-/crop/1x1/' },
        ];
        await shard.groups.create(group, members);
        expect(await onEveryShard((scan) => scan.groups.findMember(group.id, 1))).toEqual({ [here(project)]: members[1], [away(project)]: null });
        expect(await onEveryShard((scan) => scan.groups.findMember(group.id, 2))).toEqual({ main: null, b: null });
        expect(await onEveryShard((scan) => scan.groups.findMember(`${randomUUID()}~1`, 0))).toEqual({ main: null, b: null });
      });

      it('lists and counts a project\'s groups by creation time then id, paging after a group', async () => {
        const project = await newProject();
        const shard = await shardOf(project);
        const other = await newProject({ shard: project.shard });
        const otherShard = await shardOf(other);
        const groups = [groupOf(project.id, at(1)), groupOf(project.id, at(2)), groupOf(project.id, at(2)), groupOf(project.id, at(2)), groupOf(project.id, at(3))];
        for (const group of groups) await shard.groups.create(group, []);
        await otherShard.groups.create(groupOf(other.id, at(2)), []);
        const ordered = [...groups].sort((a, b) => a.datetimeCreated.localeCompare(b.datetimeCreated) || compareUuids(a.id, b.id));
        const ids = (records: GroupRecord[]) => records.map((g) => g.id);
        const query = (overrides: Partial<Parameters<ShardRepositories['groups']['list']>[1]> = {}) => ({ order: 'asc' as const, after: null, limit: 100, ...overrides });
        expect(ids(await shard.groups.list(project.id, query()))).toEqual(ids(ordered));
        expect(ids(await shard.groups.list(project.id, query({ order: 'desc' })))).toEqual(ids([...ordered].reverse()));
        expect(ids(await shard.groups.list(project.id, query({ limit: 2 })))).toEqual(ids(ordered.slice(0, 2)));
        for (let i = 0; i < ordered.length; i++) {
          const after = { datetime: ordered[i]!.datetimeCreated, id: ordered[i]!.id };
          expect(ids(await shard.groups.list(project.id, query({ after })))).toEqual(ids(ordered.slice(i + 1)));
          expect(ids(await shard.groups.list(project.id, query({ after, order: 'desc' })))).toEqual(ids(ordered.slice(0, i).reverse()));
        }
        expect(ids(await shard.groups.list(project.id, query({ after: { datetime: at(2), id: null } })))).toEqual(ids(ordered.slice(1)));
        expect(await shard.groups.count(project.id)).toBe(5);
        expect(await otherShard.groups.count(other.id)).toBe(1);
      });

      it('deletes a group of the project once, leaving its files', async () => {
        const project = await newProject();
        const shard = await shardOf(project);
        const other = await newProject({ shard: project.shard });
        const otherShard = await shardOf(other);
        const file = fileOf(project.id);
        await shard.files.insertMany([file]);
        const group = groupOf(project.id, at(1), 1);
        await shard.groups.create(group, [{ position: 0, fileUuid: file.uuid, effects: '' }]);
        expect(await otherShard.groups.delete(other.id, group.id)).toBe(false);
        expect(await shard.groups.findForProject(project.id, group.id)).not.toBeNull();
        expect(await shard.groups.delete(project.id, group.id)).toBe(true);
        expect(await shard.groups.delete(project.id, group.id)).toBe(false);
        expect(await shard.groups.findForProject(project.id, group.id)).toBeNull();
        expect(await shard.groups.findMember(group.id, 0)).toBeNull();
        expect(await shard.files.findForProject(project.id, file.uuid)).toEqual(file);
      });
    });

    describe('webhooks', () => {
      const hook = async (projectId: string, targetUrl: string, overrides: Partial<Parameters<ShardRepositories['webhooks']['create']>[0]> = {}) =>
        (await shards.forProject(projectId)).webhooks.create({ projectId, targetUrl, event: 'file.uploaded', isActive: true, signingSecret: null, version: '0.7', at: at(1), ...overrides });

      it('creates subscriptions with increasing integer ids, found in their own project only', async () => {
        const project = await newProject();
        const shard = await shardOf(project);
        const other = await newProject({ shard: project.shard });
        const otherShard = await shardOf(other);
        const first = await hook(project.id, 'https://hooks.example/a', { signingSecret: 's3cret' });
        const second = await hook(project.id, 'https://hooks.example/b', { event: 'file.stored', isActive: false });
        expect(first).toEqual({ id: first.id, projectId: project.id, targetUrl: 'https://hooks.example/a', event: 'file.uploaded', isActive: true, signingSecret: 's3cret', version: '0.7', createdAt: at(1), updatedAt: at(1) });
        expect(Number.isInteger(first.id)).toBe(true);
        expect(second.id).toBeGreaterThan(first.id);
        expect(await shard.webhooks.list(project.id)).toEqual([first, second]);
        expect(await otherShard.webhooks.list(other.id)).toEqual([]);
        expect(await shard.webhooks.find(project.id, first.id)).toEqual(first);
        expect(await otherShard.webhooks.find(other.id, first.id)).toBeNull();
        expect(await shard.webhooks.findByTarget(project.id, 'https://hooks.example/b', 'file.stored')).toEqual(second);
        expect(await shard.webhooks.findByTarget(project.id, 'https://hooks.example/b', 'file.uploaded')).toBeNull();
        expect(await onOtherShard(project, (scan) => scan.webhooks.list(project.id))).toEqual([]);
      });

      it("hands out ids from the shard's own range, so a moved project's ids never meet another's", async () => {
        const onMain = await hook((await newProject({ shard: 'main' })).id, 'https://hooks.example/range');
        const onB = await hook((await newProject({ shard: 'b' })).id, 'https://hooks.example/range');
        // Shard `b`, the first added to the map, starts at 10^12; the main database at 1.
        expect(onMain.id).toBeLessThan(1e12);
        expect(onB.id).toBeGreaterThan(1e12);
        expect(Number.isSafeInteger(onB.id)).toBe(true);
      });

      it('updates what a patch names, in the own project only', async () => {
        const project = await newProject();
        const shard = await shardOf(project);
        const other = await newProject({ shard: project.shard });
        const otherShard = await shardOf(other);
        const created = await hook(project.id, 'https://hooks.example/u', { signingSecret: 'x' });
        const updated = await shard.webhooks.update(project.id, created.id, { targetUrl: 'https://hooks.example/v', isActive: false, signingSecret: null }, at(2));
        expect(updated).toEqual({ ...created, targetUrl: 'https://hooks.example/v', isActive: false, signingSecret: null, updatedAt: at(2) });
        expect(await shard.webhooks.update(project.id, created.id, { event: 'file.deleted' }, at(3))).toEqual({ ...updated, event: 'file.deleted', updatedAt: at(3) });
        expect(await otherShard.webhooks.update(other.id, created.id, { isActive: true }, at(4))).toBeNull();
        expect((await shard.webhooks.find(project.id, created.id))?.isActive).toBe(false);
      });

      it('lists the active subscriptions of one event', async () => {
        const project = await newProject();
        const shard = await shardOf(project);
        const active = await hook(project.id, 'https://hooks.example/1');
        await hook(project.id, 'https://hooks.example/2', { isActive: false });
        await hook(project.id, 'https://hooks.example/3', { event: 'file.deleted' });
        expect(await shard.webhooks.active(project.id, 'file.uploaded')).toEqual([active]);
      });

      it('deletes one subscription, or all to one URL, in the own project only', async () => {
        const project = await newProject();
        const shard = await shardOf(project);
        const other = await newProject({ shard: project.shard });
        const otherShard = await shardOf(other);
        const one = await hook(project.id, 'https://hooks.example/x');
        await hook(project.id, 'https://hooks.example/y');
        await hook(project.id, 'https://hooks.example/y', { event: 'file.stored' });
        const theirs = await hook(other.id, 'https://hooks.example/y');
        expect(await otherShard.webhooks.delete(other.id, one.id)).toBe(false);
        expect(await shard.webhooks.delete(project.id, one.id)).toBe(true);
        expect(await shard.webhooks.delete(project.id, one.id)).toBe(false);
        expect(await shard.webhooks.deleteByTarget(project.id, 'https://hooks.example/y')).toBe(2);
        expect(await shard.webhooks.list(project.id)).toEqual([]);
        expect(await otherShard.webhooks.list(other.id)).toEqual([theirs]);
      });

      it('creates each delivery once per id, records attempts and reopens finished ones', async () => {
        const project = await newProject();
        const shard = await shardOf(project);
        const webhook = await hook(project.id, 'https://hooks.example/d');
        const delivery = deliveryOf(project.id, webhook.id, at(1));
        await shard.webhooks.createDeliveries([delivery]);
        await shard.webhooks.createDeliveries([{ ...delivery, payload: '{"changed":true}' }, deliveryOf(project.id, webhook.id, at(2))]);
        await shard.webhooks.createDeliveries([]);
        expect(await shard.webhooks.findDelivery(delivery.id)).toEqual(delivery);
        expect(await shard.webhooks.findDelivery(randomUUID())).toBeNull();

        await shard.webhooks.recordAttempt({
          attempt: { id: randomUUID(), deliveryId: delivery.id, attempt: 1, statusCode: 500, latencyMs: 12, error: 'HTTP 500', createdAt: at(3) },
          status: 'pending',
        });
        expect(await shard.webhooks.findDelivery(delivery.id)).toEqual({ ...delivery, attempts: 1, lastStatusCode: 500, lastError: 'HTTP 500', updatedAt: at(3) });
        await shard.webhooks.recordAttempt({
          attempt: { id: randomUUID(), deliveryId: delivery.id, attempt: 2, statusCode: 200, latencyMs: 8, error: null, createdAt: at(4) },
          status: 'delivered',
        });
        expect(await shard.webhooks.findDelivery(delivery.id)).toEqual({
          ...delivery,
          status: 'delivered',
          attempts: 2,
          lastStatusCode: 200,
          lastError: null,
          updatedAt: at(4),
          deliveredAt: at(4),
        });
        const attempts = await shard.webhooks.listAttempts([delivery.id, randomUUID()]);
        expect(attempts.map((a) => [a.attempt, a.statusCode, a.latencyMs, a.error])).toEqual([
          [1, 500, 12, 'HTTP 500'],
          [2, 200, 8, null],
        ]);
        expect(await shard.webhooks.listAttempts([])).toEqual([]);

        await shard.webhooks.reopenDelivery(delivery.id, at(5));
        expect(await shard.webhooks.findDelivery(delivery.id)).toMatchObject({ status: 'pending', updatedAt: at(5), attempts: 2 });
      });

      it('lists pending deliveries untouched since an instant, oldest first, each shard its own', async () => {
        const projects = [await newProject({ shard: 'main' }), await newProject({ shard: 'b' })];
        const made = new Map<string, WebhookDelivery[]>();
        for (const project of projects) {
          const webhook = await hook(project.id, 'https://hooks.example/s');
          const deliveries = [
            deliveryOf(project.id, webhook.id, old(3)),
            deliveryOf(project.id, webhook.id, old(1)),
            { ...deliveryOf(project.id, webhook.id, old(1)), status: 'delivered' as const },
            { ...deliveryOf(project.id, webhook.id, old(1)), status: 'failed' as const },
            deliveryOf(project.id, webhook.id, old(9)),
          ];
          await (await shardOf(project)).webhooks.createDeliveries(deliveries);
          made.set(project.id, deliveries);
        }
        const listed = await onEveryShard((scan) => scan.webhooks.listStalePending(old(5), 100));
        await expectOwnRows(listed, (d) => d.projectId);
        for (const project of projects) {
          const deliveries = made.get(project.id)!;
          const stale = listed[here(project)].filter((d) => d.projectId === project.id);
          expect(stale.map((d) => d.id)).toEqual([deliveries[1]!.id, deliveries[0]!.id]);
          expect(listed[away(project)].some((d) => d.projectId === project.id)).toBe(false);
        }
        expect(await onEveryShard(async (scan) => (await scan.webhooks.listStalePending(old(5), 1)).length)).toEqual({ main: 1, b: 1 });
      });

      it("pages a subscription's deliveries newest first, before a creation time", async () => {
        const project = await newProject();
        const shard = await shardOf(project);
        const webhook = await hook(project.id, 'https://hooks.example/p');
        const another = await hook(project.id, 'https://hooks.example/q');
        const deliveries = [1, 2, 3, 4].map((i) => deliveryOf(project.id, webhook.id, at(i)));
        await shard.webhooks.createDeliveries([...deliveries, deliveryOf(project.id, another.id, at(3))]);
        const ids = (list: WebhookDelivery[]) => list.map((d) => d.id);
        expect(ids(await shard.webhooks.listDeliveries(project.id, webhook.id, { limit: 10, before: null }))).toEqual(ids([...deliveries].reverse()));
        expect(ids(await shard.webhooks.listDeliveries(project.id, webhook.id, { limit: 2, before: null }))).toEqual(ids([deliveries[3]!, deliveries[2]!]));
        expect(ids(await shard.webhooks.listDeliveries(project.id, webhook.id, { limit: 2, before: at(3) }))).toEqual(ids([deliveries[1]!, deliveries[0]!]));
        const other = await newProject({ shard: project.shard });
        const otherShard = await shardOf(other);
        expect(await otherShard.webhooks.listDeliveries(other.id, webhook.id, { limit: 10, before: null })).toEqual([]);
      });
    });

    describe('dashboard sessions', () => {
      const sessionOf = (projectId: string, expiresAt: string): DashboardSession => ({
        id: randomUUID(),
        projectId,
        admin: false,
        secretKeyId: randomUUID(),
        csrfToken: randomUUID(),
        createdAt: at(0),
        expiresAt,
      });

      it('finds a session until it expires', async () => {
        const session = { ...sessionOf(randomUUID(), at(10)), admin: true, secretKeyId: null };
        await main.sessions.create(session);
        expect(await main.sessions.find(session.id, at(9))).toEqual(session);
        expect(await main.sessions.find(session.id, at(10))).toBeNull();
        expect(await main.sessions.find(randomUUID(), at(1))).toBeNull();
      });

      it('switches the project of a session and deletes one', async () => {
        const session = sessionOf(randomUUID(), at(10));
        await main.sessions.create(session);
        const projectId = randomUUID();
        await main.sessions.setProject(session.id, projectId);
        expect(await main.sessions.find(session.id, at(1))).toEqual({ ...session, projectId });
        await main.sessions.delete(session.id);
        expect(await main.sessions.find(session.id, at(1))).toBeNull();
      });

      it('deletes the sessions expired at an instant, and says how many', async () => {
        const sessions = [sessionOf(randomUUID(), ancient(1)), sessionOf(randomUUID(), ancient(2)), sessionOf(randomUUID(), at(10))];
        for (const session of sessions) await main.sessions.create(session);
        expect(await main.sessions.deleteExpired(ancient(2))).toBe(2);
        expect(await main.sessions.find(sessions[2]!.id, at(1))).not.toBeNull();
        expect(await main.sessions.deleteExpired(ancient(2))).toBe(0);
      });
    });

    describe('add-ons', () => {
      const clamav = (infected: boolean, when: string) => ({
        data: { infected, infected_with: infected ? 'Eicar' : '' },
        version: '1.4.6',
        datetime_created: when,
        datetime_updated: when,
      });

      it('keeps a project\'s scan-on-upload settings, off by default', async () => {
        expect(await newProject()).toMatchObject({ scanOnUpload: false, purgeInfected: false });
        const project = await newProject({ scanOnUpload: true, purgeInfected: true });
        expect(await main.projects.findById(project.id)).toMatchObject({ scanOnUpload: true, purgeInfected: true });
        expect(await main.projects.update(project.id, { purgeInfected: false })).toMatchObject({ scanOnUpload: true, purgeInfected: false });
      });

      it('keeps a file\'s appdata and scan status as written, {} and null by default', async () => {
        const project = await newProject();
        const shard = await shardOf(project);
        const plain = storedFile({ projectId: project.id });
        const held = storedFile({ projectId: project.id, scanStatus: 'pending', appdata: { uc_clamav_virus_scan: clamav(false, at(1)) } });
        await shard.files.insertMany([plain, held]);
        expect(await shard.files.findForProject(project.id, plain.uuid)).toMatchObject({ appdata: {}, scanStatus: null });
        expect(await shard.files.findForProject(project.id, held.uuid)).toEqual(held);
      });

      it('writes one add-on\'s entry beside the others with the scan status, in the own project\'s live files only', async () => {
        const project = await newProject();
        const shard = await shardOf(project);
        const other = await newProject({ shard: project.shard });
        const otherShard = await shardOf(other);
        const file = storedFile({ projectId: project.id, scanStatus: 'pending', appdata: { remove_bg: { data: { foreground_type: 'person' }, version: '1.0', datetime_created: at(1), datetime_updated: at(1) } } });
        await shard.files.insertMany([file]);
        const written = await shard.files.writeAppData(project.id, file.uuid, 'uc_clamav_virus_scan', clamav(true, at(2)), 'infected');
        expect(written?.before).toEqual(file);
        expect(written?.after.scanStatus).toBe('infected');
        expect(written?.after.appdata).toEqual({ remove_bg: file.appdata.remove_bg, uc_clamav_virus_scan: clamav(true, at(2)) });
        expect(await shard.files.findForProject(project.id, file.uuid)).toEqual(written?.after);
        // A later write replaces the add-on's own entry only.
        const again = await shard.files.writeAppData(project.id, file.uuid, 'uc_clamav_virus_scan', clamav(false, at(3)), 'clean');
        expect(again?.after.appdata).toEqual({ remove_bg: file.appdata.remove_bg, uc_clamav_virus_scan: clamav(false, at(3)) });
        expect(await otherShard.files.writeAppData(other.id, file.uuid, 'uc_clamav_virus_scan', clamav(true, at(4)), 'infected')).toBeNull();
        await shard.files.setRemoved(project.id, [file.uuid], at(5));
        expect(await shard.files.writeAppData(project.id, file.uuid, 'uc_clamav_virus_scan', clamav(true, at(6)), 'infected')).toBeNull();
        expect((await shard.files.findForProject(project.id, file.uuid, { includeRemoved: true }))?.scanStatus).toBe('clean');
      });

      it('loses neither of two add-ons writing the same file at once', async () => {
        const project = await newProject();
        const shard = await shardOf(project);
        const file = storedFile({ projectId: project.id });
        await shard.files.insertMany([file]);
        const foreign = { data: { foreground_type: 'car' }, version: '1.0', datetime_created: at(1), datetime_updated: at(1) };
        await Promise.all([
          shard.files.writeAppData(project.id, file.uuid, 'uc_clamav_virus_scan', clamav(false, at(1)), 'clean'),
          shard.files.writeAppData(project.id, file.uuid, 'remove_bg', foreign, 'clean'),
        ]);
        expect(Object.keys((await shard.files.findForProject(project.id, file.uuid))!.appdata).sort()).toEqual(['remove_bg', 'uc_clamav_virus_scan']);
      });

      it('moves a scan status only from the state named, in the own project', async () => {
        const project = await newProject();
        const shard = await shardOf(project);
        const other = await newProject({ shard: project.shard });
        const otherShard = await shardOf(other);
        const file = storedFile({ projectId: project.id, scanStatus: 'pending' });
        await shard.files.insertMany([file]);
        expect(await otherShard.files.moveScanStatus(other.id, file.uuid, 'pending', 'failed')).toBeNull();
        expect(await shard.files.moveScanStatus(project.id, file.uuid, 'clean', 'failed')).toBeNull();
        expect((await shard.files.moveScanStatus(project.id, file.uuid, 'pending', 'failed'))?.scanStatus).toBe('failed');
        expect(await shard.files.moveScanStatus(project.id, file.uuid, 'pending', 'failed')).toBeNull();
      });

      it('keeps execution requests once per id, per project and add-on, and ends them', async () => {
        const project = await newProject();
        const shard = await shardOf(project);
        const other = await newProject({ shard: project.shard });
        const otherShard = await shardOf(other);
        const request = {
          requestId: randomUUID(),
          projectId: project.id,
          addonName: 'uc_clamav_virus_scan' as const,
          fileUuid: randomUUID(),
          params: { purgeInfected: true },
          status: 'in_progress' as const,
          error: null,
          createdAt: at(1),
          updatedAt: at(1),
        };
        expect(await shard.addonRequests.create(request)).toBe(true);
        expect(await shard.addonRequests.create({ ...request, fileUuid: randomUUID() })).toBe(false);
        expect(await shard.addonRequests.find(project.id, 'uc_clamav_virus_scan', request.requestId)).toEqual(request);
        expect(await shard.addonRequests.findById(request.requestId)).toEqual(request);
        expect(await otherShard.addonRequests.find(other.id, 'uc_clamav_virus_scan', request.requestId)).toBeNull();
        expect(await shard.addonRequests.find(project.id, 'remove_bg', request.requestId)).toBeNull();
        await shard.addonRequests.finish(request.requestId, 'error', 'clamd is down', at(2));
        expect(await shard.addonRequests.findById(request.requestId)).toEqual({ ...request, status: 'error', error: 'clamd is down', updatedAt: at(2) });
        const running = { ...request, requestId: randomUUID(), createdAt: at(1), updatedAt: at(1) };
        await shard.addonRequests.create(running);
        expect(await onOtherShard(project, (scan) => scan.addonRequests.findById(request.requestId))).toBeNull();
        // A finished request of a project on the other shard: each shard's sweep forgets its own.
        const elsewhere = await newProject({ shard: away(project) });
        const theirs = { ...request, requestId: randomUUID(), projectId: elsewhere.id };
        const elsewhereShard = await shardOf(elsewhere);
        expect(await elsewhereShard.addonRequests.create(theirs)).toBe(true);
        await elsewhereShard.addonRequests.finish(theirs.requestId, 'done', null, at(2));
        // Only finished requests are forgotten, by their last update.
        expect(await onEveryShard((scan) => scan.addonRequests.deleteFinishedBefore(at(2)))).toEqual({ main: 0, b: 0 });
        const forgotten = await onEveryShard((scan) => scan.addonRequests.deleteFinishedBefore(at(3)));
        expect(forgotten[here(project)]).toBeGreaterThanOrEqual(1);
        expect(forgotten[away(project)]).toBeGreaterThanOrEqual(1);
        expect(await shard.addonRequests.findById(request.requestId)).toBeNull();
        expect(await shard.addonRequests.findById(running.requestId)).toEqual(running);
        expect(await elsewhereShard.addonRequests.findById(theirs.requestId)).toBeNull();
      });

      it('keeps the initiator of an outbox event', async () => {
        const project = await newProject();
        const shard = await shardOf(project);
        const fileUuid = randomUUID();
        const initiator = { type: 'addon' as const, detail: { request_id: randomUUID(), addon_name: 'uc_clamav_virus_scan', source_file_uuid: null } };
        await shard.outbox.append([{ projectId: project.id, event: 'file.infected', fileUuid, previousValues: null, initiator, createdAt: at(1) }]);
        const [event] = (await shard.outbox.oldest(10_000)).filter((e) => e.fileUuid === fileUuid);
        expect(event?.initiator).toEqual(initiator);
        await shard.outbox.remove(event!.id);
      });
    });

    describe('document conversions', () => {
      it('keeps a conversion once per token and per request of a project, moves its status only from the states named, and lists finished groups of one project', async () => {
        const project = await newProject();
        const shard = await shardOf(project);
        const other = await newProject({ shard: project.shard });
        const otherShard = await shardOf(other);
        const source = randomUUID();
        const conversion = {
          token: String(2 ** 47 + 777),
          projectId: project.id,
          requestKey: randomUUID(),
          sourceUuid: source,
          plan: { format: 'png' as const, page: null },
          store: true,
          saveInGroup: true,
          resultUuid: randomUUID(),
          groupId: null,
          status: 'pending' as const,
          error: null,
          createdAt: at(1),
          updatedAt: at(1),
        };
        expect(await shard.documentConversions.create(conversion)).toBe(true);
        expect(await shard.documentConversions.create({ ...conversion, token: '52' })).toBe(false);
        expect(await shard.documentConversions.create({ ...conversion, requestKey: randomUUID() })).toBe(false);
        expect(await shard.documentConversions.find(project.id, conversion.token)).toEqual(conversion);
        expect(await otherShard.documentConversions.find(other.id, conversion.token)).toBeNull();
        expect(await shard.documentConversions.findByRequest(project.id, conversion.requestKey)).toEqual(conversion);
        expect(await otherShard.documentConversions.findByRequest(other.id, conversion.requestKey)).toBeNull();
        // Another project may make the same request of a file with the same uuid.
        expect(await otherShard.documentConversions.create({ ...conversion, token: '53', projectId: other.id, plan: { format: 'jpg' as const, page: 4 } })).toBe(true);
        expect((await otherShard.documentConversions.findByToken('53'))?.plan).toEqual({ format: 'jpg', page: 4 });
        expect(await onOtherShard(project, (scan) => scan.documentConversions.findByToken(conversion.token))).toBeNull();

        expect(await shard.documentConversions.moveStatus(conversion.token, ['finished'], 'failed', 'no', at(2))).toBe(false);
        expect(await shard.documentConversions.moveStatus(conversion.token, ['pending', 'processing'], 'processing', null, at(2))).toBe(true);
        expect(await shard.documentConversions.finishedGroups(project.id, source)).toEqual([]);
        const group = `${randomUUID()}~3`;
        await shard.documentConversions.setGroup(conversion.token, group, at(3));
        expect(await shard.documentConversions.moveStatus(conversion.token, ['processing'], 'finished', null, at(4))).toBe(true);
        const finished = { ...conversion, groupId: group, status: 'finished' as const, updatedAt: at(4) };
        expect(await shard.documentConversions.findByToken(conversion.token)).toEqual(finished);
        expect(await shard.documentConversions.finishedGroups(project.id, source)).toEqual([finished]);
        expect(await otherShard.documentConversions.finishedGroups(other.id, source)).toEqual([]);
        expect(await shard.documentConversions.moveStatus('999', ['pending'], 'processing', null, at(4))).toBe(false);
      });
    });

    describe('video conversions', () => {
      it('keeps a conversion once per token and per request of a project, and moves its status only from the states named', async () => {
        const project = await newProject();
        const shard = await shardOf(project);
        const other = await newProject({ shard: project.shard });
        const otherShard = await shardOf(other);
        const conversion = {
          token: String(2 ** 47 + 12345),
          projectId: project.id,
          requestKey: randomUUID(),
          sourceUuid: randomUUID(),
          plan: { format: 'webm' as const, quality: 'best' as const, size: { width: 640, height: null, mode: 'preserve_ratio' as const }, cut: { startMs: 1500, lengthMs: null }, thumbnails: 3 },
          store: true,
          resultUuid: randomUUID(),
          thumbnailsGroupId: `${randomUUID()}~3`,
          status: 'pending' as const,
          error: null,
          progress: 0,
          createdAt: at(1),
          updatedAt: at(1),
        };
        expect(await shard.videoConversions.create(conversion)).toBe(true);
        // The same request of the project, under another token: refused, the first one stands.
        expect(await shard.videoConversions.create({ ...conversion, token: '42' })).toBe(false);
        expect(await shard.videoConversions.create({ ...conversion, requestKey: randomUUID() })).toBe(false);
        expect(await shard.videoConversions.findByToken('42')).toBeNull();
        expect(await shard.videoConversions.find(project.id, conversion.token)).toEqual(conversion);
        expect(await otherShard.videoConversions.find(other.id, conversion.token)).toBeNull();
        expect(await shard.videoConversions.findByRequest(project.id, conversion.requestKey)).toEqual(conversion);
        expect(await otherShard.videoConversions.findByRequest(other.id, conversion.requestKey)).toBeNull();
        // Another project may make the same request.
        expect(await otherShard.videoConversions.create({ ...conversion, token: '43', projectId: other.id })).toBe(true);
        expect(await onOtherShard(project, (scan) => scan.videoConversions.findByToken(conversion.token))).toBeNull();

        expect(await shard.videoConversions.moveStatus(conversion.token, ['finished'], 'failed', 'no', at(2))).toBe(false);
        // Progress is written only while processing.
        await shard.videoConversions.setProgress(conversion.token, 40, at(2));
        expect((await shard.videoConversions.findByToken(conversion.token))?.progress).toBe(0);
        expect(await shard.videoConversions.moveStatus(conversion.token, ['pending', 'processing'], 'processing', null, at(2))).toBe(true);
        await shard.videoConversions.setProgress(conversion.token, 40, at(2));
        expect((await shard.videoConversions.findByToken(conversion.token))?.progress).toBe(40);
        expect(await shard.videoConversions.moveStatus(conversion.token, ['processing'], 'failed', 'ffmpeg failed', at(3))).toBe(true);
        expect(await shard.videoConversions.findByToken(conversion.token)).toEqual({ ...conversion, status: 'failed', error: 'ffmpeg failed', progress: 40, updatedAt: at(3) });
        expect(await shard.videoConversions.moveStatus(conversion.token, ['failed'], 'pending', null, at(4))).toBe(true);
        expect((await shard.videoConversions.findByToken(conversion.token))?.progress).toBe(0);
        await shard.videoConversions.moveStatus(conversion.token, ['pending'], 'processing', null, at(4));
        expect(await shard.videoConversions.moveStatus(conversion.token, ['processing'], 'finished', null, at(5))).toBe(true);
        expect((await shard.videoConversions.findByToken(conversion.token))?.progress).toBe(100);
        expect(await shard.videoConversions.moveStatus('999', ['pending'], 'processing', null, at(4))).toBe(false);
      });

      it("lists and counts a project's conversions, of one source or all, newest first by creation time then token, paging before a conversion", async () => {
        const project = await newProject();
        const shard = await shardOf(project);
        const other = await newProject({ shard: project.shard });
        const otherShard = await shardOf(other);
        const source = randomUUID();
        const elsewhere = randomUUID();
        const conversionOf = (projectId: string, sourceUuid: string, token: string, createdAt: string) => ({
          token,
          projectId,
          requestKey: randomUUID(),
          sourceUuid,
          plan: { format: 'mp4' as const, quality: 'normal' as const, size: null, cut: null, thumbnails: 1 },
          store: false,
          resultUuid: randomUUID(),
          thumbnailsGroupId: `${randomUUID()}~1`,
          status: 'pending' as const,
          error: null,
          progress: 0,
          createdAt,
          updatedAt: createdAt,
        });
        // Tokens are unique in a database: this test's are of its own range.
        const base = 7_000_000_000 + Math.floor(Math.random() * 1_000_000) * 100;
        const token = (n: number) => String(base + n);
        const ofSource = [
          conversionOf(project.id, source, token(1), at(1)),
          conversionOf(project.id, source, token(2), at(2)),
          conversionOf(project.id, source, token(3), at(2)),
          conversionOf(project.id, source, token(4), at(2)),
          conversionOf(project.id, source, token(5), at(3)),
        ];
        const ofOtherSource = conversionOf(project.id, elsewhere, token(6), at(2));
        // Another project converting a file of the same uuid (it cannot, but its rows must stay apart whatever they say).
        const ofOtherProject = conversionOf(other.id, source, token(7), at(2));
        for (const conversion of [...ofSource, ofOtherSource]) expect(await shard.videoConversions.create(conversion)).toBe(true);
        expect(await otherShard.videoConversions.create(ofOtherProject)).toBe(true);

        const newestFirst = (list: typeof ofSource) => [...list].sort((a, b) => b.createdAt.localeCompare(a.createdAt) || (a.token < b.token ? 1 : a.token > b.token ? -1 : 0));
        const tokens = (list: { token: string }[]) => list.map((c) => c.token);
        const query = (overrides: Partial<Parameters<ShardRepositories['videoConversions']['list']>[1]> = {}) => ({ sourceUuid: source, before: null, limit: 100, ...overrides });
        const ordered = newestFirst(ofSource);
        expect(await shard.videoConversions.list(project.id, query())).toEqual(ordered);
        expect(tokens(await shard.videoConversions.list(project.id, query({ limit: 2 })))).toEqual(tokens(ordered.slice(0, 2)));
        for (let i = 0; i < ordered.length; i++) {
          const before = { datetime: ordered[i]!.createdAt, token: ordered[i]!.token };
          expect(tokens(await shard.videoConversions.list(project.id, query({ before })))).toEqual(tokens(ordered.slice(i + 1)));
        }
        // A date alone: created then or earlier.
        expect(tokens(await shard.videoConversions.list(project.id, query({ before: { datetime: at(2), token: null } })))).toEqual(tokens(ordered.slice(1)));
        expect(await shard.videoConversions.list(project.id, query({ before: { datetime: at(0), token: null } }))).toEqual([]);
        expect(tokens(await shard.videoConversions.list(project.id, query({ sourceUuid: null })))).toEqual(tokens(newestFirst([...ofSource, ofOtherSource])));
        expect(await shard.videoConversions.count(project.id, source)).toBe(5);
        expect(await shard.videoConversions.count(project.id, null)).toBe(6);
        expect(await shard.videoConversions.count(project.id, elsewhere)).toBe(1);

        // Tenant isolation: each project sees its own rows only, whatever the source asked for.
        expect(await otherShard.videoConversions.list(other.id, query())).toEqual([ofOtherProject]);
        expect(await otherShard.videoConversions.list(other.id, query({ sourceUuid: elsewhere }))).toEqual([]);
        expect(await otherShard.videoConversions.list(other.id, query({ sourceUuid: null }))).toEqual([ofOtherProject]);
        expect(await otherShard.videoConversions.count(other.id, source)).toBe(1);
        expect(await otherShard.videoConversions.count(other.id, elsewhere)).toBe(0);
        const fresh = await newProject();
        expect(await (await shardOf(fresh)).videoConversions.list(fresh.id, query({ sourceUuid: null }))).toEqual([]);

        // The listing shows each conversion as it stands.
        await shard.videoConversions.moveStatus(token(5), ['pending'], 'processing', null, at(4));
        await shard.videoConversions.setProgress(token(5), 30, at(5));
        expect((await shard.videoConversions.list(project.id, query({ limit: 1 })))[0]).toEqual({ ...ordered[0], status: 'processing', progress: 30, updatedAt: at(5) });
      });
    });

    describe('project storages', () => {
      const storageOf = (projectId: string, name: string, overrides: Partial<ProjectStorageRecord> = {}): ProjectStorageRecord => ({
        projectId,
        name,
        bucket: 'bucket-a',
        prefix: '',
        region: 'us-east-1',
        endpoint: null,
        forcePathStyle: false,
        pattern: '${default}',
        sealedCredentials: `v1.${randomUUID()}`,
        createdAt: at(1),
        ...overrides,
      });

      it('keeps every field, and lists a project\'s storages by name', async () => {
        const project = await newProject();
        const custom = storageOf(project.id, 'minio', { prefix: 'a/b', endpoint: 'http://10.0.0.5:9000', forcePathStyle: true, region: 'eu-west-3', pattern: '${uuid}${ext}' });
        expect(await main.storages.create(storageOf(project.id, 'zeta'))).toBe(true);
        expect(await main.storages.create(custom)).toBe(true);
        expect(await main.storages.find(project.id, 'minio')).toEqual(custom);
        expect((await main.storages.list(project.id)).map((s) => s.name)).toEqual(['minio', 'zeta']);
        expect(await main.storages.find(project.id, 'missing')).toBeNull();
        expect(await main.storages.list((await newProject()).id)).toEqual([]);
      });

      it('refuses a second storage of one name in a project, keeping the first; names are per project', async () => {
        const project = await newProject();
        const other = await newProject();
        const first = storageOf(project.id, 'backup', { bucket: 'first' });
        expect(await main.storages.create(first)).toBe(true);
        expect(await main.storages.create(storageOf(project.id, 'backup', { bucket: 'second' }))).toBe(false);
        expect(await main.storages.find(project.id, 'backup')).toEqual(first);
        expect(await main.storages.create(storageOf(other.id, 'backup', { bucket: 'theirs' }))).toBe(true);
        expect((await main.storages.find(other.id, 'backup'))?.bucket).toBe('theirs');
        // Names are compared exactly.
        expect(await main.storages.create(storageOf(project.id, 'Backup'))).toBe(true);
      });

      it('deletes one project\'s storage only, and says whether there was one', async () => {
        const project = await newProject();
        const other = await newProject();
        await main.storages.create(storageOf(project.id, 'shared'));
        await main.storages.create(storageOf(other.id, 'shared'));
        expect(await main.storages.delete(other.id, 'shared')).toBe(true);
        expect(await main.storages.delete(other.id, 'shared')).toBe(false);
        expect(await main.storages.find(project.id, 'shared')).not.toBeNull();
        expect(await main.storages.find(other.id, 'shared')).toBeNull();
      });
    });

    describe('image analysis', () => {
      const analysisOf = (file: StoredFile, phash: string, overrides: Partial<ImageAnalysis> = {}): ImageAnalysis => ({
        projectId: file.projectId,
        fileUuid: file.uuid,
        thumbhash: 'YJqGPQw7sFlslqhFafSE+Q6oJ1h2iHB2Rw==',
        blurhash: 'LEHV6nWB2yk8pyo0adR*.7kCMdnj',
        dominantColor: '#336699',
        palette: ['#336699', '#ffffff'],
        phash,
        version: '1',
        createdAt: at(1),
        computedAt: at(1),
        ...overrides,
      });
      const image = (projectId: string, overrides: Partial<StoredFile> = {}) => fileOf(projectId, { isImage: true, mimeType: 'image/png', ...overrides });

      it('keeps every field, rewrites keeping the first creation time, and isolates projects', async () => {
        const project = await newProject();
        const shard = await shardOf(project);
        const other = await newProject({ shard: project.shard });
        const otherShard = await shardOf(other);
        const file = image(project.id);
        await shard.files.insertMany([file]);
        const first = analysisOf(file, '0123456789abcdef');
        expect(await shard.imageAnalysis.save(first)).toBe(true);
        expect(await shard.imageAnalysis.find(project.id, file.uuid)).toEqual(first);
        const again = analysisOf(file, 'fedcba9876543210', { createdAt: at(5), computedAt: at(5), palette: ['#000000'], version: '2' });
        expect(await shard.imageAnalysis.save(again)).toBe(true);
        expect(await shard.imageAnalysis.find(project.id, file.uuid)).toEqual({ ...again, createdAt: at(1) });
        // Another project sees nothing, and cannot write on this project's file.
        expect(await otherShard.imageAnalysis.find(other.id, file.uuid)).toBeNull();
        expect(await otherShard.imageAnalysis.findMany(other.id, [file.uuid])).toEqual([]);
        expect(await otherShard.imageAnalysis.save({ ...first, projectId: other.id })).toBe(false);
        expect(await otherShard.imageAnalysis.deleteForFiles(other.id, [file.uuid])).toBe(0);
        expect(await shard.imageAnalysis.findMany(project.id, [file.uuid, randomUUID()])).toHaveLength(1);
        expect(await onOtherShard(project, (scan) => scan.imageAnalysis.find(project.id, file.uuid))).toBeNull();
      });

      it('writes nothing for a removed or unknown file, and the row goes with the file', async () => {
        const project = await newProject();
        const shard = await shardOf(project);
        const [removed, kept, deleted] = [image(project.id), image(project.id), image(project.id)];
        await shard.files.insertMany([removed, kept, deleted]);
        await shard.files.setRemoved(project.id, [removed.uuid], at(2));
        expect(await shard.imageAnalysis.save(analysisOf(removed, '0000000000000000'))).toBe(false);
        expect(await shard.imageAnalysis.save(analysisOf(image(project.id), '0000000000000000'))).toBe(false);
        expect(await shard.imageAnalysis.find(project.id, removed.uuid)).toBeNull();
        expect(await shard.imageAnalysis.save(analysisOf(kept, '0000000000000000'))).toBe(true);
        expect(await shard.imageAnalysis.save(analysisOf(deleted, '0000000000000000'))).toBe(true);
        expect(await shard.imageAnalysis.deleteForFiles(project.id, [kept.uuid])).toBe(1);
        expect(await shard.imageAnalysis.find(project.id, kept.uuid)).toBeNull();
        await shard.files.deleteRow(deleted.uuid);
        expect(await shard.imageAnalysis.find(project.id, deleted.uuid)).toBeNull();
      });

      it('finds candidates by any equal 16-bit chunk, among the project\'s live files, stored or not as asked', async () => {
        const project = await newProject();
        const shard = await shardOf(project);
        const other = await newProject({ shard: project.shard });
        const otherShard = await shardOf(other);
        const near = image(project.id, { datetimeStored: at(1) });
        const secondChunk = image(project.id);
        const far = image(project.id);
        const gone = image(project.id);
        const foreign = image(other.id);
        await shard.files.insertMany([near, secondChunk, far, gone]);
        await otherShard.files.insertMany([foreign]);
        await shard.imageAnalysis.save(analysisOf(near, 'aaaa000000000000'));
        await shard.imageAnalysis.save(analysisOf(secondChunk, 'ffffbbbbffffffff'));
        await shard.imageAnalysis.save(analysisOf(far, 'ffffffffffffffff'));
        await shard.imageAnalysis.save(analysisOf(gone, 'aaaaffffffffffff'));
        await otherShard.imageAnalysis.save(analysisOf(foreign, 'aaaa000000000000'));
        await shard.files.setRemoved(project.id, [gone.uuid], at(2));
        const values = [[0xaaaa, 0x1234], [0xbbbb], [0x4321], [0x5678]];
        const found = await shard.imageAnalysis.candidates(project.id, values, null);
        expect(found.sort((a, b) => compareUuids(a.fileUuid, b.fileUuid))).toEqual(
          [
            { fileUuid: near.uuid, chunks: [0xaaaa, 0, 0, 0] },
            { fileUuid: secondChunk.uuid, chunks: [0xffff, 0xbbbb, 0xffff, 0xffff] },
          ].sort((a, b) => compareUuids(a.fileUuid, b.fileUuid)),
        );
        expect((await shard.imageAnalysis.candidates(project.id, values, true)).map((c) => c.fileUuid)).toEqual([near.uuid]);
        expect((await shard.imageAnalysis.candidates(project.id, values, false)).map((c) => c.fileUuid)).toEqual([secondChunk.uuid]);
        expect(await shard.imageAnalysis.candidates(project.id, [[], [], [], []], null)).toEqual([]);
      });

      it('lists live images without an analysis of the version, by uuid, in pages; every project\'s through each shard', async () => {
        const project = await newProject();
        const shard = await shardOf(project);
        const other = await newProject({ shard: project.shard });
        const otherShard = await shardOf(other);
        const elsewhere = await newProject({ shard: away(project) });
        const images = sortByUuid([image(project.id), image(project.id), image(project.id), image(project.id)]);
        const [analysed, outdated, removed] = [image(project.id), image(project.id), image(project.id)];
        await shard.files.insertMany([...images, analysed, outdated, removed, fileOf(project.id)]);
        await otherShard.files.insertMany([image(other.id)]);
        await (await shardOf(elsewhere)).files.insertMany([image(elsewhere.id)]);
        await shard.imageAnalysis.save(analysisOf(analysed, '0000000000000000', { version: '1' }));
        await shard.imageAnalysis.save(analysisOf(outdated, '0000000000000000', { version: '0' }));
        await shard.files.setRemoved(project.id, [removed.uuid], at(2));
        const expected = sortByUuid([...images, outdated]).map((file) => ({ projectId: project.id, uuid: file.uuid }));
        const first = await shard.imageAnalysis.listUnanalysed({ projectId: project.id, version: '1', afterUuid: null, limit: 3 });
        expect(first).toEqual(expected.slice(0, 3));
        const rest = await shard.imageAnalysis.listUnanalysed({ projectId: project.id, version: '1', afterUuid: first[2]!.uuid, limit: 3 });
        expect(rest).toEqual(expected.slice(3));
        const everywhere = await onEveryShard((scan) => scan.imageAnalysis.listUnanalysed({ projectId: null, version: '1', afterUuid: null, limit: 10_000 }));
        await expectOwnRows(everywhere, (target) => target.projectId);
        expect(everywhere[here(project)]).toEqual(expect.arrayContaining(expected));
        expect(everywhere[here(project)].some((target) => target.projectId === other.id)).toBe(true);
        expect(everywhere[away(project)].some((target) => target.projectId === elsewhere.id)).toBe(true);
        expect(everywhere[away(project)].some((target) => target.projectId === project.id || target.projectId === other.id)).toBe(false);
      });
    });

    describe('usage', () => {
      it('adds delivery counts to what is stored, per project and day', async () => {
        const project = await newProject();
        const shard = await shardOf(project);
        const other = await newProject({ shard: project.shard });
        const otherShard = await shardOf(other);
        await shard.usage.addDeliveries([
          { projectId: project.id, day: '2024-05-01', deliveries: 3, cacheHits: 2, cacheMisses: 1 },
          { projectId: project.id, day: '2024-05-02', deliveries: 1, cacheHits: 0, cacheMisses: 1 },
        ]);
        await otherShard.usage.addDeliveries([{ projectId: other.id, day: '2024-05-01', deliveries: 9, cacheHits: 9, cacheMisses: 0 }]);
        await shard.usage.addDeliveries([{ projectId: project.id, day: '2024-05-01', deliveries: 2, cacheHits: 1, cacheMisses: 1 }]);
        await shard.usage.addDeliveries([]);
        expect(await shard.usage.deliveriesSince(project.id, '2024-04-01')).toEqual([
          { projectId: project.id, day: '2024-05-01', deliveries: 5, cacheHits: 3, cacheMisses: 2 },
          { projectId: project.id, day: '2024-05-02', deliveries: 1, cacheHits: 0, cacheMisses: 1 },
        ]);
        expect((await shard.usage.deliveriesSince(project.id, '2024-05-02')).map((d) => d.day)).toEqual(['2024-05-02']);
        expect(await otherShard.usage.deliveriesSince(other.id, '2024-04-01')).toEqual([{ projectId: other.id, day: '2024-05-01', deliveries: 9, cacheHits: 9, cacheMisses: 0 }]);
        expect(await onOtherShard(project, (scan) => scan.usage.deliveriesSince(project.id, '2024-04-01'))).toEqual([]);
      });

      it('counts uploads per day from the files, removed ones included', async () => {
        const project = await newProject();
        const shard = await shardOf(project);
        await shard.files.insertMany([
          fileOf(project.id, { datetimeUploaded: '2024-05-01T01:00:00.000Z', size: 10 }),
          fileOf(project.id, { datetimeUploaded: '2024-05-01T23:00:00.000Z', size: 5, datetimeRemoved: '2024-05-03T00:00:00.000Z' }),
          fileOf(project.id, { datetimeUploaded: '2024-05-03T12:00:00.000Z', size: 7 }),
          fileOf(project.id, { datetimeUploaded: '2024-04-30T12:00:00.000Z', size: 100 }),
        ]);
        expect(await shard.usage.uploadsSince(project.id, '2024-05-01')).toEqual([
          { day: '2024-05-01', uploads: 2, uploadBytes: 15 },
          { day: '2024-05-03', uploads: 1, uploadBytes: 7 },
        ]);
      });

      it('sums the bytes of live files, stored and unstored apart', async () => {
        const project = await newProject();
        const shard = await shardOf(project);
        expect(await shard.usage.bytes(project.id)).toEqual({ stored: 0, unstored: 0 });
        await shard.files.insertMany([
          fileOf(project.id, { size: 10, datetimeStored: at(1) }),
          fileOf(project.id, { size: 5_000_000_000, datetimeStored: at(1) }),
          fileOf(project.id, { size: 7 }),
          fileOf(project.id, { size: 1000, datetimeRemoved: at(2) }),
        ]);
        expect(await shard.usage.bytes(project.id)).toEqual({ stored: 5_000_000_010, unstored: 7 });
      });

      it('tells the project of each known file, removed ones included (more than 500 uuids)', async () => {
        const project = await newProject();
        const shard = await shardOf(project);
        const other = await newProject({ shard: project.shard });
        const otherShard = await shardOf(other);
        const mine = Array.from({ length: 510 }, () => fileOf(project.id));
        const removed = fileOf(project.id, { datetimeRemoved: at(1) });
        const theirs = fileOf(other.id);
        await shard.files.insertMany([...mine, removed]);
        await otherShard.files.insertMany([theirs]);
        const elsewhere = await newProject({ shard: away(project) });
        const farAway = fileOf(elsewhere.id);
        await (await shardOf(elsewhere)).files.insertMany([farAway]);
        const unknown = randomUUID();
        const answers = await onEveryShard((scan) => scan.usage.projectsOfFiles([...mine.map((f) => f.uuid), removed.uuid, theirs.uuid, farAway.uuid, unknown]));
        const projects = answers[here(project)];
        expect(projects.size).toBe(512);
        expect(projects.get(removed.uuid)).toBe(project.id);
        expect(projects.get(theirs.uuid)).toBe(other.id);
        expect(projects.has(unknown)).toBe(false);
        expect(projects.has(farAway.uuid)).toBe(false);
        // Each shard tells of its own files only.
        expect([...answers[away(project)]]).toEqual([[farAway.uuid, elsewhere.id]]);
        expect(await onEveryShard(async (scan) => (await scan.usage.projectsOfFiles([])).size)).toEqual({ main: 0, b: 0 });
      });

      it("sums the live files and their bytes of one shard's database, every project's there", async () => {
        const onMain = await newProject({ shard: 'main' });
        const onB = await newProject({ shard: 'b' });
        const [mainShard, bShard] = await Promise.all([shardOf(onMain), shardOf(onB)]);
        const before = await onEveryShard((scan) => scan.usage.totals());
        await bShard.files.insertMany([
          fileOf(onB.id, { size: 10, datetimeStored: at(1) }),
          fileOf(onB.id, { size: 5_000_000_000 }),
          fileOf(onB.id, { size: 1000, datetimeRemoved: at(2) }),
        ]);
        await mainShard.files.insertMany([fileOf(onMain.id, { size: 7 }), fileOf(onMain.id, { size: 3, datetimeRemoved: at(2) })]);
        const after = await onEveryShard((scan) => scan.usage.totals());
        expect(after).toEqual({
          main: { files: before.main.files + 1, bytes: before.main.bytes + 7 },
          b: { files: before.b.files + 2, bytes: before.b.bytes + 5_000_000_010 },
        });
        // A removed file is no longer counted.
        const file = fileOf(onB.id, { size: 20 });
        await bShard.files.insertMany([file]);
        expect((await onEveryShard((scan) => scan.usage.totals())).b).toEqual({ files: after.b.files + 1, bytes: after.b.bytes + 20 });
        await bShard.files.setRemoved(onB.id, [file.uuid], at(4));
        expect(await onEveryShard((scan) => scan.usage.totals())).toEqual(after);
      });
    });

    describe('live totals from the counters', () => {
      it("sums every project's stored and unstored counters of one shard, removed files left out", async () => {
        const one = await newProject({ shard: 'b' });
        const two = await newProject({ shard: 'b' });
        const elsewhere = await newProject({ shard: 'main' });
        const before = await onEveryShard((scan) => scan.fileCounters.liveTotal());
        const [bShard, mainShard] = await Promise.all([shardOf(one), shardOf(elsewhere)]);
        await bShard.fileCounters.apply(one.id, { stored: 3, unstored: 2, removed: 4 });
        await bShard.fileCounters.apply(two.id, { stored: 1, unstored: 0, removed: 0 });
        await mainShard.fileCounters.apply(elsewhere.id, { stored: 7, unstored: 0, removed: 1 });
        expect(await onEveryShard((scan) => scan.fileCounters.liveTotal())).toEqual({ main: before.main + 7, b: before.b + 6 });
        await bShard.fileCounters.apply(one.id, { stored: -3, unstored: 0, removed: 3 });
        expect((await onEveryShard((scan) => scan.fileCounters.liveTotal())).b).toBe(before.b + 3);
      });
    });

    describe('write fences', () => {
      /** Refuses the project's writes on one shard, as a move does before switching it. */
      const fence = async (shard: ShardName, projectId: string, state: 'paused' | 'departed'): Promise<void> => {
        const { store } = await shards.openedShard(shard);
        await store.db.insertInto('shard_fences').values({ project_id: projectId, state, created_at: new Date().toISOString() }).execute();
      };
      const unfence = async (shard: ShardName, projectId: string): Promise<void> => {
        const { store } = await shards.openedShard(shard);
        await store.db.deleteFrom('shard_fences').where('project_id', '=', projectId).execute();
      };
      /** A write refused by a fence reaches a shard handle's caller as a 503 to retry shortly. */
      const expectMoving = async (write: Promise<unknown>): Promise<void> => {
        const error: unknown = await write.then(
          () => null,
          (reason: unknown) => reason,
        );
        expect(error).toBeInstanceOf(AppError);
        expect(error).toMatchObject({ code: 'PROJECT_MOVING', statusCode: 503, headers: { 'Retry-After': expect.stringMatching(/^[1-9][0-9]*$/) } });
        expect(String((error as AppError).cause)).toContain(FENCE_MESSAGE);
      };
      const webhookOf = (projectId: string) => ({ projectId, targetUrl: 'https://hooks.example/fenced', event: 'file.uploaded' as const, isActive: true, signingSecret: null, version: '0.7', at: at(1) });

      for (const shardName of SHARDS) {
        describe(`on shard ${shardName}`, () => {
          it("refuses every write of a paused project there as PROJECT_MOVING; its reads and the other projects' writes go on", async () => {
            const project = await newProject({ shard: shardName });
            const neighbour = await newProject({ shard: shardName });
            const [shard, neighbourShard] = await Promise.all([shardOf(project), shardOf(neighbour)]);
            const file = fileOf(project.id);
            await shard.files.insertMany([file]);
            const webhook = await shard.webhooks.create(webhookOf(project.id));
            await fence(shardName, project.id, 'paused');

            // The database refuses, whichever path the write takes.
            const { store } = await shards.openedShard(shardName);
            await expect(store.files.insertMany([fileOf(project.id)])).rejects.toThrow(FENCE_MESSAGE);
            await expect(store.files.deleteRow(file.uuid)).rejects.toThrow(FENCE_MESSAGE);

            await expectMoving(shard.files.insertMany([fileOf(project.id)]));
            await expectMoving(shard.files.setStored(project.id, [file.uuid], at(1)));
            await expectMoving(shard.files.updateInfo(project.id, file.uuid, { tags: ['x'] }));
            await expectMoving(shard.files.deleteRow(file.uuid));
            await expectMoving(shard.fileCounters.apply(project.id, { stored: 1, unstored: 0, removed: 0 }));
            await expectMoving(shard.outbox.append([{ projectId: project.id, event: 'file.uploaded', fileUuid: file.uuid, previousValues: null, createdAt: at(1) }]));
            await expectMoving(shard.usage.addDeliveries([{ projectId: project.id, day: '2024-05-01', deliveries: 1, cacheHits: 1, cacheMisses: 0 }]));
            await expectMoving(shard.webhooks.update(project.id, webhook.id, { isActive: false }, at(2)));
            await expectMoving(shard.webhooks.delete(project.id, webhook.id));
            await expectMoving(shard.groups.create(groupOf(project.id, at(1)), []));
            await expectMoving(shard.fromUrlTasks.create(taskOf(project.id, 'waiting', at(1))));
            await expectMoving(shard.transaction(async (tx) => tx.files.insertMany([fileOf(project.id)])));

            expect(await shard.files.findForProject(project.id, file.uuid)).toEqual(file);
            expect(await shard.webhooks.find(project.id, webhook.id)).toEqual(webhook);
            expect(await shard.fileCounters.counts(project.id)).toEqual({ stored: 0, unstored: 0, removed: 0 });

            const theirs = fileOf(neighbour.id);
            await neighbourShard.files.insertMany([theirs]);
            expect(await neighbourShard.files.setStored(neighbour.id, [theirs.uuid], at(1))).toHaveLength(1);
            await neighbourShard.webhooks.create(webhookOf(neighbour.id));
            expect(await neighbourShard.files.deleteRow(theirs.uuid)).not.toBeNull();

            await unfence(shardName, project.id);
            expect(await shard.files.setStored(project.id, [file.uuid], at(3))).toHaveLength(1);
            expect(await shard.webhooks.delete(project.id, webhook.id)).toBe(true);
          });

          it('lets a departed project only delete its rows there, its children going with them', async () => {
            const project = await newProject({ shard: shardName });
            const shard = await shardOf(project);
            const [kept, doomed] = [fileOf(project.id), fileOf(project.id)];
            await shard.files.insertMany([kept, doomed]);
            const group = groupOf(project.id, at(1), 1);
            await shard.groups.create(group, [{ position: 0, fileUuid: kept.uuid, effects: '' }]);
            const upload = multipartOf(project.id, at(30));
            await shard.multipart.create(upload);
            await shard.multipart.savePart(upload.uuid, { partNumber: 1, etag: 'a', size: 10 });
            const webhook = await shard.webhooks.create(webhookOf(project.id));
            const delivery = deliveryOf(project.id, webhook.id, at(1));
            await shard.webhooks.createDeliveries([delivery]);
            await shard.webhooks.recordAttempt({
              attempt: { id: randomUUID(), deliveryId: delivery.id, attempt: 1, statusCode: 500, latencyMs: 3, error: 'HTTP 500', createdAt: at(2) },
              status: 'pending',
            });
            await fence(shardName, project.id, 'departed');

            await expectMoving(shard.files.insertMany([fileOf(project.id)]));
            await expectMoving(shard.files.updateInfo(project.id, kept.uuid, { tags: ['x'] }));
            await expectMoving(shard.groups.create(groupOf(project.id, at(2)), []));
            await expectMoving(shard.multipart.savePart(upload.uuid, { partNumber: 2, etag: 'b', size: 10 }));
            await expectMoving(shard.webhooks.reopenDelivery(delivery.id, at(3)));

            // Deletions are the move's clean-up: they go through.
            expect(await shard.files.deleteRow(doomed.uuid)).toEqual(doomed);
            expect(await shard.groups.delete(project.id, group.id)).toBe(true);
            expect(await shard.multipart.delete(upload.uuid)).toBe(true);
            expect(await shard.multipart.listParts(upload.uuid)).toEqual([]);
            expect(await shard.webhooks.delete(project.id, webhook.id)).toBe(true);
            expect(await shard.webhooks.findDelivery(delivery.id)).toBeNull();
            expect(await shard.webhooks.listAttempts([delivery.id])).toEqual([]);
            expect(await shard.files.findForProject(project.id, kept.uuid)).toEqual(kept);
            await unfence(shardName, project.id);
          });

          it('fences the rows of child tables (parts, group members, delivery attempts) through their parent', async () => {
            const project = await newProject({ shard: shardName });
            const neighbour = await newProject({ shard: shardName });
            const [shard, neighbourShard] = await Promise.all([shardOf(project), shardOf(neighbour)]);
            const { db } = (await shards.openedShard(shardName)).store;
            const seed = async (owner: Project, handle: ProjectShard) => {
              const upload = multipartOf(owner.id, at(30));
              await handle.multipart.create(upload);
              const group = groupOf(owner.id, at(1), 1);
              await handle.groups.create(group, [{ position: 0, fileUuid: randomUUID(), effects: '' }]);
              const webhook = await handle.webhooks.create(webhookOf(owner.id));
              const delivery = deliveryOf(owner.id, webhook.id, at(1));
              await handle.webhooks.createDeliveries([delivery]);
              return { upload, group, delivery };
            };
            // Written straight to the database: the fence must hold for any path.
            const children = (parents: Awaited<ReturnType<typeof seed>>) => [
              {
                table: 'multipart_parts',
                add: (n: number) => db.insertInto('multipart_parts').values({ upload_uuid: parents.upload.uuid, part_number: n, etag: 'e', size: 1 }).execute(),
                remove: () => db.deleteFrom('multipart_parts').where('upload_uuid', '=', parents.upload.uuid).execute(),
              },
              {
                table: 'group_files',
                add: (n: number) => db.insertInto('group_files').values({ group_id: parents.group.id, position: n, file_uuid: randomUUID(), effects: '' }).execute(),
                remove: () => db.deleteFrom('group_files').where('group_id', '=', parents.group.id).execute(),
              },
              {
                table: 'webhook_attempts',
                add: (n: number) =>
                  db
                    .insertInto('webhook_attempts')
                    .values({ id: randomUUID(), delivery_id: parents.delivery.id, attempt: n, status_code: 500, latency_ms: 1, error: null, created_at: at(2) })
                    .execute(),
                remove: () => db.deleteFrom('webhook_attempts').where('delivery_id', '=', parents.delivery.id).execute(),
              },
            ];
            const mine = await seed(project, shard);
            const theirs = await seed(neighbour, neighbourShard);
            for (const child of children(mine)) await child.add(1);

            await fence(shardName, project.id, 'paused');
            for (const child of children(mine)) {
              await expect(child.add(2), child.table).rejects.toThrow(FENCE_MESSAGE);
              await expect(child.remove(), child.table).rejects.toThrow(FENCE_MESSAGE);
            }
            for (const child of children(theirs)) await child.add(2);
            await expectMoving(shard.multipart.savePart(mine.upload.uuid, { partNumber: 3, etag: 'x', size: 1 }));
            await expectMoving(
              shard.webhooks.recordAttempt({
                attempt: { id: randomUUID(), deliveryId: mine.delivery.id, attempt: 3, statusCode: 200, latencyMs: 1, error: null, createdAt: at(3) },
                status: 'delivered',
              }),
            );
            await unfence(shardName, project.id);

            await fence(shardName, project.id, 'departed');
            for (const child of children(mine)) {
              await expect(child.add(2), child.table).rejects.toThrow(FENCE_MESSAGE);
              await child.remove();
            }
            expect(await shard.multipart.listParts(mine.upload.uuid)).toEqual([]);
            expect(await shard.webhooks.listAttempts([mine.delivery.id])).toEqual([]);
            expect((await shard.groups.findForProject(project.id, mine.group.id))?.members).toEqual([]);
            expect(await neighbourShard.multipart.listParts(theirs.upload.uuid)).toHaveLength(1);
            await unfence(shardName, project.id);
          });
        });
      }
    });
  });
}

/** An instant of 2024 for the test's own rows: `at(n)` is n hours after its start. */
function at(hours: number): string {
  return new Date(Date.UTC(2024, 0, 1) + hours * 3_600_000).toISOString();
}

/** Instants of 1990, for scans across every project (expiry, staleness) that must see only one test's rows. */
function old(hours: number): string {
  return new Date(Date.UTC(1990, 0, 1) + hours * 3_600_000).toISOString();
}

/** Instants of 1980, for deletions across every project. */
function ancient(hours: number): string {
  return new Date(Date.UTC(1980, 0, 1) + hours * 3_600_000).toISOString();
}

/** Both databases compare these lower-case ASCII uuids byte by byte, as this does. */
function compareUuids(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function sortByUuid(files: StoredFile[]): StoredFile[] {
  return [...files].sort((a, b) => compareUuids(a.uuid, b.uuid));
}

function pause(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 3));
}

function fileOf(projectId: string, overrides: Partial<StoredFile> = {}): StoredFile {
  return storedFile({ projectId, datetimeUploaded: at(0), ...overrides });
}

function groupOf(projectId: string, datetimeCreated: string, filesCount = 0): GroupRecord {
  return { id: `${randomUUID()}~${filesCount}`, projectId, filesCount, datetimeCreated, datetimeStored: null };
}

function multipartOf(projectId: string, expiresAt: string): MultipartUpload {
  const uuid = randomUUID();
  return {
    uuid,
    projectId,
    blobKey: `originals/${uuid.slice(0, 2)}/${uuid}`,
    blobUploadId: randomUUID(),
    partToken: randomUUID(),
    size: 30_000_000,
    partSize: 5_242_880,
    partCount: 6,
    originalFilename: 'big.bin',
    store: true,
    metadata: { k: 'v' },
    tags: ['t'],
    source: 'local',
    createdAt: at(0),
    expiresAt,
  };
}

function taskOf(projectId: string, status: FromUrlTask['status'], updatedAt: string): FromUrlTask {
  return {
    token: randomUUID(),
    projectId,
    sourceUrl: 'https://example.com/a.png',
    status,
    done: 0,
    total: null,
    fileUuid: null,
    error: null,
    errorCode: null,
    createdAt: updatedAt,
    updatedAt,
  };
}

function deliveryOf(projectId: string, webhookId: number, createdAt: string): WebhookDelivery {
  return {
    id: randomUUID(),
    webhookId,
    projectId,
    event: 'file.uploaded',
    targetUrl: 'https://hooks.example/d',
    payload: '{"initiator":{}}',
    status: 'pending',
    attempts: 0,
    lastStatusCode: null,
    lastError: null,
    createdAt,
    updatedAt: createdAt,
    deliveredAt: null,
  };
}

async function outboxEventsOf(repositories: Pick<ShardRepositories, 'outbox'>, fileUuid: string): Promise<string[]> {
  const events = await repositories.outbox.oldest(10_000);
  return events.filter((e) => e.fileUuid === fileUuid).map((e) => e.event);
}
