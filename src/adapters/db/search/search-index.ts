import { sql, type Kysely } from 'kysely';
import type { StoredFile } from '../../../domain/file.js';
import { searchDocumentOf, suffixesOf, trigramsOf, type SearchField } from '../../../domain/search-text.js';
import { isPostgres } from '../dialect.js';
import type { Database } from '../schema.js';

/*
 * Writes the search index of files, always inside the caller's transaction (the files repository
 * calls these in the same unit of work as the change), so a file is findable exactly when its row
 * says it is live, with the filename, metadata and tags it has.
 */

/** tsvector weights per field: a query can be held to one field (`'word':*A`). */
export const FIELD_WEIGHTS: Record<SearchField, 'A' | 'B' | 'C'> = { filename: 'A', metadata: 'B', mime: 'C' };
const FIELD_POSITIONS: Record<SearchField, number> = { filename: 1, metadata: 2, mime: 3 };

/** Rows per statement: well under SQLite's and PostgreSQL's bound-parameter limits. */
const CHUNK = 200;

/** A metadata key and value as one array element (keys never hold `=`). */
export function metadataEntry(key: string, value: string): string {
  return `${key}=${value}`;
}

/** A lexeme or word inside a tsvector or tsquery literal. */
export function quoteLexeme(text: string): string {
  return `'${text.replace(/\\/g, '\\\\').replace(/'/g, "''")}'`;
}

/** The tsvector of a document: every suffix of every word, weighted by the fields it occurs in. */
function tsvectorOf(words: Record<SearchField, string[]>): string {
  const positions = new Map<string, string[]>();
  for (const field of Object.keys(words) as SearchField[]) {
    for (const word of words[field]) {
      for (const suffix of suffixesOf(word)) {
        const list = positions.get(suffix) ?? [];
        const entry = `${FIELD_POSITIONS[field]}${FIELD_WEIGHTS[field]}`;
        if (!list.includes(entry)) list.push(entry);
        positions.set(suffix, list);
      }
    }
  }
  return [...positions].map(([lexeme, list]) => `${quoteLexeme(lexeme)}:${list.join(',')}`).join(' ');
}

function* chunks<T>(items: readonly T[], size = CHUNK): Generator<T[]> {
  for (let i = 0; i < items.length; i += size) yield items.slice(i, i + size);
}

/** Indexes live files (removed ones are skipped). Call it once per file; `unindexFiles` first to re-index. */
export async function indexFiles(db: Kysely<Database>, files: readonly StoredFile[]): Promise<void> {
  const live = files.filter((file) => file.datetimeRemoved === null);
  if (live.length === 0) return;
  const postgres = isPostgres(db);
  const documents = live.map((file) => ({ file, doc: searchDocumentOf(file) }));

  for (const chunk of chunks(documents)) {
    const rows = chunk.map(({ file, doc }) => ({
      file_uuid: file.uuid,
      project_id: file.projectId,
      datetime_uploaded: file.datetimeUploaded,
      size: file.size,
      is_image: file.isImage ? 1 : 0,
      stored: file.datetimeStored === null ? 0 : 1,
      expires_at: file.expiresAt,
      mime_type: file.mimeType,
      original_filename: file.originalFilename,
      filename_key: doc.filenameKey,
      filename_text: doc.text.filename,
      metadata_text: doc.text.metadata,
      mime_text: doc.text.mime,
      ...(postgres
        ? {
            document: sql<string>`${tsvectorOf(doc.words)}::tsvector`,
            words: sql<string[]>`${doc.vocabulary}::text[]`,
            tags: sql<string[]>`${file.tags}::text[]`,
            metadata: sql<string[]>`${Object.entries(file.metadata).map(([key, value]) => metadataEntry(key, value))}::text[]`,
          }
        : {}),
    }));
    if (postgres) {
      await db.insertInto('file_search').values(rows).execute();
    } else {
      const inserted = await db.insertInto('file_search').values(rows).returning(['id', 'filename_text', 'metadata_text', 'mime_text']).execute();
      const values = inserted.map((row) => sql`(${row.id}, ${row.filename_text}, ${row.metadata_text}, ${row.mime_text})`);
      await sql`insert into file_search_fts (rowid, filename_text, metadata_text, mime_text) values ${sql.join(values)}`.execute(db);
    }
  }

  const words = documents.flatMap(({ file, doc }) => doc.vocabulary.map((word) => ({ file_uuid: file.uuid, project_id: file.projectId, word })));
  // PostgreSQL keeps a file's tags, metadata and words as GIN-indexed arrays on its row; SQLite in tables.
  if (!postgres) {
    const tags = live.flatMap((file) => file.tags.map((tag) => ({ file_uuid: file.uuid, project_id: file.projectId, tag })));
    for (const chunk of chunks(tags)) await db.insertInto('file_search_tags').values(chunk).onConflict((oc) => oc.doNothing()).execute();
    const metadata = live.flatMap((file) => Object.entries(file.metadata).map(([key, value]) => ({ file_uuid: file.uuid, project_id: file.projectId, key, value })));
    for (const chunk of chunks(metadata)) await db.insertInto('file_search_metadata').values(chunk).execute();
    for (const chunk of chunks(words)) await db.insertInto('file_search_words').values(chunk).execute();
  }

  await addToVocabulary(db, postgres, words);
}

