import { useState } from 'preact/hooks';
import { errorMessage } from '../api/errors';
import { useApp } from '../context';
import { runBusy } from '../lib/hooks';
import { METADATA_MAX_KEYS, METADATA_MAX_VALUE, metadataKeyError, metadataValueError } from '../lib/validation';

/** The file's metadata as a table: add a key, change a value, delete a key; each change is one REST call. */
export function MetadataEditor(props: { uuid: string; metadata: Record<string, string>; readOnly: boolean; onChange: (metadata: Record<string, string>) => void }) {
  const { api, toast } = useApp();
  const entries = Object.entries(props.metadata).sort(([a], [b]) => a.localeCompare(b));
  const [newKey, setNewKey] = useState('');
  const [newValue, setNewValue] = useState('');
  const [addError, setAddError] = useState<string | null>(null);
  const [editing, setEditing] = useState<string | null>(null);
  const [editValue, setEditValue] = useState('');
  const [editError, setEditError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  const add = async (event: Event) => {
    event.preventDefault();
    const key = newKey.trim();
    const problem =
      metadataKeyError(key) ??
      metadataValueError(newValue) ??
      (Object.hasOwn(props.metadata, key) ? `“${key}” already exists; edit its value in the table.` : null) ??
      (entries.length >= METADATA_MAX_KEYS ? `A file has at most ${METADATA_MAX_KEYS} metadata keys.` : null);
    if (problem) {
      setAddError(problem);
      return;
    }
    setBusy(true);
    try {
      const value = await api.trove.setFileMetadataValue({ path: { uuid: props.uuid, key }, body: newValue });
      props.onChange({ ...props.metadata, [key]: typeof value === 'string' ? value : newValue });
      setNewKey('');
      setNewValue('');
      setAddError(null);
      toast.success(`Metadata “${key}” added.`);
    } catch (failure) {
      setAddError(errorMessage(failure));
    } finally {
      setBusy(false);
    }
  };

  const saveEdit = async (key: string) => {
    const problem = metadataValueError(editValue);
    if (problem) {
      setEditError(problem);
      return;
    }
    setBusy(true);
    try {
      const value = await api.trove.setFileMetadataValue({ path: { uuid: props.uuid, key }, body: editValue });
      props.onChange({ ...props.metadata, [key]: typeof value === 'string' ? value : editValue });
      setEditing(null);
      setEditError(null);
      toast.success(`Metadata “${key}” saved.`);
    } catch (failure) {
      setEditError(errorMessage(failure));
    } finally {
      setBusy(false);
    }
  };

  const remove = (key: string) =>
    runBusy(setBusy, (message) => toast.error(message), async () => {
      await api.trove.deleteFileMetadataValue({ path: { uuid: props.uuid, key } });
      const next = { ...props.metadata };
      delete next[key];
      props.onChange(next);
      toast.success(`Metadata “${key}” deleted.`);
    });

  return (
    <div class="metadata">
      {entries.length === 0 ? (
        <p class="subtle" data-testid="metadata-empty">
          No metadata yet.
        </p>
      ) : (
        <table class="kv-table" data-testid="metadata-table">
          <thead>
            <tr>
              <th scope="col">Key</th>
              <th scope="col">Value</th>
              {!props.readOnly && (
                <th scope="col" class="col-actions">
                  <span class="visually-hidden">Actions</span>
                </th>
              )}
            </tr>
          </thead>
          <tbody>
            {entries.map(([key, value]) => (
              <tr key={key} data-testid="metadata-row" data-key={key}>
                <th scope="row" class="kv-key">
                  <code>{key}</code>
                </th>
                <td class="kv-value">
                  {editing === key ? (
                    <form
                      class="inline-form"
                      onSubmit={(event) => {
                        event.preventDefault();
                        void saveEdit(key);
                      }}
                    >
                      <label class="visually-hidden" for={`metadata-edit-${key}`}>
                        Value of {key}
                      </label>
                      <input
                        id={`metadata-edit-${key}`}
                        value={editValue}
                        maxLength={METADATA_MAX_VALUE + 1}
                        autofocus
                        aria-invalid={editError ? true : undefined}
                        aria-describedby={editError ? 'metadata-edit-error' : undefined}
                        onInput={(event) => setEditValue(event.currentTarget.value)}
                        onKeyDown={(event) => {
                          if (event.key === 'Escape') {
                            event.stopPropagation();
                            setEditing(null);
                            setEditError(null);
                          }
                        }}
                        data-testid="metadata-edit-value"
                      />
                      <button type="submit" class="btn btn-small btn-primary" disabled={busy} data-testid="metadata-save">
                        Save
                      </button>
                      <button
                        type="button"
                        class="btn btn-small btn-ghost"
                        onClick={() => {
                          setEditing(null);
                          setEditError(null);
                        }}
                      >
                        Cancel
                      </button>
                      {editError && (
                        <p id="metadata-edit-error" class="form-error" role="alert" data-testid="metadata-error">
                          {editError}
                        </p>
                      )}
                    </form>
                  ) : (
                    <span class="kv-text" data-testid="metadata-row-value">
                      {value}
                    </span>
                  )}
                </td>
                {!props.readOnly && (
                  <td class="col-actions">
                    {editing !== key && (
                      <>
                        <button
                          type="button"
                          class="btn btn-small btn-ghost"
                          aria-label={`Edit ${key}`}
                          onClick={() => {
                            setEditing(key);
                            setEditValue(value);
                            setEditError(null);
                          }}
                          data-testid="metadata-edit"
                        >
                          Edit
                        </button>
                        <button type="button" class="btn btn-small btn-ghost btn-danger-text" aria-label={`Delete ${key}`} disabled={busy} onClick={() => void remove(key)} data-testid="metadata-delete">
                          Delete
                        </button>
                      </>
                    )}
                  </td>
                )}
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {!props.readOnly && (
        <form class="metadata-add" onSubmit={add} noValidate>
          <div class="field">
            <label for="metadata-key">Key</label>
            <input
              id="metadata-key"
              value={newKey}
              maxLength={64}
              spellcheck={false}
              placeholder="e.g. alt_text"
              aria-invalid={addError ? true : undefined}
              aria-describedby="metadata-add-hint"
              onInput={(event) => setNewKey(event.currentTarget.value)}
              data-testid="metadata-key"
            />
          </div>
          <div class="field field-grow">
            <label for="metadata-value">Value</label>
            <input
              id="metadata-value"
              value={newValue}
              aria-invalid={addError ? true : undefined}
              aria-describedby="metadata-add-hint"
              onInput={(event) => setNewValue(event.currentTarget.value)}
              data-testid="metadata-value"
            />
          </div>
          <button type="submit" class="btn" disabled={busy} data-testid="metadata-add">
            Add
          </button>
          <p id="metadata-add-hint" class="hint metadata-hint">
            Keys: 1–64 letters, digits, <code>_ - . :</code>. Values: up to {METADATA_MAX_VALUE} characters.
          </p>
          {addError && (
            <p class="form-error" role="alert" data-testid="metadata-error">
              {addError}
            </p>
          )}
        </form>
      )}
    </div>
  );
}
