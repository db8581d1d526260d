import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import type { BatchResult } from '../../../client/trove-client';
import { deleteFiles, searchesText, storeFiles, type FileQuery, type LibraryFile } from '../api/files';
import { FileStatus, FileThumb } from '../components/FileThumb';
import { Icon } from '../components/Icon';
import { Link } from '../components/Link';
import { EmptyState, ErrorBox, Spinner } from '../components/States';
import { useApp } from '../context';
import { formatBytes, formatCount, formatDate, formatDateTime, pluralize } from '../lib/format';
import { runBusy, useDebounced, useDocumentTitle } from '../lib/hooks';
import { useFileList } from '../lib/use-file-list';
import { useElementWidth, useWindowVirtual } from '../lib/virtual';
import { BASE, replaceSearch } from '../router';

const TYPE_FILTERS: ReadonlyArray<{ value: string; label: string }> = [
  { value: '', label: 'All types' },
  { value: 'image/*', label: 'Images' },
  { value: 'video/*', label: 'Video' },
  { value: 'audio/*', label: 'Audio' },
  {
    value: 'application/pdf,text/*,application/msword,application/vnd.openxmlformats-officedocument.wordprocessingml.document,application/vnd.oasis.opendocument.text,application/rtf',
    label: 'Documents',
  },
  { value: 'application/pdf', label: 'PDF only' },
];

const STATUS_FILTERS: ReadonlyArray<{ value: FileQuery['status']; label: string }> = [
  { value: 'all', label: 'All live files' },
  { value: 'stored', label: 'Stored' },
  { value: 'temporary', label: 'Temporary' },
  { value: 'removed', label: 'Removed' },
];

type ViewMode = 'grid' | 'list';

/** Grid geometry: cards at least this wide, a fixed caption, so every row has one known height. */
const MIN_CARD = 176;
const GAP = 16;
const CAPTION = 58;
const LIST_ROW = 56;

const DAY = /^\d{4}-\d{2}-\d{2}$/;

function queryFromSearch(search: URLSearchParams): FileQuery {
  const status = search.get('status');
  const day = (value: string | null) => (value && DAY.test(value) ? value : '');
  const sort = search.get('sort');
  return {
    search: search.get('q') ?? '',
    typos: search.get('typos') === '1',
    status: status === 'stored' || status === 'temporary' || status === 'removed' ? status : 'all',
    mimeType: search.get('type') ?? '',
    fromDay: day(search.get('from')),
    toDay: day(search.get('to')),
    ordering: sort === 'oldest' || sort === 'relevance' ? sort : 'newest',
    tag: search.get('tag') ?? '',
  };
}

function searchFromQuery(query: FileQuery, view: ViewMode): URLSearchParams {
  const params = new URLSearchParams();
  if (query.search) params.set('q', query.search);
  if (query.typos) params.set('typos', '1');
  if (query.status !== 'all') params.set('status', query.status);
  if (query.mimeType) params.set('type', query.mimeType);
  if (query.tag) params.set('tag', query.tag);
  if (query.fromDay) params.set('from', query.fromDay);
  if (query.toDay) params.set('to', query.toDay);
  if (query.ordering !== 'newest') params.set('sort', query.ordering);
  if (view === 'list') params.set('view', 'list');
  return params;
}

const VIEW_KEY = 'trove.dashboard.view';

function initialView(search: URLSearchParams): ViewMode {
  const fromUrl = search.get('view');
  if (fromUrl === 'list' || fromUrl === 'grid') return fromUrl;
  try {
    return window.localStorage.getItem(VIEW_KEY) === 'list' ? 'list' : 'grid';
  } catch {
    return 'grid';
  }
}

