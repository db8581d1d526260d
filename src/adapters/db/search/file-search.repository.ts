import { sql, type Kysely, type RawBuilder, type Selectable } from 'kysely';
import { effectiveSort, type FileSearchCriteria, type SearchPhrase } from '../../../domain/file-search.js';
import {
  FUZZY_SIMILARITY,
  MAX_FUZZY_ALTERNATIVES,
  MIN_TERM_LENGTH,
  trigramsOf,
  type SearchField,
} from '../../../domain/search-text.js';
import type { FileSearchRepository, FileSearchResult } from '../../../ports/repositories.js';
import { isPostgres } from '../dialect.js';
import { toFile } from '../repositories/files.repository.js';
import type { Database, FilesTable } from '../schema.js';
import { FIELD_WEIGHTS, metadataEntry, quoteLexeme } from './search-index.js';

/** What a database can do for search, found out once per store and shared by its transactions. */
export class SearchCapabilities {
  #trigram: Promise<boolean> | null = null;

  constructor(private readonly db: Kysely<Database>) {}

  /** SQLite always; PostgreSQL when pg_trgm is installed in this database. */
  trigram(): Promise<boolean> {
    if (!isPostgres(this.db)) return Promise.resolve(true);
    this.#trigram ??= sql<{ present: boolean }>`select exists (select 1 from pg_extension where extname = 'pg_trgm') as present`
      .execute(this.db)
      .then((result) => result.rows[0]?.present === true)
      .catch((error: unknown) => {
        // A failed look-up (the database unreachable) is asked again next time.
        this.#trigram = null;
        throw error;
      });
    return this.#trigram;
  }
}

const TEXT_COLUMNS: Record<SearchField, 'filename_text' | 'metadata_text' | 'mime_text'> = {
  filename: 'filename_text',
  metadata: 'metadata_text',
  mime: 'mime_text',
};
/** Score weights: a term in the filename counts most, in the MIME type least. */
const SCORE_WEIGHTS: Record<SearchField, number> = { filename: 3, metadata: 2, mime: 1 };
/** A query that is a file's uuid finds that file first. */
const UUID_SCORE = 1000;

type Row = Selectable<FilesTable> & { total_count: number | string | null; score: number | string | null };

const charCount = (text: string): number => Array.from(text).length;
/** An FTS5 string (the trigram tokenizer matches it as a substring). */
const ftsString = (text: string): string => `"${text.replace(/"/g, '""')}"`;

export class KyselyFileSearchRepository implements FileSearchRepository {
  private readonly postgres: boolean;

  constructor(
    private readonly db: Kysely<Database>,
    private readonly capabilities: SearchCapabilities,
    /** The root of the keys of this shard's region (empty: the default region). */
    private readonly blobRoot = '',
  ) {
    this.postgres = isPostgres(db);
  }

  supportsFuzziness(): Promise<boolean> {
    return this.capabilities.trigram();
  }

