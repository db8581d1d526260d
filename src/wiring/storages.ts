import type { Config } from '../config/config.js';
import { S3RemoteStorageConnector } from '../adapters/remote-storage/s3.remote-storage.js';
import type { Clock } from '../lib/clock.js';
import type { ProjectStoragesRepository } from '../ports/repositories.js';
import { ProjectStorageService } from '../services/project-storage.service.js';

/**
 * The project storages service over its repository. Storage endpoints are reached under the
 * from-URL fetcher's address policy: private addresses only when TROVE_FETCH_ALLOW_PRIVATE says so.
 */
export function createProjectStorages(config: Pick<Config, 'storages' | 'fetch'>, repository: ProjectStoragesRepository, clock: Clock): ProjectStorageService {
  const connector = new S3RemoteStorageConnector({ allowPrivate: config.fetch.allowPrivate });
  return new ProjectStorageService(repository, connector, config.storages.credentialsKey, clock);
}
