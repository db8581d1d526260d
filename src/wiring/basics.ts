import type { Config } from '../config/config.js';
import type { Metrics } from '../observability/metrics.js';
import type { Clock } from '../lib/clock.js';

/** The log calls services make; pino's logger is one. */
export interface ServiceLogger {
  info(object: Record<string, unknown>, message: string): void;
  warn(object: Record<string, unknown>, message: string): void;
  error(object: Record<string, unknown>, message: string): void;
}

export const silentLogger: ServiceLogger = { info: () => undefined, warn: () => undefined, error: () => undefined };

/** What every area of the wiring reads. */
export interface Basics {
  config: Config;
  clock: Clock;
  logger: ServiceLogger;
  metrics: Metrics;
}
