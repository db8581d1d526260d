import { createHash, randomUUID } from 'node:crypto';
import { Readable } from 'node:stream';
import { setTimeout } from 'node:timers/promises';
import { assertDeliverable } from '../domain/addons.js';
import { originalBlobKey } from '../domain/blob-layout.js';
import { copyPlanOf, parseCopySource } from '../domain/copy-source.js';
import { isExpired, isUuid, type FileMetadata, type StoredFile } from '../domain/file.js';
import { validateMetadata } from '../domain/metadata.js';
import { checkTagCount, normalizeTags, patchTags, tagChange, type TagChange } from '../domain/tags.js';
import type { Project } from '../domain/project.js';
import type { ParseLimits } from '../domain/transform/uploadcare-parser.js';
import { createAppError, isAppError } from '../errors.js';
import { FILE_PURGE_JOB, type FilePurgePayload } from '../jobs/catalogue.js';
import { enqueueJob } from '../jobs/typed-jobs.js';
import type { BlobStore } from '../ports/blob-store.js';
import type { ContentInspector } from '../ports/content-inspector.js';
import type { JobQueue, RunningJob } from '../ports/job-queue.js';
import type { FileCounts, FileInfoPatch, FileListQuery, FileSearchFilters } from '../ports/repositories.js';
import type { ProjectShard, ShardResolver } from '../ports/shards.js';
export type { FileSearchFilters } from '../ports/repositories.js';
import type { CacheInvalidationService } from './cache-invalidation.service.js';
import type { Clock } from '../lib/clock.js';
import type { DeliveryService } from './delivery.service.js';
import { insertFiles, removeFiles, storeFiles, updateFileInfo } from './file-changes.js';
import type { OutboxSignal } from './outbox-signal.js';
import type { TransformService } from './transform/transform.service.js';

export interface FileListRequest {
  stored: boolean | null;
  removed: boolean;
  order: 'asc' | 'desc';
  /** Keyset position: inclusive when only a time is given, after the file when a uuid is given too. */
  from: { datetime: string; uuid: string | null } | null;
  limit: number;
  /** Search filters (Trove extensions); with them, `total` counts the matching files. */
  filters?: FileSearchFilters;
}

interface FileListPage {
  files: StoredFile[];
  /** Files matching the filters (not just this page). */
  total: number;
  totals: FileCounts;
  /** Cursor of the next page; null on the last one. */
  next: { datetime: string; uuid: string } | null;
}

export interface BatchResult {
  problems: Record<string, string>;
  result: StoredFile[];
}

export const MAX_BATCH_UUIDS = 100;

/** Tries of a metadata or tag edit that keeps losing to concurrent edits of the same file (each loss means another edit landed). */
const INFO_EDIT_ATTEMPTS = 32;

/** What an edit of a file's metadata or tags decided: the fields to write (null: nothing to write) and the caller's answer. */
interface InfoEdit<R> {
  patch: FileInfoPatch | null;
  result: R;
}

/** Managing a project's files through the REST API: listing, storing, deleting, metadata, copies. */
export class FileManagementService {
  constructor(
    private readonly shards: ShardResolver,
    private readonly blobs: BlobStore,
    private readonly inspector: ContentInspector,
    private readonly jobs: JobQueue,
    private readonly delivery: DeliveryService,
    private readonly transform: TransformService,
    private readonly clock: Clock,
    /** Raised after each change that recorded events (webhooks, purges), so they go out at once. */
    private readonly outbox: OutboxSignal,
    /** Drops a deleted file from the memory caches of this process and every other. */
    private readonly caches: CacheInvalidationService,
    /** The delivery URL limits, so a copy's operations are read exactly as its CDN URL is. */
    private readonly parseLimits: ParseLimits,
  ) {}

  /** The project's shard: where its files, counters and events are. */
  private shardOf(project: Project): Promise<ProjectShard> {
    return this.shards.forProject(project.id);
  }

