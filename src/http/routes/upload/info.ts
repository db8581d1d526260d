import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import type { HttpContext } from '../../http-context.js';
import { toUploadFileInfo } from '../../presenters/upload-file-info.js';
import { FileInfoSchema, errorResponses } from './schemas.js';

/** `GET /info/?pub_key=&file_id=`. */
export function registerFileInfo(app: FastifyInstance, ctx: HttpContext): void {
  app.get(
    '/info/',
    {
      config: { errorStyle: 'upload' },
      schema: {
        tags: ['Upload API'],
        summary: 'File info',
        querystring: Type.Object(
          { pub_key: Type.Optional(Type.String()), file_id: Type.Optional(Type.String()) },
          { additionalProperties: true },
        ),
        response: { 200: FileInfoSchema, ...errorResponses },
      },
    },
    async (request) => {
      const query = request.query as Record<string, string | undefined>;
      return toUploadFileInfo(await ctx.services.fileInfo.get(query.pub_key, query.file_id));
    },
  );
}
