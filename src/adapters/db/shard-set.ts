import { sql } from 'kysely';
import type { DatabaseConfig } from '../../config/config.js';
import { parseDatabaseUrl, SHARD_NAME } from '../../config/parse-values.js';
import { regionBlobRoot } from '../../domain/blob-layout.js';
import { createAppError } from '../../errors.js';
import type { MetadataRepositories } from '../../ports/repositories.js';
import type { ProjectShard, ShardAdmin, ShardDescription, ShardOutcome, ShardRepositories, ShardResolver, ShardScan } from '../../ports/shards.js';
import { KyselyMetadataStore } from './kysely-metadata-store.js';
import { shardUnavailable, translateShardError } from './shard-errors.js';

/** The main database's own shard name. */
const MAIN_SHARD = 'main';

/** Webhook ids a shard hands out start at its ordinal times this, so a moved project's ids never meet another's. */
const WEBHOOK_IDS_PER_SHARD = 1e12;

/** A failed migration of a shard is tried again after this long, on the next use. */
const RETRY_OPEN_AFTER_MS = 5_000;

interface ShardSetOptions {
  /** Shards from the environment (TROVE_SHARDS). */
  configured: ReadonlyArray<{ name: string; database: DatabaseConfig; region: string | null }>;
  /** Connections per PostgreSQL shard. */
  poolSize: number;
  cacheTtlMs: number;
  now?: () => number;
  /** Where projects' shards and the shard map are read: a region's copy of the configuration; default the main database. */
  config?: KyselyMetadataStore;
}

interface OpenShard {
  description: ShardDescription;
  store: KyselyMetadataStore;
  /** Resolves once the shard's migrations are applied; null after a failure, until it is tried again. */
  ready: Promise<void> | null;
  failedAt: number;
  failure: string;
  /** Migrations this process applied to the shard when it opened it. */
  applied: string[];
  guarded: ShardRepositories;
}

interface Placement {
  handle: ProjectShard;
  until: number;
}

/** The part of a URL safe to print: no password. */
function redactUrl(database: DatabaseConfig): string {
  if (database.kind === 'sqlite') return `sqlite://${database.path}`;
  try {
    const url = new URL(database.url);
    if (url.password) url.password = '***';
    return url.toString();
  } catch {
    return 'postgres://(unparsable)';
  }
}

/** Wraps each method of a repository so that its database errors reach callers as Trove's shard errors. */
function guardRepository<R extends object>(repository: R, translate: (error: unknown) => unknown): R {
  return new Proxy(repository, {
    get(target, key, receiver) {
      const value: unknown = Reflect.get(target, key, receiver);
      if (typeof value !== 'function') return value;
      return (...args: unknown[]): unknown => {
        try {
          const result: unknown = value.apply(target, args);
          return result instanceof Promise ? result.catch((error: unknown) => Promise.reject(translate(error))) : result;
        } catch (error) {
          throw translate(error);
        }
      };
    },
  });
}

/** The shard's repositories, every error translated; a transaction's repositories are guarded the same way. */
function guardShard(repositories: MetadataRepositories, translate: (error: unknown) => unknown): ShardRepositories {
  return {
    files: guardRepository(repositories.files, translate),
    fileSearch: guardRepository(repositories.fileSearch, translate),
    fileCounters: guardRepository(repositories.fileCounters, translate),
    multipart: guardRepository(repositories.multipart, translate),
    fromUrlTasks: guardRepository(repositories.fromUrlTasks, translate),
    groups: guardRepository(repositories.groups, translate),
    webhooks: guardRepository(repositories.webhooks, translate),
    outbox: guardRepository(repositories.outbox, translate),
    usage: guardRepository(repositories.usage, translate),
    addonRequests: guardRepository(repositories.addonRequests, translate),
    videoConversions: guardRepository(repositories.videoConversions, translate),
    documentConversions: guardRepository(repositories.documentConversions, translate),
    imageAnalysis: guardRepository(repositories.imageAnalysis, translate),
    faceDetections: guardRepository(repositories.faceDetections, translate),
    transaction: <T>(work: (tx: ShardRepositories) => Promise<T>): Promise<T> =>
      repositories.transaction((tx) => work(guardShard(tx, translate))).catch((error: unknown) => Promise.reject(translate(error))),
  };
}

