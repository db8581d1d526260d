import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { HttpContext } from '../../http-context.js';
import type { StoredFile } from '../../../domain/file.js';
import { createAppError } from '../../../errors.js';
import { toRestFile } from '../../../domain/rest-file.js';
import { TAG_LIMITS } from '../../../domain/tags.js';
import type { BatchResult as FileBatch, FileListRequest } from '../../../services/file-management.service.js';
import { projectOf, restBases } from './rest-request.js';
import { cursorOf, fileSearchFilters, flagOf, limitOf, orderOf, restRoute, similarCursorOf } from './rest-params.js';
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
  RemoteCopyBodySchema,
  RemoteCopyResultSchema,
  ErrorDetailSchema,
  RestFileSchema,
  FileTagsSchema,
  TagChangeSchema,
  TagsReplaceBodySchema,
  TagsUpdateBodySchema,
  restBodyErrorResponses,
  restErrorResponses,
  type BatchResult,
  type FileList,
  type FileListQuery,
} from './schemas.js';

/** Parameters of `GET /files/` that `similar_to` does not combine with: its order is by distance. */
const NOT_WITH_SIMILAR = ['search', 'tag', 'mime_type', 'since', 'to', 'ordering'] as const;

/** `GET /files/?similar_to=<uuid>` (Trove extension): the project's images within `distance`, nearest first. */
async function similarFiles(query: FileListQuery, request: FastifyRequest, ctx: HttpContext): Promise<FileList> {
  for (const name of NOT_WITH_SIMILAR) {
    if (query[name]) throw createAppError('PARAMETER_INVALID', 400, `\`${name}\` cannot be combined with \`similar_to\`: similar files are ordered by distance.`);
  }
  if (flagOf(query.removed, false)) throw createAppError('PARAMETER_INVALID', 400, '`removed=true` cannot be combined with `similar_to`: removed files have no analysis.');
  const project = projectOf(request);
  const limit = limitOf(query.limit, 100);
  const stored = flagOf(query.stored, null);
  const page = await ctx.services.analysis.similar(project, {
    uuid: query.similar_to ?? '',
    distance: query.distance ? Number(query.distance) : null,
    stored,
    after: similarCursorOf(query.from),
    limit,
  });
  const bases = restBases(request, ctx);
  const appdata = query.include === 'appdata';
  let next: string | null = null;
  if (page.next) {
    const params = new URLSearchParams({ similar_to: (query.similar_to ?? '').toLowerCase(), distance: String(page.distance), limit: String(limit) });
    if (stored !== null) params.set('stored', String(stored));
    if (appdata) params.set('include', 'appdata');
    params.set('from', `${page.next.distance}~${page.next.fileUuid}`);
    next = `${bases.apiBase}/files/?${params.toString()}`;
  }
  return {
    next,
    previous: null,
    total: page.total,
    totals: page.totals,
    per_page: limit,
    results: (appdata ? await ctx.services.analysis.withAnalysis(project.id, page.files) : page.files).map((file) => toRestFile(file, bases, { appdata })),
  };
}

const BATCH_DESCRIPTION = 'JSON array of up to 100 uuids; unknown or invalid ones are reported in `problems`.';

