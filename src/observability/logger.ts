import type { LoggerOptions } from 'pino';
import type { Config } from '../config/config.js';

/** Secrets travel in headers, form fields and query strings; none of them may reach a log line. */
const REDACTED_PATHS = [
  'req.headers.authorization',
  'req.headers.cookie',
  'req.headers["x-api-key"]',
  'res.headers["set-cookie"]',
  '*.secret',
  '*.secretKey',
  '*.signature',
  '*.password',
  '*.secret_access_key',
  '*.secretAccessKey',
  '*.apiToken',
  'req.headers["x-csrf-token"]',
];

export function loggerOptions(config: Pick<Config, 'logLevel'>): LoggerOptions {
  return {
    level: config.logLevel,
    redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
    serializers: {
      req(request: { method: string; url: string; id: string; ip?: string }) {
        // Query strings carry signatures and part tokens: log the path only.
        return { id: request.id, method: request.method, path: request.url.split('?')[0], ip: request.ip };
      },
    },
  };
}
