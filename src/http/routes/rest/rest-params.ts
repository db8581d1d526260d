import type { FastifySchema } from 'fastify';
import { normalizeTag } from '../../../domain/tags.js';
import { createAppError } from '../../../errors.js';
import type { FileSearchFilters } from '../../../services/file-management.service.js';
import type { FileListQuery } from './schemas.js';

/** What a REST route declares: its schemas plus its name (`operationId`, the method name in generated clients) and docs. */
type RestRouteSchema = FastifySchema & { operationId: string; summary: string; description?: string };

/** Route options shared by every REST route: its error shape and its place in the OpenAPI document. */
export function restRoute<const S extends RestRouteSchema>(schema: S) {
  return { config: { errorStyle: 'rest' as const }, schema: { tags: ['REST API'], ...schema } };
}

/*
 * The route schemas have checked the syntax of every query value; these turn accepted values into
 * typed ones. An empty value means "not given".
 */

export function flagOf(raw: string | undefined, fallback: boolean | null): boolean | null {
  if (raw === undefined || raw === '') return fallback;
  return raw === 'true' || raw === '1';
}

export function limitOf(raw: string | undefined, fallback: number): number {
  return raw === undefined || raw === '' ? fallback : Number(raw);
}

export function orderOf(raw: string | undefined): 'asc' | 'desc' {
  return raw?.startsWith('-') ? 'desc' : 'asc';
}

/** Milliseconds of an ISO 8601 date or date-time (a `+` offset may arrive decoded as a space). */
function isoDateMillis(raw: string): number {
  return Date.parse(raw.replace(' ', '+'));
}

/**
 * `from`: an ISO 8601 date-time (inclusive), or the cursor Trove writes into `next` links,
 * `<date-time>~<id>` (exclusive: continues after that item even when several share the instant).
 */
export function cursorOf(raw: string | undefined): { datetime: string; uuid: string | null } | null {
  if (raw === undefined || raw === '') return null;
  const cut = raw.indexOf('~');
  const datePart = cut === -1 ? raw : raw.slice(0, cut);
  const ms = isoDateMillis(datePart);
  // The pattern admits 2024-13-45 (the calendar does not) and a `similar_to` cursor (not a date).
  if (!Number.isFinite(ms) || !/^[0-9]{4}-/.test(datePart)) throw createAppError('PARAMETER_INVALID', 400, '`from` must be an ISO 8601 date-time, e.g. 2026-01-31T12:00:00Z.');
  // A cursor carries the stored timestamp verbatim; a user's date is normalised to the stored form.
  return cut === -1 ? { datetime: new Date(ms).toISOString(), uuid: null } : { datetime: datePart, uuid: raw.slice(cut + 1) };
}

/** `from` with `similar_to`: the `<distance>~<uuid>` cursor of a `next` link; a date-time does not apply there. */
export function similarCursorOf(raw: string | undefined): { distance: number; fileUuid: string } | null {
  if (raw === undefined || raw === '') return null;
  const match = /^([0-9]{1,2})~([0-9a-f-]{36})$/.exec(raw);
  if (!match) throw createAppError('PARAMETER_INVALID', 400, 'With `similar_to`, `from` must be the cursor of a `next` link, `<distance>~<uuid>`.');
  return { distance: Number(match[1]), fileUuid: match[2]! };
}

/** An ISO 8601 date-time parameter, normalised to the stored form. */
function dateOf(raw: string | undefined, name: string): string | null {
  if (raw === undefined || raw === '') return null;
  const ms = isoDateMillis(raw);
  if (!Number.isFinite(ms)) throw createAppError('PARAMETER_INVALID', 400, `\`${name}\` must be an ISO 8601 date-time, e.g. 2026-01-31T12:00:00Z.`);
  return new Date(ms).toISOString();
}

/** Search filters of `GET /files/` (Trove extensions); null when none is given. */
export function fileSearchFilters(query: FileListQuery): FileSearchFilters | null {
  const text = query.search?.trim() || null;
  const tag = query.tag ? normalizeTag(query.tag) || null : null;
  const mimeTypes = query.mime_type
    ? query.mime_type
        .split(',')
        .map((type) => type.trim().toLowerCase())
        .filter(Boolean)
    : null;
  const before = dateOf(query.to, 'to');
  const since = dateOf(query.since, 'since');
  if (text === null && tag === null && mimeTypes === null && before === null && since === null) return null;
  return { text, tag, mimeTypes, since, before };
}
