import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { bundleWebApp, toWebAsset, WEB_APP_OF, type WebApp, type WebAsset, type WebAssetName } from './web-bundle.js';

/** Bundles written by `npm run build`, beside the compiled server (dist/web). */
const BUILT_DIR = new URL('../../web/', import.meta.url);
const RUNNING_FROM_SOURCE = import.meta.url.endsWith('.ts');

/**
 * The browser code, loaded once per process and app: from dist/web when the server runs compiled,
 * bundled in memory when it runs from the TypeScript sources (development and tests), so it is never stale.
 */
export class WebAssets {
  private readonly loading = new Map<WebApp, Promise<Map<WebAssetName, WebAsset>>>();

  async get(name: WebAssetName): Promise<WebAsset | undefined> {
    const app = WEB_APP_OF[name];
    let assets = this.loading.get(app);
    if (!assets) {
      assets = this.load(app);
      this.loading.set(app, assets);
      // A failed build is tried again on the next request (the sources may have been fixed).
      assets.catch(() => this.loading.delete(app));
    }
    return (await assets).get(name);
  }

  private async load(app: WebApp): Promise<Map<WebAssetName, WebAsset>> {
    const assets = new Map<WebAssetName, WebAsset>();
    if (RUNNING_FROM_SOURCE) {
      for (const [name, body] of await bundleWebApp(app, { minify: false })) assets.set(name, toWebAsset(name, body));
      return assets;
    }
    for (const [name, owner] of Object.entries(WEB_APP_OF) as Array<[WebAssetName, WebApp]>) {
      if (owner === app) assets.set(name, toWebAsset(name, await readFile(fileURLToPath(new URL(name, BUILT_DIR)))));
    }
    return assets;
  }
}
