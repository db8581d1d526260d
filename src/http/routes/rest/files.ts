import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { AppContext } from '../../../context.js';
import { isUuid } from '../../../domain/file.js';
import { toRestFile } from '../../../domain/rest-file.js';
import { createAppError } from '../../../errors.js';
import type { FileListRequest } from '../../../services/file-management.service.js';
import { projectOf, restBases } from './rest-request.js';
import { parseBooleanParam, parseFileSearchParams, parseFromParam, parseLimitParam, parseOrderingParam, queryOf, restRoute } from './rest-params.js';

/** `/files/…`: list, info, store, delete (single and batch), local copies. */
export function registerRestFiles(app: FastifyInstance, ctx: AppContext): void {
  const files = () => ctx.services.files;

  app.get(
    '/files/',
    restRoute(
      'List files',
      'Paginated by `from` (keyset); `stored`, `removed`, `ordering`, `limit` (1–1000); `include=appdata` is accepted and answers `appdata: null` (no add-on writes application data yet). Trove extensions: `search` (filename, metadata, tags), `tag`, `mime_type` (`image/*,application/pdf`), `since` and `to` (uploaded in [since, to)).',
    ),
    async (request) => {
      const query = queryOf(request);
      const filters = parseFileSearchParams(query);
      const listRequest: FileListRequest = {
        ...(filters ? { filters } : {}),
        stored: parseBooleanParam(query.stored, 'stored', null),
        removed: parseBooleanParam(query.removed, 'removed', false) ?? false,
        order: parseOrderingParam(query.ordering, 'datetime_uploaded'),
        from: parseFromParam(query.from),
        limit: parseLimitParam(query.limit),
      };
      const page = await files().list(projectOf(request), listRequest);
      const bases = restBases(request, ctx);
      const appdata = query.include === 'appdata';
      let next: string | null = null;
      if (page.next) {
        const params = new URLSearchParams();
        params.set('limit', String(listRequest.limit));
        params.set('ordering', listRequest.order === 'desc' ? '-datetime_uploaded' : 'datetime_uploaded');
        if (listRequest.stored !== null) params.set('stored', String(listRequest.stored));
        if (listRequest.removed) params.set('removed', 'true');
        if (appdata) params.set('include', 'appdata');
        for (const name of ['search', 'tag', 'mime_type', 'since', 'to'] as const) {
          const value = query[name];
          if (value) params.set(name, value);
        }
        // The position travels in `from` alone: SDK paginators keep only `from`, `limit` and the filters of a `next` URL.
        params.set('from', `${page.next.datetime}~${page.next.uuid}`);
        next = `${bases.apiBase}/files/?${params.toString()}`;
      }
      return {
        next,
        previous: null,
        total: page.total,
        totals: page.totals,
        per_page: listRequest.limit,
        results: page.files.map((file) => toRestFile(file, bases, { appdata })),
      };
    },
  );

  app.put('/files/storage/', restRoute('Store files (batch)', 'JSON array of up to 100 uuids; unknown or invalid ones are reported in `problems`.'), async (request) => {
    const result = await files().storeMany(projectOf(request), request.body);
    return batchAnswer(request, ctx, result);
  });

  app.delete('/files/storage/', restRoute('Delete files (batch)', 'JSON array of up to 100 uuids; unknown or invalid ones are reported in `problems`.'), async (request) => {
    const result = await files().removeMany(projectOf(request), request.body);
    return batchAnswer(request, ctx, result);
  });

  app.post('/files/local_copy/', restRoute('Copy a file', '`source`: a uuid or a CDN URL with operations (applied to the copy); `store`; `metadata`.'), async (request, reply) => {
    const body = bodyObject(request.body);
    const copy = await files().localCopy(projectOf(request), body.source, body.store, body.metadata);
    return reply.code(201).send({ type: 'file', result: toRestFile(copy, restBases(request, ctx)) });
  });

  app.post(
    '/files/:uuid/derivatives/',
    restRoute('Compute derivatives ahead of time (Trove)', 'Body `{"operations": ["-/resize/200x/", "-/scale_crop/100x100/-/format/webp/"]}`: each is computed in the background at low priority. 202.'),
    async (request, reply) => {
      const queued = await ctx.services.eager.request(projectOf(request), uuidParam(request), bodyObject(request.body).operations);
      const bases = restBases(request, ctx);
      const uuid = uuidParam(request);
      return reply.code(202).send({ status: 'queued', derivatives: queued.map((path) => `${bases.cdnBase}/${uuid}/${path}`) });
    },
  );

  app.put('/files/:uuid/tags/', restRoute('Replace tags (Trove)', 'JSON array of up to 50 tags, 1–64 characters each, no commas. Answers the file.'), async (request) => {
    return toRestFile(await files().setTags(projectOf(request), uuidParam(request), request.body), restBases(request, ctx));
  });

  app.get('/files/:uuid/', restRoute('File info'), async (request) => {
    const file = await files().info(projectOf(request), uuidParam(request));
    return toRestFile(file, restBases(request, ctx), { appdata: queryOf(request).include === 'appdata' });
  });

  app.put('/files/:uuid/storage/', restRoute('Store a file'), async (request) => {
    return toRestFile(await files().store(projectOf(request), uuidParam(request)), restBases(request, ctx));
  });

  app.delete('/files/:uuid/storage/', restRoute('Delete a file', 'The file is marked removed at once; its bytes and derivatives are purged in the background.'), async (request) => {
    return toRestFile(await files().remove(projectOf(request), uuidParam(request)), restBases(request, ctx));
  });
}

function batchAnswer(request: FastifyRequest, ctx: AppContext, result: { problems: Record<string, string>; result: import('../../../domain/file.js').StoredFile[] }) {
  const bases = restBases(request, ctx);
  return { status: 'ok', problems: result.problems, result: result.result.map((file) => toRestFile(file, bases)) };
}

export function uuidParam(request: FastifyRequest): string {
  const uuid = (request.params as { uuid?: string }).uuid ?? '';
  if (!isUuid(uuid.toLowerCase())) throw createAppError('NOT_FOUND', 404, 'Not found.');
  return uuid.toLowerCase();
}

export function bodyObject(body: unknown): Record<string, unknown> {
  if (body === undefined || body === null) return {};
  if (typeof body !== 'object' || Array.isArray(body)) throw createAppError('JSON_INVALID', 400, 'Expected JSON object.');
  return body as Record<string, unknown>;
}