  async search(projectId: string, criteria: FileSearchCriteria, page: { limit: number; offset: number }, now: string): Promise<FileSearchResult> {
    const fuzzy = criteria.fuzziness && (await this.supportsFuzziness());
    const alternatives: Record<string, string[]> = {};
    const nothing: FileSearchResult = { files: [], total: 0, alternatives, fuzzy: fuzzy || !criteria.fuzziness };
    // A query without a usable term (and no uuid), or a phrase with too little text, matches nothing.
    if (criteria.query && criteria.query.terms.length === 0 && criteria.query.uuid === null) return nothing;
    if (criteria.phrases.some((phrase) => charCount(phrase.text) < MIN_TERM_LENGTH)) return nothing;

    if (fuzzy) {
      const words = new Set([...(criteria.query?.terms ?? []), ...criteria.phrases.flatMap((phrase) => phrase.words)]);
      for (const word of words) {
        const similar = withoutRedundant(word, await this.similarWords(projectId, word));
        if (similar.length > 0) alternatives[word] = similar;
      }
    }
    const alternativesOf = (word: string): string[] => (fuzzy ? (alternatives[word] ?? []) : []);
    const where = this.conditions(projectId, criteria, now, fuzzy, alternativesOf);
    const sort = effectiveSort(criteria);
    const score = sort.some((key) => key.field === 'score') ? this.scoreOf(criteria, alternativesOf) : sql<number>`0`;
    const order = (alias: 'x' | 'm') =>
      sql.join([
        ...sort.map(({ field, descending }) => {
          const direction = descending ? sql`desc` : sql`asc`;
          const column = field === 'score' ? 'score' : field === 'size' ? 'size' : field === 'datetime_uploaded' ? 'datetime_uploaded' : 'filename_key';
          const ref = sql.ref(`${alias}.${column}`);
          return sql`${column === 'score' || column === 'size' ? ref : this.bytewise(ref)} ${direction}`;
        }),
        sql`${this.bytewise(sql.ref(`${alias}.file_uuid`))} asc`,
      ]);

    // Every match is visited to count it (count(*) over the unordered matches: no sort of them all,
    // and no walk of a sort index through the project); the page is then kept in a small top-N heap,
    // and only its rows are read from files.
    const result = await sql<Row>`
      select f.*, m.score, m.total_count from (
        select x.* from (
          select s.file_uuid, s.datetime_uploaded, s.size, s.filename_key, ${score} as score, count(*) over () as total_count
          from file_search s
          where ${where}
        ) x
        order by ${order('x')}
        limit ${page.limit} offset ${page.offset}
      ) m join files f on f.uuid = m.file_uuid
      order by ${order('m')}`.execute(this.db);
    let total = Number(result.rows[0]?.total_count ?? 0);
    if (result.rows.length === 0 && page.offset > 0) {
      // Past the last match: the window function had no row to report the count on.
      const counted = await sql<{ n: number | string }>`select count(*) as n from file_search s where ${where}`.execute(this.db);
      total = Number(counted.rows[0]?.n ?? 0);
    }
    return { files: result.rows.map((row) => toFile(row, this.blobRoot)), total, alternatives, fuzzy: fuzzy || !criteria.fuzziness };
  }

  /** Orders text by its bytes on both engines (SQLite's BINARY; PostgreSQL's "C"), whatever the database's collation. */
  private bytewise(expression: RawBuilder<unknown>): RawBuilder<unknown> {
    return this.postgres ? sql`${expression} collate "C"` : expression;
  }

  /** Whether a text column holds `needle`. */
  private contains(column: string, needle: string): RawBuilder<boolean> {
    const ref = sql.ref(`s.${column}`);
    return this.postgres ? sql<boolean>`strpos(${ref}, ${needle}) > 0` : sql<boolean>`instr(${ref}, ${needle}) > 0`;
  }

  private conditions(
    projectId: string,
    criteria: FileSearchCriteria,
    now: string,
    fuzzy: boolean,
    alternativesOf: (word: string) => string[],
  ): RawBuilder<unknown> {
    const conditions: Array<RawBuilder<unknown>> = [sql`s.project_id = ${projectId}`, sql`(s.expires_at is null or s.expires_at > ${now})`];
    conditions.push(...(this.postgres ? this.postgresText(criteria, fuzzy, alternativesOf) : this.sqliteText(criteria, fuzzy, alternativesOf)));

    const { exact } = criteria;
    if (exact.uuids) conditions.push(sql`s.file_uuid in (${sql.join(exact.uuids)})`);
    if (exact.mimeTypes) conditions.push(sql`s.mime_type in (${sql.join(exact.mimeTypes)})`);
    if (exact.filenames) conditions.push(sql`s.original_filename in (${sql.join(exact.filenames)})`);
    for (const { key, values } of exact.metadata) {
      conditions.push(
        this.postgres
          ? sql`s.metadata && ${values.map((value) => metadataEntry(key, value))}::text[]`
          : sql`s.file_uuid in (select m.file_uuid from file_search_metadata m where m.project_id = ${projectId} and m.key = ${key} and m.value in (${sql.join(values)}))`,
      );
    }
    for (const [column, range] of [
      ['datetime_uploaded', criteria.uploaded],
      ['size', criteria.size],
    ] as const) {
      if (!range) continue;
      const ref = sql.ref(`s.${column}`);
      if (range.gt !== undefined) conditions.push(sql`${ref} > ${range.gt}`);
      if (range.gte !== undefined) conditions.push(sql`${ref} >= ${range.gte}`);
      if (range.lt !== undefined) conditions.push(sql`${ref} < ${range.lt}`);
      if (range.lte !== undefined) conditions.push(sql`${ref} <= ${range.lte}`);
    }
    if (criteria.isImage !== null) conditions.push(sql`s.is_image = ${criteria.isImage ? 1 : 0}`);
    const { any, all, none } = criteria.tags;
    if (this.postgres) {
      if (any) conditions.push(sql`s.tags && ${any}::text[]`);
      if (all.length > 0) conditions.push(sql`s.tags @> ${all}::text[]`);
      if (none.length > 0) conditions.push(sql`not (s.tags && ${none}::text[])`);
    } else {
      const tagged = (tags: string[]) => sql`(select t.file_uuid from file_search_tags t where t.project_id = ${projectId} and t.tag in (${sql.join(tags)}))`;
      if (any) conditions.push(sql`s.file_uuid in ${tagged(any)}`);
      for (const tag of all) conditions.push(sql`s.file_uuid in ${tagged([tag])}`);
      if (none.length > 0) conditions.push(sql`s.file_uuid not in ${tagged(none)}`);
    }
    if (criteria.stored !== null) conditions.push(sql`s.stored = ${criteria.stored ? 1 : 0}`);
    if (criteria.mimeTypes) {
      const types = criteria.mimeTypes.map((type) =>
        type.endsWith('/*') ? sql`s.mime_type like ${`${type.slice(0, -1).replace(/[\\%_]/g, (c) => `\\${c}`)}%`} escape '\\'` : sql`s.mime_type = ${type}`,
      );
      conditions.push(sql`(${sql.join(types, sql` or `)})`);
    }
    return sql.join(conditions, sql` and `);
  }

