import { useState } from 'preact/hooks';
import type { Webhook, WebhookDelivery } from '../../../client/trove-client';
import { errorMessage } from '../api/errors';
import { Dialog } from '../components/Dialog';
import { EmptyState, ErrorBox, Spinner } from '../components/States';
import { useApp } from '../context';
import { formatDateTime, pluralize } from '../lib/format';
import { useDocumentTitle, useResource } from '../lib/hooks';
import { targetUrlError } from '../lib/validation';

type WebhookEvent = Webhook['event'];

/** Every event a webhook can be made for, in the order the form offers them. */
const EVENT_LABELS: Record<WebhookEvent, string> = {
  'file.uploaded': 'file.uploaded: a file was uploaded',
  'file.stored': 'file.stored: a file was stored',
  'file.deleted': 'file.deleted: a file was deleted',
  'file.info_updated': 'file.info_updated: metadata or tags changed',
  'file.infected': 'file.infected: a virus scan flagged a file (no scanner runs yet, so never sent)',
};

const WEBHOOK_EVENTS = Object.keys(EVENT_LABELS) as WebhookEvent[];

/** Uploadcare's limit on signing secrets. */
const MAX_SECRET = 32;

function randomSecret(): string {
  const bytes = new Uint8Array(16);
  crypto.getRandomValues(bytes);
  return [...bytes].map((byte) => byte.toString(16).padStart(2, '0')).join('');
}

type Editing = { mode: 'create' } | { mode: 'edit'; hook: Webhook } | null;

export function Webhooks() {
  useDocumentTitle('Webhooks');
  const { api, toast, confirm } = useApp();
  const hooks = useResource((signal) => api.trove.listWebhooks({}, { signal }), [api]);
  const [editing, setEditing] = useState<Editing>(null);
  const [openLog, setOpenLog] = useState<number | null>(null);

  const remove = async (hook: Webhook) => {
    const ok = await confirm({
      title: 'Delete this webhook?',
      message: (
        <>
          <p>
            Events <strong>{hook.event}</strong> will no longer be sent to <code>{hook.target_url}</code>.
          </p>
        </>
      ),
      confirmLabel: 'Delete webhook',
      danger: true,
    });
    if (!ok) return;
    try {
      await api.trove.deleteWebhook({ path: { id: String(hook.id) } });
      toast.success('Webhook deleted.');
      if (openLog === hook.id) setOpenLog(null);
      hooks.reload();
    } catch (failure) {
      toast.error(errorMessage(failure));
    }
  };

  const toggleActive = async (hook: Webhook) => {
    try {
      await api.trove.updateWebhook({ path: { id: String(hook.id) }, body: { is_active: !hook.is_active } });
      toast.success(hook.is_active ? 'Webhook paused.' : 'Webhook activated.');
      hooks.reload();
    } catch (failure) {
      toast.error(errorMessage(failure));
    }
  };

  const list = hooks.data ?? [];
  return (
    <section aria-labelledby="webhooks-title">
      <div class="page-head">
        <div>
          <h1 id="webhooks-title">Webhooks</h1>
          <p class="subtle">Trove sends a signed POST to your URL when files change, and retries failed deliveries.</p>
        </div>
        <button type="button" class="btn btn-primary" onClick={() => setEditing({ mode: 'create' })} data-testid="webhook-new">
          New webhook
        </button>
      </div>

      {hooks.loading && !hooks.data ? (
        <Spinner label="Loading webhooks…" />
      ) : hooks.error && !hooks.data ? (
        <ErrorBox message={hooks.error} onRetry={hooks.reload} />
      ) : list.length === 0 ? (
        <EmptyState title="No webhooks yet." testId="webhooks-empty">
          <p>Create one to be told about uploads, stores and deletions.</p>
        </EmptyState>
      ) : (
        <ul class="webhook-list" data-testid="webhook-list">
          {list.map((hook) => (
            <li key={hook.id} class="panel webhook" data-testid="webhook-row" data-id={String(hook.id)}>
              <div class="webhook-head">
                <div class="webhook-main">
                  <span class="badge badge-event">{hook.event}</span>
                  <code class="webhook-url" title={hook.target_url}>
                    {hook.target_url}
                  </code>
                </div>
                <div class="webhook-meta">
                  <span class={`badge ${hook.is_active ? 'badge-stored' : 'badge-muted'}`} data-testid="webhook-state">
                    {hook.is_active ? 'Active' : 'Paused'}
                  </span>
                  <span class="subtle">{hook.signing_secret ? 'Signed' : 'Unsigned'}</span>
                </div>
              </div>
              <div class="webhook-actions">
                <button
                  type="button"
                  class="btn btn-small"
                  aria-expanded={openLog === hook.id}
                  aria-controls={`deliveries-${hook.id}`}
                  onClick={() => setOpenLog(openLog === hook.id ? null : hook.id)}
                  data-testid="webhook-deliveries"
                >
                  {openLog === hook.id ? 'Hide deliveries' : 'Deliveries'}
                </button>
                <button type="button" class="btn btn-small" onClick={() => void toggleActive(hook)} data-testid="webhook-toggle">
                  {hook.is_active ? 'Pause' : 'Activate'}
                </button>
                <button type="button" class="btn btn-small" onClick={() => setEditing({ mode: 'edit', hook })} data-testid="webhook-edit">
                  Edit
                </button>
                <button type="button" class="btn btn-small btn-danger" onClick={() => void remove(hook)} data-testid="webhook-delete">
                  Delete
                </button>
              </div>
              {openLog === hook.id && (
                <div id={`deliveries-${hook.id}`}>
                  <DeliveryLog hook={hook} />
                </div>
              )}
            </li>
          ))}
        </ul>
      )}

      <WebhookForm
        editing={editing}
        onClose={() => setEditing(null)}
        onSaved={() => {
          setEditing(null);
          hooks.reload();
        }}
      />
    </section>
  );
}

