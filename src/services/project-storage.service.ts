import type { Project } from '../domain/project.js';
import { checkStorageRegistration, isStorageName, type ProjectStorage, type StorageCredentials, type StorageRegistration } from '../domain/project-storage.js';
import { objectKeyOf } from '../domain/remote-copy.js';
import { createAppError } from '../errors.js';
import type { Clock } from '../lib/clock.js';
import { SecretBox, SecretBoxError } from '../lib/secret-box.js';
import type { ProjectStorageRecord, ProjectStoragesRepository } from '../ports/repositories.js';
import { RemoteStorageError, type RemoteBucket, type RemoteStorageConnector } from '../ports/remote-storage.js';

/** Where registration writes its check object, under the storage's prefix. */
const CHECK_OBJECT = '.trove-write-check';

/** Binds sealed credentials to their row: a value copied to another project or name does not open. */
const sealContext = (projectId: string, name: string): string => `trove:project-storage:v1:${projectId}:${name}`;

function present(record: ProjectStorageRecord): ProjectStorage {
  const { name, bucket, prefix, region, endpoint, forcePathStyle, pattern, createdAt } = record;
  return { name, bucket, prefix, region, endpoint, forcePathStyle, pattern, createdAt };
}

/**
 * A project's storages for remote copies (a Trove extension): registration checks that the
 * credentials can write to the bucket and keeps them sealed with the server's key; nothing ever
 * hands them back.
 */
export class ProjectStorageService {
  private readonly box: SecretBox | null;

  constructor(
    private readonly storages: ProjectStoragesRepository,
    private readonly connector: RemoteStorageConnector,
    /** TROVE_STORAGE_CREDENTIALS_KEY; null: nothing can be registered or opened. */
    credentialsKey: Buffer | null,
    private readonly clock: Clock,
  ) {
    this.box = credentialsKey ? new SecretBox(credentialsKey) : null;
  }

  async register(project: Project, input: StorageRegistration): Promise<ProjectStorage> {
    const box = this.requireKey();
    const { settings, credentials } = checkStorageRegistration(input);
    if (await this.storages.find(project.id, settings.name)) throw this.exists(settings.name);
    await this.checkWrite(settings, credentials);
    const record: ProjectStorageRecord = {
      ...settings,
      projectId: project.id,
      createdAt: this.clock.now().toISOString(),
      sealedCredentials: box.seal(JSON.stringify(credentials), sealContext(project.id, settings.name)),
    };
    if (!(await this.storages.create(record))) throw this.exists(settings.name);
    return present(record);
  }

  async list(project: Project): Promise<ProjectStorage[]> {
    return (await this.storages.list(project.id)).map(present);
  }

  async remove(project: Project, name: string): Promise<void> {
    // A name no storage can have is not looked up: databases refuse some text (NUL) outright.
    if (!isStorageName(name) || !(await this.storages.delete(project.id, name))) {
      throw createAppError('STORAGE_NOT_FOUND', 404, `This project has no storage named "${name}".`);
    }
  }

  /** The storage of this project named `name` and its bucket, opened with its credentials; null when there is none. */
  async open(project: Project, name: string): Promise<{ storage: ProjectStorage; bucket: RemoteBucket } | null> {
    const record = isStorageName(name) ? await this.storages.find(project.id, name) : null;
    if (!record) return null;
    const box = this.requireKey();
    let credentials: StorageCredentials;
    try {
      credentials = JSON.parse(box.open(record.sealedCredentials, sealContext(project.id, record.name))) as StorageCredentials;
    } catch (error) {
      if (!(error instanceof SecretBoxError) && !(error instanceof SyntaxError)) throw error;
      throw createAppError(
        'STORAGE_CREDENTIALS_UNREADABLE',
        409,
        `The credentials of storage "${name}" cannot be read with this server's TROVE_STORAGE_CREDENTIALS_KEY (was the key changed?); remove the storage and register it again.`,
      );
    }
    try {
      return { storage: present(record), bucket: this.connector.open({ ...record, credentials }) };
    } catch (error) {
      if (error instanceof RemoteStorageError) throw createAppError('STORAGE_REFUSED', 400, `Storage "${name}" cannot be used: ${error.message}.`);
      throw error;
    }
  }

  private requireKey(): SecretBox {
    if (this.box) return this.box;
    throw createAppError(
      'STORAGE_KEY_MISSING',
      501,
      'This server has no TROVE_STORAGE_CREDENTIALS_KEY configured, so it cannot keep storage credentials; its operator must set one (32 bytes, e.g. `openssl rand -base64 32`).',
    );
  }

  private exists(name: string) {
    return createAppError('STORAGE_EXISTS', 409, `This project already has a storage named "${name}"; remove it first to register it again.`);
  }

  /** Writes (and deletes, when allowed) a small object with these settings, so a broken storage is never registered. */
  private async checkWrite(settings: Omit<ProjectStorage, 'createdAt'>, credentials: StorageCredentials): Promise<void> {
    const where = `bucket "${settings.bucket}"${settings.endpoint ? ` at ${settings.endpoint}` : ` in ${settings.region}`}`;
    let bucket: RemoteBucket | undefined;
    try {
      bucket = this.connector.open({ ...settings, credentials });
      await bucket.checkWrite(objectKeyOf(settings.prefix, CHECK_OBJECT));
    } catch (error) {
      if (!(error instanceof RemoteStorageError)) throw error;
      throw createAppError('STORAGE_CHECK_FAILED', 400, `Could not write to ${where}: ${error.message}. Nothing was registered.`);
    } finally {
      bucket?.close();
    }
  }
}
