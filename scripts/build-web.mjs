// Writes the browser bundles (upload widget, dashboard) next to the compiled server: dist/web.
import { mkdir, writeFile } from 'node:fs/promises';
import { bundleWebApp } from '../dist/src/web/web-bundle.js';

const outDir = new URL('../dist/web/', import.meta.url);
await mkdir(outDir, { recursive: true });
for (const app of ['widget', 'dashboard']) {
  for (const [name, body] of await bundleWebApp(app, { minify: true })) {
    await writeFile(new URL(name, outDir), body);
  }
}