  private nudge(): void {
    this.outbox.notify();
  }

  async list(project: Project, request: FileListRequest): Promise<FileListPage> {
    const query: FileListQuery = {
      stored: request.stored,
      removed: request.removed,
      order: request.order,
      after: request.from,
      limit: request.limit + 1,
      ...(request.filters ? { filters: request.filters } : {}),
    };
    const shard = await this.shardOf(project);
    const [rows, totals, matching] = await Promise.all([
      shard.files.list(project.id, query),
      shard.fileCounters.counts(project.id),
      request.filters ? shard.files.countMatching(project.id, query) : Promise.resolve(null),
    ]);
    const now = this.clock.now();
    const visible = request.removed ? rows : rows.filter((file) => !isExpired(file, now));
    const files = visible.slice(0, request.limit);
    const last = files.at(-1);
    const next = rows.length > request.limit && last ? { datetime: last.datetimeUploaded, uuid: last.uuid } : null;
    const total = matching !== null ? matching : request.removed
      ? totals.removed
      : request.stored === true
        ? totals.stored
        : request.stored === false
          ? totals.unstored
          : totals.stored + totals.unstored;
    return { files, total, totals, next };
  }

  /** A file of the project, removed ones included (their info says when). */
  async info(project: Project, uuid: string): Promise<StoredFile> {
    return this.find(project, uuid, { includeRemoved: true });
  }

  async store(project: Project, uuid: string): Promise<StoredFile> {
    const file = await this.find(project, uuid, { includeRemoved: false });
    if (file.datetimeStored) return file;
    const [stored] = await storeFiles((await this.shardOf(project)), project.id, [uuid], this.clock.now().toISOString());
    if (!stored) return this.find(project, uuid, { includeRemoved: false });
    this.delivery.evict(uuid);
    this.nudge();
    return stored;
  }

  async remove(project: Project, uuid: string): Promise<StoredFile> {
    const file = await this.find(project, uuid, { includeRemoved: true });
    if (file.datetimeRemoved) return file;
    const [removed] = await removeFiles((await this.shardOf(project)), project.id, [uuid], this.clock.now().toISOString());
    if (!removed) return this.find(project, uuid, { includeRemoved: true });
    await this.afterRemoval([removed]);
    return removed;
  }

  async storeMany(project: Project, body: unknown): Promise<BatchResult> {
    const { valid, problems } = await this.checkBatch(project, body, { includeRemoved: false });
    const changed = await storeFiles((await this.shardOf(project)), project.id, valid.filter((f) => !f.datetimeStored).map((f) => f.uuid), this.clock.now().toISOString());
    const byUuid = new Map(changed.map((file) => [file.uuid, file]));
    for (const file of changed) this.delivery.evict(file.uuid);
    if (changed.length > 0) this.nudge();
    return { problems, result: valid.map((file) => byUuid.get(file.uuid) ?? file) };
  }

  async removeMany(project: Project, body: unknown): Promise<BatchResult> {
    const { valid, problems } = await this.checkBatch(project, body, { includeRemoved: true });
    const changed = await removeFiles((await this.shardOf(project)), project.id, valid.filter((f) => !f.datetimeRemoved).map((f) => f.uuid), this.clock.now().toISOString());
    await this.afterRemoval(changed);
    const byUuid = new Map(changed.map((file) => [file.uuid, file]));
    return { problems, result: valid.map((file) => byUuid.get(file.uuid) ?? file) };
  }

  async metadata(project: Project, uuid: string): Promise<FileMetadata> {
    return (await this.find(project, uuid, { includeRemoved: false })).metadata;
  }

  async metadataValue(project: Project, uuid: string, key: string): Promise<string> {
    const metadata = await this.metadata(project, uuid);
    const value = Object.prototype.hasOwnProperty.call(metadata, key) ? metadata[key] : undefined;
    if (value === undefined) throw createAppError('NOT_FOUND', 404, 'Not found.');
    return value;
  }

