import Fastify, { type FastifySchema } from 'fastify';
import { describe, expect, it } from 'vitest';
import { readCookie, sessionCookie, sessionIdOf } from '../../src/domain/dashboard-session.js';
import { SignInBodySchema, type SignInBody } from '../../src/http/routes/dashboard/schemas.js';
import { toSignIn } from '../../src/http/routes/dashboard/session.js';
import { toSettingsPatch } from '../../src/http/routes/rest/project.js';
import { fileSearchFilters } from '../../src/http/routes/rest/rest-params.js';
import { FileListQuerySchema, projectPatchBodySchema, type ProjectPatchBody } from '../../src/http/routes/rest/schemas.js';
import { refusalFor, SCHEMA_VALIDATION_OPTIONS, type SchemaIssue } from '../../src/http/schema-errors.js';

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

/**
 * Runs a body (POST) or query (GET) past a route schema the way Trove's server does: Fastify's Ajv
 * with Trove's options, the refusal worded by the schema. Answers what the route would have received,
 * or the refusal.
 */
async function judge(schema: FastifySchema, input: { body?: unknown; query?: string }): Promise<{ accepted: unknown } | { status: number; message: string }> {
  const app = Fastify({ ajv: SCHEMA_VALIDATION_OPTIONS });
  app.setErrorHandler(async (error: { validation?: unknown[]; validationContext?: string }, request, reply) => {
    const part = error.validationContext === 'querystring' ? 'query' : 'body';
    const refusal = refusalFor(part === 'query' ? schema.querystring : schema.body, error.validation?.[0] as SchemaIssue, request[part]);
    return reply.code(refusal?.status ?? 500).send(refusal ?? { status: 500, message: 'no refusal' });
  });
  app.route({ method: input.query === undefined ? 'POST' : 'GET', url: '/', schema, handler: async (request) => ({ accepted: input.query === undefined ? request.body : request.query }) });
  const response = await app.inject({
    method: input.query === undefined ? 'POST' : 'GET',
    url: input.query === undefined ? '/' : `/?${input.query}`,
    ...(input.query === undefined ? { payload: JSON.stringify(input.body), headers: { 'content-type': 'application/json' } } : {}),
  });
  await app.close();
  return response.json();
}

async function accepted<T>(schema: FastifySchema, input: { body?: unknown; query?: string }): Promise<T> {
  const answer = await judge(schema, input);
  if (!('accepted' in answer)) throw new Error(`refused: ${answer.message}`);
  return answer.accepted as T;
}

describe('sign-in body', () => {
  const signIn = async (body: unknown) => toSignIn(await accepted<SignInBody>({ body: SignInBodySchema }, { body }));

  it('tells key sign-ins from admin ones', async () => {
    expect(await signIn({ pub_key: 'p', secret_key: 's' })).toEqual({ kind: 'key', publicKey: 'p', secretKey: 's' });
    expect(await signIn({ password: 'pw' })).toEqual({ kind: 'admin', password: 'pw', publicKey: null });
    expect(await signIn({ password: 'pw', pub_key: 'p' })).toEqual({ kind: 'admin', password: 'pw', publicKey: 'p' });
    expect(await signIn({ password: 'pw', pub_key: '' })).toEqual({ kind: 'admin', password: 'pw', publicKey: null });
  });

  it.each([null, [], 'x', {}, { pub_key: 'p' }, { pub_key: 1, secret_key: 's' }, { pub_key: 'p', secret_key: 'x'.repeat(257) }, { password: 7 }, { pub_key: '', secret_key: 's' }])(
    'refuses %j',
    async (body) => {
      await expect(signIn(body)).rejects.toThrow(/pub_key|secret_key|password/);
    },
  );

  it('words each refusal as the field’s rule', async () => {
    expect(await judge({ body: SignInBodySchema }, { body: { password: '' } })).toEqual({ status: 400, message: '`password` must be a non-empty string of at most 1024 characters.' });
    expect(await judge({ body: SignInBodySchema }, { body: ['x'] })).toEqual({ status: 400, message: 'Expected a JSON object: {"pub_key", "secret_key"} or {"password"}.' });
  });
});

