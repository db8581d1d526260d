import type { Kysely } from 'kysely';

/** Written with the schema builder only, so the same migration runs on SQLite and PostgreSQL. */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('projects')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('public_key', 'text', (c) => c.notNull().unique())
    .addColumn('auto_store', 'integer', (c) => c.notNull().defaultTo(1))
    .addColumn('signed_uploads', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('max_file_size', 'bigint')
    .addColumn('allowed_mime_types', 'text')
    .addColumn('created_at', 'text', (c) => c.notNull())
    .execute();

  await db.schema
    .createTable('secret_keys')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('project_id', 'text', (c) => c.notNull().references('projects.id').onDelete('cascade'))
    .addColumn('secret', 'text', (c) => c.notNull().unique())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('revoked_at', 'text')
    .execute();
  await db.schema.createIndex('secret_keys_project_idx').on('secret_keys').column('project_id').execute();

  await db.schema
    .createTable('files')
    .addColumn('uuid', 'text', (c) => c.primaryKey())
    .addColumn('project_id', 'text', (c) => c.notNull().references('projects.id').onDelete('cascade'))
    .addColumn('size', 'bigint', (c) => c.notNull())
    .addColumn('mime_type', 'text', (c) => c.notNull())
    .addColumn('is_image', 'integer', (c) => c.notNull())
    .addColumn('original_filename', 'text', (c) => c.notNull())
    .addColumn('filename', 'text', (c) => c.notNull())
    .addColumn('sha256', 'text', (c) => c.notNull())
    .addColumn('blob_key', 'text', (c) => c.notNull())
    .addColumn('content_info', 'text')
    .addColumn('metadata', 'text', (c) => c.notNull())
    .addColumn('tags', 'text', (c) => c.notNull())
    .addColumn('source', 'text')
    .addColumn('source_url', 'text')
    .addColumn('datetime_uploaded', 'text', (c) => c.notNull())
    .addColumn('datetime_stored', 'text')
    .addColumn('datetime_removed', 'text')
    .addColumn('expires_at', 'text')
    .execute();
  await db.schema
    .createIndex('files_project_uploaded_idx')
    .on('files')
    .columns(['project_id', 'datetime_uploaded', 'uuid'])
    .execute();
  await db.schema.createIndex('files_project_source_url_idx').on('files').columns(['project_id', 'source_url']).execute();
  await db.schema.createIndex('files_expires_at_idx').on('files').column('expires_at').execute();

  await db.schema
    .createTable('multipart_uploads')
    .addColumn('uuid', 'text', (c) => c.primaryKey())
    .addColumn('project_id', 'text', (c) => c.notNull().references('projects.id').onDelete('cascade'))
    .addColumn('blob_key', 'text', (c) => c.notNull())
    .addColumn('blob_upload_id', 'text', (c) => c.notNull())
    .addColumn('part_token', 'text', (c) => c.notNull())
    .addColumn('size', 'bigint', (c) => c.notNull())
    .addColumn('part_size', 'bigint', (c) => c.notNull())
    .addColumn('part_count', 'integer', (c) => c.notNull())
    .addColumn('original_filename', 'text', (c) => c.notNull())
    .addColumn('store', 'integer', (c) => c.notNull())
    .addColumn('metadata', 'text', (c) => c.notNull())
    .addColumn('tags', 'text', (c) => c.notNull())
    .addColumn('source', 'text')
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('expires_at', 'text', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('multipart_uploads_expires_idx').on('multipart_uploads').column('expires_at').execute();

  await db.schema
    .createTable('multipart_parts')
    .addColumn('upload_uuid', 'text', (c) => c.notNull().references('multipart_uploads.uuid').onDelete('cascade'))
    .addColumn('part_number', 'integer', (c) => c.notNull())
    .addColumn('etag', 'text', (c) => c.notNull())
    .addColumn('size', 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('multipart_parts_pk', ['upload_uuid', 'part_number'])
    .execute();

  await db.schema
    .createTable('from_url_tasks')
    .addColumn('token', 'text', (c) => c.primaryKey())
    .addColumn('project_id', 'text', (c) => c.notNull().references('projects.id').onDelete('cascade'))
    .addColumn('source_url', 'text', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('done', 'bigint', (c) => c.notNull().defaultTo(0))
    .addColumn('total', 'bigint')
    .addColumn('file_uuid', 'text')
    .addColumn('error', 'text')
    .addColumn('error_code', 'text')
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('updated_at', 'text', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('from_url_tasks_status_idx').on('from_url_tasks').columns(['status', 'updated_at']).execute();

  await db.schema
    .createTable('groups')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('project_id', 'text', (c) => c.notNull().references('projects.id').onDelete('cascade'))
    .addColumn('files_count', 'integer', (c) => c.notNull())
    .addColumn('datetime_created', 'text', (c) => c.notNull())
    .addColumn('datetime_stored', 'text')
    .execute();
  await db.schema.createIndex('groups_project_created_idx').on('groups').columns(['project_id', 'datetime_created']).execute();

  await db.schema
    .createTable('group_files')
    .addColumn('group_id', 'text', (c) => c.notNull().references('groups.id').onDelete('cascade'))
    .addColumn('position', 'integer', (c) => c.notNull())
    .addColumn('file_uuid', 'text', (c) => c.notNull())
    .addColumn('effects', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('group_files_pk', ['group_id', 'position'])
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  for (const table of ['group_files', 'groups', 'from_url_tasks', 'multipart_parts', 'multipart_uploads', 'files', 'secret_keys', 'projects']) {
    await db.schema.dropTable(table).ifExists().execute();
  }
}