  /** Sets one key; `created` tells a new key (201) from a changed one (200). */
  async setMetadataValue(project: Project, uuid: string, key: string, value: unknown): Promise<{ value: string; created: boolean }> {
    if (typeof value !== 'string') throw createAppError('METADATA_VALUE_INVALID', 400, 'The request body must be a JSON string: the metadata value.');
    return this.editInfo(project, uuid, (file) => ({
      patch: { metadata: validateMetadata([...Object.entries({ ...file.metadata, [key]: value })]) },
      result: { value, created: !Object.prototype.hasOwnProperty.call(file.metadata, key) },
    }));
  }

  async deleteMetadataValue(project: Project, uuid: string, key: string): Promise<void> {
    await this.editInfo(project, uuid, (file) => {
      if (!Object.prototype.hasOwnProperty.call(file.metadata, key)) throw createAppError('NOT_FOUND', 404, 'Not found.');
      const next = { ...file.metadata };
      delete next[key];
      return { patch: { metadata: next }, result: undefined };
    });
  }

  /**
   * `POST /files/local_copy/`: a new file from a file of the project, or from its CDN URL with
   * operations, which are applied by the transformation engine and baked into the copy.
   */
  async localCopy(project: Project, source: unknown, store: unknown, metadata: unknown): Promise<StoredFile> {
    if (source === undefined || source === null || source === '') throw createAppError('SOURCE_REQUIRED', 400, '`source` parameter is required.');
    const parsed = typeof source === 'string' ? parseCopySource(source) : null;
    if (!parsed) throw createAppError('SOURCE_INVALID', 400, 'Bad `source` parameter. Use UUID or CDN URL.');
    const storeFlag = parseStoreFlag(store);
    const extra = parseMetadataObject(metadata);
    const original = await this.find(project, parsed.uuid, { includeRemoved: false });
    // A copy would be a way round the hold of a file not found clean.
    assertDeliverable(original);
    let bytes: Buffer;
    let mimeType = original.mimeType;
    const plan = copyPlanOf(parsed.operations, this.parseLimits);
    if (plan?.transforms) {
      // No Accept header: `format/auto` resolves to the format every client understands.
      const derivative = await this.transform.deliver(original.uuid, plan, undefined, 'background');
      bytes = derivative.data;
      mimeType = derivative.contentType;
    } else {
      bytes = await this.delivery.readAll(original);
    }
    const uuid = randomUUID();
    const blobKey = originalBlobKey(uuid, (await this.shards.forProject(project.id)).blobRoot);
    await this.blobs.put(blobKey, Readable.from([bytes]), { size: bytes.length, contentType: mimeType });
    const now = this.clock.now().toISOString();
    // A transformed copy has its own type and dimensions: read them from its bytes, as uploads are.
    const inspected = plan?.transforms ? await this.inspector.inspect(bytes.subarray(0, this.inspector.headBytes), bytes.length) : null;
    const copy: StoredFile = {
      ...original,
      uuid,
      blobKey,
      size: bytes.length,
      mimeType: inspected?.mimeType ?? mimeType,
      isImage: inspected?.isImage ?? original.isImage,
      contentInfo: inspected ? inspected.contentInfo : original.contentInfo,
      sha256: createHash('sha256').update(bytes).digest('hex'),
      metadata: { ...original.metadata, ...extra },
      // Add-ons ran on the original, not on the copy; the copy keeps its scan state (a held original is not copied).
      appdata: {},
      source: 'local_copy',
      sourceUrl: null,
      datetimeUploaded: now,
      datetimeStored: storeFlag ? now : null,
      datetimeRemoved: null,
      expiresAt: storeFlag ? null : original.expiresAt ?? null,
    };
    try {
      await insertFiles((await this.shardOf(project)), [copy]);
    } catch (error) {
      await this.blobs.delete(blobKey).catch(() => undefined);
      throw error;
    }
    this.nudge();
    return copy;
  }

