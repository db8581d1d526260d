import { useCallback, useEffect, useRef, useState } from 'preact/hooks';
import type { FileTotals } from '../../../client/trove-client';
import type { ApiClient } from '../api/client';
import { errorMessage, isAbort } from '../api/errors';
import { loadFilePage, type FileQuery, type LibraryFile } from '../api/files';

const PAGE_SIZE = 100;

interface FileListState {
  items: LibraryFile[];
  /** Files matching the query on the server; null before the first page. */
  total: number | null;
  /** True when `total` counts past a date bound the list applies itself (see fileListQuery). */
  totalIsUpperBound: boolean;
  totals: FileTotals | null;
  loading: boolean;
  error: string | null;
  /** No further page. */
  done: boolean;
}

const EMPTY: FileListState = { items: [], total: null, totalIsUpperBound: false, totals: null, loading: true, error: null, done: false };

/** The library's files, page by page, following the API's `next` cursor. */
export function useFileList(api: ApiClient, query: FileQuery, version: number): FileListState & { loadMore: () => void; reload: () => void; retry: () => void } {
  const [state, setState] = useState<FileListState>(EMPTY);
  const cursor = useRef<string | null>(null);
  const inFlight = useRef<AbortController | null>(null);
  const stateRef = useRef(state);
  stateRef.current = state;
  const [generation, setGeneration] = useState(0);

  const fetchPage = useCallback(
    async (first: boolean) => {
      inFlight.current?.abort();
      const controller = new AbortController();
      inFlight.current = controller;
      setState((previous) => (first ? { ...EMPTY } : { ...previous, loading: true, error: null }));
      try {
        const page = await loadFilePage(api.trove, query, first ? null : cursor.current, PAGE_SIZE, controller.signal);
        if (controller.signal.aborted) return;
        const results = page.results;
        cursor.current = page.cursor;
        setState((previous) => {
          const base = first ? [] : previous.items;
          const seen = new Set(base.map((file) => file.uuid));
          return {
            items: [...base, ...results.filter((file) => !seen.has(file.uuid))],
            total: page.total,
            totalIsUpperBound: false,
            // A search's later pages do not repeat the project's totals.
            totals: page.totals ?? previous.totals,
            loading: false,
            error: null,
            done: page.cursor === null,
          };
        });
      } catch (failure) {
        if (controller.signal.aborted || isAbort(failure)) return;
        setState((previous) => ({ ...previous, loading: false, error: errorMessage(failure) }));
      } finally {
        if (inFlight.current === controller) inFlight.current = null;
      }
    },
    [api, query],
  );

  useEffect(() => {
    cursor.current = null;
    void fetchPage(true);
    return () => inFlight.current?.abort();
  }, [fetchPage, version, generation]);

  const loadMore = useCallback(() => {
    const current = stateRef.current;
    if (current.loading || current.done || current.error) return;
    void fetchPage(false);
  }, [fetchPage]);

  const reload = useCallback(() => setGeneration((n) => n + 1), []);

  /** After an error: the first page again, or the page that failed. */
  const retry = useCallback(() => {
    if (stateRef.current.items.length === 0) reload();
    else void fetchPage(false);
  }, [fetchPage, reload]);

  return { ...state, loadMore, reload, retry };
}
