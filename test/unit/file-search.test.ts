import { describe, expect, it } from 'vitest';
import { effectiveSort, highlightOf, parseFileSearch, searchPages, type FileSearchParams } from '../../src/domain/file-search.js';
import { AppError, type FieldErrors } from '../../src/errors.js';

/** The field errors a search is refused with; undefined when it is accepted. */
function refused(body: unknown, params: FileSearchParams = {}): FieldErrors | undefined {
  try {
    parseFileSearch(body, params);
  } catch (error) {
    if (!(error instanceof AppError)) throw error;
    expect(error.statusCode).toBe(400);
    expect(error.code).toBe('PARAMETER_INVALID');
    return error.fields;
  }
  return undefined;
}

const criteriaOf = (body: unknown, params: FileSearchParams = {}) => parseFileSearch(body, params).criteria;

describe('file search requests', () => {
  it('needs at least one condition; modifiers alone are none', () => {
    const none = { non_field_errors: ['At least one search condition is required: query, phrase, exact, datetime_uploaded, size, is_image, tags.'] };
    expect(refused({})).toEqual(none);
    expect(refused(undefined)).toEqual(none);
    expect(refused(null)).toEqual(none);
    expect(refused({ fuzziness: true, sort: ['size'] })).toEqual(none);
    expect(refused({ is_image: false })).toBeUndefined();
    expect(refused([])).toEqual({ non_field_errors: ['Expected a JSON object of search conditions.'] });
    expect(refused('query')).toEqual({ non_field_errors: ['Expected a JSON object of search conditions.'] });
  });

  it('reads a query into its terms: folded runs of letters and digits of four or more, and a uuid', () => {
    expect(criteriaOf({ query: '  Sunset-BEACH  at  Café_2024 ' }).query).toEqual({ terms: ['sunset', 'beach', 'cafe', '2024'], uuid: null });
    expect(criteriaOf({ query: 'sunsetBeach' }).query?.terms).toEqual(['sunsetbeach']);
    expect(criteriaOf({ query: 'a b c d e' }).query?.terms).toEqual([]);
    expect(criteriaOf({ query: 'x'.repeat(40) }).query?.terms).toEqual(['x'.repeat(32)]);
    const uuid = '2D2F8B0E-1C3A-4B5C-8D6E-7F8091A2B3C4';
    expect(criteriaOf({ query: uuid }).query?.uuid).toBe(uuid.toLowerCase());
  });

  it('refuses queries and phrases shorter than 4 or longer than 512 characters, or with more than 16 words', () => {
    expect(refused({ query: 'abc' })).toEqual({ query: ['Must be at least 4 characters.'] });
    expect(refused({ query: '  abc  ' })).toEqual({ query: ['Must be at least 4 characters.'] });
    expect(refused({ query: '😀😀😀' })).toEqual({ query: ['Must be at least 4 characters.'] });
    expect(refused({ query: '😀😀😀😀' })).toBeUndefined();
    expect(refused({ query: 'x'.repeat(513) })).toEqual({ query: ['Must be at most 512 characters.'] });
    expect(refused({ query: 'x'.repeat(512) })).toBeUndefined();
    expect(refused({ query: Array.from({ length: 16 }, (_, i) => `word${i}`).join(' ') })).toBeUndefined();
    expect(refused({ query: Array.from({ length: 17 }, (_, i) => `word${i}`).join(' ') })).toEqual({ query: ['At most 16 words of 4 or more characters.'] });
    expect(refused({ query: 42 })).toEqual({ query: ['Must be a string.'] });
    expect(refused({ phrase: { original_filename: 'abc', metadata: 'long enough' } })).toEqual({ phrase: { original_filename: ['Must be at least 4 characters.'] } });
  });

  it('reads phrases per field as folded, split words, and refuses empty or unknown ones', () => {
    expect(criteriaOf({ phrase: { original_filename: 'SunsetBeach 2024', metadata: 'Golden Hour', detected_mime_type: 'image/jpeg' } }).phrases).toEqual([
      { field: 'filename', text: 'sunset beach 2024', words: ['sunset', 'beach', '2024'] },
      { field: 'mime', text: 'image jpeg', words: ['image', 'jpeg'] },
      { field: 'metadata', text: 'golden hour', words: ['golden', 'hour'] },
    ]);
    expect(refused({ phrase: {} })).toEqual({ phrase: { non_field_errors: ['At least one of original_filename, detected_mime_type or metadata is required.'] } });
    expect(refused({ phrase: { title: 'long enough' } })).toEqual({ phrase: { title: ['Unknown field.'] } });
    expect(refused({ phrase: 'sunset' })).toEqual({ phrase: ['Must be an object with original_filename, detected_mime_type or metadata.'] });
  });

  it('reads exact values per field, uuids and MIME types in lower case, metadata by key', () => {
    const { exact } = criteriaOf({
      exact: { uuid: ['ABC', 'abc'], detected_mime_type: ['Image/PNG'], original_filename: ['A.jpg'], 'metadata[z]': ['1'], 'metadata[a.b:c-d_e]': ['x', 'y'] },
    });
    expect(exact).toEqual({
      uuids: ['abc', 'abc'],
      mimeTypes: ['image/png'],
      filenames: ['A.jpg'],
      metadata: [
        { key: 'a.b:c-d_e', values: ['x', 'y'] },
        { key: 'z', values: ['1'] },
      ],
    });
    expect(refused({ exact: {} })).toEqual({ exact: { non_field_errors: ['At least one of uuid, detected_mime_type, original_filename or metadata[<key>] is required.'] } });
    expect(refused({ exact: { 'metadata[bad key]': ['x'] } })?.exact).toHaveProperty(['metadata[bad key]']);
    expect(refused({ exact: { [`metadata[${'k'.repeat(65)}]`]: ['x'] } })?.exact).toBeDefined();
    expect(refused({ exact: { colour: ['red'] } })?.exact).toHaveProperty('colour');
    const keys = (n: number) => Object.fromEntries(Array.from({ length: n }, (_, i) => [`metadata[k${i}]`, ['v']]));
    expect(refused({ exact: keys(50) })).toBeUndefined();
    expect(refused({ exact: keys(51) })).toEqual({ exact: { non_field_errors: ['At most 50 metadata[<key>] fields: a file has no more metadata keys.'] } });
    const list = 'Must be a list of 1 to 100 non-empty strings of at most 512 characters, without NUL characters.';
    for (const values of [[], [''], [1], 'x', Array.from({ length: 101 }, (_, i) => `v${i}`), ['y'.repeat(513)], ['a\u0000b']]) {
      expect(refused({ exact: { uuid: values } }), JSON.stringify(values).slice(0, 30)).toEqual({ exact: { uuid: [list] } });
    }
  });

  it('refuses a field in both phrase and exact', () => {
    const both = (field: string) => ({ non_field_errors: [`${field} cannot appear in both phrase and exact.`] });
    expect(refused({ phrase: { original_filename: 'sunset' }, exact: { original_filename: ['a'] } })).toEqual(both('original_filename'));
    expect(refused({ phrase: { detected_mime_type: 'image' }, exact: { detected_mime_type: ['image/png'] } })).toEqual(both('detected_mime_type'));
    expect(refused({ phrase: { metadata: 'golden' }, exact: { 'metadata[alt]': ['x'] } })).toEqual(both('metadata'));
    expect(refused({ phrase: { original_filename: 'sunset' }, exact: { detected_mime_type: ['image/png'] } })).toBeUndefined();
  });

  it('reads ranges: dates to the stored form (UTC), whole sizes; refuses empty, unknown, malformed and impossible ones', () => {
    expect(criteriaOf({ datetime_uploaded: { gte: '2026-01-31', lt: '2026-02-01T12:30:00+02:00' } }).uploaded).toEqual({
      gte: '2026-01-31T00:00:00.000Z',
      lt: '2026-02-01T10:30:00.000Z',
    });
    // Without a zone, a time is UTC.
    expect(criteriaOf({ datetime_uploaded: { gt: '2026-01-31T12:00:00' } }).uploaded).toEqual({ gt: '2026-01-31T12:00:00.000Z' });
    expect(criteriaOf({ size: { gt: 0, lte: 1e6 } }).size).toEqual({ gt: 0, lte: 1_000_000 });
    const date = 'Must be an ISO 8601 date or date-time, e.g. 2026-01-31T12:00:00Z.';
    for (const bad of ['2026-02-30', '2026-13-01', 'yesterday', '', 20260131, '2026-01-31T25:00:00Z']) {
      expect(refused({ datetime_uploaded: { gt: bad } }), String(bad)).toEqual({ datetime_uploaded: { gt: [date] } });
    }
    for (const bad of [1.5, '10', -1, 2 ** 53, null, true]) {
      const errors = refused({ size: { lt: bad } });
      expect(errors, String(bad)).toEqual({ size: { lt: [bad === -1 ? 'Must be 0 or more.' : 'A valid integer is required.'] } });
    }
    expect(refused({ size: {} })).toEqual({ size: { non_field_errors: ['At least one of gt, gte, lt or lte is required.'] } });
    expect(refused({ size: { gt: 1, between: 2 } })).toEqual({ size: { between: ['Unknown field.'] } });
    expect(refused({ size: 5 })).toEqual({ size: ['Must be an object with gt, gte, lt or lte.'] });
    const nothing = { non_field_errors: ['No value lies in this range: the lower bound is not below the upper one.'] };
    expect(refused({ size: { gt: 10, lt: 5 } })).toEqual({ size: nothing });
    expect(refused({ size: { gt: 5, lt: 6 } })).toEqual({ size: nothing });
    expect(refused({ size: { gte: 5, lt: 5 } })).toEqual({ size: nothing });
    expect(refused({ size: { gte: 5, lte: 5 } })).toBeUndefined();
    expect(refused({ datetime_uploaded: { gt: '2026-01-02', lte: '2026-01-01' } })).toEqual({ datetime_uploaded: nothing });
  });

  it('reads is_image and fuzziness as booleans only', () => {
    expect(criteriaOf({ is_image: false }).isImage).toBe(false);
    expect(criteriaOf({ is_image: true, fuzziness: true })).toMatchObject({ isImage: true, fuzziness: true });
    for (const bad of ['true', 1, null]) {
      expect(refused({ is_image: bad })).toEqual({ is_image: ['Must be a boolean value.'] });
      expect(refused({ query: 'long enough', fuzziness: bad })).toEqual({ fuzziness: ['Must be a boolean value.'] });
    }
  });

  it('normalises tag filters as tags are stored, and refuses broken or empty ones', () => {
    expect(criteriaOf({ tags: { any: [' Cat ', 'cat', 'DOG'], all: ['x'], none: [] } }).tags).toEqual({ any: ['cat', 'dog'], all: ['x'], none: [] });
    expect(criteriaOf({ tags: { none: ['old'] } }).tags).toEqual({ any: null, all: [], none: ['old'] });
    expect(refused({ tags: { any: [], all: [''] } })).toEqual({ tags: { non_field_errors: ['At least one tag is required.'] } });
    expect(refused({ tags: { any: ['a b'] } })?.tags).toHaveProperty('any');
    expect(refused({ tags: { any: 'cat' } })).toEqual({ tags: { any: ['Must be a list of at most 50 tags.'] } });
    expect(refused({ tags: { any: Array.from({ length: 51 }, (_, i) => `t${i}`) } })).toEqual({ tags: { any: ['Must be a list of at most 50 tags.'] } });
    expect(refused({ tags: { some: ['cat'] } })).toEqual({ tags: { some: ['Unknown field.'] } });
  });

  it('reads 1 to 4 sort keys, each field once; defaults to relevance for text, else newest first', () => {
    expect(criteriaOf({ is_image: true, sort: ['-score', 'size', '-datetime_uploaded', 'original_filename'] }).sort).toEqual([
      { field: 'score', descending: true },
      { field: 'size', descending: false },
      { field: 'datetime_uploaded', descending: true },
      { field: 'original_filename', descending: false },
    ]);
    const sortList = 'Must be a list of 1 to 4 sort keys: score, -score, datetime_uploaded, -datetime_uploaded, size, -size, original_filename, -original_filename.';
    expect(refused({ is_image: true, sort: [] })).toEqual({ sort: [sortList] });
    expect(refused({ is_image: true, sort: ['size', '-score', 'datetime_uploaded', 'original_filename', 'score'] })).toEqual({ sort: [sortList] });
    expect(refused({ is_image: true, sort: 'size' })).toEqual({ sort: [sortList] });
    expect(refused({ is_image: true, sort: ['size', '-size'] })).toEqual({ sort: ['size may appear once, in one direction.'] });
    expect(refused({ is_image: true, sort: ['colour'] })?.sort).toEqual([expect.stringContaining('"colour" is not a valid choice')]);
    expect(effectiveSort(criteriaOf({ query: 'sunset' }))).toEqual([
      { field: 'score', descending: true },
      { field: 'datetime_uploaded', descending: true },
    ]);
    expect(effectiveSort(criteriaOf({ is_image: true }))).toEqual([{ field: 'datetime_uploaded', descending: true }]);
  });

  it('pages by limit (1–100, default 20) and offset, with offset + limit below 1000', () => {
    const paging = (params: FileSearchParams) => parseFileSearch({ is_image: true }, params).paging;
    expect(paging({})).toEqual({ limit: 20, offset: 0, appdata: false });
    expect(paging({ limit: '100', offset: '899', include: 'appdata' })).toEqual({ limit: 100, offset: 899, appdata: true });
    expect(paging({ limit: '', offset: '' })).toEqual({ limit: 20, offset: 0, appdata: false });
    const limit = { limit: ['Must be an integer from 1 to 100.'] };
    for (const bad of ['0', '101', '-1', '1.5', 'ten', '9999999']) expect(refused({ is_image: true }, { limit: bad }), bad).toEqual(limit);
    expect(refused({ is_image: true }, { limit: '100', offset: '900' })).toEqual({ offset: ['offset + limit must be less than 1000.'] });
    expect(refused({ is_image: true }, { offset: '980' })).toEqual({ offset: ['offset + limit must be less than 1000.'] });
    expect(refused({ is_image: true }, { offset: '979' })).toBeUndefined();
    expect(refused({ is_image: true }, { offset: '-5' })).toEqual({ offset: ['Must be an integer of 0 or more.'] });
    expect(refused({ is_image: true }, { include: 'files' })).toEqual({ include: ['"files" is not a valid choice. The only value is "appdata".'] });
  });

  it('reads Trove’s stored and mime_type parameters', () => {
    expect(criteriaOf({ is_image: true }, { stored: 'false', mime_type: ' Image/* , application/pdf,,' })).toMatchObject({ stored: false, mimeTypes: ['image/*', 'application/pdf'] });
    expect(refused({ is_image: true }, { stored: 'maybe' })).toEqual({ stored: ['Must be true or false.'] });
    expect(refused({ is_image: true }, { mime_type: 'not a type' })).toHaveProperty('mime_type');
  });

  it('names every refused field in one answer', () => {
    expect(refused({ query: 'abc', colour: 'red', size: { gt: -1 }, sort: ['size', 'size'] }, { limit: '0' })).toEqual({
      limit: ['Must be an integer from 1 to 100.'],
      colour: ['Unknown field.'],
      query: ['Must be at least 4 characters.'],
      size: { gt: ['Must be 0 or more.'] },
      sort: ['size may appear once, in one direction.'],
    });
  });

  it('links the neighbouring pages, cutting the last one short at the window', () => {
    expect(searchPages({ limit: 20, offset: 0 }, 45)).toEqual({ next: { limit: 20, offset: 20 }, previous: null });
    expect(searchPages({ limit: 20, offset: 40 }, 45)).toEqual({ next: null, previous: { limit: 20, offset: 20 } });
    expect(searchPages({ limit: 20, offset: 10 }, 45)).toEqual({ next: { limit: 20, offset: 30 }, previous: { limit: 10, offset: 0 } });
    expect(searchPages({ limit: 100, offset: 800 }, 5000)).toEqual({ next: { limit: 99, offset: 900 }, previous: { limit: 100, offset: 700 } });
    expect(searchPages({ limit: 99, offset: 900 }, 5000).next).toBeNull();
  });
});