  /** The job that deletes a removed file's bytes and derivatives (durable: retried until done). */
  async purge(job: RunningJob<FilePurgePayload>): Promise<void> {
    const { uuid, blobKey, projectId } = job.payload;
    await this.transform.purge(uuid);
    await this.blobs.delete(blobKey);
    // The project may have moved to another region since the file was deleted, its original with it.
    const current = projectId === undefined ? null : await this.removedRecord(projectId, uuid);
    if (current && current.blobKey !== blobKey) await this.blobs.delete(current.blobKey);
  }

  /** The record of a removed file; null when there is none (or its project is gone). */
  private async removedRecord(projectId: string, uuid: string): Promise<StoredFile | null> {
    try {
      const file = await (await this.shards.forProject(projectId)).files.findForProject(projectId, uuid, { includeRemoved: true });
      return file?.datetimeRemoved ? file : null;
    } catch (error) {
      if (isAppError(error) && error.code === 'PROJECT_NOT_FOUND') return null;
      throw error;
    }
  }

  /**
   * The removal is committed with its `file.deleted` event, from which the dispatcher queues the
   * durable purge; derivatives also go at once, best effort, so no node serves them from the store.
   */
  private async afterRemoval(removed: StoredFile[]): Promise<void> {
    for (const file of removed) {
      await this.caches.evictFile(file.uuid).catch(() => undefined);
      await this.transform.purge(file.uuid).catch(() => undefined);
    }
    if (removed.length > 0) this.nudge();
  }

  /** The purge job of a deleted file, queued by the event dispatcher. */
  enqueuePurge(file: Pick<StoredFile, 'uuid' | 'blobKey' | 'projectId'>): Promise<string> {
    return enqueueJob(this.jobs, FILE_PURGE_JOB, { uuid: file.uuid, blobKey: file.blobKey, projectId: file.projectId }, { dedupeKey: `purge:${file.uuid}` });
  }

  /** The file's tags, in storage order. */
  async getTags(project: Project, uuid: string): Promise<string[]> {
    return (await this.find(project, uuid, { includeRemoved: false })).tags;
  }

  /** Replaces the file's tags with `values` (normalised); the same set again writes nothing. */
  async replaceTags(project: Project, uuid: string, values: readonly string[]): Promise<TagChange> {
    const tags = normalizeTags(values, 'TAGS_INVALID');
    checkTagCount(tags, 'TAGS_INVALID');
    return this.changeTags(project, uuid, () => tags);
  }

  /** Deletes `remove`, then adds `add` (both normalised); absent tags to delete and present ones to add are skipped. */
  async updateTags(project: Project, uuid: string, change: { add: readonly string[]; remove: readonly string[] }): Promise<TagChange> {
    const add = normalizeTags(change.add, 'TAGS_INVALID');
    return this.changeTags(project, uuid, (current) => {
      const next = patchTags(current, add, change.remove);
      checkTagCount(next, 'TAGS_INVALID');
      return next;
    });
  }

  /** Writes the tags `next` derives from the current ones, with one `file.info_updated` event, unless they are the same set. */
  private async changeTags(project: Project, uuid: string, next: (current: readonly string[]) => string[]): Promise<TagChange> {
    return this.editInfo(project, uuid, (file) => {
      const { changed, ...result } = tagChange(file.tags, next(file.tags));
      return { patch: changed ? { tags: result.tags } : null, result };
    });
  }

