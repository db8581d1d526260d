import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTrove, type TestTrove } from '../helpers/trove-server.js';
import { sleep, uploadFile } from '../helpers/upload-http.js';
import { testClip } from '../helpers/video-clips.js';

interface Started {
  token: number;
  uuid: string;
  thumbnails_group_uuid: string;
}
interface Listed extends Started {
  status: string;
  error: string | null;
  progress: number;
  source: string;
  path: string;
  store: boolean;
  datetime_created: string;
  datetime_updated: string;
}
interface Page {
  next: string | null;
  previous: null;
  total: number;
  per_page: number;
  results: Listed[];
}

type Caller = Pick<TestTrove, 'url' | 'publicKey' | 'secretKey'>;

function rest(caller: Caller, target: string, init: RequestInit = {}): Promise<Response> {
  return fetch(target.startsWith('http') ? target : `${caller.url}${target}`, {
    ...init,
    headers: {
      Accept: 'application/vnd.uploadcare-v0.7+json',
      'Content-Type': 'application/json',
      Authorization: `Uploadcare.Simple ${caller.publicKey}:${caller.secretKey}`,
    },
  });
}

async function list(caller: Caller, target: string): Promise<Page> {
  const response = await rest(caller, target);
  const text = await response.text();
  expect(response.status, text).toBe(200);
  expect(response.headers.get('content-type')).toBe('application/json');
  return JSON.parse(text) as Page;
}

async function convert(caller: Caller, spec: string): Promise<Started> {
  const response = await rest(caller, '/convert/video/', { method: 'POST', body: JSON.stringify({ paths: [spec], store: '1' }) });
  const body = (await response.json()) as { problems: Record<string, string>; result: Started[] };
  expect(body.problems).toEqual({});
  return body.result[0]!;
}

/** Every page from `first` on, following `next`. */
async function walk(caller: Caller, first: string): Promise<Page[]> {
  const pages = [await list(caller, first)];
  while (pages.at(-1)!.next !== null) {
    expect(pages.length).toBeLessThan(20);
    pages.push(await list(caller, pages.at(-1)!.next!));
  }
  return pages;
}

let clips: string;
let trove: TestTrove;
let other: Caller;
let source: string;
let otherSource: string;
let first: Started;
let second: Started;
let third: Started;

beforeAll(async () => {
  clips = await mkdtemp(path.join(tmpdir(), 'trove-convert-list-'));
  const clip = await testClip(clips, 'clip.mp4', { seconds: 1 });
  trove = await startTrove();
  const created = await trove.ctx.services.projects.create({ name: 'someone else' });
  other = { url: trove.url, publicKey: created.project.publicKey, secretKey: created.secrets[0]!.secret };
  source = await uploadFile(trove, clip, 'clip.mp4');
  otherSource = await uploadFile(trove, clip, 'other.mp4');
  first = await convert(trove, `${source}/video/-/size/64x/-/quality/lightest/`);
  // Apart in time, so creation order alone says which is newer.
  await sleep(20);
  second = await convert(trove, `${source}/video/-/format/webm/-/size/32x32/scale_crop/-/quality/lightest/-/cut/0:0:0.2/0.5/-/thumbs~2/`);
  await sleep(20);
  third = await convert(trove, `${otherSource}/video/-/size/x40/-/quality/lightest/`);
}, 90_000);

afterAll(async () => {
  await trove?.close();
  await rm(clips, { recursive: true, force: true });
});

