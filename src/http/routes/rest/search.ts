import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import type { HttpContext } from '../../http-context.js';
import type { SearchHighlight } from '../../../domain/file-search.js';
import { toRestFile } from '../../../domain/rest-file.js';
import { projectOf, restBases } from './rest-request.js';
import { restRoute } from './rest-params.js';
import {
  FileSearchBodySchema,
  FileSearchPageSchema,
  FileSearchQuerySchema,
  searchErrorResponses,
  type FileSearchPage,
  type FileSearchResult,
} from './search-schemas.js';

const DESCRIPTION = [
  'Uploadcare’s file search over the project’s live files (stored and temporary). Conditions in the body combine with AND: `query` (full-text across filename, metadata values and MIME type, at least 4 characters; also a uuid), `phrase` (per field), `exact` (uuid, detected_mime_type, original_filename, `metadata[<key>]`), `datetime_uploaded` and `size` ranges, `is_image`, `tags` (`any`, `all`, `none`); `fuzziness` tolerates typos; `sort` takes 1–4 keys (`score`, `datetime_uploaded`, `size`, `original_filename`, `-` for descending).',
  'Paged by `limit` (1–100, default 20) and `offset`, with `offset + limit < 1000`. Each result carries `highlight`: the matched words of each field that matched a full-text condition, in `<em>…</em>`.',
  'A refusal names its fields: `{"query": ["Must be at least 4 characters."]}`. When the database cannot tolerate typos (PostgreSQL without pg_trgm), `fuzziness: true` matches exactly and the answer carries `X-Trove-Fuzziness: unavailable`.',
  'Trove extensions in the query string: `stored` (`true`/`false`) and `mime_type` (`image/*,application/pdf`).',
].join(' ');

function restHighlight(highlight: SearchHighlight): NonNullable<FileSearchResult['highlight']> {
  return {
    ...(highlight.originalFilename ? { original_filename: highlight.originalFilename } : {}),
    ...(highlight.detectedMimeType ? { detected_mime_type: highlight.detectedMimeType } : {}),
    ...(highlight.metadata ? { metadata: highlight.metadata } : {}),
  };
}

/** `POST /files/search/`. */
export function registerRestSearch(fastify: FastifyInstance, ctx: HttpContext): void {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  const route = restRoute({
    operationId: 'searchFiles',
    summary: 'Search files',
    description: DESCRIPTION,
    querystring: FileSearchQuerySchema,
    body: FileSearchBodySchema,
    response: { 200: FileSearchPageSchema, ...searchErrorResponses },
  });

  app.post(
    '/files/search/',
    // A search reads: it spends the read budget, and its refusals are keyed by field, as Uploadcare's are.
    { ...route, config: { ...route.config, fieldErrors: true, rateLimit: 'rest-read' as const } },
    async (request, reply): Promise<FileSearchPage> => {
      const query = request.query;
      const project = projectOf(request);
      const answer = await ctx.services.search.search(project, request.body, query);
      if (answer.fuzzinessUnavailable) void reply.header('x-trove-fuzziness', 'unavailable');
      const bases = restBases(request, ctx);
      const appdata = answer.paging.appdata;
      const shown = appdata ? await ctx.services.analysis.withAnalysis(project.id, answer.hits.map((hit) => hit.file)) : answer.hits.map((hit) => hit.file);
      const link = (page: { limit: number; offset: number } | null): string | null => {
        if (!page) return null;
        const params = new URLSearchParams({ limit: String(page.limit), offset: String(page.offset) });
        if (appdata) params.set('include', 'appdata');
        for (const name of ['stored', 'mime_type'] as const) {
          const value = query[name];
          if (value) params.set(name, value);
        }
        return `${bases.apiBase}/files/search/?${params.toString()}`;
      };
      return {
        next: link(answer.next),
        previous: link(answer.previous),
        total: answer.total,
        per_page: answer.paging.limit,
        results: answer.hits.map(({ file, highlight }, i) => ({
          ...toRestFile(shown[i] ?? file, bases, { appdata }),
          ...(highlight ? { highlight: restHighlight(highlight) } : {}),
        })),
      };
    },
  );
}
