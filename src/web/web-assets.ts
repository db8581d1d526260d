import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { bundleWebAssets, toWebAsset, WEB_ASSET_NAMES, type WebAsset, type WebAssetName } from './web-bundle.js';

/** Bundles written by `npm run build`, beside the compiled server (dist/web). */
const BUILT_DIR = new URL('../../web/', import.meta.url);
const RUNNING_FROM_SOURCE = import.meta.url.endsWith('.ts');

/**
 * The browser code, loaded once per process: from dist/web when the server runs compiled, bundled in
 * memory when it runs from the TypeScript sources (development and tests), so it is never stale.
 */
export class WebAssets {
  private loading: Promise<Map<WebAssetName, WebAsset>> | null = null;

  get(name: WebAssetName): Promise<WebAsset | undefined> {
    this.loading ??= this.load().catch((error: unknown) => {
      this.loading = null;
      throw error;
    });
    return this.loading.then((assets) => assets.get(name));
  }

  private async load(): Promise<Map<WebAssetName, WebAsset>> {
    const assets = new Map<WebAssetName, WebAsset>();
    if (RUNNING_FROM_SOURCE) {
      for (const [name, body] of await bundleWebAssets({ minify: false })) assets.set(name, toWebAsset(name, body));
      return assets;
    }
    for (const name of WEB_ASSET_NAMES) {
      assets.set(name, toWebAsset(name, await readFile(fileURLToPath(new URL(name, BUILT_DIR)))));
    }
    return assets;
  }
}
