import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import type { HttpContext } from '../../http-context.js';
import { cursorOf, limitOf, restRoute } from './rest-params.js';
import { projectOf, restBases } from './rest-request.js';
import {
  DocumentConversionSchema,
  DocumentConversionStatusSchema,
  DocumentConvertBodySchema,
  DocumentInfoSchema,
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

/** Uploadcare's conversion endpoints: video conversions on ffmpeg, document conversions on pdfium and LibreOffice, both as background jobs. */
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

  const documents = () => ctx.services.documents;
  app.post(
    '/convert/document/',
    restRoute({
      operationId: 'convertDocument',
      summary: 'Convert documents',
      description:
        'Uploadcare\'s document conversion: each path (`<uuid>/document/-/format/png/-/page/2/`) becomes a background job with a `token`, and the result\'s `uuid` is given at once. PDFs are drawn by pdfium (png, jpg); Office files (DOCX, XLSX, PPTX, ODT, …) go through LibreOffice (pdf, png, jpg). With `save_in_group` and an image format without `page`, every page becomes a file of one group. A path Trove cannot convert is answered in `problems`; the same request again answers with the same token.',
      body: DocumentConvertBodySchema,
      response: { 200: DocumentConversionSchema, ...restBodyErrorResponses },
    }),
    async (request) => documents().convert(projectOf(request), request.body),
  );
  app.get(
    '/convert/document/status/:token/',
    restRoute({
      operationId: 'getDocumentConversionStatus',
      summary: 'Document conversion status',
      description: '`pending`, `processing`, `finished` (the result exists), `failed` (`error` says why) or `cancelled`.',
      params: TokenParamsSchema,
      response: { 200: DocumentConversionStatusSchema, ...restErrorResponses },
    }),
    async (request) => documents().status(projectOf(request), request.params.token),
  );
  app.get(
    '/convert/document/:uuid/',
    restRoute({
      operationId: 'getDocumentConversionInfo',
      summary: 'Document formats',
      description: 'The file\'s format, the formats Trove converts it to here (none for a file that is not a document), and the groups of pages made from it by format.',
      params: UuidParamsSchema,
      response: { 200: DocumentInfoSchema, ...restErrorResponses },
    }),
    async (request) => documents().info(projectOf(request), request.params.uuid),
  );
}
