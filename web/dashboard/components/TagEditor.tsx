import { useEffect, useState } from 'preact/hooks';
import { errorMessage } from '../api/errors';
import { useApp } from '../context';
import { normalizeTag, tagError } from '../lib/validation';
import { BASE } from '../router';
import { Link } from './Link';

/** Tags as chips, edited locally and saved together (the API replaces the whole list). Tags are lowercased and trimmed as the API stores them. */
export function TagEditor(props: { uuid: string; tags: string[]; readOnly: boolean; onSaved: (tags: string[]) => void }) {
  const { api, toast } = useApp();
  const [tags, setTags] = useState<string[]>(props.tags);
  const [draft, setDraft] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const saved = props.tags;
  const dirty = tags.length !== saved.length || tags.some((tag, i) => tag !== saved[i]);

  useEffect(() => setTags(props.tags), [props.tags]);

  /** The list with what is typed added (a pasted "a, b, c" is three tags); null when a tag is refused. */
  const withDraft = (): string[] | null => {
    const next = [...tags];
    for (const part of draft.split(',').map(normalizeTag).filter((text) => text !== '')) {
      const problem = tagError(part, next);
      if (problem) {
        setError(problem);
        return null;
      }
      next.push(part);
    }
    return next;
  };

  const addDraft = () => {
    const next = withDraft();
    if (!next) return;
    setTags(next);
    setDraft('');
    setError(null);
  };

  const save = async () => {
    const next = withDraft();
    if (!next) return;
    setTags(next);
    setDraft('');
    setBusy(true);
    try {
      const saved = await api.trove.replaceFileTags({ path: { uuid: props.uuid }, body: { tags: next } });
      props.onSaved(saved.tags);
      setError(null);
      toast.success('Tags saved.');
    } catch (failure) {
      setError(errorMessage(failure));
    } finally {
      setBusy(false);
    }
  };

  return (
    <div class="tags">
      <ul class="chips" aria-label="Tags" data-testid="tag-list">
        {tags.length === 0 && <li class="subtle">No tags.</li>}
        {tags.map((tag) => (
          <li key={tag} class="chip" data-testid="tag-chip">
            <Link href={`${BASE}/files?tag=${encodeURIComponent(tag)}`} class="chip-label" title={`Show files tagged ${tag}`}>
              {tag}
            </Link>
            {!props.readOnly && (
              <button type="button" class="chip-remove" aria-label={`Remove tag ${tag}`} onClick={() => setTags(tags.filter((other) => other !== tag))} data-testid="tag-remove">
                ×
              </button>
            )}
          </li>
        ))}
      </ul>
      {!props.readOnly && (
        <div class="tag-form">
          <label for="tag-input" class="visually-hidden">
            New tag
          </label>
          <input
            id="tag-input"
            value={draft}
            placeholder="Add a tag and press Enter"
            aria-invalid={error ? true : undefined}
            onInput={(event) => {
              setDraft(event.currentTarget.value);
              setError(null);
            }}
            onKeyDown={(event) => {
              if (event.key === 'Enter' || event.key === ',') {
                event.preventDefault();
                addDraft();
              } else if (event.key === 'Backspace' && draft === '' && tags.length > 0) {
                setTags(tags.slice(0, -1));
              }
            }}
            data-testid="tag-input"
          />
          <button type="button" class="btn btn-small" onClick={() => addDraft()} data-testid="tag-add">
            Add
          </button>
          <button type="button" class="btn btn-small btn-primary" disabled={busy || (!dirty && draft.trim() === '')} onClick={() => void save()} data-testid="tags-save">
            {busy ? 'Saving…' : 'Save tags'}
          </button>
        </div>
      )}
      {error && (
        <p class="form-error" role="alert" data-testid="tag-error">
          {error}
        </p>
      )}
    </div>
  );
}
