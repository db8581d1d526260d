import { useState } from 'preact/hooks';
import type { NewSecretKey, Project, UpdateProjectArgs } from '../../../client/trove-client';
import { errorMessage } from '../api/errors';
import { CopyButton } from '../components/CopyButton';
import { Dialog } from '../components/Dialog';
import { ErrorBox, Spinner } from '../components/States';
import { useApp } from '../context';
import { formatBytes, formatDateTime } from '../lib/format';
import { runBusy, useDocumentTitle, useResource } from '../lib/hooks';
import { Storages } from './Storages';

const MIME_PATTERN = /^(\*\/\*|[a-z0-9][a-z0-9!#$&^_.+-]*\/(\*|[a-z0-9][a-z0-9!#$&^_.+-]*))$/i;
const MB = 1_000_000;

export function Settings() {
  useDocumentTitle('Settings');
  const { api } = useApp();
  const project = useResource((signal) => api.trove.getProject({}, { signal }), [api]);
  return (
    <section aria-labelledby="settings-title">
      <div class="page-head">
        <h1 id="settings-title">Settings</h1>
      </div>
      {project.loading && !project.data ? (
        <Spinner label="Loading settings…" />
      ) : project.error && !project.data ? (
        <ErrorBox message={project.error} onRetry={project.reload} />
      ) : project.data ? (
        <>
          <ProjectForm key={project.data.pub_key} project={project.data} onSaved={project.setData} />
          <Keys project={project.data} />
          <Storages />
        </>
      ) : null}
    </section>
  );
}

function ProjectForm(props: { project: Project; onSaved: (project: Project) => void }) {
  const { api, toast, refreshSession } = useApp();
  const { project } = props;
  const [name, setName] = useState(project.name);
  const [autostore, setAutostore] = useState(project.autostore_enabled);
  const [signed, setSigned] = useState(project.signed_uploads);
  const [scanOnUpload, setScanOnUpload] = useState(project.scan_on_upload);
  const [purgeInfected, setPurgeInfected] = useState(project.purge_infected);
  const [maxSize, setMaxSize] = useState(project.max_file_size ? String(project.max_file_size / MB) : '');
  const [mimeTypes, setMimeTypes] = useState((project.allowed_mime_types ?? []).join(', '));
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  const submit = async (event: Event) => {
    event.preventDefault();
    setError(null);
    if (name.trim() === '') {
      setError('The project needs a name.');
      return;
    }
    let maxFileSize: number | null = null;
    if (maxSize.trim() !== '') {
      const megabytes = Number(maxSize);
      if (!Number.isFinite(megabytes) || megabytes <= 0) {
        setError('The largest file size must be a positive number of megabytes, or empty for the server limit.');
        return;
      }
      maxFileSize = Math.round(megabytes * MB);
    }
    const types = mimeTypes.split(/[\s,]+/).filter((type) => type !== '');
    const badType = types.find((type) => !MIME_PATTERN.test(type));
    if (badType) {
      setError(`“${badType}” is not a MIME type; write types like image/png or image/*.`);
      return;
    }
    const update: UpdateProjectArgs['body'] = {
      name: name.trim(),
      autostore_enabled: autostore,
      signed_uploads: signed,
      max_file_size: maxFileSize,
      allowed_mime_types: types.length > 0 ? types : null,
      purge_infected: purgeInfected,
      // Sent only when changed: turning it on needs a virus scanner on the server, which should not block the other settings.
      ...(scanOnUpload !== project.scan_on_upload ? { scan_on_upload: scanOnUpload } : {}),
    };
    setBusy(true);
    try {
      const saved = await api.trove.updateProject({ body: update });
      props.onSaved(saved);
      toast.success('Settings saved.');
      // The header shows the project's name from the session.
      if (saved.name !== project.name) await refreshSession();
    } catch (failure) {
      setError(errorMessage(failure));
    } finally {
      setBusy(false);
    }
  };

  return (
    <form class="panel form settings-form" onSubmit={submit} noValidate aria-labelledby="project-settings-title">
      <h2 id="project-settings-title">Project</h2>
      <div class="field">
        <label for="settings-name">Name</label>
        <input id="settings-name" value={name} maxLength={200} onInput={(e) => setName(e.currentTarget.value)} data-testid="settings-name" />
      </div>
      <div class="field">
        <span class="label">Public key</span>
        <div class="url-row">
          <code class="mono-box" data-testid="settings-pub-key">
            {project.pub_key}
          </code>
          <CopyButton text={project.pub_key} testId="copy-pub-key" />
        </div>
      </div>
      <div class="field">
        <span class="label">Region</span>
        <div>
          <code class="mono-box" data-testid="settings-region">
            {project.region}
          </code>
          <span class="hint block">Where the project’s files are stored. Delivery nodes in every region serve them; move a project with <code>trove projects move --region</code>.</span>
        </div>
      </div>
      <label class="check">
        <input type="checkbox" checked={autostore} onChange={(e) => setAutostore(e.currentTarget.checked)} data-testid="settings-autostore" />
        <span>
          Store uploads automatically
          <span class="hint block">What <code>UPLOADCARE_STORE=auto</code> means. Temporary files are deleted after 24 hours.</span>
        </span>
      </label>
      <label class="check">
        <input type="checkbox" checked={signed} onChange={(e) => setSigned(e.currentTarget.checked)} data-testid="settings-signed-uploads" />
        <span>
          Require signed uploads
          <span class="hint block">Uploads must carry a signature made with a secret key on your server.</span>
        </span>
      </label>
      <label class="check">
        <input type="checkbox" checked={scanOnUpload} onChange={(e) => setScanOnUpload(e.currentTarget.checked)} data-testid="settings-scan-on-upload" />
        <span>
          Scan uploads for viruses
          <span class="hint block">Each new file is scanned by ClamAV and delivered only once found clean. Needs a virus scanner on the server.</span>
        </span>
      </label>
      <label class="check">
        <input type="checkbox" checked={purgeInfected} onChange={(e) => setPurgeInfected(e.currentTarget.checked)} data-testid="settings-purge-infected" />
        <span>
          Delete infected uploads
          <span class="hint block">Otherwise an infected file is kept for you to review, and never delivered.</span>
        </span>
      </label>
      <div class="field">
        <label for="settings-max-size">Largest file (MB)</label>
        <input
          id="settings-max-size"
          type="number"
          min={0}
          step="any"
          inputMode="decimal"
          placeholder="Server limit"
          value={maxSize}
          onInput={(e) => setMaxSize(e.currentTarget.value)}
          aria-describedby="settings-max-size-hint"
          data-testid="settings-max-size"
        />
        <p id="settings-max-size-hint" class="hint">
          {project.max_file_size ? `Now ${formatBytes(project.max_file_size)}. ` : ''}Empty: the server-wide limit applies.
        </p>
      </div>
      <div class="field">
        <label for="settings-mime-types">Allowed MIME types</label>
        <textarea
          id="settings-mime-types"
          rows={2}
          placeholder="Every type"
          value={mimeTypes}
          onInput={(e) => setMimeTypes(e.currentTarget.value)}
          aria-describedby="settings-mime-types-hint"
          data-testid="settings-mime-types"
        />
        <p id="settings-mime-types-hint" class="hint">
          Comma-separated, wildcards allowed: <code>image/*, application/pdf</code>. Empty: every type.
        </p>
      </div>
      {error && (
        <p class="form-error" role="alert" data-testid="settings-error">
          {error}
        </p>
      )}
      <div class="form-actions">
        <button type="submit" class="btn btn-primary" disabled={busy} data-testid="settings-save">
          {busy ? 'Saving…' : 'Save settings'}
        </button>
      </div>
    </form>
  );
}

function Keys(props: { project: Project }) {
  const { api, toast, confirm, refreshSession } = useApp();
  const secrets = useResource(async (signal) => (await api.trove.listSecretKeys({}, { signal })).results, [api]);
  const [created, setCreated] = useState<NewSecretKey | null>(null);
  const [busy, setBusy] = useState(false);

  const create = () =>
    runBusy(setBusy, (message) => toast.error(message), async () => {
      setCreated(await api.trove.createSecretKey());
      secrets.reload();
    });

  const revoke = async (id: string, hint: string) => {
    const ok = await confirm({
      title: 'Revoke this secret key?',
      message: (
        <>
          <p>
            Every client using the key ending in <code>{hint}</code> loses access at once.
          </p>
          <p>If you signed in with this key, you will be signed out.</p>
        </>
      ),
      confirmLabel: 'Revoke key',
      danger: true,
    });
    if (!ok) return;
    await runBusy(setBusy, (message) => toast.error(message), async () => {
      await api.trove.revokeSecretKey({ path: { id } });
      toast.success('Key revoked.');
      // The session may have been made with that key: the server says whether it still stands.
      await refreshSession();
      secrets.reload();
    });
  };

  const list = secrets.data ?? [];
  return (
    <section class="panel" aria-labelledby="keys-title">
      <div class="panel-head">
        <h2 id="keys-title">Secret keys</h2>
        <button type="button" class="btn btn-primary btn-small" disabled={busy} onClick={create} data-testid="secret-create">
          Create key
        </button>
      </div>
      <p class="subtle">
        Secret keys authenticate REST API calls for <strong>{props.project.name}</strong>. Only the last characters are shown; a key is
        displayed in full once, when it is created.
      </p>
      {secrets.loading && !secrets.data ? (
        <Spinner label="Loading keys…" />
      ) : secrets.error && !secrets.data ? (
        <ErrorBox message={secrets.error} onRetry={secrets.reload} />
      ) : (
        <table class="data-table" data-testid="secret-list">
          <thead>
            <tr>
              <th scope="col">Key</th>
              <th scope="col">Created</th>
              <th scope="col">
                <span class="visually-hidden">Actions</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {list.map((secret) => (
              <tr key={secret.id} data-testid="secret-row" data-id={secret.id}>
                <td>
                  <code data-testid="secret-hint">••••••••{secret.hint.replace(/^[.…•]+/, '')}</code>
                </td>
                <td>{formatDateTime(secret.created_at)}</td>
                <td class="cell-actions">
                  <button type="button" class="btn btn-small btn-danger" disabled={busy || list.length <= 1} title={list.length <= 1 ? 'The last key cannot be revoked' : undefined} onClick={() => void revoke(secret.id, secret.hint)} data-testid="secret-revoke">
                    Revoke
                  </button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <Dialog open={created !== null} title="New secret key" onClose={() => setCreated(null)} testId="new-secret-dialog">
        {created && (
          <div class="form">
            <p class="notice notice-warn" role="alert">
              Copy this key now and keep it somewhere safe. It is not shown again.
            </p>
            <div class="url-row">
              <code class="mono-box secret-value" data-testid="new-secret">
                {created.secret}
              </code>
              <CopyButton text={created.secret} testId="new-secret-copy" />
            </div>
            <div class="dialog-actions">
              <button type="button" class="btn btn-primary" onClick={() => setCreated(null)} data-testid="new-secret-done">
                I have copied it
              </button>
            </div>
          </div>
        )}
      </Dialog>
    </section>
  );
}
