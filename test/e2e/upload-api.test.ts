/**
 * Upload API happy paths over raw HTTP (global fetch + FormData), against every backend.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { availableBackends } from '../helpers/backends.js';
import { makeJpeg, makePng } from '../helpers/images.js';
import { startTrove, type TestTrove } from '../helpers/trove-server.js';
import {
  buildForm,
  expectUploadError,
  fileInfo,
  fromUrlStatus,
  fromUrlToken,
  multipartComplete,
  postBase,
  putPart,
  sha256Hex,
  startFromUrl,
  startOrigin,
  startedMultipart,
  uploadFile,
  updateDefaultProject,
  uploadSignature,
  UUID_RE,
  waitForFromUrl,
  type FileInfoBody,
  type OriginServer,
} from '../helpers/upload-http.js';

const backends = await availableBackends();
const MiB = 1024 * 1024;

/** Every file below `dir`, as paths relative to it. */
async function listTree(dir: string, prefix = ''): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const relative = path.join(prefix, entry.name);
    if (entry.isDirectory()) out.push(...(await listTree(path.join(dir, entry.name), relative)));
    else out.push(relative);
  }
  return out;
}

/** Every key in the scale backend's bucket. */
async function listBucket(trove: TestTrove): Promise<string[]> {
  const storage = trove.ctx.config.storage;
  if (storage.kind !== 's3') throw new Error('not an S3 backend');
  const client = new S3Client({
    endpoint: storage.endpoint,
    region: storage.region,
    forcePathStyle: storage.forcePathStyle,
    credentials: storage.credentials,
  });
  try {
    const listed = await client.send(new ListObjectsV2Command({ Bucket: storage.bucket }));
    return (listed.Contents ?? []).map((o) => o.Key ?? '');
  } finally {
    client.destroy();
  }
}

