import { useCallback, useEffect, useRef, useState } from 'preact/hooks';

type ToastKind = 'success' | 'error' | 'info';

interface Toast {
  id: number;
  kind: ToastKind;
  message: string;
}

export interface Toaster {
  success(message: string): void;
  error(message: string): void;
  info(message: string): void;
}

const LIFETIME_MS: Record<ToastKind, number> = { success: 4000, info: 5000, error: 9000 };
const MAX_VISIBLE = 4;

export function useToasts(): { toasts: Toast[]; toaster: Toaster; dismiss: (id: number) => void } {
  const [toasts, setToasts] = useState<Toast[]>([]);
  const nextId = useRef(1);
  const timers = useRef(new Map<number, number>());

  const dismiss = useCallback((id: number) => {
    const timer = timers.current.get(id);
    if (timer !== undefined) window.clearTimeout(timer);
    timers.current.delete(id);
    setToasts((list) => list.filter((toast) => toast.id !== id));
  }, []);

  const push = useCallback(
    (kind: ToastKind, message: string) => {
      const id = nextId.current++;
      setToasts((list) => [...list, { id, kind, message }].slice(-MAX_VISIBLE));
      timers.current.set(id, window.setTimeout(() => dismiss(id), LIFETIME_MS[kind]));
    },
    [dismiss],
  );

  useEffect(() => () => timers.current.forEach((timer) => window.clearTimeout(timer)), []);

  const [toaster] = useState<Toaster>(() => ({
    success: (message) => push('success', message),
    error: (message) => push('error', message),
    info: (message) => push('info', message),
  }));
  return { toasts, toaster, dismiss };
}

/** Always in the page, so screen readers announce what is added to it. */
export function ToastArea(props: { toasts: Toast[]; onDismiss: (id: number) => void }) {
  return (
    <div class="toasts" role="status" aria-live="polite" aria-relevant="additions" data-testid="toast-area">
      {props.toasts.map((toast) => (
        <div key={toast.id} class={`toast toast-${toast.kind}`} data-testid="toast" data-kind={toast.kind}>
          {/* Icon and × are drawn by CSS, so the toast's text is exactly its message. */}
          <span class="toast-icon" aria-hidden="true" />
          <span class="toast-message">{toast.message}</span>
          <button type="button" class="toast-close" aria-label="Dismiss message" title="Dismiss" onClick={() => props.onDismiss(toast.id)} />
        </div>
      ))}
    </div>
  );
}
