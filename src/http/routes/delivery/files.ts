import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import type { HttpContext } from '../../http-context.js';
import { cacheTagHeaders, deliveryTags, ORIGINAL_VARIANT, type ServedContent } from '../../../domain/cache-tags.js';
import { isUuid, type StoredFile } from '../../../domain/file.js';
import { isGroupId } from '../../../domain/group.js';
import { isHlsPath } from '../../../domain/hls.js';
import { isGif2VideoPath, type Gif2VideoRequest } from '../../../domain/transform/gif2video.js';
import type { DeliveryPlan } from '../../../domain/transform/operations.js';
import { createAppError } from '../../../errors.js';
import { contentDisposition, defaultDisposition } from '../../delivery/content-disposition.js';
import type { ParsedPaths } from '../../delivery/parsed-paths.js';
import { decideRange } from '../../delivery/range.js';
import { DELIVERY_SECURITY_HEADERS, matchesEtag, STORED_CACHE, TEMPORARY_CACHE } from '../../delivery/response-headers.js';

const TEXT_TYPES = /^(text\/|application\/json$|image\/svg\+xml$)/;

type DeliveryRequest = FastifyRequest<{ Params: { uuid: string; '*'?: string } }>;

/** Set on group URLs: the group the member was served under. */
type GroupContext = string | undefined;

function commonHeaders(reply: FastifyReply, etag: string, cacheControl: string, content: ServedContent): void {
  void reply.headers({ ...DELIVERY_SECURITY_HEADERS, etag, 'cache-control': cacheControl, ...cacheTagHeaders(deliveryTags(content)) });
}

/** A derivative's cache tag names it as its ETag does: `"<plan hash>-<variant>"`. */
function derivativeVariant(etag: string): string {
  return etag.slice(1, -1);
}

