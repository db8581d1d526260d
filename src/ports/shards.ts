import type { DashboardSessionsRepository, MetadataRepositories, ProjectsRepository, ProjectStoragesRepository } from './repositories.js';

/**
 * A project's rows: its files and everything hanging off them. They live on one shard database, and
 * only there; every repository here is bound to that database (or to one transaction on it).
 */
/** The repositories of project rows: every repository of a database but the app-wide ones. */
type ShardRepositoryName =
  | 'files'
  | 'fileSearch'
  | 'fileCounters'
  | 'multipart'
  | 'fromUrlTasks'
  | 'groups'
  | 'webhooks'
  | 'outbox'
  | 'usage'
  | 'addonRequests'
  | 'videoConversions'
  | 'documentConversions'
  | 'imageAnalysis'
  | 'faceDetections';

export interface ShardRepositories extends Pick<MetadataRepositories, ShardRepositoryName> {
  /**
   * A unit of work on this shard: `work` gets repositories bound to one transaction, committed
   * together or not at all. Inside it, use only the repositories given to `work`.
   */
  transaction<T>(work: (repositories: ShardRepositories) => Promise<T>): Promise<T>;
}

/** What a service needs to write a change to one shard atomically. */
export type ShardUnitOfWork = Pick<ShardRepositories, 'transaction'>;

/** App-wide rows, in the main database: projects and their keys and settings, dashboard sessions. */
interface MainRepositories {
  readonly projects: ProjectsRepository;
  readonly sessions: DashboardSessionsRepository;
  readonly storages: ProjectStoragesRepository;
  readonly moves: ProjectMovesRepository;
}

/** The main database as the process holds it: app-wide rows only. */
export interface MainStore extends MainRepositories {
  readonly dialect: 'sqlite' | 'postgres';
  ping(): Promise<void>;
  close(): Promise<void>;
}

/** Only the shard resolver can mint the handles below: nothing else can name this key. */
declare const mintedByResolver: unique symbol;

/**
 * One project's shard: the only way a service reaches that project's rows. A ShardResolver makes
 * it for a project id, so a query cannot go to a database that does not hold the project.
 */
export interface ProjectShard extends ShardRepositories {
  readonly [mintedByResolver]: 'project';
  readonly projectId: string;
  readonly shardName: string;
  /** The shard's region (null: the default region), whose storage holds the project's originals. */
  readonly region: string | null;
  /** The root of the project's original keys in that storage (`regions/<region>/`; empty for the default region). */
  readonly blobRoot: string;
}

/** One whole shard, every project on it: what an explicit fan-out visits (sweeper, outbox, admin views). */
export interface ShardScan extends ShardRepositories {
  readonly [mintedByResolver]: 'scan';
  readonly shardName: string;
}

/** What one shard answered in a fan-out. */
export type ShardOutcome<T> = { shard: string; ok: true; value: T } | { shard: string; ok: false; error: Error };

export interface ShardResolver {
  /** Every shard's name, 'main' first. */
  names(): string[];
  /**
   * The shard of a project, found from the main database and cached. Its repositories answer 503
   * `SHARD_UNAVAILABLE` (naming the shard and the cause) when that database is down, and 503
   * `PROJECT_MOVING` with Retry-After for a write made while the project's move pauses its writes.
   */
  forProject(projectId: string): Promise<ProjectShard>;
  /** Runs `visit` on every shard at once; a shard that fails is reported in its outcome, the others go on. */
  fanOut<T>(visit: (shard: ShardScan) => Promise<T>): Promise<ShardOutcome<T>[]>;
  /** Drops what is cached about a project's shard (after a move switches it). */
  forget(projectId: string): void;
}

/** A shard as the map knows it. */
export interface ShardDescription {
  name: string;
  /** Where it is declared: the main database itself, TROVE_SHARDS, or `trove shards add`. */
  source: 'main' | 'environment' | 'database';
  /** The URL without its password. */
  url: string;
  ordinal: number;
  /** The shard's region; null: the default region. */
  region: string | null;
}

/** The shard map's administration: what placement, `trove shards` and `/ready` need beyond the resolver. */
export interface ShardAdmin {
  describe(): ShardDescription[];
  /** Reads the map again (shards another process added). */
  refresh(): Promise<void>;
  /** Checks the database answers, migrates it, and records it in the main database. */
  add(name: string, url: string, region: string | null): Promise<ShardDescription>;
  /** The row a shard needs for a project before holding its files (its foreign keys point at it). */
  anchor(shard: string, project: { id: string; name: string; createdAt: string }): Promise<void>;
  /** Resolves when the shard's database answers; throws SHARD_UNAVAILABLE otherwise. */
  ping(shard: string): Promise<void>;
}

/** One table of a project's rows on the two shards of a move. */
export interface TableComparison {
  table: string;
  sourceRows: number;
  targetRows: number;
  sourceChecksum: string;
  targetChecksum: string;
}

/** Copies a project's rows between shards, for a move. Every operation can run again after an interruption. */
export interface ProjectRowCopier {
  /** Makes `to` hold exactly `from`'s rows of the project (adds, updates, deletes), and rebuilds its search index there. */
  sync(projectId: string, from: string, to: string, options?: { signal?: AbortSignal; onRows?: (table: string, rows: number) => void }): Promise<void>;
  /** Rows and checksums of every table of the project on both shards. */
  compare(projectId: string, from: string, to: string): Promise<TableComparison[]>;
  /** Deletes every row of the project on a shard (not its fence). */
  remove(projectId: string, shard: string, options?: { signal?: AbortSignal }): Promise<void>;
  /** Refuses the project's writes on a shard (`departed`: all but deletions); returns once no write that began before is still running. */
  fence(projectId: string, shard: string, state: 'paused' | 'departed'): Promise<void>;
  unfence(projectId: string, shard: string): Promise<void>;
  /** Removes the anchor row a shard kept for the project (nothing on the main database, where it is the project itself). */
  dropAnchor(projectId: string, shard: string): Promise<void>;
  /**
   * One page of the project's files on a shard, removed ones too, by uuid after `after`: the keys
   * of their originals as the shard stores them (relative to its region's root) and their sizes.
   */
  originals(projectId: string, shard: string, after: string | null, limit: number): Promise<StoredOriginal[]>;
}

/** A file's original as a shard records it. */
export interface StoredOriginal {
  uuid: string;
  /** Relative to the root of the shard's region. */
  key: string;
  size: number;
}

export type MovePhase = 'copying' | 'paused' | 'switched' | 'done' | 'rolled_back';

/** A project's move between shards as the main database records it. */
export interface ProjectMove {
  projectId: string;
  from: string;
  to: string;
  phase: MovePhase;
  detail: string | null;
  startedAt: string;
  updatedAt: string;
}

export interface ProjectMovesRepository {
  find(projectId: string): Promise<ProjectMove | null>;
  /** Records a new move (replacing an ended one of the project). */
  start(move: ProjectMove): Promise<void>;
  setPhase(projectId: string, phase: MovePhase, detail: string | null, at: string): Promise<void>;
  /** Points the project at its new shard and records the move `switched`, in one transaction. */
  switchShard(projectId: string, to: string, at: string): Promise<void>;
}
