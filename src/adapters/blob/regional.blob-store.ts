import type { Readable } from 'node:stream';
import { isOriginalsKey, splitRegionKey } from '../../domain/blob-layout.js';
import { createAppError } from '../../errors.js';
import type { BlobInfo, BlobStore, ByteRange, CompletedPart, MultipartBlobUpload, PutBlobOptions, UploadPartInput } from '../../ports/blob-store.js';
import { FsBlobStore } from './fs.blob-store.js';

/** Where one key lives: a region's store and the key inside it. */
interface Route {
  store: BlobStore;
  key: string;
}

/**
 * Every region's storage behind one BlobStore. Originals live in their project's home region:
 * `regions/<r>/…` in region r's store (without that root), unrooted `originals/…` in the default
 * region's. Everything else (derivatives, HLS renditions) is what this node computed, and stays in
 * the storage of the node's own region; deleting such a prefix deletes it in every region, so a
 * purged file leaves no derivative behind anywhere.
 */
export class RegionalBlobStore implements BlobStore {
  // Every method is async: a key of an undeclared region rejects, as every store's errors do, so
  // callers' `.catch` (cleanup that must not throw) sees it.
  readonly kind: 'fs' | 's3';
  private readonly local: BlobStore;
  private readonly distinct: BlobStore[];

  constructor(
    private readonly stores: ReadonlyMap<string, BlobStore>,
    private readonly defaultRegion: string,
    /** The region of this node: where what it computes is kept. */
    readonly localRegion: string,
  ) {
    const local = stores.get(localRegion);
    if (!local || !stores.has(defaultRegion)) throw new Error(`the regions' stores must include the default (${defaultRegion}) and this node's (${localRegion})`);
    this.local = local;
    this.kind = local.kind;
    this.distinct = [local, ...[...new Set(stores.values())].filter((store) => store !== local)];
  }

  async put(key: string, body: Readable, options?: PutBlobOptions): Promise<BlobInfo> {
    const route = this.route(key);
    return route.store.put(route.key, body, options);
  }

  async get(key: string, range?: ByteRange): Promise<Readable | null> {
    const route = this.route(key);
    return route.store.get(route.key, range);
  }

  async head(key: string): Promise<BlobInfo | null> {
    const route = this.route(key);
    return route.store.head(route.key);
  }

  async delete(key: string): Promise<void> {
    const route = this.route(key);
    return route.store.delete(route.key);
  }

  async deletePrefix(prefix: string): Promise<number> {
    const { region, key } = splitRegionKey(prefix);
    if (region !== null || isOriginalsKey(prefix)) {
      const route = this.route(prefix);
      return route.store.deletePrefix(route.key);
    }
    const counts = await Promise.all(this.distinct.map((store) => store.deletePrefix(key)));
    return counts.reduce((sum, count) => sum + count, 0);
  }

  async createMultipart(key: string, options: { size: number; contentType?: string }): Promise<MultipartBlobUpload> {
    const route = this.route(key);
    return route.store.createMultipart(route.key, options);
  }

  async uploadPart(key: string, uploadId: string, part: UploadPartInput, body: Readable): Promise<CompletedPart> {
    const route = this.route(key);
    return route.store.uploadPart(route.key, uploadId, part, body);
  }

  async completeMultipart(key: string, uploadId: string, parts: CompletedPart[]): Promise<BlobInfo> {
    const route = this.route(key);
    return route.store.completeMultipart(route.key, uploadId, parts);
  }

  async abortMultipart(key: string, uploadId: string): Promise<void> {
    const route = this.route(key);
    return route.store.abortMultipart(route.key, uploadId);
  }

  async pruneStale(options: { putOlderThanMs: number; multipartOlderThanMs: number }): Promise<number> {
    const counts = await Promise.all(this.distinct.map((store) => store.pruneStale(options)));
    return counts.reduce((sum, count) => sum + count, 0);
  }

  /** This node's own region: what it cannot work without. Other regions' stores are checked by `pingRegion`. */
  ping(): Promise<void> {
    return this.local.ping();
  }

  /** Throws when a region's store cannot be reached. */
  async pingRegion(region: string): Promise<void> {
    return this.storeOf(region).ping();
  }

  /** The regions, the default first. */
  regions(): string[] {
    return [this.defaultRegion, ...[...this.stores.keys()].filter((name) => name !== this.defaultRegion)];
  }

  /** The path of a key's file when its region keeps files on this machine's disk; null otherwise. */
  localPath(key: string): string | null {
    const route = this.route(key);
    return route.store instanceof FsBlobStore ? route.store.localPath(route.key) : null;
  }

  async close(): Promise<void> {
    for (const store of this.distinct) await store.close();
  }

  private route(key: string): Route {
    const { region, key: inner } = splitRegionKey(key);
    if (region !== null) return { store: this.storeOf(region), key: inner };
    return { store: isOriginalsKey(key) ? this.storeOf(this.defaultRegion) : this.local, key };
  }

  private storeOf(region: string): BlobStore {
    const store = this.stores.get(region);
    if (!store) {
      throw createAppError('REGION_NOT_CONFIGURED', 503, `Region "${region}" is not declared on this node: list it in TROVE_REGIONS (name=storage_url) on every node.`);
    }
    return store;
  }
}
