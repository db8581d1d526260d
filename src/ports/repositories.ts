import type { DocumentConversion } from '../domain/document-conversion.js';
import type { ConversionStatus, VideoConversion } from '../domain/video-conversion.js';
import type { AddonName, AddonRequest, AddonRequestStatus, AppDataEntry, ScanStatus } from '../domain/addons.js';
import type { DashboardSession } from '../domain/dashboard-session.js';
import type { FileSearchCriteria } from '../domain/file-search.js';
import type { StoredFaces } from '../domain/faces.js';
import type { ImageAnalysis } from '../domain/image-analysis.js';
import type { StoredFile } from '../domain/file.js';
import type { Project, SecretKey } from '../domain/project.js';
import type { ProjectStorage } from '../domain/project-storage.js';
import type { DeliveryStatus, Webhook, WebhookAttempt, WebhookDelivery, WebhookEvent, WebhookInitiator } from '../domain/webhook.js';

export interface NewProject {
  /** Chosen in advance when the project's shard needs its anchor row first; random otherwise. */
  id?: string;
  createdAt?: string;
  name: string;
  publicKey: string;
  autoStore?: boolean;
  signedUploads?: boolean;
  maxFileSize?: number | null;
  allowedMimeTypes?: string[] | null;
  scanOnUpload?: boolean;
  purgeInfected?: boolean;
  /** The shard to hold its files (placement chooses one before creation); default 'main'. */
  shard?: string;
}

export type ProjectSettingsPatch = Partial<
  Pick<Project, 'name' | 'autoStore' | 'signedUploads' | 'maxFileSize' | 'allowedMimeTypes' | 'scanOnUpload' | 'purgeInfected'>
>;

export interface ProjectsRepository {
  create(project: NewProject): Promise<Project>;
  findById(id: string): Promise<Project | null>;
  findByPublicKey(publicKey: string): Promise<Project | null>;
  list(): Promise<Project[]>;
  update(id: string, patch: ProjectSettingsPatch): Promise<Project | null>;
  addSecretKey(projectId: string, secret: string): Promise<SecretKey>;
  /** Active (unrevoked) secrets of a project, oldest first. */
  listSecretKeys(projectId: string, options?: { includeRevoked?: boolean }): Promise<SecretKey[]>;
  revokeSecretKey(projectId: string, keyId: string): Promise<boolean>;
  /** True for exactly one caller ever, across every node: who creates the default project of a fresh install. */
  claimBootstrap(): Promise<boolean>;
  /** How many projects each shard holds (shards without projects are left out). */
  countByShard(): Promise<Map<string, number>>;
  /** Points the project at another shard (a move's switch); false when there is no such project. */
  setShard(id: string, shard: string): Promise<boolean>;
}

/** A file event recorded with the change itself; the dispatcher turns it into webhooks and purges. */
export interface OutboxEvent {
  id: string;
  projectId: string;
  event: WebhookEvent;
  fileUuid: string;
  previousValues: Record<string, unknown> | null;
  /** Who caused the event (an add-on's request, for its events); null: the API. */
  initiator?: WebhookInitiator | null;
  createdAt: string;
}

/** An event to record; the outbox gives it its id. */
export type NewOutboxEvent = Omit<OutboxEvent, 'id'>;

export interface EventOutboxRepository {
  append(events: NewOutboxEvent[]): Promise<void>;
  /** Oldest first (by `createdAt`, then id). */
  oldest(limit: number): Promise<OutboxEvent[]>;
  remove(id: string): Promise<void>;
}

export interface FileCounts {
  stored: number;
  unstored: number;
  removed: number;
}

/** A project's files by state, kept as counters so listing totals count no rows. */
export interface FileCountersRepository {
  /** Adds `delta` (negative parts subtract) to the project's counters; a project without counters starts at zero. */
  apply(projectId: string, delta: FileCounts): Promise<void>;
  /** Zero for a project without counters. */
  counts(projectId: string): Promise<FileCounts>;
  /** Live files (stored and unstored) of every project in this database, from the counters alone (a shard's load). */
  liveTotal(): Promise<number>;
}

