import type { StoredFile } from '../domain/file.js';
import {
  highlightOf,
  parseFileSearch,
  searchPages,
  type FileSearchPaging,
  type FileSearchParams,
  type SearchHighlight,
} from '../domain/file-search.js';
import type { Project } from '../domain/project.js';
import type { Clock } from '../lib/clock.js';
import type { ShardResolver } from '../ports/shards.js';

interface SearchHit {
  file: StoredFile;
  /** Null when the search had no text condition or nothing in the file is marked. */
  highlight: SearchHighlight | null;
}

interface FileSearchAnswer {
  hits: SearchHit[];
  /** Files matching in all. */
  total: number;
  paging: FileSearchPaging;
  /** Where the neighbouring pages start; null at either end. */
  next: { limit: number; offset: number } | null;
  previous: { limit: number; offset: number } | null;
  /** True when fuzziness was asked and this database cannot provide it: the matching was exact. */
  fuzzinessUnavailable: boolean;
}

interface SearchLogger {
  warn(object: Record<string, unknown>, message: string): void;
}

/** Uploadcare's file search over a project's live files: checks the request, runs it, marks the matches. */
export class FileSearchService {
  #warned = false;

  constructor(
    private readonly shards: ShardResolver,
    private readonly clock: Clock,
    private readonly logger: SearchLogger,
  ) {}

  /** `body` is the JSON body as received and `params` the query string; a bad request is one 400 naming every bad field. */
  async search(project: Project, body: unknown, params: FileSearchParams): Promise<FileSearchAnswer> {
    const { criteria, paging } = parseFileSearch(body, params);
    const index = (await this.shards.forProject(project.id)).fileSearch;
    const result = await index.search(project.id, criteria, { limit: paging.limit, offset: paging.offset }, this.clock.now().toISOString());
    if (!result.fuzzy) this.warnFuzzinessUnavailable();
    return {
      hits: result.files.map((file) => ({ file, highlight: highlightOf(file, criteria, result.alternatives) })),
      total: result.total,
      paging,
      ...searchPages(paging, result.total),
      fuzzinessUnavailable: !result.fuzzy,
    };
  }

  /** Says once per process, at start, when typo tolerance cannot work here; searches still run, matching exactly. */
  async checkFuzziness(): Promise<void> {
    try {
      const outcomes = await this.shards.fanOut((shard) => shard.fileSearch.supportsFuzziness());
      if (outcomes.some((outcome) => outcome.ok && !outcome.value)) this.warnFuzzinessUnavailable();
    } catch (error) {
      this.logger.warn({ err: error }, 'could not tell whether file search can tolerate typos; asking again at the first fuzzy search');
    }
  }

  private warnFuzzinessUnavailable(): void {
    if (this.#warned) return;
    this.#warned = true;
    this.logger.warn(
      {},
      'file search: the PostgreSQL extension pg_trgm is not installed in this database, so `fuzziness: true` matches exactly. Install it (CREATE EXTENSION pg_trgm; then CREATE INDEX file_search_vocabulary_trgm_idx ON file_search_vocabulary USING gin (word gin_trgm_ops)) to tolerate typos.',
    );
  }
}
