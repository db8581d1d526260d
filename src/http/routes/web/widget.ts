import type { FastifyInstance } from 'fastify';
import type { Config } from '../../../config/config.js';
import { createAppError } from '../../../errors.js';
import type { WebAssets } from '../../../web/web-assets.js';
import { toWebAsset, type WebAsset } from '../../../web/web-bundle.js';
import { sendAsset } from './asset-reply.js';

/** The placeholder in the widget's source (web/widget/server-paths.ts) that carries this server's API paths. */
const PATHS_PLACEHOLDER = '__TROVE_SERVER_PATHS__';

/**
 * The widget learns where the Upload API and delivery live on this server from its own bundle, so
 * `<trove-uploader base-url="https://trove.example">` needs only the origin whatever the prefixes.
 */
function withServerPaths(bundle: Buffer, config: Pick<Config, 'http'>): WebAsset {
  const paths = JSON.stringify({ upload: config.http.uploadPrefix, cdn: config.http.deliveryPrefix });
  // Escaped as the inside of a string literal, so it fits whichever quotes the bundler chose.
  const escaped = JSON.stringify(paths).slice(1, -1);
  return toWebAsset('widget.js', Buffer.from(bundle.toString('utf8').replaceAll(PATHS_PLACEHOLDER, escaped), 'utf8'));
}

/** `GET /widget.js`: the `<trove-uploader>` web component, importable as an ES module from any origin. */
export async function widgetRoutes(app: FastifyInstance, options: { assets: WebAssets; config: Pick<Config, 'http'> }): Promise<void> {
  let prepared: { from: WebAsset; asset: WebAsset } | null = null;
  app.get('/widget.js', { schema: { tags: ['Widget'], summary: 'Upload widget (ES module defining <trove-uploader>)' } }, async (request, reply) => {
    const bundle = await options.assets.get('widget.js');
    if (!bundle) throw createAppError('NOT_FOUND', 404, 'The widget bundle is missing; run npm run build.');
    if (prepared?.from !== bundle) prepared = { from: bundle, asset: withServerPaths(bundle.body, options.config) };
    // Module scripts are fetched in CORS mode, so every embedding site needs this header.
    void reply.header('access-control-allow-origin', '*').header('cross-origin-resource-policy', 'cross-origin');
    return sendAsset(request, reply, prepared.asset, 'public, max-age=300, stale-while-revalidate=86400');
  });
}
