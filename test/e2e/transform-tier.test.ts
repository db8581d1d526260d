/**
 * The separate transform tier on shared PostgreSQL + S3: one node with the api, upload, delivery and
 * worker roles sends its misses to two transform-only nodes (TROVE_TRANSFORM_NODES). Skipped, with a
 * message, without PostgreSQL (a failure under TROVE_TEST_REQUIRE_SCALE=1).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load-config.js';
import { derivativeBlobKey } from '../../src/domain/blob-layout.js';
import { planHash } from '../../src/domain/transform/cache-key.js';
import { parseUploadcarePath } from '../../src/domain/transform/uploadcare-parser.js';
import { RendezvousHash } from '../../src/lib/rendezvous-hash.js';
import { postgresUnavailableReason, REQUIRE_SCALE } from '../helpers/backends.js';
import { makeJpeg } from '../helpers/images.js';
import { createSharedScaleBackend, startTransformNode, startTrove, type SharedScaleBackend, type TestTransformNode, type TestTrove } from '../helpers/trove-server.js';
import { uploadFile } from '../helpers/upload-http.js';

const SECRET = 'transform-tier-test-secret-0123456789abcdef';
/** Both tiers and the embedded comparison share this limit, so an over-limit source is refused alike. */
const LIMITS_ENV = { TROVE_MAX_SOURCE_PIXELS: '50000' };
const PARSE_LIMITS = loadConfig({}).transform;

const unavailable = await postgresUnavailableReason();
if (unavailable && !REQUIRE_SCALE) console.warn(`[trove tests] skipping the transform tier suite: ${unavailable}`);

let shared: SharedScaleBackend;
let front: TestTrove;
let embedded: TestTrove;
let nodes: TestTransformNode[] = [];
let small: Buffer;
let uuid: string;
let embeddedUuid: string;

async function transformations(node: TestTransformNode): Promise<number> {
  return node.metric('trove_transform_duration_seconds_count');
}

async function counts(): Promise<number[]> {
  return Promise.all(nodes.map(transformations));
}

/** Which node's counter moved between two readings (asserting exactly one transformation happened). */
function movedOne(before: number[], after: number[]): number {
  const deltas = after.map((count, i) => count - before[i]!);
  expect(deltas.reduce((a, b) => a + b, 0)).toBe(1);
  return deltas.indexOf(1);
}

/** Forgets a file's derivatives in memory and in the blob store, so the next request is a miss again. */
async function forget(trove: TestTrove, file: string): Promise<void> {
  await trove.ctx.services.transform.drain();
  await trove.ctx.services.transform.purge(file);
}

function keyOf(file: string, path: string, variant: string): string {
  return derivativeBlobKey(file, planHash(parseUploadcarePath(path, PARSE_LIMITS).plan), variant);
}

