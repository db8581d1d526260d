import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { AppContext } from '../../../context.js';
import { SESSION_LIFETIME_MS } from '../../../domain/dashboard-session.js';
import { createAppError } from '../../../errors.js';
import type { SessionView, SignInRequest } from '../../../services/dashboard-session.service.js';
import { requireSession, sessionTokenOf, setSessionCookie } from './session-auth.js';

function toSessionInfo(view: SessionView) {
  const summary = (project: { publicKey: string; name: string }) => ({ pub_key: project.publicKey, name: project.name });
  return {
    admin: view.session.admin,
    csrf_token: view.session.csrfToken,
    expires_at: view.session.expiresAt,
    project: summary(view.project),
    projects: view.projects.map(summary),
  };
}

const text = (value: unknown, name: string, max: number): string => {
  if (typeof value !== 'string' || value.length === 0 || value.length > max) {
    throw createAppError('PARAMETER_INVALID', 400, `\`${name}\` must be a non-empty string of at most ${max} characters.`);
  }
  return value;
};

/** The sign-in form's body: a project's keys, or the admin password. */
export function parseSignIn(body: unknown): SignInRequest {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw createAppError('PARAMETER_INVALID', 400, 'Expected a JSON object: {"pub_key", "secret_key"} or {"password"}.');
  }
  const input = body as Record<string, unknown>;
  if ('password' in input) {
    return { kind: 'admin', password: text(input.password, 'password', 1024), publicKey: input.pub_key === undefined || input.pub_key === '' ? null : text(input.pub_key, 'pub_key', 128) };
  }
  if (!('pub_key' in input) || !('secret_key' in input)) {
    throw createAppError('PARAMETER_INVALID', 400, 'Sign in with {"pub_key", "secret_key"} (a project’s keys) or {"password"} (the admin password).');
  }
  return { kind: 'key', publicKey: text(input.pub_key, 'pub_key', 128), secretKey: text(input.secret_key, 'secret_key', 256) };
}

/** `/dashboard/api/session`: sign in, who am I, switch project (admin), sign out; and upload grants for the dashboard's widget. */
export function registerDashboardSession(app: FastifyInstance, ctx: AppContext): void {
  const sessions = () => ctx.services.dashboardSessions;
  const options = { bodyLimit: 16 * 1024, schema: { hide: true } };
  const noStore = (reply: FastifyReply) => reply.header('cache-control', 'no-store');

  app.post('/dashboard/api/session', options, async (request, reply) => {
    const signIn = parseSignIn(request.body);
    const { token, view } = await sessions().signIn(signIn, request.ip);
    setSessionCookie(request, reply, token, SESSION_LIFETIME_MS / 1000);
    return noStore(reply).send(toSessionInfo(view));
  });

  app.get('/dashboard/api/session', options, async (request, reply) => {
    // Reading the session is how the page learns its CSRF token, so this one call goes without it.
    const token = sessionTokenOf(request);
    const found = token === null ? null : await sessions().authenticate(token);
    if (!found) throw createAppError('SESSION_REQUIRED', 401, 'Not signed in, or the session has ended: sign in again.');
    return noStore(reply).send(toSessionInfo(await sessions().describe(found.session)));
  });

  app.put('/dashboard/api/session', options, async (request: FastifyRequest, reply) => {
    const { session } = await requireSession(request, ctx);
    const body = request.body as Record<string, unknown> | undefined;
    const view = await sessions().switchProject(session, text(body?.pub_key, 'pub_key', 128));
    return noStore(reply).send(toSessionInfo(view));
  });

  app.delete('/dashboard/api/session', options, async (request, reply) => {
    const { session } = await requireSession(request, ctx);
    await sessions().signOut(session);
    setSessionCookie(request, reply, '', 0);
    return reply.code(204).send();
  });

  app.get('/dashboard/api/upload-signature', options, async (request, reply) => {
    const { project } = await requireSession(request, ctx);
    return noStore(reply).send(await sessions().uploadSignature(project));
  });

  app.all('/dashboard/api/*', options, async (request) => {
    throw createAppError('NOT_FOUND', 404, `No dashboard API at ${request.method} ${request.url.split('?')[0]}.`);
  });
}