/** Narrowing of a files list beyond Uploadcare's filters (Trove extensions). */
export interface FileSearchFilters {
  /** Case-insensitive text in the original filename, the metadata (keys and values) or the tags. */
  text: string | null;
  /** Files carrying exactly this tag. */
  tag: string | null;
  /** Exact MIME types or `type/*` prefixes; any of them matches. */
  mimeTypes: string[] | null;
  /** Uploaded at or after this instant (in either order, unlike `from`). */
  since: string | null;
  /** Uploaded strictly before this instant. */
  before: string | null;
}

/** One page of a project's files, in upload order, after a keyset position. */
export interface FileListQuery {
  /** true: stored only; false: unstored only; null: both. */
  stored: boolean | null;
  /** true: removed files only; false: live files only. */
  removed: boolean;
  order: 'asc' | 'desc';
  /** Start after this file (exclusive); uuid null: from this instant on (inclusive). */
  after: { datetime: string; uuid: string | null } | null;
  limit: number;
  filters?: FileSearchFilters;
}

/** The metadata and tags of a file; what is left out stays as it is. */
export type FileInfoPatch = Partial<Pick<StoredFile, 'metadata' | 'tags'>>;

/**
 * File records, and nothing else: the events and counters a change implies are written by the
 * services, in the same unit of work (see `MetadataRepositories.transaction`).
 */
export interface FilesRepository {
  insertMany(files: StoredFile[]): Promise<void>;
  /** A file of this project that has not been removed (unless `includeRemoved`). */
  findForProject(projectId: string, uuid: string, options?: { includeRemoved?: boolean }): Promise<StoredFile | null>;
  /** Delivery lookup: a live file by uuid, whatever the project (uuids are unguessable and public by design). */
  findLive(uuid: string): Promise<StoredFile | null>;
  findManyForProject(projectId: string, uuids: string[], options?: { includeRemoved?: boolean }): Promise<StoredFile[]>;
  /** The newest live file of the project fetched from this URL. */
  findBySourceUrl(projectId: string, sourceUrl: string): Promise<StoredFile | null>;
  /** Unstored files past their expiry (removed ones included), soonest expiry first. */
  listExpired(now: string, limit: number): Promise<StoredFile[]>;
  /** Removes the row for good (after its bytes are gone); returns what it was, null when there was none. */
  deleteRow(uuid: string): Promise<StoredFile | null>;
  list(projectId: string, query: FileListQuery): Promise<StoredFile[]>;
  /** Files matching a search (its state filters and search filters, not its position): these are counted. */
  countMatching(projectId: string, query: Pick<FileListQuery, 'stored' | 'removed' | 'filters'>): Promise<number>;
  /** Stores the live, unstored files of the project among `uuids` (no expiry any more); returns the files this call changed. */
  setStored(projectId: string, uuids: string[], at: string): Promise<StoredFile[]>;
  /** Marks the live files of the project among `uuids` removed; returns the files this call changed. */
  setRemoved(projectId: string, uuids: string[], at: string): Promise<StoredFile[]>;
  /**
   * Changes a live file's metadata or tags; returns the file as it now is, null when the project has
   * no such live file, or when `expected` is given and the file no longer holds those values (a
   * compare-and-set: an edit derived from what was read cannot overwrite a concurrent one).
   */
  updateInfo(projectId: string, uuid: string, patch: FileInfoPatch, expected?: FileInfoPatch): Promise<StoredFile | null>;
  /**
   * Writes one add-on's entry into a live file's appdata (the other add-ons' entries stay) and sets
   * its scan status; a write racing another add-on's is retried on the fresh value, so neither is
   * lost. Returns the file before and after, null when the project has no such live file.
   */
  writeAppData(projectId: string, uuid: string, addon: AddonName, entry: AppDataEntry, scanStatus: ScanStatus | null): Promise<{ before: StoredFile; after: StoredFile } | null>;
  /** Moves a file's scan status from `from` to `to`; returns the file as it now is, null when it was not in `from`. */
  moveScanStatus(projectId: string, uuid: string, from: ScanStatus, to: ScanStatus): Promise<StoredFile | null>;
}

