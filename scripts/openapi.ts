// Writes the OpenAPI document of a Trove with every role and the default prefixes to client/openapi.json
// (or --out <file>), keys sorted. Usage: tsx scripts/openapi.ts [--out <file>]
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { buildOpenApiDocument } from './client-generator/document.js';
import { OPENAPI_FILE, REPOSITORY_ROOT } from './client-generator/files.js';
import { stableJsonFile } from './client-generator/stable-json.js';

const { values } = parseArgs({ options: { out: { type: 'string' } } });
const out = path.resolve(REPOSITORY_ROOT, values.out ?? OPENAPI_FILE);
const document = await buildOpenApiDocument();
await mkdir(path.dirname(out), { recursive: true });
await writeFile(out, stableJsonFile(document));
console.log(`OpenAPI document written to ${path.relative(process.cwd(), out) || out}`);
