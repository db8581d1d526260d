/** Resolves true when `promise` settles within `ms`, false otherwise; never rejects, leaves no timer behind. */
export async function settlesWithin(promise: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), Math.max(0, ms));
  });
  try {
    return await Promise.race([
      promise.then(
        () => true,
        () => true,
      ),
      timeout,
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/** Rejects with `onTimeout()` when `promise` has not settled within `ms`. */
export async function withTimeout<T>(promise: Promise<T>, ms: number, onTimeout: () => Error): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(onTimeout()), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * A sleep that can be cut short: the worker loop waits on it while idle or full, and enqueue, a
 * finished job or stop wake it at once.
 */
export class Wakeup {
  private pending: (() => void) | null = null;
  private signalled = false;

  notify(): void {
    if (this.pending) {
      const resolve = this.pending;
      this.pending = null;
      resolve();
    } else {
      // Remembered, so a notification that arrives while the loop is busy is not lost.
      this.signalled = true;
    }
  }

  /** Waits for a notification, or at most `ms` when given. */
  wait(ms?: number): Promise<void> {
    if (this.signalled) {
      this.signalled = false;
      return Promise.resolve();
    }
    return new Promise<void>((resolve) => {
      let timer: NodeJS.Timeout | undefined;
      this.pending = () => {
        clearTimeout(timer);
        resolve();
      };
      if (ms !== undefined) {
        timer = setTimeout(() => {
          this.pending = null;
          resolve();
        }, ms);
      }
    });
  }
}
