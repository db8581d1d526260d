// Writes docs/errors.md, the table of Trove's error codes, from ERROR_CODES in src/error-codes.ts.
// Usage: tsx scripts/error-docs.ts (npm run docs:errors). test/unit/error-codes.test.ts fails when the file is stale.
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { ERROR_CODES, type ErrorApi, type ErrorCodeEntry } from '../src/error-codes.js';

export const ERROR_DOCS_FILE = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', 'docs', 'errors.md');

const API_NAMES: Record<ErrorApi, string> = {
  upload: 'Upload API',
  rest: 'REST API',
  cdn: 'CDN',
  dashboard: 'Dashboard',
  cli: 'Command line',
  any: 'Any',
};

/** A table cell holds one line, and a `|` would end it early. */
const cell = (text: string): string => text.replace(/\|/g, '\\|').replace(/\s*\n\s*/g, ' ');

function row(code: string, entry: ErrorCodeEntry): string {
  return `| \`${code}\` | ${entry.statuses.join(', ')} | ${API_NAMES[entry.api]} | ${cell(entry.meaning)} |`;
}

/** The whole of docs/errors.md. */
export function renderErrorDocs(): string {
  const entries: Array<[string, ErrorCodeEntry]> = Object.entries(ERROR_CODES);
  return [
    '# Error codes',
    '',
    '<!-- Generated from src/error-codes.ts by `npm run docs:errors`; edit the catalogue, not this file. -->',
    '',
    'Every error Trove answers with carries one of these codes. The Upload API sends it as',
    '`error.error_code` (Uploadcare\'s names), the CDN, the dashboard and Trove\'s other routes as `code`;',
    'the REST API answers in Uploadcare\'s shape, `{"detail": "…"}`, so there the code shows only in',
    'Trove\'s logs and metrics. A code may come with more than one status: the meaning says when.',
    '',
    'A 4xx error raised by Fastify or one of its plugins (a `FST_…` code, or `BadRequest` when it has none) is passed on',
    'with its own code and status and is not listed here.',
    '',
    '| Code | Status | API | Meaning |',
    '| --- | --- | --- | --- |',
    ...entries.map(([code, entry]) => row(code, entry)),
    '',
  ].join('\n');
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  await writeFile(ERROR_DOCS_FILE, renderErrorDocs());
  console.log(`Error codes written to ${path.relative(process.cwd(), ERROR_DOCS_FILE) || ERROR_DOCS_FILE}`);
}