async function serveOriginal(
  ctx: HttpContext,
  request: DeliveryRequest,
  reply: FastifyReply,
  file: StoredFile,
  plan: DeliveryPlan,
  groupId: GroupContext,
) {
  const etag = `"${file.sha256}"`;
  ctx.services.usage.record(file.uuid, 'original');
  commonHeaders(reply, etag, file.datetimeStored ? STORED_CACHE : TEMPORARY_CACHE, {
    projectId: file.projectId,
    uuid: file.uuid,
    variant: ORIGINAL_VARIANT,
    groupId,
  });
  void reply.header('last-modified', new Date(file.datetimeUploaded).toUTCString()).header('accept-ranges', 'bytes');
  if (matchesEtag(request.headers['if-none-match'], etag)) return reply.code(304).send();

  const disposition = plan.inline === null ? defaultDisposition(file.mimeType) : plan.inline ? 'inline' : 'attachment';
  void reply.header('content-type', TEXT_TYPES.test(file.mimeType) ? `${file.mimeType}; charset=utf-8` : file.mimeType);
  void reply.header('content-disposition', contentDisposition(disposition, plan.filename ?? file.originalFilename));
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

/** `file`: already found (a group member); otherwise only a miss or a revalidation looks it up. */
async function serveDerivative(
  ctx: HttpContext,
  request: DeliveryRequest,
  reply: FastifyReply,
  uuid: string,
  plan: DeliveryPlan,
  file: StoredFile | undefined,
  groupId: GroupContext,
) {
  const { transform } = ctx.services;
  const accept = request.headers.accept;
  const tag = transform.tagOf(uuid, plan, accept);
  if (matchesEtag(request.headers['if-none-match'], tag.etag)) {
    // The ETag is known before the derivative: revalidating never waits for a transformation.
    const { temporary, projectId } = await transform.revalidate(uuid, plan, accept, file);
    ctx.services.usage.record(uuid, 'hit');
    commonHeaders(reply, tag.etag, temporary ? TEMPORARY_CACHE : STORED_CACHE, { projectId, uuid, variant: derivativeVariant(tag.etag), groupId });
    if (tag.varyAccept) void reply.header('vary', 'Accept');
    return reply.code(304).send();
  }
  const derivative = await transform.deliver(uuid, plan, accept);
  ctx.services.usage.record(uuid, derivative.tier === 'miss' ? 'miss' : 'hit');
  commonHeaders(reply, derivative.etag, derivative.temporary ? TEMPORARY_CACHE : STORED_CACHE, {
    projectId: derivative.projectId,
    uuid,
    variant: derivativeVariant(derivative.etag),
    groupId,
  });
  if (derivative.varyAccept) void reply.header('vary', 'Accept');
  const disposition = plan.inline === false ? 'attachment' : 'inline';
  void reply.headers({
    'content-type': derivative.contentType,
    'content-length': derivative.data.length,
    'content-disposition': plan.filename ? contentDisposition(disposition, plan.filename) : disposition,
  });
  if (request.method === 'HEAD') return reply.send();
  ctx.metrics.deliveredBytes.derivative = (ctx.metrics.deliveredBytes.derivative ?? 0) + derivative.data.length;
  return reply.send(derivative.data);
}

/**
 * `/:uuid/gif2video/…`: a derivative like a transformed image (ETag from the URL, 304 without any
 * work, cache tags), and byte ranges, which players ask for (Safari plays no MP4 without them).
 */
async function serveGifVideo(
  ctx: HttpContext,
  request: DeliveryRequest,
  reply: FastifyReply,
  uuid: string,
  video: Gif2VideoRequest,
  file: StoredFile | undefined,
  groupId: GroupContext,
) {
  const { gifVideo } = ctx.services;
  const { etag } = gifVideo.identityOf(uuid, video.plan);
  if (matchesEtag(request.headers['if-none-match'], etag)) {
    const { temporary, projectId } = await gifVideo.revalidate(uuid, video.plan, file);
    ctx.services.usage.record(uuid, 'hit');
    commonHeaders(reply, etag, temporary ? TEMPORARY_CACHE : STORED_CACHE, { projectId, uuid, variant: derivativeVariant(etag), groupId });
    return reply.code(304).send();
  }
  const derivative = await gifVideo.deliver(uuid, video.plan);
  ctx.services.usage.record(uuid, derivative.tier === 'miss' ? 'miss' : 'hit');
  commonHeaders(reply, etag, derivative.temporary ? TEMPORARY_CACHE : STORED_CACHE, {
    projectId: derivative.projectId,
    uuid,
    variant: derivativeVariant(etag),
    groupId,
  });
  const size = derivative.data.length;
  void reply.headers({
    'content-type': derivative.contentType,
    'accept-ranges': 'bytes',
    'content-disposition': video.filename ? contentDisposition('inline', video.filename) : 'inline',
  });
  const ifRange = request.headers['if-range'];
  const rangeHeader = ifRange === undefined || ifRange === etag ? request.headers.range : undefined;
  const decision = decideRange(rangeHeader, size);
  if (decision.kind === 'unsatisfiable') {
    void reply.header('content-range', `bytes */${size}`);
    throw createAppError('RANGE_NOT_SATISFIABLE', 416, `Range ${rangeHeader} is outside the video's ${size} bytes.`);
  }
  const range = decision.kind === 'partial' ? decision.range : undefined;
  const body = range ? derivative.data.subarray(range.start, range.end + 1) : derivative.data;
  void reply.header('content-length', body.length);
  if (range) void reply.code(206).header('content-range', `bytes ${range.start}-${range.end}/${size}`);
  if (request.method === 'HEAD') return reply.send();
  ctx.metrics.deliveredBytes.derivative = (ctx.metrics.deliveredBytes.derivative ?? 0) + body.length;
  return reply.send(body);
}

/** A "being prepared" answer must not be cached: the next request may find the stream. */
const PREPARING_CACHE = 'no-store';

/**
 * `/:uuid/hls/<name>`: the HLS stream of a video. The name is checked against Trove's own names
 * before anything is looked up. A stored playlist or segment never changes, so it is cached like
 * any derivative (ETag, 304, cache tags); the master asked for before the stream exists is a 202
 * that the client repeats after Retry-After.
 */
async function serveHls(ctx: HttpContext, request: DeliveryRequest, reply: FastifyReply, uuid: string, rest: string, file: StoredFile | undefined, groupId: GroupContext) {
  const { streams } = ctx.services;
  const name = streams.nameOf(rest);
  const etag = streams.etagOf(name);
  if (matchesEtag(request.headers['if-none-match'], etag)) {
    const found = await streams.videoFile(uuid, file);
    ctx.services.usage.record(uuid, 'hit');
    commonHeaders(reply, etag, found.datetimeStored === null ? TEMPORARY_CACHE : STORED_CACHE, { projectId: found.projectId, uuid, variant: 'hls', groupId });
    return reply.code(304).send();
  }
  const answer = await streams.deliver(uuid, name, file);
  if (answer.kind === 'preparing') {
    void reply.headers({ ...DELIVERY_SECURITY_HEADERS, 'cache-control': PREPARING_CACHE, 'retry-after': String(answer.retryAfterSeconds) });
    return reply.code(202).send({
      status: 'processing',
      detail: `The HLS stream of ${uuid} is being prepared; ask again for this URL in ${answer.retryAfterSeconds} s.`,
    });
  }
  ctx.services.usage.record(uuid, 'hit');
  commonHeaders(reply, etag, answer.temporary ? TEMPORARY_CACHE : STORED_CACHE, { projectId: answer.projectId, uuid, variant: 'hls', groupId });
  void reply.headers({ 'content-type': answer.contentType, 'content-length': answer.size, 'content-disposition': 'inline' });
  if (request.method === 'HEAD') {
    answer.body.destroy();
    return reply.send();
  }
  ctx.metrics.deliveredBytes.derivative = (ctx.metrics.deliveredBytes.derivative ?? 0) + answer.size;
  return reply.send(answer.body);
}

/** `/:uuid/detect_faces/` (Uploadcare: no `-/`, nothing may follow it). */
function isDetectFacesPath(rest: string): boolean {
  return rest === 'detect_faces' || rest === 'detect_faces/';
}

/** The faces found in the image, as JSON; never cached by the browser longer than the file lives. */
async function serveDetectFaces(ctx: HttpContext, reply: FastifyReply, file: StoredFile) {
  const answer = await ctx.services.faces.detectFaces(file);
  return reply.header('cache-control', 'public, max-age=3600').type('application/json').send(answer);
}

/**
 * The path after `/:id/`, raw (still percent-encoded) and with its trailing slash: the router drops
 * that slash, but in Uploadcare's grammar it separates the last operation from a filename.
 */
function pathTail(url: string, prefix: string): string {
  const query = url.indexOf('?');
  const path = (query === -1 ? url : url.slice(0, query)).slice(prefix.length);
  const afterId = path.indexOf('/', 1);
  return afterId === -1 ? '' : path.slice(afterId + 1);
}

async function serveFile(ctx: HttpContext, paths: ParsedPaths, request: DeliveryRequest, reply: FastifyReply) {
  const id = request.params.uuid.toLowerCase();
  let rest = pathTail(request.url, ctx.config.http.deliveryPrefix);
  let file: StoredFile | null = null;
  let uuid: string;
  let groupId: GroupContext;
  if (isUuid(id)) {
    uuid = id;
  } else if (isGroupId(id)) {
    const nth = /^nth\/(\d{1,6})(?:\/|$)(.*)$/s.exec(rest);
    if (!nth) throw createAppError('NOT_FOUND', 404, `Address a file of group ${id} as /${id}/nth/<index>/.`);
    const member = await ctx.services.delivery.findGroupMember(id, Number(nth[1]));
    file = member.file;
    uuid = file.uuid;
    groupId = id;
    // The member's own operations (default_effects) apply first, then the URL's.
    rest = `${member.effects}${nth[2] ?? ''}`;
  } else {
    throw createAppError('NOT_FOUND', 404, `No file or route at ${request.url.split('?')[0]}.`);
  }
  if (isDetectFacesPath(rest)) {
    if (groupId) throw createAppError('INVALID_OPERATION', 400, 'detect_faces applies to a file: write /:uuid/detect_faces/.');
    return serveDetectFaces(ctx, reply, await ctx.services.delivery.findOriginal(uuid));
  }
  if (isHlsPath(rest)) return serveHls(ctx, request, reply, uuid, rest, file ?? undefined, groupId);
  if (isGif2VideoPath(rest)) return serveGifVideo(ctx, request, reply, uuid, paths.parseGif2Video(rest), file ?? undefined, groupId);
  const plan = paths.parse(rest);
  if (plan.transforms) return serveDerivative(ctx, request, reply, uuid, plan, file ?? undefined, groupId);
  return serveOriginal(ctx, request, reply, file ?? (await ctx.services.delivery.findOriginal(uuid)), plan, groupId);
}

/**
 * Delivery: `GET|HEAD /:uuid/[-/op/params/…][filename]` and `/:group_id/nth/:i/…`. Without image
 * operations the original is served; with them, the derivative (see TransformService).
 */
export async function deliveryRoutes(app: FastifyInstance, options: { ctx: HttpContext; paths: ParsedPaths }): Promise<void> {
  const { ctx, paths } = options;
  const schema = {
    tags: ['Delivery'],
    summary: 'A file, original or transformed',
    description:
      "Uploadcare CDN grammar: `/:uuid/-/resize/800x/-/format/auto/photo.jpg`, and `/:uuid/gif2video/-/format/webm/-/quality/better/` for an animated GIF as a video, `/:uuid/hls/master.m3u8` for a video as an HLS stream (202 while it is being prepared). Originals and videos support Range; every answer has a strong ETag, 304 and long-lived caching, `Vary: Accept` when the format was negotiated.",
    params: Type.Object({ uuid: Type.String(), '*': Type.Optional(Type.String()) }),
  };
  const handler = (request: DeliveryRequest, reply: FastifyReply) => serveFile(ctx, paths, request, reply);
  app.route({ method: ['GET', 'HEAD'], url: '/:uuid/*', schema, handler, exposeHeadRoute: false });
  app.route({ method: ['GET', 'HEAD'], url: '/:uuid', schema: { ...schema, hide: true }, handler, exposeHeadRoute: false });
}
