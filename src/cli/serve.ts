import cluster from 'node:cluster';
import pino, { type Logger } from 'pino';
import { buildApp } from '../app.js';
import { runsJobs, transformsOnly, type Config } from '../config/config.js';
import { createTransformNodeContext, createTrove, type Trove } from '../context.js';
import { loggerOptions } from '../observability/logger.js';
import { allocatorWarning, runsOnGlibc } from '../runtime/malloc-arenas.js';
import { startClusterPrimary } from '../wiring/coordination.js';
import { printBootstrapKeys } from './print.js';

/**
 * `trove serve`. With TROVE_WORKERS=1 one process does everything. With more, the primary process
 * migrates, creates the default project and runs the background sweep, and forks that many HTTP
 * processes sharing the port, so request handling uses every core; a crashed HTTP process is
 * replaced.
 */
export async function serve(config: Config): Promise<void> {
  const logger = pino(loggerOptions(config));
  if (!cluster.isWorker) {
    const warning = allocatorWarning({ platform: process.platform, glibc: runsOnGlibc(), ...config.allocator });
    if (warning) logger.warn(warning);
  }
  if (transformsOnly(config.roles)) {
    if (config.workers > 1 && cluster.isPrimary) return runTransformPrimary(config, logger);
    return runTransformNode(config, logger);
  }
  if (config.workers > 1 && cluster.isPrimary) return runPrimary(config, logger);
  if (cluster.isWorker) return runHttp(config, logger, { background: false });
  return runHttp(config, logger, { background: true });
}

async function prepare(config: Config, logger: Logger): Promise<Trove> {
  const trove = await createTrove(config, { logger });
  const bootstrap = await trove.services.projects.ensureDefaultProject(config.bootstrap);
  if (bootstrap?.created) printBootstrapKeys(bootstrap);
  return trove;
}

function startBackground(trove: Trove, config: Config, logger: Logger): void {
  if (!runsJobs(config.roles)) return;
  if (config.roles.has('worker')) trove.startSweeper();
  trove.startJobs({ dispatchIntervalMs: 5_000 }).catch((error: unknown) => {
    // A job without a handler is a build defect: better to stop than to let its jobs pile up.
    logger.fatal({ err: error }, 'the job worker could not start');
    process.exit(1);
  });
}

function onSignals(logger: Logger, stop: () => Promise<void>): void {
  let closing = false;
  const shutdown = async (signal: string) => {
    if (closing) return;
    closing = true;
    logger.info({ signal }, 'shutting down: finishing requests in flight');
    const force = setTimeout(() => process.exit(1), 30_000);
    force.unref();
    try {
      await stop();
      process.exit(0);
    } catch (error) {
      logger.error({ err: error }, 'shutdown failed');
      process.exit(1);
    }
  };
  process.once('SIGINT', () => void shutdown('SIGINT'));
  process.once('SIGTERM', () => void shutdown('SIGTERM'));
}

async function runHttp(config: Config, logger: Logger, options: { background: boolean }): Promise<void> {
  const trove = options.background ? await prepare(config, logger) : await createTrove(config, { logger });
  const app = await buildApp(trove.http, { loggerInstance: logger });
  if (options.background) startBackground(trove, config, logger);
  await app.listen({ port: config.port, host: config.host });
  if (!cluster.isWorker) logStarted(config, logger);
  onSignals(logger, async () => {
    await app.close();
    await trove.close();
  });
}

/**
 * Forks TROVE_WORKERS HTTP processes, replaces any that exit, and on a signal stops them, then runs
 * `stop` (what the primary itself holds).
 */
function superviseWorkers(config: Config, logger: Logger, stop: () => Promise<void>): void {
  let stopping = false;
  cluster.on('exit', (worker, code, signal) => {
    if (stopping) return;
    logger.error({ pid: worker.process.pid, code, signal }, 'HTTP process exited; starting a replacement');
    setTimeout(() => cluster.fork(), 1_000).unref();
  });
  for (let i = 0; i < config.workers; i++) cluster.fork();
  let listening = 0;
  cluster.on('listening', () => {
    listening++;
    if (listening === config.workers) logStarted(config, logger);
  });
  onSignals(logger, async () => {
    stopping = true;
    await stopWorkers();
    await stop();
  });
}

async function runPrimary(config: Config, logger: Logger): Promise<void> {
  startClusterPrimary();
  const trove = await prepare(config, logger);
  startBackground(trove, config, logger);
  superviseWorkers(config, logger, () => trove.close());
}

/** A transform-only process: no database, no migrations, no background work; one HTTP server. */
async function runTransformNode(config: Config, logger: Logger): Promise<void> {
  const node = createTransformNodeContext(config, { logger });
  const app = await buildApp(node.http, { loggerInstance: logger });
  await app.listen({ port: config.port, host: config.host });
  if (!cluster.isWorker) logStarted(config, logger);
  onSignals(logger, async () => {
    await app.close();
    await node.close();
  });
}

/** Transform-only with TROVE_WORKERS > 1: the primary only forks and replaces HTTP processes (it has nothing to prepare). */
function runTransformPrimary(config: Config, logger: Logger): void {
  superviseWorkers(config, logger, async () => undefined);
}

async function stopWorkers(): Promise<void> {
  const workers = Object.values(cluster.workers ?? {});
  await Promise.all(
    workers.map(
      (worker) =>
        new Promise<void>((resolve) => {
          if (!worker || worker.isDead()) return resolve();
          worker.once('exit', () => resolve());
          worker.process.kill('SIGTERM');
        }),
    ),
  );
}

function logStarted(config: Config, logger: Logger): void {
  logger.info(
    transformsOnly(config.roles)
      ? { roles: [...config.roles], processes: config.workers, database: 'none', storage: config.storage.kind }
      : {
          roles: [...config.roles],
          processes: config.workers,
          database: config.database.kind,
          storage: config.storage.kind,
          uploadApi: `${config.http.uploadPrefix}/`,
          transformNodes: config.transformTier.nodes.length > 0 ? config.transformTier.nodes : 'in process',
        },
    `Trove is serving on http://${config.host === '0.0.0.0' ? 'localhost' : config.host}:${config.port}`,
  );
}
