import type { Project } from '../domain/project.js';
import {
  matchesRestSignature,
  matchesSecretKey,
  parseAuthorization,
  parseHttpDate,
  REST_DATE_WINDOW_MS,
  type SignedRequestParts,
} from '../domain/rest-auth.js';
import { createAppError } from '../errors.js';
import type { ProjectsRepository } from '../ports/repositories.js';
import type { Clock } from '../lib/clock.js';

interface RestRequestAuth {
  authorization: string | undefined;
  /** `X-Uploadcare-Date` (what the JS SDK sends, since browsers cannot set Date), else `Date`. */
  date: string | undefined;
  method: string;
  body: Buffer | string;
  contentType: string;
  uri: string;
}

/** How long a project and its secrets are reused: key revocations apply within this time. */
const CACHE_TTL_MS = 5_000;

const INCORRECT = 'Incorrect authentication credentials.';

/** Decides which project a REST API call acts for, by Uploadcare's Simple or signed scheme. */
export class ApiAuthService {
  private readonly cache = new Map<string, { project: Project; secrets: string[]; at: number }>();

  constructor(
    private readonly projects: ProjectsRepository,
    private readonly clock: Clock,
  ) {}

  async authenticate(request: RestRequestAuth): Promise<Project> {
    const credentials = parseAuthorization(request.authorization);
    if (!credentials) throw createAppError('AUTH_REQUIRED', 401, INCORRECT);
    const entry = await this.lookup(credentials.publicKey);
    if (!entry) throw createAppError('PUBLIC_KEY_NOT_FOUND', 401, `Public key ${credentials.publicKey} not found.`);
    if (entry.secrets.length === 0) throw createAppError('SECRET_KEY_NOT_FOUND', 401, 'Secret key not found.');
    if (credentials.scheme === 'simple') {
      if (!matchesSecretKey(credentials.secretKey, entry.secrets)) {
        throw createAppError('SECRET_KEY_INVALID', 401, INCORRECT);
      }
      return entry.project;
    }
    if (!request.date) {
      throw createAppError('DATE_REQUIRED', 401, `${INCORRECT} Signed requests need an X-Uploadcare-Date or Date header.`);
    }
    const dated = parseHttpDate(request.date);
    if (dated === null) throw createAppError('DATE_INVALID', 401, `${INCORRECT} The date header must be an RFC 2822 date in GMT.`);
    const skew = Math.abs(this.clock.now().getTime() - dated);
    if (skew > REST_DATE_WINDOW_MS) {
      throw createAppError('DATE_OUT_OF_WINDOW', 401, `${INCORRECT} The request date is more than 15 minutes away from the server's clock.`);
    }
    const parts: SignedRequestParts = {
      method: request.method,
      body: request.body,
      contentType: request.contentType,
      date: request.date,
      uri: request.uri,
    };
    if (!/^[0-9a-fA-F]{40}$/.test(credentials.signature) || !matchesRestSignature(credentials.signature, entry.secrets, parts)) {
      throw createAppError('SIGNATURE_INVALID', 401, 'Invalid signature. Please check your Secret key.');
    }
    return entry.project;
  }

  forgetProjects(): void {
    this.cache.clear();
  }

  private async lookup(publicKey: string): Promise<{ project: Project; secrets: string[] } | null> {
    const now = this.clock.now().getTime();
    const cached = this.cache.get(publicKey);
    if (cached && now - cached.at < CACHE_TTL_MS) return cached;
    const project = await this.projects.findByPublicKey(publicKey);
    if (!project) {
      this.cache.delete(publicKey);
      return null;
    }
    const secrets = (await this.projects.listSecretKeys(project.id)).map((key) => key.secret);
    const entry = { project, secrets, at: now };
    if (this.cache.size >= 10_000) this.cache.clear();
    this.cache.set(publicKey, entry);
    return entry;
  }
}