  /**
   * Reads the file, lets `edit` derive the new metadata or tags from what it holds, and writes them
   * only if the file still holds what was read; a concurrent edit makes it read and derive again, so
   * two clients adding different keys or tags at once both keep theirs.
   */
  private async editInfo<R>(project: Project, uuid: string, edit: (file: StoredFile) => InfoEdit<R>): Promise<R> {
    for (let attempt = 0; attempt < INFO_EDIT_ATTEMPTS; attempt += 1) {
      const file = await this.find(project, uuid, { includeRemoved: false });
      const { patch, result } = edit(file);
      if (!patch) return result;
      const previous: FileInfoPatch = {};
      if (patch.metadata !== undefined) previous.metadata = file.metadata;
      if (patch.tags !== undefined) previous.tags = file.tags;
      const updated = await updateFileInfo((await this.shardOf(project)), project.id, file.uuid, patch, previous, this.clock.now().toISOString());
      if (updated) {
        if (patch.metadata !== undefined) this.delivery.evict(file.uuid);
        this.nudge();
        return result;
      }
      // Spread the losers out, so they do not all read the same winner's value and collide again.
      await setTimeout(Math.random() * Math.min(2 ** attempt, 50));
    }
    throw createAppError('CONCURRENT_UPDATE', 409, `The file ${uuid} kept changing under ${INFO_EDIT_ATTEMPTS} edits in a row; nothing was changed, try again.`);
  }

  private async find(project: Project, uuid: string, options: { includeRemoved: boolean }): Promise<StoredFile> {
    if (!isUuid(uuid)) throw createAppError('NOT_FOUND', 404, 'Not found.');
    const file = await (await this.shardOf(project)).files.findForProject(project.id, uuid, options);
    if (!file || (!file.datetimeRemoved && isExpired(file, this.clock.now()))) throw createAppError('NOT_FOUND', 404, 'Not found.');
    if (file.datetimeRemoved && !options.includeRemoved) throw createAppError('NOT_FOUND', 404, 'Not found.');
    return file;
  }

  private async checkBatch(project: Project, body: unknown, options: { includeRemoved: boolean }): Promise<{ valid: StoredFile[]; problems: Record<string, string> }> {
    if (!Array.isArray(body)) throw createAppError('UUIDS_EXPECTED', 400, 'Expected list of UUIDs');
    if (body.length === 0) throw createAppError('UUIDS_EMPTY', 400, 'List of UUIDs can not be empty');
    if (body.length > MAX_BATCH_UUIDS) throw createAppError('UUIDS_TOO_MANY', 400, `Maximum UUIDs per request is exceeded. The limit is ${MAX_BATCH_UUIDS}`);
    const problems: Record<string, string> = {};
    const wanted: string[] = [];
    for (const item of body) {
      const raw = typeof item === 'string' ? item : JSON.stringify(item);
      const uuid = typeof item === 'string' ? parseCopySource(item)?.uuid : undefined;
      if (!uuid || !isUuid(uuid)) problems[raw] = 'Invalid';
      else if (!wanted.includes(uuid)) wanted.push(uuid);
    }
    const found = await (await this.shardOf(project)).files.findManyForProject(project.id, wanted, options);
    const now = this.clock.now();
    const usable = new Map(found.filter((f) => f.datetimeRemoved !== null || !isExpired(f, now)).map((f) => [f.uuid, f]));
    const valid: StoredFile[] = [];
    for (const uuid of wanted) {
      const file = usable.get(uuid);
      if (file) valid.push(file);
      else problems[uuid] = 'Missing in the project';
    }
    return { valid, problems };
  }
}

function parseStoreFlag(value: unknown): boolean {
  if (value === undefined || value === null || value === false || value === 'false') return false;
  if (value === true || value === 'true') return true;
  throw createAppError('STORE_INVALID', 400, '`store` parameter should be `true` or `false`.');
}

function parseMetadataObject(value: unknown): FileMetadata {
  if (value === undefined || value === null) return {};
  if (typeof value !== 'object' || Array.isArray(value)) throw createAppError('METADATA_INVALID', 400, '`metadata` must be an object of string values.');
  const entries = Object.entries(value as Record<string, unknown>).map(([key, v]) => {
    if (typeof v !== 'string') throw createAppError('METADATA_INVALID', 400, `Metadata value for "${key}" must be a string.`);
    return [key, v] as [string, string];
  });
  return validateMetadata(entries);
}
