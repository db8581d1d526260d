import type { FastifyRequest, RouteShorthandOptions } from 'fastify';
import { isUuid } from '../../../domain/file.js';
import { createAppError } from '../../../errors.js';

/** Route options shared by every REST route: its error shape and its place in the OpenAPI document. */
export function restRoute(summary: string, description?: string): RouteShorthandOptions {
  return {
    config: { errorStyle: 'rest' },
    schema: { tags: ['REST API'], summary, ...(description ? { description } : {}) },
  };
}

export function queryOf(request: FastifyRequest): Record<string, string | undefined> {
  const query = request.query as Record<string, string | string[] | undefined>;
  const flat: Record<string, string | undefined> = {};
  for (const [key, value] of Object.entries(query)) flat[key] = Array.isArray(value) ? value.at(-1) : value;
  return flat;
}

export function parseBooleanParam(raw: string | undefined, name: string, fallback: boolean | null): boolean | null {
  if (raw === undefined || raw === '') return fallback;
  if (raw === 'true' || raw === '1') return true;
  if (raw === 'false' || raw === '0') return false;
  throw createAppError('PARAMETER_INVALID', 400, `\`${name}\` should be \`true\` or \`false\`.`);
}

export function parseLimitParam(raw: string | undefined): number {
  if (raw === undefined || raw === '') return 100;
  if (!/^\d{1,7}$/.test(raw) || Number(raw) < 1 || Number(raw) > 1000) {
    throw createAppError('PARAMETER_INVALID', 400, '`limit` must be an integer from 1 to 1000.');
  }
  return Number(raw);
}

export function parseOrderingParam(raw: string | undefined, field: string): 'asc' | 'desc' {
  if (raw === undefined || raw === '' || raw === field) return 'asc';
  if (raw === `-${field}`) return 'desc';
  throw createAppError('PARAMETER_INVALID', 400, `\`ordering\` must be \`${field}\` or \`-${field}\`.`);
}

/**
 * `from`: an ISO 8601 date-time (inclusive), or the cursor Trove writes into `next` links,
 * `<date-time>~<id>` (exclusive: continues after that item even when several share the instant).
 */
export function parseFromParam(raw: string | undefined, isId: (value: string) => boolean = isUuid): { datetime: string; uuid: string | null } | null {
  if (raw === undefined || raw === '') return null;
  const cut = raw.indexOf('~');
  const datePart = cut === -1 ? raw : raw.slice(0, cut);
  const idPart = cut === -1 ? null : raw.slice(cut + 1);
  const ms = /^\d{4}-\d{2}-\d{2}(T[\d:.]+(Z|[+-]\d{2}:?\d{2})?)?$/.test(datePart.replace(' ', '+')) ? Date.parse(datePart.replace(' ', '+')) : NaN;
  if (!Number.isFinite(ms) || (idPart !== null && !isId(idPart))) {
    throw createAppError('PARAMETER_INVALID', 400, '`from` must be an ISO 8601 date-time, e.g. 2026-01-31T12:00:00Z.');
  }
  // A cursor carries the stored timestamp verbatim; a user's date is normalised to the stored form.
  return { datetime: idPart !== null ? datePart : new Date(ms).toISOString(), uuid: idPart };
}