/** Execution requests of add-ons, polled by clients through their id. */
export interface AddonRequestsRepository {
  /** Records a new request; false (and nothing changes) when one with this id exists already. */
  create(request: AddonRequest): Promise<boolean>;
  /** A request of this project for this add-on; null for any other (tenant isolation). */
  find(projectId: string, addonName: AddonName, requestId: string): Promise<AddonRequest | null>;
  /** The request by id alone (the job that runs it carries only the id). */
  findById(requestId: string): Promise<AddonRequest | null>;
  /** Ends a request in `done` or `error`. */
  finish(requestId: string, status: Exclude<AddonRequestStatus, 'in_progress'>, error: string | null, at: string): Promise<void>;
  /** Forgets finished requests last touched before `before`; returns how many. */
  deleteFinishedBefore(before: string): Promise<number>;
}

/** Video conversion jobs, polled by their token. */
/** A page of a project's conversions, newest first. */
export interface VideoConversionListQuery {
  /** Only the conversions of this source file; null: all of the project's. */
  sourceUuid: string | null;
  /** Start after this conversion (exclusive); token null: from this instant back (inclusive). */
  before: { datetime: string; token: string | null } | null;
  limit: number;
}

export interface VideoConversionsRepository {
  /** Records a new conversion; false (nothing changes) when the project has one for the same request key, or the token is taken. */
  create(conversion: VideoConversion): Promise<boolean>;
  /** The project's conversion for a request key (the same request made again). */
  findByRequest(projectId: string, requestKey: string): Promise<VideoConversion | null>;
  /** A conversion of this project; null for any other (tenant isolation). */
  find(projectId: string, token: string): Promise<VideoConversion | null>;
  /** By token alone (the job carries only the token). */
  findByToken(token: string): Promise<VideoConversion | null>;
  /** The project's conversions (of one source, when given) by creation time then token, newest first. */
  list(projectId: string, query: VideoConversionListQuery): Promise<VideoConversion[]>;
  /** How many conversions the project has (of one source, when given). */
  count(projectId: string, sourceUuid: string | null): Promise<number>;
  /** Records how far a conversion that is `processing` has come (percent); nothing for one in another state. */
  setProgress(token: string, progress: number, at: string): Promise<void>;
  /** Moves a conversion to `status` only from one of `from` (`finished` sets the progress to 100, `pending` to 0); false when it was elsewhere. */
  moveStatus(token: string, from: readonly ConversionStatus[], status: ConversionStatus, error: string | null, at: string): Promise<boolean>;
}

/** Document conversion jobs, polled by their token. */
export interface DocumentConversionsRepository {
  /** Records a new conversion; false (nothing changes) when the project has one for the same request key, or the token is taken. */
  create(conversion: DocumentConversion): Promise<boolean>;
  /** The project's conversion for a request key (the same request made again). */
  findByRequest(projectId: string, requestKey: string): Promise<DocumentConversion | null>;
  /** A conversion of this project; null for any other (tenant isolation). */
  find(projectId: string, token: string): Promise<DocumentConversion | null>;
  /** By token alone (the job carries only the token). */
  findByToken(token: string): Promise<DocumentConversion | null>;
  /** The project's finished conversions of one source saved in a group, newest first. */
  finishedGroups(projectId: string, sourceUuid: string): Promise<DocumentConversion[]>;
  /** Moves a conversion to `status` only from one of `from`; false when it was elsewhere. */
  moveStatus(token: string, from: readonly ConversionStatus[], status: ConversionStatus, error: string | null, at: string): Promise<boolean>;
  /** Records the group of pages a conversion made. */
  setGroup(token: string, groupId: string, at: string): Promise<void>;
}

/** One page of a file search. */
export interface FileSearchResult {
  files: StoredFile[];
  /** Files matching in all, whatever the page. */
  total: number;
  /**
   * With fuzziness: for each query term and phrase word, the project's words that stood in for it
   * (most similar first); empty without fuzziness or when none is similar enough.
   */
  alternatives: Record<string, string[]>;
  /** False when fuzziness was asked but this database cannot provide it: then matching was exact. */
  fuzzy: boolean;
}

/**
 * Full-text search over a project's live files (the index is kept by FilesRepository, in the same
 * transaction as each change). Both engines return the same files in the same order for the same
 * data: matching, scoring and ordering follow src/domain/search-text.ts and file-search.ts.
 */
