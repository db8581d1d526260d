import type { Readable } from 'node:stream';
import { assertDeliverable } from '../domain/addons.js';
import { isExpired, type StoredFile } from '../domain/file.js';
import { createAppError, isAppError } from '../errors.js';
import type { ByteRange, BlobStore } from '../ports/blob-store.js';
import type { GroupMember } from '../ports/repositories.js';
import type { ShardResolver } from '../ports/shards.js';
import { findOnAnyShard } from './shard-lookup.js';
import type { Clock } from '../lib/clock.js';
import { ByteLruCache } from '../lib/byte-lru-cache.js';
import { LruCache } from '../lib/lru-cache.js';
import { readWholeBlob, type SourceLoader } from './transform/source-reader.js';

interface DeliverySettings {
  /** Memory for the bytes of small, hot originals; 0 turns the cache off. */
  originalCacheBytes: number;
  /** Originals larger than this are always streamed from the store. */
  originalCacheMaxEntryBytes: number;
  /** Memory for the originals transformations read; 0 turns the cache off. */
  sourceCacheBytes: number;
  sourceCacheMaxEntryBytes: number;
  /** File records kept in memory so a repeated original costs no database query. */
  recordCacheEntries: number;
  /** How long a cached record is trusted; bounds how stale another node's delete can look. */
  recordCacheTtlMs: number;
}

/** Finds originals for delivery and opens their bytes. */
export class DeliveryService implements SourceLoader {
  private readonly records: LruCache<string, { file: StoredFile; cachedAt: number }>;
  /** Group members by `<group>/<index>`: a group never changes, so only its deletion can make one stale. */
  private readonly members: LruCache<string, { member: GroupMember | null; cachedAt: number }>;
  private readonly bytes: ByteLruCache;
  private readonly sources: ByteLruCache;

  constructor(
    private readonly shards: ShardResolver,
    private readonly blobs: BlobStore,
    private readonly clock: Clock,
    private readonly settings: DeliverySettings,
  ) {
    this.records = new LruCache(settings.recordCacheEntries);
    this.members = new LruCache(settings.recordCacheEntries);
    this.bytes = new ByteLruCache(settings.originalCacheBytes, settings.originalCacheMaxEntryBytes);
    this.sources = new ByteLruCache(settings.sourceCacheBytes, settings.sourceCacheMaxEntryBytes);
  }

  async findOriginal(uuid: string): Promise<StoredFile> {
    const now = this.clock.now();
    const cached = this.records.get(uuid);
    let file: StoredFile | null;
    if (cached && now.getTime() - cached.cachedAt < this.settings.recordCacheTtlMs) {
      file = cached.file;
    } else {
      // A CDN URL names no project: every shard is asked at once (a miss only; hits are cached).
      file = await findOnAnyShard(this.shards, (shard) => shard.files.findLive(uuid));
      if (file) this.records.set(uuid, { file, cachedAt: now.getTime() });
      else this.records.delete(uuid);
    }
    // An unstored file past its expiry is gone for clients even before the sweeper removes it.
    if (!file || isExpired(file, now)) {
      throw createAppError('FILE_NOT_FOUND', 404, `File ${uuid} not found.`);
    }
    // Every delivery path (originals, transformations, revalidations, group members) starts here.
    assertDeliverable(file);
    return file;
  }

  /**
   * The bytes of a small original, from memory when cached. Originals are immutable, so a cached
   * copy is valid until the file is deleted (evict). Larger files return null: stream them.
   */
  async readSmall(file: StoredFile): Promise<Buffer | null> {
    if (file.size > this.bytes.maxEntryBytes || this.settings.originalCacheBytes === 0) return null;
    const cached = this.bytes.get(file.uuid);
    if (cached) return cached;
    const buffer = await this.readAll(file);
    this.bytes.set(file.uuid, buffer);
    return buffer;
  }

  /**
   * An original as a transformation source. Pages ask for several sizes of one image at once
   * (srcset), so the bytes are kept for the next derivative instead of read from storage again.
   */
  async readSource(file: Pick<StoredFile, 'uuid' | 'blobKey' | 'size'>): Promise<Buffer> {
    const cached = this.sources.get(file.uuid);
    if (cached) return cached;
    const buffer = (file.size <= this.bytes.maxEntryBytes ? this.bytes.get(file.uuid) : undefined) ?? (await this.withCurrentKey(file, (current) => readWholeBlob(this.blobs, current)));
    this.sources.set(file.uuid, buffer);
    return buffer;
  }

  /** All of a file's bytes in memory, checked against its recorded size. */
  readAll(file: StoredFile): Promise<Buffer> {
    return this.withCurrentKey(file, (current) => readWholeBlob(this.blobs, current));
  }

  /**
   * Runs a read of a file's original; when the original is not where the record says, reads the
   * record again and retries once. A record cached before its project moved to another region
   * names the old region's key, which the move deletes.
   */
  private async withCurrentKey<F extends Pick<StoredFile, 'uuid' | 'blobKey'>, T>(file: F, read: (file: F) => Promise<T>): Promise<T> {
    try {
      return await read(file);
    } catch (error) {
      if (!isAppError(error) || error.code !== 'FILE_NOT_FOUND') throw error;
      this.records.delete(file.uuid);
      const current = await findOnAnyShard(this.shards, (shard) => shard.files.findLive(file.uuid));
      if (!current || current.blobKey === file.blobKey) throw error;
      this.records.set(file.uuid, { file: current, cachedAt: this.clock.now().getTime() });
      return read({ ...file, blobKey: current.blobKey });
    }
  }

  /** `/:group_id/nth/:i/`: the i-th file of a group (0-based), as Uploadcare's CDN serves it. */
  async findGroupMember(groupId: string, index: number): Promise<{ file: StoredFile; effects: string }> {
    const member = await this.findMember(groupId, index);
    if (!member) throw createAppError('FILE_NOT_FOUND', 404, `Group ${groupId} has no file at position ${index}.`);
    return { file: await this.findOriginal(member.fileUuid), effects: member.effects };
  }

  /** A group member, cached like file records so a hot `nth` URL costs no database query either. */
  private async findMember(groupId: string, index: number): Promise<GroupMember | null> {
    const key = `${groupId}/${index}`;
    const now = this.clock.now().getTime();
    const cached = this.members.get(key);
    if (cached && now - cached.cachedAt < this.settings.recordCacheTtlMs) return cached.member;
    const member = await findOnAnyShard(this.shards, (shard) => shard.groups.findMember(groupId, index));
    this.members.set(key, { member, cachedAt: now });
    return member;
  }

  open(file: StoredFile, range?: ByteRange): Promise<Readable> {
    return this.withCurrentKey(file, async (current) => {
      const stream = await this.blobs.get(current.blobKey, range);
      if (!stream) throw createAppError('FILE_NOT_FOUND', 404, `File ${current.uuid} not found.`);
      return stream;
    });
  }

  evict(uuid: string): void {
    this.records.delete(uuid);
    this.bytes.delete(uuid);
    this.sources.delete(uuid);
  }
}
