import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { buildApp } from '../../src/app.js';
import { loadConfig } from '../../src/config/load-config.js';
import { createTrove } from '../../src/context.js';
import type { OpenApiDocument } from './openapi-types.js';
import { sortKeys } from './stable-json.js';

/**
 * The OpenAPI document of a Trove with every role and the default prefixes, built without listening on a
 * port, on a throwaway SQLite database and blob folder. The operator's environment is not read, so the
 * document is the same on every machine.
 */
export async function buildOpenApiDocument(): Promise<OpenApiDocument> {
  const dataDir = await mkdtemp(path.join(tmpdir(), 'trove-openapi-'));
  try {
    const config = loadConfig({ DATA_DIR: dataDir, LOG_LEVEL: 'silent' });
    const ctx = await createTrove(config, { collectDefaultMetrics: false });
    try {
      const app = await buildApp(ctx.http, { logger: false });
      try {
        await app.ready();
        return sortKeys(app.swagger()) as unknown as OpenApiDocument;
      } finally {
        await app.close();
      }
    } finally {
      await ctx.close();
    }
  } finally {
    await rm(dataDir, { recursive: true, force: true });
  }
}
