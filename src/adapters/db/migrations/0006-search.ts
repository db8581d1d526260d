import { sql, type Kysely } from 'kysely';
import { isPostgres } from '../dialect.js';
import { toFile } from '../repositories/files.repository.js';
import type { Database } from '../schema.js';
import { indexFiles } from '../search/search-index.js';

/**
 * File search (`POST /files/search/`): the index tables (see schema.ts) and the index of every live
 * file already stored. PostgreSQL gets a GIN-indexed tsvector (and GIN-indexed arrays of each file's
 * words, tags and metadata) and, when the pg_trgm extension can be
 * created, a trigram index on the project vocabulary for typo tolerance; without pg_trgm the migration
 * still succeeds and searches asking for fuzziness match exactly. SQLite gets an FTS5 table with the
 * trigram tokenizer, tables of each file's words, tags and metadata, and its own trigram table for
 * the vocabulary.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  const postgres = isPostgres(db);
  if (postgres) {
    await sql`
      create table file_search (
        file_uuid text primary key,
        project_id text not null,
        datetime_uploaded text not null,
        size bigint not null,
        is_image integer not null,
        stored integer not null,
        expires_at text,
        mime_type text not null,
        original_filename text not null,
        filename_key text not null,
        filename_text text not null,
        metadata_text text not null,
        mime_text text not null,
        document tsvector not null,
        words text[] not null,
        tags text[] not null,
        metadata text[] not null
      )`.execute(db);
    for (const column of ['document', 'words', 'tags', 'metadata']) {
      await sql`create index ${sql.id(`file_search_${column}_idx`)} on file_search using gin (${sql.ref(column)})`.execute(db);
    }
  } else {
    await sql`
      create table file_search (
        id integer primary key,
        file_uuid text not null unique,
        project_id text not null,
        datetime_uploaded text not null,
        size bigint not null,
        is_image integer not null,
        stored integer not null,
        expires_at text,
        mime_type text not null,
        original_filename text not null,
        filename_key text not null,
        filename_text text not null,
        metadata_text text not null,
        mime_text text not null
      )`.execute(db);
    // External content: the text lives once, in file_search; case_sensitive because it is folded already.
    await sql`
      create virtual table file_search_fts using fts5(
        filename_text, metadata_text, mime_text,
        content = 'file_search', content_rowid = 'id',
        tokenize = 'trigram case_sensitive 1'
      )`.execute(db);
  }
  for (const column of ['datetime_uploaded', 'size', 'mime_type', 'original_filename']) {
    await db.schema.createIndex(`file_search_project_${column}_idx`).on('file_search').columns(['project_id', column]).execute();
  }

  if (!postgres) {
    // PostgreSQL keeps these as arrays on each file_search row.
    await db.schema
      .createTable('file_search_tags')
      .addColumn('file_uuid', 'text', (c) => c.notNull())
      .addColumn('project_id', 'text', (c) => c.notNull())
      .addColumn('tag', 'text', (c) => c.notNull())
      .addPrimaryKeyConstraint('file_search_tags_pk', ['project_id', 'tag', 'file_uuid'])
      .execute();
    await db.schema.createIndex('file_search_tags_file_idx').on('file_search_tags').column('file_uuid').execute();

    await db.schema
      .createTable('file_search_metadata')
      .addColumn('file_uuid', 'text', (c) => c.notNull())
      .addColumn('project_id', 'text', (c) => c.notNull())
      .addColumn('key', 'text', (c) => c.notNull())
      .addColumn('value', 'text', (c) => c.notNull())
      .addPrimaryKeyConstraint('file_search_metadata_pk', ['project_id', 'key', 'value', 'file_uuid'])
      .execute();
    await db.schema.createIndex('file_search_metadata_file_idx').on('file_search_metadata').column('file_uuid').execute();

    await db.schema
      .createTable('file_search_words')
      .addColumn('file_uuid', 'text', (c) => c.notNull())
      .addColumn('project_id', 'text', (c) => c.notNull())
      .addColumn('word', 'text', (c) => c.notNull())
      .addPrimaryKeyConstraint('file_search_words_pk', ['file_uuid', 'word'])
      .execute();
    await db.schema.createIndex('file_search_words_project_word_idx').on('file_search_words').columns(['project_id', 'word']).execute();
  }

  await db.schema
    .createTable('file_search_vocabulary')
    .addColumn('project_id', 'text', (c) => c.notNull())
    .addColumn('word', 'text', (c) => c.notNull())
    .addColumn('trigrams', 'integer', (c) => c.notNull())
    .addPrimaryKeyConstraint('file_search_vocabulary_pk', ['project_id', 'word'])
    .execute();

  if (postgres) {
    if (await createTrigramExtension(db)) {
      await sql`create index file_search_vocabulary_trgm_idx on file_search_vocabulary using gin (word gin_trgm_ops)`.execute(db);
    }
  } else {
    await sql`
      create table file_search_trigrams (
        project_id text not null,
        trigram text not null,
        word text not null,
        primary key (project_id, trigram, word)
      ) without rowid`.execute(db);
  }

  await backfill(db as Kysely<Database>);
}

/**
 * pg_trgm, when this server has it and this role may create it. The attempt runs in a savepoint:
 * a refusal would otherwise abort the migration's transaction.
 */
async function createTrigramExtension(db: Kysely<unknown>): Promise<boolean> {
  await sql`savepoint trove_pg_trgm`.execute(db);
  try {
    await sql`create extension if not exists pg_trgm`.execute(db);
    await sql`release savepoint trove_pg_trgm`.execute(db);
    return true;
  } catch {
    await sql`rollback to savepoint trove_pg_trgm`.execute(db);
    return false;
  }
}

/** Indexes the live files stored before search existed, a batch at a time. */
async function backfill(db: Kysely<Database>): Promise<void> {
  let after = '';
  for (;;) {
    const rows = await db.selectFrom('files').selectAll().where('datetime_removed', 'is', null).where('uuid', '>', after).orderBy('uuid').limit(500).execute();
    if (rows.length === 0) return;
    await indexFiles(db, rows.map((row) => toFile(row)));
    after = rows.at(-1)?.uuid ?? after;
  }
}

export async function down(db: Kysely<unknown>): Promise<void> {
  for (const table of ['file_search_trigrams', 'file_search_vocabulary', 'file_search_words', 'file_search_metadata', 'file_search_tags', 'file_search_fts', 'file_search']) {
    await sql`drop table if exists ${sql.table(table)}`.execute(db);
  }
}