export interface FileSearchRepository {
  /** Files of the project that are live and not expired at `now` and meet every criterion, in the criteria's order (ties by uuid). */
  search(projectId: string, criteria: FileSearchCriteria, page: { limit: number; offset: number }, now: string): Promise<FileSearchResult>;
  /** Whether typo tolerance works on this database (PostgreSQL needs the pg_trgm extension). */
  supportsFuzziness(): Promise<boolean>;
}

export interface MultipartUpload {
  uuid: string;
  projectId: string;
  blobKey: string;
  blobUploadId: string;
  /** Random secret embedded in part URLs so they authorise themselves, like presigned URLs. */
  partToken: string;
  size: number;
  partSize: number;
  partCount: number;
  originalFilename: string;
  store: boolean;
  metadata: Record<string, string>;
  tags: string[];
  source: string | null;
  createdAt: string;
  expiresAt: string;
}

export interface MultipartPart {
  partNumber: number;
  etag: string;
  size: number;
}

export interface MultipartRepository {
  create(upload: MultipartUpload): Promise<void>;
  find(uuid: string): Promise<MultipartUpload | null>;
  /** Records (or re-records, for a re-sent part) one uploaded part. */
  savePart(uuid: string, part: MultipartPart): Promise<void>;
  listParts(uuid: string): Promise<MultipartPart[]>;
  /** Deletes the upload and its parts; true when this call removed it (guards double completion). */
  delete(uuid: string): Promise<boolean>;
  listExpired(now: string, limit: number): Promise<MultipartUpload[]>;
}

export type FromUrlTaskStatus = 'waiting' | 'progress' | 'success' | 'error';

export interface FromUrlTask {
  token: string;
  projectId: string;
  sourceUrl: string;
  status: FromUrlTaskStatus;
  done: number;
  total: number | null;
  fileUuid: string | null;
  error: string | null;
  errorCode: string | null;
  createdAt: string;
  updatedAt: string;
}

export interface FromUrlTasksRepository {
  create(task: FromUrlTask): Promise<void>;
  find(token: string): Promise<FromUrlTask | null>;
  update(token: string, patch: Partial<Pick<FromUrlTask, 'status' | 'done' | 'total' | 'fileUuid' | 'error' | 'errorCode'>>): Promise<void>;
  /** Tasks still waiting or in progress that were last touched before `olderThan` (their worker died). */
  listStale(olderThan: string, limit: number): Promise<FromUrlTask[]>;
  deleteFinishedBefore(before: string): Promise<number>;
}

export interface GroupRecord {
  id: string;
  projectId: string;
  filesCount: number;
  datetimeCreated: string;
  datetimeStored: string | null;
}

export interface GroupMember {
  position: number;
  fileUuid: string;
  /** CDN operations attached to this member, e.g. `-/resize/100x/` (Uploadcare's default_effects). */
  effects: string;
}

export interface GroupListQuery {
  order: 'asc' | 'desc';
  /** Start after this group (exclusive); id null: from this instant on (inclusive). */
  after: { datetime: string; id: string | null } | null;
  limit: number;
}

export interface GroupsRepository {
  create(group: GroupRecord, members: GroupMember[]): Promise<void>;
  findForProject(projectId: string, id: string): Promise<{ group: GroupRecord; members: GroupMember[] } | null>;
  /** Delivery lookup of one member (`/:group/nth/:i/`): the file uuid at that position, whatever the project. */
  findMember(id: string, position: number): Promise<GroupMember | null>;
  list(projectId: string, query: GroupListQuery): Promise<GroupRecord[]>;
  count(projectId: string): Promise<number>;
  /** Deletes the group (its files stay); false when the project has no such group. */
  delete(projectId: string, id: string): Promise<boolean>;
}

/** A subscription as its creator describes it; `at` becomes both its creation and update time. */
export type NewWebhook = Omit<Webhook, 'id' | 'createdAt' | 'updatedAt'> & { at: string };

export type WebhookPatch = Partial<Pick<Webhook, 'targetUrl' | 'event' | 'isActive' | 'signingSecret'>>;

