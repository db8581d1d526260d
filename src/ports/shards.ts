import type {
  AddonRequestsRepository,
  DashboardSessionsRepository,
  DocumentConversionsRepository,
  EventOutboxRepository,
  FaceDetectionsRepository,
  FileCountersRepository,
  FileSearchRepository,
  FilesRepository,
  FromUrlTasksRepository,
  GroupsRepository,
  ImageAnalysisRepository,
  MultipartRepository,
  ProjectsRepository,
  ProjectStoragesRepository,
  UsageRepository,
  VideoConversionsRepository,
  WebhooksRepository,
} from './repositories.js';

/**
 * A project's rows: its files and everything hanging off them. They live on one shard database, and
 * only there; every repository here is bound to that database (or to one transaction on it).
 */
export interface ShardRepositories {
  readonly files: FilesRepository;
  readonly fileSearch: FileSearchRepository;
  readonly fileCounters: FileCountersRepository;
  readonly multipart: MultipartRepository;
  readonly fromUrlTasks: FromUrlTasksRepository;
  readonly groups: GroupsRepository;
  readonly webhooks: WebhooksRepository;
  readonly outbox: EventOutboxRepository;
  readonly usage: UsageRepository;
  readonly addonRequests: AddonRequestsRepository;
  readonly videoConversions: VideoConversionsRepository;
  readonly documentConversions: DocumentConversionsRepository;
  readonly imageAnalysis: ImageAnalysisRepository;
  readonly faceDetections: FaceDetectionsRepository;
  /**
   * A unit of work on this shard: `work` gets repositories bound to one transaction, committed
   * together or not at all. Inside it, use only the repositories given to `work`.
   */
  transaction<T>(work: (repositories: ShardRepositories) => Promise<T>): Promise<T>;
}

/** What a service needs to write a change to one shard atomically. */
export type ShardUnitOfWork = Pick<ShardRepositories, 'transaction'>;

/** App-wide rows, in the main database: projects and their keys and settings, dashboard sessions. */
export interface MainRepositories {
  readonly projects: ProjectsRepository;
  readonly sessions: DashboardSessionsRepository;
  readonly storages: ProjectStoragesRepository;
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
}

/** The shard map's administration: what placement, `trove shards` and `/ready` need beyond the resolver. */
export interface ShardAdmin {
  describe(): ShardDescription[];
  /** Reads the map again (shards another process added). */
  refresh(): Promise<void>;
  /** Checks the database answers, migrates it, and records it in the main database. */
  add(name: string, url: string): Promise<ShardDescription>;
  /** The row a shard needs for a project before holding its files (its foreign keys point at it). */
  anchor(shard: string, project: { id: string; name: string; publicKey: string; createdAt: string }): Promise<void>;
  /** Resolves when the shard's database answers; throws SHARD_UNAVAILABLE otherwise. */
  ping(shard: string): Promise<void>;
}
