// Writes client/trove-client.ts (or --out <file>) from client/openapi.json (or --in <file>).
// Usage: tsx scripts/generate-client.ts [--in <file>] [--out <file>]
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { emitClient, loadRuntimeSource } from './client-generator/emit.js';
import { CLIENT_FILE, GENERATE_COMMAND, OPENAPI_FILE, REPOSITORY_ROOT } from './client-generator/files.js';
import type { OpenApiDocument } from './client-generator/openapi-types.js';

const { values } = parseArgs({ options: { in: { type: 'string' }, out: { type: 'string' } } });
const input = path.resolve(REPOSITORY_ROOT, values.in ?? OPENAPI_FILE);
const out = path.resolve(REPOSITORY_ROOT, values.out ?? CLIENT_FILE);
const document = JSON.parse(await readFile(input, 'utf8')) as OpenApiDocument;
const source = emitClient(document, { command: GENERATE_COMMAND, source: OPENAPI_FILE, runtime: loadRuntimeSource() });
await mkdir(path.dirname(out), { recursive: true });
await writeFile(out, source);
console.log(`Client written to ${path.relative(process.cwd(), out) || out}`);