  /**
   * PostgreSQL: one tsquery over the suffix lexemes (a term is a substring of a word iff it starts one
   * of the word's suffixes), weighted per field, then the exact phrases checked on the text columns.
   */
  private postgresText(criteria: FileSearchCriteria, fuzzy: boolean, alternativesOf: (word: string) => string[]): Array<RawBuilder<unknown>> {
    const anyOf = (word: string, weight = '') => `(${[word, ...alternativesOf(word)].map((w) => `${quoteLexeme(w)}:*${weight}`).join(' | ')})`;
    const conditions: Array<RawBuilder<unknown>> = [];
    const required: string[] = [];
    const query = criteria.query;
    if (query) {
      const terms = query.terms.map((term) => anyOf(term)).join(' & ');
      if (query.uuid !== null) conditions.push(terms === '' ? sql`s.file_uuid = ${query.uuid}` : sql`(s.file_uuid = ${query.uuid} or s.document @@ ${terms}::tsquery)`);
      else required.push(terms);
    }
    for (const phrase of criteria.phrases) {
      const weight = FIELD_WEIGHTS[phrase.field];
      if (phrase.words.length > 0) required.push(phrase.words.map((word) => anyOf(word, weight)).join(' & '));
      // With typo tolerance, a phrase's words may each stand in for themselves in any order (see phraseMatches).
      if (!fuzzy || phrase.words.length === 0) conditions.push(this.contains(TEXT_COLUMNS[phrase.field], phrase.text));
    }
    if (required.length > 0) conditions.unshift(sql`s.document @@ ${required.join(' & ')}::tsquery`);
    return conditions;
  }

  /** SQLite: the same matches as one FTS5 expression (trigram tokenizer: every string matches as a substring). */
  private sqliteText(criteria: FileSearchCriteria, fuzzy: boolean, alternativesOf: (word: string) => string[]): Array<RawBuilder<unknown>> {
    const anyOf = (word: string) => `(${[word, ...alternativesOf(word)].map(ftsString).join(' OR ')})`;
    const matches = (expression: string) => sql`s.id in (select rowid from file_search_fts where file_search_fts match ${expression})`;
    const conditions: Array<RawBuilder<unknown>> = [];
    const required: string[] = [];
    const query = criteria.query;
    if (query) {
      const terms = query.terms.map(anyOf).join(' AND ');
      if (query.uuid !== null) conditions.push(terms === '' ? sql`s.file_uuid = ${query.uuid}` : sql`(s.file_uuid = ${query.uuid} or ${matches(terms)})`);
      else required.push(terms);
    }
    for (const phrase of criteria.phrases) required.push(`${TEXT_COLUMNS[phrase.field]} : ${phraseMatches(phrase, fuzzy, anyOf)}`);
    if (required.length > 0) conditions.unshift(matches(required.join(' AND ')));
    return conditions;
  }