/**
 * The main database and every shard: the shard map, the connections to each shard (migrated when
 * opened), and the one way to a project's rows (`forProject`) or to every shard's (`fanOut`).
 */
export class KyselyShardSet implements ShardResolver, ShardAdmin {
  private readonly shards = new Map<string, OpenShard>();
  private readonly placements = new Map<string, Placement>();
  private readonly now: () => number;
  private refreshing: Promise<void> | null = null;

  private constructor(
    readonly main: KyselyMetadataStore,
    private readonly options: ShardSetOptions,
  ) {
    this.now = options.now ?? Date.now;
    this.config = options.config ?? main;
  }

  /** Where projects' shards and the shard map are read (the main database, or the region's copy of it). */
  private readonly config: KyselyMetadataStore;

  /**
   * Opens every shard of the map: the main database as `main`, TROVE_SHARDS, and those added with
   * `trove shards add`. A shard that cannot be migrated now is tried again on first use; it does
   * not stop the others.
   */
  static async open(main: KyselyMetadataStore, options: ShardSetOptions): Promise<KyselyShardSet> {
    const set = new KyselyShardSet(main, options);
    set.shards.set(MAIN_SHARD, {
      description: { name: MAIN_SHARD, source: 'main', url: '(DATABASE_URL)', ordinal: 0, region: null },
      store: main,
      ready: Promise.resolve(),
      failedAt: 0,
      failure: '',
      applied: [],
      guarded: guardShard(main, (error) => translateShardError(MAIN_SHARD, error)),
    });
    for (const shard of options.configured) {
      // Opened from the environment at once: a region's copy of the map may not have the row yet.
      const ordinal = await set.register(shard.name, 'env:', 'environment', shard.region);
      set.openShard({ name: shard.name, source: 'environment', url: redactUrl(shard.database), ordinal, region: shard.region }, shard.database);
    }
    await set.refresh();
    await Promise.all([...set.shards.values()].map((shard) => set.whenReady(shard).catch(() => undefined)));
    return set;
  }

  names(): string[] {
    return [...this.shards.keys()];
  }

  /** What this process migrated on each shard it opened (not the main database's, which the caller migrates). */
  appliedMigrations(): Map<string, string[]> {
    return new Map([...this.shards].filter(([name]) => name !== MAIN_SHARD).map(([name, shard]) => [name, shard.applied]));
  }

  describe(): ShardDescription[] {
    return [...this.shards.values()].map((shard) => shard.description);
  }

  /** Reads the shard map again and opens shards added since (by another process's `trove shards add`). */
  refresh(): Promise<void> {
    this.refreshing ??= (async () => {
      try {
        const rows = await this.config.db.selectFrom('shards').selectAll().orderBy('ordinal').execute();
        for (const row of rows) {
          if (this.shards.has(row.name)) continue;
          const configured = this.options.configured.find((shard) => shard.name === row.name);
          if (row.url === 'env:' && !configured) continue; // Declared by another node's environment.
          const database = configured?.database ?? parseDatabaseUrl(row.url, this.options.poolSize);
          const region = configured ? configured.region : row.region;
          this.openShard({ name: row.name, source: configured ? 'environment' : 'database', url: redactUrl(database), ordinal: Number(row.ordinal), region }, database);
        }
      } finally {
        this.refreshing = null;
      }
    })();
    return this.refreshing;
  }

  async forProject(projectId: string): Promise<ProjectShard> {
    const cached = this.placements.get(projectId);
    if (cached && cached.until > this.now()) return cached.handle;
    const row = await this.config.db.selectFrom('projects').select('shard').where('id', '=', projectId).executeTakeFirst();
    if (!row) throw createAppError('PROJECT_NOT_FOUND', 404, `No project has id ${projectId}.`);
    const shard = await this.openedShard(row.shard);
    const region = shard.description.region;
    const handle = { ...shard.guarded, projectId, shardName: row.shard, region, blobRoot: regionBlobRoot(region) } as unknown as ProjectShard;
    this.placements.set(projectId, { handle, until: this.now() + this.options.cacheTtlMs });
    return handle;
  }