export interface AttemptOutcome {
  attempt: WebhookAttempt;
  status: DeliveryStatus;
}

export interface WebhooksRepository {
  create(webhook: NewWebhook): Promise<Webhook>;
  list(projectId: string): Promise<Webhook[]>;
  find(projectId: string, id: number): Promise<Webhook | null>;
  findByTarget(projectId: string, targetUrl: string, event: WebhookEvent): Promise<Webhook | null>;
  update(projectId: string, id: number, patch: WebhookPatch, at: string): Promise<Webhook | null>;
  /** Removes one subscription; false when the project has no such webhook. */
  delete(projectId: string, id: number): Promise<boolean>;
  /** Removes the project's subscriptions to this URL; returns how many. */
  deleteByTarget(projectId: string, targetUrl: string): Promise<number>;
  active(projectId: string, event: WebhookEvent): Promise<Webhook[]>;
  /** Inserts the deliveries whose id is new (ids derive from the event, so a retried dispatch adds nothing). */
  createDeliveries(deliveries: WebhookDelivery[]): Promise<void>;
  /** Pending deliveries untouched since `before`: their job may have been lost with the queue's data. */
  listStalePending(before: string, limit: number): Promise<WebhookDelivery[]>;
  findDelivery(id: string): Promise<WebhookDelivery | null>;
  /** Appends an attempt and moves the delivery to `status` in one transaction. */
  recordAttempt(outcome: AttemptOutcome): Promise<void>;
  /** Puts a finished delivery back to pending for a replay. */
  reopenDelivery(id: string, at: string): Promise<void>;
  /** Newest first, before the `before` creation time when given. */
  listDeliveries(projectId: string, webhookId: number, options: { limit: number; before: string | null }): Promise<WebhookDelivery[]>;
  listAttempts(deliveryIds: string[]): Promise<WebhookAttempt[]>;
}

export interface DashboardSessionsRepository {
  create(session: DashboardSession): Promise<void>;
  /** A session that has not expired at `now`. */
  find(id: string, now: string): Promise<DashboardSession | null>;
  setProject(id: string, projectId: string): Promise<void>;
  delete(id: string): Promise<void>;
  deleteExpired(now: string): Promise<number>;
}

/** Delivery counts of one project on one UTC day (added to what is stored). */
export interface DailyDeliveries {
  projectId: string;
  /** YYYY-MM-DD */
  day: string;
  deliveries: number;
  cacheHits: number;
  cacheMisses: number;
}

export interface DailyUploads {
  day: string;
  uploads: number;
  uploadBytes: number;
}

export interface UsageRepository {
  addDeliveries(counts: DailyDeliveries[]): Promise<void>;
  /** Days from `fromDay` on (inclusive) that have counts, oldest first. */
  deliveriesSince(projectId: string, fromDay: string): Promise<DailyDeliveries[]>;
  /** Files uploaded per UTC day since `fromDay` (removed ones included: they were uploads). */
  uploadsSince(projectId: string, fromDay: string): Promise<DailyUploads[]>;
  /** Bytes of the project's live files. */
  bytes(projectId: string): Promise<{ stored: number; unstored: number }>;
  /** The project of each file among `uuids` (removed files included); unknown uuids are left out. */
  projectsOfFiles(uuids: string[]): Promise<Map<string, string>>;
  /** Live files and their bytes in this whole database, every project's (a shard's load). */
  totals(): Promise<{ files: number; bytes: number }>;
}

/** A registered storage as kept: its settings and its credentials, sealed by the service. */
export interface ProjectStorageRecord extends ProjectStorage {
  projectId: string;
  /** Opaque to the repository: the service seals and opens it. */
  sealedCredentials: string;
}

/** A project's storages for remote copies, by name within the project. */
export interface ProjectStoragesRepository {
  /** false, and nothing written, when the project already has a storage of this name. */
  create(record: ProjectStorageRecord): Promise<boolean>;
  /** The project's storages by name. */
  list(projectId: string): Promise<ProjectStorageRecord[]>;
  find(projectId: string, name: string): Promise<ProjectStorageRecord | null>;
  /** false when the project has no storage of this name. */
  delete(projectId: string, name: string): Promise<boolean>;
}

