import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import type { MoveProgress } from '../../src/services/project-move.service.js';
import { availableBackends } from '../helpers/backends.js';
import { makePng } from '../helpers/images.js';
import { startTrove, type TestTrove } from '../helpers/trove-server.js';
import { buildForm, postBase } from '../helpers/upload-http.js';

const REST_ACCEPT = 'application/vnd.uploadcare-v0.7+json';
const backends = await availableBackends();

/** The project's live files as one shard holds them (what a move must leave behind on the old one: none). */
async function rowsOn(trove: TestTrove, shard: string, projectId: string): Promise<number> {
  const query = { stored: null, removed: false, order: 'asc', after: null, limit: 10_000 } as const;
  const outcome = (await trove.ctx.shards.fanOut(async (scan) => (scan.shardName === shard ? (await scan.files.list(projectId, query)).length : 0))).find((o) => o.shard === shard);
  if (!outcome?.ok) throw new Error(`shard ${shard} did not answer`);
  return outcome.value;
}

async function listUuids(trove: TestTrove): Promise<string[]> {
  const uuids: string[] = [];
  let url: string | null = `${trove.url}/files/?limit=1000&ordering=datetime_uploaded`;
  while (url) {
    const response: Response = await fetch(url, { headers: { accept: REST_ACCEPT, authorization: `Uploadcare.Simple ${trove.publicKey}:${trove.secretKey}` } });
    expect(response.status).toBe(200);
    const page = (await response.json()) as { next: string | null; results: Array<{ uuid: string }> };
    uuids.push(...page.results.map((file) => file.uuid));
    url = page.next;
  }
  return uuids;
}

/**
 * Uploads one file the way a well-behaved client does: a 503 with Retry-After is waited out and
 * tried again. Anything else is a failure of the move.
 */
async function uploadRetrying(trove: TestTrove, bytes: Uint8Array, name: string, seen: { paused: number; failures: string[] }): Promise<string | null> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const response = await postBase(trove, buildForm(trove, [{ bytes, filename: name, type: 'image/png' }], { fields: { UPLOADCARE_STORE: '1' } }));
    const text = await response.text();
    if (response.status === 200) return (JSON.parse(text) as { file: string }).file;
    if (response.status === 503 && response.headers.get('retry-after')) {
      seen.paused += 1;
      await sleep(Math.min(Number(response.headers.get('retry-after')) * 1000, 300));
      continue;
    }
    seen.failures.push(`${response.status} ${text.slice(0, 200)}`);
    return null;
  }
  seen.failures.push(`${name}: still refused after 50 attempts`);
  return null;
}

