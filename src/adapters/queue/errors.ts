/** The queue's backing service (Redis, the database) could not be reached in time. */
export class JobQueueUnavailableError extends Error {
  override readonly name = 'JobQueueUnavailableError';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

/** The queue was used after close(). */
export class JobQueueClosedError extends Error {
  override readonly name = 'JobQueueClosedError';
  constructor() {
    super('the job queue is closed');
  }
}

/** A short, single-line description of whatever a handler threw, for storage next to the job. */
export function describeFailure(error: unknown, maxLength = 2_000): string {
  const text = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
  return text.length > maxLength ? `${text.slice(0, maxLength - 1)}…` : text;
}
