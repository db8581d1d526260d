import { randomUUID } from 'node:crypto';
import type { Kysely, Selectable } from 'kysely';
import type { Project, SecretKey } from '../../../domain/project.js';
import type { NewProject, ProjectSettingsPatch, ProjectsRepository } from '../../../ports/repositories.js';
import { fromFlag, readJson, toFlag } from '../json-columns.js';
import type { Database, ProjectsTable, SecretKeysTable } from '../schema.js';

function toProject(row: Selectable<ProjectsTable>): Project {
  return {
    id: row.id,
    name: row.name,
    publicKey: row.public_key,
    autoStore: fromFlag(row.auto_store),
    signedUploads: fromFlag(row.signed_uploads),
    maxFileSize: row.max_file_size === null ? null : Number(row.max_file_size),
    allowedMimeTypes: readJson<string[] | null>(row.allowed_mime_types, null),
    scanOnUpload: fromFlag(row.scan_on_upload),
    purgeInfected: fromFlag(row.purge_infected),
    shard: row.shard,
    createdAt: row.created_at,
  };
}

function toSecretKey(row: Selectable<SecretKeysTable>): SecretKey {
  return { id: row.id, projectId: row.project_id, secret: row.secret, createdAt: row.created_at, revokedAt: row.revoked_at };
}

export class KyselyProjectsRepository implements ProjectsRepository {
  constructor(private readonly db: Kysely<Database>) {}

  async create(project: NewProject): Promise<Project> {
    const row: Selectable<ProjectsTable> = {
      id: project.id ?? randomUUID(),
      name: project.name,
      public_key: project.publicKey,
      auto_store: toFlag(project.autoStore ?? true),
      signed_uploads: toFlag(project.signedUploads ?? false),
      max_file_size: project.maxFileSize ?? null,
      allowed_mime_types: project.allowedMimeTypes ? JSON.stringify(project.allowedMimeTypes) : null,
      scan_on_upload: toFlag(project.scanOnUpload ?? false),
      purge_infected: toFlag(project.purgeInfected ?? false),
      created_at: project.createdAt ?? new Date().toISOString(),
      shard: project.shard ?? 'main',
    };
    await this.db.insertInto('projects').values(row).execute();
    return toProject(row);
  }

  async findById(id: string): Promise<Project | null> {
    const row = await this.db.selectFrom('projects').selectAll().where('id', '=', id).executeTakeFirst();
    return row ? toProject(row) : null;
  }

  async findByPublicKey(publicKey: string): Promise<Project | null> {
    const row = await this.db.selectFrom('projects').selectAll().where('public_key', '=', publicKey).executeTakeFirst();
    return row ? toProject(row) : null;
  }

  async list(): Promise<Project[]> {
    const rows = await this.db.selectFrom('projects').selectAll().orderBy('created_at').execute();
    return rows.map(toProject);
  }

  async update(id: string, patch: ProjectSettingsPatch): Promise<Project | null> {
    const values: Partial<Omit<ProjectsTable, 'shard'>> = {};
    if (patch.name !== undefined) values.name = patch.name;
    if (patch.autoStore !== undefined) values.auto_store = toFlag(patch.autoStore);
    if (patch.signedUploads !== undefined) values.signed_uploads = toFlag(patch.signedUploads);
    if (patch.maxFileSize !== undefined) values.max_file_size = patch.maxFileSize;
    if (patch.scanOnUpload !== undefined) values.scan_on_upload = toFlag(patch.scanOnUpload);
    if (patch.purgeInfected !== undefined) values.purge_infected = toFlag(patch.purgeInfected);
    if (patch.allowedMimeTypes !== undefined) {
      values.allowed_mime_types = patch.allowedMimeTypes ? JSON.stringify(patch.allowedMimeTypes) : null;
    }
    if (Object.keys(values).length > 0) await this.db.updateTable('projects').set(values).where('id', '=', id).execute();
    return this.findById(id);
  }

  async addSecretKey(projectId: string, secret: string): Promise<SecretKey> {
    const row: SecretKeysTable = {
      id: randomUUID(),
      project_id: projectId,
      secret,
      created_at: new Date().toISOString(),
      revoked_at: null,
    };
    await this.db.insertInto('secret_keys').values(row).execute();
    return toSecretKey(row);
  }

  async listSecretKeys(projectId: string, options: { includeRevoked?: boolean } = {}): Promise<SecretKey[]> {
    let query = this.db.selectFrom('secret_keys').selectAll().where('project_id', '=', projectId);
    if (!options.includeRevoked) query = query.where('revoked_at', 'is', null);
    const rows = await query.orderBy('created_at').execute();
    return rows.map(toSecretKey);
  }

  async revokeSecretKey(projectId: string, keyId: string): Promise<boolean> {
    const result = await this.db
      .updateTable('secret_keys')
      .set({ revoked_at: new Date().toISOString() })
      .where('project_id', '=', projectId)
      .where('id', '=', keyId)
      .where('revoked_at', 'is', null)
      .executeTakeFirst();
    return Number(result.numUpdatedRows) > 0;
  }

  async countByShard(): Promise<Map<string, number>> {
    const rows = await this.db.selectFrom('projects').select(['shard', (eb) => eb.fn.countAll<number>().as('count')]).groupBy('shard').execute();
    return new Map(rows.map((row) => [row.shard, Number(row.count)]));
  }

  async setShard(id: string, shard: string): Promise<boolean> {
    const result = await this.db.updateTable('projects').set({ shard }).where('id', '=', id).executeTakeFirst();
    return Number(result.numUpdatedRows) > 0;
  }

  async claimBootstrap(): Promise<boolean> {
    const row = await this.db
      .insertInto('id_sequences')
      .values({ name: 'bootstrap', value: 1 })
      .onConflict((oc) => oc.column('name').doNothing())
      .returning('name')
      .executeTakeFirst();
    return row !== undefined;
  }
}
