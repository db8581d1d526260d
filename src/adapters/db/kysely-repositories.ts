import type { Kysely } from 'kysely';
import type { MetadataRepositories } from '../../ports/repositories.js';
import { KyselyAddonRequestsRepository } from './repositories/addon-requests.repository.js';
import { KyselyVideoConversionsRepository } from './repositories/video-conversions.repository.js';
import { KyselyDocumentConversionsRepository } from './repositories/document-conversions.repository.js';
import { KyselyDashboardSessionsRepository } from './repositories/dashboard-sessions.repository.js';
import { KyselyEventOutboxRepository } from './repositories/event-outbox.repository.js';
import { KyselyFileCountersRepository } from './repositories/file-counters.repository.js';
import { KyselyFilesRepository } from './repositories/files.repository.js';
import { KyselyFromUrlTasksRepository } from './repositories/from-url-tasks.repository.js';
import { KyselyGroupsRepository } from './repositories/groups.repository.js';
import { KyselyFaceDetectionsRepository } from './repositories/face-detections.repository.js';
import { KyselyImageAnalysisRepository } from './repositories/image-analysis.repository.js';
import { KyselyMultipartRepository } from './repositories/multipart.repository.js';
import { KyselyProjectStoragesRepository } from './repositories/project-storages.repository.js';
import { KyselyProjectMovesRepository } from './repositories/project-moves.repository.js';
import { KyselyProjectsRepository } from './repositories/projects.repository.js';
import { KyselyUsageRepository } from './repositories/usage.repository.js';
import { KyselyWebhooksRepository } from './repositories/webhooks.repository.js';
import type { Database } from './schema.js';
import { KyselyFileSearchRepository, SearchCapabilities } from './search/file-search.repository.js';

/** Every repository over one Kysely handle: the database itself, or one open transaction. */
export class KyselyRepositories implements MetadataRepositories {
  readonly projects: KyselyProjectsRepository;
  readonly files: KyselyFilesRepository;
  readonly fileSearch: KyselyFileSearchRepository;
  readonly fileCounters: KyselyFileCountersRepository;
  readonly multipart: KyselyMultipartRepository;
  readonly fromUrlTasks: KyselyFromUrlTasksRepository;
  readonly groups: KyselyGroupsRepository;
  readonly webhooks: KyselyWebhooksRepository;
  readonly outbox: KyselyEventOutboxRepository;
  readonly sessions: KyselyDashboardSessionsRepository;
  readonly usage: KyselyUsageRepository;
  readonly addonRequests: KyselyAddonRequestsRepository;
  readonly videoConversions: KyselyVideoConversionsRepository;
  readonly documentConversions: KyselyDocumentConversionsRepository;
  readonly storages: KyselyProjectStoragesRepository;
  /** Main database only: moves of projects between shards. */
  readonly moves: KyselyProjectMovesRepository;
  readonly imageAnalysis: KyselyImageAnalysisRepository;
  readonly faceDetections: KyselyFaceDetectionsRepository;

  /**
   * `db` may be a `Transaction<Database>`: then every repository here writes inside it. What search
   * learns about the database is kept by the store and shared with its transactions.
   */
  constructor(
    readonly db: Kysely<Database>,
    protected readonly searchCapabilities: SearchCapabilities = new SearchCapabilities(db),
    /** The root of blob keys in the storage of the region this database is a shard of (empty: the default region). */
    protected readonly blobRoot = '',
  ) {
    this.projects = new KyselyProjectsRepository(db);
    this.files = new KyselyFilesRepository(db, blobRoot);
    this.fileSearch = new KyselyFileSearchRepository(db, searchCapabilities, blobRoot);
    this.fileCounters = new KyselyFileCountersRepository(db);
    this.multipart = new KyselyMultipartRepository(db, blobRoot);
    this.fromUrlTasks = new KyselyFromUrlTasksRepository(db);
    this.groups = new KyselyGroupsRepository(db);
    this.webhooks = new KyselyWebhooksRepository(db);
    this.outbox = new KyselyEventOutboxRepository(db);
    this.sessions = new KyselyDashboardSessionsRepository(db);
    this.usage = new KyselyUsageRepository(db);
    this.addonRequests = new KyselyAddonRequestsRepository(db);
    this.videoConversions = new KyselyVideoConversionsRepository(db);
    this.documentConversions = new KyselyDocumentConversionsRepository(db);
    this.storages = new KyselyProjectStoragesRepository(db);
    this.moves = new KyselyProjectMovesRepository(db);
    this.imageAnalysis = new KyselyImageAnalysisRepository(db);
    this.faceDetections = new KyselyFaceDetectionsRepository(db);
  }

  transaction<T>(work: (repositories: MetadataRepositories) => Promise<T>): Promise<T> {
    // Inside a unit of work already: join it (Kysely cannot nest transactions).
    if (this.db.isTransaction) return work(this);
    return this.db.transaction().execute((trx) => work(new KyselyRepositories(trx, this.searchCapabilities, this.blobRoot)));
  }
}
