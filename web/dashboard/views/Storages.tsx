import { useState } from 'preact/hooks';
import type { CreateProjectStorageArgs, ProjectStorage } from '../../../client/trove-client';
import { errorMessage } from '../api/errors';
import { Dialog } from '../components/Dialog';
import { ErrorBox, Spinner } from '../components/States';
import { useApp } from '../context';
import { formatDateTime } from '../lib/format';
import { useResource } from '../lib/hooks';

/** The server's rule for storage names (1–64 of letters, digits, `_ . -`, starting with a letter or digit). */
const STORAGE_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;

/** The project's S3-compatible storages, the targets of `POST /files/remote_copy/`. */
export function Storages() {
  const { api, toast, confirm } = useApp();
  const storages = useResource(async (signal) => (await api.trove.listProjectStorages({}, { signal })).results, [api]);
  const [adding, setAdding] = useState(false);
  const [busy, setBusy] = useState(false);

  const remove = async (storage: ProjectStorage) => {
    const ok = await confirm({
      title: `Remove storage “${storage.name}”?`,
      message: (
        <>
          <p>
            Remote copies to <code>{storage.name}</code> stop working, and Trove forgets its credentials.
          </p>
          <p>Files already copied stay in the bucket.</p>
        </>
      ),
      confirmLabel: 'Remove storage',
      danger: true,
    });
    if (!ok) return;
    setBusy(true);
    try {
      await api.trove.deleteProjectStorage({ path: { name: storage.name } });
      toast.success('Storage removed.');
      storages.reload();
    } catch (failure) {
      toast.error(errorMessage(failure));
    } finally {
      setBusy(false);
    }
  };

  const list = storages.data ?? [];
  return (
    <section class="panel" aria-labelledby="storages-title">
      <div class="panel-head">
        <h2 id="storages-title">Storages</h2>
        <button type="button" class="btn btn-primary btn-small" disabled={busy} onClick={() => setAdding(true)} data-testid="storage-add">
          Add storage
        </button>
      </div>
      <p class="subtle">
        S3 or S3-compatible buckets that <code>POST /files/remote_copy/</code> copies files to, by name. Trove checks that it can write to a
        bucket before adding it, keeps the credentials encrypted and never shows them again.
      </p>
      {storages.loading && !storages.data ? (
        <Spinner label="Loading storages…" />
      ) : storages.error && !storages.data ? (
        <ErrorBox message={storages.error} onRetry={storages.reload} />
      ) : list.length === 0 ? (
        <p class="subtle" data-testid="storages-empty">
          No storages yet.
        </p>
      ) : (
        <div class="table-scroll">
          <table class="data-table" data-testid="storage-list">
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">Bucket and prefix</th>
                <th scope="col">Service</th>
                <th scope="col">Added</th>
                <th scope="col">
                  <span class="visually-hidden">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {list.map((storage) => (
                <tr key={storage.name} data-testid="storage-row" data-name={storage.name}>
                  <td>
                    <code>{storage.name}</code>
                  </td>
                  <td data-testid="storage-location">
                    <code>
                      s3://{storage.bucket}/{storage.prefix ? `${storage.prefix}/` : ''}
                    </code>
                  </td>
                  <td data-testid="storage-service">
                    {storage.endpoint ?? 'AWS'} · {storage.region}
                  </td>
                  <td>{formatDateTime(storage.created_at)}</td>
                  <td class="cell-actions">
                    <button type="button" class="btn btn-small btn-danger" disabled={busy} onClick={() => void remove(storage)} data-testid="storage-remove">
                      Remove
                    </button>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      <Dialog open={adding} title="Add storage" onClose={() => setAdding(false)} testId="storage-dialog">
        {adding && (
          <StorageForm
            onClose={() => setAdding(false)}
            onAdded={(storage) => {
              setAdding(false);
              toast.success(`Storage “${storage.name}” added.`);
              storages.reload();
            }}
          />
        )}
      </Dialog>
    </section>
  );
}

function StorageForm(props: { onClose: () => void; onAdded: (storage: ProjectStorage) => void }) {
  const { api } = useApp();
  const [name, setName] = useState('');
  const [bucket, setBucket] = useState('');
  const [prefix, setPrefix] = useState('');
  const [region, setRegion] = useState('');
  const [endpoint, setEndpoint] = useState('');
  const [pathStyle, setPathStyle] = useState(false);
  const [accessKeyId, setAccessKeyId] = useState('');
  const [secretAccessKey, setSecretAccessKey] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  const submit = async (event: Event) => {
    event.preventDefault();
    const problem = !STORAGE_NAME.test(name.trim())
      ? 'The name is 1–64 letters, digits, _ . or -, starting with a letter or digit.'
      : bucket.trim().length < 3
        ? 'Enter the bucket name.'
        : accessKeyId.trim() === '' || secretAccessKey === ''
          ? 'Enter the access key id and the secret access key.'
          : null;
    if (problem) {
      setError(problem);
      return;
    }
    setError(null);
    const body: CreateProjectStorageArgs['body'] = {
      name: name.trim(),
      bucket: bucket.trim(),
      prefix: prefix.trim() || null,
      region: region.trim() || null,
      endpoint: endpoint.trim() || null,
      force_path_style: pathStyle,
      access_key_id: accessKeyId.trim(),
      secret_access_key: secretAccessKey,
    };
    setBusy(true);
    try {
      props.onAdded(await api.trove.createProjectStorage({ body }));
    } catch (failure) {
      // The server says what failed: the check write, the key, the name.
      setError(errorMessage(failure));
    } finally {
      setBusy(false);
    }
  };

  return (
    <form class="form" onSubmit={submit} noValidate>
      <div class="field-row">
        <div class="field">
          <label for="storage-name">Name</label>
          <input id="storage-name" required autofocus placeholder="backups" maxLength={64} value={name} onInput={(e) => setName(e.currentTarget.value)} data-testid="storage-name" />
        </div>
        <div class="field">
          <label for="storage-bucket">Bucket</label>
          <input id="storage-bucket" required placeholder="my-bucket" maxLength={63} value={bucket} onInput={(e) => setBucket(e.currentTarget.value)} data-testid="storage-bucket" />
        </div>
      </div>
      <div class="field-row">
        <div class="field">
          <label for="storage-prefix">
            Prefix <span class="optional">(optional)</span>
          </label>
          <input id="storage-prefix" placeholder="copies/site" maxLength={512} value={prefix} onInput={(e) => setPrefix(e.currentTarget.value)} data-testid="storage-prefix" />
        </div>
        <div class="field">
          <label for="storage-region">
            Region <span class="optional">(optional)</span>
          </label>
          <input id="storage-region" placeholder="us-east-1" maxLength={64} value={region} onInput={(e) => setRegion(e.currentTarget.value)} data-testid="storage-region" />
        </div>
      </div>
      <div class="field">
        <label for="storage-endpoint">
          Endpoint <span class="optional">(S3-compatible services only)</span>
        </label>
        <input id="storage-endpoint" type="url" placeholder="https://minio.example.com:9000" value={endpoint} onInput={(e) => setEndpoint(e.currentTarget.value)} data-testid="storage-endpoint" />
        <p class="hint">Empty for AWS S3. MinIO, Ceph, R2 and the like: the service's origin, usually with path-style addressing.</p>
      </div>
      <label class="check">
        <input type="checkbox" checked={pathStyle} onChange={(e) => setPathStyle(e.currentTarget.checked)} data-testid="storage-path-style" />
        <span>Path-style addressing (the bucket in the path, not the host name)</span>
      </label>
      <div class="field-row">
        <div class="field">
          <label for="storage-access-key">Access key id</label>
          <input id="storage-access-key" class="mono" autocomplete="off" spellcheck={false} value={accessKeyId} onInput={(e) => setAccessKeyId(e.currentTarget.value)} data-testid="storage-access-key" />
        </div>
        <div class="field">
          <label for="storage-secret">Secret access key</label>
          <input id="storage-secret" class="mono" type="password" autocomplete="new-password" spellcheck={false} value={secretAccessKey} onInput={(e) => setSecretAccessKey(e.currentTarget.value)} data-testid="storage-secret" />
        </div>
      </div>
      {error && (
        <p class="form-error" role="alert" data-testid="storage-error">
          {error}
        </p>
      )}
      <div class="dialog-actions">
        <button type="button" class="btn" onClick={props.onClose}>
          Cancel
        </button>
        <button type="submit" class="btn btn-primary" disabled={busy} data-testid="storage-save">
          {busy ? 'Checking the bucket…' : 'Add storage'}
        </button>
      </div>
    </form>
  );
}