function WebhookForm(props: { editing: Editing; onClose: () => void; onSaved: () => void }) {
  const { editing } = props;
  const title = editing?.mode === 'edit' ? 'Edit webhook' : 'New webhook';
  return (
    <Dialog open={editing !== null} title={title} onClose={props.onClose} testId="webhook-dialog">
      {editing && <WebhookFields key={editing.mode === 'edit' ? editing.hook.id : 'new'} editing={editing} onClose={props.onClose} onSaved={props.onSaved} />}
    </Dialog>
  );
}

function WebhookFields(props: { editing: NonNullable<Editing>; onClose: () => void; onSaved: () => void }) {
  const { api, toast } = useApp();
  const hook = props.editing.mode === 'edit' ? props.editing.hook : null;
  const [targetUrl, setTargetUrl] = useState(hook?.target_url ?? '');
  const [event, setEvent] = useState<WebhookEvent>(hook?.event ?? 'file.uploaded');
  const [active, setActive] = useState(hook?.is_active ?? true);
  const [secret, setSecret] = useState(hook?.signing_secret ?? '');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  const submit = async (submitEvent: Event) => {
    submitEvent.preventDefault();
    const problem = targetUrlError(targetUrl.trim()) ?? (secret.length > MAX_SECRET ? `The signing secret is at most ${MAX_SECRET} characters.` : null);
    if (problem) {
      setError(problem);
      return;
    }
    setBusy(true);
    try {
      const input = { target_url: targetUrl.trim(), event, is_active: active, signing_secret: secret === '' ? null : secret };
      if (hook) await api.trove.updateWebhook({ path: { id: String(hook.id) }, body: input });
      else await api.trove.createWebhook({ body: input });
      toast.success(hook ? 'Webhook saved.' : 'Webhook created.');
      props.onSaved();
    } catch (failure) {
      setError(errorMessage(failure));
    } finally {
      setBusy(false);
    }
  };

  return (
    <form class="form" onSubmit={submit} noValidate>
      <div class="field">
        <label for="webhook-url">Target URL</label>
        <input id="webhook-url" type="url" required placeholder="https://example.com/hooks/trove" value={targetUrl} autofocus onInput={(e) => setTargetUrl(e.currentTarget.value)} data-testid="webhook-url" />
      </div>
      <div class="field">
        <label for="webhook-event">Event</label>
        <select id="webhook-event" value={event} onChange={(e) => setEvent(e.currentTarget.value as WebhookEvent)} data-testid="webhook-event">
          {WEBHOOK_EVENTS.map((name) => (
            <option key={name} value={name}>
              {EVENT_LABELS[name]}
            </option>
          ))}
        </select>
      </div>
      <label class="check">
        <input type="checkbox" checked={active} onChange={(e) => setActive(e.currentTarget.checked)} data-testid="webhook-active" />
        <span>Active</span>
      </label>
      <div class="field">
        <label for="webhook-secret">
          Signing secret <span class="optional">(optional)</span>
        </label>
        <div class="url-row">
          <input id="webhook-secret" class="mono" maxLength={MAX_SECRET} spellcheck={false} autocomplete="off" value={secret} onInput={(e) => setSecret(e.currentTarget.value)} data-testid="webhook-secret" />
          <button type="button" class="btn btn-small" onClick={() => setSecret(randomSecret())} data-testid="webhook-secret-generate">
            Generate
          </button>
        </div>
        <p class="hint">With a secret, each delivery carries an <code>X-Uc-Signature</code> HMAC-SHA256 header your endpoint can verify. Up to {MAX_SECRET} characters.</p>
      </div>
      {error && (
        <p class="form-error" role="alert" data-testid="webhook-error">
          {error}
        </p>
      )}
      <div class="dialog-actions">
        <button type="button" class="btn" onClick={props.onClose}>
          Cancel
        </button>
        <button type="submit" class="btn btn-primary" disabled={busy} data-testid="webhook-save">
          {busy ? 'Saving…' : hook ? 'Save' : 'Create webhook'}
        </button>
      </div>
    </form>
  );
}

