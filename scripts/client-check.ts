// Fails when client/openapi.json or client/trove-client.ts is not what the current routes generate.
// Usage: tsx scripts/client-check.ts
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { buildOpenApiDocument } from './client-generator/document.js';
import { emitClient, loadRuntimeSource } from './client-generator/emit.js';
import { CLIENT_FILE, GENERATE_COMMAND, OPENAPI_FILE, REPOSITORY_ROOT } from './client-generator/files.js';
import { stableJsonFile } from './client-generator/stable-json.js';

async function committed(file: string): Promise<string | null> {
  return readFile(path.join(REPOSITORY_ROOT, file), 'utf8').catch(() => null);
}

const document = await buildOpenApiDocument();
const fresh = new Map<string, string>([
  [OPENAPI_FILE, stableJsonFile(document)],
  [CLIENT_FILE, emitClient(document, { command: GENERATE_COMMAND, source: OPENAPI_FILE, runtime: loadRuntimeSource() })],
]);

const tempDir = await mkdtemp(path.join(tmpdir(), 'trove-client-check-'));
const stale: string[] = [];
for (const [file, text] of fresh) {
  const regenerated = path.join(tempDir, path.basename(file));
  await writeFile(regenerated, text);
  if ((await committed(file)) !== text) stale.push(`  ${file} differs from the regenerated ${regenerated}`);
}
if (stale.length > 0) {
  console.error(
    [
      'The generated client is out of date with the routes:',
      ...stale,
      `Run \`${GENERATE_COMMAND}\` and commit client/.`,
    ].join('\n'),
  );
  process.exitCode = 1;
} else {
  await rm(tempDir, { recursive: true, force: true });
  console.log(`${OPENAPI_FILE} and ${CLIENT_FILE} are up to date.`);
}
