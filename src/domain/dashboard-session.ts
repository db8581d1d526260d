import { createHash, randomBytes } from 'node:crypto';

/** A signed-in dashboard browser, as stored: the token itself lives only in the cookie. */
export interface DashboardSession {
  /** SHA-256 (hex) of the session token. */
  id: string;
  projectId: string;
  /** Signed in with the admin password: may switch between every project. */
  admin: boolean;
  /** The secret key a project sign-in used; revoking it ends the session. */
  secretKeyId: string | null;
  csrfToken: string;
  createdAt: string;
  expiresAt: string;
}

export const SESSION_COOKIE = 'trove_session';
export const SESSION_LIFETIME_MS = 12 * 60 * 60 * 1000;

export function newSessionToken(): string {
  return randomBytes(32).toString('base64url');
}

export function newCsrfToken(): string {
  return randomBytes(24).toString('base64url');
}

export function sessionIdOf(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

/** One cookie's value from a Cookie header; null when absent or malformed. */
export function readCookie(header: string | undefined, name: string): string | null {
  if (!header) return null;
  for (const pair of header.split(';')) {
    const cut = pair.indexOf('=');
    if (cut === -1) continue;
    if (pair.slice(0, cut).trim() !== name) continue;
    const value = pair.slice(cut + 1).trim();
    return /^[A-Za-z0-9_-]{1,128}$/.test(value) ? value : null;
  }
  return null;
}

export function sessionCookie(token: string, options: { secure: boolean; maxAgeSeconds: number }): string {
  return [
    `${SESSION_COOKIE}=${token}`,
    'Path=/',
    'HttpOnly',
    'SameSite=Strict',
    `Max-Age=${options.maxAgeSeconds}`,
    ...(options.secure ? ['Secure'] : []),
  ].join('; ');
}
