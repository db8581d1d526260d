import type { FastifyReply, FastifyRequest } from 'fastify';
import type { HttpContext } from '../../http-context.js';
import { constantTimeEqual } from '../../../domain/constant-time.js';
import { readCookie, SESSION_COOKIE, sessionCookie, type DashboardSession } from '../../../domain/dashboard-session.js';
import type { Project } from '../../../domain/project.js';
import { createAppError } from '../../../errors.js';

/** The session cookie's token, when the request carries one. */
export function sessionTokenOf(request: FastifyRequest): string | null {
  return readCookie(request.headers.cookie, SESSION_COOKIE);
}

/**
 * The dashboard session a request is signed in with, its CSRF header checked. Every call made with
 * the cookie must carry `X-CSRF-Token`, reads too: another site can make a browser send the cookie,
 * but it cannot read the token.
 */
export async function requireSession(request: FastifyRequest, ctx: HttpContext): Promise<{ session: DashboardSession; project: Project }> {
  const token = sessionTokenOf(request);
  const found = token === null ? null : await ctx.services.dashboardSessions.authenticate(token);
  if (!found) throw createAppError('SESSION_REQUIRED', 401, 'Not signed in, or the session has ended: sign in again.');
  const header = request.headers['x-csrf-token'];
  const csrf = Array.isArray(header) ? header[0] : header;
  if (!csrf || !constantTimeEqual(csrf, found.session.csrfToken)) {
    throw createAppError('CSRF_TOKEN_INVALID', 403, 'Missing or wrong X-CSRF-Token header: requests signed in by the dashboard cookie must carry the session’s CSRF token.');
  }
  return found;
}

export function setSessionCookie(request: FastifyRequest, reply: FastifyReply, token: string, maxAgeSeconds: number): void {
  void reply.header('set-cookie', sessionCookie(token, { secure: request.protocol === 'https', maxAgeSeconds }));
}
