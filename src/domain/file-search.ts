/**
 * Uploadcare's file search (`POST /files/search/`): the request as clients send it, checked and
 * turned into criteria the repositories run. Refusals name the field they are about, in the shape
 * Uploadcare answers (`{"query": ["Must be at least 4 characters."]}`, nested for a field's fields,
 * `non_field_errors` for what concerns a whole level), which its SDK reads as a validation error.
 */
import { createAppError, isAppError, type FieldErrors } from '../errors.js';
import { isUuid } from './file.js';
import { highlightText, phraseText, phraseWords, queryTerms, SEARCH_FIELDS, type SearchableFile, type SearchField } from './search-text.js';
import { normalizeTags, TAG_LIMITS } from './tags.js';

export const SEARCH_LIMITS = {
  /** Results per page: default and most. */
  defaultLimit: 20,
  maxLimit: 100,
  /** `offset + limit` must stay below this: search pages through the first 999 results at most. */
  window: 1000,
  /** Characters of a `query` or a phrase, after trimming. */
  minTextLength: 4,
  maxTextLength: 512,
  /** Words of at least four characters in a `query`. */
  maxQueryTerms: 16,
  /** Values of one `exact` field, and characters of each. */
  maxExactValues: 100,
  /** `metadata[<key>]` fields of one `exact`: a file has no more keys than this. */
  maxExactMetadataKeys: 50,
  maxExactValueLength: 512,
  /** Tags in each of `any`, `all` and `none`. */
  maxTagsPerList: TAG_LIMITS.maxTags,
  maxSortKeys: 4,
  /** Trove's `mime_type` query parameter: types or `type/*` prefixes. */
  maxMimeTypes: 20,
} as const;

const SEARCH_SORT_FIELDS = ['score', 'datetime_uploaded', 'size', 'original_filename'] as const;
export type SearchSortField = (typeof SEARCH_SORT_FIELDS)[number];
/** The sort keys `sort` accepts: a field, `-` in front for descending. */
export const SEARCH_SORT_KEYS = SEARCH_SORT_FIELDS.flatMap((field) => [field, `-${field}`]);