/** A file an analysis is owed to (the backfill's work list). */
export interface AnalysisTarget {
  projectId: string;
  uuid: string;
}

/** A candidate of a similarity search: a file and its perceptual hash in 16-bit chunks. */
export interface HashCandidate {
  fileUuid: string;
  chunks: number[];
}

/** What `image.analyze` computed for image files, one analysis per file. */
export interface ImageAnalysisRepository {
  /**
   * Writes (or rewrites) the analysis of a live file of its project; a rewrite keeps the first
   * creation time. false, and nothing written, when the project has no such live file.
   */
  save(analysis: ImageAnalysis): Promise<boolean>;
  /** The analysis of a file of this project; null for any other (tenant isolation). */
  find(projectId: string, fileUuid: string): Promise<ImageAnalysis | null>;
  /** The analyses of the project's files among `fileUuids` (in no particular order). */
  findMany(projectId: string, fileUuids: string[]): Promise<ImageAnalysis[]>;
  /** Forgets the analyses of the project's files among `fileUuids`; returns how many. */
  deleteForFiles(projectId: string, fileUuids: string[]): Promise<number>;
  /**
   * The live files of the project (stored or unstored as `stored` says; null: both) whose hash chunk
   * `i` is one of `chunkValues[i]` for at least one `i`: the candidates of a similarity search.
   */
  candidates(projectId: string, chunkValues: number[][], stored: boolean | null): Promise<HashCandidate[]>;
  /** Live image files (of one project, or of all) without an analysis of `version`, by uuid, after `afterUuid`. */
  listUnanalysed(query: { projectId: string | null; version: string; afterUuid: string | null; limit: number }): Promise<AnalysisTarget[]>;
}

/** The faces found in image files, one detection per file. */
export interface FaceDetectionsRepository {
  /** Writes (or rewrites) the detection of a live file of its project; false, and nothing written, when there is none. */
  save(projectId: string, fileUuid: string, detection: StoredFaces, at: string): Promise<boolean>;
  /** The detection of a file of this project; null for any other (tenant isolation). */
  find(projectId: string, fileUuid: string): Promise<StoredFaces | null>;
  /** Forgets the detections of the project's files among `fileUuids`; returns how many. */
  deleteForFiles(projectId: string, fileUuids: string[]): Promise<number>;
}

/** Every repository of the SQL database, all bound to one connection or to one transaction. */
export interface MetadataRepositories {
  readonly projects: ProjectsRepository;
  readonly files: FilesRepository;
  readonly fileSearch: FileSearchRepository;
  readonly fileCounters: FileCountersRepository;
  readonly multipart: MultipartRepository;
  readonly fromUrlTasks: FromUrlTasksRepository;
  readonly groups: GroupsRepository;
  readonly webhooks: WebhooksRepository;
  readonly outbox: EventOutboxRepository;
  readonly sessions: DashboardSessionsRepository;
  readonly usage: UsageRepository;
  readonly addonRequests: AddonRequestsRepository;
  readonly videoConversions: VideoConversionsRepository;
  readonly documentConversions: DocumentConversionsRepository;
  readonly storages: ProjectStoragesRepository;
  readonly imageAnalysis: ImageAnalysisRepository;
  readonly faceDetections: FaceDetectionsRepository;
  /**
   * A unit of work: runs `work` with repositories bound to one transaction, so what it writes
   * commits together, or not at all when it throws (the error is rethrown). Called on repositories
   * that are already inside a unit of work, it joins that one instead of opening a second. Only the
   * repositories given to `work` are in the transaction: inside it, use no others (on SQLite, whose
   * one connection the transaction holds, they would wait for it forever).
   */
  transaction<T>(work: (repositories: MetadataRepositories) => Promise<T>): Promise<T>;
}

/**
 * One SQL database with every table (the main database and each shard have the same schema). Only
 * the adapters hold one: services reach app-wide rows through `MainStore` and a project's rows
 * through its shard (`ShardResolver`).
 */
export interface MetadataStore extends MetadataRepositories {
  readonly dialect: 'sqlite' | 'postgres';
  migrate(): Promise<string[]>;
  ping(): Promise<void>;
  close(): Promise<void>;
}
