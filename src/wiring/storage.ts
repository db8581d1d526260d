import type { Config, DatabaseConfig, StorageConfig } from '../config/config.js';
import { FsBlobStore } from '../adapters/blob/fs.blob-store.js';
import { RegionalBlobStore } from '../adapters/blob/regional.blob-store.js';
import { S3BlobStore } from '../adapters/blob/s3.blob-store.js';
import { KyselyMetadataStore } from '../adapters/db/kysely-metadata-store.js';
import { KyselyShardSet } from '../adapters/db/shard-set.js';
import { createGuardedFetcher } from '../adapters/fetch/guarded-fetcher.js';
import { BytesContentInspector } from '../adapters/inspect/bytes.content-inspector.js';
import type { BlobStore } from '../ports/blob-store.js';
import type { ContentInspector } from '../ports/content-inspector.js';
import type { GuardedFetcher } from '../ports/fetcher.js';
import { regionBlobRoot } from '../domain/blob-layout.js';
import type { RegionNames } from '../services/shard-placement.service.js';

/** Where records and bytes live, and the two ways bytes come in from outside (URLs) or get read (inspection). */
export interface Storage {
  /** The main database: projects, keys, settings, sessions and the shard map; without Redis, the job queue too. */
  metadata: KyselyMetadataStore;
  /** The shards holding projects' files ('main' is the main database itself): the only way to a project's rows. */
  shards: KyselyShardSet;
  /** Where configuration is read: the region's copy (TROVE_REGION_CONFIG_URL) or, without one, the main database. */
  config: KyselyMetadataStore;
  /** The region's copy of the configuration, when it has one (its syncer writes it). */
  configCopy: KyselyMetadataStore | null;
  blobs: BlobStore;
  fetcher: GuardedFetcher;
  inspector: ContentInspector;
  close(): Promise<void>;
}

/**
 * Opens the metadata store and applies pending migrations (the server and the CLI's commands alike);
 * a failed migration closes the store again.
 */
export async function openMetadataStore(database: DatabaseConfig): Promise<{ store: KyselyMetadataStore; applied: string[] }> {
  const store = new KyselyMetadataStore(database);
  try {
    return { store, applied: await store.migrate() };
  } catch (error) {
    await store.close().catch(() => undefined);
    throw error;
  }
}

/** The shard map over an open main database (the server and the CLI alike); a closed shard set leaves the main store open. */
export async function openShards(config: Pick<Config, 'shards'>, metadata: KyselyMetadataStore, configCopy: KyselyMetadataStore | null = null): Promise<KyselyShardSet> {
  return KyselyShardSet.open(metadata, {
    configured: config.shards.configured,
    poolSize: config.shards.poolSize,
    cacheTtlMs: config.shards.cacheTtlMs,
    ...(configCopy ? { config: configCopy } : {}),
  });
}

/** The regions the configuration declares, the default first. */
export function regionNames(config: Pick<Config, 'region'>): RegionNames {
  return { defaultName: config.region.defaultName, all: [config.region.defaultName, ...config.region.others.keys()] };
}

/** The root of the keys of this node's region (empty in the default region). */
export function localBlobRoot(config: Pick<Config, 'region'>): string {
  return regionBlobRoot(config.region.name === config.region.defaultName ? null : config.region.name);
}

/**
 * The blob store alone (what a transform-only node opens): STORAGE_URL, or with TROVE_REGIONS
 * every region's storage behind one store that sends each key to its region.
 */
export function openBlobStore(config: Config): BlobStore {
  if (config.region.others.size === 0) return openStorage(config.storage);
  const stores = new Map<string, BlobStore>([[config.region.defaultName, openStorage(config.storage)]]);
  for (const [name, storage] of config.region.others) stores.set(name, openStorage(storage));
  return new RegionalBlobStore(stores, config.region.defaultName, config.region.name);
}

function openStorage(storage: StorageConfig): BlobStore {
  if (storage.kind === 'fs') return new FsBlobStore({ root: storage.root });
  return new S3BlobStore({
    bucket: storage.bucket,
    prefix: storage.prefix,
    endpoint: storage.endpoint,
    region: storage.region,
    forcePathStyle: storage.forcePathStyle,
    credentials: storage.credentials,
    requestChecksum: storage.requestChecksum,
  });
}

export async function createStorage(config: Config): Promise<Storage> {
  const blobs = openBlobStore(config);
  const { store: metadata } = await openMetadataStore(config.database);
  const configCopy = config.region.configCopy ? (await openMetadataStore(config.region.configCopy)).store : null;
  const shards = await openShards(config, metadata, configCopy);
  const fetcher = createGuardedFetcher({
    allowPrivate: config.fetch.allowPrivate,
    defaults: { maxBytes: config.fetch.maxBytes, timeoutMs: config.fetch.timeoutMs, maxRedirects: config.fetch.maxRedirects },
    userAgent: 'Trove/0.1 (+from_url)',
  });
  // Uploads and transformations bound libvips' header reads by the same frame and page count.
  const inspector = new BytesContentInspector({ maxSharpPages: config.transform.maxSourcePages });
  return {
    metadata,
    shards,
    config: configCopy ?? metadata,
    configCopy,
    blobs,
    fetcher,
    inspector,
    async close() {
      await blobs.close();
      await shards.close();
      await configCopy?.close();
      await metadata.close();
    },
  };
}
