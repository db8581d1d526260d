import type { Generated } from 'kysely';

/** Row types as they sit in SQL. Booleans are 0/1 integers and times ISO-8601 text, so one schema fits SQLite and PostgreSQL. */

export interface ProjectsTable {
  id: string;
  name: string;
  public_key: string;
  auto_store: number;
  signed_uploads: number;
  max_file_size: number | null;
  allowed_mime_types: string | null;
  scan_on_upload: number;
  purge_infected: number;
  created_at: string;
  /** The shard holding the project's files ('main': the main database). */
  shard: Generated<string>;
}

export interface SecretKeysTable {
  id: string;
  project_id: string;
  secret: string;
  created_at: string;
  revoked_at: string | null;
}

export interface FilesTable {
  uuid: string;
  project_id: string;
  size: number;
  mime_type: string;
  is_image: number;
  original_filename: string;
  filename: string;
  sha256: string;
  blob_key: string;
  content_info: string | null;
  metadata: string;
  tags: string;
  /** JSON object keyed by add-on name; null reads as `{}`. */
  appdata: string | null;
  scan_status: string | null;
  source: string | null;
  source_url: string | null;
  datetime_uploaded: string;
  datetime_stored: string | null;
  datetime_removed: string | null;
  expires_at: string | null;
}

export interface MultipartUploadsTable {
  uuid: string;
  project_id: string;
  blob_key: string;
  blob_upload_id: string;
  part_token: string;
  size: number;
  part_size: number;
  part_count: number;
  original_filename: string;
  store: number;
  metadata: string;
  tags: string;
  source: string | null;
  created_at: string;
  expires_at: string;
}

export interface MultipartPartsTable {
  upload_uuid: string;
  part_number: number;
  etag: string;
  size: number;
}

export interface FromUrlTasksTable {
  token: string;
  project_id: string;
  source_url: string;
  status: string;
  done: number;
  total: number | null;
  file_uuid: string | null;
  error: string | null;
  error_code: string | null;
  created_at: string;
  updated_at: string;
}

export interface GroupsTable {
  id: string;
  project_id: string;
  files_count: number;
  datetime_created: string;
  datetime_stored: string | null;
}

export interface GroupFilesTable {
  group_id: string;
  position: number;
  file_uuid: string;
  effects: string;
}

export interface ProjectFileCountsTable {
  project_id: string;
  stored: number;
  unstored: number;
  removed: number;
}

export interface WebhooksTable {
  id: number;
  project_id: string;
  target_url: string;
  event: string;
  is_active: number;
  signing_secret: string | null;
  version: string;
  created_at: string;
  updated_at: string;
}

export interface IdSequencesTable {
  name: string;
  value: number;
}

export interface WebhookDeliveriesTable {
  id: string;
  webhook_id: number;
  project_id: string;
  event: string;
  target_url: string;
  payload: string;
  status: string;
  attempts: number;
  last_status_code: number | null;
  last_error: string | null;
  created_at: string;
  updated_at: string;
  delivered_at: string | null;
}

export interface WebhookAttemptsTable {
  id: string;
  delivery_id: string;
  attempt: number;
  status_code: number | null;
  latency_ms: number;
  error: string | null;
  created_at: string;
}

export interface JobsTable {
  id: string;
  name: string;
  payload: string;
  status: 'waiting' | 'active' | 'dead';
  attempt: number;
  /** Epoch milliseconds, like locked_until: compared and added to on every poll. */
  run_at: number;
  locked_until: number | null;
  dedupe_key: string | null;
  /** A named lane (see JobRegistration.lane); null in the default lane. */
  lane: string | null;
  /** Jobs of a named lane take turns by this key (a project's id); null in the default lane. */
  fairness_key: string | null;
  /** A named lane's jobs are taken lowest turn first (given at enqueue); null in the default lane. */
  turn: number | null;
  last_error: string | null;
  enqueued_at: string;
  updated_at: string;
}

