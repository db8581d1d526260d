import { AppError, createAppError } from '../../errors.js';
import { FENCE_MESSAGE } from './migrations/0015-shards.js';

/** Network and server states in which a database cannot answer at all (not errors of one query). */
const UNREACHABLE_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'ENOTFOUND',
  'EHOSTUNREACH',
  'EPIPE',
  // PostgreSQL: connection exceptions, and a server shutting down or starting up.
  '08000',
  '08001',
  '08003',
  '08004',
  '08006',
  '57P01',
  '57P02',
  '57P03',
  // The database itself is gone or refuses connections.
  '3D000',
  '55000',
  'SQLITE_CANTOPEN',
  'SQLITE_IOERR',
  'SQLITE_CORRUPT',
  'SQLITE_NOTADB',
]);

const UNREACHABLE_MESSAGES = [/connection terminated/i, /timeout exceeded when trying to connect/i, /Connection ended/i, /not queryable/i, /database connection is not open/i];

function errorCode(error: Error): string | undefined {
  const code = (error as Error & { code?: unknown }).code;
  return typeof code === 'string' ? code : undefined;
}

/** Whether an error says the database could not be reached (rather than refusing one query). */
function isUnreachable(error: unknown): error is Error {
  if (!(error instanceof Error)) return false;
  const code = errorCode(error);
  if (code !== undefined && (UNREACHABLE_CODES.has(code) || code.startsWith('SQLITE_IOERR'))) return true;
  if (error instanceof AggregateError) return error.errors.some(isUnreachable);
  return UNREACHABLE_MESSAGES.some((pattern) => pattern.test(error.message));
}

/** Whether an error is a write refused by a project's fence (its move is switching shards). */
function isFenced(error: unknown): boolean {
  return error instanceof Error && error.message.includes(FENCE_MESSAGE);
}

/** The seconds a client is told to wait while a project's writes are paused by its move. */
const MOVE_RETRY_AFTER_SECONDS = 2;
/** The seconds a client is told to wait after a shard did not answer. */
const SHARD_RETRY_AFTER_SECONDS = 5;

/** A shard's database error as the client should see it; other errors pass unchanged. */
export function translateShardError(shard: string, error: unknown): unknown {
  if (error instanceof AppError) return error;
  if (isFenced(error)) {
    return createAppError('PROJECT_MOVING', 503, 'This project is moving to another shard; its writes are paused for a few seconds. Try again.', {
      headers: { 'Retry-After': String(MOVE_RETRY_AFTER_SECONDS) },
      cause: error,
    });
  }
  if (isUnreachable(error)) return shardUnavailable(shard, error.message, error);
  return error;
}

/** The 503 a request gets when the shard holding its project's files does not answer. */
export function shardUnavailable(shard: string, reason: string, cause?: unknown): AppError {
  return createAppError('SHARD_UNAVAILABLE', 503, `Shard "${shard}", which holds this project's files, is unavailable: ${reason}`, {
    headers: { 'Retry-After': String(SHARD_RETRY_AFTER_SECONDS) },
    details: { shard },
    ...(cause === undefined ? {} : { cause }),
  });
}
