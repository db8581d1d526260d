import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { HttpContext } from '../../http-context.js';
import { createAppError } from '../../../errors.js';
import type { WebAssets } from '../../../web/web-assets.js';
import type { WebAssetName } from '../../../web/web-bundle.js';
import { cdnBase, originOf, uploadBase } from '../../public-urls.js';
import { sendAsset } from '../web/asset-reply.js';
import { registerDashboardSession } from './session.js';
import { dashboardShell } from './shell.js';

const ASSETS: ReadonlySet<string> = new Set<WebAssetName>(['dashboard.js', 'dashboard.css']);

/** `/dashboard`: the media library's page, its bundles and its sign-in API. */
export async function dashboardRoutes(app: FastifyInstance, options: { ctx: HttpContext; assets: WebAssets }): Promise<void> {
  const { ctx, assets } = options;
  registerDashboardSession(app, ctx);

  app.get('/dashboard/assets/:name', { schema: { hide: true } }, async (request, reply) => {
    const name = (request.params as { name: string }).name;
    if (!ASSETS.has(name)) throw createAppError('NOT_FOUND', 404, 'Not found.');
    const asset = await assets.get(name as WebAssetName);
    if (!asset) throw createAppError('NOT_FOUND', 404, 'Not found.');
    return sendAsset(request, reply, asset, 'no-cache');
  });

  const page = async (request: FastifyRequest, reply: FastifyReply) => {
    const origin = originOf(request, ctx.config);
    const html = dashboardShell({
      restBase: `${origin}${ctx.config.http.restPrefix}`,
      uploadBase: uploadBase(request, ctx.config),
      cdnBase: cdnBase(request, ctx.config),
      widgetUrl: `${origin}/widget.js`,
      // The playground checks sizes against the limit the URL parser applies, not a copy of it.
      maxOutputDimension: ctx.config.transform.maxOutputDimension,
    });
    return reply
      .header('cache-control', 'no-store')
      .header('x-frame-options', 'DENY')
      .header('referrer-policy', 'same-origin')
      .header('x-content-type-options', 'nosniff')
      .header(
        'content-security-policy',
        "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src * data: blob:; media-src * blob:; connect-src *; frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
      )
      .type('text/html; charset=utf-8')
      .send(html);
  };
  app.get('/dashboard', { schema: { hide: true } }, page);
  // Views are client-side routes: a reload on /dashboard/files/… must get the page too.
  app.get('/dashboard/*', { schema: { hide: true } }, page);
}