export interface EventOutboxTable {
  id: string;
  project_id: string;
  event: string;
  file_uuid: string;
  previous_values: string | null;
  /** JSON of the webhook `initiator`; null: the API. */
  initiator: string | null;
  created_at: string;
}

export interface AddonRequestsTable {
  request_id: string;
  project_id: string;
  addon_name: string;
  file_uuid: string;
  /** JSON of the accepted parameters. */
  params: string;
  status: string;
  error: string | null;
  created_at: string;
  updated_at: string;
}

export interface VideoConversionsTable {
  token: string;
  project_id: string;
  request_key: string;
  source_uuid: string;
  /** JSON of the parsed plan. */
  plan: string;
  store: number;
  result_uuid: string;
  thumbnails_group_id: string;
  status: string;
  error: string | null;
  /** 0–100 while processing. */
  progress: number;
  created_at: string;
  updated_at: string;
}

export interface DocumentConversionsTable {
  token: string;
  project_id: string;
  request_key: string;
  source_uuid: string;
  format: string;
  page: number | null;
  store: number;
  save_in_group: number;
  result_uuid: string;
  group_id: string | null;
  status: string;
  error: string | null;
  created_at: string;
  updated_at: string;
}

export interface DashboardSessionsTable {
  /** SHA-256 of the cookie's token: a leaked table opens no session. */
  id: string;
  project_id: string;
  admin: number;
  secret_key_id: string | null;
  csrf_token: string;
  created_at: string;
  expires_at: string;
}

export interface UsageDailyTable {
  project_id: string;
  /** UTC day, YYYY-MM-DD. */
  day: string;
  deliveries: number;
  cache_hits: number;
  cache_misses: number;
}

export interface ProjectStoragesTable {
  project_id: string;
  name: string;
  bucket: string;
  prefix: string;
  region: string;
  endpoint: string | null;
  force_path_style: number;
  pattern: string;
  /** AES-256-GCM under the server's key (TROVE_STORAGE_CREDENTIALS_KEY); never plaintext. */
  credentials: string;
  created_at: string;
}

/**
 * The search index: one row per live file (removed files leave it), with the folded text of its
 * searchable fields (see src/domain/search-text.ts). PostgreSQL adds `document`, a tsvector of every
 * word's suffixes (GIN-indexed); SQLite adds `id`, the rowid of the file's row in the FTS5 table
 * `file_search_fts` (trigram tokenizer), which reads these text columns as its external content.
 */
export interface FileSearchTable {
  /** SQLite only. */
  id: Generated<number>;
  file_uuid: string;
  project_id: string;
  datetime_uploaded: string;
  size: number;
  is_image: number;
  /** 1 once stored; with `expires_at`, what the search needs of the file's state without reading `files`. */
  stored: number;
  expires_at: string | null;
  mime_type: string;
  original_filename: string;
  filename_key: string;
  filename_text: string;
  metadata_text: string;
  mime_text: string;
  /** PostgreSQL only: a tsvector. */
  document: Generated<string>;
  /** PostgreSQL only (SQLite has file_search_words, _tags and _metadata): GIN-indexed arrays. */
  words: Generated<string[]>;
  tags: Generated<string[]>;
  /** `key=value` per metadata entry. */
  metadata: Generated<string[]>;
}

/** SQLite only: a live file's tags, for the tag filters. */
export interface FileSearchTagsTable {
  file_uuid: string;
  project_id: string;
  tag: string;
}

/** SQLite only: a live file's metadata, for exact matches on a key's value. */
export interface FileSearchMetadataTable {
  file_uuid: string;
  project_id: string;
  key: string;
  value: string;
}

/** SQLite only: a live file's indexed words of four characters or more: which words a project has now. */
export interface FileSearchWordsTable {
  file_uuid: string;
  project_id: string;
  word: string;
}

/**
 * Every word a project's files have had (rows are never removed here: a word no live file has is
 * skipped through the words live files have), searched by trigram similarity for typo tolerance: pg_trgm's
 * GIN index on PostgreSQL, file_search_trigrams on SQLite.
 */
