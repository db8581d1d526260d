import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ERROR_DOCS_FILE, renderErrorDocs } from '../../scripts/error-docs.js';
import { ERROR_CODES, type ErrorCode } from '../../src/error-codes.js';
import { AppError, createAppError } from '../../src/errors.js';

const SRC = path.resolve(import.meta.dirname, '../../src');
const entries = Object.entries(ERROR_CODES) as Array<[ErrorCode, (typeof ERROR_CODES)[ErrorCode]]>;

async function sourceFiles(dir: string): Promise<string[]> {
  const found: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) found.push(...(await sourceFiles(full)));
    else if (entry.name.endsWith('.ts')) found.push(full);
  }
  return found;
}

describe('the error-code catalogue', () => {
  it('gives every code a meaning and only error statuses, at least one', () => {
    expect(entries.length).toBeGreaterThan(0);
    for (const [code, entry] of entries) {
      expect(entry.meaning.trim(), code).not.toBe('');
      expect(entry.meaning, code).toMatch(/[.)]$/);
      expect(entry.statuses.length, code).toBeGreaterThan(0);
      expect(entry.statuses.some((status) => status >= 400 && status <= 599), code).toBe(true);
      for (const status of entry.statuses) expect(status >= 400 && status <= 599, `${code} ${status}`).toBe(true);
      expect(new Set(entry.statuses).size, code).toBe(entry.statuses.length);
    }
  });

  it('lists no code that Trove never answers with', async () => {
    const files = (await sourceFiles(SRC)).filter((file) => !file.endsWith(`${path.sep}error-codes.ts`));
    const source = (await Promise.all(files.map((file) => readFile(file, 'utf8')))).join('\n');
    const unused = entries.map(([code]) => code).filter((code) => !source.includes(`'${code}'`));
    expect(unused).toEqual([]);
  });

  it('is what docs/errors.md shows (run npm run docs:errors after changing it)', async () => {
    const written = await readFile(ERROR_DOCS_FILE, 'utf8');
    expect(written).toBe(renderErrorDocs());
    for (const [code, entry] of entries) expect(written).toContain(`| \`${code}\` | ${entry.statuses.join(', ')} |`);
  });
});

describe('AppError', () => {
  it('carries the catalogued code and the status it was given', () => {
    const error = createAppError('PostRequestParserFailedError', 415, 'Unsupported Content-Type: text/plain', { headers: { 'retry-after': '1' } });
    expect(error).toBeInstanceOf(AppError);
    expect([error.code, error.statusCode, error.message, error.headers]).toEqual(['PostRequestParserFailedError', 415, 'Unsupported Content-Type: text/plain', { 'retry-after': '1' }]);
  });

  it('passes a framework error on with its own code, or BadRequest when it has none', () => {
    expect(AppError.fromFramework('FST_ERR_CTP_INVALID_CONTENT_LENGTH', 400, 'bad length')).toMatchObject({ code: 'FST_ERR_CTP_INVALID_CONTENT_LENGTH', statusCode: 400 });
    expect(AppError.fromFramework(undefined, 416, 'Range Not Satisfiable')).toMatchObject({ code: 'BadRequest', statusCode: 416, message: 'Range Not Satisfiable' });
  });

  // Never called: `npx tsc --noEmit` checks that the compiler refuses these.
  function _refusedAtCompileTime(): void {
    // @ts-expect-error NOT_FOUND is answered with 404 only
    createAppError('NOT_FOUND', 400, 'Not found.');
    // @ts-expect-error not a catalogued code
    createAppError('NO_SUCH_CODE', 400, 'Nothing.');
    // @ts-expect-error PostRequestParserFailedError is 400 or 415
    new AppError('PostRequestParserFailedError', 413, 'Too large.');
    // @ts-expect-error a framework code is made by AppError.fromFramework alone
    new AppError('FST_ERR_SOMETHING', 400, 'Something.');
  }
});
