/**
 * The server under fuzzing: a real Trove (embedded SQLite and filesystem storage) on a loopback port,
 * configured so that fuzzing measures parsers rather than quotas: rate limits off, small output images.
 */
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { buildApp } from '../../src/app.js';
import { loadConfig } from '../../src/config/load-config.js';
import { createTrove } from '../../src/context.js';
import { FetchError } from '../../src/ports/fetcher.js';
import { FUZZ_KEYS } from './keys.js';

export interface FuzzTrove {
  url: string;
  port: number;
  close(): Promise<void>;
}

export async function startFuzzTrove(options: { logLevel?: string; env?: Record<string, string> } = {}): Promise<FuzzTrove> {
  // Memory-backed when the machine has it: every upload's fsync would otherwise set the pace.
  const dataDir = await mkdtemp(path.join(existsSync('/dev/shm') ? '/dev/shm' : tmpdir(), 'trove-fuzz-'));
  const config = loadConfig({
    DATA_DIR: dataDir,
    LOG_LEVEL: options.logLevel ?? 'silent',
    TROVE_PUBLIC_KEY: FUZZ_KEYS.main.publicKey,
    TROVE_SECRET_KEY: FUZZ_KEYS.main.secretKey,
    // No background worker: nothing runs that a response does not wait for.
    TROVE_ROLES: 'upload,api,delivery',
    TROVE_RATE_LIMIT_REST_READ: 'off',
    TROVE_RATE_LIMIT_REST_WRITE: 'off',
    TROVE_RATE_LIMIT_UPLOAD: 'off',
    TROVE_RATE_LIMIT_DELIVERY_MISS: 'off',
    // Big outputs would measure the image encoder, not the URL grammar.
    TROVE_MAX_OUTPUT_DIMENSION: '1024',
    // Fixtures above this are streamed from storage, so ranges take both paths.
    TROVE_ORIGINAL_CACHE_MAX_ENTRY: '1KiB',
    ...options.env,
  });
  const ctx = await createTrove(config, { collectDefaultMetrics: false });
  // Generated source and webhook URLs must never leave the machine: every fetch is refused at once.
  ctx.fetcher.fetch = async (url: string) => {
    throw new FetchError('URL_HOST_FORBIDDEN', `fuzzing: no fetches (${url.slice(0, 100)})`);
  };
  await ctx.services.projects.ensureDefaultProject(config.bootstrap);
  for (const [name, keys, signedUploads] of [['fuzz sandbox', FUZZ_KEYS.sandbox, false], ['fuzz signed', FUZZ_KEYS.signed, true]] as const) {
    await ctx.services.projects.create({ name, publicKey: keys.publicKey, signedUploads });
    await ctx.services.projects.addSecret(keys.publicKey, keys.secretKey);
  }
  const app = await buildApp(ctx.http, options.logLevel && options.logLevel !== 'silent' ? {} : { logger: false });
  await app.listen({ host: '127.0.0.1', port: 0 });
  const address = app.server.address();
  if (address === null || typeof address === 'string') throw new Error('server has no port');
  return {
    url: `http://127.0.0.1:${address.port}`,
    port: address.port,
    async close() {
      await app.close();
      await ctx.close();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}