describe('search highlights', () => {
  const file = { originalFilename: 'Sunset-Beach_Éternité.JPG', mimeType: 'image/jpeg', metadata: { alt: 'A <b>sunset</b> & sea', camera: 'Nikon' } };

  it('marks query terms and their stand-ins in every field they occur in, escaping the rest', () => {
    expect(highlightOf(file, criteriaOf({ query: 'sunset jpeg' }), {})).toEqual({
      originalFilename: ['<em>Sunset</em>-Beach_Éternité.JPG'],
      detectedMimeType: ['image/<em>jpeg</em>'],
      metadata: { alt: 'A &lt;b&gt;<em>sunset</em>&lt;/b&gt; &amp; sea' },
    });
    expect(highlightOf(file, criteriaOf({ query: 'nikkon', fuzziness: true }), { nikkon: ['nikon'] })).toEqual({ metadata: { camera: '<em>Nikon</em>' } });
    expect(highlightOf(file, criteriaOf({ query: 'ETERNITE beach' }), {})).toEqual({ originalFilename: ['Sunset-<em>Beach</em>_<em>Éternité</em>.JPG'] });
  });

  it('marks a phrase only in its own field, and nothing for conditions that are not full-text', () => {
    expect(highlightOf(file, criteriaOf({ phrase: { metadata: 'sunset sea' } }), {})).toEqual({ metadata: { alt: 'A &lt;b&gt;<em>sunset</em>&lt;/b&gt; &amp; sea' } });
    expect(highlightOf(file, criteriaOf({ tags: { any: ['sunset'] } }), {})).toBeNull();
  });
});