  /**
   * Relevance, in integers so both engines rank alike: per query term and field, twice the field's
   * weight when the field holds the term, twice again when it is a whole word there, once when only
   * a similar word of the project is there; per phrase, the same for its field; a uuid query on its file.
   */
  private scoreOf(criteria: FileSearchCriteria, alternativesOf: (word: string) => string[]): RawBuilder<number> {
    const parts: Array<RawBuilder<number>> = [];
    const fields = Object.keys(TEXT_COLUMNS) as SearchField[];
    const scoreIn = (field: SearchField, needle: string, similar: string[]) => {
      const column = TEXT_COLUMNS[field];
      const weight = SCORE_WEIGHTS[field];
      const alike = similar.length > 0 ? sql`when ${sql.join(similar.map((word) => this.contains(column, word)), sql` or `)} then ${weight}` : sql``;
      return sql<number>`(case when ${this.contains(column, needle)} then ${2 * weight} + (case when ${this.contains(column, ` ${needle} `)} then ${2 * weight} else 0 end) ${alike} else 0 end)`;
    };
    for (const term of criteria.query?.terms ?? []) for (const field of fields) parts.push(scoreIn(field, term, alternativesOf(term)));
    for (const phrase of criteria.phrases) parts.push(scoreIn(phrase.field, phrase.text, phrase.words.flatMap((word) => [word, ...alternativesOf(word)])));
    if (criteria.query?.uuid) parts.push(sql<number>`(case when s.file_uuid = ${criteria.query.uuid} then ${UUID_SCORE} else 0 end)`);
    return parts.length === 0 ? sql<number>`0` : sql<number>`(${sql.join(parts, sql` + `)})`;
  }

  /**
   * The project's words most similar to `word` (pg_trgm's trigram similarity, at least
   * FUZZY_SIMILARITY), that some live file has, most similar first, then in byte order.
   */
  private async similarWords(projectId: string, word: string): Promise<string[]> {
    if (this.postgres) {
      const threshold = FUZZY_SIMILARITY.numerator / FUZZY_SIMILARITY.denominator;
      const find = async (db: Kysely<Database>) => {
        // `%` compares with this setting; held to the threshold both engines use.
        await sql`select set_config('pg_trgm.similarity_threshold', ${String(threshold)}, true)`.execute(db);
        const result = await sql<{ word: string }>`
          select v.word from file_search_vocabulary v
          where v.project_id = ${projectId} and v.word % ${word} and v.word <> ${word}
            and exists (select 1 from file_search s where s.project_id = ${projectId} and s.words @> array[v.word])
          order by similarity(v.word, ${word}) desc, v.word collate "C" asc
          limit ${MAX_FUZZY_ALTERNATIVES}`.execute(db);
        return result.rows.map((row) => row.word);
      };
      // set_config(…, true) lasts until the end of the transaction: one of its own, or the caller's.
      return this.db.isTransaction ? find(this.db) : this.db.transaction().execute(find);
    }
    const trigrams = trigramsOf(word);
    const result = await sql<{ word: string }>`
      select t.word as word from file_search_trigrams t
      join file_search_vocabulary v on v.project_id = t.project_id and v.word = t.word
      where t.project_id = ${projectId} and t.trigram in (${sql.join(trigrams)}) and t.word <> ${word}
      group by t.word, v.trigrams
      having ${FUZZY_SIMILARITY.denominator} * count(*) >= ${FUZZY_SIMILARITY.numerator} * (${trigrams.length} + v.trigrams - count(*))
        and exists (select 1 from file_search_words w where w.project_id = ${projectId} and w.word = t.word)
      order by cast(count(*) as real) / (${trigrams.length} + v.trigrams - count(*)) desc, t.word asc
      limit ${MAX_FUZZY_ALTERNATIVES}`.execute(this.db);
    return result.rows.map((row) => row.word);
  }
}

/**
 * Stand-ins that find no file the others do not: matching is by substring, so a word containing the
 * term or another stand-in (`photographer` beside `photo`) adds nothing but work. Order is kept.
 */
function withoutRedundant(term: string, similar: readonly string[]): string[] {
  return similar.filter((word) => !word.includes(term) && !similar.some((other) => other !== word && word.includes(other)));
}

/** A phrase as an FTS5 expression on its column: exact (a substring), or with typo tolerance every word or a similar one. */
function phraseMatches(phrase: SearchPhrase, fuzzy: boolean, anyOf: (word: string) => string): string {
  if (!fuzzy || phrase.words.length === 0) return ftsString(phrase.text);
  return `(${phrase.words.map(anyOf).join(' AND ')})`;
}
