import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import type { HttpContext } from '../../http-context.js';
import { toRestFile, toRestGroupSummary } from '../../../domain/rest-file.js';
import { projectOf, restBases } from './rest-request.js';
import { cursorOf, limitOf, orderOf, restRoute } from './rest-params.js';
import { GroupListQuerySchema, GroupListSchema, GroupParamsSchema, NoContentSchema, RestGroupSchema, restErrorResponses, type GroupList, type RestGroup } from './schemas.js';

/** `/groups/…`: list, info and delete (a group's files stay). */
export function registerRestGroups(fastify: FastifyInstance, ctx: HttpContext): void {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  const groups = () => ctx.services.groups;

  app.get(
    '/groups/',
    restRoute({
      operationId: 'listGroups',
      summary: 'List groups',
      description: 'Paginated by `from`; `ordering` (`datetime_created`, `-datetime_created`), `limit` (1–1000).',
      querystring: GroupListQuerySchema,
      response: { 200: GroupListSchema, ...restErrorResponses },
    }),
    async (request): Promise<GroupList> => {
      const limit = limitOf(request.query.limit, 100);
      const order = orderOf(request.query.ordering);
      const from = cursorOf(request.query.from);
      const page = await groups().list(projectOf(request), { order, from: from && { datetime: from.datetime, id: from.uuid }, limit });
      const bases = restBases(request, ctx);
      let next: string | null = null;
      if (page.next) {
        const params = new URLSearchParams({ limit: String(limit), ordering: order === 'desc' ? '-datetime_created' : 'datetime_created', from: `${page.next.datetime}~${page.next.id}` });
        next = `${bases.apiBase}/groups/?${params.toString()}`;
      }
      return { next, previous: null, total: page.total, per_page: limit, results: page.groups.map((group) => toRestGroupSummary(group, bases)) };
    },
  );

  app.get(
    '/groups/:id/',
    restRoute({ operationId: 'getGroup', summary: 'Group info', params: GroupParamsSchema, response: { 200: RestGroupSchema, ...restErrorResponses } }),
    async (request): Promise<RestGroup> => {
      const view = await groups().find(projectOf(request), request.params.id);
      const bases = restBases(request, ctx);
      return {
        ...toRestGroupSummary(view.group, bases),
        files: view.members.map(({ file, effects }) => (file ? { ...toRestFile(file, bases), default_effects: effects.replace(/^-\//, '') } : null)),
      };
    },
  );

  app.delete(
    '/groups/:id/',
    restRoute({
      operationId: 'deleteGroup',
      summary: 'Delete a group',
      description: 'The group goes; its files stay.',
      params: GroupParamsSchema,
      response: { 204: NoContentSchema, ...restErrorResponses },
    }),
    async (request, reply) => {
      await groups().remove(projectOf(request), request.params.id);
      return reply.code(204).send();
    },
  );
}