/** `/files/…`: list, info, store, delete (single and batch), local and remote copies. */
export function registerRestFiles(fastify: FastifyInstance, ctx: HttpContext): void {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  const files = () => ctx.services.files;

  app.get(
    '/files/',
    restRoute({
      operationId: 'listFiles',
      summary: 'List files',
      description:
        'Paginated by `from` (keyset); `stored`, `removed`, `ordering`, `limit` (1–1000); `include=appdata` adds each file’s application data (what add-ons wrote; `{}` when none). Trove extensions: `search` (filename, metadata, tags), `tag`, `mime_type` (`image/*,application/pdf`), `since` and `to` (uploaded in [since, to)); `similar_to=<uuid>` and `distance` (0–12, default 6): the project’s live images whose perceptual hash is within `distance` bits of that image’s, itself excluded, nearest first (ties by uuid), with `stored`, `limit`, `include` and the `next` cursor `<distance>~<uuid>`; 409 `IMAGE_ANALYSIS_PENDING` while the image has no analysis yet, 404 for a file not in the project.',
      querystring: FileListQuerySchema,
      response: { 200: FileListSchema, ...restErrorResponses },
    }),
    async (request): Promise<FileList> => {
      const query = request.query;
      if (query.similar_to) return similarFiles(request.query, request, ctx);
      if (query.distance) throw createAppError('PARAMETER_INVALID', 400, '`distance` applies only with `similar_to`.');
      const filters = fileSearchFilters(query);
      const listRequest: FileListRequest = {
        ...(filters ? { filters } : {}),
        stored: flagOf(query.stored, null),
        removed: flagOf(query.removed, false) ?? false,
        order: orderOf(query.ordering),
        from: cursorOf(query.from),
        limit: limitOf(query.limit, 100),
      };
      const project = projectOf(request);
      const page = await files().list(project, listRequest);
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
        results: (appdata ? await ctx.services.analysis.withAnalysis(project.id, page.files) : page.files).map((file) => toRestFile(file, bases, { appdata })),
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
    '/files/remote_copy/',
    restRoute({
      operationId: 'copyFileToRemoteStorage',
      summary: 'Copy a file to a storage',
      description:
        '`source`: a uuid or a CDN URL with operations (the derivative is copied); `target`: the name of a storage of the project (`/project/storages/`); ' +
        '`make_public` (default true: `public-read` ACL); `pattern` (default: the storage’s, `${default}`). ' +
        '201 `{"type": "url", "result": "s3://<bucket>/<key>"}`; 200 with the same when an object already has that key (it is left as it is).',
      body: RemoteCopyBodySchema,
      response: {
        200: RemoteCopyResultSchema,
        201: RemoteCopyResultSchema,
        ...restBodyErrorResponses,
        409: ErrorDetailSchema,
        501: ErrorDetailSchema,
        502: ErrorDetailSchema,
      },
    }),
    async (request, reply) => {
      const copy = await ctx.services.remoteCopy.copy(projectOf(request), request.body);
      return reply.code(copy.created ? 201 : 200).send({ type: 'url', result: copy.url });
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

  const TAG_RULES = `Tags are lowercased and trimmed; empty ones and repeats are dropped (the first kept, order kept). Each is at most ${TAG_LIMITS.maxLength} Latin letters, digits, \`-\`, \`_\` or \`.\`; a file has at most ${TAG_LIMITS.maxTags}.`;
  const TAG_CHANGE_ANSWER = 'Answers `{"tags", "added", "deleted"}`: the resulting list in storage order, and what this request added and deleted (each sorted alphabetically). Nothing is written when nothing changes.';

  app.get(
    '/files/:uuid/tags/',
    restRoute({
      operationId: 'getFileTags',
      summary: 'Get tags',
      description: 'Answers `{"tags": [...]}`: the file\'s tags in storage order.',
      params: FileParamsSchema,
      response: { 200: FileTagsSchema, ...restErrorResponses },
    }),
    async (request) => ({ tags: await files().getTags(projectOf(request), request.params.uuid.toLowerCase()) }),
  );

  app.put(
    '/files/:uuid/tags/',
    restRoute({
      operationId: 'replaceFileTags',
      summary: 'Replace tags',
      description: `Body \`{"tags": [...]}\` replaces the whole list; \`[]\` clears it (Trove also reads a bare JSON array as the list). ${TAG_RULES} ${TAG_CHANGE_ANSWER}`,
      params: FileParamsSchema,
      body: TagsReplaceBodySchema,
      response: { 200: TagChangeSchema, ...restBodyErrorResponses },
    }),
    async (request) => {
      const body = request.body;
      return files().replaceTags(projectOf(request), request.params.uuid.toLowerCase(), Array.isArray(body) ? body : body.tags);
    },
  );

  app.patch(
    '/files/:uuid/tags/',
    restRoute({
      operationId: 'updateFileTags',
      summary: 'Add and delete tags',
      description: `Body \`{"add": [...], "delete": [...]}\` (both optional): \`delete\` is applied first, then \`add\`; adding a tag already there or deleting an absent one does nothing. ${TAG_RULES} ${TAG_CHANGE_ANSWER}`,
      params: FileParamsSchema,
      body: TagsUpdateBodySchema,
      response: { 200: TagChangeSchema, ...restBodyErrorResponses },
    }),
    async (request) =>
      files().updateTags(projectOf(request), request.params.uuid.toLowerCase(), { add: request.body.add ?? [], remove: request.body.delete ?? [] }),
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
      const project = projectOf(request);
      const file = await files().info(project, request.params.uuid.toLowerCase());
      const appdata = request.query.include === 'appdata';
      const [shown = file] = appdata ? await ctx.services.analysis.withAnalysis(project.id, [file]) : [file];
      return toRestFile(shown, restBases(request, ctx), { appdata });
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
