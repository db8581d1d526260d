import {
  deleteFile,
  isRestClientValidationError,
  paginate,
  Paginator,
  replaceTags,
  searchFiles,
  UploadcareAuthSchema,
  UploadcareSimpleAuthSchema,
  updateMetadata,
  type SearchFilesOptions,
  type SearchFilesResponse,
  type UserSettings,
} from '@uploadcare/rest-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { availableBackends } from '../helpers/backends.js';
import { makeJpeg, makePdf, makePng } from '../helpers/images.js';
import { startTrove, type TestTrove } from '../helpers/trove-server.js';
import { uploadFile } from '../helpers/upload-http.js';

const backends = await availableBackends();

/** The corpus, uploaded in this order one minute apart. */
const NAMES = ['sunset-beach.jpg', 'Sunset_Pier.png', 'photographer-portfolio.pdf', 'holiday-photo.jpg', 'notes.txt', 'Café-Menü.txt'] as const;
type Name = (typeof NAMES)[number];

/**
 * Uploadcare's search through the public @uploadcare/rest-client SDK, unchanged: each condition, sort,
 * pagination, highlights, tenant isolation and hostile input, on both backends.
 */
describe.each(backends)('searchFiles from @uploadcare/rest-client against Trove (%s)', (backend) => {
  let trove: TestTrove;
  let settings: UserSettings;
  let signed: UserSettings;
  let other: UserSettings;
  const uuid = new Map<string, string>();
  const uploadedAt = new Map<string, string>();
  const size = new Map<string, number>();

  const names = (page: SearchFilesResponse): string[] => page.results.map((file) => file.originalFilename);
  const found = async (options: SearchFilesOptions, as: UserSettings = settings) => names(await searchFiles(options, as));
  /** The validation errors of a refused search, keyed by field as the SDK reads them. */
  async function refusal(options: unknown): Promise<Record<string, string[]>> {
    try {
      await searchFiles(options as SearchFilesOptions, settings);
    } catch (error) {
      if (isRestClientValidationError(error)) {
        expect(error.status).toBe(400);
        return error.errors;
      }
      throw error;
    }
    throw new Error(`search ${JSON.stringify(options)} was not refused`);
  }

  beforeAll(async () => {
    // Hundreds of searches in a few seconds: the per-project read budget would turn them into 429s.
    trove = await startTrove({ backend, env: { TROVE_RATE_LIMIT_REST_READ: 'off' } });
    settings = { authSchema: new UploadcareSimpleAuthSchema({ publicKey: trove.publicKey, secretKey: trove.secretKey }), apiBaseURL: `${trove.url}/` };
    signed = { authSchema: new UploadcareAuthSchema({ publicKey: trove.publicKey, secretKey: trove.secretKey }), apiBaseURL: `${trove.url}/` };

    const bodies: Record<Name, { bytes: Buffer; fields: Array<[string, string]> }> = {
      'sunset-beach.jpg': {
        bytes: await makeJpeg({ width: 120, height: 80 }),
        fields: [['metadata[alt]', 'Golden hour at the beach'], ['metadata[camera]', 'Nikon'], ['tags', 'Cat, summer']],
      },
      'Sunset_Pier.png': { bytes: await makePng(60, 40), fields: [['metadata[alt]', 'Pier at dusk'], ['tags', 'summer']] },
      'photographer-portfolio.pdf': { bytes: makePdf(), fields: [['metadata[client]', 'Acme Corp'], ['tags', 'work']] },
      'holiday-photo.jpg': { bytes: await makeJpeg({ width: 200, height: 100 }), fields: [['metadata[place]', 'Sunset Boulevard'], ['tags', 'cat'], ['UPLOADCARE_STORE', '0']] },
      'notes.txt': { bytes: Buffer.from('x'.repeat(1000)), fields: [['metadata[topic]', 'vacation planning']] },
      'Café-Menü.txt': { bytes: Buffer.from('y'.repeat(2000)), fields: [['metadata[lang]', 'de'], ['tags', 'menu']] },
    };
    for (const name of NAMES) {
      const fields: Array<[string, string]> = [['UPLOADCARE_STORE', '1'], ...bodies[name].fields];
      uuid.set(name, await uploadFile(trove, bodies[name].bytes, name, fields));
      const info = await (await trove.projectShard()).files.findLive(uuid.get(name)!);
      uploadedAt.set(name, info!.datetimeUploaded);
      size.set(name, info!.size);
      trove.clock.advance(60_000);
    }
    // A removed file and another project's file match `sunset` too, and must never be found.
    const removed = await uploadFile(trove, await makeJpeg({ width: 10, height: 10 }), 'sunset-removed.jpg', { UPLOADCARE_STORE: '1' });
    await deleteFile({ uuid: removed }, settings);
    const created = await trove.ctx.services.projects.create({ name: 'other' });
    other = {
      authSchema: new UploadcareSimpleAuthSchema({ publicKey: created.project.publicKey, secretKey: created.secrets[0]!.secret }),
      apiBaseURL: `${trove.url}/`,
    };
    uuid.set('secret', await uploadFile(trove, await makeJpeg({ width: 10, height: 10 }), 'sunset-secret.jpg', { 'metadata[alt]': 'Sunset Nikon' }, { publicKey: created.project.publicKey }));
  }, 60_000);

  afterAll(async () => {
    await trove?.close();
  });

  it('full-text query: substrings of words in the filename, metadata values and MIME type, most relevant first', async () => {
    const page = await searchFiles({ query: 'sunset' }, settings);
    // Filenames weigh more than metadata; equal scores go newest first.
    expect(names(page)).toEqual(['Sunset_Pier.png', 'sunset-beach.jpg', 'holiday-photo.jpg']);
    expect(page).toMatchObject({ total: 3, perPage: 20, next: null, previous: null });
    expect(await found({ query: 'tograph' })).toEqual(['photographer-portfolio.pdf']);
    // A whole word ranks above a part of one.
    expect(await found({ query: 'photo' })).toEqual(['holiday-photo.jpg', 'photographer-portfolio.pdf']);
    // Every word must occur, each in any field.
    expect(await found({ query: 'sunset nikon' })).toEqual(['sunset-beach.jpg']);
    expect(await found({ query: 'Acme vacation' })).toEqual([]);
    expect(await found({ query: 'jpeg', sort: [{ field: 'datetimeUploaded' }] })).toEqual(['sunset-beach.jpg', 'holiday-photo.jpg']);
    // Accents and case fold; a run is split at case changes and kept whole.
    expect(await found({ query: 'CAFE menu' })).toEqual(['Café-Menü.txt']);
    expect(await found({ query: 'sunsetbeach' })).toEqual([]);
    expect(await found({ query: 'SunsetPier' })).toEqual([]);
    expect(await found({ query: 'beach' })).toEqual(['sunset-beach.jpg']);
    // A uuid finds its file.
    expect(await found({ query: uuid.get('notes.txt')! })).toEqual(['notes.txt']);
    // Words shorter than four characters cannot match.
    expect(await found({ query: 'a b c d e' })).toEqual([]);
  });

  it('phrase: words in order within one field', async () => {
    expect(await found({ phrase: { originalFilename: 'sunset beach' } })).toEqual(['sunset-beach.jpg']);
    expect(await found({ phrase: { originalFilename: 'beach sunset' } })).toEqual([]);
    expect(await found({ phrase: { originalFilename: 'Sunset Pier' } })).toEqual(['Sunset_Pier.png']);
    expect(await found({ phrase: { metadata: 'hour at the' } })).toEqual(['sunset-beach.jpg']);
    // The phrase is held to its field: "sunset" is in holiday-photo's metadata, not its name.
    expect(await found({ phrase: { metadata: 'sunset' } })).toEqual(['holiday-photo.jpg']);
    expect(await found({ phrase: { detectedMimeType: 'application/pdf' } })).toEqual(['photographer-portfolio.pdf']);
    expect(await found({ phrase: { originalFilename: 'sunset', metadata: 'golden hour' } })).toEqual(['sunset-beach.jpg']);
  });

  it('exact: any of a field’s values, every field named; metadata by key, case-sensitive', async () => {
    expect(await found({ exact: { uuid: [uuid.get('notes.txt')!, uuid.get('secret')!] } })).toEqual(['notes.txt']);
    expect(await found({ exact: { detectedMimeType: ['image/png', 'application/pdf'] }, sort: [{ field: 'originalFilename' }] })).toEqual([
      'photographer-portfolio.pdf',
      'Sunset_Pier.png',
    ]);
    expect(await found({ exact: { originalFilename: ['notes.txt', 'sunset-removed.jpg'] } })).toEqual(['notes.txt']);
    expect(await found({ exact: { metadata: { camera: ['Nikon'] } } })).toEqual(['sunset-beach.jpg']);
    expect(await found({ exact: { metadata: { camera: ['nikon'] } } })).toEqual([]);
    expect(await found({ exact: { metadata: { camera: ['Nikon'], alt: ['Pier at dusk'] } } })).toEqual([]);
    expect(await found({ exact: { detectedMimeType: ['image/jpeg'] }, query: 'beach' })).toEqual(['sunset-beach.jpg']);
  });

  it('ranges on the upload time and the size, and is_image', async () => {
    const at = (name: Name) => uploadedAt.get(name)!;
    expect(await found({ datetimeUploaded: { gte: at('photographer-portfolio.pdf'), lt: at('notes.txt') }, sort: [{ field: 'datetimeUploaded' }] })).toEqual([
      'photographer-portfolio.pdf',
      'holiday-photo.jpg',
    ]);
    expect(await found({ datetimeUploaded: { gt: new Date(at('notes.txt')) }, sort: [{ field: 'datetimeUploaded', order: 'desc' }] })).toEqual(['Café-Menü.txt']);
    expect(await found({ size: { gte: 1000, lte: 1999 }, isImage: false })).toEqual(['notes.txt']);
    expect(await found({ size: { gt: size.get('notes.txt')! }, isImage: false, sort: [{ field: 'size', order: 'desc' }] })).toEqual(['Café-Menü.txt']);
    expect((await found({ isImage: true })).sort()).toEqual(['Sunset_Pier.png', 'holiday-photo.jpg', 'sunset-beach.jpg']);
    expect((await found({ isImage: false })).sort()).toEqual(['Café-Menü.txt', 'notes.txt', 'photographer-portfolio.pdf']);
  });

  it('fuzziness tolerates typos in queries and phrases, only when asked', async () => {
    expect(await found({ query: 'sunsett' })).toEqual([]);
    const fuzzy = await searchFiles({ query: 'sunsett', fuzziness: true }, settings);
    expect(names(fuzzy)).toEqual(['Sunset_Pier.png', 'sunset-beach.jpg', 'holiday-photo.jpg']);
    // The highlight marks the word that stood in for the typo.
    expect(fuzzy.results[1]!.highlight).toEqual({ originalFilename: ['<em>sunset</em>-beach.jpg'] });
    expect(await found({ query: 'photografer', fuzziness: true })).toContain('photographer-portfolio.pdf');
    expect(await found({ phrase: { metadata: 'goldn hour' }, fuzziness: true })).toEqual(['sunset-beach.jpg']);
    expect(await found({ phrase: { metadata: 'goldn hour' } })).toEqual([]);
  });

  it('tags: any, all and none, normalised as stored tags are', async () => {
    expect((await found({ tags: { any: ['cat', 'work'] } })).sort()).toEqual(['holiday-photo.jpg', 'photographer-portfolio.pdf', 'sunset-beach.jpg']);
    expect(await found({ tags: { all: ['CAT ', 'summer'] } })).toEqual(['sunset-beach.jpg']);
    expect(await found({ tags: { none: ['summer'] }, isImage: true })).toEqual(['holiday-photo.jpg']);
    expect(await found({ tags: { any: ['summer'], none: ['cat'] } })).toEqual(['Sunset_Pier.png']);
  });

  it('sorts by up to four keys, ascending unless asked otherwise', async () => {
    expect(await found({ isImage: false, sort: [{ field: 'size' }] })).toEqual(['photographer-portfolio.pdf', 'notes.txt', 'Café-Menü.txt']);
    expect(await found({ isImage: false, sort: [{ field: 'size', order: 'desc' }] })).toEqual(['Café-Menü.txt', 'notes.txt', 'photographer-portfolio.pdf']);
    // Filenames sort without regard to case.
    expect(await found({ size: { gte: 0 }, sort: [{ field: 'originalFilename' }] })).toEqual([
      'Café-Menü.txt',
      'holiday-photo.jpg',
      'notes.txt',
      'photographer-portfolio.pdf',
      'sunset-beach.jpg',
      'Sunset_Pier.png',
    ]);
    expect(
      await found({
        query: 'sunset',
        sort: [
          { field: 'score', order: 'desc' },
          { field: 'size', order: 'desc' },
          { field: 'originalFilename' },
          { field: 'datetimeUploaded' },
        ],
      }),
    ).toEqual(size.get('sunset-beach.jpg')! > size.get('Sunset_Pier.png')! ? ['sunset-beach.jpg', 'Sunset_Pier.png', 'holiday-photo.jpg'] : ['Sunset_Pier.png', 'sunset-beach.jpg', 'holiday-photo.jpg']);
    // The least relevant first when asked.
    expect((await found({ query: 'sunset', sort: [{ field: 'score' }] }))[0]).toBe('holiday-photo.jpg');
  });

  it('pages by limit and offset with next and previous links the SDK follows', async () => {
    const first = await searchFiles({ size: { gte: 0 }, sort: [{ field: 'datetimeUploaded' }], limit: 2 }, signed);
    expect(names(first)).toEqual(['sunset-beach.jpg', 'Sunset_Pier.png']);
    expect(first.total).toBe(6);
    expect(first.next).toBe(`${trove.url}/files/search/?limit=2&offset=2`);
    expect(first.previous).toBeNull();
    const second = await searchFiles({ size: { gte: 0 }, sort: [{ field: 'datetimeUploaded' }], limit: 2, offset: 2 }, settings);
    expect(names(second)).toEqual(['photographer-portfolio.pdf', 'holiday-photo.jpg']);
    expect(second.previous).toBe(`${trove.url}/files/search/?limit=2&offset=0`);

    const seen: string[] = [];
    for await (const page of paginate(searchFiles)({ size: { gte: 0 }, sort: [{ field: 'datetimeUploaded' }], limit: 4 }, settings)) seen.push(...names(page));
    expect(seen).toEqual([...NAMES]);
    const paginator = new Paginator(searchFiles, { query: 'sunset', limit: 1, sort: [{ field: 'originalFilename' }] }, settings);
    const walked: string[] = [];
    while (paginator.hasNextPage()) walked.push(...names((await paginator.next())!));
    expect(walked).toEqual(['holiday-photo.jpg', 'sunset-beach.jpg', 'Sunset_Pier.png']);
    expect(names((await paginator.prev())!)).toEqual(['sunset-beach.jpg']);

    // Past the last match: an empty page that still counts the matches.
    const beyond = await searchFiles({ query: 'sunset', limit: 10, offset: 500 }, settings);
    expect(beyond).toMatchObject({ results: [], total: 3, next: null });
  });

  it('highlights the matched words of each field that matched, in <em>, with the rest escaped', async () => {
    const page = await searchFiles({ query: 'sunset beach' }, settings);
    expect(page.results.map((file) => [file.originalFilename, file.highlight])).toEqual([
      ['sunset-beach.jpg', { originalFilename: ['<em>sunset</em>-<em>beach</em>.jpg'], metadata: { alt: 'Golden hour at the <em>beach</em>' } }],
    ]);
    const accents = await searchFiles({ query: 'menu cafe' }, settings);
    expect(accents.results[0]!.highlight).toEqual({ originalFilename: ['<em>Café</em>-<em>Menü</em>.txt'] });
    const mime = await searchFiles({ phrase: { detectedMimeType: 'image' }, exact: { uuid: [uuid.get('Sunset_Pier.png')!] } }, settings);
    expect(mime.results[0]!.highlight).toEqual({ detectedMimeType: ['<em>image</em>/png'] });
    // Conditions that are not full-text highlight nothing.
    expect((await searchFiles({ tags: { all: ['work'] } }, settings)).results[0]!.highlight).toBeUndefined();
  });

  it('includes appdata when asked, and follows metadata and tag changes at once', async () => {
    const page = await searchFiles({ query: 'notes', include: 'appdata' }, settings);
    // No add-on has run on it: its application data is empty, not absent.
    expect(page.results[0]!.appdata).toEqual({});
    expect('appdata' in (await searchFiles({ query: 'notes' }, settings)).results[0]!).toBe(false);

    const notes = uuid.get('notes.txt')!;
    await updateMetadata({ uuid: notes, key: 'topic', value: 'lighthouse survey' }, settings);
    expect(await found({ query: 'vacation' })).toEqual([]);
    expect(await found({ query: 'lighthouse' })).toEqual(['notes.txt']);
    await replaceTags({ uuid: notes, tags: ['archive'] }, settings);
    expect(await found({ tags: { any: ['archive'] } })).toEqual(['notes.txt']);
    await deleteFile({ uuid: notes }, settings);
    expect(await found({ query: 'lighthouse' })).toEqual([]);
    expect(await found({ tags: { any: ['archive'] } })).toEqual([]);
  });

  it("never finds another project's files, and another project never finds these", async () => {
    expect(await found({ query: 'nikon' })).toEqual(['sunset-beach.jpg']);
    expect(await found({ exact: { uuid: [uuid.get('secret')!] } })).toEqual([]);
    expect(await found({ query: 'sunset' }, other)).toEqual(['sunset-secret.jpg']);
    expect(await found({ query: 'beach', fuzziness: true }, other)).toEqual([]);
    expect(await found({ exact: { uuid: [uuid.get('sunset-beach.jpg')!] } }, other)).toEqual([]);
  });

  it('refuses malformed searches with Uploadcare’s field-keyed errors', async () => {
    expect(await refusal({ query: 'abc' })).toEqual({ query: ['Must be at least 4 characters.'] });
    expect(await refusal({})).toEqual({ nonFieldErrors: ['At least one search condition is required: query, phrase, exact, datetime_uploaded, size, is_image, tags.'] });
    expect(await refusal({ query: 'sunset', limit: 101 })).toEqual({ limit: ['Must be an integer from 1 to 100.'] });
    expect(await refusal({ query: 'sunset', limit: 0 })).toEqual({ limit: ['Must be an integer from 1 to 100.'] });
    expect(await refusal({ query: 'sunset', limit: 100, offset: 900 })).toEqual({ offset: ['offset + limit must be less than 1000.'] });
    expect(await refusal({ query: 'sunset', offset: -1 })).toEqual({ offset: ['Must be an integer of 0 or more.'] });
    const five = (['score', 'size', 'datetimeUploaded', 'originalFilename', 'size'] as const).map((field) => ({ field }));
    expect(await refusal({ query: 'sunset', sort: five })).toEqual({ sort: [expect.stringContaining('Must be a list of 1 to 4 sort keys')] });
    expect(await refusal({ query: 'sunset', sort: [{ field: 'size' }, { field: 'size', order: 'desc' }] })).toEqual({ sort: ['size may appear once, in one direction.'] });
    expect(await refusal({ query: 'sunset', sort: [{ field: 'colour' }] })).toEqual({ sort: [expect.stringContaining('"undefined" is not a valid choice')] });
    expect(await refusal({ size: { gt: 'big' } })).toEqual({ 'size.gt': ['A valid integer is required.'] });
    expect(await refusal({ size: { gt: 10, lt: 5 } })).toEqual({ size: ['No value lies in this range: the lower bound is not below the upper one.'] });
    expect(await refusal({ size: {} })).toEqual({ size: ['At least one of gt, gte, lt or lte is required.'] });
    expect(await refusal({ datetimeUploaded: { gte: '2026-02-30' } })).toEqual({ 'datetimeUploaded.gte': ['Must be an ISO 8601 date or date-time, e.g. 2026-01-31T12:00:00Z.'] });
    expect(await refusal({ isImage: 'yes' })).toEqual({ isImage: ['Must be a boolean value.'] });
    expect(await refusal({ phrase: { originalFilename: 'abc' } })).toEqual({ 'phrase.originalFilename': ['Must be at least 4 characters.'] });
    expect(await refusal({ phrase: { originalFilename: 'sunset' }, exact: { originalFilename: ['x'] } })).toEqual({
      nonFieldErrors: ['original_filename cannot appear in both phrase and exact.'],
    });
    expect(await refusal({ tags: { any: ['has space'] } })).toEqual({ 'tags.any': [expect.stringContaining('may contain only Latin letters')] });
    expect(await refusal({ tags: { any: [] } })).toEqual({ tags: ['At least one tag is required.'] });
    expect(await refusal({ exact: { metadata: { 'bad key': ['x'] } } })).toEqual({ 'exact.metadata[bad key]': [expect.stringContaining('Unknown field')] });
    expect(await refusal({ exact: { uuid: [] } })).toEqual({ 'exact.uuid': [expect.stringContaining('Must be a list of 1 to 100')] });
    expect(await refusal({ query: 'sunset', include: 'everything' })).toEqual({ include: ['"everything" is not a valid choice. The only value is "appdata".'] });
    expect(await refusal({ query: 'x'.repeat(10_000) })).toEqual({ query: ['Must be at most 512 characters.'] });
    expect(await refusal({ query: Array.from({ length: 17 }, (_, i) => `word${i}`).join(' ') })).toEqual({ query: ['At most 16 words of 4 or more characters.'] });
  });

  it('reads hostile text as plain words: no query syntax, no SQL, no crash', async () => {
    for (const query of [
      "'; drop table files; --",
      '"sunset" OR "beach"',
      'sunset* NEAR(beach)',
      'filename_text : sunset',
      "sun & set | !beach:* <-> ('x')",
      '\\\\\'\'\'"""',
      '\u0001\u0002sunset',
      '%%%% ____',
      '😀😀😀😀 𝔰𝔲𝔫𝔰𝔢𝔱',
    ]) {
      const page = await searchFiles({ query, fuzziness: true }, settings);
      expect(page.total).toBe(page.results.length);
    }
    // A NUL is refused for every parameter of every REST route, keyed by field here.
    await expect(searchFiles({ query: '\u0000sunset' }, settings)).rejects.toMatchObject({ status: 400, errors: { query: [expect.stringContaining('NUL character')] } });
    expect(await found({ query: '"sunset" OR "zzzz"' })).toEqual([]);
    expect(await found({ query: "sunset'; --" })).toEqual(['Sunset_Pier.png', 'sunset-beach.jpg', 'holiday-photo.jpg']);
    expect(await found({ phrase: { originalFilename: '"beach' } })).toEqual(['sunset-beach.jpg']);
    expect(await found({ exact: { originalFilename: ["' or 1=1 --"], metadata: { 'a.b:c': ['%'] } } })).toEqual([]);

    // Bodies that are no search at all, sent as raw JSON.
    const post = (body: string) =>
      fetch(`${trove.url}/files/search/`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'application/vnd.uploadcare-v0.7+json', authorization: `Uploadcare.Simple ${trove.publicKey}:${trove.secretKey}` },
        body,
      });
    for (const [body, expected] of [
      ['[]', { non_field_errors: ['Expected a JSON object of search conditions.'] }],
      ['"sunset"', { non_field_errors: ['Expected a JSON object of search conditions.'] }],
      ['{"query": "sunset", "colour": "red"}', { colour: ['Unknown field.'] }],
      ['{"query": null}', { query: ['Must be a string.'] }],
      ['{"phrase": {"original_filename": "sunset", "title": "x"}}', { phrase: { title: ['Unknown field.'] } }],
      ['{"size": {"gt": 1.5}}', { size: { gt: ['A valid integer is required.'] } }],
      [JSON.stringify({ exact: { uuid: Array.from({ length: 5000 }, () => 'x') } }), { exact: { uuid: [expect.stringContaining('Must be a list of 1 to 100')] } }],
      [`${'{"a":'.repeat(200)}1${'}'.repeat(200)}`, { a: ['Unknown field.'] }],
    ] as const) {
      const response = await post(body);
      expect(response.status, body.slice(0, 60)).toBe(400);
      expect(response.headers.get('content-type')).toBe('application/json');
      expect(await response.json()).toEqual(expected);
    }
    const broken = await post('{"query": ');
    expect(broken.status).toBe(400);
    expect(await broken.json()).toHaveProperty('detail');
  });

  it('answers 300 generated bodies, valid and broken, with a page or a field-keyed 400, never a 5xx', async () => {
    // A seeded generator: every run sends the same bodies, so a failure replays.
    let state = 20_261_203;
    const next = () => ((state = (Math.imul(state, 1_103_515_245) + 12_345) >>> 0) / 2 ** 32);
    const pick = <T>(items: readonly T[]): T => items[Math.floor(next() * items.length)]!;
    const scalar = (): unknown =>
      pick<() => unknown>([
        () => pick(['sunset', 'beach', 'ab', '', ' ', 'x'.repeat(600), '"*:()', "o'neil", '\u0000', '𝔰𝔲𝔫𝔰𝔢𝔱 café']),
        () => pick([0, -1, 1.5, 2 ** 60, 1e308, 10_000]),
        () => pick([true, false, null]),
        () => pick(['2026-01-31', '2026-13-45', 'yesterday', '2026-01-31T12:00:00+99:99']),
        () => [],
        () => ({}),
      ])();
    const value = (depth: number): unknown => {
      if (depth > 2 || next() < 0.5) return scalar();
      if (next() < 0.5) return Array.from({ length: Math.floor(next() * 4) }, () => value(depth + 1));
      const keys = ['any', 'all', 'none', 'gt', 'gte', 'lt', 'lte', 'original_filename', 'metadata', 'detected_mime_type', 'uuid', 'metadata[alt]', 'bogus'];
      return Object.fromEntries(Array.from({ length: 1 + Math.floor(next() * 3) }, () => [pick(keys), value(depth + 1)]));
    };
    const fields = ['query', 'phrase', 'exact', 'datetime_uploaded', 'size', 'is_image', 'tags', 'fuzziness', 'sort', 'bogus'];
    const post = (body: unknown, query: string) =>
      fetch(`${trove.url}/files/search/?${query}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'application/vnd.uploadcare-v0.7+json', authorization: `Uploadcare.Simple ${trove.publicKey}:${trove.secretKey}` },
        body: JSON.stringify(body),
      });
    const statuses = new Map<number, number>();
    for (let i = 0; i < 300; i += 1) {
      const valid = [
        { query: pick(['sunset', 'photo beach', 'sunsett', 'ab cd ef']), fuzziness: next() < 0.5 },
        { tags: { any: ['cat'] }, size: { gte: Math.floor(next() * 5000) }, sort: [pick(['-size', 'original_filename', '-score'])] },
        { phrase: { metadata: 'golden hour' }, is_image: next() < 0.5 },
      ];
      const body = next() < 0.3 ? pick(valid) : Object.fromEntries(Array.from({ length: 1 + Math.floor(next() * 3) }, () => [pick(fields), value(0)]));
      const query = new URLSearchParams(
        Object.fromEntries([['limit', pick(['', '1', '100', '101', '0', '-3', 'x'])], ['offset', pick(['', '0', '998', '999', '1e3'])]].filter(() => next() < 0.5)),
      ).toString();
      const response = await post(body, query);
      statuses.set(response.status, (statuses.get(response.status) ?? 0) + 1);
      const answer = (await response.json()) as Record<string, unknown>;
      if (response.status === 200) {
        expect(Array.isArray(answer.results), JSON.stringify(body)).toBe(true);
      } else {
        expect(response.status, JSON.stringify(body)).toBe(400);
        expect(Object.keys(answer).length, JSON.stringify(body)).toBeGreaterThan(0);
        expect('detail' in answer, JSON.stringify(body)).toBe(false);
      }
    }
    expect([...statuses.keys()].sort()).toEqual([200, 400]);
  });
});
