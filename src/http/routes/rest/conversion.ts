import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import { createAppError } from '../../../errors.js';
import type { HttpContext } from '../../http-context.js';
import { cursorOf, limitOf, restRoute } from './rest-params.js';
import { projectOf, restBases } from './rest-request.js';
import {
  ErrorDetailSchema,
  restBodyErrorResponses,
  restErrorResponses,
  VideoConversionListQuerySchema,
  VideoConversionListSchema,
  VideoConversionSchema,
  VideoConversionStatusSchema,
  VideoConvertBodySchema,
  type VideoConversionList,
} from './schemas.js';

const TokenParamsSchema = Type.Object({ token: Type.String({ maxLength: 200 }) });
const UuidParamsSchema = Type.Object({ uuid: Type.String({ maxLength: 200 }) });

function noDocuments(): never {
  throw createAppError('CONVERSION_UNAVAILABLE', 403, 'Document conversion is not available on this server.');
}

/**
 * Uploadcare's conversion endpoints. Video conversions run as background jobs on ffmpeg. Document
 * conversion is refused by name: an SDK's `convert` then fails with a sentence that says what is
 * missing, not with a 404 that reads as a typo; those routes stay out of the OpenAPI document.
 */
export function registerRestConversion(fastify: FastifyInstance, ctx: HttpContext): void {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  const videos = () => ctx.services.videos;

  app.post(
    '/convert/video/',
    restRoute({
      operationId: 'convertVideo',
      summary: 'Convert videos',
      description:
        'Uploadcare\'s video processing: each path (`<uuid>/video/-/format/mp4/-/size/640x/-/quality/normal/-/cut/0:0:10/000:00:20/-/thumbs~8/`) becomes a background job with a `token`, and the names of its results (`uuid`, `thumbnails_group_uuid`) are given at once. A path Trove cannot convert is answered in `problems`. The same request again answers with the same token and results. Without ffmpeg on the server: 503.',
      body: VideoConvertBodySchema,
      response: { 200: VideoConversionSchema, ...restBodyErrorResponses, 503: ErrorDetailSchema },
    }),
    async (request) => videos().convert(projectOf(request), request.body),
  );

  app.get(
    '/convert/video/',
    restRoute({
      operationId: 'listVideoConversions',
      summary: 'List video conversions',
      description:
        'A Trove extension (Uploadcare lists no conversions): the project\'s video conversions, newest first, each with its status, progress, path and results. `source`: only those of this file (another project\'s file matches none: an empty list); absent, all of them. Paginated by `from` (keyset, in `next`); `limit` (1–1000, default 100).',
      querystring: VideoConversionListQuerySchema,
      response: { 200: VideoConversionListSchema, ...restErrorResponses },
    }),
    async (request): Promise<VideoConversionList> => {
      const { query } = request;
      const limit = limitOf(query.limit, 100);
      const from = cursorOf(query.from);
      const sourceUuid = query.source ? query.source.toLowerCase() : null;
      const page = await videos().list(projectOf(request), { sourceUuid, before: from && { datetime: from.datetime, token: from.uuid }, limit });
      let next: string | null = null;
      if (page.next) {
        const params = new URLSearchParams({ limit: String(limit) });
        if (sourceUuid) params.set('source', sourceUuid);
        params.set('from', `${page.next.datetime}~${page.next.token}`);
        next = `${restBases(request, ctx).apiBase}/convert/video/?${params.toString()}`;
      }
      return { next, previous: null, total: page.total, per_page: limit, results: page.conversions };
    },
  );

  app.get(
    '/convert/video/status/:token/',
    restRoute({
      operationId: 'getVideoConversionStatus',
      summary: 'Video conversion status',
      description: '`pending`, `processing`, `finished` (the results exist), `failed` (`error` says why) or `cancelled`.',
      params: TokenParamsSchema,
      response: { 200: VideoConversionStatusSchema, ...restErrorResponses },
    }),
    async (request) => videos().status(projectOf(request), request.params.token),
  );

  app.delete(
    '/convert/video/:token/',
    restRoute({
      operationId: 'cancelVideoConversion',
      summary: 'Cancel a video conversion',
      description:
        'A Trove addition (Uploadcare has no cancel): a `pending` conversion never starts, a `processing` one has its ffmpeg stopped within about a second, and the status becomes `cancelled`. Answers the status; 409 `CONVERSION_ENDED` when it has already finished or failed. The same conversion request made again starts it anew.',
      params: TokenParamsSchema,
      response: { 200: VideoConversionStatusSchema, ...restErrorResponses, 409: ErrorDetailSchema },
    }),
    async (request) => videos().cancel(projectOf(request), request.params.token),
  );

  const refusal = { 403: ErrorDetailSchema };
  app.post(
    '/convert/document/',
    restRoute({
      hide: true,
      operationId: 'convertDocument',
      summary: 'Convert documents (not available)',
      description: "Uploadcare's document conversion: answers 403, not available on this server.",
      response: { ...refusal, ...restBodyErrorResponses },
    }),
    async () => noDocuments(),
  );
  app.get(
    '/convert/document/status/:token/',
    restRoute({
      hide: true,
      operationId: 'documentConversionStatus',
      summary: 'Document conversion status (not available)',
      params: TokenParamsSchema,
      response: { ...refusal, ...restErrorResponses },
    }),
    async () => noDocuments(),
  );
  app.get(
    '/convert/document/:uuid/',
    restRoute({
      hide: true,
      operationId: 'documentConversionInfo',
      summary: 'Document formats (not available)',
      params: UuidParamsSchema,
      response: { ...refusal, ...restErrorResponses },
    }),
    async () => noDocuments(),
  );
}
