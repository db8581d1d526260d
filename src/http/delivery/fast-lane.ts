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

/** What a URL names once its Accept class is known: the derivative's key and its ETag. */
interface Identity {
  key: string;
  etag: string;
  varyAccept: boolean;
}

/**
 * A delivery URL the fast lane has seen, parsed: its file, its plan and, per Accept header, what it
 * names. Built from the route's parse cache, so a repeated hit costs one map lookup instead of a
 * regex, a parse-cache lookup and the derivative key's string building.
 */
interface HitRoute {
  uuid: string;
  plan: DeliveryPlan;
  /** The answer does not depend on Accept (a fixed format): one identity for every request. */
  fixed: Identity | null;
  /** `format/auto`: by Accept header as sent (browsers send a handful of distinct ones). */
  byAccept: Map<string | undefined, Identity>;
}

/** URLs remembered (each a few hundred bytes), as many as the route's parse cache holds. */
const MAX_ROUTES = 10_000;
/** Distinct Accept headers remembered per `format/auto` URL; others are negotiated per request. */
const MAX_ACCEPTS_PER_ROUTE = 16;

export function createFastLane(ctx: HttpContext, paths: ParsedPaths): (request: IncomingMessage, response: ServerResponse) => boolean {
  const prefix = ctx.config.http.deliveryPrefix;
  const route = `${prefix}/:uuid/*`;
  const transform = ctx.services.transform;
  // Headers built once per cached derivative (and URL shape), reused until the entry leaves memory.
  // An entry is stored under its file's uuid, so the uuid in its tags is the same on every reuse.
  const prepared = new WeakMap<Derivative, PreparedHeaders>();
  // Insertion order evicts: a parse cache, not a hit cache (the derivative itself is looked up every time).
  const routes = new Map<string, HitRoute | null>();

  const remember = (url: string, hitRoute: HitRoute | null) => {
    if (routes.size >= MAX_ROUTES) routes.delete(routes.keys().next().value!);
    routes.set(url, hitRoute);
  };

  /** The URL's route: null when the fast lane never answers it, undefined when its tail was not parsed yet. */
  const routeOf = (url: string): HitRoute | null | undefined => {
    const known = routes.get(url);
    if (known !== undefined) return known;
    // Only delivery URLs are remembered: other traffic must not push the hot ones out.
    if (url.includes('?') || (prefix !== '' && !url.startsWith(`${prefix}/`))) return null;
    const match = UUID_PATH.exec(prefix === '' ? url : url.slice(prefix.length));
    if (!match) return null;
    const plan = paths.peek(match[2]!);
    if (!plan) return undefined;
    if (!plan.transforms) {
      remember(url, null);
      return null;
    }
    const uuid = match[1]!;
    const probe = transform.identityOf(uuid, plan, undefined);
    const hitRoute: HitRoute = { uuid, plan, fixed: probe.varyAccept ? null : probe, byAccept: new Map() };
    remember(url, hitRoute);
    return hitRoute;
  };

  const identityFor = (hitRoute: HitRoute, accept: string | undefined): Identity => {
    if (hitRoute.fixed) return hitRoute.fixed;
    let identity = hitRoute.byAccept.get(accept);
    if (identity === undefined) {
      identity = transform.identityOf(hitRoute.uuid, hitRoute.plan, accept);
      if (hitRoute.byAccept.size < MAX_ACCEPTS_PER_ROUTE) hitRoute.byAccept.set(accept, identity);
    }
    return identity;
  };

  return (request, response) => {
    const method = request.method;
    if (method !== 'GET' && method !== 'HEAD') return false;
    const hitRoute = routeOf(request.url ?? '');
    if (!hitRoute) return false;
    const started = performance.now();
    const identity = identityFor(hitRoute, request.headers.accept);
    const entry = transform.peekKey(identity.key);
    if (!entry) return false;
    let headers = prepared.get(entry);
    if (!headers || headers.plan !== hitRoute.plan || headers.etag !== identity.etag) {
      headers = prepareHeaders(hitRoute.uuid, entry, hitRoute.plan, identity.etag, identity.varyAccept);
      prepared.set(entry, headers);
    }
    ctx.services.usage.record(hitRoute.uuid, 'hit');
    if (matchesEtag(request.headers['if-none-match'], identity.etag)) {
      response.writeHead(304, headers.notModified).end();
      ctx.metrics.http.record(method, route, 304, (performance.now() - started) / 1000);
      return true;
    }
    response.writeHead(200, headers.ok);
    if (method === 'HEAD') response.end();
    else {
      response.end(entry.data);
      ctx.metrics.deliveredBytes.derivative = (ctx.metrics.deliveredBytes.derivative ?? 0) + entry.data.length;
    }
    ctx.metrics.http.record(method, route, 200, (performance.now() - started) / 1000);
    return true;
  };
}
