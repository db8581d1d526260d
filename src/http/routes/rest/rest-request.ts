import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { HttpContext } from '../../http-context.js';
import type { Project } from '../../../domain/project.js';
import { acceptsRestV07 } from '../../../domain/rest-auth.js';
import type { PublicBases } from '../../../domain/rest-file.js';
import { createAppError } from '../../../errors.js';
import { cdnBase, originOf } from '../../public-urls.js';
import { requireSession, sessionTokenOf } from '../dashboard/session-auth.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** The project a REST API call acts for, set by the authentication hook. */
    restProject?: Project;
    /** The body exactly as received: signed requests sign its MD5. */
    rawBody?: Buffer;
  }
}

export function projectOf(request: FastifyRequest): Project {
  const project = request.restProject;
  if (!project) throw createAppError('AUTH_REQUIRED', 401, 'Incorrect authentication credentials.');
  return project;
}

export function restBases(request: FastifyRequest, ctx: HttpContext): PublicBases {
  return { cdnBase: cdnBase(request, ctx.config), apiBase: `${originOf(request, ctx.config)}${ctx.config.http.restPrefix}` };
}

/**
 * Everything every REST route shares, registered inside the REST plugin's scope: body parsers that
 * keep the raw bytes, the API version check, authentication, per-project rate limits, and answers
 * typed exactly `application/json` (Uploadcare's SDK refuses anything else).
 */
export function registerRestPipeline(app: FastifyInstance, ctx: HttpContext): void {
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('application/json', { parseAs: 'buffer', bodyLimit: 1024 * 1024 }, (request, body: Buffer, done) => {
    request.rawBody = body;
    if (body.length === 0) return done(null, undefined);
    try {
      done(null, JSON.parse(body.toString('utf8')) as unknown);
    } catch {
      done(createAppError('JSON_INVALID', 400, 'Expected JSON object.'), undefined);
    }
  });
  app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'buffer', bodyLimit: 64 * 1024 }, (request, body: Buffer, done) => {
    request.rawBody = body;
    done(null, Object.fromEntries(new URLSearchParams(body.toString('utf8'))));
  });
  app.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: 64 * 1024 }, (request, body: Buffer, done) => {
    request.rawBody = body;
    done(null, undefined);
  });

  app.addHook('onRequest', async (request) => {
    if (!acceptsRestV07(request.headers.accept)) {
      throw createAppError(
        'ACCEPT_INVALID',
        406,
        'Incorrect Accept header provided. Make sure to specify API version. Refer to REST API docs for details.',
      );
    }
  });

  // Before the route schemas judge the request: who may ask comes first, and an anonymous caller
  // learns nothing from how its parameters are judged.
  app.addHook('preValidation', async (request) => {
    // The dashboard calls the REST API with its session cookie (and CSRF header) instead of keys.
    const bySession = request.headers.authorization === undefined && sessionTokenOf(request) !== null;
    request.restProject = bySession ? (await requireSession(request, ctx)).project : await authenticateByKeys(request, ctx);
    const kind = request.routeOptions.config?.rateLimit ?? (request.method === 'GET' || request.method === 'HEAD' ? 'rest-read' : 'rest-write');
    await ctx.services.rateLimits.check(request.restProject.id, kind);
  });

  app.addHook('preValidation', async (request) => {
    request.query = lastValues(request.query);
    // PostgreSQL text cannot hold NUL, and no name, value or key Trove keeps has one: refused here, for every route and engine alike.
    const withNul = nulPathOf(request.query, 'query') ?? nulPathOf(request.body, 'body');
    if (withNul !== null) {
      const problem = 'Contains a NUL character (\\u0000), which no parameter may hold.';
      // Field-keyed routes (search) name the top-level field, as their other refusals do.
      const fields = request.routeOptions.config?.fieldErrors ? { [withNul.field ?? 'non_field_errors']: [problem] } : undefined;
      throw createAppError('PARAMETER_INVALID', 400, `${withNul.path} contains a NUL character (\\u0000), which no parameter may hold.`, fields && { fields });
    }
    // Uploadcare reads a missing (or null) JSON object body as an empty one.
    if ((request.body === undefined || request.body === null) && expectsObjectBody(request.routeOptions.schema?.body)) request.body = {};
  });

  app.addHook('onSend', async (request, reply, payload) => {
    if (reply.statusCode !== 204 && request.routeOptions.config?.errorStyle === 'rest') void reply.header('content-type', 'application/json');
    return payload;
  });
}

/** A repeated query parameter counts by its last value, as Uploadcare's API reads it. */
function lastValues(query: unknown): Record<string, string | undefined> {
  const flat: Record<string, string | undefined> = {};
  for (const [key, value] of Object.entries(query as Record<string, string | string[] | undefined>)) flat[key] = Array.isArray(value) ? value.at(-1) : value;
  return flat;
}

function expectsObjectBody(schema: unknown): boolean {
  return typeof schema === 'object' && schema !== null && (schema as { type?: unknown }).type === 'object';
}

/** Uploadcare's schemes: `Uploadcare.Simple` or a signed request. */
function authenticateByKeys(request: FastifyRequest, ctx: HttpContext): Promise<Project> {
  const date = request.headers['x-uploadcare-date'] ?? request.headers.date;
  return ctx.services.apiAuth.authenticate({
    authorization: request.headers.authorization,
    date: Array.isArray(date) ? date[0] : date,
    method: request.method,
    body: request.rawBody ?? '',
    contentType: request.headers['content-type'] ?? '',
    uri: request.url,
  });
}

/**
 * Where in a parsed query or JSON body a NUL character is (`body.metadata.key`, and the top-level
 * field it is under), or null. A loop, not recursion: a body may nest deeply.
 */
function nulPathOf(root: unknown, rootPath: string): { path: string; field: string | null } | null {
  const pending: [unknown, string, string | null][] = [[root, rootPath, null]];
  for (let next = pending.pop(); next !== undefined; next = pending.pop()) {
    const [value, path, field] = next;
    if (typeof value === 'string') {
      if (value.includes('\u0000')) return { path, field };
    } else if (typeof value === 'object' && value !== null) {
      for (const [key, item] of Object.entries(value)) {
        // Deep paths stop growing, so a deeply nested body costs no more than its own size.
        const itemPath = path.length > 200 ? path : `${path}.${key.replaceAll('\u0000', '\\u0000')}`;
        if (key.includes('\u0000')) return { path: itemPath, field };
        pending.push([item, itemPath, field ?? key]);
      }
    }
  }
  return null;
}
