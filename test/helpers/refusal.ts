import { AppError } from '../../src/errors.js';

/** What an `AppError` thrown by `run` says (code, status, message); undefined when `run` accepts. Other errors pass through. */
export function refusal(run: () => unknown): { code: string; status: number; message: string } | undefined {
  try {
    run();
  } catch (error) {
    if (error instanceof AppError) return { code: error.code, status: error.statusCode, message: error.message };
    throw error;
  }
  return undefined;
}