export function Library(props: { search: URLSearchParams }) {
  useDocumentTitle('Library');
  const { api, boot, toast, confirm, libraryVersion } = useApp();
  // The URL is the source of truth for filters, so reload and back keep them. Keyed by the filters
  // alone: switching grid/list changes the URL but must not fetch the list again.
  const queryKey = JSON.stringify(queryFromSearch(props.search));
  const query = useMemo(() => JSON.parse(queryKey) as FileQuery, [queryKey]);
  const [view, setView] = useState<ViewMode>(() => initialView(props.search));
  const [searchText, setSearchText] = useState(query.search);
  const debouncedSearch = useDebounced(searchText, 300);
  const list = useFileList(api, query, libraryVersion);
  const [selected, setSelected] = useState<ReadonlySet<string>>(new Set());
  const anchor = useRef<number | null>(null);
  const [busy, setBusy] = useState(false);

  const update = (change: Partial<FileQuery>, nextView: ViewMode = view) => {
    replaceSearch(searchFromQuery({ ...query, ...change }, nextView));
  };

  useEffect(() => {
    if (debouncedSearch !== query.search) update({ search: debouncedSearch });
  }, [debouncedSearch]);

  // The URL changed under the box (nav link, back button): show what is searched now.
  useEffect(() => {
    if (query.search !== debouncedSearch) setSearchText(query.search);
  }, [query.search]);

  // A new query is a new list: what was selected may not be in it.
  useEffect(() => {
    setSelected(new Set());
    anchor.current = null;
  }, [queryKey, libraryVersion]);

  const chooseView = (mode: ViewMode) => {
    setView(mode);
    try {
      window.localStorage.setItem(VIEW_KEY, mode);
    } catch {
      // Not persisted; the URL still carries it.
    }
    update({}, mode);
  };

  const toggle = (index: number, shift: boolean) => {
    const file = list.items[index];
    if (!file) return;
    const next = new Set(selected);
    const on = !selected.has(file.uuid);
    if (shift && anchor.current !== null && anchor.current !== index) {
      const [from, to] = anchor.current < index ? [anchor.current, index] : [index, anchor.current];
      for (let i = from; i <= to; i++) {
        const uuid = list.items[i]?.uuid;
        if (uuid) {
          if (on) next.add(uuid);
          else next.delete(uuid);
        }
      }
    } else if (on) {
      next.add(file.uuid);
    } else {
      next.delete(file.uuid);
    }
    anchor.current = index;
    setSelected(next);
  };

  const allSelected = list.items.length > 0 && list.items.every((file) => selected.has(file.uuid));
  const toggleAll = () => setSelected(allSelected ? new Set() : new Set(list.items.map((file) => file.uuid)));

  /** Runs a batch action on the selection and reports what the server did and refused. */
  const runBulk = (uuids: string[], action: (uuids: string[]) => Promise<BatchResult>, done: string, failed: string) =>
    runBusy(setBusy, (message) => toast.error(message), async () => {
      const result = await action(uuids);
      const problems = Object.keys(result.problems).length;
      if (problems > 0) toast.error(`${pluralize(problems, 'file')} could not be ${failed}: ${Object.values(result.problems)[0] ?? ''}`);
      toast.success(`${done} ${pluralize(result.result.length, 'file')}.`);
      list.reload();
      setSelected(new Set());
    });

  const bulkStore = () => runBulk([...selected], (uuids) => storeFiles(api.trove, uuids), 'Stored', 'stored');

  const bulkDelete = async () => {
    const uuids = [...selected];
    const ok = await confirm({
      title: `Delete ${pluralize(uuids.length, 'file')}?`,
      message: (
        <p>
          The selected {uuids.length === 1 ? 'file is' : 'files are'} removed from storage and the CDN. This cannot be undone.
        </p>
      ),
      confirmLabel: `Delete ${pluralize(uuids.length, 'file')}`,
      danger: true,
    });
    if (ok) await runBulk(uuids, (chosen) => deleteFiles(api.trove, chosen), 'Deleted', 'deleted');
  };

  const searching = searchesText(query);
  // Relevance ranks a text search; any other list keeps newest first under that choice.
  const ordering = searching || query.ordering !== 'relevance' ? query.ordering : 'newest';
  const filtered = query.search !== '' || query.status !== 'all' || query.mimeType !== '' || query.fromDay !== '' || query.toDay !== '' || query.tag !== '';
  const removedView = query.status === 'removed';
  const selectedCount = selected.size;

  return (
    <section class="library" aria-labelledby="library-title">
      <div class="page-head">
        <div>
          <h1 id="library-title">Library</h1>
          <Totals list={list} filtered={filtered} />
        </div>
        <Link href={`${BASE}/upload`} class="btn btn-primary" data-testid="upload-link">
          <Icon name="upload" />
          <span>Upload files</span>
        </Link>
      </div>

      <div class="toolbar" role="search">
        <div class="toolbar-row">
          <div class="field field-search">
            <label for="library-search" class="visually-hidden">
              Search files
            </label>
            <input
              id="library-search"
              type="search"
              placeholder="Search names, metadata and types…"
              value={searchText}
              onInput={(event) => setSearchText(event.currentTarget.value)}
              onKeyDown={(event) => {
                // Enter searches now, without waiting for the pause.
                if (event.key === 'Enter') update({ search: event.currentTarget.value });
              }}
              data-testid="search"
            />
          </div>
          {searching && (
            <label class="check search-typos" title="Also find words that differ by a typo or two (slower)">
              <input type="checkbox" checked={query.typos} onChange={(event) => update({ typos: event.currentTarget.checked })} data-testid="search-typos" />
              <span>Allow typos</span>
            </label>
          )}
          <div class="field field-inline">
            <label for="sort">Sort</label>
            <select
              id="sort"
              value={ordering}
              onChange={(event) => {
                const value = event.currentTarget.value;
                update({ ordering: value === 'oldest' || value === 'relevance' ? value : 'newest' });
              }}
              data-testid="sort"
            >
              {searching && <option value="relevance">Best match</option>}
              <option value="newest">Newest first</option>
              <option value="oldest">Oldest first</option>
            </select>
          </div>
          <div class="segmented" role="group" aria-label="View">
            <button type="button" class="btn btn-icon" aria-pressed={view === 'grid'} onClick={() => chooseView('grid')} data-testid="view-grid" title="Grid view">
              <Icon name="grid" />
              <span class="visually-hidden">Grid view</span>
            </button>
            <button type="button" class="btn btn-icon" aria-pressed={view === 'list'} onClick={() => chooseView('list')} data-testid="view-list" title="List view">
              <Icon name="list" />
              <span class="visually-hidden">List view</span>
            </button>
          </div>
        </div>
        <div class="toolbar-row toolbar-filters">
          <FilterSelect id="filter-status" label="Status" value={query.status} options={STATUS_FILTERS} onChange={(value) => update({ status: value as FileQuery['status'] })} />
          <FilterSelect id="filter-type" label="Type" value={query.mimeType} options={TYPE_FILTERS} onChange={(value) => update({ mimeType: value })} />
          <div class="field field-inline">
            <label for="filter-from">From</label>
            <input id="filter-from" type="date" value={query.fromDay} max={query.toDay || undefined} onChange={(event) => update({ fromDay: event.currentTarget.value })} data-testid="filter-from" />
          </div>
          <div class="field field-inline">
            <label for="filter-to">To</label>
            <input id="filter-to" type="date" value={query.toDay} min={query.fromDay || undefined} onChange={(event) => update({ toDay: event.currentTarget.value })} data-testid="filter-to" />
          </div>
          {filtered && (
            <button
              type="button"
              class="btn btn-ghost btn-small"
              onClick={() => {
                setSearchText('');
                replaceSearch(searchFromQuery(queryFromSearch(new URLSearchParams()), view));
              }}
              data-testid="filters-clear"
            >
              Clear filters
            </button>
          )}
        </div>
      </div>

      {query.tag && (
        <p class="active-filters">
          <span class="chip" data-testid="filter-tag">
            Tag: {query.tag}
            <button type="button" class="chip-remove" aria-label={`Stop filtering by tag ${query.tag}`} onClick={() => update({ tag: '' })}>
              ×
            </button>
          </span>
        </p>
      )}

      <div class={`bulk-bar ${selectedCount > 0 ? 'bulk-bar-active' : ''}`} hidden={list.items.length === 0} data-testid="bulk-bar" aria-live="polite">
        <label class="check">
          <input type="checkbox" checked={allSelected} disabled={list.items.length === 0} onChange={toggleAll} data-testid="select-all" />
          <span>{selectedCount > 0 ? <span data-testid="selection-count">{formatCount(selectedCount)} selected</span> : `Select all ${formatCount(list.items.length)} loaded`}</span>
        </label>
        {selectedCount > 0 && (
          <div class="bulk-actions">
            {!removedView && (
              <button type="button" class="btn btn-small" disabled={busy} onClick={bulkStore} data-testid="bulk-store">
                Store
              </button>
            )}
            {!removedView && (
              <button type="button" class="btn btn-small btn-danger" disabled={busy} onClick={bulkDelete} data-testid="bulk-delete">
                Delete
              </button>
            )}
            <button type="button" class="btn btn-small btn-ghost" onClick={() => setSelected(new Set())} data-testid="bulk-clear">
              Clear selection
            </button>
          </div>
        )}
      </div>

      {list.error && list.items.length === 0 ? (
        <ErrorBox message={list.error} onRetry={list.retry} />
      ) : list.items.length === 0 && list.loading ? (
        <Spinner label="Loading files…" />
      ) : list.items.length === 0 ? (
        filtered ? (
          <EmptyState title="No files match these filters.">
            <p>Try another search or clear the filters.</p>
          </EmptyState>
        ) : (
          <EmptyState title="No files yet.">
            <p>
              <Link href={`${BASE}/upload`}>Upload your first files</Link> or send them through the Upload API.
            </p>
          </EmptyState>
        )
      ) : view === 'grid' ? (
        <FileGrid files={list.items} selected={selected} onToggle={toggle} cdnBase={boot.cdnBase} />
      ) : (
        <FileTable files={list.items} selected={selected} onToggle={toggle} cdnBase={boot.cdnBase} />
      )}

      {list.items.length > 0 && <MoreLoader list={list} />}
    </section>
  );
}

