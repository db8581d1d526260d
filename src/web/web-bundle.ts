import { createHash } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { brotliCompressSync, constants as zlibConstants, gzipSync } from 'node:zlib';

/** One file of the browser bundle, ready to serve. */
export interface WebAsset {
  body: Buffer;
  /** Compressed once when loaded, so each request costs no compression. */
  brotli: Buffer;
  gzip: Buffer;
  contentType: string;
  /** Strong validator: browsers and CDNs revalidate the unversioned URLs cheaply. */
  etag: string;
}

/** The browser code Trove serves: the upload widget and the dashboard. */
export type WebAssetName = 'widget.js' | 'dashboard.js' | 'dashboard.css';

const WEB_ASSET_NAMES: readonly WebAssetName[] = ['widget.js', 'dashboard.js', 'dashboard.css'];

const CONTENT_TYPES: Record<WebAssetName, string> = {
  'widget.js': 'text/javascript; charset=utf-8',
  'dashboard.js': 'text/javascript; charset=utf-8',
  'dashboard.css': 'text/css; charset=utf-8',
};

export function toWebAsset(name: WebAssetName, body: Buffer): WebAsset {
  return {
    body,
    brotli: brotliCompressSync(body, { params: { [zlibConstants.BROTLI_PARAM_QUALITY]: 11, [zlibConstants.BROTLI_PARAM_SIZE_HINT]: body.length } }),
    gzip: gzipSync(body, { level: 9 }),
    contentType: CONTENT_TYPES[name],
    etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 27)}"` };
}

/** Where the sources of the browser code live, relative to this module (src/web or dist/src/web). */
function webSourceDir(fromModuleUrl: string = import.meta.url): string {
  const here = fileURLToPath(new URL('.', fromModuleUrl));
  const root = here.includes(`${'/'}dist${'/'}src${'/'}`) ? new URL('../../../', fromModuleUrl) : new URL('../../', fromModuleUrl);
  return fileURLToPath(new URL('web/', root));
}

/** The two browser apps, each bundled on its own so a broken one never takes the other down. */
export type WebApp = 'widget' | 'dashboard';

export const WEB_APP_OF: Record<WebAssetName, WebApp> = { 'widget.js': 'widget', 'dashboard.js': 'dashboard', 'dashboard.css': 'dashboard' };

const ENTRIES: Record<WebApp, string> = { widget: 'widget/index.ts', dashboard: 'dashboard/main.tsx' };

/**
 * Bundles one app with esbuild (a build-time tool). `npm run build` writes the result to dist/web;
 * a server started from the TypeScript sources bundles in memory instead.
 */
export async function bundleWebApp(app: WebApp, options: { minify: boolean } = { minify: true }): Promise<Map<WebAssetName, Buffer>> {
  const esbuild = await import('esbuild');
  const result = await esbuild.build({
    entryPoints: { [app]: `${webSourceDir()}${ENTRIES[app]}` },
    bundle: true,
    format: 'esm',
    target: ['es2020', 'chrome100', 'firefox100', 'safari15'],
    platform: 'browser',
    jsx: 'automatic',
    jsxImportSource: 'preact',
    minify: options.minify,
    sourcemap: false,
    legalComments: 'none',
    write: false,
    outdir: '/out',
    logLevel: 'silent',
  });
  const assets = new Map<WebAssetName, Buffer>();
  for (const file of result.outputFiles) {
    const name = file.path.slice('/out/'.length) as WebAssetName;
    if (WEB_ASSET_NAMES.includes(name)) assets.set(name, Buffer.from(file.contents));
  }
  for (const name of WEB_ASSET_NAMES) if (WEB_APP_OF[name] === app && !assets.has(name)) assets.set(name, Buffer.alloc(0));
  return assets;
}
