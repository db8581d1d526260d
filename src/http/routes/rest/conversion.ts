import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import { createAppError } from '../../../errors.js';
import { restRoute } from './rest-params.js';
import { ErrorDetailSchema, restBodyErrorResponses, restErrorResponses } from './schemas.js';

const KINDS = { document: 'Document', video: 'Video' } as const;

const TokenParamsSchema = Type.Object({ token: Type.String({ maxLength: 200 }) });
const UuidParamsSchema = Type.Object({ uuid: Type.String({ maxLength: 200 }) });

function unavailable(kind: keyof typeof KINDS): never {
  throw createAppError('CONVERSION_UNAVAILABLE', 403, `${KINDS[kind]} conversion is not available on this server.`);
}

/**
 * Uploadcare's conversion endpoints, refused by name: an SDK's `convert` or `conversionJobStatus`
 * then fails with a sentence that says what is missing, not with a 404 that reads as a typo. They
 * stay out of the OpenAPI document (and so out of the typed client): there is nothing to call.
 */
export function registerRestConversion(app: FastifyInstance): void {
  const refusal = { 403: ErrorDetailSchema };
  for (const kind of Object.keys(KINDS) as (keyof typeof KINDS)[]) {
    app.post(
      `/convert/${kind}/`,
      restRoute({
        hide: true,
        operationId: `convert${KINDS[kind]}`,
        summary: `Convert ${kind}s (not available)`,
        description: `Uploadcare's ${kind} conversion: answers 403, not available on this server.`,
        response: { ...refusal, ...restBodyErrorResponses },
      }),
      async () => unavailable(kind),
    );
    app.get(
      `/convert/${kind}/status/:token/`,
      restRoute({
        hide: true,
        operationId: `${kind}ConversionStatus`,
        summary: `${KINDS[kind]} conversion status (not available)`,
        params: TokenParamsSchema,
        response: { ...refusal, ...restErrorResponses },
      }),
      async () => unavailable(kind),
    );
  }
  app.get(
    '/convert/document/:uuid/',
    restRoute({
      hide: true,
      operationId: 'documentConversionInfo',
      summary: 'Document formats (not available)',
      params: UuidParamsSchema,
      response: { ...refusal, ...restErrorResponses },
    }),
    async () => unavailable('document'),
  );
}
