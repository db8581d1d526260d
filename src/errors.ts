/**
 * Typed application errors. Services throw them; one HTTP error handler renders them, in the
 * Upload API's shape on upload routes and in Trove's own shape elsewhere.
 */
export class AppError extends Error {
  readonly statusCode: number;
  /** Stable machine-readable code (Uploadcare's error_code names where one exists). */
  readonly code: string;
  readonly details: Record<string, unknown> | undefined;
  /** Extra response headers, e.g. Retry-After. */
  readonly headers: Record<string, string> | undefined;

  constructor(
    code: string,
    statusCode: number,
    message: string,
    options?: { details?: Record<string, unknown>; headers?: Record<string, string>; cause?: unknown },
  ) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'AppError';
    this.code = code;
    this.statusCode = statusCode;
    this.details = options?.details;
    this.headers = options?.headers;
  }
}

export function createAppError(
  code: string,
  statusCode: number,
  message: string,
  options?: { details?: Record<string, unknown>; headers?: Record<string, string>; cause?: unknown },
): AppError {
  return new AppError(code, statusCode, message, options);
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
