/**
 * The wall-clock budget of one transformation. libvips enforces it inside each pipeline
 * (`sharp().timeout()`, whole seconds, checked as tiles are computed); the guard here enforces it
 * for everything else (JavaScript passes, queueing in libuv's thread pool) and answers on time even
 * when libvips is slow to notice.
 */

import { performance } from 'node:perf_hooks';
import { EngineError } from '../../ports/image-engine.js';

/** sharp accepts 0–3600 s, 0 meaning none. */
const SHARP_MAX_TIMEOUT_SECONDS = 3600;

export class Deadline {
  private readonly endsAt: number;

  constructor(private readonly budgetMs: number) {
    this.endsAt = performance.now() + budgetMs;
  }

  get limited(): boolean {
    return Number.isFinite(this.budgetMs) && this.budgetMs > 0;
  }

  remainingMs(): number {
    return this.limited ? Math.max(0, this.endsAt - performance.now()) : Number.POSITIVE_INFINITY;
  }

  /** Timeout for the next sharp pipeline: what is left, rounded up to whole seconds, at least 1. */
  sharpSeconds(): number {
    if (!this.limited) return 0;
    return Math.min(SHARP_MAX_TIMEOUT_SECONDS, Math.max(1, Math.ceil(this.remainingMs() / 1000)));
  }

  /** Throws TIMEOUT once the budget is spent (called between steps). */
  check(): void {
    if (this.limited && this.remainingMs() <= 0) throw this.timeoutError();
  }

  /** Settles with `work`, or rejects with TIMEOUT when the budget runs out first. */
  async guard<T>(work: Promise<T>): Promise<T> {
    if (!this.limited) return work;
    let timer: NodeJS.Timeout | undefined;
    const expired = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(this.timeoutError()), this.remainingMs());
    });
    try {
      return await Promise.race([work, expired]);
    } finally {
      clearTimeout(timer);
      // The losing side must not surface as an unhandled rejection.
      work.catch(() => undefined);
    }
  }

  private timeoutError(): EngineError {
    return new EngineError('TIMEOUT', `image processing exceeded its ${Math.round(this.budgetMs)} ms budget`);
  }
}