function Totals(props: { list: ReturnType<typeof useFileList>; filtered: boolean }) {
  const { list } = props;
  if (list.total === null || !list.totals) return <p class="subtle">&nbsp;</p>;
  return (
    <p class="subtle totals">
      <span data-testid="file-total">
        {list.totalIsUpperBound ? `${formatCount(list.items.length)}${list.done ? '' : '+'} matching` : `${pluralize(list.total, props.filtered ? 'matching file' : 'file')}`}
      </span>
      <span aria-hidden="true"> · </span>
      <span data-testid="file-totals">
        {formatCount(list.totals.stored)} stored, {formatCount(list.totals.unstored)} temporary, {formatCount(list.totals.removed)} removed
      </span>
    </p>
  );
}

/** Asks for the next page as the end of the list comes near; a button for keyboards and old browsers. */
function MoreLoader(props: { list: ReturnType<typeof useFileList> }) {
  const { list } = props;
  const sentinel = useRef<HTMLDivElement>(null);
  const loadMore = list.loadMore;
  useEffect(() => {
    const element = sentinel.current;
    if (!element || list.done || typeof IntersectionObserver === 'undefined') return;
    // A fresh observer reports at once, so a page too short to scroll still pulls the next one.
    const observer = new IntersectionObserver((entries) => {
      if (entries.some((entry) => entry.isIntersecting)) loadMore();
    }, { rootMargin: '0px 0px 1200px 0px' });
    observer.observe(element);
    return () => observer.disconnect();
  }, [loadMore, list.done, list.items.length, list.loading]);

  return (
    <div class="more" ref={sentinel} data-testid="load-more-sentinel">
      {list.error ? (
        <ErrorBox message={list.error} onRetry={list.retry} />
      ) : list.loading ? (
        <Spinner label="Loading more files…" />
      ) : list.done ? (
        <p class="subtle" data-testid="list-end">
          {list.total !== null && list.total > list.items.length
            ? `The first ${formatCount(list.items.length)} of ${formatCount(list.total)} matches are shown; narrow the search to see the others.`
            : list.items.length > 1
              ? `All ${formatCount(list.items.length)} files shown.`
              : ''}
        </p>
      ) : (
        <button type="button" class="btn" onClick={loadMore} data-testid="load-more">
          Load more
        </button>
      )}
    </div>
  );
}