describe('files search parameters', () => {
  const filters = async (query: string) => fileSearchFilters(await accepted({ querystring: FileListQuerySchema }, { query }));

  it('is null without any search parameter', async () => {
    expect(await filters('stored=true')).toBeNull();
    expect(await filters('search=%20%20')).toBeNull();
  });

  it('normalises types and dates', async () => {
    expect(await filters(`search=${encodeURIComponent(' cat ')}&mime_type=${encodeURIComponent('Image/*, application/pdf')}&to=2026-01-02`)).toEqual({
      text: 'cat',
      tag: null,
      mimeTypes: ['image/*', 'application/pdf'],
      since: null,
      before: '2026-01-02T00:00:00.000Z',
    });
  });

  it.each([
    ['mime_type=image', '`mime_type`'],
    ['mime_type=*/png', '`mime_type`'],
    [`mime_type=${Array(21).fill('a/b').join(',')}`, '`mime_type`'],
    ['mime_type=image/*image/png', '`mime_type`'],
    ['to=soon', '`to`'],
    ['tag=a,b', '`tag`'],
    [`search=${'x'.repeat(201)}`, '`search`'],
    ['limit=1001', '`limit`'],
    ['ordering=size', '`ordering`'],
    ['stored=maybe', '`stored`'],
  ])('refuses %s, naming the parameter', async (query, name) => {
    const answer = await judge({ querystring: FileListQuerySchema }, { query });
    expect(answer).toMatchObject({ status: 400 });
    expect((answer as { message: string }).message).toContain(name);
  });

  it('accepts up to 20 types, space around a tag, 200 characters of search once trimmed', async () => {
    expect((await filters(`mime_type=${Array(20).fill('a/b').join(',')}`))?.mimeTypes).toHaveLength(20);
    expect((await filters(`tag=${encodeURIComponent('  good boy ')}`))?.tag).toBe('good boy');
    expect((await filters(`search=${encodeURIComponent(` ${'x'.repeat(200)} `)}`))?.text).toHaveLength(200);
  });
});

describe('project settings body', () => {
  const schema = { body: projectPatchBodySchema(100) };
  const patch = async (body: unknown) => toSettingsPatch(await accepted<ProjectPatchBody>(schema, { body }));

  it('maps REST names to settings, and empties an empty type list', async () => {
    expect(await patch({ name: ' New ', autostore_enabled: false, signed_uploads: true, max_file_size: 10, allowed_mime_types: [] })).toEqual({
      name: 'New',
      autoStore: false,
      signedUploads: true,
      maxFileSize: 10,
      allowedMimeTypes: null,
    });
    expect(await patch({ allowed_mime_types: ['image/*', 'image/*', '*/*'] })).toEqual({ allowedMimeTypes: ['image/*', '*/*'] });
  });

  it.each([{ max_file_size: 101 }, { max_file_size: 1.5 }, { max_file_size: '10' }, { name: 'x'.repeat(101) }, { name: '   ' }, { signed_uploads: 1 }, { allowed_mime_types: [1] }, { other: 1 }])(
    'refuses %j',
    async (body) => {
      expect(await judge(schema, { body })).toMatchObject({ status: 400 });
    },
  );

  it('names the unknown settings (ten at most), and the server limit', async () => {
    expect(await judge(schema, { body: { owner: 'me', colour: 'red' } })).toEqual({
      status: 400,
      message: 'Unknown setting `owner`, `colour`; settable: name, autostore_enabled, signed_uploads, max_file_size, allowed_mime_types, scan_on_upload, purge_infected.',
    });
    // A body of thousands of unknown keys is not echoed back: ten are named.
    const many = Object.fromEntries(Array.from({ length: 5000 }, (_, i) => [`k${i}`, i]));
    expect(await judge(schema, { body: many })).toEqual({
      status: 400,
      message: `Unknown setting ${Array.from({ length: 10 }, (_, i) => `\`k${i}\``).join(', ')} and 4990 more; settable: name, autostore_enabled, signed_uploads, max_file_size, allowed_mime_types, scan_on_upload, purge_infected.`,
    });
    expect(await judge(schema, { body: { max_file_size: 101 } })).toEqual({
      status: 400,
      message: "`max_file_size` must be null or a whole number of bytes from 1 to 100 (the server's limit).",
    });
  });
});
