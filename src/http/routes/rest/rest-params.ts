import type { FastifyRequest, RouteShorthandOptions } from 'fastify';
import { isUuid } from '../../../domain/file.js';
import { createAppError } from '../../../errors.js';
import type { FileSearchFilters } from '../../../ports/repositories.js';

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
  const ms = isoDateMillis(datePart);
  if (!Number.isFinite(ms) || (idPart !== null && !isId(idPart))) {
    throw createAppError('PARAMETER_INVALID', 400, '`from` must be an ISO 8601 date-time, e.g. 2026-01-31T12:00:00Z.');
  }
  // A cursor carries the stored timestamp verbatim; a user's date is normalised to the stored form.
  return { datetime: idPart !== null ? datePart : new Date(ms).toISOString(), uuid: idPart };
}

/** Milliseconds of an ISO 8601 date or date-time (a `+` offset may arrive decoded as a space); NaN otherwise. */
function isoDateMillis(raw: string): number {
  const text = raw.replace(' ', '+');
  return /^\d{4}-\d{2}-\d{2}(T[\d:.]+(Z|[+-]\d{2}:?\d{2})?)?$/.test(text) ? Date.parse(text) : NaN;
}

/** An ISO 8601 date-time parameter, normalised to the stored form. */
export function parseDateParam(raw: string | undefined, name: string): string | null {
  if (raw === undefined || raw === '') return null;
  const ms = isoDateMillis(raw);
  if (!Number.isFinite(ms)) throw createAppError('PARAMETER_INVALID', 400, `\`${name}\` must be an ISO 8601 date-time, e.g. 2026-01-31T12:00:00Z.`);
  return new Date(ms).toISOString();
}

const MIME_PATTERN = /^[a-z0-9][a-z0-9!#$&^_.+-]{0,63}\/(\*|[a-z0-9][a-z0-9!#$&^_.+-]{0,126})$/;

/** Search filters of `GET /files/` (Trove extensions); null when none is given. */
export function parseFileSearchParams(query: Record<string, string | undefined>): FileSearchFilters | null {
  const text = query.search?.trim() || null;
  if (text !== null && text.length > 200) throw createAppError('PARAMETER_INVALID', 400, '`search` must be at most 200 characters.');
  const tag = query.tag?.trim() || null;
  if (tag !== null && (tag.length > 64 || tag.includes(',') || /[\u0000-\u001f\u007f]/.test(tag))) {
    throw createAppError('PARAMETER_INVALID', 400, '`tag` must be 1–64 printable characters without commas.');
  }
  let mimeTypes: string[] | null = null;
  if (query.mime_type) {
    mimeTypes = query.mime_type.split(',').map((type) => type.trim().toLowerCase()).filter(Boolean);
    if (mimeTypes.length > 20 || mimeTypes.some((type) => !MIME_PATTERN.test(type))) {
      throw createAppError('PARAMETER_INVALID', 400, '`mime_type` must be up to 20 comma-separated MIME types or `type/*` prefixes, e.g. image/*,application/pdf.');
    }
  }
  const before = parseDateParam(query.to, 'to');
  const since = parseDateParam(query.since, 'since');
  if (text === null && tag === null && mimeTypes === null && before === null && since === null) return null;
  return { text, tag, mimeTypes, since, before };
}
