import type { BatchResult, FileList, ListFilesArgs, TroveClient } from '../../../client/trove-client';

/** The REST API takes at most this many uuids per batch call. */
const BATCH_LIMIT = 100;

/** What the library asks `GET /files/` for (Uploadcare filters plus Trove's search extensions). */
export interface FileQuery {
  search: string;
  status: 'all' | 'stored' | 'temporary' | 'removed';
  /** `image/*`-style prefix or an exact type; '' for every type. */
  mimeType: string;
  /** YYYY-MM-DD (local day), '' when open. */
  fromDay: string;
  toDay: string;
  ordering: 'newest' | 'oldest';
  tag: string;
}

/** One page of the library, and the cursor of the page after it (null on the last one). */
type FilePage = FileList & { cursor: string | null };

/**
 * One page of `GET /files/`. `cursor` is the `from` of the previous page's `next` link; the
 * filters are sent again rather than trusting `next` to keep them.
 */
export async function listFilePage(trove: TroveClient, query: FileQuery, cursor: string | null, limit: number, signal?: AbortSignal): Promise<FilePage> {
  const page = await trove.listFiles({ query: fileListQuery(query, limit, cursor) }, { signal });
  return { ...page, cursor: nextCursor(page) };
}

/** The query of `GET /files/` for the library's filters (`since`/`to` bound the dates in either order). */
function fileListQuery(query: FileQuery, limit: number, cursor: string | null = null): NonNullable<ListFilesArgs['query']> {
  const params: NonNullable<ListFilesArgs['query']> = {
    limit: String(limit),
    ordering: query.ordering === 'oldest' ? 'datetime_uploaded' : '-datetime_uploaded',
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

/** The `from` cursor carried by a page's `next` link; null on the last page. */
function nextCursor(page: Pick<FileList, 'next'>): string | null {
  if (!page.next) return null;
  try {
    return new URL(page.next, window.location.href).searchParams.get('from');
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
