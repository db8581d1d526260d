import pino from 'pino';
import { buildApp } from '../app.js';
import type { Config } from '../config/config.js';
import { createContext } from '../context.js';
import { loggerOptions } from '../observability/logger.js';
import { printBootstrapKeys } from './print.js';

/** `trove serve`: runs the configured roles until SIGINT/SIGTERM, then drains and closes. */
export async function serve(config: Config): Promise<void> {
  const logger = pino(loggerOptions(config));
  const ctx = await createContext(config, { logger });
  const bootstrap = await ctx.services.projects.ensureDefaultProject(config.bootstrap);
  if (bootstrap?.created) printBootstrapKeys(bootstrap);

  const app = await buildApp(ctx, { loggerInstance: logger });
  if (config.roles.has('worker')) {
    ctx.services.sweeper.start(config.upload.sweepIntervalMs);
    void ctx.services.sweeper.sweep().catch(() => undefined);
  }
  await app.listen({ port: config.port, host: config.host });
  logger.info(
    {
      roles: [...config.roles],
      database: config.database.kind,
      storage: config.storage.kind,
      uploadApi: `${config.http.uploadPrefix}/`,
    },
    `Trove is serving on http://${config.host === '0.0.0.0' ? 'localhost' : config.host}:${config.port}`,
  );

  let closing = false;
  const shutdown = async (signal: string) => {
    if (closing) return;
    closing = true;
    logger.info({ signal }, 'shutting down: finishing requests in flight');
    const force = setTimeout(() => process.exit(1), 30_000);
    force.unref();
    try {
      await app.close();
      await ctx.close();
      process.exit(0);
    } catch (error) {
      logger.error({ err: error }, 'shutdown failed');
      process.exit(1);
    }
  };
  process.once('SIGINT', () => void shutdown('SIGINT'));
  process.once('SIGTERM', () => void shutdown('SIGTERM'));
}
