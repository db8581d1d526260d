import type { BatchResult, FileList, FileSearchHighlight, FileTotals, ListFilesArgs, RestFile, SearchFilesArgs, TroveClient } from '../../../client/trove-client';

/** The REST API takes at most this many uuids per batch call. */
const BATCH_LIMIT = 100;

/**
 * What the library asks for: `POST /files/search/` when it searches text among live files,
 * `GET /files/` (Uploadcare filters plus Trove's extensions) otherwise.
 */
export interface FileQuery {
  search: string;
  /** Typo tolerance for the search text. */
  typos: boolean;
  status: 'all' | 'stored' | 'temporary' | 'removed';
  /** `image/*`-style prefix or an exact type; '' for every type. */
  mimeType: string;
  /** YYYY-MM-DD (local day), '' when open. */
  fromDay: string;
  toDay: string;
  /** `relevance` applies to a text search only; other lists show the newest first instead. */
  ordering: 'newest' | 'oldest' | 'relevance';
  tag: string;
}

/** A file of the library: what the REST API lists, with what matched when it came from a search. */
export type LibraryFile = RestFile & { highlight?: FileSearchHighlight };

/** One page of the library, and the cursor of the page after it (null on the last one). */
interface FilePage {
  results: LibraryFile[];
  /** Files matching the query in all. */
  total: number;
  /** The project's files by state; null when the answer did not say. */
  totals: FileTotals | null;
  cursor: string | null;
}

/** Listed files carry their image analysis (`appdata.trove_image_analysis`): thumbnails show its placeholder while they load. */
const LIBRARY_INCLUDE = 'appdata';

/** The search's shortest text (Uploadcare's rule): a shorter one is looked for in the list's own way. */
const MIN_SEARCH_LENGTH = 4;

/** Whether the library searches text with `POST /files/search/`: live files and a text long enough. */
export function searchesText(query: FileQuery): boolean {
  return query.status !== 'removed' && Array.from(query.search.trim()).length >= MIN_SEARCH_LENGTH;
}

/**
 * One page of the library. `cursor` is what the previous page said comes next: the `from` of a
 * list's `next` link, or the `offset` of a search's. Filters are sent again each time.
 */
export async function loadFilePage(trove: TroveClient, query: FileQuery, cursor: string | null, limit: number, signal?: AbortSignal): Promise<FilePage> {
  if (searchesText(query)) return searchFilePage(trove, query, cursor, limit, signal);
  const page = await trove.listFiles({ query: fileListQuery(query, limit, cursor) }, { signal });
  return { results: page.results, total: page.total, totals: page.totals, cursor: nextCursor(page, 'from') };
}

/** A page of full-text search, with the project's totals (which a search does not give) on the first. */
async function searchFilePage(trove: TroveClient, query: FileQuery, cursor: string | null, limit: number, signal?: AbortSignal): Promise<FilePage> {
  const params: NonNullable<SearchFilesArgs['query']> = { limit: String(limit), include: LIBRARY_INCLUDE };
  if (cursor !== null) params.offset = cursor;
  if (query.status === 'stored') params.stored = 'true';
  if (query.status === 'temporary') params.stored = 'false';
  if (query.mimeType !== '') params.mime_type = query.mimeType;
  const body: SearchFilesArgs['body'] = {
    query: query.search.trim(),
    sort: query.ordering === 'oldest' ? ['datetime_uploaded'] : query.ordering === 'relevance' ? ['-score', '-datetime_uploaded'] : ['-datetime_uploaded'],
  };
  if (query.typos) body.fuzziness = true;
  if (query.tag !== '') body.tags = { all: [query.tag] };
  const since = startOfDay(query.fromDay);
  const to = startOfDay(query.toDay, 1);
  if (since || to) body.datetime_uploaded = { ...(since ? { gte: since } : {}), ...(to ? { lt: to } : {}) };
  const [page, totals] = await Promise.all([
    trove.searchFiles({ query: params, body }, { signal }),
    cursor === null ? trove.listFiles({ query: { limit: '1' } }, { signal }).then((list) => list.totals) : Promise.resolve(null),
  ]);
  return { results: page.results, total: page.total, totals, cursor: nextCursor(page, 'offset') };
}

/** The query of `GET /files/` for the library's filters (`since`/`to` bound the dates in either order). */
function fileListQuery(query: FileQuery, limit: number, cursor: string | null = null): NonNullable<ListFilesArgs['query']> {
  const params: NonNullable<ListFilesArgs['query']> = {
    limit: String(limit),
    ordering: query.ordering === 'oldest' ? 'datetime_uploaded' : '-datetime_uploaded',
    include: LIBRARY_INCLUDE,
  };
  if (query.status === 'stored') params.stored = 'true';
  if (query.status === 'temporary') params.stored = 'false';
  if (query.status === 'removed') params.removed = 'true';
  if (query.search.trim() !== '') params.search = query.search.trim();
  if (query.tag !== '') params.tag = query.tag;
  if (query.mimeType !== '') params.mime_type = query.mimeType;
  const to = startOfDay(query.toDay, 1);
  if (to) params.to = to;
  const since = startOfDay(query.fromDay);
  if (since) params.since = since;
  if (cursor !== null) params.from = cursor;
  return params;
}

/** The position a page's `next` link carries (`from` of a list, `offset` of a search); null on the last page. */
function nextCursor(page: Pick<FileList, 'next'>, param: 'from' | 'offset'): string | null {
  if (!page.next) return null;
  try {
    return new URL(page.next, window.location.href).searchParams.get(param);
  } catch {
    return null;
  }
}

/** Start of a local calendar day (`YYYY-MM-DD`) as an ISO instant; null for an empty or bad day. */
function startOfDay(day: string, addDays = 0): string | null {
  const match = /^(\d{4})-(\d{2})-(\d{2})$/.exec(day);
  if (!match) return null;
  const date = new Date(Number(match[1]), Number(match[2]) - 1, Number(match[3]) + addDays);
  return Number.isNaN(date.getTime()) ? null : date.toISOString();
}

/** Batch store in chunks the API accepts; problems of every chunk are merged. */
export function storeFiles(trove: TroveClient, uuids: readonly string[]): Promise<BatchResult> {
  return inChunks(uuids, (chunk) => trove.storeFiles({ body: chunk }));
}

export function deleteFiles(trove: TroveClient, uuids: readonly string[]): Promise<BatchResult> {
  return inChunks(uuids, (chunk) => trove.deleteFiles({ body: chunk }));
}

async function inChunks(uuids: readonly string[], send: (chunk: string[]) => Promise<BatchResult>): Promise<BatchResult> {
  const merged: BatchResult = { status: 'ok', problems: {}, result: [] };
  for (let i = 0; i < uuids.length; i += BATCH_LIMIT) {
    const answer = await send(uuids.slice(i, i + BATCH_LIMIT));
    Object.assign(merged.problems, answer.problems);
    merged.result.push(...answer.result);
  }
  return merged;
}