/**
 * Adds the words a project has not had yet. Existing rows are left untouched (no lock is taken on
 * them), so uploads sharing common words never wait for each other here.
 */
async function addToVocabulary(db: Kysely<Database>, postgres: boolean, words: ReadonlyArray<{ project_id: string; word: string }>): Promise<void> {
  const distinct = new Map<string, { project_id: string; word: string }>();
  for (const { project_id, word } of words) distinct.set(`${project_id}\u0000${word}`, { project_id, word });
  // One order for every writer, so two transactions adding the same words cannot deadlock.
  const sorted = [...distinct.values()].sort((a, b) => (a.project_id + a.word < b.project_id + b.word ? -1 : 1));
  for (const chunk of chunks(sorted)) {
    const added = await db
      .insertInto('file_search_vocabulary')
      .values(chunk.map((entry) => ({ ...entry, trigrams: trigramsOf(entry.word).length })))
      .onConflict((oc) => oc.columns(['project_id', 'word']).doNothing())
      .returning(['project_id', 'word'])
      .execute();
    // PostgreSQL finds similar words with pg_trgm's index; SQLite keeps the trigrams itself.
    if (postgres || added.length === 0) continue;
    const trigrams = added.flatMap((entry) => trigramsOf(entry.word).map((trigram) => ({ project_id: entry.project_id, trigram, word: entry.word })));
    for (const part of chunks(trigrams, 300)) await db.insertInto('file_search_trigrams').values(part).onConflict((oc) => oc.doNothing()).execute();
  }
}

/** Files just stored: they no longer expire, and `stored` filters find them. */
export async function markStored(db: Kysely<Database>, uuids: readonly string[]): Promise<void> {
  for (const chunk of chunks([...uuids], 500)) await db.updateTable('file_search').set({ stored: 1, expires_at: null }).where('file_uuid', 'in', chunk).execute();
}

/** Takes files out of the index, with their tags, metadata and words; unknown uuids are ignored. */
export async function unindexFiles(db: Kysely<Database>, uuids: readonly string[]): Promise<void> {
  if (uuids.length === 0) return;
  const postgres = isPostgres(db);
  for (const chunk of chunks([...new Set(uuids)], 500)) {
    if (!postgres) {
      // An external-content FTS5 table forgets a row only when told the values it indexed.
      const rows = await db.selectFrom('file_search').select(['id', 'filename_text', 'metadata_text', 'mime_text']).where('file_uuid', 'in', chunk).execute();
      for (const part of chunks(rows)) {
        if (part.length === 0) continue;
        const values = part.map((row) => sql`('delete', ${row.id}, ${row.filename_text}, ${row.metadata_text}, ${row.mime_text})`);
        await sql`insert into file_search_fts (file_search_fts, rowid, filename_text, metadata_text, mime_text) values ${sql.join(values)}`.execute(db);
      }
    }
    if (!postgres) {
      await db.deleteFrom('file_search_tags').where('file_uuid', 'in', chunk).execute();
      await db.deleteFrom('file_search_metadata').where('file_uuid', 'in', chunk).execute();
      await db.deleteFrom('file_search_words').where('file_uuid', 'in', chunk).execute();
    }
    await db.deleteFrom('file_search').where('file_uuid', 'in', chunk).execute();
  }
}