describe.each(backends)('Upload API (%s)', (backend) => {
  let trove: TestTrove;
  let png: Buffer;

  beforeAll(async () => {
    trove = await startTrove({ backend });
    png = await makePng(40, 30);
  });
  afterAll(async () => {
    await trove?.close();
  });

  describe('POST /base/', () => {
    it('stores one file and describes it from its bytes, not from what the client declared', async () => {
      const response = await postBase(trove, buildForm(trove, [{ bytes: png, filename: 'photo.txt', type: 'text/plain' }]));
      expect(response.status).toBe(200);
      expect(response.headers.get('content-type')).toMatch(/application\/json/);
      const body = (await response.json()) as Record<string, string>;
      expect(Object.keys(body)).toEqual(['file']);
      expect(body.file).toMatch(UUID_RE);

      const info = await fileInfo(trove, body.file!);
      expect(info.uuid).toBe(body.file);
      expect(info.file_id).toBe(body.file);
      expect(info.size).toBe(png.length);
      expect(info.sha256).toBe(sha256Hex(png));
      expect(info.mime_type).toBe('image/png');
      expect(info.is_image).toBe(true);
      expect(info.image_info).toMatchObject({ width: 40, height: 30, format: 'PNG' });
      expect(info.content_info?.mime).toEqual({ mime: 'image/png', type: 'image', subtype: 'png' });
      expect(info.original_filename).toBe('photo.txt');
      expect(info.filename).toBe('photo.txt');
      expect(info.is_stored).toBe(true);
      expect(info.is_ready).toBe(true);
      expect(info.metadata).toEqual({});
      expect(info.tags).toEqual([]);
    });

    it('accepts several file fields in one request and answers {field: uuid}', async () => {
      const a = randomBytes(300);
      const b = Buffer.from('second file, plain text\n');
      const response = await postBase(
        trove,
        buildForm(trove, [
          { field: 'a', bytes: a, filename: 'a.bin' },
          { field: 'b', bytes: b, filename: 'b.txt', type: 'text/plain' },
        ]),
      );
      expect(response.status).toBe(200);
      const body = (await response.json()) as Record<string, string>;
      expect(Object.keys(body).sort()).toEqual(['a', 'b']);
      expect(body.a).toMatch(UUID_RE);
      expect(body.b).toMatch(UUID_RE);
      expect(body.a).not.toBe(body.b);

      const infoA = await fileInfo(trove, body.a!);
      const infoB = await fileInfo(trove, body.b!);
      expect(infoA).toMatchObject({ size: a.length, sha256: sha256Hex(a), original_filename: 'a.bin' });
      expect(infoB).toMatchObject({ size: b.length, sha256: sha256Hex(b), original_filename: 'b.txt', mime_type: 'text/plain' });
    });

    it.each([
      ['0', false],
      ['1', true],
      ['auto', true],
    ])('UPLOADCARE_STORE=%s gives is_stored %s', async (store, stored) => {
      const uuid = await uploadFile(trove, randomBytes(64), 'store.bin', { UPLOADCARE_STORE: store });
      const info = await fileInfo(trove, uuid);
      expect(info.is_stored).toBe(stored);
    });

    it('round-trips metadata[key] fields', async () => {
      const uuid = await uploadFile(trove, randomBytes(64), 'meta.bin', {
        'metadata[subsystem]': 'avatar',
        'metadata[pet]': 'cat',
      });
      const info = await fileInfo(trove, uuid);
      expect(info.metadata).toEqual({ subsystem: 'avatar', pet: 'cat' });
    });

    it('round-trips tags', async () => {
      const uuid = await uploadFile(trove, randomBytes(64), 'tags.bin', { tags: 'a,b' });
      const info = await fileInfo(trove, uuid);
      expect(info.tags).toEqual(['a', 'b']);
    });

    it('normalises tags as the REST API does, and refuses a broken one in the Upload API shape', async () => {
      const uuid = await uploadFile(trove, randomBytes(64), 'tags.bin', { tags: ' Cats ,,2026,CATS, m.n_o-p ' });
      expect((await fileInfo(trove, uuid)).tags).toEqual(['cats', '2026', 'm.n_o-p']);
      for (const [tags, message] of [
        ['ok,good boy', 'Tag "good boy" may contain only Latin letters, digits'],
        ['café', 'Tag "café" may contain only'],
        ['t'.repeat(101), 'a tag has at most 100'],
        [Array.from({ length: 51 }, (_, i) => `t${i}`).join(','), 'A file has at most 50 tags; this would leave it 51.'],
      ] as const) {
        const form = buildForm(trove, [{ bytes: randomBytes(16) }], { fields: { tags } });
        const error = await expectUploadError(await postBase(trove, form), 400, 'RequestParamRequiredError');
        expect(error.content, tags).toContain(message);
      }
    });

    it('reads GPS location and orientation from a JPEG', async () => {
      const jpeg = await makeJpeg({ width: 64, height: 48, gps: { latitude: 52.52, longitude: -13.405 }, orientation: 6 });
      const uuid = await uploadFile(trove, jpeg, 'gps.jpg', {}, { type: 'image/jpeg' });
      const info = await fileInfo(trove, uuid);
      expect(info.mime_type).toBe('image/jpeg');
      expect(info.image_info?.format).toBe('JPEG');
      expect(info.image_info?.orientation).toBe(6);
      expect(info.image_info?.geo_location).not.toBeNull();
      expect(info.image_info?.geo_location?.latitude).toBeCloseTo(52.52, 3);
      expect(info.image_info?.geo_location?.longitude).toBeCloseTo(-13.405, 3);
    });

    it('never lets a path-traversal filename escape originals/', async () => {
      const before = await trove.countOriginals();
      const bytes = Buffer.from('root:x:0:0:root:/root:/bin/bash\n');
      const uuid = await uploadFile(trove, bytes, '../../etc/passwd', {}, { type: 'text/plain' });
      const info = await fileInfo(trove, uuid);
      expect(info.original_filename).not.toMatch(/[/\\]/);
      expect(info.original_filename).not.toContain('..');
      expect(info.filename).not.toMatch(/[/\\]/);
      expect(await trove.countOriginals()).toBe(before + 1);

      if (trove.backend === 'embedded') {
        const files = await listTree(trove.dataDir);
        expect(files.filter((f) => path.basename(f) === 'passwd')).toEqual([]);
        // Bytes only ever live under blobs/originals (plus the database next to them).
        const blobs = files.filter((f) => f.startsWith(`blobs${path.sep}`));
        expect(blobs.filter((f) => !f.startsWith(path.join('blobs', 'originals') + path.sep))).toEqual([]);
        expect(blobs.some((f) => path.basename(f) === uuid)).toBe(true);
      } else {
        const keys = await listBucket(trove);
        expect(keys.filter((k) => !k.startsWith('originals/'))).toEqual([]);
        expect(keys.filter((k) => k.includes('passwd') || k.includes('..'))).toEqual([]);
        expect(keys.some((k) => k.endsWith(`/${uuid}`))).toBe(true);
      }
    });
  });

  describe('multipart', () => {
    it('accepts parts out of order and in parallel and assembles the exact bytes', async () => {
      const size = 11 * MiB;
      const partSize = 5 * MiB;
      const bytes = randomBytes(size);
      const started = await startedMultipart(trove, {
        filename: 'big.bin',
        size: String(size),
        content_type: 'application/octet-stream',
        part_size: String(partSize),
      });
      expect(started.uuid).toMatch(UUID_RE);
      expect(started.parts).toHaveLength(3);
      for (const url of started.parts) {
        expect(url.startsWith(`${trove.uploadUrl}/`)).toBe(true);
        expect(new URL(url).protocol).toBe('http:');
      }

      const responses = await Promise.all(
        [2, 0, 1].map((index) =>
          putPart(started.parts[index]!, bytes.subarray(index * partSize, Math.min(size, (index + 1) * partSize))),
        ),
      );
      for (const response of responses) {
        expect(response.status, await response.text()).toBe(200);
      }

      const completed = await multipartComplete(trove, started.uuid);
      const text = await completed.text();
      expect(completed.status, text).toBe(200);
      const info = JSON.parse(text) as FileInfoBody;
      expect(info.uuid).toBe(started.uuid);
      expect(info.size).toBe(size);
      expect(info.sha256).toBe(sha256Hex(bytes));
      expect(info.original_filename).toBe('big.bin');
      expect(info.is_ready).toBe(true);

      const delivered = await fetch(`${trove.url}/${started.uuid}/`);
      expect(delivered.status).toBe(200);
      const received = Buffer.from(await delivered.arrayBuffer());
      expect(received.length).toBe(size);
      expect(received.equals(bytes)).toBe(true);
    });
  });

  describe('from_url', () => {
    let origin: OriginServer;
    beforeAll(async () => {
      origin = await startOrigin((request, response) => {
        if (request.url?.startsWith('/pic.png')) {
          response.writeHead(200, { 'content-type': 'image/png', 'content-length': png.length });
          response.end(png);
          return;
        }
        response.writeHead(404).end('not here');
      });
    });
    afterAll(async () => {
      await origin?.close();
    });

    it('downloads in the background and reports the file by token; duplicates are recognised', async () => {
      const sourceUrl = `${origin.url}/pic.png?v=${randomUUID()}`;
      const token = await fromUrlToken(trove, { source_url: sourceUrl, store: '1', save_URL_duplicates: '1' });

      const status = await waitForFromUrl(trove, token, 10_000);
      expect(status.status, JSON.stringify(status)).toBe('success');
      expect(status.uuid).toMatch(UUID_RE);
      expect(status.is_image).toBe(true);
      expect(status.size).toBe(png.length);
      expect(status.is_stored).toBe(true);
      expect(status.original_filename).toBe('pic.png');

      const info = await fileInfo(trove, status.uuid!);
      expect(info.sha256).toBe(sha256Hex(png));
      expect(info.mime_type).toBe('image/png');

      const again = await startFromUrl(trove, {
        source_url: sourceUrl,
        store: '1',
        check_URL_duplicates: '1',
        save_URL_duplicates: '1',
      });
      const againText = await again.text();
      expect(again.status, againText).toBe(200);
      const duplicate = JSON.parse(againText) as { type: string; uuid: string };
      expect(duplicate.type).toBe('file_info');
      expect(duplicate.uuid).toBe(status.uuid);
    });

    it('answers status "unknown" for a token it never issued', async () => {
      expect(await fromUrlStatus(trove, randomUUID())).toEqual({ status: 'unknown' });
    });
  });

  describe('groups', () => {
    it('creates a group with per-file effects and describes it again by id', async () => {
      const first = await uploadFile(trove, randomBytes(50), 'one.bin');
      const second = await uploadFile(trove, png, 'two.png', {}, { type: 'image/png' });
      const form = new FormData();
      form.append('pub_key', trove.publicKey);
      form.append('files[]', first);
      form.append('files[]', `${second}/-/resize/100x/`);
      const response = await fetch(`${trove.uploadUrl}/group/`, { method: 'POST', body: form });
      const text = await response.text();
      expect(response.status, text).toBe(200);
      const group = JSON.parse(text) as {
        id: string;
        files_count: number;
        cdn_url: string;
        files: Array<{ uuid: string; default_effects: string } | null>;
      };
      expect(group.id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}~2$/);
      expect(group.files_count).toBe(2);
      expect(group.files).toHaveLength(2);
      expect(group.files[0]?.uuid).toBe(first);
      expect(group.files[0]?.default_effects).toBe('');
      expect(group.files[1]?.uuid).toBe(second);
      expect(group.files[1]?.default_effects).toBe('-/resize/100x/');
      expect(group.cdn_url.endsWith(`/${group.id}/`)).toBe(true);

      const query = new URLSearchParams({ pub_key: trove.publicKey, group_id: group.id });
      const info = await fetch(`${trove.uploadUrl}/group/info/?${query}`);
      const infoText = await info.text();
      expect(info.status, infoText).toBe(200);
      expect(JSON.parse(infoText)).toEqual(group);
    });
  });

  describe('signed uploads', () => {
    it('accepts a correct signature when the project requires one', async () => {
      await updateDefaultProject(trove, { signedUploads: true });
      try {
        // Signing is really enforced now…
        const unsigned = await postBase(trove, buildForm(trove, [{ bytes: randomBytes(32) }]));
        expect(unsigned.status, await unsigned.text()).toBe(403);

        // …and a correct signature passes.
        const expire = String(Math.floor(trove.clock.now().getTime() / 1000) + 600);
        const uuid = await uploadFile(trove, randomBytes(32), 'signed.bin', {
          signature: uploadSignature(trove.secretKey, expire),
          expire,
        });
        const info = await fileInfo(trove, uuid);
        expect(info.size).toBe(32);
      } finally {
        await updateDefaultProject(trove, { signedUploads: false });
      }
    });

    it('accepts a correct signature sent after the file when the key came before it', async () => {
      await updateDefaultProject(trove, { signedUploads: true });
      try {
        const expire = String(Math.floor(trove.clock.now().getTime() / 1000) + 600);
        const bytes = randomBytes(48);
        const form = new FormData();
        // Field order is the client's choice: key, then the file, then signature and expire.
        form.append('UPLOADCARE_PUB_KEY', trove.publicKey);
        form.append('file', new Blob([new Uint8Array(bytes)]), 'late-signature.bin');
        form.append('signature', uploadSignature(trove.secretKey, expire));
        form.append('expire', expire);
        const response = await postBase(trove, form);
        const text = await response.text();
        expect(response.status, text).toBe(200);
        const { file } = JSON.parse(text) as { file: string };
        expect((await fileInfo(trove, file)).sha256).toBe(sha256Hex(bytes));
      } finally {
        await updateDefaultProject(trove, { signedUploads: false });
      }
    });
  });

  describe('system endpoints', () => {
    it('/health answers 200', async () => {
      const response = await fetch(`${trove.url}/health`);
      expect(response.status).toBe(200);
      expect(await response.json()).toEqual({ status: 'ok' });
    });

    it('/ready reports database and storage ok', async () => {
      const response = await fetch(`${trove.url}/ready`);
      expect(response.status).toBe(200);
      const body = (await response.json()) as { checks: Record<string, { ok: boolean }> };
      expect(body.checks.database?.ok).toBe(true);
      expect(body.checks.storage?.ok).toBe(true);
    });

    it('/metrics exposes the upload counter', async () => {
      await uploadFile(trove, randomBytes(16), 'metric.bin');
      const response = await fetch(`${trove.url}/metrics`);
      expect(response.status).toBe(200);
      const text = await response.text();
      expect(text).toContain('trove_uploads_total');
      expect(text).toMatch(/trove_uploads_total\{[^}]*method="base"[^}]*\} [1-9]/);
    });

    it('/openapi.json documents the Upload API and /docs serves HTML', async () => {
      const response = await fetch(`${trove.url}/openapi.json`);
      expect(response.status).toBe(200);
      const spec = (await response.json()) as { paths: Record<string, unknown> };
      expect(spec.paths['/upload/base/']).toBeDefined();

      const docs = await fetch(`${trove.url}/docs`, { redirect: 'follow' });
      expect(docs.status).toBe(200);
      expect(docs.headers.get('content-type')).toMatch(/text\/html/);
      expect(await docs.text()).toMatch(/<html/i);
    });
  });
});