interface FileCollectionProps {
  files: LibraryFile[];
  selected: ReadonlySet<string>;
  onToggle: (index: number, shift: boolean) => void;
  cdnBase: string;
}

function SelectBox(props: { file: LibraryFile; index: number; selected: boolean; onToggle: FileCollectionProps['onToggle'] }) {
  return (
    <input
      type="checkbox"
      class="select-file"
      checked={props.selected}
      aria-label={`Select ${props.file.original_filename}`}
      // click, not change: only the click carries shiftKey for range selection.
      onClick={(event) => props.onToggle(props.index, event.shiftKey)}
      data-testid="select-file"
    />
  );
}

function FileGrid(props: FileCollectionProps) {
  const container = useRef<HTMLDivElement>(null);
  const width = useElementWidth(container);
  // Phones get two smaller columns rather than one card filling the screen.
  const minCard = width > 0 && width < 520 ? 130 : MIN_CARD;
  const columns = Math.max(1, Math.floor((width + GAP) / (minCard + GAP)));
  const cardWidth = width > 0 ? (width - GAP * (columns - 1)) / columns : MIN_CARD;
  const cardHeight = Math.round(cardWidth + CAPTION);
  const rowCount = Math.ceil(props.files.length / columns);
  const range = useWindowVirtual(container, rowCount, cardHeight + GAP);
  const first = range.start * columns;
  const visible = props.files.slice(first, range.end * columns);

  return (
    <div ref={container} class="grid-wrap" style={{ paddingTop: `${range.padTop}px`, paddingBottom: `${range.padBottom}px` }}>
      <ul
        class="file-grid"
        style={{ gridTemplateColumns: `repeat(${columns}, minmax(0, 1fr))`, gridAutoRows: `${cardHeight}px`, gap: `${GAP}px` }}
        aria-label="Files"
      >
        {visible.map((file, offset) => {
          const index = first + offset;
          const isSelected = props.selected.has(file.uuid);
          return (
            <li key={file.uuid} class={`card ${isSelected ? 'card-selected' : ''}`} data-testid="file-card" data-uuid={file.uuid}>
              <span class="card-check">
                <SelectBox file={file} index={index} selected={isSelected} onToggle={props.onToggle} />
              </span>
              {!file.datetime_stored || file.datetime_removed ? (
                <span class="card-badge">
                  <FileStatus file={file} />
                </span>
              ) : null}
              <Link href={`${BASE}/files/${file.uuid}`} class="card-link" data-testid="file-link">
                <FileThumb file={file} cdnBase={props.cdnBase} />
                <span class="card-caption">
                  <span class="card-name" title={file.original_filename}>
                    <FileName file={file} />
                  </span>
                  <span class="card-sub">
                    {formatBytes(file.size)} · {formatDate(file.datetime_uploaded)}
                  </span>
                </span>
              </Link>
            </li>
          );
        })}
      </ul>
    </div>
  );
}

