// Writes the browser bundles (upload widget, dashboard) next to the compiled server: dist/web.
import { mkdir, writeFile } from 'node:fs/promises';
import { bundleWebAssets } from '../dist/src/web/web-bundle.js';

const outDir = new URL('../dist/web/', import.meta.url);
await mkdir(outDir, { recursive: true });
for (const [name, body] of await bundleWebAssets({ minify: true })) {
  await writeFile(new URL(name, outDir), body);
}
