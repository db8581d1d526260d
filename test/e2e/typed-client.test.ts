/**
 * The generated client (client/trove-client.ts) against a real Trove over HTTP: what it sends is what the
 * routes expect, and what they answer is what its types say.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TroveApiError, TroveClient } from '../../client/trove-client.js';
import { startTrove, type TestTrove } from '../helpers/trove-server.js';
import { uploadFile } from '../helpers/upload-http.js';

describe('typed client', () => {
  let trove: TestTrove;
  let client: TroveClient;
  let rest: TroveClient;
  let uuid: string;

  beforeAll(async () => {
    trove = await startTrove();
    client = new TroveClient({ baseUrl: trove.url });
    rest = new TroveClient({ baseUrl: trove.url, headers: { Authorization: `Uploadcare.Simple ${trove.publicKey}:${trove.secretKey}` } });
    uuid = await uploadFile(trove, new TextEncoder().encode('hello, typed client'), 'hello.txt', { UPLOADCARE_STORE: '0' });
  });
  afterAll(async () => {
    await trove?.close();
  });

  describe('Upload API', () => {
    it('reads file info', async () => {
      const info = await client.getUploadInfo({ query: { pub_key: trove.publicKey, file_id: uuid } });
      expect(info.uuid).toBe(uuid);
      expect(info.size).toBe('hello, typed client'.length);
      expect(info.original_filename).toBe('hello.txt');
      expect(info.is_stored).toBe(false);
      expect(info.metadata).toEqual({});
    });

    it('reads a group made of the file', async () => {
      const form = new FormData();
      form.append('pub_key', trove.publicKey);
      form.append('files[]', uuid);
      const created = await fetch(`${trove.uploadUrl}/group/`, { method: 'POST', body: form });
      expect(created.status).toBe(200);
      const { id } = (await created.json()) as { id: string };

      const group = await client.getUploadGroupInfo({ query: { pub_key: trove.publicKey, group_id: id } });
      expect(group.id).toBe(id);
      expect(group.files_count).toBe(1);
      expect(group.files[0]?.uuid).toBe(uuid);
    });

    it('sends to an Upload API given its own base URL', async () => {
      const elsewhere = new TroveClient({ baseUrl: 'http://127.0.0.1:9', baseUrls: { 'Upload API': trove.uploadUrl } });
      const info = await elsewhere.getUploadInfo({ query: { pub_key: trove.publicKey, file_id: uuid } });
      expect(info.uuid).toBe(uuid);
    });

    it('throws TroveApiError with the status and the Upload API error body', async () => {
      const missing = '00000000-0000-4000-8000-000000000000';
      const failure = await client.getUploadInfo({ query: { pub_key: trove.publicKey, file_id: missing } }).catch((error: unknown) => error);
      expect(failure).toBeInstanceOf(TroveApiError);
      const error = failure as TroveApiError;
      expect(error.status).toBe(404);
      expect(error.body).toMatchObject({ error: { status_code: 404 } });
      expect(error.message).toContain('/upload/info/');
    });
  });

  describe('REST API', () => {
    it('lists files with typed results', async () => {
      const page = await rest.listFiles({ query: { limit: '10', ordering: '-datetime_uploaded' } });
      expect(page.per_page).toBe(10);
      expect(page.results.map((file) => file.uuid)).toContain(uuid);
    });

    it('reads one file', async () => {
      const file = await rest.getFile({ path: { uuid } });
      expect(file).toMatchObject({ uuid, original_filename: 'hello.txt', size: 'hello, typed client'.length });
    });

    it('stores a file', async () => {
      const stored = await rest.storeFile({ path: { uuid } });
      expect(stored.uuid).toBe(uuid);
      expect(stored.datetime_stored).toEqual(expect.any(String));
    });

    it('replaces tags and reports a missing file as the README shows', async () => {
      const tagged = await rest.replaceFileTags({ path: { uuid }, body: { tags: ['Avatars', 'checked'] } });
      expect(tagged).toEqual({ tags: ['avatars', 'checked'], added: ['avatars', 'checked'], deleted: [] });
      const updated = await rest.updateFileTags({ path: { uuid }, body: { add: ['reviewed'], delete: ['checked'] } });
      expect(updated).toEqual({ tags: ['avatars', 'reviewed'], added: ['reviewed'], deleted: ['checked'] });
      expect(await rest.getFileTags({ path: { uuid } })).toEqual({ tags: ['avatars', 'reviewed'] });
      const page = await rest.listFiles({ query: { limit: '20', tag: 'avatars' } });
      expect(page.results.map((file) => file.uuid)).toEqual([uuid]);
      const failure = await rest.getFile({ path: { uuid: 'not-a-uuid' } }).catch((error: unknown) => error);
      expect(failure).toBeInstanceOf(TroveApiError);
      if (!(failure instanceof TroveApiError)) return;
      expect([failure.status, failure.body]).toEqual([404, { detail: 'Not found.' }]);
    });

    it('throws TroveApiError with the REST error body on a refused request', async () => {
      const failure = await rest.listFiles({ query: { limit: '0' } }).catch((error: unknown) => error);
      expect(failure).toBeInstanceOf(TroveApiError);
      if (!(failure instanceof TroveApiError)) return;
      expect(failure.status).toBe(400);
      expect(failure.body).toEqual({ detail: '`limit` must be an integer from 1 to 1000.' });
    });
  });
});
