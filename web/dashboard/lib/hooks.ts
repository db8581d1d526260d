import { useCallback, useEffect, useRef, useState } from 'preact/hooks';
import { errorMessage, failureStatus, isAbort } from '../api/errors';

interface Resource<T> {
  data: T | null;
  error: string | null;
  /** HTTP status of the failure (404: not there); null when none or not an HTTP failure. */
  errorStatus: number | null;
  loading: boolean;
  reload: () => void;
  /** Replaces the data locally after a change the server already confirmed. */
  setData: (data: T) => void;
}

/**
 * Loads data for a view, aborting the request when the inputs change or the view goes away, so a
 * slow answer never overwrites a newer one.
 */
export function useResource<T>(load: (signal: AbortSignal) => Promise<T>, deps: readonly unknown[]): Resource<T> {
  const [data, setData] = useState<T | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [errorStatus, setErrorStatus] = useState<number | null>(null);
  const [loading, setLoading] = useState(true);
  const [generation, setGeneration] = useState(0);
  const loadRef = useRef(load);
  loadRef.current = load;

  useEffect(() => {
    const controller = new AbortController();
    setLoading(true);
    setError(null);
    setErrorStatus(null);
    loadRef.current(controller.signal).then(
      (value) => {
        if (controller.signal.aborted) return;
        setData(value);
        setLoading(false);
      },
      (failure: unknown) => {
        if (controller.signal.aborted || isAbort(failure)) return;
        setError(errorMessage(failure));
        setErrorStatus(failureStatus(failure));
        setLoading(false);
      },
    );
    return () => controller.abort();
  }, [...deps, generation]);

  const reload = useCallback(() => setGeneration((n) => n + 1), []);
  return { data, error, errorStatus, loading, reload, setData };
}

/** The value, once it has stopped changing for `delayMs`. */
export function useDebounced<T>(value: T, delayMs: number): T {
  const [settled, setSettled] = useState(value);
  useEffect(() => {
    const timer = window.setTimeout(() => setSettled(value), delayMs);
    return () => window.clearTimeout(timer);
  }, [value, delayMs]);
  return settled;
}

/**
 * Runs a one-click action with its view's `busy` flag up, showing a failure through `onError`
 * (the action says its own success).
 */
export async function runBusy(setBusy: (busy: boolean) => void, onError: (message: string) => void, action: () => Promise<void>): Promise<void> {
  setBusy(true);
  try {
    await action();
  } catch (failure) {
    onError(errorMessage(failure));
  } finally {
    setBusy(false);
  }
}

export function useDocumentTitle(title: string): void {
  useEffect(() => {
    document.title = title ? `${title} · Trove` : 'Trove dashboard';
  }, [title]);
}
