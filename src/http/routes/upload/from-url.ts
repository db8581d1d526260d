import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import type { HttpContext } from '../../http-context.js';
import { formLimits, readFields } from '../../form-fields.js';
import { toUploadFileInfo } from '../../presenters/upload-file-info.js';
import { errorResponses } from './schemas.js';

/** `POST /from_url/` + `GET /from_url/status/`: Trove downloads the file in the background. */
export function registerFromUrlUpload(app: FastifyInstance, ctx: HttpContext): void {
  app.post(
    '/from_url/',
    {
      config: { errorStyle: 'upload', uploadMethod: 'from_url' },
      schema: {
        tags: ['Upload API'],
        summary: 'Upload from a URL',
        description:
          'Parameters (query or form): `pub_key`, `source_url`, `store`, `filename`, `check_URL_duplicates`, `save_URL_duplicates`, `metadata[key]`, `signature` + `expire`. Answers `{type: "token", token}` or, for a known duplicate, `{type: "file_info", …}`.',
        response: { ...errorResponses },
      },
    },
    async (request) => {
      const result = await ctx.services.fromUrl.start(await readFields(request, formLimits(ctx.config.upload)));
      if (result.type === 'token') return { type: 'token', token: result.token };
      return { type: 'file_info', ...toUploadFileInfo(result.file) };
    },
  );

  app.get(
    '/from_url/status/',
    {
      config: { errorStyle: 'upload' },
      schema: {
        tags: ['Upload API'],
        summary: 'Status of an upload from a URL',
        querystring: Type.Object({ token: Type.Optional(Type.String()) }, { additionalProperties: true }),
        response: { ...errorResponses },
      },
    },
    async (request) => {
      const status = await ctx.services.fromUrl.status((request.query as Record<string, string | undefined>).token);
      if (!status) return { status: 'unknown' };
      const { task, file } = status;
      switch (task.status) {
        case 'waiting':
          return { status: 'waiting' };
        case 'progress':
          return { status: 'progress', done: task.done, total: task.total ?? 'unknown' };
        case 'error':
          return { status: 'error', error: task.error ?? 'Download failed.', error_code: task.errorCode ?? 'DownloadFileTaskFailedError' };
        case 'success':
          if (!file) return { status: 'error', error: 'The file was removed.', error_code: 'FileNotFoundError' };
          return { status: 'success', ...toUploadFileInfo(file) };
      }
    },
  );
}
