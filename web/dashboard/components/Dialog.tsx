import type { ComponentChildren } from 'preact';
import { useCallback, useEffect, useId, useRef, useState } from 'preact/hooks';

interface DialogProps {
  open: boolean;
  title: string;
  onClose: () => void;
  children: ComponentChildren;
  testId?: string;
  class?: string;
}

/**
 * A modal on the native <dialog>: the browser traps focus, closes on Escape and gives the backdrop;
 * focus returns to the element that opened it.
 */
export function Dialog(props: DialogProps) {
  const ref = useRef<HTMLDialogElement>(null);
  const titleId = useId();
  const opener = useRef<Element | null>(null);

  useEffect(() => {
    const dialog = ref.current;
    if (!dialog) return;
    if (props.open && !dialog.open) {
      opener.current = document.activeElement;
      dialog.showModal();
    } else if (!props.open && dialog.open) {
      dialog.close();
      if (opener.current instanceof HTMLElement && opener.current.isConnected) opener.current.focus();
    }
  }, [props.open]);

  return (
    <dialog
      ref={ref}
      class={`dialog ${props.class ?? ''}`}
      aria-labelledby={titleId}
      data-testid={props.testId}
      onCancel={(event) => {
        // Escape: let the owner decide, so its state stays the source of truth.
        event.preventDefault();
        props.onClose();
      }}
    >
      {props.open && (
        <>
          <h2 id={titleId} class="dialog-title">
            {props.title}
          </h2>
          {props.children}
        </>
      )}
    </dialog>
  );
}

export interface ConfirmOptions {
  title: string;
  message: ComponentChildren;
  confirmLabel?: string;
  /** Styles the confirm button as destructive. */
  danger?: boolean;
}

export type Confirm = (options: ConfirmOptions) => Promise<boolean>;

/** One confirmation dialog for the whole app, asked through a promise. */
export function useConfirmDialog(): { confirm: Confirm; element: ComponentChildren } {
  const [pending, setPending] = useState<(ConfirmOptions & { resolve: (ok: boolean) => void }) | null>(null);

  const confirm = useCallback<Confirm>(
    (options) =>
      new Promise<boolean>((resolve) => {
        setPending({ ...options, resolve });
      }),
    [],
  );

  const finish = (ok: boolean) => {
    pending?.resolve(ok);
    setPending(null);
  };

  const element = (
    <Dialog open={pending !== null} title={pending?.title ?? ''} onClose={() => finish(false)} testId="confirm-dialog">
      {pending && (
        <form
          method="dialog"
          onSubmit={(event) => {
            event.preventDefault();
            finish(true);
          }}
        >
          <div class="dialog-body">{pending.message}</div>
          <div class="dialog-actions">
            <button type="button" class="btn" data-testid="cancel" autofocus onClick={() => finish(false)}>
              Cancel
            </button>
            <button type="submit" class={`btn ${pending.danger ? 'btn-danger' : 'btn-primary'}`} data-testid="confirm">
              {pending.confirmLabel ?? 'Confirm'}
            </button>
          </div>
        </form>
      )}
    </Dialog>
  );
  return { confirm, element };
}
