import { constantTimeEqual, firstMatch } from '../domain/constant-time.js';
import {
  newCsrfToken,
  newSessionToken,
  SESSION_LIFETIME_MS,
  sessionIdOf,
  type DashboardSession,
} from '../domain/dashboard-session.js';
import type { Project } from '../domain/project.js';
import { computeUploadSignature } from '../domain/upload-signature.js';
import { createAppError } from '../errors.js';
import type { RateLimit, RateLimiter } from '../ports/rate-limiter.js';
import type { DashboardSessionsRepository, ProjectsRepository } from '../ports/repositories.js';
import type { Clock } from '../lib/clock.js';

export type SignInRequest = { kind: 'key'; publicKey: string; secretKey: string } | { kind: 'admin'; password: string; publicKey: string | null };

/** A session together with what the dashboard shows of it. */
export interface SessionView {
  session: DashboardSession;
  project: Project;
  /** Every project for an admin; the session's own otherwise. */
  projects: Project[];
}

/** Sign-in attempts per client address: slow enough to make guessing pointless, roomy for people. */
const SIGN_IN_LIMIT: RateLimit = { burst: 10, perSecond: 10 / 60 };
const WRONG = 'Wrong public key or secret key.';
const UNKNOWN_PROJECT_SECRET = 'no-project-has-this-secret';

/** Dashboard sign-in: a project's secret key or the admin password, traded for a session cookie. */
export class DashboardSessionService {
  constructor(
    private readonly projects: ProjectsRepository,
    private readonly sessions: DashboardSessionsRepository,
    private readonly limiter: RateLimiter,
    private readonly clock: Clock,
    private readonly adminPassword: string | null,
  ) {}

  async signIn(request: SignInRequest, clientAddress: string): Promise<{ token: string; view: SessionView }> {
    const decision = await this.limiter.take(`dashboard-sign-in:${clientAddress}`, SIGN_IN_LIMIT);
    if (!decision.allowed) {
      const seconds = Math.max(1, Math.ceil(decision.retryAfterMs / 1000));
      throw createAppError('SIGN_IN_THROTTLED', 429, `Too many sign-in attempts. Try again in ${seconds} s.`, { headers: { 'retry-after': String(seconds) } });
    }
    const now = this.clock.now();
    const token = newSessionToken();
    let session: DashboardSession;
    if (request.kind === 'admin') {
      if (this.adminPassword === null) throw createAppError('ADMIN_SIGN_IN_OFF', 401, 'Admin sign-in is off: set TROVE_ADMIN_PASSWORD to turn it on.');
      if (!constantTimeEqual(request.password, this.adminPassword)) throw createAppError('SIGN_IN_FAILED', 401, 'Wrong admin password.');
      const project = request.publicKey ? await this.projects.findByPublicKey(request.publicKey) : ((await this.projects.list())[0] ?? null);
      if (!project) throw createAppError('PROJECT_NOT_FOUND', 404, request.publicKey ? `No project has public key ${request.publicKey}.` : 'There is no project yet.');
      session = this.newSession(token, project.id, true, null, now);
    } else {
      const project = await this.projects.findByPublicKey(request.publicKey);
      const keys = project ? await this.projects.listSecretKeys(project.id) : [];
      // Every active key is compared, each in constant time, and an unknown project is compared against
      // a stand-in, so neither the time taken nor the answer tells which part was wrong.
      const key = firstMatch(keys, (candidate) => candidate.secret, request.secretKey);
      if (keys.length === 0) constantTimeEqual(request.secretKey, UNKNOWN_PROJECT_SECRET);
      if (!project || !key) throw createAppError('SIGN_IN_FAILED', 401, WRONG);
      session = this.newSession(token, project.id, false, key.id, now);
    }
    await this.sessions.create(session);
    // Expired sessions are cleared here: sign-ins are rare, and the delete walks an index.
    await this.sessions.deleteExpired(now.toISOString());
    return { token, view: await this.describe(session) };
  }

  /** The session a cookie's token opens, or null when it is unknown, expired or its key was revoked. */
  async authenticate(token: string): Promise<{ session: DashboardSession; project: Project } | null> {
    const session = await this.sessions.find(sessionIdOf(token), this.clock.now().toISOString());
    if (!session) return null;
    const project = await this.projects.findById(session.projectId);
    if (!project) return null;
    if (session.secretKeyId !== null) {
      const keys = await this.projects.listSecretKeys(project.id);
      if (!keys.some((key) => key.id === session.secretKeyId)) {
        await this.sessions.delete(session.id);
        return null;
      }
    }
    return { session, project };
  }

  async describe(session: DashboardSession): Promise<SessionView> {
    const project = await this.projects.findById(session.projectId);
    if (!project) throw createAppError('SESSION_INVALID', 401, 'Please sign in again.');
    return { session, project, projects: session.admin ? await this.projects.list() : [project] };
  }

  async switchProject(session: DashboardSession, publicKey: string): Promise<SessionView> {
    if (!session.admin) throw createAppError('FORBIDDEN', 403, 'Only an admin session can switch projects; sign in with that project’s keys instead.');
    const project = await this.projects.findByPublicKey(publicKey);
    if (!project) throw createAppError('PROJECT_NOT_FOUND', 404, `No project has public key ${publicKey}.`);
    await this.sessions.setProject(session.id, project.id);
    return this.describe({ ...session, projectId: project.id });
  }

  /**
   * A signed-upload grant for the dashboard's own widget, so a project with signed uploads can still
   * upload from its dashboard: signed with the project's newest active key, valid for 30 minutes.
   */
  async uploadSignature(project: Project): Promise<{ signature: string; expire: number }> {
    const keys = await this.projects.listSecretKeys(project.id);
    const key = keys.at(-1);
    if (!key) throw createAppError('SECRET_KEY_NOT_FOUND', 409, 'The project has no active secret key to sign uploads with.');
    const expire = Math.floor(this.clock.now().getTime() / 1000) + 30 * 60;
    return { signature: computeUploadSignature(key.secret, String(expire)), expire };
  }

  async signOut(session: DashboardSession): Promise<void> {
    await this.sessions.delete(session.id);
  }

  async removeExpired(): Promise<number> {
    return this.sessions.deleteExpired(this.clock.now().toISOString());
  }

  private newSession(token: string, projectId: string, admin: boolean, secretKeyId: string | null, now: Date): DashboardSession {
    return {
      id: sessionIdOf(token),
      projectId,
      admin,
      secretKeyId,
      csrfToken: newCsrfToken(),
      createdAt: now.toISOString(),
      expiresAt: new Date(now.getTime() + SESSION_LIFETIME_MS).toISOString(),
    };
  }
}
