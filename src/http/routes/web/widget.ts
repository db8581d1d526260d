import type { FastifyInstance } from 'fastify';
import { createAppError } from '../../../errors.js';
import type { WebAssets } from '../../../web/web-assets.js';
import { sendAsset } from './asset-reply.js';

/** `GET /widget.js`: the `<trove-uploader>` web component, importable as an ES module from any origin. */
export async function widgetRoutes(app: FastifyInstance, options: { assets: WebAssets }): Promise<void> {
  app.get('/widget.js', { schema: { tags: ['Widget'], summary: 'Upload widget (ES module defining <trove-uploader>)' } }, async (request, reply) => {
    const asset = await options.assets.get('widget.js');
    if (!asset) throw createAppError('NOT_FOUND', 404, 'The widget bundle is missing; run npm run build.');
    // Module scripts are fetched in CORS mode, so every embedding site needs this header.
    void reply.header('access-control-allow-origin', '*').header('cross-origin-resource-policy', 'cross-origin');
    return sendAsset(request, reply, asset, 'public, max-age=300, stale-while-revalidate=86400');
  });
}