describe('GET /convert/video/ over HTTP', () => {
  it("lists a source's conversions newest first, with their path, results and status, until they finish", async () => {
    const page = await list(trove, `/convert/video/?source=${source}`);
    expect(page).toMatchObject({ next: null, previous: null, total: 2, per_page: 100 });
    expect(page.results.map((c) => c.token)).toEqual([second.token, first.token]);
    expect(page.results[0]).toEqual({
      token: second.token,
      status: expect.stringMatching(/^(pending|processing|finished)$/),
      error: null,
      progress: expect.any(Number),
      source,
      path: `${source}/video/-/format/webm/-/size/32x32/scale_crop/-/quality/lightest/-/cut/0:00:00.200/0:00:00.500/-/thumbs~2/`,
      store: true,
      uuid: second.uuid,
      thumbnails_group_uuid: second.thumbnails_group_uuid,
      datetime_created: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/),
      datetime_updated: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
    });
    expect(page.results[1]).toMatchObject({ path: `${source}/video/-/format/mp4/-/size/64x/-/quality/lightest/-/thumbs~1/`, uuid: first.uuid });
    expect(page.results[0]!.datetime_created > page.results[1]!.datetime_created).toBe(true);

    // The listing follows the conversions to their end, as the status route does.
    const deadline = Date.now() + 60_000;
    let now = page;
    while (!now.results.every((c) => c.status === 'finished')) {
      expect(now.results.map((c) => c.status).filter((s) => s === 'failed' || s === 'cancelled')).toEqual([]);
      expect(Date.now()).toBeLessThan(deadline);
      await sleep(200);
      now = await list(trove, `/convert/video/?source=${source}`);
    }
    for (const conversion of now.results) {
      expect(conversion).toMatchObject({ status: 'finished', progress: 100, error: null });
      expect(conversion.datetime_updated >= conversion.datetime_created).toBe(true);
      const status = (await (await rest(trove, `/convert/video/status/${conversion.token}/`)).json()) as { status: string; result: object };
      expect(status).toMatchObject({ status: 'finished', result: { uuid: conversion.uuid, thumbnails_group_uuid: conversion.thumbnails_group_uuid } });
      expect((await rest(trove, `/files/${conversion.uuid}/`)).status).toBe(200);
    }
    // A source in upper case names the same file.
    expect((await list(trove, `/convert/video/?source=${source.toUpperCase()}`)).results.map((c) => c.token)).toEqual([second.token, first.token]);
    // The other file's conversion is its own.
    expect((await list(trove, `/convert/video/?source=${otherSource}`)).results.map((c) => c.token)).toEqual([third.token]);
    // A file never converted, or none at all by that uuid: an empty list.
    expect(await list(trove, '/convert/video/?source=00000000-0000-4000-8000-000000000000')).toEqual({ next: null, previous: null, total: 0, per_page: 100, results: [] });
  }, 90_000);

  it('without `source` lists every conversion of the project, and pages through them by the cursor in `next`', async () => {
    const all = await list(trove, '/convert/video/');
    expect(all.total).toBe(3);
    expect(all.results.map((c) => c.token)).toEqual([third.token, second.token, first.token]);

    const pages = await walk(trove, '/convert/video/?limit=1');
    expect(pages.map((p) => p.results.map((c) => c.token))).toEqual([[third.token], [second.token], [first.token]]);
    for (const page of pages) expect(page).toMatchObject({ total: 3, per_page: 1, previous: null });
    const next = new URL(pages[0]!.next!);
    expect(`${next.origin}${next.pathname}`).toBe(`${trove.url}/convert/video/`);
    expect(next.searchParams.get('limit')).toBe('1');
    expect(next.searchParams.get('from')).toBe(`${all.results[0]!.datetime_created}~${third.token}`);

    // The source travels in `next` too.
    const ofSource = await walk(trove, `/convert/video/?source=${source.toUpperCase()}&limit=001`);
    expect(ofSource.map((p) => p.results.map((c) => c.token))).toEqual([[second.token], [first.token]]);
    expect(new URL(ofSource[0]!.next!).searchParams.get('source')).toBe(source);
    expect(ofSource.map((p) => p.total)).toEqual([2, 2]);

    // Two per page: the last page is short and has no `next`.
    const twos = await walk(trove, '/convert/video/?limit=2');
    expect(twos.map((p) => p.results.length)).toEqual([2, 1]);

    // `from` as a date: conversions created then or earlier.
    const since = all.results[1]!.datetime_created;
    expect((await list(trove, `/convert/video/?from=${since}`)).results.map((c) => c.token)).toEqual([second.token, first.token]);
    expect((await list(trove, '/convert/video/?from=2001-01-01')).results).toEqual([]);
    expect((await list(trove, '/convert/video/?from=2999-01-01T00:00:00Z')).results).toHaveLength(3);
    expect((await list(trove, '/convert/video/?limit=1000')).per_page).toBe(1000);
  });

  it("keeps projects apart: another project's source lists as empty, and a cursor shows only the caller's own", async () => {
    const theirs = await list(other, `/convert/video/?source=${source}`);
    expect(theirs).toEqual({ next: null, previous: null, total: 0, per_page: 100, results: [] });
    expect(await list(other, '/convert/video/')).toMatchObject({ total: 0, results: [] });

    // Their own conversion of their own copy is the only one they see, wherever they start.
    const copy = await uploadFile(trove, await testClip(clips, 'copy.mp4', { seconds: 1 }), 'copy.mp4', {}, { publicKey: other.publicKey });
    const own = await convert(other, `${copy}/video/-/size/64x/-/quality/lightest/`);
    const theirAll = await list(other, '/convert/video/');
    expect(theirAll.results.map((c) => c.token)).toEqual([own.token]);
    expect(theirAll.total).toBe(1);
    const mine = await list(trove, '/convert/video/?limit=1');
    const borrowed = new URL(mine.next!);
    expect((await list(other, `/convert/video/${borrowed.search}`)).results).toEqual([]);
    expect((await list(other, `/convert/video/?source=${copy}`)).results.map((c) => c.token)).toEqual([own.token]);
    expect((await list(trove, `/convert/video/?source=${copy}`)).results).toEqual([]);
    expect((await list(trove, '/convert/video/')).total).toBe(3);
  });

  it.each([
    ['source=not-a-uuid', /`source` must be the uuid of a file/],
    [`source=${'0'.repeat(36)}`, /`source` must be the uuid of a file/],
    ['source=00000000-0000-4000-8000-000000000000x', /`source` must be the uuid of a file/],
    ['limit=0', /`limit` must be an integer from 1 to 1000/],
    ['limit=1001', /`limit` must be an integer from 1 to 1000/],
    ['limit=ten', /`limit` must be an integer from 1 to 1000/],
    ['limit=-5', /`limit` must be an integer from 1 to 1000/],
    ['from=yesterday', /`from` must be an ISO 8601 date-time/],
    ['from=2024-13-45', /`from` must be an ISO 8601 date-time/],
    ['from=2024-01-01T00:00:00.000Z~abc', /`from` must be an ISO 8601 date-time/],
    ['from=2024-01-01T00:00:00.000Z~0', /`from` must be an ISO 8601 date-time/],
    ['source=%00', /NUL character/],
  ])('refuses ?%s with a 400 naming the parameter', async (query, why) => {
    const response = await rest(trove, `/convert/video/?${query}`);
    expect(response.status).toBe(400);
    expect(response.headers.get('content-type')).toBe('application/json');
    expect(((await response.json()) as { detail: string }).detail).toMatch(why);
  });

  it('asks for credentials like every REST route', async () => {
    const anonymous = await fetch(`${trove.url}/convert/video/?source=${source}`, { headers: { Accept: 'application/vnd.uploadcare-v0.7+json' } });
    expect(anonymous.status).toBe(401);
    const wrong = await rest({ ...trove, secretKey: 'sk_wrong' }, '/convert/video/?source=not-a-uuid');
    expect(wrong.status).toBe(401);
  });
});
