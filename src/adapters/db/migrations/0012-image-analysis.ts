import type { Kysely } from 'kysely';

/**
 * What `image.analyze` computes from an image's pixels, one row per file. The perceptual hash is
 * kept whole and in four 16-bit chunks, each indexed with the project, so `similar_to` finds its
 * candidates by equality lookups (multi-index hashing) instead of reading every row. A file's row
 * goes with the file (foreign key), and the services delete it when the file is removed.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('image_analysis')
    .addColumn('file_uuid', 'text', (c) => c.primaryKey().references('files.uuid').onDelete('cascade'))
    .addColumn('project_id', 'text', (c) => c.notNull().references('projects.id').onDelete('cascade'))
    .addColumn('thumbhash', 'text', (c) => c.notNull())
    .addColumn('blurhash', 'text', (c) => c.notNull())
    .addColumn('dominant_color', 'text', (c) => c.notNull())
    .addColumn('palette', 'text', (c) => c.notNull())
    .addColumn('phash', 'text', (c) => c.notNull())
    .addColumn('phash_0', 'integer', (c) => c.notNull())
    .addColumn('phash_1', 'integer', (c) => c.notNull())
    .addColumn('phash_2', 'integer', (c) => c.notNull())
    .addColumn('phash_3', 'integer', (c) => c.notNull())
    .addColumn('version', 'text', (c) => c.notNull())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('computed_at', 'text', (c) => c.notNull())
    .execute();
  for (const chunk of [0, 1, 2, 3]) {
    await db.schema.createIndex(`image_analysis_phash_${chunk}_idx`).on('image_analysis').columns(['project_id', `phash_${chunk}`]).execute();
  }
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('image_analysis').execute();
}
