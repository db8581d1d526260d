/**
 * Chunk scheduling for multipart uploads: which bytes go in which part, how many parts are in flight,
 * and retrying a failed part on its own so one dropped connection does not restart a large upload.
 * Transport-free (the caller sends a part), so it is tested in Node with fake senders.
 */

export interface PartPlan {
  index: number;
  /** First byte, inclusive. */
  start: number;
  /** Last byte, exclusive. */
  end: number;
}

/** Part i covers bytes [i*partSize, min((i+1)*partSize, size)): the layout Trove expects. */
export function planParts(size: number, partSize: number): PartPlan[] {
  if (!(partSize > 0)) throw new RangeError('partSize must be positive');
  const parts: PartPlan[] = [];
  for (let index = 0, start = 0; start < size; index += 1, start += partSize) {
    parts.push({ index, start, end: Math.min(start + partSize, size) });
  }
  return parts;
}

/** Waits between attempts: 0.5 s, 1 s, 2 s, as networks that drop one request often recover in a second. */
const DEFAULT_RETRY_DELAYS: readonly number[] = [500, 1000, 2000];

interface RunPartsOptions {
  parts: readonly PartPlan[];
  /** Parts already on the server (a resumed upload): skipped, counted as sent. */
  done?: ReadonlySet<number>;
  concurrency: number;
  retryDelays?: readonly number[];
  /** Sends one part; reports bytes of this attempt so far; rejects on failure or abort. */
  sendPart(part: PartPlan, onProgress: (loaded: number) => void, signal: AbortSignal): Promise<void>;
  /** Whether trying the same part again may help (network errors, 5xx); others fail the upload at once. */
  isRetryable(error: unknown): boolean;
  /** Bytes sent over all parts, after every change. */
  onProgress?(loaded: number): void;
  /** A part is on the server: the caller records it to resume later. */
  onPartDone?(index: number): void;
  signal: AbortSignal;
  sleep?(ms: number, signal: AbortSignal): Promise<void>;
}

export class AbortedError extends Error {
  constructor() {
    super('aborted');
    this.name = 'AbortError';
  }
}

/** setTimeout that ends early (rejecting) when the upload is cancelled. */
export function abortableSleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) {
      reject(new AbortedError());
      return;
    }
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(new AbortedError());
    };
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

/**
 * Sends every part not yet done, `concurrency` at a time. Resolves when all are on the server;
 * rejects with the first error that retries could not fix, after stopping the other parts.
 */
export async function runParts(options: RunPartsOptions): Promise<void> {
  const delays = options.retryDelays ?? DEFAULT_RETRY_DELAYS;
  const sleep = options.sleep ?? abortableSleep;
  const done = new Set(options.done ?? []);
  const pending = options.parts.filter((part) => !done.has(part.index));
  const inFlight = new Map<number, number>();
  let doneBytes = options.parts.filter((part) => done.has(part.index)).reduce((sum, part) => sum + part.end - part.start, 0);

  // One failed part stops the others: their bytes would be wasted on an upload that already failed.
  const stop = new AbortController();
  const onOuterAbort = (): void => stop.abort();
  if (options.signal.aborted) throw new AbortedError();
  options.signal.addEventListener('abort', onOuterAbort, { once: true });

  const report = (): void => {
    let loaded = doneBytes;
    for (const bytes of inFlight.values()) loaded += bytes;
    options.onProgress?.(loaded);
  };

  const sendWithRetries = async (part: PartPlan): Promise<void> => {
    for (let attempt = 0; ; attempt += 1) {
      try {
        inFlight.set(part.index, 0);
        await options.sendPart(
          part,
          (loaded) => {
            inFlight.set(part.index, Math.min(loaded, part.end - part.start));
            report();
          },
          stop.signal,
        );
        inFlight.delete(part.index);
        doneBytes += part.end - part.start;
        done.add(part.index);
        options.onPartDone?.(part.index);
        report();
        return;
      } catch (error) {
        // The bytes of a failed attempt are sent again: progress goes back rather than lying.
        inFlight.delete(part.index);
        report();
        const delay = delays[attempt];
        if (stop.signal.aborted || delay === undefined || !options.isRetryable(error)) throw error;
        await sleep(delay, stop.signal);
      }
    }
  };

  let next = 0;
  let failure: { error: unknown } | null = null;
  const worker = async (): Promise<void> => {
    while (failure === null && !stop.signal.aborted) {
      const part = pending[next];
      next += 1;
      if (part === undefined) return;
      try {
        await sendWithRetries(part);
      } catch (error) {
        failure ??= { error };
        stop.abort();
      }
    }
  };

  try {
    report();
    const workers = Math.max(1, Math.min(options.concurrency, pending.length));
    await Promise.all(Array.from({ length: workers }, () => worker()));
    if (options.signal.aborted) throw new AbortedError();
    if (failure !== null) throw (failure as { error: unknown }).error;
  } finally {
    options.signal.removeEventListener('abort', onOuterAbort);
  }
}