export interface FileSearchVocabularyTable {
  project_id: string;
  word: string;
  /** How many distinct trigrams the word has. */
  trigrams: number;
}

/** SQLite only: the trigrams of each vocabulary word. */
export interface FileSearchTrigramsTable {
  project_id: string;
  trigram: string;
  word: string;
}

/** One analysed image (`image.analyze`); the perceptual hash also in four 16-bit chunks for similarity lookups. */
export interface ImageAnalysisTable {
  file_uuid: string;
  project_id: string;
  thumbhash: string;
  blurhash: string;
  dominant_color: string;
  /** JSON array of `#rrggbb`. */
  palette: string;
  phash: string;
  phash_0: number;
  phash_1: number;
  phash_2: number;
  phash_3: number;
  version: string;
  created_at: string;
  computed_at: string;
}

/** The faces found in one image file (`faces.detect`), or why none could be. */
export interface FaceDetectionsTable {
  file_uuid: string;
  project_id: string;
  /** `done` or `failed`. */
  status: string;
  version: string;
  frame_width: number | null;
  frame_height: number | null;
  /** JSON array of `[left, top, width, height]` in the frame's pixels. */
  faces: string;
  reason: string | null;
  detected_at: string;
}

export interface ShardsTable {
  name: string;
  url: string;
  ordinal: number;
  created_at: string;
  /** Null: the default region. */
  region: string | null;
}

/** In the main database: the change each region's configuration copy has applied up to, as it last reported. */
export interface ConfigCopiesTable {
  region: string;
  last_seq: number;
  updated_at: string;
}

export interface ProjectMovesTable {
  project_id: string;
  from_shard: string;
  to_shard: string;
  phase: string;
  detail: string | null;
  started_at: string;
  updated_at: string;
}

export interface ShardFencesTable {
  project_id: string;
  /** 'paused': every write refused; 'departed': all but deletions refused. */
  state: string;
  created_at: string;
}

export interface ConfigChangesTable {
  seq: Generated<number>;
  /** The project whose configuration changed; null: the shard map. */
  project_id: string | null;
  created_at: string;
}

export interface ConfigReplicaStateTable {
  name: string;
  last_seq: number;
  /** When the copy last had applied every change there was; null: never yet. */
  caught_up_at: string | null;
  updated_at: string;
}

export interface Database {
  config_changes: ConfigChangesTable;
  config_replica_state: ConfigReplicaStateTable;
  shards: ShardsTable;
  config_copies: ConfigCopiesTable;
  project_moves: ProjectMovesTable;
  shard_fences: ShardFencesTable;
  projects: ProjectsTable;
  secret_keys: SecretKeysTable;
  files: FilesTable;
  multipart_uploads: MultipartUploadsTable;
  multipart_parts: MultipartPartsTable;
  from_url_tasks: FromUrlTasksTable;
  groups: GroupsTable;
  group_files: GroupFilesTable;
  project_file_counts: ProjectFileCountsTable;
  webhooks: WebhooksTable;
  id_sequences: IdSequencesTable;
  webhook_deliveries: WebhookDeliveriesTable;
  webhook_attempts: WebhookAttemptsTable;
  jobs: JobsTable;
  event_outbox: EventOutboxTable;
  dashboard_sessions: DashboardSessionsTable;
  usage_daily: UsageDailyTable;
  addon_requests: AddonRequestsTable;
  video_conversions: VideoConversionsTable;
  document_conversions: DocumentConversionsTable;
  project_storages: ProjectStoragesTable;
  image_analysis: ImageAnalysisTable;
  face_detections: FaceDetectionsTable;
  file_search: FileSearchTable;
  file_search_tags: FileSearchTagsTable;
  file_search_metadata: FileSearchMetadataTable;
  file_search_words: FileSearchWordsTable;
  file_search_vocabulary: FileSearchVocabularyTable;
  file_search_trigrams: FileSearchTrigramsTable;
}
