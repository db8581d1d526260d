import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { AppContext } from '../../../context.js';
import { isGroupId } from '../../../domain/group.js';
import { toRestFile, toRestGroupSummary } from '../../../domain/rest-file.js';
import { createAppError } from '../../../errors.js';
import { projectOf, restBases } from './rest-request.js';
import { parseFromParam, parseLimitParam, parseOrderingParam, queryOf, restRoute } from './rest-params.js';

function groupParam(request: FastifyRequest): string {
  const id = (request.params as { id?: string }).id ?? '';
  if (!isGroupId(id)) throw createAppError('NOT_FOUND', 404, 'Not found.');
  return id;
}

/** `/groups/…`: list, info and delete (a group's files stay). */
export function registerRestGroups(app: FastifyInstance, ctx: AppContext): void {
  app.get('/groups/', restRoute('List groups', 'Paginated by `from`; `ordering` (`datetime_created`, `-datetime_created`), `limit` (1–1000).'), async (request) => {
    const query = queryOf(request);
    const limit = parseLimitParam(query.limit);
    const order = parseOrderingParam(query.ordering, 'datetime_created');
    const from = parseFromParam(query.from, isGroupId);
    const project = projectOf(request);
    const [rows, total] = await Promise.all([
      ctx.metadata.groups.list(project.id, { order, after: from ? { datetime: from.datetime, id: from.uuid } : null, limit: limit + 1 }),
      ctx.metadata.groups.count(project.id),
    ]);
    const groups = rows.slice(0, limit);
    const bases = restBases(request, ctx);
    const last = groups.at(-1);
    let next: string | null = null;
    if (rows.length > limit && last) {
      const params = new URLSearchParams({ limit: String(limit), ordering: order === 'desc' ? '-datetime_created' : 'datetime_created', from: `${last.datetimeCreated}~${last.id}` });
      next = `${bases.apiBase}/groups/?${params.toString()}`;
    }
    return { next, previous: null, total, per_page: limit, results: groups.map((group) => toRestGroupSummary(group, bases)) };
  });

  app.get('/groups/:id/', restRoute('Group info'), async (request) => {
    const project = projectOf(request);
    const found = await ctx.metadata.groups.findForProject(project.id, groupParam(request));
    if (!found) throw createAppError('NOT_FOUND', 404, 'Not found.');
    const files = await ctx.metadata.files.findManyForProject(project.id, found.members.map((m) => m.fileUuid));
    const byUuid = new Map(files.map((file) => [file.uuid, file]));
    const bases = restBases(request, ctx);
    return {
      ...toRestGroupSummary(found.group, bases),
      files: found.members.map((member) => {
        const file = byUuid.get(member.fileUuid);
        return file ? { ...toRestFile(file, bases), default_effects: member.effects.replace(/^-\//, '') } : null;
      }),
    };
  });

  app.delete('/groups/:id/', restRoute('Delete a group', 'The group goes; its files stay.'), async (request, reply) => {
    if (!(await ctx.metadata.groups.delete(projectOf(request).id, groupParam(request)))) throw createAppError('NOT_FOUND', 404, 'Not found.');
    return reply.code(204).send();
  });
}
