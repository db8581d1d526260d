import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance, FastifyReply } from 'fastify';
import type { HttpContext } from '../../http-context.js';
import { SESSION_LIFETIME_MS } from '../../../domain/dashboard-session.js';
import { createAppError } from '../../../errors.js';
import type { SessionView, SignInRequest } from '../../../services/dashboard-session.service.js';
import {
  dashboardErrorResponses,
  NoContentSchema,
  SessionInfoSchema,
  SignInBodySchema,
  SwitchProjectBodySchema,
  UploadSignatureSchema,
  type SessionInfo,
  type SignInBody,
} from './schemas.js';
import { requireSession, sessionTokenOf, setSessionCookie } from './session-auth.js';

function toSessionInfo(view: SessionView): SessionInfo {
  const summary = (project: { publicKey: string; name: string }) => ({ pub_key: project.publicKey, name: project.name });
  return {
    admin: view.session.admin,
    csrf_token: view.session.csrfToken,
    expires_at: view.session.expiresAt,
    project: summary(view.project),
    projects: view.projects.map(summary),
  };
}

/** Which sign-in a body its schema accepted asks for: the admin password, or a project's keys. */
export function toSignIn(body: SignInBody): SignInRequest {
  if (body.password !== undefined) return { kind: 'admin', password: body.password, publicKey: body.pub_key || null };
  if (body.pub_key === undefined || body.secret_key === undefined) {
    throw createAppError('PARAMETER_INVALID', 400, 'Sign in with {"pub_key", "secret_key"} (a project’s keys) or {"password"} (the admin password).');
  }
  // The schema lets an empty `pub_key` through for admins, who may not have chosen a project yet.
  if (body.pub_key === '') throw createAppError('PARAMETER_INVALID', 400, '`pub_key` must be a non-empty string of at most 128 characters.');
  return { kind: 'key', publicKey: body.pub_key, secretKey: body.secret_key };
}

const route = <S extends object>(operationId: string, summary: string, schema: S) => ({
  bodyLimit: 16 * 1024,
  schema: { tags: ['Dashboard'], operationId, summary, ...schema },
});

/** `/dashboard/api/session`: sign in, who am I, switch project (admin), sign out; and upload grants for the dashboard's widget. */
export function registerDashboardSession(fastify: FastifyInstance, ctx: HttpContext): void {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  const sessions = () => ctx.services.dashboardSessions;
  const noStore = (reply: FastifyReply) => reply.header('cache-control', 'no-store');

  app.post(
    '/dashboard/api/session',
    route('signIn', 'Sign in to the dashboard', {
      description: 'With a project’s keys, or the admin password. Sets the HTTP-only session cookie.',
      body: SignInBodySchema,
      response: { 200: SessionInfoSchema, ...dashboardErrorResponses },
    }),
    async (request, reply) => {
      const { token, view } = await sessions().signIn(toSignIn(request.body), request.ip);
      setSessionCookie(request, reply, token, SESSION_LIFETIME_MS / 1000);
      return noStore(reply).send(toSessionInfo(view));
    },
  );

  app.get(
    '/dashboard/api/session',
    route('getSession', 'The signed-in session', {
      description: 'Needs the session cookie but no CSRF header: this is how the page learns its CSRF token.',
      response: { 200: SessionInfoSchema, ...dashboardErrorResponses },
    }),
    async (request, reply) => {
      // Reading the session is how the page learns its CSRF token, so this one call goes without it.
      const token = sessionTokenOf(request);
      const found = token === null ? null : await sessions().authenticate(token);
      if (!found) throw createAppError('SESSION_REQUIRED', 401, 'Not signed in, or the session has ended: sign in again.');
      return noStore(reply).send(toSessionInfo(await sessions().describe(found.session)));
    },
  );

  app.put(
    '/dashboard/api/session',
    route('switchProject', 'Open another project (admin)', {
      body: SwitchProjectBodySchema,
      response: { 200: SessionInfoSchema, ...dashboardErrorResponses },
    }),
    async (request, reply) => {
      const { session } = await requireSession(request, ctx);
      return noStore(reply).send(toSessionInfo(await sessions().switchProject(session, request.body.pub_key)));
    },
  );

  app.delete(
    '/dashboard/api/session',
    route('signOut', 'Sign out', { response: { 204: NoContentSchema, ...dashboardErrorResponses } }),
    async (request, reply) => {
      const { session } = await requireSession(request, ctx);
      await sessions().signOut(session);
      setSessionCookie(request, reply, '', 0);
      return reply.code(204).send();
    },
  );

  app.get(
    '/dashboard/api/upload-signature',
    route('getUploadSignature', 'A signature for the dashboard’s uploads', {
      description: 'For projects with signed uploads: `signature` and `expire` for the Upload API.',
      response: { 200: UploadSignatureSchema, ...dashboardErrorResponses },
    }),
    async (request, reply) => {
      const { project } = await requireSession(request, ctx);
      return noStore(reply).send(await sessions().uploadSignature(project));
    },
  );

  app.all('/dashboard/api/*', { bodyLimit: 16 * 1024, schema: { hide: true } }, async (request) => {
    throw createAppError('NOT_FOUND', 404, `No dashboard API at ${request.method} ${request.url.split('?')[0]}.`);
  });
}
