import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import type { HttpContext } from '../../http-context.js';
import { formLimits, queryFields, readFields, toRecord } from '../../form-fields.js';
import { toUploadFileInfo } from '../../presenters/upload-file-info.js';
import { uploadBase } from '../../public-urls.js';
import { FileInfoSchema, errorResponses } from './schemas.js';

/** Multipart upload: start → PUT each part to the URL given → complete. */
export function registerMultipartUpload(app: FastifyInstance, ctx: HttpContext): void {
  app.post(
    '/multipart/start/',
    {
      config: { errorStyle: 'upload', uploadMethod: 'multipart' },
      schema: {
        tags: ['Upload API'],
        summary: 'Start a multipart upload',
        description: 'Form fields `UPLOADCARE_PUB_KEY`, `filename`, `size`, `content_type`, `part_size`, `UPLOADCARE_STORE`, `metadata[key]`, `signature` + `expire`.',
        response: { 200: Type.Object({ uuid: Type.String(), parts: Type.Array(Type.String()) }), ...errorResponses },
      },
    },
    async (request) => {
      const started = await ctx.services.multipart.start(await readFields(request, formLimits(ctx.config.upload)));
      const base = `${uploadBase(request, ctx.config)}/multipart/part`;
      return { uuid: started.uuid, parts: started.partPaths.map((p) => `${base}/${p}`) };
    },
  );

  // Part bodies are raw bytes of any Content-Type: no parser may touch them.
  void app.register(async (raw) => {
    raw.removeAllContentTypeParsers();
    raw.addContentTypeParser('*', (_request, _payload, done) => done(null, undefined));
    raw.put<{ Params: { uuid: string; index: string } }>(
      '/multipart/part/:uuid/:index/',
      {
        config: { errorStyle: 'upload', uploadMethod: 'multipart' },
        schema: {
          tags: ['Upload API'],
          summary: 'Upload one part (URL returned by start)',
          params: Type.Object({ uuid: Type.String(), index: Type.String() }),
          response: { 200: Type.Null({ description: 'The part is stored; the answer has no body.' }), ...errorResponses },
        },
      },
      async (request, reply) => {
        const token = toRecord(queryFields(request)).token ?? '';
        const declared = request.headers['content-length'];
        const index = /^\d{1,5}$/.test(request.params.index) ? Number(request.params.index) : -1;
        await ctx.services.multipart.uploadPart(
          request.params.uuid,
          index,
          token,
          request.raw,
          declared === undefined ? null : Number(declared),
        );
        if (declared) ctx.metrics.bytesIn.inc({ method: 'multipart' }, Number(declared));
        return reply.code(200).send();
      },
    );
  });

  app.post(
    '/multipart/complete/',
    {
      config: { errorStyle: 'upload', uploadMethod: 'multipart' },
      schema: {
        tags: ['Upload API'],
        summary: 'Complete a multipart upload',
        description: 'Form fields `UPLOADCARE_PUB_KEY` and `uuid`. Fails with the list of missing parts when any is missing.',
        response: { 200: FileInfoSchema, ...errorResponses },
      },
    },
    async (request) => {
      const file = await ctx.services.multipart.complete(await readFields(request, formLimits(ctx.config.upload)));
      ctx.metrics.uploads.inc({ method: 'multipart' });
      return toUploadFileInfo(file);
    },
  );
}
