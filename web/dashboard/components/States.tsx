import type { ComponentChildren } from 'preact';

export function Spinner(props: { label?: string }) {
  return (
    <div class="loading" role="status" data-testid="loading">
      <span class="spinner" aria-hidden="true" />
      <span>{props.label ?? 'Loading…'}</span>
    </div>
  );
}

export function EmptyState(props: { title: string; children?: ComponentChildren; testId?: string }) {
  return (
    <div class="empty" data-testid={props.testId ?? 'empty'}>
      <p class="empty-title">{props.title}</p>
      {props.children}
    </div>
  );
}

export function ErrorBox(props: { message: string; onRetry?: () => void }) {
  return (
    <div class="error-box" role="alert" data-testid="error">
      <p>{props.message}</p>
      {props.onRetry && (
        <button type="button" class="btn btn-small" onClick={props.onRetry}>
          Try again
        </button>
      )}
    </div>
  );
}