describe.skipIf(unavailable !== null && !REQUIRE_SCALE)('a separate transform tier', () => {
  beforeAll(async () => {
    shared = await createSharedScaleBackend();
    nodes = await Promise.all([0, 1].map(() => startTransformNode({ env: { ...shared.storageEnv, ...LIMITS_ENV, TROVE_INTERNAL_SECRET: SECRET } })));
    front = await startTrove({
      backend: 'scale',
      shared,
      env: {
        ...LIMITS_ENV,
        TROVE_ROLES: 'api,upload,delivery,worker',
        TROVE_TRANSFORM_NODES: nodes.map((node) => node.url).join(','),
        TROVE_INTERNAL_SECRET: SECRET,
      },
    });
    embedded = await startTrove({ env: LIMITS_ENV });
    small = await makeJpeg({ width: 200, height: 150, noise: true });
    uuid = await uploadFile(front, small, 'small.jpg', { UPLOADCARE_STORE: '1' }, { type: 'image/jpeg' });
    embeddedUuid = await uploadFile(embedded, small, 'small.jpg', { UPLOADCARE_STORE: '1' }, { type: 'image/jpeg' });
  }, 120_000);

  afterAll(async () => {
    await front?.close();
    await embedded?.close();
    for (const node of nodes) await node.close();
    await shared?.close();
  }, 60_000);

  it('computes a miss on exactly one transform node, and serves hits itself', async () => {
    const before = await counts();
    const response = await fetch(`${front.url}/${uuid}/-/resize/100x/-/format/webp/`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('image/webp');
    movedOne(before, await counts());
    // A memory hit, then (memory emptied) a blob-store hit: neither reaches a transform node.
    const hits = await counts();
    expect((await fetch(`${front.url}/${uuid}/-/resize/100x/-/format/webp/`)).status).toBe(200);
    await front.ctx.services.transform.drain();
    front.ctx.services.transform.clearMemoryTier();
    expect((await fetch(`${front.url}/${uuid}/-/resize/100x/-/format/webp/`)).status).toBe(200);
    expect(await counts()).toEqual(hits);
  });

  it('sends one derivative to the same node every time: the first of its key’s rendezvous order', async () => {
    const path = '-/resize/120x/-/format/webp/';
    const expected = new RendezvousHash(nodes.map((node) => node.url)).rank(keyOf(uuid, path, 'webp'))[0];
    for (let round = 0; round < 3; round++) {
      await forget(front, uuid);
      const before = await counts();
      expect((await fetch(`${front.url}/${uuid}/${path}`)).status).toBe(200);
      expect(nodes[movedOne(before, await counts())]!.url).toBe(expected);
    }
  });

  it('spreads different derivatives over both nodes', async () => {
    const before = await counts();
    for (let width = 20; width < 52; width += 2) {
      expect((await fetch(`${front.url}/${uuid}/-/resize/${width}x/-/format/png/`)).status).toBe(200);
    }
    const deltas = (await counts()).map((count, i) => count - before[i]!);
    expect(deltas.reduce((a, b) => a + b, 0)).toBe(16);
    for (const delta of deltas) expect(delta).toBeGreaterThan(0);
  });

  it('transforms a local copy with operations on the tier too', async () => {
    const before = await counts();
    const response = await fetch(`${front.url}/files/local_copy/`, {
      method: 'POST',
      headers: {
        authorization: `Uploadcare.Simple ${front.publicKey}:${front.secretKey}`,
        accept: 'application/vnd.uploadcare-v0.7+json',
        'content-type': 'application/json',
      },
      body: JSON.stringify({ source: `${uuid}/-/resize/70x/-/format/png/`, store: 'true' }),
    });
    expect(response.status, await response.clone().text()).toBe(201);
    const copy = ((await response.json()) as { result: { uuid: string; mime_type: string } }).result;
    expect(copy.mime_type).toBe('image/png');
    movedOne(before, await counts());
  });

  it('answers byte for byte what an all-in-one process answers', async () => {
    for (const path of ['-/resize/100x/-/format/webp/', '-/scale_crop/64x64/center/-/format/jpeg/-/quality/smart/', '-/preview/80x80/-/format/auto/']) {
      const headers = { accept: 'image/avif,image/webp,*/*' };
      const [tiered, local] = await Promise.all([fetch(`${front.url}/${uuid}/${path}`, { headers }), fetch(`${embedded.url}/${embeddedUuid}/${path}`, { headers })]);
      expect(tiered.status, path).toBe(200);
      expect(local.status, path).toBe(200);
      expect(tiered.headers.get('content-type'), path).toBe(local.headers.get('content-type'));
      expect(Buffer.from(await tiered.arrayBuffer()).equals(Buffer.from(await local.arrayBuffer())), path).toBe(true);
    }
  });

  it('answers an engine refusal with the status, code and message of an all-in-one process', async () => {
    const large = await makeJpeg({ width: 300, height: 200 });
    const tieredUuid = await uploadFile(front, large, 'large.jpg', { UPLOADCARE_STORE: '1' }, { type: 'image/jpeg' });
    const localUuid = await uploadFile(embedded, large, 'large.jpg', { UPLOADCARE_STORE: '1' }, { type: 'image/jpeg' });
    const before = await counts();
    const tiered = await fetch(`${front.url}/${tieredUuid}/-/resize/50x/`);
    const local = await fetch(`${embedded.url}/${localUuid}/-/resize/50x/`);
    expect(tiered.status).toBe(422);
    expect(local.status).toBe(422);
    const a = (await tiered.json()) as { code: string; message: string };
    const b = (await local.json()) as { code: string; message: string };
    expect(a.code).toBe('SOURCE_TOO_LARGE');
    expect({ code: a.code, message: a.message }).toEqual({ code: b.code, message: b.message });
    expect(await counts()).toEqual(before);
    // A refusal of the job is not the node failing: nothing was marked down or retried elsewhere.
    const text = await front.ctx.metrics.render();
    expect(text).toMatch(/trove_transform_node_requests_total\{node="[^"]+",outcome="refused"\} 1\n/);
    expect(text).not.toContain('outcome="failed"');
  });

  it('lets the other node take over when a transform node is down, and answers 503 when both are', async () => {
    const ring = new RendezvousHash(nodes.map((node) => node.url));
    // A derivative whose first choice is node 0.
    let path = '';
    for (let width = 60; width < 200 && !path; width++) {
      const candidate = `-/resize/${width}x/-/format/jpeg/`;
      if (ring.rank(keyOf(uuid, candidate, 'jpeg'))[0] === nodes[0]!.url) path = candidate;
    }
    expect(path).not.toBe('');
    await nodes[0]!.stop();
    const before = await transformations(nodes[1]!);
    const response = await fetch(`${front.url}/${uuid}/${path}`);
    expect(response.status).toBe(200);
    expect(await transformations(nodes[1]!)).toBe(before + 1);
    const text = await front.ctx.metrics.render();
    expect(text).toContain(`trove_transform_node_requests_total{node="${nodes[0]!.url}",outcome="failed"} 1`);

    await nodes[1]!.stop();
    const refused = await fetch(`${front.url}/${uuid}/-/resize/33x/-/format/jpeg/`);
    expect(refused.status).toBe(503);
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(0);
    const body = (await refused.json()) as { code: string; message: string };
    expect(body.code).toBe('TRANSFORM_NODES_UNAVAILABLE');
    expect(body.message).toMatch(/No transform node could take the transformation \(2 tried\); retry shortly/);
    // Hits do not need the tier.
    expect((await fetch(`${front.url}/${uuid}/-/resize/100x/-/format/webp/`)).status).toBe(200);
  });
});