  forget(projectId: string): void {
    this.placements.delete(projectId);
  }

  async fanOut<T>(visit: (shard: ShardScan) => Promise<T>): Promise<ShardOutcome<T>[]> {
    return Promise.all(
      this.names().map(async (name): Promise<ShardOutcome<T>> => {
        try {
          const shard = await this.openedShard(name);
          const scan = { ...shard.guarded, shardName: name } as unknown as ShardScan;
          return { shard: name, ok: true, value: await visit(scan) };
        } catch (error) {
          const translated = translateShardError(name, error);
          return { shard: name, ok: false, error: translated instanceof Error ? translated : new Error(String(translated)) };
        }
      }),
    );
  }

  /** Whether the shard's database answers (and is migrated); throws SHARD_UNAVAILABLE otherwise. */
  async ping(name: string): Promise<void> {
    const shard = await this.openedShard(name);
    try {
      await shard.store.ping();
    } catch (error) {
      throw translateShardError(name, error);
    }
  }

  /**
   * Adds a shard to the map in the main database, after checking that it answers and migrating it;
   * every process opens it on its next look at the map.
   */
  async add(name: string, url: string, region: string | null): Promise<ShardDescription> {
    if (!SHARD_NAME.test(name) || name === MAIN_SHARD) {
      throw createAppError('SHARD_INVALID', 400, `Shard name "${name}" must be 1–32 lowercase letters, digits, - or _, starting with a letter, and not "main".`);
    }
    let database: DatabaseConfig;
    try {
      database = parseDatabaseUrl(url, this.options.poolSize);
    } catch (error) {
      throw createAppError('SHARD_INVALID', 400, `Shard URL: ${(error as Error).message}`);
    }
    if (database.kind === 'postgres' && new URL(database.url).password !== '') {
      throw createAppError(
        'SHARD_INVALID',
        400,
        'The URL carries a password, which the main database would keep in clear: give it to every node through PGPASSWORD or ~/.pgpass instead, or declare the shard in TROVE_SHARDS.',
      );
    }
    if (database.kind !== this.main.dialect) {
      throw createAppError('SHARD_INVALID', 400, `The shard is ${database.kind} but the main database is ${this.main.dialect}; every shard uses the main database's engine.`);
    }
    await this.refresh();
    if (this.shards.has(name)) throw createAppError('SHARD_INVALID', 409, `A shard named "${name}" exists already.`);
    const probe = new KyselyMetadataStore(database);
    try {
      await probe.migrate();
    } catch (error) {
      throw createAppError('SHARD_INVALID', 400, `Shard "${name}" cannot be used: ${(error as Error).message}`);
    } finally {
      await probe.close().catch(() => undefined);
    }
    await this.register(name, url, 'database', region);
    await this.refresh();
    const added = this.shards.get(name);
    if (!added) throw createAppError('SHARD_INVALID', 409, `Shard "${name}" was not added.`);
    await this.whenReady(added);
    return added.description;
  }

  /**
   * Makes sure a shard holds the anchor row its foreign keys need for a project (a copy of the main
   * database's row; its settings are never read there). Nothing to do on the main database.
   */
  async anchor(shardName: string, project: { id: string; name: string; createdAt: string }): Promise<void> {
    if (shardName === MAIN_SHARD) return;
    const shard = await this.openedShard(shardName);
    try {
      await shard.store.db
        .insertInto('projects')
        .values({
          id: project.id,
          name: project.name,
          // Never read here, and unique: a leftover anchor (a creation that lost a race) must not hold the real key.
          public_key: `anchor:${project.id}`,
          auto_store: 0,
          signed_uploads: 0,
          max_file_size: null,
          allowed_mime_types: null,
          scan_on_upload: 0,
          purge_infected: 0,
          created_at: project.createdAt,
          shard: shardName,
        })
        .onConflict((oc) => oc.column('id').doNothing())
        .execute();
    } catch (error) {
      throw translateShardError(shardName, error);
    }
  }