const STATUS_CLASS: Record<WebhookDelivery['status'], string> = {
  delivered: 'badge-stored',
  pending: 'badge-temp',
  failed: 'badge-removed',
};

function DeliveryLog(props: { hook: Webhook }) {
  const { api, toast } = useApp();
  const log = useResource(
    async (signal) => (await api.trove.listWebhookDeliveries({ path: { id: String(props.hook.id) }, query: { limit: '50' } }, { signal })).results,
    [api, props.hook.id],
  );
  const [replaying, setReplaying] = useState<string | null>(null);

  const replay = async (delivery: WebhookDelivery) => {
    setReplaying(delivery.id);
    try {
      await api.trove.replayWebhookDelivery({ path: { id: String(props.hook.id), delivery: delivery.id } });
      toast.success('Delivery queued again.');
      log.reload();
    } catch (failure) {
      toast.error(errorMessage(failure));
    } finally {
      setReplaying(null);
    }
  };

  const deliveries = log.data ?? [];
  return (
    <div class="delivery-log" data-testid="delivery-log">
      <div class="panel-head">
        <h3>Delivery log</h3>
        <button type="button" class="btn btn-small btn-ghost" onClick={log.reload} disabled={log.loading} data-testid="deliveries-refresh">
          Refresh
        </button>
      </div>
      {log.loading && !log.data ? (
        <Spinner label="Loading deliveries…" />
      ) : log.error && !log.data ? (
        <ErrorBox message={log.error} onRetry={log.reload} />
      ) : deliveries.length === 0 ? (
        <p class="subtle" data-testid="deliveries-empty">
          No deliveries yet.
        </p>
      ) : (
        <div class="table-scroll">
          <table class="data-table">
            <thead>
              <tr>
                <th scope="col">Time</th>
                <th scope="col">Status</th>
                <th scope="col">Attempts</th>
                <th scope="col">Last answer</th>
                <th scope="col">
                  <span class="visually-hidden">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {deliveries.map((delivery) => (
                <DeliveryRow key={delivery.id} delivery={delivery} replaying={replaying === delivery.id} onReplay={() => void replay(delivery)} />
              ))}
            </tbody>
          </table>
        </div>
      )}
    </div>
  );
}

function DeliveryRow(props: { delivery: WebhookDelivery; replaying: boolean; onReplay: () => void }) {
  const { delivery } = props;
  const [open, setOpen] = useState(false);
  const attempts = delivery.attempt_log ?? [];
  return (
    <>
      <tr data-testid="delivery-row" data-id={delivery.id}>
        <td>
          <time dateTime={delivery.created}>{formatDateTime(delivery.created)}</time>
        </td>
        <td>
          <span class={`badge ${STATUS_CLASS[delivery.status]}`} data-testid="delivery-status">
            {delivery.status}
          </span>
        </td>
        <td>
          <button type="button" class="link-button" aria-expanded={open} onClick={() => setOpen(!open)} data-testid="delivery-attempts-toggle">
            {pluralize(delivery.attempts, 'attempt')}
          </button>
        </td>
        <td class="cell-wrap">
          {delivery.last_status_code !== null ? `HTTP ${delivery.last_status_code}` : ''}
          {delivery.last_error ? <span class="error-text"> {delivery.last_error}</span> : null}
          {delivery.last_status_code === null && !delivery.last_error ? '—' : null}
        </td>
        <td class="cell-actions">
          <button type="button" class="btn btn-small" disabled={props.replaying} onClick={props.onReplay} data-testid="delivery-replay">
            {props.replaying ? 'Replaying…' : 'Replay'}
          </button>
        </td>
      </tr>
      {open && (
        <tr class="attempts-row">
          <td colSpan={5}>
            {attempts.length === 0 ? (
              <p class="subtle">No attempt made yet.</p>
            ) : (
              <ol class="attempts">
                {attempts.map((attempt) => (
                  <li key={attempt.attempt} data-testid="delivery-attempt">
                    <span class="attempt-no">#{attempt.attempt}</span>
                    <span class={attempt.status_code !== null && attempt.status_code < 300 ? 'ok-text' : 'error-text'}>{attempt.status_code !== null ? `HTTP ${attempt.status_code}` : 'No answer'}</span>
                    <span>{attempt.latency_ms} ms</span>
                    {attempt.error && <span class="error-text">{attempt.error}</span>}
                    <time class="subtle" dateTime={attempt.created}>
                      {formatDateTime(attempt.created)}
                    </time>
                  </li>
                ))}
              </ol>
            )}
            <details class="payload">
              <summary>Payload</summary>
              <pre>{JSON.stringify(delivery.payload, null, 2)}</pre>
            </details>
          </td>
        </tr>
      )}
    </>
  );
}