describe.each(backends)('moving a project between shards (%s)', (backend) => {
  let trove: TestTrove;
  afterEach(async () => {
    await trove?.close();
  });

  it('moves a project under live uploads and deliveries, and nothing is lost', async () => {
    trove = await startTrove({ backend, env: { TROVE_SHARD_CACHE_TTL: '300ms' } });
    const project = (await trove.ctx.metadata.projects.findByPublicKey(trove.publicKey))!;
    expect(project.shard).toBe('b');
    const seen = { paused: 0, failures: [] as string[] };
    const uploaded: string[] = [];
    for (let i = 0; i < 30; i++) {
      const uuid = await uploadRetrying(trove, await makePng(4 + (i % 5), 4), `before-${i}.png`, seen);
      if (uuid) uploaded.push(uuid);
    }

    let moving = true;
    const deliveryFailures: string[] = [];
    let deliveries = 0;
    const uploader = (async () => {
      for (let i = 0; moving; i++) {
        const uuid = await uploadRetrying(trove, await makePng(6, 3 + (i % 7)), `during-${i}.png`, seen);
        if (uuid) uploaded.push(uuid);
      }
    })();
    const deliverer = (async () => {
      while (moving) {
        const uuid = uploaded[Math.floor(Math.random() * uploaded.length)]!;
        const response = await fetch(`${trove.url}/${uuid}/`);
        await response.arrayBuffer();
        deliveries += 1;
        if (response.status !== 200) deliveryFailures.push(`${uuid}: ${response.status}`);
      }
    })();

    const phases: string[] = [];
    await sleep(200);
    const move = await trove.ctx.services.moves.move(trove.publicKey, 'main', {
      onProgress: (progress: MoveProgress) => {
        if (progress.step === 'phase') phases.push(progress.phase);
      },
    });
    await sleep(300);
    moving = false;
    await Promise.all([uploader, deliverer]);

    expect(move).toMatchObject({ from: 'b', to: 'main', phase: 'done' });
    expect(phases).toEqual(['copying', 'paused', 'paused-writes', 'verified', 'switched', 'waiting', 'cleaning', 'done']);
    expect(seen.failures).toEqual([]);
    expect(deliveryFailures).toEqual([]);
    expect(deliveries).toBeGreaterThan(10);
    expect(uploaded.length).toBeGreaterThan(30);
    expect((await trove.ctx.metadata.projects.findById(project.id))!.shard).toBe('main');
    // Every upload that was answered 200, before, during and after the move, is listed and delivered.
    const listed = await listUuids(trove);
    expect(listed.sort()).toEqual([...uploaded].sort());
    for (const uuid of uploaded) expect((await fetch(`${trove.url}/${uuid}/`)).status, uuid).toBe(200);
    // The old shard keeps nothing of the project.
    expect(await rowsOn(trove, 'b', project.id)).toBe(0);
    expect(await rowsOn(trove, 'main', project.id)).toBe(uploaded.length);
    // And it keeps working on its new shard.
    expect(await uploadRetrying(trove, await makePng(9, 9), 'after.png', seen)).toMatch(/^[0-9a-f-]{36}$/);
    expect(seen.failures).toEqual([]);
  });

  it('resumes a move interrupted while copying, and one interrupted with writes paused', async () => {
    trove = await startTrove({ backend, env: { TROVE_SHARD_CACHE_TTL: '200ms' } });
    const project = (await trove.ctx.metadata.projects.findByPublicKey(trove.publicKey))!;
    const seen = { paused: 0, failures: [] as string[] };
    const uploaded: string[] = [];
    for (let i = 0; i < 12; i++) uploaded.push((await uploadRetrying(trove, await makePng(5, 5 + i), `f-${i}.png`, seen))!);

    // Killed while copying: the project stays on its shard and keeps taking uploads.
    const killCopy = new AbortController();
    await expect(
      trove.ctx.services.moves.move(trove.publicKey, 'main', {
        signal: killCopy.signal,
        onProgress: (progress) => {
          if (progress.step === 'copying' && progress.table === 'files') killCopy.abort(new Error('killed while copying'));
        },
      }),
    ).rejects.toThrow('killed while copying');
    expect(await trove.ctx.services.moves.status(trove.publicKey)).toMatchObject({ phase: 'copying', to: 'main' });
    uploaded.push((await uploadRetrying(trove, await makePng(7, 7), 'between.png', seen))!);

    // Killed with the writes paused: uploads are told to come back (503 with Retry-After), not refused.
    const killPaused = new AbortController();
    await expect(
      trove.ctx.services.moves.move(trove.publicKey, 'main', {
        signal: killPaused.signal,
        onProgress: (progress) => {
          if (progress.step === 'phase' && progress.phase === 'paused-writes') killPaused.abort(new Error('killed with writes paused'));
        },
      }),
    ).rejects.toThrow('killed with writes paused');
    expect(await trove.ctx.services.moves.status(trove.publicKey)).toMatchObject({ phase: 'paused' });
    const refused = await postBase(trove, buildForm(trove, [{ bytes: await makePng(3, 3), filename: 'paused.png', type: 'image/png' }], {}));
    expect(refused.status).toBe(503);
    expect(refused.headers.get('retry-after')).toBe('2');
    expect(await refused.json()).toMatchObject({ error: { error_code: 'PROJECT_MOVING', status_code: 503 } });

    // A second run finishes it; nothing is lost and the uuids are the same.
    const done = await trove.ctx.services.moves.move(trove.publicKey, 'main');
    expect(done.phase).toBe('done');
    expect((await listUuids(trove)).sort()).toEqual([...uploaded].sort());
    expect(await rowsOn(trove, 'b', project.id)).toBe(0);
    expect(seen.failures).toEqual([]);
  });

  it('rolls back a move that has not switched, and refuses one that makes no sense', async () => {
    trove = await startTrove({ backend, env: { TROVE_SHARD_CACHE_TTL: '200ms' } });
    const project = (await trove.ctx.metadata.projects.findByPublicKey(trove.publicKey))!;
    const seen = { paused: 0, failures: [] as string[] };
    const uploaded = [(await uploadRetrying(trove, await makePng(5, 5), 'a.png', seen))!, (await uploadRetrying(trove, await makePng(6, 5), 'b.png', seen))!];
    await expect(trove.ctx.services.moves.move(trove.publicKey, 'b')).rejects.toMatchObject({ code: 'MOVE_REFUSED' });
    await expect(trove.ctx.services.moves.move(trove.publicKey, 'nowhere')).rejects.toMatchObject({ code: 'SHARD_NOT_FOUND' });
    await expect(trove.ctx.services.moves.rollback(trove.publicKey)).rejects.toMatchObject({ code: 'MOVE_REFUSED' });

    const kill = new AbortController();
    await expect(
      trove.ctx.services.moves.move(trove.publicKey, 'main', {
        signal: kill.signal,
        onProgress: (progress) => {
          if (progress.step === 'phase' && progress.phase === 'paused-writes') kill.abort(new Error('killed'));
        },
      }),
    ).rejects.toThrow('killed');
    // Another destination while this move is unfinished is refused.
    await expect(trove.ctx.services.moves.move(trove.publicKey, 'elsewhere')).rejects.toMatchObject({ code: 'MOVE_REFUSED' });
    const rolledBack = await trove.ctx.services.moves.rollback(trove.publicKey);
    expect(rolledBack.phase).toBe('rolled_back');
    expect((await trove.ctx.metadata.projects.findById(project.id))!.shard).toBe('b');
    expect(await rowsOn(trove, 'main', project.id)).toBe(0);
    // Writes work again on the shard it never left.
    uploaded.push((await uploadRetrying(trove, await makePng(8, 5), 'c.png', seen))!);
    expect((await listUuids(trove)).sort()).toEqual([...uploaded].sort());
    expect(seen.failures).toEqual([]);
  });
});
