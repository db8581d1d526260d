import { randomBytes, randomUUID } from 'node:crypto';
import type { Project, SecretKey } from '../domain/project.js';
import { createAppError } from '../errors.js';
import type { NewProject, ProjectSettingsPatch, ProjectsRepository } from '../ports/repositories.js';
import type { ShardPlacementService } from './shard-placement.service.js';
export type { ProjectSettingsPatch } from '../ports/repositories.js';

export interface ProjectWithSecrets {
  project: Project;
  secrets: SecretKey[];
}

interface BootstrapResult extends ProjectWithSecrets {
  /** True when this call created the project, so its keys should be shown once. */
  created: boolean;
}

/** Told after a project's settings or keys change, so every cached copy of the project is dropped. */
interface ProjectChangeListener {
  projectChanged(projectId: string): Promise<void>;
}

const unheard: ProjectChangeListener = { projectChanged: async () => undefined };

const newPublicKey = (): string => randomBytes(10).toString('hex');
const newSecretKey = (): string => randomBytes(20).toString('hex');

/** Projects and their keys: creation, listing, rotation, and the default project of a fresh install. */
export class ProjectService {
  constructor(
    private readonly projects: ProjectsRepository,
    private readonly placement: Pick<ShardPlacementService, 'choose' | 'anchor'>,
    private readonly changes: ProjectChangeListener = unheard,
  ) {}

  /** A new project on the shard named in `input.shard`, or on the least loaded one of `input.region` (default: the default region). */
  async create(input: Partial<NewProject> & { name: string; region?: string }): Promise<ProjectWithSecrets> {
    const publicKey = input.publicKey ?? newPublicKey();
    if (await this.projects.findByPublicKey(publicKey)) {
      throw createAppError('PROJECT_KEY_TAKEN', 409, `A project with public key ${publicKey} already exists.`);
    }
    const project = await this.createPlaced({ ...input, publicKey });
    const secret = await this.projects.addSecretKey(project.id, newSecretKey());
    return { project, secrets: [secret] };
  }

  async list(): Promise<ProjectWithSecrets[]> {
    const projects = await this.projects.list();
    return Promise.all(projects.map(async (project) => ({ project, secrets: await this.projects.listSecretKeys(project.id) })));
  }

  async findByPublicKey(publicKey: string): Promise<Project> {
    const project = await this.projects.findByPublicKey(publicKey);
    if (!project) throw createAppError('PROJECT_NOT_FOUND', 404, `No project has public key ${publicKey}.`);
    return project;
  }

  async update(publicKey: string, patch: ProjectSettingsPatch): Promise<Project> {
    const project = await this.findByPublicKey(publicKey);
    const updated = await this.projects.update(project.id, patch);
    await this.changes.projectChanged(project.id);
    if (!updated) throw createAppError('PROJECT_NOT_FOUND', 404, `No project has public key ${publicKey}.`);
    return updated;
  }

  async addSecret(publicKey: string, secret?: string): Promise<SecretKey> {
    const project = await this.findByPublicKey(publicKey);
    const key = await this.projects.addSecretKey(project.id, secret ?? newSecretKey());
    // A new key must work at once (it is shown once, and used straight away), not when the cached key list ages out.
    await this.changes.projectChanged(project.id);
    return key;
  }

  async listSecrets(publicKey: string): Promise<SecretKey[]> {
    const project = await this.findByPublicKey(publicKey);
    return this.projects.listSecretKeys(project.id);
  }

  /** `keepOne`: refuse to revoke the last active key (the API and dashboard could not reach the project again). */
  async revokeSecret(publicKey: string, keyId: string, options: { keepOne?: boolean } = {}): Promise<void> {
    const project = await this.findByPublicKey(publicKey);
    if (options.keepOne) {
      const active = await this.projects.listSecretKeys(project.id);
      if (active.length <= 1 && active.some((key) => key.id === keyId)) {
        throw createAppError('LAST_SECRET_KEY', 409, 'This is the project’s last active secret key: create another one before revoking it.');
      }
    }
    if (!(await this.projects.revokeSecretKey(project.id, keyId))) {
      throw createAppError('SECRET_KEY_NOT_FOUND', 404, `Project ${publicKey} has no active secret key ${keyId}.`);
    }
    // A revoked key must stop working at once, in every process, not when its cache entry ages out.
    await this.changes.projectChanged(project.id);
  }

  /**
   * Makes sure a fresh install has a project to upload into. Keys fixed by the deployment
   * (TROVE_PUBLIC_KEY / TROVE_SECRET_KEY) are created when missing; otherwise a first start
   * creates a project with random keys.
   */
  async ensureDefaultProject(fixed: { publicKey: string | null; secretKey: string | null }): Promise<BootstrapResult | null> {
    // Several nodes may start at once on a fresh database: every step tolerates losing a race.
    if (fixed.publicKey) {
      let project = await this.projects.findByPublicKey(fixed.publicKey);
      let created = false;
      if (!project) {
        try {
          project = await this.createPlaced({ name: 'Default project', publicKey: fixed.publicKey });
          created = true;
        } catch (error) {
          project = await this.projects.findByPublicKey(fixed.publicKey);
          if (!project) throw error;
        }
      }
      let secrets = await this.projects.listSecretKeys(project.id);
      if (fixed.secretKey && !secrets.some((s) => s.secret === fixed.secretKey)) {
        try {
          secrets.push(await this.projects.addSecretKey(project.id, fixed.secretKey));
        } catch (error) {
          secrets = await this.projects.listSecretKeys(project.id);
          if (!secrets.some((s) => s.secret === fixed.secretKey)) throw error;
        }
      } else if (!fixed.secretKey && secrets.length === 0) {
        secrets.push(await this.projects.addSecretKey(project.id, newSecretKey()));
      }
      return { project, secrets, created };
    }
    if ((await this.projects.list()).length > 0) return null;
    // One node creates the default project; the others find it made.
    if (!(await this.projects.claimBootstrap())) return null;
    const created = await this.create({ name: 'Default project' });
    if (fixed.secretKey) created.secrets.push(await this.projects.addSecretKey(created.project.id, fixed.secretKey));
    return { ...created, created: true };
  }

  /**
   * Places the project on a shard and gives that shard its anchor row before the main database's
   * row exists: a project is never visible without a shard ready to hold its files.
   */
  private async createPlaced({ region, ...input }: NewProject & { region?: string }): Promise<Project> {
    const shard = await this.placement.choose(input.shard ?? null, region ?? null);
    const placed = { ...input, id: input.id ?? randomUUID(), createdAt: input.createdAt ?? new Date().toISOString(), shard };
    await this.placement.anchor(shard, placed);
    return this.projects.create(placed);
  }
}