function FileTable(props: FileCollectionProps) {
  const container = useRef<HTMLDivElement>(null);
  const range = useWindowVirtual(container, props.files.length, LIST_ROW);
  const visible = props.files.slice(range.start, range.end);
  return (
    <div ref={container} class="table-wrap">
      <table class="file-table">
        <caption class="visually-hidden">Files</caption>
        <thead>
          <tr>
            <th scope="col" class="col-check">
              <span class="visually-hidden">Selected</span>
            </th>
            <th scope="col" class="col-thumb">
              <span class="visually-hidden">Preview</span>
            </th>
            <th scope="col">Name</th>
            <th scope="col" class="col-type">Type</th>
            <th scope="col" class="col-size">Size</th>
            <th scope="col" class="col-date">Uploaded</th>
            <th scope="col" class="col-status">Status</th>
          </tr>
        </thead>
        <tbody>
          {range.padTop > 0 && (
            <tr aria-hidden="true" class="spacer" style={{ height: `${range.padTop}px` }}>
              <td colSpan={7} />
            </tr>
          )}
          {visible.map((file, offset) => {
            const index = range.start + offset;
            const isSelected = props.selected.has(file.uuid);
            return (
              <tr key={file.uuid} class={isSelected ? 'row-selected' : ''} data-testid="file-row" data-uuid={file.uuid}>
                <td class="col-check">
                  <SelectBox file={file} index={index} selected={isSelected} onToggle={props.onToggle} />
                </td>
                <td class="col-thumb">
                  <FileThumb file={file} cdnBase={props.cdnBase} />
                </td>
                <td class="col-name">
                  <Link href={`${BASE}/files/${file.uuid}`} title={file.original_filename} data-testid="file-link">
                    <FileName file={file} />
                  </Link>
                </td>
                <td class="col-type">{file.mime_type}</td>
                <td class="col-size">{formatBytes(file.size)}</td>
                <td class="col-date">
                  <time dateTime={file.datetime_uploaded}>{formatDateTime(file.datetime_uploaded)}</time>
                </td>
                <td class="col-status">
                  <FileStatus file={file} />
                </td>
              </tr>
            );
          })}
          {range.padBottom > 0 && (
            <tr aria-hidden="true" class="spacer" style={{ height: `${range.padBottom}px` }}>
              <td colSpan={7} />
            </tr>
          )}
        </tbody>
      </table>
    </div>
  );
}