  /** The open shard, migrated; throws SHARD_UNAVAILABLE when it is unknown here or its database does not answer. */
  async openedShard(name: string): Promise<OpenShard> {
    let shard = this.shards.get(name);
    if (!shard) {
      await this.refresh();
      shard = this.shards.get(name);
    }
    if (!shard) {
      throw shardUnavailable(name, 'it is not configured on this node (declare it in TROVE_SHARDS, or add it with `trove shards add`)');
    }
    await this.whenReady(shard);
    return shard;
  }

  async close(): Promise<void> {
    for (const [name, shard] of this.shards) if (name !== MAIN_SHARD) await shard.store.close().catch(() => undefined);
    this.shards.clear();
    this.placements.clear();
  }

  private openShard(description: ShardDescription, database: DatabaseConfig): OpenShard {
    const store = new KyselyMetadataStore(database, { blobRoot: regionBlobRoot(description.region) });
    const shard: OpenShard = {
      description,
      store,
      ready: null,
      failedAt: 0,
      failure: '',
      applied: [],
      guarded: guardShard(store, (error) => translateShardError(description.name, error)),
    };
    this.shards.set(description.name, shard);
    return shard;
  }

  private whenReady(shard: OpenShard): Promise<void> {
    if (shard.ready) return shard.ready;
    if (shard.failedAt > 0 && this.now() - shard.failedAt < RETRY_OPEN_AFTER_MS) {
      return Promise.reject(shardUnavailable(shard.description.name, `it did not answer ${Math.round((this.now() - shard.failedAt) / 1000)} s ago (${shard.failure})`));
    }
    const name = shard.description.name;
    const ready = (async () => {
      shard.applied = await shard.store.migrate();
      await this.seedWebhookIds(shard);
    })();
    shard.ready = ready.catch((error: unknown) => {
      shard.ready = null;
      shard.failedAt = this.now();
      shard.failure = error instanceof Error ? error.message : String(error);
      throw shardUnavailable(name, shard.failure, error);
    });
    return shard.ready;
  }

  /** Starts the shard's webhook ids past every other shard's range (the main database keeps its own, from 1). */
  private async seedWebhookIds(shard: OpenShard): Promise<void> {
    const floor = shard.description.ordinal * WEBHOOK_IDS_PER_SHARD;
    if (floor === 0) return;
    await shard.store.db
      .insertInto('id_sequences')
      .values({ name: 'webhooks', value: floor })
      .onConflict((oc) => oc.column('name').doUpdateSet({ value: sql<number>`case when id_sequences.value < ${floor} then ${floor} else id_sequences.value end` }))
      .execute();
  }

  /** Records a shard in the main database's map with the next ordinal (several nodes may race: the loser finds it made). */
  private async register(name: string, url: string, source: 'environment' | 'database', region: string | null): Promise<number> {
    for (let attempt = 0; attempt < 5; attempt++) {
      const existing = await this.main.db.selectFrom('shards').selectAll().where('name', '=', name).executeTakeFirst();
      if (existing) {
        if (source === 'database') throw createAppError('SHARD_INVALID', 409, `A shard named "${name}" exists already.`);
        // The environment decides where its shards are: the map follows it.
        if (existing.region !== region) await this.main.db.updateTable('shards').set({ region }).where('name', '=', name).execute();
        return Number(existing.ordinal);
      }
      const top = await this.main.db.selectFrom('shards').select((eb) => eb.fn.max('ordinal').as('top')).executeTakeFirst();
      const ordinal = Number(top?.top ?? 0) + 1;
      try {
        await this.main.db.insertInto('shards').values({ name, url, ordinal, created_at: new Date(this.now()).toISOString(), region }).execute();
        return ordinal;
      } catch {
        // Another node took this ordinal or name at the same moment: look again.
      }
    }
    throw createAppError('SHARD_INVALID', 409, `Shard "${name}" could not be recorded in the main database.`);
  }
}
