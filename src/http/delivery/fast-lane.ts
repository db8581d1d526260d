import type { IncomingMessage, ServerResponse } from 'node:http';
import type { HttpContext } from '../http-context.js';
import { cacheTagHeaders, deliveryTags } from '../../domain/cache-tags.js';
import type { DeliveryPlan } from '../../domain/transform/operations.js';
import type { Derivative } from '../../services/transform/derivative-cache.js';
import { contentDisposition } from './content-disposition.js';
import type { ParsedPaths } from './parsed-paths.js';
import { CORS_EXPOSED_HEADERS, DELIVERY_SECURITY_HEADERS, matchesEtag, STORED_CACHE, TEMPORARY_CACHE } from './response-headers.js';

/** The route parses the same raw tail (see pathTail in routes/delivery/files.ts), so cached plans match. */
const UUID_PATH = /^\/([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})\/(.*)$/;

/**
 * Answers transformed-image requests that hit the memory tier before the request reaches the web
 * framework: no routing, no hooks, one header write. Everything else — misses, originals, errors,
 * URLs never parsed before — falls through to the normal route, which produces the same headers.
 */
interface PreparedHeaders {
  plan: DeliveryPlan;
  etag: string;
  ok: Record<string, string | number>;
  notModified: Record<string, string | number>;
}

function prepareHeaders(uuid: string, entry: Derivative, plan: DeliveryPlan, etag: string, varyAccept: boolean): PreparedHeaders {
  // The ETag is `"<plan hash>-<variant>"`, which is also how the derivative's cache tag names it.
  const tags = deliveryTags({ projectId: entry.projectId, uuid, variant: etag.slice(1, -1) });
  const common: Record<string, string | number> = {
    ...DELIVERY_SECURITY_HEADERS,
    'access-control-expose-headers': CORS_EXPOSED_HEADERS,
    etag,
    'cache-control': entry.temporary ? TEMPORARY_CACHE : STORED_CACHE,
    ...cacheTagHeaders(tags),
  };
  if (varyAccept) common.vary = 'Accept';
  const disposition = plan.inline === false ? 'attachment' : 'inline';
  return {
    plan,
    etag,
    notModified: common,
    ok: {
      ...common,
      'content-type': entry.contentType,
      'content-length': entry.data.length,
      'content-disposition': plan.filename ? contentDisposition(disposition, plan.filename) : disposition,
    },
  };
}

export function createFastLane(ctx: HttpContext, paths: ParsedPaths): (request: IncomingMessage, response: ServerResponse) => boolean {
  const prefix = ctx.config.http.deliveryPrefix;
  const route = `${prefix}/:uuid/*`;
  // Headers built once per cached derivative (and URL shape), reused until the entry leaves memory.
  // An entry is stored under its file's uuid, so the uuid in its tags is the same on every reuse.
  const prepared = new WeakMap<Derivative, PreparedHeaders>();
  return (request, response) => {
    const method = request.method;
    if (method !== 'GET' && method !== 'HEAD') return false;
    const url = request.url ?? '';
    if (url.includes('?') || (prefix !== '' && !url.startsWith(`${prefix}/`))) return false;
    const match = UUID_PATH.exec(prefix === '' ? url : url.slice(prefix.length));
    if (!match) return false;
    const plan = paths.peek(match[2]!);
    if (!plan || !plan.transforms) return false;
    const started = performance.now();
    const hit = ctx.services.transform.peekEntry(match[1]!, plan, request.headers.accept);
    if (!hit) return false;
    let headers = prepared.get(hit.entry);
    if (!headers || headers.plan !== plan || headers.etag !== hit.etag) {
      headers = prepareHeaders(match[1]!, hit.entry, plan, hit.etag, hit.varyAccept);
      prepared.set(hit.entry, headers);
    }
    ctx.services.usage.record(match[1]!, 'hit');
    if (matchesEtag(request.headers['if-none-match'], hit.etag)) {
      response.writeHead(304, headers.notModified).end();
      ctx.metrics.http.record(method, route, 304, (performance.now() - started) / 1000);
      return true;
    }
    response.writeHead(200, headers.ok);
    if (method === 'HEAD') response.end();
    else {
      response.end(hit.entry.data);
      ctx.metrics.deliveredBytes.derivative = (ctx.metrics.deliveredBytes.derivative ?? 0) + hit.entry.data.length;
    }
    ctx.metrics.http.record(method, route, 200, (performance.now() - started) / 1000);
    return true;
  };
}
