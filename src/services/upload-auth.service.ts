import type { Project } from '../domain/project.js';
import type { UploadCredentials } from '../domain/upload-options.js';
import { matchesAnySecret } from '../domain/upload-signature.js';
import { createAppError } from '../errors.js';
import type { ProjectsRepository } from '../ports/repositories.js';
import type { Clock } from '../lib/clock.js';

/** Decides whether an Upload API call may act for a project: public key, then signature rules. */
/** How long a project looked up by public key is reused: settings changes apply within this time. */
const PROJECT_CACHE_TTL_MS = 5_000;

export class UploadAuthService {
  private readonly cache = new Map<string, { project: Project; at: number }>();

  constructor(
    private readonly projects: ProjectsRepository,
    private readonly clock: Clock,
    /** Spends the project's Upload API budget; throws (429) when it is spent. */
    private readonly admit: (projectId: string) => Promise<void> = async () => undefined,
  ) {}

  async authenticate(credentials: UploadCredentials): Promise<Project> {
    const project = await this.resolveProject(credentials.publicKey);
    await this.admit(project.id);
    await this.checkSignature(project, credentials);
    return project;
  }

  /** Forgets cached projects, so a settings change applies at once (tests, admin actions). */
  forgetProjects(): void {
    this.cache.clear();
  }

  async resolveProject(publicKey: string | undefined): Promise<Project> {
    if (!publicKey) {
      throw createAppError('ProjectPublicKeyRequiredError', 400, 'UPLOADCARE_PUB_KEY is required.');
    }
    const now = this.clock.now().getTime();
    const cached = this.cache.get(publicKey);
    if (cached && now - cached.at < PROJECT_CACHE_TTL_MS) return cached.project;
    const project = await this.projects.findByPublicKey(publicKey);
    if (project) {
      if (this.cache.size >= 10_000) this.cache.clear();
      this.cache.set(publicKey, { project, at: now });
    }
    if (!project) {
      throw createAppError('ProjectPublicKeyInvalidError', 403, `UPLOADCARE_PUB_KEY "${publicKey.slice(0, 64)}" is invalid.`);
    }
    return project;
  }

  /** A signature is required when the project says so, and checked whenever one is sent. */
  async checkSignature(project: Project, { signature, expire }: UploadCredentials): Promise<void> {
    if (!signature && !expire) {
      if (project.signedUploads) {
        throw createAppError('SignatureRequiredError', 403, 'This project accepts signed uploads only: send signature and expire.');
      }
      return;
    }
    if (!signature) throw createAppError('SignatureRequiredError', 403, '`signature` is required when `expire` is sent.');
    if (!expire) throw createAppError('SignatureExpirationRequiredError', 403, '`expire` is required when `signature` is sent.');
    if (!/^\d{1,12}$/.test(expire)) {
      throw createAppError('SignatureExpirationInvalidError', 403, '`expire` must be a Unix timestamp in seconds.');
    }
    const nowSeconds = Math.floor(this.clock.now().getTime() / 1000);
    if (Number(expire) < nowSeconds) {
      throw createAppError('SignatureExpirationError', 403, `Signature expired at ${new Date(Number(expire) * 1000).toISOString()}.`);
    }
    const secrets = (await this.projects.listSecretKeys(project.id)).map((k) => k.secret);
    if (!/^[0-9a-fA-F]{64}$/.test(signature) || !matchesAnySecret(signature, expire, secrets)) {
      throw createAppError('SignatureInvalidError', 403, 'Signature is invalid: it does not match HMAC-SHA256(secret key, expire).');
    }
  }
}
