import { ERROR_CODES, type ErrorCode, type StatusOf } from './error-codes.js';

export type { ErrorCode, StatusOf } from './error-codes.js';

declare const frameworkCode: unique symbol;

/**
 * The code of a 4xx error that Fastify or one of its plugins raised (`FST_…`, or `BadRequest` when it
 * had none), passed to the client as it came. Only {@link AppError.fromFramework} makes one, so every
 * other AppError carries a code of the catalogue.
 */
type FrameworkErrorCode = string & { readonly [frameworkCode]: true };

/**
 * A refusal keyed by the fields it is about, as Uploadcare's search answers one: each field maps to
 * its messages, or to the errors of its own fields; `non_field_errors` holds what concerns the level
 * it sits on rather than one field.
 */
export interface FieldErrors {
  [field: string]: string[] | FieldErrors;
}

interface AppErrorOptions {
  details?: Record<string, unknown>;
  /** REST routes answer these instead of `{"detail"}`. */
  fields?: FieldErrors;
  /** Extra response headers, e.g. Retry-After. */
  headers?: Record<string, string>;
  cause?: unknown;
}

/**
 * Typed application errors. Services throw them; one HTTP error handler renders them, in the
 * Upload API's shape on upload routes and in Trove's own shape elsewhere. The code must be one of
 * ERROR_CODES (src/error-codes.ts) and the status one of that code's statuses.
 */
export class AppError<C extends ErrorCode = ErrorCode> extends Error {
  readonly statusCode: number;
  /** Stable machine-readable code (Uploadcare's error_code names where one exists). */
  readonly code: ErrorCode | FrameworkErrorCode;
  readonly details: Record<string, unknown> | undefined;
  /** Extra response headers, e.g. Retry-After. */
  readonly headers: Record<string, string> | undefined;
  /** Per-field refusals, answered by REST routes in place of `{"detail"}`. */
  readonly fields: FieldErrors | undefined;

  constructor(code: C, statusCode: StatusOf<C>, message: string, options?: AppErrorOptions);
  constructor(code: FrameworkErrorCode, statusCode: number, message: string);
  constructor(code: C | FrameworkErrorCode, statusCode: number, message: string, options?: AppErrorOptions) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'AppError';
    this.code = code;
    this.statusCode = statusCode;
    this.details = options?.details;
    this.headers = options?.headers;
    this.fields = options?.fields;
  }

  /** A client error raised by Fastify or a plugin, answered with its own code and status. */
  static fromFramework(code: string | undefined, statusCode: number, message: string): AppError {
    return new AppError((code ?? 'BadRequest') as FrameworkErrorCode, statusCode, message);
  }
}

export function createAppError<C extends ErrorCode>(code: C, statusCode: StatusOf<C>, message: string, options?: AppErrorOptions): AppError {
  return new AppError(code, statusCode, message, options);
}

/**
 * An AppError that arrived from another Trove node as its code, status and message; null when the
 * pair is not in the catalogue (then it is not one Trove answers, and the caller treats it as a failure).
 */
export function appErrorFromPeer(code: string, statusCode: number, message: string, headers?: Record<string, string>): AppError | null {
  if (!Object.hasOwn(ERROR_CODES, code)) return null;
  const known = code as ErrorCode;
  const statuses: readonly number[] = ERROR_CODES[known].statuses;
  if (!statuses.includes(statusCode)) return null;
  return new AppError(known, statusCode as StatusOf<ErrorCode>, message, headers ? { headers } : undefined);
}

export function isAppError(value: unknown): value is AppError {
  return value instanceof AppError;
}

/** Raised at start when the environment holds invalid settings; one line per bad value. */
export class ConfigError extends Error {
  readonly problems: string[];
  constructor(problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
    this.problems = problems;
  }
}
