import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import type { AppContext } from '../../../context.js';
import { parseDeliveryPath } from '../../../domain/delivery-path.js';
import { isUuid, type StoredFile } from '../../../domain/file.js';
import { isGroupId } from '../../../domain/group.js';
import { createAppError } from '../../../errors.js';
import { contentDisposition, defaultDisposition } from '../../delivery/content-disposition.js';
import { decideRange } from '../../delivery/range.js';

/** Scripts in an uploaded SVG or HTML file must never run on Trove's origin. */
const SANDBOX_CSP = "default-src 'none'; img-src data:; style-src 'unsafe-inline'; sandbox";
const STORED_CACHE = 'public, max-age=31536000, immutable';
/** A temporary file disappears within a day unless stored: caches must not outlive it by much. */
const TEMPORARY_CACHE = 'public, max-age=600';
const TEXT_TYPES = /^(text\/|application\/json$|image\/svg\+xml$)/;

function etagOf(file: StoredFile): string {
  return `"${file.sha256}"`;
}

function matchesEtag(header: string | undefined, etag: string): boolean {
  if (!header) return false;
  if (header.trim() === '*') return true;
  return header.split(',').some((candidate) => candidate.trim().replace(/^W\//, '') === etag);
}

async function serveOriginal(ctx: AppContext, request: FastifyRequest<{ Params: { uuid: string; '*'?: string } }>, reply: FastifyReply) {
  const id = request.params.uuid.toLowerCase();
  let rest = request.params['*'] ?? '';
  let file: StoredFile;
  if (isUuid(id)) {
    file = await ctx.services.delivery.findOriginal(id);
  } else if (isGroupId(id)) {
    const nth = /^nth\/(\d{1,6})(?:\/|$)(.*)$/s.exec(rest);
    if (!nth) throw createAppError('NOT_FOUND', 404, `Address a file of group ${id} as /${id}/nth/<index>/.`);
    const member = await ctx.services.delivery.findGroupMember(id, Number(nth[1]));
    file = member.file;
    // The member's own operations (default_effects) apply first, then the URL's.
    rest = `${member.effects}${nth[2] ?? ''}`;
  } else {
    throw createAppError('NOT_FOUND', 404, `No file or route at ${request.url.split('?')[0]}.`);
  }
  const wanted = parseDeliveryPath(rest);
  const etag = etagOf(file);
  const disposition = wanted.inline === null ? defaultDisposition(file.mimeType) : wanted.inline ? 'inline' : 'attachment';
  const contentType = TEXT_TYPES.test(file.mimeType) ? `${file.mimeType}; charset=utf-8` : file.mimeType;

  void reply.headers({
    etag,
    'last-modified': new Date(file.datetimeUploaded).toUTCString(),
    'cache-control': file.datetimeStored ? STORED_CACHE : TEMPORARY_CACHE,
    'x-content-type-options': 'nosniff',
    'content-security-policy': SANDBOX_CSP,
    'cross-origin-resource-policy': 'cross-origin',
    'access-control-allow-origin': '*',
    'accept-ranges': 'bytes',
  });

  if (matchesEtag(request.headers['if-none-match'], etag)) return reply.code(304).send();

  void reply.header('content-type', contentType);
  void reply.header('content-disposition', contentDisposition(disposition, wanted.filename ?? file.originalFilename));
  const ifRange = request.headers['if-range'];
  const rangeHeader = ifRange === undefined || ifRange === etag ? request.headers.range : undefined;
  const decision = decideRange(rangeHeader, file.size);

  if (decision.kind === 'unsatisfiable') {
    void reply.header('content-range', `bytes */${file.size}`);
    throw createAppError('RANGE_NOT_SATISFIABLE', 416, `Range ${rangeHeader} is outside the file's ${file.size} bytes.`);
  }
  const range = decision.kind === 'partial' ? decision.range : undefined;
  const length = range ? range.end - range.start + 1 : file.size;
  void reply.header('content-length', length);
  if (range) void reply.code(206).header('content-range', `bytes ${range.start}-${range.end}/${file.size}`);
  if (request.method === 'HEAD') return reply.send();
  ctx.metrics.deliveredBytes.original = (ctx.metrics.deliveredBytes.original ?? 0) + length;
  const small = await ctx.services.delivery.readSmall(file);
  if (small) return reply.send(range ? small.subarray(range.start, range.end + 1) : small);
  return reply.send(await ctx.services.delivery.open(file, range));
}

/** Delivery of originals: `GET|HEAD /:uuid/`, `/:uuid/:filename`, `/:uuid/-/inline/yes|no/[filename]`. */
export async function deliveryRoutes(app: FastifyInstance, options: { ctx: AppContext }): Promise<void> {
  const { ctx } = options;
  const schema = {
    tags: ['Delivery'],
    summary: 'Original file',
    description:
      'Serves the bytes with ETag, Range, 304 and long-lived caching. `/-/inline/yes|no/` sets Content-Disposition; a trailing filename names the download.',
    params: Type.Object({ uuid: Type.String(), '*': Type.Optional(Type.String()) }),
  };
  const handler = (request: FastifyRequest<{ Params: { uuid: string; '*'?: string } }>, reply: FastifyReply) =>
    serveOriginal(ctx, request, reply);
  app.route({ method: ['GET', 'HEAD'], url: '/:uuid/*', schema, handler, exposeHeadRoute: false });
  app.route({ method: ['GET', 'HEAD'], url: '/:uuid', schema: { ...schema, hide: true }, handler, exposeHeadRoute: false });
}
