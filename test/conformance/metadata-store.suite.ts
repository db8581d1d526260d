import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DashboardSession } from '../../src/domain/dashboard-session.js';
import type { ImageAnalysis } from '../../src/domain/image-analysis.js';
import { parseFileSearch } from '../../src/domain/file-search.js';
import { storedFile } from '../helpers/stored-file.js';
import type { StoredFile } from '../../src/domain/file.js';
import type { Project } from '../../src/domain/project.js';
import type { WebhookDelivery } from '../../src/domain/webhook.js';
import type {
  FileListQuery,
  FromUrlTask,
  GroupMember,
  GroupRecord,
  MetadataStore,
  MultipartUpload,
  NewOutboxEvent,
  ProjectStorageRecord,
} from '../../src/ports/repositories.js';

interface MetadataStoreFixture {
  /** A migrated store on a database no other fixture uses. */
  store: MetadataStore;
  cleanup(): Promise<void>;
}

/**
 * The contract of every repository of a `MetadataStore`. One store serves the whole suite (a fresh
 * database per test would cost seconds on PostgreSQL): tests keep to projects of their own, and those
 * reading across projects (outbox, expiry and staleness scans) use instants no other test uses.
 */
export function runMetadataStoreConformance(name: string, factory: () => Promise<MetadataStoreFixture>): void {
  describe(`MetadataStore conformance: ${name}`, () => {
    let fixture: MetadataStoreFixture;
    let store: MetadataStore;

    beforeAll(async () => {
      fixture = await factory();
      store = fixture.store;
    });

    afterAll(async () => {
      await fixture?.cleanup();
    });

    const newProject = (overrides: Partial<Parameters<MetadataStore['projects']['create']>[0]> = {}): Promise<Project> =>
      store.projects.create({ name: 'p', publicKey: `pk_${randomUUID()}`, ...overrides });

    describe('projects', () => {
      it('creates a project with defaults and finds it by id and by public key', async () => {
        const project = await newProject({ name: 'Site' });
        expect(project).toMatchObject({ name: 'Site', autoStore: true, signedUploads: false, maxFileSize: null, allowedMimeTypes: null });
        expect(await store.projects.findById(project.id)).toEqual(project);
        expect(await store.projects.findByPublicKey(project.publicKey)).toEqual(project);
        expect(await store.projects.findById(randomUUID())).toBeNull();
        expect(await store.projects.findByPublicKey('pk_missing')).toBeNull();
      });

      it('keeps the settings given at creation', async () => {
        const project = await newProject({ autoStore: false, signedUploads: true, maxFileSize: 1234, allowedMimeTypes: ['image/*', 'text/plain'] });
        expect(await store.projects.findById(project.id)).toMatchObject({
          autoStore: false,
          signedUploads: true,
          maxFileSize: 1234,
          allowedMimeTypes: ['image/*', 'text/plain'],
        });
      });

      it('refuses a second project with the same public key', async () => {
        const project = await newProject();
        await expect(newProject({ publicKey: project.publicKey })).rejects.toThrow();
      });

      it('updates only the settings a patch names; an unknown project gives null', async () => {
        const project = await newProject({ name: 'Before', maxFileSize: 10, allowedMimeTypes: ['image/*'] });
        const updated = await store.projects.update(project.id, { name: 'After', autoStore: false, allowedMimeTypes: null });
        expect(updated).toEqual({ ...project, name: 'After', autoStore: false, allowedMimeTypes: null });
        expect(await store.projects.update(project.id, {})).toEqual(updated);
        expect(await store.projects.update(project.id, { maxFileSize: null, signedUploads: true })).toEqual({ ...updated, maxFileSize: null, signedUploads: true });
        expect(await store.projects.update(randomUUID(), { name: 'x' })).toBeNull();
      });

      it('lists projects oldest first', async () => {
        const first = await newProject();
        await pause();
        const second = await newProject();
        const ids = (await store.projects.list()).map((p) => p.id);
        expect(ids).toContain(first.id);
        expect(ids.indexOf(first.id)).toBeLessThan(ids.indexOf(second.id));
      });

      it('keeps secret keys oldest first, revokes each once and only in its own project', async () => {
        const project = await newProject();
        const other = await newProject();
        const first = await store.projects.addSecretKey(project.id, 'secret-1');
        await pause();
        const second = await store.projects.addSecretKey(project.id, 'secret-2');
        expect(first).toMatchObject({ projectId: project.id, secret: 'secret-1', revokedAt: null });
        expect((await store.projects.listSecretKeys(project.id)).map((k) => k.id)).toEqual([first.id, second.id]);
        expect(await store.projects.revokeSecretKey(other.id, first.id)).toBe(false);
        expect(await store.projects.revokeSecretKey(project.id, first.id)).toBe(true);
        expect(await store.projects.revokeSecretKey(project.id, first.id)).toBe(false);
        expect(await store.projects.revokeSecretKey(project.id, randomUUID())).toBe(false);
        expect((await store.projects.listSecretKeys(project.id)).map((k) => k.id)).toEqual([second.id]);
        const all = await store.projects.listSecretKeys(project.id, { includeRevoked: true });
        expect(all.map((k) => k.id)).toEqual([first.id, second.id]);
        expect(all[0]!.revokedAt).not.toBeNull();
        expect(await store.projects.listSecretKeys(other.id)).toEqual([]);
      });

      it('grants the bootstrap claim to exactly one caller, ever', async () => {
        const claims = await Promise.all(Array.from({ length: 5 }, () => store.projects.claimBootstrap()));
        expect(claims.filter(Boolean)).toHaveLength(1);
        expect(await store.projects.claimBootstrap()).toBe(false);
      });
    });

    describe('files', () => {
      it('keeps every field of a file as written', async () => {
        const project = await newProject();
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
        await store.files.insertMany([plain, image]);
        expect(await store.files.findForProject(project.id, plain.uuid)).toEqual(plain);
        expect(await store.files.findForProject(project.id, image.uuid)).toEqual(image);
      });

      it('inserts many files at once (more than one statement holds) and nothing for an empty list', async () => {
        const project = await newProject();
        const files = Array.from({ length: 120 }, () => fileOf(project.id));
        await store.files.insertMany(files);
        await store.files.insertMany([]);
        const found = await store.files.findManyForProject(project.id, files.map((f) => f.uuid));
        expect(found).toHaveLength(120);
      });

      it('refuses a duplicate uuid and writes none of the batch that carried it', async () => {
        const project = await newProject();
        const existing = fileOf(project.id);
        await store.files.insertMany([existing]);
        const fresh = fileOf(project.id);
        await expect(store.files.insertMany([fresh, { ...existing }])).rejects.toThrow();
        expect(await store.files.findForProject(project.id, fresh.uuid)).toBeNull();
      });

      it('finds a file only in its own project, and a removed one only when asked', async () => {
        const project = await newProject();
        const other = await newProject();
        const live = fileOf(project.id);
        const removed = fileOf(project.id, { datetimeRemoved: at(5) });
        await store.files.insertMany([live, removed]);
        expect(await store.files.findForProject(other.id, live.uuid)).toBeNull();
        expect(await store.files.findForProject(other.id, removed.uuid, { includeRemoved: true })).toBeNull();
        expect(await store.files.findForProject(project.id, removed.uuid)).toBeNull();
        expect(await store.files.findForProject(project.id, removed.uuid, { includeRemoved: true })).toEqual(removed);
        expect(await store.files.findForProject(project.id, randomUUID())).toBeNull();
      });

      it('finds a live file by uuid alone, whatever its project', async () => {
        const project = await newProject();
        const live = fileOf(project.id);
        const removed = fileOf(project.id, { datetimeRemoved: at(5) });
        await store.files.insertMany([live, removed]);
        expect(await store.files.findLive(live.uuid)).toEqual(live);
        expect(await store.files.findLive(removed.uuid)).toBeNull();
        expect(await store.files.findLive(randomUUID())).toBeNull();
      });

      it("finds many files of a project (more than 500 uuids), never another project's", async () => {
        const project = await newProject();
        const other = await newProject();
        const mine = Array.from({ length: 520 }, () => fileOf(project.id));
        const removed = fileOf(project.id, { datetimeRemoved: at(5) });
        const theirs = fileOf(other.id);
        await store.files.insertMany([...mine, removed, theirs]);
        const wanted = [...mine.map((f) => f.uuid), removed.uuid, theirs.uuid, randomUUID()];
        const live = await store.files.findManyForProject(project.id, wanted);
        expect(new Set(live.map((f) => f.uuid))).toEqual(new Set(mine.map((f) => f.uuid)));
        const all = await store.files.findManyForProject(project.id, wanted, { includeRemoved: true });
        expect(all).toHaveLength(521);
        expect(all.some((f) => f.uuid === theirs.uuid)).toBe(false);
        expect(await store.files.findManyForProject(project.id, [])).toEqual([]);
      });

      it("finds the project's newest live file fetched from a URL", async () => {
        const project = await newProject();
        const other = await newProject();
        const url = `https://example.com/${randomUUID()}`;
        const older = fileOf(project.id, { sourceUrl: url, datetimeUploaded: at(1) });
        const newer = fileOf(project.id, { sourceUrl: url, datetimeUploaded: at(2) });
        const newestRemoved = fileOf(project.id, { sourceUrl: url, datetimeUploaded: at(3), datetimeRemoved: at(4) });
        const theirs = fileOf(other.id, { sourceUrl: url, datetimeUploaded: at(9) });
        await store.files.insertMany([older, newer, newestRemoved, theirs]);
        expect((await store.files.findBySourceUrl(project.id, url))?.uuid).toBe(newer.uuid);
        expect(await store.files.findBySourceUrl(project.id, `${url}/other`)).toBeNull();
      });

      describe('list', () => {
        let project: Project;
        let other: Project;
        /** In ascending list order: upload time, then uuid. */
        let ordered: StoredFile[];
        const query = (overrides: Partial<FileListQuery> = {}): FileListQuery => ({ stored: null, removed: false, order: 'asc', after: null, limit: 100, ...overrides });
        const uuids = (files: StoredFile[]) => files.map((f) => f.uuid);

        beforeAll(async () => {
          project = await newProject();
          other = await newProject();
          // Three files share one upload time: the uuid orders them.
          const files = [
            fileOf(project.id, { datetimeUploaded: at(1), datetimeStored: at(1) }),
            fileOf(project.id, { datetimeUploaded: at(2) }),
            fileOf(project.id, { datetimeUploaded: at(2), datetimeStored: at(2) }),
            fileOf(project.id, { datetimeUploaded: at(2) }),
            fileOf(project.id, { datetimeUploaded: at(3), datetimeStored: at(3) }),
            fileOf(project.id, { datetimeUploaded: at(4), datetimeRemoved: at(5) }),
          ];
          await store.files.insertMany(files);
          await store.files.insertMany([fileOf(other.id, { datetimeUploaded: at(2) })]);
          ordered = [...files].sort((a, b) => a.datetimeUploaded.localeCompare(b.datetimeUploaded) || compareUuids(a.uuid, b.uuid));
        });

        it("lists a project's live files by upload time then uuid, either way", async () => {
          const live = ordered.filter((f) => !f.datetimeRemoved);
          expect(uuids(await store.files.list(project.id, query()))).toEqual(uuids(live));
          expect(uuids(await store.files.list(project.id, query({ order: 'desc' })))).toEqual(uuids([...live].reverse()));
          expect(uuids(await store.files.list(project.id, query({ limit: 2 })))).toEqual(uuids(live.slice(0, 2)));
        });

        it('filters by storage state and lists removed files apart', async () => {
          const live = ordered.filter((f) => !f.datetimeRemoved);
          expect(uuids(await store.files.list(project.id, query({ stored: true })))).toEqual(uuids(live.filter((f) => f.datetimeStored)));
          expect(uuids(await store.files.list(project.id, query({ stored: false })))).toEqual(uuids(live.filter((f) => !f.datetimeStored)));
          expect(uuids(await store.files.list(project.id, query({ removed: true })))).toEqual(uuids(ordered.filter((f) => f.datetimeRemoved)));
        });

        it('pages after a file (exclusive), also among files of the same upload time', async () => {
          const live = ordered.filter((f) => !f.datetimeRemoved);
          for (let i = 0; i < live.length; i++) {
            const after = { datetime: live[i]!.datetimeUploaded, uuid: live[i]!.uuid };
            expect(uuids(await store.files.list(project.id, query({ after })))).toEqual(uuids(live.slice(i + 1)));
            expect(uuids(await store.files.list(project.id, query({ after, order: 'desc' })))).toEqual(uuids(live.slice(0, i).reverse()));
          }
        });

        it('pages from an instant (inclusive) when no uuid is given', async () => {
          const live = ordered.filter((f) => !f.datetimeRemoved);
          expect(uuids(await store.files.list(project.id, query({ after: { datetime: at(2), uuid: null } })))).toEqual(
            uuids(live.filter((f) => f.datetimeUploaded >= at(2))),
          );
          expect(uuids(await store.files.list(project.id, query({ order: 'desc', after: { datetime: at(2), uuid: null } })))).toEqual(
            uuids(live.filter((f) => f.datetimeUploaded <= at(2)).reverse()),
          );
        });

        it('counts what a query matches, whatever its position and limit', async () => {
          expect(await store.files.countMatching(project.id, { stored: null, removed: false })).toBe(5);
          expect(await store.files.countMatching(project.id, { stored: true, removed: false })).toBe(3);
          expect(await store.files.countMatching(project.id, { stored: false, removed: false })).toBe(2);
          expect(await store.files.countMatching(project.id, { stored: null, removed: true })).toBe(1);
          expect(await store.files.countMatching(other.id, { stored: null, removed: false })).toBe(1);
        });
      });

      describe('search filters', () => {
        let project: Project;
        const found = async (filters: Partial<NonNullable<FileListQuery['filters']>>, stored: boolean | null = null) => {
          const full = { text: null, tag: null, mimeTypes: null, since: null, before: null, ...filters };
          const rows = await store.files.list(project.id, { stored, removed: false, order: 'asc', after: null, limit: 100, filters: full });
          expect(await store.files.countMatching(project.id, { stored, removed: false, filters: full })).toBe(rows.length);
          return rows.map((f) => f.originalFilename).sort();
        };

        beforeAll(async () => {
          project = await newProject();
          const other = await newProject();
          await store.files.insertMany([
            fileOf(project.id, { originalFilename: 'Holiday.JPG', mimeType: 'image/jpeg', datetimeUploaded: at(1), tags: ['cats'], datetimeStored: at(1) }),
            fileOf(project.id, { originalFilename: 'notes.txt', mimeType: 'text/plain', datetimeUploaded: at(2), metadata: { Owner: 'Alice' } }),
            fileOf(project.id, { originalFilename: '100%_done.pdf', mimeType: 'application/pdf', datetimeUploaded: at(3), tags: ['cat', 'x_y'] }),
            fileOf(project.id, { originalFilename: '100x done.png', mimeType: 'image/png', datetimeUploaded: at(4) }),
            fileOf(project.id, { originalFilename: 'odd.bin', mimeType: 'x_y/data', datetimeUploaded: at(5) }),
            fileOf(project.id, { originalFilename: 'odder.bin', mimeType: 'xzy/data', datetimeUploaded: at(6), tags: ['xzy'] }),
            fileOf(project.id, { originalFilename: 'back\\slash.txt', mimeType: 'text/markdown', datetimeUploaded: at(1.5) }),
            fileOf(project.id, { originalFilename: 'gone.txt', datetimeUploaded: at(7), datetimeRemoved: at(8) }),
          ]);
          await store.files.insertMany([fileOf(other.id, { originalFilename: 'holiday-other.jpg', mimeType: 'image/jpeg' })]);
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
        const other = await newProject();
        const unstored = fileOf(project.id, { expiresAt: at(50) });
        const stored = fileOf(project.id, { datetimeStored: at(1) });
        const removed = fileOf(project.id, { datetimeRemoved: at(1), expiresAt: null });
        const theirs = fileOf(other.id, { expiresAt: at(50) });
        await store.files.insertMany([unstored, stored, removed, theirs]);
        const changed = await store.files.setStored(project.id, [unstored.uuid, stored.uuid, removed.uuid, theirs.uuid, randomUUID()], at(10));
        expect(changed).toEqual([{ ...unstored, datetimeStored: at(10), expiresAt: null }]);
        expect(await store.files.setStored(project.id, [unstored.uuid], at(11))).toEqual([]);
        expect(await store.files.findForProject(project.id, stored.uuid)).toEqual(stored);
        expect(await store.files.findForProject(project.id, removed.uuid, { includeRemoved: true })).toEqual(removed);
        expect(await store.files.findForProject(other.id, theirs.uuid)).toEqual(theirs);
        expect(await store.files.setStored(project.id, [], at(12))).toEqual([]);
      });

      it("removes only the project's live files among those named, and returns just those", async () => {
        const project = await newProject();
        const other = await newProject();
        const unstored = fileOf(project.id, { expiresAt: at(50) });
        const stored = fileOf(project.id, { datetimeStored: at(1) });
        const removed = fileOf(project.id, { datetimeRemoved: at(1) });
        const theirs = fileOf(other.id);
        await store.files.insertMany([unstored, stored, removed, theirs]);
        const changed = await store.files.setRemoved(project.id, [unstored.uuid, stored.uuid, removed.uuid, theirs.uuid], at(10));
        expect(sortByUuid(changed)).toEqual(
          sortByUuid([
            { ...unstored, datetimeRemoved: at(10), expiresAt: null },
            { ...stored, datetimeRemoved: at(10) },
          ]),
        );
        expect(await store.files.setRemoved(project.id, [stored.uuid], at(11))).toEqual([]);
        expect(await store.files.findForProject(project.id, removed.uuid, { includeRemoved: true })).toEqual(removed);
        expect(await store.files.findForProject(other.id, theirs.uuid)).toEqual(theirs);
        expect(await store.files.setRemoved(project.id, [], at(12))).toEqual([]);
      });

      it("changes the metadata or the tags of a live file of the project, and nothing else", async () => {
        const project = await newProject();
        const other = await newProject();
        const file = fileOf(project.id, { metadata: { a: '1' }, tags: ['t'] });
        const removed = fileOf(project.id, { datetimeRemoved: at(1), metadata: { a: '1' } });
        await store.files.insertMany([file, removed]);
        const withMetadata = await store.files.updateInfo(project.id, file.uuid, { metadata: { b: '2' } });
        expect(withMetadata).toEqual({ ...file, metadata: { b: '2' } });
        const withTags = await store.files.updateInfo(project.id, file.uuid, { tags: ['u', 'v'] });
        expect(withTags).toEqual({ ...file, metadata: { b: '2' }, tags: ['u', 'v'] });
        expect(await store.files.updateInfo(other.id, file.uuid, { tags: [] })).toBeNull();
        expect(await store.files.updateInfo(project.id, removed.uuid, { metadata: {} })).toBeNull();
        expect(await store.files.findForProject(project.id, removed.uuid, { includeRemoved: true })).toEqual(removed);
        expect(await store.files.findForProject(project.id, file.uuid)).toEqual(withTags);
      });

      it('changes metadata or tags only while the file still holds the expected values', async () => {
        const project = await newProject();
        const file = fileOf(project.id, { metadata: { a: '1' }, tags: ['t'] });
        await store.files.insertMany([file]);
        expect(await store.files.updateInfo(project.id, file.uuid, { tags: ['x'] }, { tags: ['other'] })).toBeNull();
        expect(await store.files.updateInfo(project.id, file.uuid, { metadata: { b: '2' } }, { metadata: { a: '2' } })).toBeNull();
        expect(await store.files.findForProject(project.id, file.uuid)).toEqual(file);
        const tagged = await store.files.updateInfo(project.id, file.uuid, { tags: ['t', 'u'] }, { tags: ['t'] });
        expect(tagged?.tags).toEqual(['t', 'u']);
        // The same expectation again is stale now.
        expect(await store.files.updateInfo(project.id, file.uuid, { tags: ['t', 'v'] }, { tags: ['t'] })).toBeNull();
        expect((await store.files.updateInfo(project.id, file.uuid, { metadata: { a: '1', b: '2' } }, { metadata: { a: '1' } }))?.metadata).toEqual({ a: '1', b: '2' });
      });

      it('lists unstored files past their expiry, soonest expiry first, up to the limit', async () => {
        const project = await newProject();
        // Expiries in 1990: no other test's files expire that early.
        const expired = [old(3), old(1), old(2)].map((expiresAt) => fileOf(project.id, { expiresAt }));
        const notYet = fileOf(project.id, { expiresAt: old(9) });
        const storedWithExpiry = fileOf(project.id, { expiresAt: old(1), datetimeStored: old(0) });
        const removedUnstored = fileOf(project.id, { expiresAt: old(1), datetimeRemoved: old(2) });
        await store.files.insertMany([...expired, notYet, storedWithExpiry, removedUnstored]);
        const listed = await store.files.listExpired(old(5), 100);
        const mine = listed.filter((f) => f.projectId === project.id);
        expect(mine.map((f) => f.expiresAt)).toEqual([old(1), old(1), old(2), old(3)]);
        expect(new Set(mine.map((f) => f.uuid))).toEqual(new Set([...expired, removedUnstored].map((f) => f.uuid)));
        expect(await store.files.listExpired(old(5), 2)).toHaveLength(2);
        expect((await store.files.listExpired(old(3), 100)).filter((f) => f.projectId === project.id)).toHaveLength(4);
      });

      it('deletes a row for good, returning what it was, once', async () => {
        const project = await newProject();
        const file = fileOf(project.id, { datetimeRemoved: at(3) });
        await store.files.insertMany([file]);
        expect(await store.files.deleteRow(file.uuid)).toEqual(file);
        expect(await store.files.deleteRow(file.uuid)).toBeNull();
        expect(await store.files.findForProject(project.id, file.uuid, { includeRemoved: true })).toBeNull();
      });
    });

    describe('file search', () => {
      // Every expectation here is exact (which files, in which order), so an engine that matched,
      // scored or ordered differently from the other fails the same line.
      let project: Project;
      let other: Project;
      const uuids = new Map<string, string>();
      /** Uuids that sort in the order of `n`, for ties broken by uuid. */
      const uuidOf = (n: number) => `${String(n).padStart(8, '0')}${randomUUID().slice(8)}`;
      const NOW = at(100);
      const search = async (body: unknown, params: Record<string, string> = {}, projectId = project.id) => {
        const { criteria, paging } = parseFileSearch(body, params);
        const result = await store.fileSearch.search(projectId, criteria, paging, NOW);
        return { names: result.files.map((file) => file.originalFilename), total: result.total, alternatives: result.alternatives, fuzzy: result.fuzzy };
      };
      const names = async (body: unknown, params: Record<string, string> = {}) => (await search(body, params)).names;

      beforeAll(async () => {
        project = await newProject();
        other = await newProject();
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
        await store.files.insertMany(files);
        await store.files.insertMany([fileOf(other.id, { originalFilename: 'sunset-secret.jpg', mimeType: 'image/jpeg', metadata: { alt: 'Nikon beach' }, tags: ['cat'] })]);
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
        expect(await store.fileSearch.supportsFuzziness()).toBe(true);
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
        await store.files.insertMany([file]);
        expect(await names({ query: 'lighthouse' })).toEqual(['draft.txt']);
        await store.files.updateInfo(project.id, file.uuid, { metadata: { note: 'harbour master' } });
        expect(await names({ query: 'lighthouse' })).toEqual([]);
        expect(await names({ query: 'harbour' })).toEqual(['draft.txt']);
        // A word no live file has any more stands in for nothing.
        expect((await search({ query: 'lighthous', fuzziness: true })).alternatives).toEqual({});
        await store.files.updateInfo(project.id, file.uuid, { tags: ['done'] });
        expect(await names({ tags: { any: ['todo'] } })).toEqual([]);
        expect(await names({ tags: { any: ['done'] } })).toEqual(['draft.txt']);
        expect(await names({ exact: { 'metadata[note]': ['harbour master'] } })).toEqual(['draft.txt']);
        expect(await names({ query: 'harbour' }, { stored: 'true' })).toEqual([]);
        await store.files.setStored(project.id, [file.uuid], at(9.5));
        expect(await names({ query: 'harbour' }, { stored: 'true' })).toEqual(['draft.txt']);
        expect(await names({ query: 'harbour' }, { stored: 'false' })).toEqual([]);
        await store.files.setRemoved(project.id, [file.uuid], at(10));
        expect(await names({ query: 'harbour' })).toEqual([]);
        expect(await names({ tags: { any: ['done'] } })).toEqual([]);
        const again = fileOf(project.id, { originalFilename: 'scratch.txt', datetimeUploaded: at(9), metadata: { note: 'harbour' } });
        await store.files.insertMany([again]);
        expect(await names({ query: 'harbour' })).toEqual(['scratch.txt']);
        await store.files.deleteRow(again.uuid);
        expect(await names({ query: 'harbour' })).toEqual([]);
      });

      it("finds nothing of another project's, whatever the condition", async () => {
        expect(await names({ query: 'secret' })).toEqual([]);
        expect(await names({ query: 'nikon beach' })).toEqual(['sunset-beach.jpg']);
        expect(await names({ tags: { all: ['cat'] }, is_image: true })).toEqual(['holiday-photo.jpg', 'sunset-beach.jpg']);
        expect((await search({ query: 'sunset' }, {}, other.id)).names).toEqual(['sunset-secret.jpg']);
        expect((await search({ exact: { uuid: [uuids.get('sunset-beach.jpg')!] } }, {}, other.id)).names).toEqual([]);
        expect((await search({ query: 'nikon', fuzziness: true }, {}, randomUUID())).names).toEqual([]);
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
        const other = await newProject();
        expect(await store.fileCounters.counts(project.id)).toEqual({ stored: 0, unstored: 0, removed: 0 });
        await store.fileCounters.apply(project.id, { stored: 2, unstored: 3, removed: 0 });
        await store.fileCounters.apply(project.id, { stored: 1, unstored: -2, removed: 1 });
        await store.fileCounters.apply(other.id, { stored: 7, unstored: 0, removed: 0 });
        expect(await store.fileCounters.counts(project.id)).toEqual({ stored: 3, unstored: 1, removed: 1 });
        expect(await store.fileCounters.counts(other.id)).toEqual({ stored: 7, unstored: 0, removed: 0 });
      });

      it('add up deltas applied at the same time', async () => {
        const project = await newProject();
        await Promise.all(Array.from({ length: 10 }, () => store.fileCounters.apply(project.id, { stored: 1, unstored: 0, removed: 2 })));
        expect(await store.fileCounters.counts(project.id)).toEqual({ stored: 10, unstored: 0, removed: 20 });
      });
    });

    describe('event outbox', () => {
      /** The outbox is one queue for every project: each test starts it empty. */
      async function emptyOutbox(): Promise<void> {
        for (;;) {
          const events = await store.outbox.oldest(500);
          if (events.length === 0) return;
          for (const event of events) await store.outbox.remove(event.id);
        }
      }

      it('appends events with ids of their own and gives them back oldest first, as written', async () => {
        await emptyOutbox();
        const project = await newProject();
        const events: NewOutboxEvent[] = [
          { projectId: project.id, event: 'file.stored', fileUuid: randomUUID(), previousValues: null, createdAt: at(3) },
          { projectId: project.id, event: 'file.uploaded', fileUuid: randomUUID(), previousValues: null, createdAt: at(1) },
          { projectId: project.id, event: 'file.info_updated', fileUuid: randomUUID(), previousValues: { metadata: { k: 'v' }, tags: ['a'] }, createdAt: at(2) },
        ];
        await store.outbox.append(events);
        await store.outbox.append([]);
        const oldest = await store.outbox.oldest(10);
        expect(oldest.map(({ id: _id, ...event }) => event)).toEqual([events[1], events[2], events[0]]);
        expect(new Set(oldest.map((e) => e.id)).size).toBe(3);
        expect(await store.outbox.oldest(2)).toEqual(oldest.slice(0, 2));
      });

      it('orders events of the same instant by id, and forgets a removed one', async () => {
        await emptyOutbox();
        const project = await newProject();
        await store.outbox.append(
          Array.from({ length: 150 }, () => ({ projectId: project.id, event: 'file.uploaded' as const, fileUuid: randomUUID(), previousValues: null, createdAt: at(1) })),
        );
        const oldest = await store.outbox.oldest(200);
        expect(oldest).toHaveLength(150);
        expect(oldest.map((e) => e.id)).toEqual(oldest.map((e) => e.id).sort(compareUuids));
        await store.outbox.remove(oldest[0]!.id);
        await store.outbox.remove(randomUUID());
        expect((await store.outbox.oldest(1))[0]?.id).toBe(oldest[1]!.id);
        await emptyOutbox();
      });
    });

    describe('unit of work', () => {
      it('commits the change, its counters and its events together, and returns what the work returns', async () => {
        const project = await newProject();
        const file = fileOf(project.id);
        const result = await store.transaction(async (tx) => {
          await tx.files.insertMany([file]);
          await tx.fileCounters.apply(project.id, { stored: 0, unstored: 1, removed: 0 });
          await tx.outbox.append([{ projectId: project.id, event: 'file.uploaded', fileUuid: file.uuid, previousValues: null, createdAt: at(1) }]);
          return 'done';
        });
        expect(result).toBe('done');
        expect(await store.files.findForProject(project.id, file.uuid)).toEqual(file);
        expect(await store.fileCounters.counts(project.id)).toEqual({ stored: 0, unstored: 1, removed: 0 });
        expect(await outboxEventsOf(store, file.uuid)).toEqual(['file.uploaded']);
      });

      it('leaves neither the change nor its counters nor its events when the work throws', async () => {
        const project = await newProject();
        const file = fileOf(project.id);
        await store.files.insertMany([file]);
        const failure = new Error('the work failed');
        await expect(
          store.transaction(async (tx) => {
            const stored = await tx.files.setStored(project.id, [file.uuid], at(5));
            expect(stored).toHaveLength(1);
            await tx.fileCounters.apply(project.id, { stored: 1, unstored: -1, removed: 0 });
            await tx.outbox.append([{ projectId: project.id, event: 'file.stored', fileUuid: file.uuid, previousValues: null, createdAt: at(5) }]);
            throw failure;
          }),
        ).rejects.toBe(failure);
        expect(await store.files.findForProject(project.id, file.uuid)).toEqual(file);
        expect(await store.fileCounters.counts(project.id)).toEqual({ stored: 0, unstored: 0, removed: 0 });
        expect(await outboxEventsOf(store, file.uuid)).toEqual([]);
      });

      it('rolls back a failed statement with the rest of the work', async () => {
        const project = await newProject();
        const existing = fileOf(project.id);
        await store.files.insertMany([existing]);
        const fresh = fileOf(project.id);
        await expect(
          store.transaction(async (tx) => {
            await tx.files.insertMany([fresh]);
            await tx.outbox.append([{ projectId: project.id, event: 'file.uploaded', fileUuid: fresh.uuid, previousValues: null, createdAt: at(1) }]);
            await tx.files.insertMany([existing]);
          }),
        ).rejects.toThrow();
        expect(await store.files.findForProject(project.id, fresh.uuid)).toBeNull();
        expect(await outboxEventsOf(store, fresh.uuid)).toEqual([]);
      });

      it('joins the unit of work it is called in, committing and rolling back with it', async () => {
        const project = await newProject();
        const committed = fileOf(project.id);
        await store.transaction(async (tx) => {
          await tx.transaction(async (inner) => inner.files.insertMany([committed]));
          await tx.fileCounters.apply(project.id, { stored: 0, unstored: 1, removed: 0 });
        });
        expect(await store.files.findForProject(project.id, committed.uuid)).toEqual(committed);

        const rolledBack = fileOf(project.id);
        await expect(
          store.transaction(async (tx) => {
            await tx.transaction(async (inner) => {
              await inner.files.insertMany([rolledBack]);
              await inner.outbox.append([{ projectId: project.id, event: 'file.uploaded', fileUuid: rolledBack.uuid, previousValues: null, createdAt: at(1) }]);
            });
            throw new Error('after the inner work');
          }),
        ).rejects.toThrow('after the inner work');
        expect(await store.files.findForProject(project.id, rolledBack.uuid)).toBeNull();
        expect(await outboxEventsOf(store, rolledBack.uuid)).toEqual([]);
      });

      it('runs repositories that write several rows atomically inside it, and rolls them back with it', async () => {
        const project = await newProject();
        const group = groupOf(project.id, at(1));
        await expect(
          store.transaction(async (tx) => {
            await tx.groups.create(group, [{ position: 0, fileUuid: randomUUID(), effects: '' }]);
            await tx.webhooks.create({ projectId: project.id, targetUrl: 'https://hooks.example/rollback', event: 'file.uploaded', isActive: true, signingSecret: null, version: '0.7', at: at(1) });
            expect(await tx.groups.delete(project.id, group.id)).toBe(true);
            await tx.groups.create(group, []);
            throw new Error('undo');
          }),
        ).rejects.toThrow('undo');
        expect(await store.groups.findForProject(project.id, group.id)).toBeNull();
        expect(await store.webhooks.list(project.id)).toEqual([]);
      });
    });

    describe('multipart uploads', () => {
      it('keeps an upload as created and finds it by uuid', async () => {
        const project = await newProject();
        const upload = multipartOf(project.id, at(30));
        await store.multipart.create(upload);
        expect(await store.multipart.find(upload.uuid)).toEqual(upload);
        expect(await store.multipart.find(randomUUID())).toBeNull();
      });

      it('records parts in part order, a re-sent part replacing the first', async () => {
        const project = await newProject();
        const upload = multipartOf(project.id, at(30));
        await store.multipart.create(upload);
        await store.multipart.savePart(upload.uuid, { partNumber: 2, etag: 'b', size: 5 });
        await store.multipart.savePart(upload.uuid, { partNumber: 1, etag: 'a', size: 10 });
        await store.multipart.savePart(upload.uuid, { partNumber: 2, etag: 'b2', size: 6 });
        expect(await store.multipart.listParts(upload.uuid)).toEqual([
          { partNumber: 1, etag: 'a', size: 10 },
          { partNumber: 2, etag: 'b2', size: 6 },
        ]);
      });

      it('deletes an upload and its parts, answering true only the first time', async () => {
        const project = await newProject();
        const upload = multipartOf(project.id, at(30));
        await store.multipart.create(upload);
        await store.multipart.savePart(upload.uuid, { partNumber: 1, etag: 'a', size: 10 });
        expect(await store.multipart.delete(upload.uuid)).toBe(true);
        expect(await store.multipart.delete(upload.uuid)).toBe(false);
        expect(await store.multipart.find(upload.uuid)).toBeNull();
        expect(await store.multipart.listParts(upload.uuid)).toEqual([]);
      });

      it('lists uploads past their expiry, soonest first, up to the limit', async () => {
        const project = await newProject();
        const uploads = [old(3), old(1), old(2), old(8)].map((expiresAt) => multipartOf(project.id, expiresAt));
        for (const upload of uploads) await store.multipart.create(upload);
        const mine = (await store.multipart.listExpired(old(5), 100)).filter((u) => u.projectId === project.id);
        expect(mine.map((u) => u.expiresAt)).toEqual([old(1), old(2), old(3)]);
        expect(await store.multipart.listExpired(old(5), 1)).toHaveLength(1);
      });
    });

    describe('from_url tasks', () => {
      it('keeps a task as created and applies patches, touching its update time', async () => {
        const project = await newProject();
        const task = taskOf(project.id, 'waiting', old(1));
        await store.fromUrlTasks.create(task);
        expect(await store.fromUrlTasks.find(task.token)).toEqual(task);
        expect(await store.fromUrlTasks.find(randomUUID())).toBeNull();
        await store.fromUrlTasks.update(task.token, { status: 'progress', done: 5, total: 10 });
        const progressed = await store.fromUrlTasks.find(task.token);
        expect(progressed).toMatchObject({ status: 'progress', done: 5, total: 10, fileUuid: null, error: null });
        expect(progressed!.updatedAt > task.updatedAt).toBe(true);
        const fileUuid = randomUUID();
        await store.fromUrlTasks.update(task.token, { status: 'success', fileUuid });
        expect(await store.fromUrlTasks.find(task.token)).toMatchObject({ status: 'success', done: 5, total: 10, fileUuid });
        await store.fromUrlTasks.update(task.token, { status: 'error', error: 'boom', errorCode: 'E' });
        expect(await store.fromUrlTasks.find(task.token)).toMatchObject({ status: 'error', error: 'boom', errorCode: 'E' });
      });

      it('lists waiting and running tasks untouched since an instant as stale', async () => {
        const project = await newProject();
        const tasks = [taskOf(project.id, 'waiting', old(1)), taskOf(project.id, 'progress', old(2)), taskOf(project.id, 'success', old(1)), taskOf(project.id, 'error', old(1)), taskOf(project.id, 'waiting', old(7))];
        for (const task of tasks) await store.fromUrlTasks.create(task);
        const stale = (await store.fromUrlTasks.listStale(old(5), 1000)).filter((t) => t.projectId === project.id);
        expect(new Set(stale.map((t) => t.token))).toEqual(new Set([tasks[0]!.token, tasks[1]!.token]));
        expect(await store.fromUrlTasks.listStale(old(5), 1)).toHaveLength(1);
        // Their clean-up must not leave them to the next test.
        for (const task of tasks) await store.fromUrlTasks.update(task.token, { status: 'success' });
      });

      it('deletes finished tasks last touched before an instant, and says how many', async () => {
        const project = await newProject();
        const tasks = [taskOf(project.id, 'success', ancient(1)), taskOf(project.id, 'error', ancient(2)), taskOf(project.id, 'waiting', ancient(1)), taskOf(project.id, 'success', ancient(8))];
        for (const task of tasks) await store.fromUrlTasks.create(task);
        expect(await store.fromUrlTasks.deleteFinishedBefore(ancient(5))).toBe(2);
        expect(await store.fromUrlTasks.find(tasks[0]!.token)).toBeNull();
        expect(await store.fromUrlTasks.find(tasks[1]!.token)).toBeNull();
        expect(await store.fromUrlTasks.find(tasks[2]!.token)).not.toBeNull();
        expect(await store.fromUrlTasks.find(tasks[3]!.token)).not.toBeNull();
      });
    });

    describe('groups', () => {
      it('keeps a group with its members in position order, for its own project only', async () => {
        const project = await newProject();
        const other = await newProject();
        const group = groupOf(project.id, at(1), 250);
        const members: GroupMember[] = Array.from({ length: 250 }, (_, position) => ({ position, fileUuid: randomUUID(), effects: position % 2 ? '-/resize/10x/' : '' })).reverse();
        await store.groups.create(group, members);
        const found = await store.groups.findForProject(project.id, group.id);
        expect(found?.group).toEqual(group);
        expect(found?.members).toEqual([...members].sort((a, b) => a.position - b.position));
        expect(await store.groups.findForProject(other.id, group.id)).toBeNull();
      });

      it('finds one member by position, whatever the project', async () => {
        const project = await newProject();
        const group = groupOf(project.id, at(1), 2);
        const members = [
          { position: 0, fileUuid: randomUUID(), effects: '' },
          { position: 1, fileUuid: randomUUID(), effects: '-/crop/1x1/' },
        ];
        await store.groups.create(group, members);
        expect(await store.groups.findMember(group.id, 1)).toEqual(members[1]);
        expect(await store.groups.findMember(group.id, 2)).toBeNull();
        expect(await store.groups.findMember(`${randomUUID()}~1`, 0)).toBeNull();
      });

      it('lists and counts a project\'s groups by creation time then id, paging after a group', async () => {
        const project = await newProject();
        const other = await newProject();
        const groups = [groupOf(project.id, at(1)), groupOf(project.id, at(2)), groupOf(project.id, at(2)), groupOf(project.id, at(2)), groupOf(project.id, at(3))];
        for (const group of groups) await store.groups.create(group, []);
        await store.groups.create(groupOf(other.id, at(2)), []);
        const ordered = [...groups].sort((a, b) => a.datetimeCreated.localeCompare(b.datetimeCreated) || compareUuids(a.id, b.id));
        const ids = (records: GroupRecord[]) => records.map((g) => g.id);
        const query = (overrides: Partial<Parameters<MetadataStore['groups']['list']>[1]> = {}) => ({ order: 'asc' as const, after: null, limit: 100, ...overrides });
        expect(ids(await store.groups.list(project.id, query()))).toEqual(ids(ordered));
        expect(ids(await store.groups.list(project.id, query({ order: 'desc' })))).toEqual(ids([...ordered].reverse()));
        expect(ids(await store.groups.list(project.id, query({ limit: 2 })))).toEqual(ids(ordered.slice(0, 2)));
        for (let i = 0; i < ordered.length; i++) {
          const after = { datetime: ordered[i]!.datetimeCreated, id: ordered[i]!.id };
          expect(ids(await store.groups.list(project.id, query({ after })))).toEqual(ids(ordered.slice(i + 1)));
          expect(ids(await store.groups.list(project.id, query({ after, order: 'desc' })))).toEqual(ids(ordered.slice(0, i).reverse()));
        }
        expect(ids(await store.groups.list(project.id, query({ after: { datetime: at(2), id: null } })))).toEqual(ids(ordered.slice(1)));
        expect(await store.groups.count(project.id)).toBe(5);
        expect(await store.groups.count(other.id)).toBe(1);
      });

      it('deletes a group of the project once, leaving its files', async () => {
        const project = await newProject();
        const other = await newProject();
        const file = fileOf(project.id);
        await store.files.insertMany([file]);
        const group = groupOf(project.id, at(1), 1);
        await store.groups.create(group, [{ position: 0, fileUuid: file.uuid, effects: '' }]);
        expect(await store.groups.delete(other.id, group.id)).toBe(false);
        expect(await store.groups.findForProject(project.id, group.id)).not.toBeNull();
        expect(await store.groups.delete(project.id, group.id)).toBe(true);
        expect(await store.groups.delete(project.id, group.id)).toBe(false);
        expect(await store.groups.findForProject(project.id, group.id)).toBeNull();
        expect(await store.groups.findMember(group.id, 0)).toBeNull();
        expect(await store.files.findForProject(project.id, file.uuid)).toEqual(file);
      });
    });

    describe('webhooks', () => {
      const hook = (projectId: string, targetUrl: string, overrides: Partial<Parameters<MetadataStore['webhooks']['create']>[0]> = {}) =>
        store.webhooks.create({ projectId, targetUrl, event: 'file.uploaded', isActive: true, signingSecret: null, version: '0.7', at: at(1), ...overrides });

      it('creates subscriptions with increasing integer ids, found in their own project only', async () => {
        const project = await newProject();
        const other = await newProject();
        const first = await hook(project.id, 'https://hooks.example/a', { signingSecret: 's3cret' });
        const second = await hook(project.id, 'https://hooks.example/b', { event: 'file.stored', isActive: false });
        expect(first).toEqual({ id: first.id, projectId: project.id, targetUrl: 'https://hooks.example/a', event: 'file.uploaded', isActive: true, signingSecret: 's3cret', version: '0.7', createdAt: at(1), updatedAt: at(1) });
        expect(Number.isInteger(first.id)).toBe(true);
        expect(second.id).toBeGreaterThan(first.id);
        expect(await store.webhooks.list(project.id)).toEqual([first, second]);
        expect(await store.webhooks.list(other.id)).toEqual([]);
        expect(await store.webhooks.find(project.id, first.id)).toEqual(first);
        expect(await store.webhooks.find(other.id, first.id)).toBeNull();
        expect(await store.webhooks.findByTarget(project.id, 'https://hooks.example/b', 'file.stored')).toEqual(second);
        expect(await store.webhooks.findByTarget(project.id, 'https://hooks.example/b', 'file.uploaded')).toBeNull();
      });

      it('updates what a patch names, in the own project only', async () => {
        const project = await newProject();
        const other = await newProject();
        const created = await hook(project.id, 'https://hooks.example/u', { signingSecret: 'x' });
        const updated = await store.webhooks.update(project.id, created.id, { targetUrl: 'https://hooks.example/v', isActive: false, signingSecret: null }, at(2));
        expect(updated).toEqual({ ...created, targetUrl: 'https://hooks.example/v', isActive: false, signingSecret: null, updatedAt: at(2) });
        expect(await store.webhooks.update(project.id, created.id, { event: 'file.deleted' }, at(3))).toEqual({ ...updated, event: 'file.deleted', updatedAt: at(3) });
        expect(await store.webhooks.update(other.id, created.id, { isActive: true }, at(4))).toBeNull();
        expect((await store.webhooks.find(project.id, created.id))?.isActive).toBe(false);
      });

      it('lists the active subscriptions of one event', async () => {
        const project = await newProject();
        const active = await hook(project.id, 'https://hooks.example/1');
        await hook(project.id, 'https://hooks.example/2', { isActive: false });
        await hook(project.id, 'https://hooks.example/3', { event: 'file.deleted' });
        expect(await store.webhooks.active(project.id, 'file.uploaded')).toEqual([active]);
      });

      it('deletes one subscription, or all to one URL, in the own project only', async () => {
        const project = await newProject();
        const other = await newProject();
        const one = await hook(project.id, 'https://hooks.example/x');
        await hook(project.id, 'https://hooks.example/y');
        await hook(project.id, 'https://hooks.example/y', { event: 'file.stored' });
        const theirs = await hook(other.id, 'https://hooks.example/y');
        expect(await store.webhooks.delete(other.id, one.id)).toBe(false);
        expect(await store.webhooks.delete(project.id, one.id)).toBe(true);
        expect(await store.webhooks.delete(project.id, one.id)).toBe(false);
        expect(await store.webhooks.deleteByTarget(project.id, 'https://hooks.example/y')).toBe(2);
        expect(await store.webhooks.list(project.id)).toEqual([]);
        expect(await store.webhooks.list(other.id)).toEqual([theirs]);
      });

      it('creates each delivery once per id, records attempts and reopens finished ones', async () => {
        const project = await newProject();
        const webhook = await hook(project.id, 'https://hooks.example/d');
        const delivery = deliveryOf(project.id, webhook.id, at(1));
        await store.webhooks.createDeliveries([delivery]);
        await store.webhooks.createDeliveries([{ ...delivery, payload: '{"changed":true}' }, deliveryOf(project.id, webhook.id, at(2))]);
        await store.webhooks.createDeliveries([]);
        expect(await store.webhooks.findDelivery(delivery.id)).toEqual(delivery);
        expect(await store.webhooks.findDelivery(randomUUID())).toBeNull();

        await store.webhooks.recordAttempt({
          attempt: { id: randomUUID(), deliveryId: delivery.id, attempt: 1, statusCode: 500, latencyMs: 12, error: 'HTTP 500', createdAt: at(3) },
          status: 'pending',
        });
        expect(await store.webhooks.findDelivery(delivery.id)).toEqual({ ...delivery, attempts: 1, lastStatusCode: 500, lastError: 'HTTP 500', updatedAt: at(3) });
        await store.webhooks.recordAttempt({
          attempt: { id: randomUUID(), deliveryId: delivery.id, attempt: 2, statusCode: 200, latencyMs: 8, error: null, createdAt: at(4) },
          status: 'delivered',
        });
        expect(await store.webhooks.findDelivery(delivery.id)).toEqual({
          ...delivery,
          status: 'delivered',
          attempts: 2,
          lastStatusCode: 200,
          lastError: null,
          updatedAt: at(4),
          deliveredAt: at(4),
        });
        const attempts = await store.webhooks.listAttempts([delivery.id, randomUUID()]);
        expect(attempts.map((a) => [a.attempt, a.statusCode, a.latencyMs, a.error])).toEqual([
          [1, 500, 12, 'HTTP 500'],
          [2, 200, 8, null],
        ]);
        expect(await store.webhooks.listAttempts([])).toEqual([]);

        await store.webhooks.reopenDelivery(delivery.id, at(5));
        expect(await store.webhooks.findDelivery(delivery.id)).toMatchObject({ status: 'pending', updatedAt: at(5), attempts: 2 });
      });

      it('lists pending deliveries untouched since an instant, oldest first', async () => {
        const project = await newProject();
        const webhook = await hook(project.id, 'https://hooks.example/s');
        const deliveries = [
          deliveryOf(project.id, webhook.id, old(3)),
          deliveryOf(project.id, webhook.id, old(1)),
          { ...deliveryOf(project.id, webhook.id, old(1)), status: 'delivered' as const },
          { ...deliveryOf(project.id, webhook.id, old(1)), status: 'failed' as const },
          deliveryOf(project.id, webhook.id, old(9)),
        ];
        await store.webhooks.createDeliveries(deliveries);
        const stale = (await store.webhooks.listStalePending(old(5), 100)).filter((d) => d.projectId === project.id);
        expect(stale.map((d) => d.id)).toEqual([deliveries[1]!.id, deliveries[0]!.id]);
        expect(await store.webhooks.listStalePending(old(5), 1)).toHaveLength(1);
      });

      it("pages a subscription's deliveries newest first, before a creation time", async () => {
        const project = await newProject();
        const webhook = await hook(project.id, 'https://hooks.example/p');
        const another = await hook(project.id, 'https://hooks.example/q');
        const deliveries = [1, 2, 3, 4].map((i) => deliveryOf(project.id, webhook.id, at(i)));
        await store.webhooks.createDeliveries([...deliveries, deliveryOf(project.id, another.id, at(3))]);
        const ids = (list: WebhookDelivery[]) => list.map((d) => d.id);
        expect(ids(await store.webhooks.listDeliveries(project.id, webhook.id, { limit: 10, before: null }))).toEqual(ids([...deliveries].reverse()));
        expect(ids(await store.webhooks.listDeliveries(project.id, webhook.id, { limit: 2, before: null }))).toEqual(ids([deliveries[3]!, deliveries[2]!]));
        expect(ids(await store.webhooks.listDeliveries(project.id, webhook.id, { limit: 2, before: at(3) }))).toEqual(ids([deliveries[1]!, deliveries[0]!]));
        const other = await newProject();
        expect(await store.webhooks.listDeliveries(other.id, webhook.id, { limit: 10, before: null })).toEqual([]);
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
        await store.sessions.create(session);
        expect(await store.sessions.find(session.id, at(9))).toEqual(session);
        expect(await store.sessions.find(session.id, at(10))).toBeNull();
        expect(await store.sessions.find(randomUUID(), at(1))).toBeNull();
      });

      it('switches the project of a session and deletes one', async () => {
        const session = sessionOf(randomUUID(), at(10));
        await store.sessions.create(session);
        const projectId = randomUUID();
        await store.sessions.setProject(session.id, projectId);
        expect(await store.sessions.find(session.id, at(1))).toEqual({ ...session, projectId });
        await store.sessions.delete(session.id);
        expect(await store.sessions.find(session.id, at(1))).toBeNull();
      });

      it('deletes the sessions expired at an instant, and says how many', async () => {
        const sessions = [sessionOf(randomUUID(), ancient(1)), sessionOf(randomUUID(), ancient(2)), sessionOf(randomUUID(), at(10))];
        for (const session of sessions) await store.sessions.create(session);
        expect(await store.sessions.deleteExpired(ancient(2))).toBe(2);
        expect(await store.sessions.find(sessions[2]!.id, at(1))).not.toBeNull();
        expect(await store.sessions.deleteExpired(ancient(2))).toBe(0);
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
        expect(await store.projects.findById(project.id)).toMatchObject({ scanOnUpload: true, purgeInfected: true });
        expect(await store.projects.update(project.id, { purgeInfected: false })).toMatchObject({ scanOnUpload: true, purgeInfected: false });
      });

      it('keeps a file\'s appdata and scan status as written, {} and null by default', async () => {
        const project = await newProject();
        const plain = storedFile({ projectId: project.id });
        const held = storedFile({ projectId: project.id, scanStatus: 'pending', appdata: { uc_clamav_virus_scan: clamav(false, at(1)) } });
        await store.files.insertMany([plain, held]);
        expect(await store.files.findForProject(project.id, plain.uuid)).toMatchObject({ appdata: {}, scanStatus: null });
        expect(await store.files.findForProject(project.id, held.uuid)).toEqual(held);
      });

      it('writes one add-on\'s entry beside the others with the scan status, in the own project\'s live files only', async () => {
        const project = await newProject();
        const other = await newProject();
        const file = storedFile({ projectId: project.id, scanStatus: 'pending', appdata: { remove_bg: { data: { foreground_type: 'person' }, version: '1.0', datetime_created: at(1), datetime_updated: at(1) } } });
        await store.files.insertMany([file]);
        const written = await store.files.writeAppData(project.id, file.uuid, 'uc_clamav_virus_scan', clamav(true, at(2)), 'infected');
        expect(written?.before).toEqual(file);
        expect(written?.after.scanStatus).toBe('infected');
        expect(written?.after.appdata).toEqual({ remove_bg: file.appdata.remove_bg, uc_clamav_virus_scan: clamav(true, at(2)) });
        expect(await store.files.findForProject(project.id, file.uuid)).toEqual(written?.after);
        // A later write replaces the add-on's own entry only.
        const again = await store.files.writeAppData(project.id, file.uuid, 'uc_clamav_virus_scan', clamav(false, at(3)), 'clean');
        expect(again?.after.appdata).toEqual({ remove_bg: file.appdata.remove_bg, uc_clamav_virus_scan: clamav(false, at(3)) });
        expect(await store.files.writeAppData(other.id, file.uuid, 'uc_clamav_virus_scan', clamav(true, at(4)), 'infected')).toBeNull();
        await store.files.setRemoved(project.id, [file.uuid], at(5));
        expect(await store.files.writeAppData(project.id, file.uuid, 'uc_clamav_virus_scan', clamav(true, at(6)), 'infected')).toBeNull();
        expect((await store.files.findForProject(project.id, file.uuid, { includeRemoved: true }))?.scanStatus).toBe('clean');
      });

      it('loses neither of two add-ons writing the same file at once', async () => {
        const project = await newProject();
        const file = storedFile({ projectId: project.id });
        await store.files.insertMany([file]);
        const foreign = { data: { foreground_type: 'car' }, version: '1.0', datetime_created: at(1), datetime_updated: at(1) };
        await Promise.all([
          store.files.writeAppData(project.id, file.uuid, 'uc_clamav_virus_scan', clamav(false, at(1)), 'clean'),
          store.files.writeAppData(project.id, file.uuid, 'remove_bg', foreign, 'clean'),
        ]);
        expect(Object.keys((await store.files.findForProject(project.id, file.uuid))!.appdata).sort()).toEqual(['remove_bg', 'uc_clamav_virus_scan']);
      });

      it('moves a scan status only from the state named, in the own project', async () => {
        const project = await newProject();
        const other = await newProject();
        const file = storedFile({ projectId: project.id, scanStatus: 'pending' });
        await store.files.insertMany([file]);
        expect(await store.files.moveScanStatus(other.id, file.uuid, 'pending', 'failed')).toBeNull();
        expect(await store.files.moveScanStatus(project.id, file.uuid, 'clean', 'failed')).toBeNull();
        expect((await store.files.moveScanStatus(project.id, file.uuid, 'pending', 'failed'))?.scanStatus).toBe('failed');
        expect(await store.files.moveScanStatus(project.id, file.uuid, 'pending', 'failed')).toBeNull();
      });

      it('keeps execution requests once per id, per project and add-on, and ends them', async () => {
        const project = await newProject();
        const other = await newProject();
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
        expect(await store.addonRequests.create(request)).toBe(true);
        expect(await store.addonRequests.create({ ...request, fileUuid: randomUUID() })).toBe(false);
        expect(await store.addonRequests.find(project.id, 'uc_clamav_virus_scan', request.requestId)).toEqual(request);
        expect(await store.addonRequests.findById(request.requestId)).toEqual(request);
        expect(await store.addonRequests.find(other.id, 'uc_clamav_virus_scan', request.requestId)).toBeNull();
        expect(await store.addonRequests.find(project.id, 'remove_bg', request.requestId)).toBeNull();
        await store.addonRequests.finish(request.requestId, 'error', 'clamd is down', at(2));
        expect(await store.addonRequests.findById(request.requestId)).toEqual({ ...request, status: 'error', error: 'clamd is down', updatedAt: at(2) });
        const running = { ...request, requestId: randomUUID(), createdAt: at(1), updatedAt: at(1) };
        await store.addonRequests.create(running);
        // Only finished requests are forgotten, by their last update.
        expect(await store.addonRequests.deleteFinishedBefore(at(2))).toBe(0);
        expect(await store.addonRequests.deleteFinishedBefore(at(3))).toBeGreaterThanOrEqual(1);
        expect(await store.addonRequests.findById(request.requestId)).toBeNull();
        expect(await store.addonRequests.findById(running.requestId)).toEqual(running);
      });

      it('keeps the initiator of an outbox event', async () => {
        const project = await newProject();
        const fileUuid = randomUUID();
        const initiator = { type: 'addon' as const, detail: { request_id: randomUUID(), addon_name: 'uc_clamav_virus_scan', source_file_uuid: null } };
        await store.outbox.append([{ projectId: project.id, event: 'file.infected', fileUuid, previousValues: null, initiator, createdAt: at(1) }]);
        const [event] = (await store.outbox.oldest(10_000)).filter((e) => e.fileUuid === fileUuid);
        expect(event?.initiator).toEqual(initiator);
        await store.outbox.remove(event!.id);
      });
    });

    describe('document conversions', () => {
      it('keeps a conversion once per token and per request of a project, moves its status only from the states named, and lists finished groups of one project', async () => {
        const project = await newProject();
        const other = await newProject();
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
        expect(await store.documentConversions.create(conversion)).toBe(true);
        expect(await store.documentConversions.create({ ...conversion, token: '52' })).toBe(false);
        expect(await store.documentConversions.create({ ...conversion, requestKey: randomUUID() })).toBe(false);
        expect(await store.documentConversions.find(project.id, conversion.token)).toEqual(conversion);
        expect(await store.documentConversions.find(other.id, conversion.token)).toBeNull();
        expect(await store.documentConversions.findByRequest(project.id, conversion.requestKey)).toEqual(conversion);
        expect(await store.documentConversions.findByRequest(other.id, conversion.requestKey)).toBeNull();
        // Another project may make the same request of a file with the same uuid.
        expect(await store.documentConversions.create({ ...conversion, token: '53', projectId: other.id, plan: { format: 'jpg' as const, page: 4 } })).toBe(true);
        expect((await store.documentConversions.findByToken('53'))?.plan).toEqual({ format: 'jpg', page: 4 });

        expect(await store.documentConversions.moveStatus(conversion.token, ['finished'], 'failed', 'no', at(2))).toBe(false);
        expect(await store.documentConversions.moveStatus(conversion.token, ['pending', 'processing'], 'processing', null, at(2))).toBe(true);
        expect(await store.documentConversions.finishedGroups(project.id, source)).toEqual([]);
        const group = `${randomUUID()}~3`;
        await store.documentConversions.setGroup(conversion.token, group, at(3));
        expect(await store.documentConversions.moveStatus(conversion.token, ['processing'], 'finished', null, at(4))).toBe(true);
        const finished = { ...conversion, groupId: group, status: 'finished' as const, updatedAt: at(4) };
        expect(await store.documentConversions.findByToken(conversion.token)).toEqual(finished);
        expect(await store.documentConversions.finishedGroups(project.id, source)).toEqual([finished]);
        expect(await store.documentConversions.finishedGroups(other.id, source)).toEqual([]);
        expect(await store.documentConversions.moveStatus('999', ['pending'], 'processing', null, at(4))).toBe(false);
      });
    });

    describe('video conversions', () => {
      it('keeps a conversion once per token and per request of a project, and moves its status only from the states named', async () => {
        const project = await newProject();
        const other = await newProject();
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
        expect(await store.videoConversions.create(conversion)).toBe(true);
        // The same request of the project, under another token: refused, the first one stands.
        expect(await store.videoConversions.create({ ...conversion, token: '42' })).toBe(false);
        expect(await store.videoConversions.create({ ...conversion, requestKey: randomUUID() })).toBe(false);
        expect(await store.videoConversions.findByToken('42')).toBeNull();
        expect(await store.videoConversions.find(project.id, conversion.token)).toEqual(conversion);
        expect(await store.videoConversions.find(other.id, conversion.token)).toBeNull();
        expect(await store.videoConversions.findByRequest(project.id, conversion.requestKey)).toEqual(conversion);
        expect(await store.videoConversions.findByRequest(other.id, conversion.requestKey)).toBeNull();
        // Another project may make the same request.
        expect(await store.videoConversions.create({ ...conversion, token: '43', projectId: other.id })).toBe(true);

        expect(await store.videoConversions.moveStatus(conversion.token, ['finished'], 'failed', 'no', at(2))).toBe(false);
        // Progress is written only while processing.
        await store.videoConversions.setProgress(conversion.token, 40, at(2));
        expect((await store.videoConversions.findByToken(conversion.token))?.progress).toBe(0);
        expect(await store.videoConversions.moveStatus(conversion.token, ['pending', 'processing'], 'processing', null, at(2))).toBe(true);
        await store.videoConversions.setProgress(conversion.token, 40, at(2));
        expect((await store.videoConversions.findByToken(conversion.token))?.progress).toBe(40);
        expect(await store.videoConversions.moveStatus(conversion.token, ['processing'], 'failed', 'ffmpeg failed', at(3))).toBe(true);
        expect(await store.videoConversions.findByToken(conversion.token)).toEqual({ ...conversion, status: 'failed', error: 'ffmpeg failed', progress: 40, updatedAt: at(3) });
        expect(await store.videoConversions.moveStatus(conversion.token, ['failed'], 'pending', null, at(4))).toBe(true);
        expect((await store.videoConversions.findByToken(conversion.token))?.progress).toBe(0);
        await store.videoConversions.moveStatus(conversion.token, ['pending'], 'processing', null, at(4));
        expect(await store.videoConversions.moveStatus(conversion.token, ['processing'], 'finished', null, at(5))).toBe(true);
        expect((await store.videoConversions.findByToken(conversion.token))?.progress).toBe(100);
        expect(await store.videoConversions.moveStatus('999', ['pending'], 'processing', null, at(4))).toBe(false);
      });

      it("lists and counts a project's conversions, of one source or all, newest first by creation time then token, paging before a conversion", async () => {
        const project = await newProject();
        const other = await newProject();
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
        // Tokens are unique across the store: this test's are of its own range.
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
        for (const conversion of [...ofSource, ofOtherSource, ofOtherProject]) expect(await store.videoConversions.create(conversion)).toBe(true);

        const newestFirst = (list: typeof ofSource) => [...list].sort((a, b) => b.createdAt.localeCompare(a.createdAt) || (a.token < b.token ? 1 : a.token > b.token ? -1 : 0));
        const tokens = (list: { token: string }[]) => list.map((c) => c.token);
        const query = (overrides: Partial<Parameters<MetadataStore['videoConversions']['list']>[1]> = {}) => ({ sourceUuid: source, before: null, limit: 100, ...overrides });
        const ordered = newestFirst(ofSource);
        expect(await store.videoConversions.list(project.id, query())).toEqual(ordered);
        expect(tokens(await store.videoConversions.list(project.id, query({ limit: 2 })))).toEqual(tokens(ordered.slice(0, 2)));
        for (let i = 0; i < ordered.length; i++) {
          const before = { datetime: ordered[i]!.createdAt, token: ordered[i]!.token };
          expect(tokens(await store.videoConversions.list(project.id, query({ before })))).toEqual(tokens(ordered.slice(i + 1)));
        }
        // A date alone: created then or earlier.
        expect(tokens(await store.videoConversions.list(project.id, query({ before: { datetime: at(2), token: null } })))).toEqual(tokens(ordered.slice(1)));
        expect(await store.videoConversions.list(project.id, query({ before: { datetime: at(0), token: null } }))).toEqual([]);
        expect(tokens(await store.videoConversions.list(project.id, query({ sourceUuid: null })))).toEqual(tokens(newestFirst([...ofSource, ofOtherSource])));
        expect(await store.videoConversions.count(project.id, source)).toBe(5);
        expect(await store.videoConversions.count(project.id, null)).toBe(6);
        expect(await store.videoConversions.count(project.id, elsewhere)).toBe(1);

        // Tenant isolation: each project sees its own rows only, whatever the source asked for.
        expect(await store.videoConversions.list(other.id, query())).toEqual([ofOtherProject]);
        expect(await store.videoConversions.list(other.id, query({ sourceUuid: elsewhere }))).toEqual([]);
        expect(await store.videoConversions.list(other.id, query({ sourceUuid: null }))).toEqual([ofOtherProject]);
        expect(await store.videoConversions.count(other.id, source)).toBe(1);
        expect(await store.videoConversions.count(other.id, elsewhere)).toBe(0);
        expect(await store.videoConversions.list((await newProject()).id, query({ sourceUuid: null }))).toEqual([]);

        // The listing shows each conversion as it stands.
        await store.videoConversions.moveStatus(token(5), ['pending'], 'processing', null, at(4));
        await store.videoConversions.setProgress(token(5), 30, at(5));
        expect((await store.videoConversions.list(project.id, query({ limit: 1 })))[0]).toEqual({ ...ordered[0], status: 'processing', progress: 30, updatedAt: at(5) });
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
        expect(await store.storages.create(storageOf(project.id, 'zeta'))).toBe(true);
        expect(await store.storages.create(custom)).toBe(true);
        expect(await store.storages.find(project.id, 'minio')).toEqual(custom);
        expect((await store.storages.list(project.id)).map((s) => s.name)).toEqual(['minio', 'zeta']);
        expect(await store.storages.find(project.id, 'missing')).toBeNull();
        expect(await store.storages.list((await newProject()).id)).toEqual([]);
      });

      it('refuses a second storage of one name in a project, keeping the first; names are per project', async () => {
        const project = await newProject();
        const other = await newProject();
        const first = storageOf(project.id, 'backup', { bucket: 'first' });
        expect(await store.storages.create(first)).toBe(true);
        expect(await store.storages.create(storageOf(project.id, 'backup', { bucket: 'second' }))).toBe(false);
        expect(await store.storages.find(project.id, 'backup')).toEqual(first);
        expect(await store.storages.create(storageOf(other.id, 'backup', { bucket: 'theirs' }))).toBe(true);
        expect((await store.storages.find(other.id, 'backup'))?.bucket).toBe('theirs');
        // Names are compared exactly.
        expect(await store.storages.create(storageOf(project.id, 'Backup'))).toBe(true);
      });

      it('deletes one project\'s storage only, and says whether there was one', async () => {
        const project = await newProject();
        const other = await newProject();
        await store.storages.create(storageOf(project.id, 'shared'));
        await store.storages.create(storageOf(other.id, 'shared'));
        expect(await store.storages.delete(other.id, 'shared')).toBe(true);
        expect(await store.storages.delete(other.id, 'shared')).toBe(false);
        expect(await store.storages.find(project.id, 'shared')).not.toBeNull();
        expect(await store.storages.find(other.id, 'shared')).toBeNull();
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
        const other = await newProject();
        const file = image(project.id);
        await store.files.insertMany([file]);
        const first = analysisOf(file, '0123456789abcdef');
        expect(await store.imageAnalysis.save(first)).toBe(true);
        expect(await store.imageAnalysis.find(project.id, file.uuid)).toEqual(first);
        const again = analysisOf(file, 'fedcba9876543210', { createdAt: at(5), computedAt: at(5), palette: ['#000000'], version: '2' });
        expect(await store.imageAnalysis.save(again)).toBe(true);
        expect(await store.imageAnalysis.find(project.id, file.uuid)).toEqual({ ...again, createdAt: at(1) });
        // Another project sees nothing, and cannot write on this project's file.
        expect(await store.imageAnalysis.find(other.id, file.uuid)).toBeNull();
        expect(await store.imageAnalysis.findMany(other.id, [file.uuid])).toEqual([]);
        expect(await store.imageAnalysis.save({ ...first, projectId: other.id })).toBe(false);
        expect(await store.imageAnalysis.deleteForFiles(other.id, [file.uuid])).toBe(0);
        expect(await store.imageAnalysis.findMany(project.id, [file.uuid, randomUUID()])).toHaveLength(1);
      });

      it('writes nothing for a removed or unknown file, and the row goes with the file', async () => {
        const project = await newProject();
        const [removed, kept, deleted] = [image(project.id), image(project.id), image(project.id)];
        await store.files.insertMany([removed, kept, deleted]);
        await store.files.setRemoved(project.id, [removed.uuid], at(2));
        expect(await store.imageAnalysis.save(analysisOf(removed, '0000000000000000'))).toBe(false);
        expect(await store.imageAnalysis.save(analysisOf(image(project.id), '0000000000000000'))).toBe(false);
        expect(await store.imageAnalysis.find(project.id, removed.uuid)).toBeNull();
        expect(await store.imageAnalysis.save(analysisOf(kept, '0000000000000000'))).toBe(true);
        expect(await store.imageAnalysis.save(analysisOf(deleted, '0000000000000000'))).toBe(true);
        expect(await store.imageAnalysis.deleteForFiles(project.id, [kept.uuid])).toBe(1);
        expect(await store.imageAnalysis.find(project.id, kept.uuid)).toBeNull();
        await store.files.deleteRow(deleted.uuid);
        expect(await store.imageAnalysis.find(project.id, deleted.uuid)).toBeNull();
      });

      it('finds candidates by any equal 16-bit chunk, among the project\'s live files, stored or not as asked', async () => {
        const project = await newProject();
        const other = await newProject();
        const near = image(project.id, { datetimeStored: at(1) });
        const secondChunk = image(project.id);
        const far = image(project.id);
        const gone = image(project.id);
        const foreign = image(other.id);
        await store.files.insertMany([near, secondChunk, far, gone, foreign]);
        await store.imageAnalysis.save(analysisOf(near, 'aaaa000000000000'));
        await store.imageAnalysis.save(analysisOf(secondChunk, 'ffffbbbbffffffff'));
        await store.imageAnalysis.save(analysisOf(far, 'ffffffffffffffff'));
        await store.imageAnalysis.save(analysisOf(gone, 'aaaaffffffffffff'));
        await store.imageAnalysis.save(analysisOf(foreign, 'aaaa000000000000'));
        await store.files.setRemoved(project.id, [gone.uuid], at(2));
        const values = [[0xaaaa, 0x1234], [0xbbbb], [0x4321], [0x5678]];
        const found = await store.imageAnalysis.candidates(project.id, values, null);
        expect(found.sort((a, b) => compareUuids(a.fileUuid, b.fileUuid))).toEqual(
          [
            { fileUuid: near.uuid, chunks: [0xaaaa, 0, 0, 0] },
            { fileUuid: secondChunk.uuid, chunks: [0xffff, 0xbbbb, 0xffff, 0xffff] },
          ].sort((a, b) => compareUuids(a.fileUuid, b.fileUuid)),
        );
        expect((await store.imageAnalysis.candidates(project.id, values, true)).map((c) => c.fileUuid)).toEqual([near.uuid]);
        expect((await store.imageAnalysis.candidates(project.id, values, false)).map((c) => c.fileUuid)).toEqual([secondChunk.uuid]);
        expect(await store.imageAnalysis.candidates(project.id, [[], [], [], []], null)).toEqual([]);
      });

      it('lists live images without an analysis of the version, by uuid, in pages', async () => {
        const project = await newProject();
        const other = await newProject();
        const images = sortByUuid([image(project.id), image(project.id), image(project.id), image(project.id)]);
        const [analysed, outdated, removed] = [image(project.id), image(project.id), image(project.id)];
        await store.files.insertMany([...images, analysed, outdated, removed, fileOf(project.id), image(other.id)]);
        await store.imageAnalysis.save(analysisOf(analysed, '0000000000000000', { version: '1' }));
        await store.imageAnalysis.save(analysisOf(outdated, '0000000000000000', { version: '0' }));
        await store.files.setRemoved(project.id, [removed.uuid], at(2));
        const expected = sortByUuid([...images, outdated]).map((file) => ({ projectId: project.id, uuid: file.uuid }));
        const first = await store.imageAnalysis.listUnanalysed({ projectId: project.id, version: '1', afterUuid: null, limit: 3 });
        expect(first).toEqual(expected.slice(0, 3));
        const rest = await store.imageAnalysis.listUnanalysed({ projectId: project.id, version: '1', afterUuid: first[2]!.uuid, limit: 3 });
        expect(rest).toEqual(expected.slice(3));
        const everywhere = await store.imageAnalysis.listUnanalysed({ projectId: null, version: '1', afterUuid: null, limit: 10_000 });
        expect(everywhere).toEqual(expect.arrayContaining(expected));
        expect(everywhere.some((target) => target.projectId === other.id)).toBe(true);
      });
    });

    describe('usage', () => {
      it('adds delivery counts to what is stored, per project and day', async () => {
        const project = await newProject();
        const other = await newProject();
        await store.usage.addDeliveries([
          { projectId: project.id, day: '2024-05-01', deliveries: 3, cacheHits: 2, cacheMisses: 1 },
          { projectId: project.id, day: '2024-05-02', deliveries: 1, cacheHits: 0, cacheMisses: 1 },
          { projectId: other.id, day: '2024-05-01', deliveries: 9, cacheHits: 9, cacheMisses: 0 },
        ]);
        await store.usage.addDeliveries([{ projectId: project.id, day: '2024-05-01', deliveries: 2, cacheHits: 1, cacheMisses: 1 }]);
        await store.usage.addDeliveries([]);
        expect(await store.usage.deliveriesSince(project.id, '2024-04-01')).toEqual([
          { projectId: project.id, day: '2024-05-01', deliveries: 5, cacheHits: 3, cacheMisses: 2 },
          { projectId: project.id, day: '2024-05-02', deliveries: 1, cacheHits: 0, cacheMisses: 1 },
        ]);
        expect((await store.usage.deliveriesSince(project.id, '2024-05-02')).map((d) => d.day)).toEqual(['2024-05-02']);
      });

      it('counts uploads per day from the files, removed ones included', async () => {
        const project = await newProject();
        await store.files.insertMany([
          fileOf(project.id, { datetimeUploaded: '2024-05-01T01:00:00.000Z', size: 10 }),
          fileOf(project.id, { datetimeUploaded: '2024-05-01T23:00:00.000Z', size: 5, datetimeRemoved: '2024-05-03T00:00:00.000Z' }),
          fileOf(project.id, { datetimeUploaded: '2024-05-03T12:00:00.000Z', size: 7 }),
          fileOf(project.id, { datetimeUploaded: '2024-04-30T12:00:00.000Z', size: 100 }),
        ]);
        expect(await store.usage.uploadsSince(project.id, '2024-05-01')).toEqual([
          { day: '2024-05-01', uploads: 2, uploadBytes: 15 },
          { day: '2024-05-03', uploads: 1, uploadBytes: 7 },
        ]);
      });

      it('sums the bytes of live files, stored and unstored apart', async () => {
        const project = await newProject();
        expect(await store.usage.bytes(project.id)).toEqual({ stored: 0, unstored: 0 });
        await store.files.insertMany([
          fileOf(project.id, { size: 10, datetimeStored: at(1) }),
          fileOf(project.id, { size: 5_000_000_000, datetimeStored: at(1) }),
          fileOf(project.id, { size: 7 }),
          fileOf(project.id, { size: 1000, datetimeRemoved: at(2) }),
        ]);
        expect(await store.usage.bytes(project.id)).toEqual({ stored: 5_000_000_010, unstored: 7 });
      });

      it('tells the project of each known file, removed ones included (more than 500 uuids)', async () => {
        const project = await newProject();
        const other = await newProject();
        const mine = Array.from({ length: 510 }, () => fileOf(project.id));
        const removed = fileOf(project.id, { datetimeRemoved: at(1) });
        const theirs = fileOf(other.id);
        await store.files.insertMany([...mine, removed, theirs]);
        const unknown = randomUUID();
        const projects = await store.usage.projectsOfFiles([...mine.map((f) => f.uuid), removed.uuid, theirs.uuid, unknown]);
        expect(projects.size).toBe(512);
        expect(projects.get(removed.uuid)).toBe(project.id);
        expect(projects.get(theirs.uuid)).toBe(other.id);
        expect(projects.has(unknown)).toBe(false);
        expect((await store.usage.projectsOfFiles([])).size).toBe(0);
      });
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

async function outboxEventsOf(store: MetadataStore, fileUuid: string): Promise<string[]> {
  const events = await store.outbox.oldest(10_000);
  return events.filter((e) => e.fileUuid === fileUuid).map((e) => e.event);
}
