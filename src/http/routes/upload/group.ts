import type { FastifyInstance, FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import type { Config } from '../../../config/config.js';
import type { HttpContext } from '../../http-context.js';
import { GROUP_CREATION, readUploadCredentials } from '../../../domain/upload-options.js';
import { formLimits, readFields } from '../../form-fields.js';
import { toUploadGroupInfo } from '../../presenters/upload-file-info.js';
import { cdnBase, originOf } from '../../public-urls.js';
import { GroupInfoSchema, errorResponses } from './schemas.js';

function groupUrls(request: FastifyRequest, config: Config) {
  return { cdnBase: cdnBase(request, config), apiBase: `${originOf(request, config)}${config.http.restPrefix}` };
}

/** `POST /group/` + `GET /group/info/`: immutable groups of files. */
export function registerGroups(app: FastifyInstance, ctx: HttpContext): void {
  app.post(
    '/group/',
    {
      config: { errorStyle: 'upload' },
      schema: {
        tags: ['Upload API'],
        summary: 'Create a group',
        description: '`pub_key`, `files[]` (uuid, `uuid/-/ops/` or CDN URL; also `files[0]`, `files[1]`, …), `signature` + `expire`.',
        response: { 200: GroupInfoSchema, ...errorResponses },
      },
    },
    async (request) => {
      const fields = await readFields(request, formLimits(ctx.config.upload));
      const indexed: Array<[number, string]> = [];
      const listed: string[] = [];
      for (const [name, value] of fields) {
        if (name === 'files[]' || name === 'files') listed.push(value);
        const match = /^files\[(\d{1,6})\]$/.exec(name);
        if (match) indexed.push([Number(match[1]), value]);
      }
      const entries = [...listed, ...indexed.sort((a, b) => a[0] - b[0]).map(([, v]) => v)];
      const view = await ctx.services.groups.create(
        readUploadCredentials(fields, GROUP_CREATION),
        entries,
      );
      return toUploadGroupInfo(view, groupUrls(request, ctx.config));
    },
  );

  app.get(
    '/group/info/',
    {
      config: { errorStyle: 'upload' },
      schema: {
        tags: ['Upload API'],
        summary: 'Group info',
        querystring: Type.Object(
          { pub_key: Type.Optional(Type.String()), group_id: Type.Optional(Type.String()) },
          { additionalProperties: true },
        ),
        response: { 200: GroupInfoSchema, ...errorResponses },
      },
    },
    async (request) => {
      const query = request.query as Record<string, string | undefined>;
      const view = await ctx.services.groups.info(query.pub_key, query.group_id);
      return toUploadGroupInfo(view, groupUrls(request, ctx.config));
    },
  );
}
