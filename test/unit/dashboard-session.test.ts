import { describe, expect, it } from 'vitest';
import { readCookie, sessionCookie, sessionIdOf } from '../../src/domain/dashboard-session.js';
import { parseSignIn } from '../../src/http/routes/dashboard/session.js';
import { parseProjectPatch } from '../../src/http/routes/rest/project.js';
import { parseFileSearchParams } from '../../src/http/routes/rest/rest-params.js';

describe('session cookie', () => {
  it('reads only a well-formed trove_session value', () => {
    expect(readCookie('a=1; trove_session=abc_DEF-123; b=2', 'trove_session')).toBe('abc_DEF-123');
    expect(readCookie('trove_session_x=abc; trove_session=ok', 'trove_session')).toBe('ok');
    expect(readCookie('trove_session=bad value', 'trove_session')).toBeNull();
    expect(readCookie('trove_session=', 'trove_session')).toBeNull();
    expect(readCookie(`trove_session=${'a'.repeat(129)}`, 'trove_session')).toBeNull();
    expect(readCookie(undefined, 'trove_session')).toBeNull();
  });

  it('is HTTP-only and strict same-site, Secure over HTTPS', () => {
    expect(sessionCookie('t', { secure: false, maxAgeSeconds: 60 })).toBe('trove_session=t; Path=/; HttpOnly; SameSite=Strict; Max-Age=60');
    expect(sessionCookie('t', { secure: true, maxAgeSeconds: 60 })).toMatch(/; Secure$/);
  });

  it('stores a hash of the token', () => {
    expect(sessionIdOf('token')).toMatch(/^[0-9a-f]{64}$/);
    expect(sessionIdOf('token')).not.toContain('token');
  });
});

describe('sign-in body', () => {
  it('tells key sign-ins from admin ones', () => {
    expect(parseSignIn({ pub_key: 'p', secret_key: 's' })).toEqual({ kind: 'key', publicKey: 'p', secretKey: 's' });
    expect(parseSignIn({ password: 'pw' })).toEqual({ kind: 'admin', password: 'pw', publicKey: null });
    expect(parseSignIn({ password: 'pw', pub_key: 'p' })).toEqual({ kind: 'admin', password: 'pw', publicKey: 'p' });
  });

  it.each([null, [], 'x', {}, { pub_key: 'p' }, { pub_key: 1, secret_key: 's' }, { pub_key: 'p', secret_key: 'x'.repeat(257) }, { password: 7 }])(
    'refuses %j',
    (body) => {
      expect(() => parseSignIn(body)).toThrow(/pub_key|secret_key|password/);
    },
  );
});

describe('files search parameters', () => {
  it('is null without any search parameter', () => {
    expect(parseFileSearchParams({ stored: 'true' })).toBeNull();
    expect(parseFileSearchParams({ search: '  ' })).toBeNull();
  });

  it('normalises types and dates', () => {
    expect(parseFileSearchParams({ search: ' cat ', mime_type: 'Image/*, application/pdf', to: '2026-01-02' })).toEqual({
      text: 'cat',
      tag: null,
      mimeTypes: ['image/*', 'application/pdf'],
      since: null,
      before: '2026-01-02T00:00:00.000Z',
    });
  });

  it.each([{ mime_type: 'image' }, { mime_type: '*/png' }, { to: 'soon' }, { tag: 'a,b' }, { search: 'x'.repeat(201) }, { mime_type: Array(21).fill('a/b').join(',') }])('refuses %j', (query) => {
    expect(() => parseFileSearchParams(query)).toThrow();
  });
});

describe('project settings body', () => {
  it('maps REST names to settings, and empties an empty type list', () => {
    expect(parseProjectPatch({ name: ' New ', autostore_enabled: false, signed_uploads: true, max_file_size: 10, allowed_mime_types: [] }, 100)).toEqual({
      name: 'New',
      autoStore: false,
      signedUploads: true,
      maxFileSize: 10,
      allowedMimeTypes: null,
    });
    expect(parseProjectPatch({ allowed_mime_types: ['image/*', 'image/*', '*/*'] }, 100)).toEqual({ allowedMimeTypes: ['image/*', '*/*'] });
  });

  it.each([{ max_file_size: 101 }, { max_file_size: 1.5 }, { max_file_size: '10' }, { name: 'x'.repeat(101) }, { signed_uploads: 1 }, { allowed_mime_types: [1] }, { other: 1 }])(
    'refuses %j',
    (body) => {
      expect(() => parseProjectPatch(body, 100)).toThrow();
    },
  );
});
