import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { HttpContext } from '../../http-context.js';
import type { StoredFile } from '../../../domain/file.js';
import { toRestFile } from '../../../domain/rest-file.js';
import type { BatchResult as FileBatch, FileListRequest } from '../../../services/file-management.service.js';
import { projectOf, restBases } from './rest-request.js';
import { cursorOf, fileSearchFilters, flagOf, limitOf, orderOf, restRoute } from './rest-params.js';
import {
  BatchBodySchema,
  BatchResultSchema,
  CopyResultSchema,
  DerivativesBodySchema,
  DerivativesQueuedSchema,
  FileInfoQuerySchema,
  FileListQuerySchema,
  FileListSchema,
  FileParamsSchema,
  LocalCopyBodySchema,
  RestFileSchema,
  TagsBodySchema,
  restBodyErrorResponses,
  restErrorResponses,
  type BatchResult,
  type FileList,
} from './schemas.js';

const BATCH_DESCRIPTION = 'JSON array of up to 100 uuids; unknown or invalid ones are reported in `problems`.';

/** `/files/…`: list, info, store, delete (single and batch), local copies. */
export function registerRestFiles(fastify: FastifyInstance, ctx: HttpContext): void {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  const files = () => ctx.services.files;

  app.get(
    '/files/',
    restRoute({
      operationId: 'listFiles',
      summary: 'List files',
      description:
        'Paginated by `from` (keyset); `stored`, `removed`, `ordering`, `limit` (1–1000); `include=appdata` is accepted and answers `appdata: null` (no add-on writes application data yet). Trove extensions: `search` (filename, metadata, tags), `tag`, `mime_type` (`image/*,application/pdf`), `since` and `to` (uploaded in [since, to)).',
      querystring: FileListQuerySchema,
      response: { 200: FileListSchema, ...restErrorResponses },
    }),
    async (request): Promise<FileList> => {
      const query = request.query;
      const filters = fileSearchFilters(query);
      const listRequest: FileListRequest = {
        ...(filters ? { filters } : {}),
        stored: flagOf(query.stored, null),
        removed: flagOf(query.removed, false) ?? false,
        order: orderOf(query.ordering),
        from: cursorOf(query.from),
        limit: limitOf(query.limit, 100),
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

  app.put(
    '/files/storage/',
    restRoute({
      operationId: 'storeFiles',
      summary: 'Store files (batch)',
      description: BATCH_DESCRIPTION,
      body: BatchBodySchema,
      response: { 200: BatchResultSchema, ...restBodyErrorResponses },
    }),
    async (request) => batchAnswer(request, ctx, await files().storeMany(projectOf(request), request.body)),
  );

  app.delete(
    '/files/storage/',
    restRoute({
      operationId: 'deleteFiles',
      summary: 'Delete files (batch)',
      description: BATCH_DESCRIPTION,
      body: BatchBodySchema,
      response: { 200: BatchResultSchema, ...restBodyErrorResponses },
    }),
    async (request) => batchAnswer(request, ctx, await files().removeMany(projectOf(request), request.body)),
  );

  app.post(
    '/files/local_copy/',
    restRoute({
      operationId: 'copyFile',
      summary: 'Copy a file',
      description: '`source`: a uuid or a CDN URL with operations (applied to the copy); `store`; `metadata`.',
      body: LocalCopyBodySchema,
      response: { 201: CopyResultSchema, ...restBodyErrorResponses },
    }),
    async (request, reply) => {
      const { source, store, metadata } = request.body;
      const copy = await files().localCopy(projectOf(request), source, store, metadata);
      return reply.code(201).send({ type: 'file', result: toRestFile(copy, restBases(request, ctx)) });
    },
  );

  app.post(
    '/files/:uuid/derivatives/',
    restRoute({
      operationId: 'computeDerivatives',
      summary: 'Compute derivatives ahead of time (Trove)',
      description: 'Body `{"operations": ["-/resize/200x/", "-/scale_crop/100x100/-/format/webp/"]}`: each is computed in the background at low priority. 202.',
      params: FileParamsSchema,
      body: DerivativesBodySchema,
      response: { 202: DerivativesQueuedSchema, ...restBodyErrorResponses },
    }),
    async (request, reply) => {
      const uuid = request.params.uuid.toLowerCase();
      const queued = await ctx.services.eager.request(projectOf(request), uuid, request.body.operations);
      const bases = restBases(request, ctx);
      return reply.code(202).send({ status: 'queued', derivatives: queued.map((path) => `${bases.cdnBase}/${uuid}/${path}`) });
    },
  );

  app.put(
    '/files/:uuid/tags/',
    restRoute({
      operationId: 'setFileTags',
      summary: 'Replace tags (Trove)',
      description: 'JSON array of up to 50 tags, 1–64 characters each, no commas. Answers the file.',
      params: FileParamsSchema,
      body: TagsBodySchema,
      response: { 200: RestFileSchema, ...restBodyErrorResponses },
    }),
    async (request) => toRestFile(await files().setTags(projectOf(request), request.params.uuid.toLowerCase(), request.body), restBases(request, ctx)),
  );

  app.get(
    '/files/:uuid/',
    restRoute({
      operationId: 'getFile',
      summary: 'File info',
      params: FileParamsSchema,
      querystring: FileInfoQuerySchema,
      response: { 200: RestFileSchema, ...restErrorResponses },
    }),
    async (request) => {
      const file = await files().info(projectOf(request), request.params.uuid.toLowerCase());
      return toRestFile(file, restBases(request, ctx), { appdata: request.query.include === 'appdata' });
    },
  );

  app.put(
    '/files/:uuid/storage/',
    restRoute({ operationId: 'storeFile', summary: 'Store a file', params: FileParamsSchema, response: { 200: RestFileSchema, ...restErrorResponses } }),
    async (request) => toRestFile(await files().store(projectOf(request), request.params.uuid.toLowerCase()), restBases(request, ctx)),
  );

  app.delete(
    '/files/:uuid/storage/',
    restRoute({
      operationId: 'deleteFile',
      summary: 'Delete a file',
      description: 'The file is marked removed at once; its bytes and derivatives are purged in the background.',
      params: FileParamsSchema,
      response: { 200: RestFileSchema, ...restErrorResponses },
    }),
    async (request) => toRestFile(await files().remove(projectOf(request), request.params.uuid.toLowerCase()), restBases(request, ctx)),
  );
}

function batchAnswer(request: FastifyRequest, ctx: HttpContext, batch: FileBatch): BatchResult {
  const bases = restBases(request, ctx);
  return { status: 'ok', problems: batch.problems, result: batch.result.map((file: StoredFile) => toRestFile(file, bases)) };
}
