import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import type { HttpContext } from '../../http-context.js';
import { formLimits, formParts, queryFields } from '../../form-fields.js';
import { errorResponses } from './schemas.js';

/** `POST /base/`: direct upload of one or more files in a multipart form. */
export function registerBaseUpload(app: FastifyInstance, ctx: HttpContext): void {
  app.post(
    '/base/',
    {
      config: { errorStyle: 'upload', uploadMethod: 'base' },
      schema: {
        tags: ['Upload API'],
        summary: 'Direct upload',
        description:
          'multipart/form-data with `UPLOADCARE_PUB_KEY`, `UPLOADCARE_STORE` (0|1|auto), any number of file fields, optional `metadata[key]`, `tags`, `signature` + `expire`. Answers `{field name: uuid}`.',
        consumes: ['multipart/form-data'],
        response: { 200: Type.Record(Type.String(), Type.String({ format: 'uuid' })), ...errorResponses },
      },
    },
    async (request) => {
      const result = await ctx.services.directUpload.upload(formParts(request, formLimits(ctx.config.upload)), queryFields(request));
      const count = Object.keys(result).length;
      ctx.metrics.uploads.inc({ method: 'base' }, count);
      const bytes = request.headers['content-length'];
      if (bytes) ctx.metrics.bytesIn.inc({ method: 'base' }, Number(bytes));
      return result;
    },
  );
}