const SEARCH_CONDITIONS = ['query', 'phrase', 'exact', 'datetime_uploaded', 'size', 'is_image', 'tags'] as const;
const MODIFIERS = ['fuzziness', 'sort'] as const;
const PHRASE_FIELDS = { original_filename: 'filename', detected_mime_type: 'mime', metadata: 'metadata' } as const satisfies Record<string, SearchField>;
const BOUNDS = ['gt', 'gte', 'lt', 'lte'] as const;
/** `metadata[<key>]` of `exact`, with Uploadcare's metadata key rules. */
const EXACT_METADATA_KEY = /^metadata\[([A-Za-z0-9_.:-]{1,64})\]$/;
const ISO_DATE = /^(\d{4})-(\d{2})-(\d{2})(T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})?)?$/;
const MIME = /^[a-z0-9][a-z0-9!#$&^_.+-]{0,63}\/(\*|[a-z0-9][a-z0-9!#$&^_.+-]{0,126})$/;

/** The messages refusals carry; the route schemas use the same words. */
export const SEARCH_MESSAGES = {
  notObject: 'Expected a JSON object of search conditions.',
  unknownField: 'Unknown field.',
  noCondition: `At least one search condition is required: ${SEARCH_CONDITIONS.join(', ')}.`,
  string: 'Must be a string.',
  tooShort: `Must be at least ${SEARCH_LIMITS.minTextLength} characters.`,
  tooLong: `Must be at most ${SEARCH_LIMITS.maxTextLength} characters.`,
  tooManyTerms: `At most ${SEARCH_LIMITS.maxQueryTerms} words of ${SEARCH_LIMITS.minTextLength} or more characters.`,
  boolean: 'Must be a boolean value.',
  integer: 'A valid integer is required.',
  notNegative: 'Must be 0 or more.',
  date: 'Must be an ISO 8601 date or date-time, e.g. 2026-01-31T12:00:00Z.',
  range: 'Must be an object with gt, gte, lt or lte.',
  rangeEmpty: 'At least one of gt, gte, lt or lte is required.',
  rangeNothing: 'No value lies in this range: the lower bound is not below the upper one.',
  phrase: 'Must be an object with original_filename, detected_mime_type or metadata.',
  phraseEmpty: 'At least one of original_filename, detected_mime_type or metadata is required.',
  exact: 'Must be an object with uuid, detected_mime_type, original_filename or metadata[<key>].',
  exactEmpty: 'At least one of uuid, detected_mime_type, original_filename or metadata[<key>] is required.',
  exactKey: 'Unknown field: use uuid, detected_mime_type, original_filename or metadata[<key>] with a key of 1–64 characters from A-Z a-z 0-9 _ - . :.',
  exactValues: `Must be a list of 1 to ${SEARCH_LIMITS.maxExactValues} non-empty strings of at most ${SEARCH_LIMITS.maxExactValueLength} characters, without NUL characters.`,
  exactMetadataKeys: `At most ${SEARCH_LIMITS.maxExactMetadataKeys} metadata[<key>] fields: a file has no more metadata keys.`,
  tags: 'Must be an object with any, all or none.',
  tagList: `Must be a list of at most ${SEARCH_LIMITS.maxTagsPerList} tags.`,
  tagsEmpty: 'At least one tag is required.',
  sort: `Must be a list of 1 to ${SEARCH_LIMITS.maxSortKeys} sort keys: ${SEARCH_SORT_KEYS.join(', ')}.`,
  limit: `Must be an integer from 1 to ${SEARCH_LIMITS.maxLimit}.`,
  offset: 'Must be an integer of 0 or more.',
  window: `offset + limit must be less than ${SEARCH_LIMITS.window}.`,
  include: 'The only value is "appdata".',
  stored: 'Must be true or false.',
  mimeTypes: `Must be up to ${SEARCH_LIMITS.maxMimeTypes} comma-separated MIME types or type/* prefixes, e.g. image/*,application/pdf.`,
} as const;

/** Bounds of a range; each may be missing. */
export interface SearchRange<T> {
  gt?: T;
  gte?: T;
  lt?: T;
  lte?: T;
}

/** A `phrase` condition on one field. */
export interface SearchPhrase {
  field: SearchField;
  /** Folded words joined by spaces: matched as a substring of one value's words (see search-text.ts). */
  text: string;
  /** Its words of four characters or more: what typo tolerance and highlights look for. */
  words: string[];
}

/** What a search asks, checked and normalised; conditions combine with AND. */
export interface FileSearchCriteria {
  /** `query`: every term in some field (or the file's uuid, when the query is one). */
  query: { terms: string[]; uuid: string | null } | null;
  phrases: SearchPhrase[];
  exact: {
    uuids: string[] | null;
    mimeTypes: string[] | null;
    filenames: string[] | null;
    /** Each key's value must be one of its values. */
    metadata: Array<{ key: string; values: string[] }>;
  };
  uploaded: SearchRange<string> | null;
  size: SearchRange<number> | null;
  isImage: boolean | null;
  tags: { any: string[] | null; all: string[]; none: string[] };
  /** Typo tolerance for `query` and `phrase`. */
  fuzziness: boolean;
  /** Applied in order; ties end by uuid. */
  sort: Array<{ field: SearchSortField; descending: boolean }>;
  /** Trove: stored files only (true), temporary ones only (false), or both. */
  stored: boolean | null;
  /** Trove: exact MIME types or `type/*` prefixes, any of them. */
  mimeTypes: string[] | null;
}

export interface FileSearchPaging {
  limit: number;
  offset: number;
  /** `include=appdata`. */
  appdata: boolean;
}

/** The query-string parameters of a search (strings, as they arrive). */
export interface FileSearchParams {
  limit?: string | undefined;
  offset?: string | undefined;
  include?: string | undefined;
  stored?: string | undefined;
  mime_type?: string | undefined;
}

type Json = Record<string, unknown>;
const isObject = (value: unknown): value is Json => typeof value === 'object' && value !== null && !Array.isArray(value);
const charCount = (text: string): number => Array.from(text).length;

/** Collects refusals as it goes, so one answer names every bad field. */
class Refusals {
  readonly errors: FieldErrors = {};

  add(path: readonly string[], message: string): void {
    let level = this.errors;
    const segments = path.length === 0 ? ['non_field_errors'] : path;
    segments.slice(0, -1).forEach((segment) => {
      const next = level[segment];
      if (next !== undefined && !Array.isArray(next)) {
        level = next;
      } else {
        const created: FieldErrors = {};
        // A level that already holds messages keeps them under non_field_errors.
        if (Array.isArray(next)) created.non_field_errors = next;
        level[segment] = created;
        level = created;
      }
    });
    const last = segments.at(-1) ?? 'non_field_errors';
    const existing = level[last];
    if (Array.isArray(existing)) {
      existing.push(message);
    } else if (existing !== undefined) {
      const messages = existing.non_field_errors;
      if (Array.isArray(messages)) messages.push(message);
      else existing.non_field_errors = [message];
    } else {
      level[last] = [message];
    }
  }

  get empty(): boolean {
    return Object.keys(this.errors).length === 0;
  }
}

/** The first line of a set of refusals, for logs and the error's message. */
function summary(errors: FieldErrors, prefix = ''): string {
  for (const [field, value] of Object.entries(errors)) {
    const name = field === 'non_field_errors' ? prefix : prefix ? `${prefix}.${field}` : field;
    if (Array.isArray(value)) return name ? `${name}: ${value[0] ?? ''}` : (value[0] ?? '');
    return summary(value, name);
  }
  return 'Invalid search.';
}

/** Throws the refusals collected, as one 400. */
function searchRefusal(errors: FieldErrors): Error {
  return createAppError('PARAMETER_INVALID', 400, summary(errors), { fields: errors });
}

function readText(value: unknown, path: string[], refusals: Refusals): string | null {
  if (typeof value !== 'string') {
    refusals.add(path, SEARCH_MESSAGES.string);
    return null;
  }
  const text = value.trim();
  const length = charCount(text);
  if (length < SEARCH_LIMITS.minTextLength) refusals.add(path, SEARCH_MESSAGES.tooShort);
  else if (length > SEARCH_LIMITS.maxTextLength) refusals.add(path, SEARCH_MESSAGES.tooLong);
  else return text;
  return null;
}

function readBoolean(value: unknown, path: string[], refusals: Refusals): boolean | null {
  if (typeof value === 'boolean') return value;
  refusals.add(path, SEARCH_MESSAGES.boolean);
  return null;
}

/** A date or date-time as the stored form (UTC, milliseconds); one without a zone is read as UTC. */
function readDate(value: unknown): string | null {
  if (typeof value !== 'string') return null;
  const text = value.trim();
  const match = ISO_DATE.exec(text);
  if (!match) return null;
  const [year, month, day] = [Number(match[1]), Number(match[2]), Number(match[3])];
  // Date.parse rolls 2026-02-30 over into March; the calendar does not.
  const calendar = new Date(Date.UTC(year, month - 1, day));
  if (calendar.getUTCFullYear() !== year || calendar.getUTCMonth() !== month - 1 || calendar.getUTCDate() !== day) return null;
  const ms = Date.parse(match[4] !== undefined && match[7] === undefined ? `${text}Z` : text);
  return Number.isFinite(ms) ? new Date(ms).toISOString() : null;
}

function readSize(value: unknown): number | null {
  return typeof value === 'number' && Number.isSafeInteger(value) ? value : null;
}

function readRange<T extends string | number>(
  value: unknown,
  name: string,
  read: (raw: unknown) => T | null,
  message: string,
  refusals: Refusals,
  checkBound?: (bound: T) => string | null,
): SearchRange<T> | null {
  if (!isObject(value)) {
    refusals.add([name], SEARCH_MESSAGES.range);
    return null;
  }
  const range: SearchRange<T> = {};
  let ok = true;
  for (const key of Object.keys(value)) {
    if (!(BOUNDS as readonly string[]).includes(key)) {
      refusals.add([name, key], SEARCH_MESSAGES.unknownField);
      ok = false;
    }
  }
  for (const bound of BOUNDS) {
    if (!(bound in value)) continue;
    const parsed = read(value[bound]);
    const problem = parsed === null ? message : (checkBound?.(parsed) ?? null);
    if (problem !== null || parsed === null) {
      refusals.add([name, bound], problem ?? message);
      ok = false;
    } else {
      range[bound] = parsed;
    }
  }
  if (!ok) return null;
  if (Object.keys(range).length === 0) {
    refusals.add([name, 'non_field_errors'], SEARCH_MESSAGES.rangeEmpty);
    return null;
  }
  if (isEmptyRange(range)) {
    refusals.add([name, 'non_field_errors'], SEARCH_MESSAGES.rangeNothing);
    return null;
  }
  return range;
}

/** True when no value satisfies every bound (integers for sizes, instants for dates). */
function isEmptyRange<T extends string | number>(range: SearchRange<T>): boolean {
  const lowers: Array<{ at: T; open: boolean }> = [];
  const uppers: Array<{ at: T; open: boolean }> = [];
  if (range.gt !== undefined) lowers.push({ at: range.gt, open: true });
  if (range.gte !== undefined) lowers.push({ at: range.gte, open: false });
  if (range.lt !== undefined) uppers.push({ at: range.lt, open: true });
  if (range.lte !== undefined) uppers.push({ at: range.lte, open: false });
  for (const lower of lowers) {
    for (const upper of uppers) {
      if (lower.at > upper.at) return true;
      if (lower.at === upper.at && (lower.open || upper.open)) return true;
      // Sizes are whole bytes: nothing lies strictly between n and n + 1.
      if (typeof lower.at === 'number' && typeof upper.at === 'number' && lower.open && upper.open && upper.at - lower.at <= 1) return true;
    }
  }
  return false;
}

function readExactValues(value: unknown, path: string[], refusals: Refusals): string[] | null {
  // No stored name, type or metadata value holds a NUL (PostgreSQL text cannot), so a value with one is malformed.
  const valid =
    Array.isArray(value) &&
    value.length >= 1 &&
    value.length <= SEARCH_LIMITS.maxExactValues &&
    value.every((item) => typeof item === 'string' && item !== '' && !item.includes('\u0000') && charCount(item) <= SEARCH_LIMITS.maxExactValueLength);
  if (!valid) {
    refusals.add(path, SEARCH_MESSAGES.exactValues);
    return null;
  }
  return [...new Set(value as string[])];
}

function readExact(value: unknown, refusals: Refusals): FileSearchCriteria['exact'] | null {
  const exact: FileSearchCriteria['exact'] = { uuids: null, mimeTypes: null, filenames: null, metadata: [] };
  if (!isObject(value)) {
    refusals.add(['exact'], SEARCH_MESSAGES.exact);
    return null;
  }
  const keys = Object.keys(value);
  if (keys.length === 0) {
    refusals.add(['exact', 'non_field_errors'], SEARCH_MESSAGES.exactEmpty);
    return null;
  }
  for (const key of keys) {
    const path = ['exact', key];
    if (key === 'uuid') exact.uuids = readExactValues(value[key], path, refusals)?.map((uuid) => uuid.toLowerCase()) ?? null;
    else if (key === 'detected_mime_type') exact.mimeTypes = readExactValues(value[key], path, refusals)?.map((type) => type.toLowerCase()) ?? null;
    else if (key === 'original_filename') exact.filenames = readExactValues(value[key], path, refusals);
    else {
      const metadataKey = EXACT_METADATA_KEY.exec(key)?.[1];
      if (metadataKey === undefined) {
        refusals.add(path, SEARCH_MESSAGES.exactKey);
        continue;
      }
      const values = readExactValues(value[key], path, refusals);
      if (values) exact.metadata.push({ key: metadataKey, values });
    }
  }
  if (exact.metadata.length > SEARCH_LIMITS.maxExactMetadataKeys) {
    refusals.add(['exact', 'non_field_errors'], SEARCH_MESSAGES.exactMetadataKeys);
    return null;
  }
  exact.metadata.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  return exact;
}

function readPhrases(value: unknown, refusals: Refusals): SearchPhrase[] | null {
  if (!isObject(value)) {
    refusals.add(['phrase'], SEARCH_MESSAGES.phrase);
    return null;
  }
  const phrases: SearchPhrase[] = [];
  for (const key of Object.keys(value)) {
    if (!Object.hasOwn(PHRASE_FIELDS, key)) refusals.add(['phrase', key], SEARCH_MESSAGES.unknownField);
  }
  let given = 0;
  for (const [key, field] of Object.entries(PHRASE_FIELDS)) {
    if (!(key in value)) continue;
    given += 1;
    const text = readText(value[key], ['phrase', key], refusals);
    if (text !== null) phrases.push({ field, text: phraseText(text), words: phraseWords(text) });
  }
  if (given === 0 && Object.keys(value).length === 0) {
    refusals.add(['phrase', 'non_field_errors'], SEARCH_MESSAGES.phraseEmpty);
    return null;
  }
  return phrases;
}

function readTags(value: unknown, refusals: Refusals): FileSearchCriteria['tags'] | null {
  if (!isObject(value)) {
    refusals.add(['tags'], SEARCH_MESSAGES.tags);
    return null;
  }
  const lists: Record<'any' | 'all' | 'none', string[] | null> = { any: null, all: null, none: null };
  let ok = true;
  const refuse = (key: string, message: string) => {
    refusals.add(['tags', key], message);
    ok = false;
  };
  for (const key of Object.keys(value)) {
    if (key !== 'any' && key !== 'all' && key !== 'none') {
      refuse(key, SEARCH_MESSAGES.unknownField);
      continue;
    }
    const raw = value[key];
    if (!Array.isArray(raw) || raw.length > SEARCH_LIMITS.maxTagsPerList || !raw.every((tag) => typeof tag === 'string')) {
      refuse(key, SEARCH_MESSAGES.tagList);
      continue;
    }
    try {
      // Stored tags are normalised; a filter is too, so `Cat ` finds `cat`.
      lists[key] = normalizeTags(raw, 'PARAMETER_INVALID');
    } catch (error) {
      if (!isAppError(error)) throw error;
      refuse(key, error.message);
    }
  }
  if (!ok) return null;
  const any = lists.any && lists.any.length > 0 ? lists.any : null;
  const all = lists.all ?? [];
  const none = lists.none ?? [];
  if (any === null && all.length === 0 && none.length === 0) {
    refusals.add(['tags', 'non_field_errors'], SEARCH_MESSAGES.tagsEmpty);
    return null;
  }
  return { any, all, none };
}

function readSort(value: unknown, refusals: Refusals): FileSearchCriteria['sort'] | null {
  if (!Array.isArray(value) || value.length < 1 || value.length > SEARCH_LIMITS.maxSortKeys || !value.every((key) => typeof key === 'string')) {
    refusals.add(['sort'], SEARCH_MESSAGES.sort);
    return null;
  }
  const sort: FileSearchCriteria['sort'] = [];
  const seen = new Set<string>();
  for (const key of value) {
    const descending = key.startsWith('-');
    const field = descending ? key.slice(1) : key;
    if (!(SEARCH_SORT_FIELDS as readonly string[]).includes(field)) {
      refusals.add(['sort'], `${JSON.stringify(key.slice(0, 40))} is not a valid choice; the choices are ${SEARCH_SORT_KEYS.join(', ')}.`);
      continue;
    }
    if (seen.has(field)) {
      refusals.add(['sort'], `${field} may appear once, in one direction.`);
      continue;
    }
    seen.add(field);
    sort.push({ field: field as SearchSortField, descending });
  }
  return sort;
}

/** `limit`, `offset`, `include` and Trove's `stored` and `mime_type`. */
function readParams(params: FileSearchParams, refusals: Refusals): { paging: FileSearchPaging; stored: boolean | null; mimeTypes: string[] | null } {
  const paging: FileSearchPaging = { limit: SEARCH_LIMITS.defaultLimit, offset: 0, appdata: false };
  if (params.limit !== undefined && params.limit !== '') {
    const limit = /^[0-9]{1,6}$/.test(params.limit) ? Number(params.limit) : NaN;
    if (limit >= 1 && limit <= SEARCH_LIMITS.maxLimit) paging.limit = limit;
    else refusals.add(['limit'], SEARCH_MESSAGES.limit);
  }
  let offsetOk = true;
  if (params.offset !== undefined && params.offset !== '') {
    if (/^[0-9]{1,9}$/.test(params.offset)) paging.offset = Number(params.offset);
    else {
      refusals.add(['offset'], SEARCH_MESSAGES.offset);
      offsetOk = false;
    }
  }
  if (offsetOk && paging.offset + paging.limit >= SEARCH_LIMITS.window) refusals.add(['offset'], SEARCH_MESSAGES.window);
  if (params.include !== undefined && params.include !== '') {
    if (params.include === 'appdata') paging.appdata = true;
    else refusals.add(['include'], `${JSON.stringify(params.include.slice(0, 40))} is not a valid choice. ${SEARCH_MESSAGES.include}`);
  }
  let stored: boolean | null = null;
  if (params.stored !== undefined && params.stored !== '') {
    if (params.stored === 'true' || params.stored === '1') stored = true;
    else if (params.stored === 'false' || params.stored === '0') stored = false;
    else refusals.add(['stored'], SEARCH_MESSAGES.stored);
  }
  let mimeTypes: string[] | null = null;
  if (params.mime_type !== undefined && params.mime_type.trim() !== '') {
    const types = [...new Set(params.mime_type.split(',').map((type) => type.trim().toLowerCase()).filter(Boolean))];
    if (types.length <= SEARCH_LIMITS.maxMimeTypes && types.every((type) => MIME.test(type))) mimeTypes = types;
    else refusals.add(['mime_type'], SEARCH_MESSAGES.mimeTypes);
  }
  return { paging, stored, mimeTypes };
}

/**
 * Checks a search request (its JSON body and query string) and returns what it asks. Throws one 400
 * naming every field it refuses (see FieldErrors); a body that is no object is refused whole.
 */
export function parseFileSearch(body: unknown, params: FileSearchParams): { criteria: FileSearchCriteria; paging: FileSearchPaging } {
  const refusals = new Refusals();
  const { paging, stored, mimeTypes } = readParams(params, refusals);
  if (body !== undefined && body !== null && !isObject(body)) {
    refusals.add([], SEARCH_MESSAGES.notObject);
    throw searchRefusal(refusals.errors);
  }
  // Uploadcare reads a missing body as an empty object (which then lacks a condition).
  const request: Json = isObject(body) ? body : {};
  const known: readonly string[] = [...SEARCH_CONDITIONS, ...MODIFIERS];
  for (const key of Object.keys(request)) if (!known.includes(key)) refusals.add([key], SEARCH_MESSAGES.unknownField);

  const criteria: FileSearchCriteria = {
    query: null,
    phrases: [],
    exact: { uuids: null, mimeTypes: null, filenames: null, metadata: [] },
    uploaded: null,
    size: null,
    isImage: null,
    tags: { any: null, all: [], none: [] },
    fuzziness: false,
    sort: [],
    stored,
    mimeTypes,
  };
  if ('query' in request) {
    const text = readText(request.query, ['query'], refusals);
    if (text !== null) {
      const terms = queryTerms(text);
      if (terms.length > SEARCH_LIMITS.maxQueryTerms) refusals.add(['query'], SEARCH_MESSAGES.tooManyTerms);
      const folded = text.toLowerCase();
      criteria.query = { terms, uuid: isUuid(folded) ? folded : null };
    }
  }
  if ('phrase' in request) criteria.phrases = readPhrases(request.phrase, refusals) ?? [];
  if ('exact' in request) criteria.exact = readExact(request.exact, refusals) ?? criteria.exact;
  if ('datetime_uploaded' in request) criteria.uploaded = readRange(request.datetime_uploaded, 'datetime_uploaded', readDate, SEARCH_MESSAGES.date, refusals);
  if ('size' in request) {
    criteria.size = readRange(request.size, 'size', readSize, SEARCH_MESSAGES.integer, refusals, (bound) => (bound < 0 ? SEARCH_MESSAGES.notNegative : null));
  }
  if ('is_image' in request) criteria.isImage = readBoolean(request.is_image, ['is_image'], refusals);
  if ('tags' in request) criteria.tags = readTags(request.tags, refusals) ?? criteria.tags;
  if ('fuzziness' in request) criteria.fuzziness = readBoolean(request.fuzziness, ['fuzziness'], refusals) ?? false;
  if ('sort' in request) criteria.sort = readSort(request.sort, refusals) ?? [];

  const phraseFields = new Set(criteria.phrases.map((phrase) => phrase.field));
  const exactFields: Array<[SearchField, boolean]> = [
    ['filename', criteria.exact.filenames !== null],
    ['mime', criteria.exact.mimeTypes !== null],
    ['metadata', criteria.exact.metadata.length > 0],
  ];
  for (const [field, inExact] of exactFields) {
    if (inExact && phraseFields.has(field)) {
      const name = Object.entries(PHRASE_FIELDS).find(([, value]) => value === field)?.[0] ?? field;
      refusals.add([], `${name} cannot appear in both phrase and exact.`);
    }
  }
  if (!SEARCH_CONDITIONS.some((condition) => condition in request)) refusals.add([], SEARCH_MESSAGES.noCondition);
  if (!refusals.empty) throw searchRefusal(refusals.errors);
  return { criteria, paging };
}

/** Whether a search ranks by text (a `query` or a `phrase`), which makes relevance its default order. */
function hasTextCondition(criteria: Pick<FileSearchCriteria, 'query' | 'phrases'>): boolean {
  return criteria.query !== null || criteria.phrases.length > 0;
}

/** The order a search applies when it names none: relevance for text, else newest first. */
export function effectiveSort(criteria: Pick<FileSearchCriteria, 'query' | 'phrases' | 'sort'>): FileSearchCriteria['sort'] {
  if (criteria.sort.length > 0) return criteria.sort;
  return hasTextCondition(criteria)
    ? [
        { field: 'score', descending: true },
        { field: 'datetime_uploaded', descending: true },
      ]
    : [{ field: 'datetime_uploaded', descending: true }];
}

/**
 * Where the neighbouring pages start. A next page is cut short rather than refused where it would
 * reach past the window, so a client following `next` reads up to the 999th result.
 */
export function searchPages(paging: Pick<FileSearchPaging, 'limit' | 'offset'>, total: number): {
  next: { limit: number; offset: number } | null;
  previous: { limit: number; offset: number } | null;
} {
  const nextOffset = paging.offset + paging.limit;
  const nextLimit = Math.min(paging.limit, SEARCH_LIMITS.window - 1 - nextOffset);
  const next = nextOffset < total && nextLimit >= 1 ? { limit: nextLimit, offset: nextOffset } : null;
  const previous = paging.offset > 0 ? { limit: Math.min(paging.limit, paging.offset), offset: Math.max(0, paging.offset - paging.limit) } : null;
  return { next, previous };
}

/** Matched words of a result, per field, wrapped in `<em>…</em>` (Uploadcare's `highlight`). */
export interface SearchHighlight {
  originalFilename?: string[];
  detectedMimeType?: string[];
  /** Per metadata key whose value matched. */
  metadata?: Record<string, string>;
}

/**
 * Where a file matched the full-text conditions: the words looked for (query terms, phrase words
 * and, with typo tolerance, the words that stood in for them), highlighted in the fields they were
 * looked for in. Null when the search has no text condition or nothing is found to mark.
 */
export function highlightOf(
  file: SearchableFile,
  criteria: Pick<FileSearchCriteria, 'query' | 'phrases'>,
  alternatives: Readonly<Record<string, string[]>>,
): SearchHighlight | null {
  const withAlternatives = (words: readonly string[]) => words.flatMap((word) => [word, ...(alternatives[word] ?? [])]);
  const needles: Record<SearchField, string[]> = { filename: [], mime: [], metadata: [] };
  const queryWords = withAlternatives(criteria.query?.terms ?? []);
  for (const field of SEARCH_FIELDS) needles[field].push(...queryWords);
  for (const phrase of criteria.phrases) needles[phrase.field].push(...withAlternatives(phrase.words));
  // Longer words first: where one contains another, the longer one's mark covers it anyway.
  for (const field of SEARCH_FIELDS) needles[field] = [...new Set(needles[field])].sort((a, b) => b.length - a.length);

  const highlight: SearchHighlight = {};
  const filename = highlightText(file.originalFilename, needles.filename);
  if (filename !== null) highlight.originalFilename = [filename];
  const mime = highlightText(file.mimeType, needles.mime);
  if (mime !== null) highlight.detectedMimeType = [mime];
  const metadata: Record<string, string> = {};
  for (const key of Object.keys(file.metadata).sort()) {
    const marked = highlightText(file.metadata[key] ?? '', needles.metadata);
    if (marked !== null) metadata[key] = marked;
  }
  if (Object.keys(metadata).length > 0) highlight.metadata = metadata;
  return Object.keys(highlight).length > 0 ? highlight : null;
}