const ENTITIES: Record<string, string> = { '&amp;': '&', '&lt;': '<', '&gt;': '>', '&quot;': '"' };

/**
 * The file's name with what a search matched marked. The server's highlight is HTML (`<em>` around
 * matches, the rest escaped); it is read as text pieces here, never inserted as markup.
 */
function FileName(props: { file: LibraryFile }) {
  const marked = props.file.highlight?.original_filename?.[0];
  if (!marked) return <>{props.file.original_filename}</>;
  const pieces = marked.split(/<\/?em>/);
  return (
    <>
      {pieces.map((piece, index) => {
        const text = piece.replace(/&(amp|lt|gt|quot);/g, (entity) => ENTITIES[entity] ?? entity);
        return index % 2 === 1 ? (
          <mark key={index} class="match" data-testid="name-match">
            {text}
          </mark>
        ) : (
          text
        );
      })}
    </>
  );
}

/** A labelled filter dropdown of the toolbar (its id doubles as its test hook). */
function FilterSelect(props: { id: string; label: string; value: string; options: ReadonlyArray<{ value: string; label: string }>; onChange: (value: string) => void }) {
  return (
    <div class="field field-inline">
      <label for={props.id}>{props.label}</label>
      <select id={props.id} value={props.value} onChange={(event) => props.onChange(event.currentTarget.value)} data-testid={props.id}>
        {props.options.map((option) => (
          <option key={option.value} value={option.value}>
            {option.label}
          </option>
        ))}
      </select>
    </div>
  );
}
