import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { availableBackends } from '../helpers/backends.js';
import { makePhoto } from '../helpers/images.js';
import { startTrove, type TestTrove } from '../helpers/trove-server.js';
import { sleep, uploadFile } from '../helpers/upload-http.js';

const backends = await availableBackends();

interface Keys {
  publicKey: string;
  secretKey: string;
}

interface Answer {
  status: number;
  body: Record<string, unknown>;
}

interface ListedFile {
  uuid: string;
  appdata?: Record<string, { data: Record<string, unknown>; version: string; datetime_created: string; datetime_updated: string }>;
}

interface FileList {
  next: string | null;
  total: number;
  per_page: number;
  results: ListedFile[];
}

async function rest(trove: TestTrove, path: string, keys: Keys = trove): Promise<Answer> {
  const response = await fetch(path.startsWith('http') ? path : `${trove.url}${path}`, {
    headers: { accept: 'application/vnd.uploadcare-v0.7+json', authorization: `Uploadcare.Simple ${keys.publicKey}:${keys.secretKey}` },
  });
  const text = await response.text();
  return { status: response.status, body: JSON.parse(text) as Record<string, unknown> };
}

async function until<T>(what: string, probe: () => Promise<T | undefined | null | false>, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

const analysisOf = (file: ListedFile) => file.appdata?.trove_image_analysis;

describe.each(backends)('image analysis at upload (%s)', (backend) => {
  let trove: TestTrove;
  let other: Keys;
  let original: string;
  let recompressed: string;
  let different: string;
  let text: string;
  const copies: string[] = [];

  const info = async (uuid: string): Promise<ListedFile> => {
    const answer = await rest(trove, `/files/${uuid}/?include=appdata`);
    expect(answer.status).toBe(200);
    return answer.body as unknown as ListedFile;
  };
  const analysed = (uuid: string) => until(`the analysis of ${uuid}`, async () => analysisOf(await info(uuid)));

  beforeAll(async () => {
    trove = await startTrove({ backend });
    const created = await trove.ctx.services.projects.create({ name: 'someone else' });
    other = { publicKey: created.project.publicKey, secretKey: created.secrets[0]!.secret };
    const big = await makePhoto(1200, 900, 'landscape').jpeg({ quality: 92 }).toBuffer();
    original = await uploadFile(trove, big, 'landscape.jpg');
    recompressed = await uploadFile(trove, await sharp(big).resize(500).jpeg({ quality: 55 }).toBuffer(), 'small.jpg');
    different = await uploadFile(trove, await makePhoto(1200, 900, 'other').jpeg({ quality: 90 }).toBuffer(), 'other.jpg');
    text = await uploadFile(trove, Buffer.from('not an image'), 'notes.txt');
    for (const [width, quality] of [
      [800, 80],
      [640, 70],
      [300, 85],
    ] as const) {
      copies.push(await uploadFile(trove, await sharp(big).resize(width).webp({ quality }).toBuffer(), `copy-${width}.webp`));
    }
    for (const uuid of [original, recompressed, different, ...copies]) await analysed(uuid);
  }, 120_000);
  afterAll(async () => trove?.close());

  it('answers the analysis as appdata.trove_image_analysis, in the appdata entry shape', async () => {
    const entry = await analysed(original);
    expect(entry.version).toBe('1');
    expect(entry.datetime_created).toMatch(/^\d{4}-\d{2}-\d{2}T/);
    expect(entry.datetime_updated).toBe(entry.datetime_created);
    const data = entry.data as { thumbhash: string; blurhash: string; dominant_color: string; palette: string[]; phash: string };
    expect(Buffer.from(data.thumbhash, 'base64').length).toBeGreaterThan(4);
    expect(data.blurhash).toHaveLength(28);
    expect(data.dominant_color).toMatch(/^#[0-9a-f]{6}$/);
    expect(data.palette[0]).toBe(data.dominant_color);
    expect(data.palette.length).toBeGreaterThanOrEqual(3);
    expect(data.phash).toMatch(/^[0-9a-f]{16}$/);
    // The list shows it too, and a file without analysis has none.
    const list = (await rest(trove, '/files/?include=appdata&limit=1000')).body as unknown as FileList;
    expect(analysisOf(list.results.find((f) => f.uuid === original)!)).toEqual(entry);
    expect(analysisOf(list.results.find((f) => f.uuid === text)!)).toBeUndefined();
    expect((await rest(trove, `/files/${original}/`)).body.appdata).toBeUndefined();
  });

  it('finds the resized and recompressed copies, nearest first, and not the different picture', async () => {
    const answer = await rest(trove, `/files/?similar_to=${original}`);
    expect(answer.status, JSON.stringify(answer.body)).toBe(200);
    const page = answer.body as unknown as FileList;
    const found = page.results.map((f) => f.uuid);
    expect(found).toEqual(expect.arrayContaining([recompressed, ...copies]));
    expect(found).not.toContain(original);
    expect(found).not.toContain(different);
    expect(page.total).toBe(found.length);
    expect(page.next).toBeNull();
    const reverse = (await rest(trove, `/files/?similar_to=${different.toUpperCase()}&distance=3`)).body as unknown as FileList;
    expect(reverse.results.map((f) => f.uuid)).not.toContain(original);
  });

  it('pages through the matches with next links, in the same order as one page', async () => {
    const whole = ((await rest(trove, `/files/?similar_to=${original}&distance=12&include=appdata`)).body as unknown as FileList).results.map((f) => f.uuid);
    expect(whole.length).toBeGreaterThanOrEqual(4);
    const walked: string[] = [];
    let next: string | null = `/files/?similar_to=${original}&distance=12&limit=1&include=appdata`;
    while (next) {
      const answer = await rest(trove, next);
      expect(answer.status).toBe(200);
      const page = answer.body as unknown as FileList;
      expect(page.results.length).toBeLessThanOrEqual(1);
      expect(page.per_page).toBe(1);
      expect(page.total).toBe(whole.length);
      for (const file of page.results) expect(analysisOf(file)).toBeDefined();
      walked.push(...page.results.map((f) => f.uuid));
      next = page.next;
      if (next) expect(next).toMatch(/from=\d{1,2}(~|%7E)[0-9a-f-]{36}/);
    }
    expect(walked).toEqual(whole);
  });

  it('refuses bad parameters with 400 and names the parameter', async () => {
    for (const [query, part] of [
      [`similar_to=${original}&distance=13`, '`distance`'],
      [`similar_to=${original}&distance=-1`, '`distance`'],
      [`similar_to=${original}&distance=abc`, '`distance`'],
      [`distance=3`, '`distance`'],
      ['similar_to=not-a-uuid', '`similar_to`'],
      [`similar_to=${original}&search=x`, '`search`'],
      [`similar_to=${original}&ordering=-datetime_uploaded`, '`ordering`'],
      [`similar_to=${original}&removed=true`, '`removed=true`'],
      [`similar_to=${original}&from=2024-01-01T00:00:00Z`, '`from`'],
      [`from=3~${original}`, '`from`'],
      [`similar_to=${text}`, 'image'],
    ] as const) {
      const answer = await rest(trove, `/files/?${query}`);
      expect(answer.status, query).toBe(400);
      expect(String(answer.body.detail), query).toContain(part);
    }
  });

  it('answers 404 for another project\'s image or an unknown uuid', async () => {
    const foreign = await rest(trove, `/files/?similar_to=${original}`, other);
    expect(foreign.status).toBe(404);
    expect(String(foreign.body.detail)).toContain('similar_to');
    expect((await rest(trove, '/files/?similar_to=00000000-0000-4000-8000-000000000000')).status).toBe(404);
  });

  it('answers 409 while an image has no analysis, and the backfill queues it again', async () => {
    const project = (await trove.ctx.metadata.projects.findByPublicKey(trove.publicKey))!;
    await (await trove.projectShard()).imageAnalysis.deleteForFiles(project.id, [different]);
    const pending = await rest(trove, `/files/?similar_to=${different}`);
    expect(pending.status).toBe(409);
    expect(String(pending.body.detail)).toContain('no analysis yet');
    expect(await trove.ctx.services.analysis.backfill(project.id)).toBe(1);
    await analysed(different);
    expect((await rest(trove, `/files/?similar_to=${different}`)).status).toBe(200);
    expect(await trove.ctx.services.analysis.backfill(project.id)).toBe(0);
  });

  it('forgets the analysis of a deleted file, which no longer matches', async () => {
    const project = (await trove.ctx.metadata.projects.findByPublicKey(trove.publicKey))!;
    const victim = copies[0]!;
    const response = await fetch(`${trove.url}/files/${victim}/storage/`, {
      method: 'DELETE',
      headers: { accept: 'application/vnd.uploadcare-v0.7+json', authorization: `Uploadcare.Simple ${trove.publicKey}:${trove.secretKey}` },
    });
    expect(response.status).toBe(200);
    expect(await (await trove.projectShard()).imageAnalysis.find(project.id, victim)).toBeNull();
    const page = (await rest(trove, `/files/?similar_to=${original}&distance=12`)).body as unknown as FileList;
    expect(page.results.map((f) => f.uuid)).not.toContain(victim);
    expect((await rest(trove, `/files/?similar_to=${victim}`)).status).toBe(404);
  });
});
