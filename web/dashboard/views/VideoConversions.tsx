import { useEffect, useState } from 'preact/hooks';
import type { VideoConversionListItem } from '../../../client/trove-client';
import { errorMessage } from '../api/errors';
import { Link } from '../components/Link';
import { useApp } from '../context';
import { cdnUrl } from '../lib/cdn';
import { formatDateTime } from '../lib/format';
import { runBusy, useResource } from '../lib/hooks';
import {
  conversionPath,
  convertFormIssues,
  INITIAL_CONVERT_FORM,
  isRunning,
  MAX_THUMBNAILS,
  RESIZE_MODES,
  VIDEO_FORMATS,
  VIDEO_QUALITIES,
  type ConvertForm,
  type ResizeMode,
  type VideoFormat,
  type VideoQuality,
} from '../lib/video-convert';
import { BASE } from '../router';

/** How often the list is asked again while a conversion runs: a short clip finishes in seconds. */
const POLL_MS = 1000;
/** After a failed request (the server restarting, the network gone), wait longer. */
const POLL_RETRY_MS = 5000;
/** The newest conversions shown; older ones are counted, not listed. */
const LIST_LIMIT = 100;

const RESIZE_MODE_LABELS: Record<ResizeMode, string> = {
  preserve_ratio: 'Fit inside, keep ratio',
  change_ratio: 'Stretch to the size',
  scale_crop: 'Fill and crop',
  add_padding: 'Fit and pad',
};

const STATUS_LABELS: Record<VideoConversionListItem['status'], string> = {
  pending: 'Pending',
  processing: 'Processing',
  finished: 'Finished',
  failed: 'Failed',
  cancelled: 'Cancelled',
};

/**
 * Converting a video with Uploadcare's `POST /convert/video/`, and the file's conversions from
 * `GET /convert/video/?source=` with their status, asked again while any is running.
 */
export function VideoConversions(props: { uuid: string }) {
  const { api, toast } = useApp();
  const [form, setForm] = useState<ConvertForm>(INITIAL_CONVERT_FORM);
  const [busy, setBusy] = useState(false);
  const [refusal, setRefusal] = useState<string | null>(null);
  const conversions = useResource(
    (signal) => api.trove.listVideoConversions({ query: { source: props.uuid, limit: String(LIST_LIMIT) } }, { signal }),
    [api, props.uuid],
  );
  // The last answer stays on screen while the next is asked for (a reload keeps `data`).
  const shown = conversions.data?.results ?? null;
  const total = conversions.data?.total ?? 0;
  const running = shown?.some((conversion) => isRunning(conversion.status)) ?? false;
  const { loading, error, reload } = conversions;
  useEffect(() => {
    if (loading || (!running && !error)) return;
    const timer = window.setTimeout(reload, error ? POLL_RETRY_MS : POLL_MS);
    return () => window.clearTimeout(timer);
  }, [loading, running, error, reload]);

  const issues = convertFormIssues(form);
  const path = conversionPath(props.uuid, form);
  // The server's last refusal was about the request as it was: a change leaves it behind.
  const set = <K extends keyof ConvertForm>(key: K, value: ConvertForm[K]) => {
    setForm((current) => ({ ...current, [key]: value }));
    setRefusal(null);
  };

  const submit = async (event: Event) => {
    event.preventDefault();
    if (Object.keys(issues).length > 0 || busy) return;
    setBusy(true);
    setRefusal(null);
    try {
      const answer = await api.trove.convertVideo({ body: { paths: [path] } });
      const result = answer.result[0];
      if (!result) {
        setRefusal(Object.values(answer.problems)[0] ?? 'The server did not start the conversion.');
        return;
      }
      reload();
      toast.success('Conversion started.');
    } catch (failure) {
      setRefusal(errorMessage(failure));
    } finally {
      setBusy(false);
    }
  };

  const field = (key: 'width' | 'height' | 'thumbs', label: string, placeholder: string) => {
    const id = `convert-${key}`;
    const issue = issues[key];
    return (
      <div class="field">
        <label for={id}>{label}</label>
        <input
          id={id}
          inputMode="numeric"
          value={form[key]}
          placeholder={placeholder}
          aria-invalid={issue ? 'true' : undefined}
          aria-describedby={issue ? `${id}-issue` : undefined}
          onInput={(event) => set(key, event.currentTarget.value)}
          data-testid={id}
        />
        {issue && (
          <p id={`${id}-issue`} class="field-issue">
            {issue}
          </p>
        )}
      </div>
    );
  };

  return (
    <section class="panel video-convert" aria-labelledby="convert-title" data-testid="video-convert">
      <h2 id="convert-title">Convert</h2>
      <form class="convert-form" onSubmit={submit} noValidate>
        <div class="field-row field-row-3">
          <div class="field">
            <label for="convert-format">Format</label>
            <select id="convert-format" value={form.format} onChange={(event) => set('format', event.currentTarget.value as VideoFormat)} data-testid="convert-format">
              {VIDEO_FORMATS.map((format) => (
                <option key={format} value={format}>
                  {format.toUpperCase()}
                </option>
              ))}
            </select>
          </div>
          <div class="field">
            <label for="convert-quality">Quality</label>
            <select id="convert-quality" value={form.quality} onChange={(event) => set('quality', event.currentTarget.value as VideoQuality)} data-testid="convert-quality">
              {VIDEO_QUALITIES.map((quality) => (
                <option key={quality} value={quality}>
                  {quality}
                </option>
              ))}
            </select>
          </div>
          {field('thumbs', 'Thumbnails (optional)', `1 to ${MAX_THUMBNAILS}`)}
        </div>
        <div class="field-row field-row-3">
          {field('width', 'Width (px)', 'as the source')}
          {field('height', 'Height (px)', 'as the source')}
          <div class="field">
            <label for="convert-mode">Fit</label>
            <select
              id="convert-mode"
              value={form.mode}
              disabled={form.width.trim() === '' || form.height.trim() === ''}
              onChange={(event) => set('mode', event.currentTarget.value as ResizeMode)}
              data-testid="convert-mode"
            >
              {RESIZE_MODES.map((mode) => (
                <option key={mode} value={mode}>
                  {RESIZE_MODE_LABELS[mode]}
                </option>
              ))}
            </select>
          </div>
        </div>
        <p class="op-path mono" aria-label="Conversion path" data-testid="convert-path">
          {path}
        </p>
        <div class="actions">
          <button type="submit" class="btn btn-primary" disabled={busy || Object.keys(issues).length > 0} data-testid="convert-submit">
            {busy ? 'Starting…' : 'Convert'}
          </button>
        </div>
        {refusal && (
          <div class="error-box" role="alert" data-testid="convert-error">
            <p>{refusal}</p>
          </div>
        )}
      </form>
      <h3 class="convert-list-title">Conversions</h3>
      {error && (
        <p class="field-issue" role="alert" data-testid="convert-list-problem">
          Could not list the conversions: {error}
        </p>
      )}
      {shown === null ? (
        !error && <p class="subtle">Loading…</p>
      ) : shown.length === 0 ? (
        <p class="subtle" data-testid="convert-none">
          None yet.
        </p>
      ) : (
        <>
          <ul class="convert-list" aria-live="polite" data-testid="convert-list">
            {shown.map((conversion) => (
              <ConversionRow key={conversion.token} conversion={conversion} onChanged={reload} />
            ))}
          </ul>
          {total > shown.length && (
            <p class="subtle" data-testid="convert-more">
              The {shown.length} newest of {total}.
            </p>
          )}
        </>
      )}
    </section>
  );
}

/** One conversion as the list last told it, with a Cancel while it runs. */
function ConversionRow(props: { conversion: VideoConversionListItem; onChanged: () => void }) {
  const { conversion, onChanged } = props;
  const { api, boot, toast } = useApp();
  const [cancelling, setCancelling] = useState(false);
  const state = conversion.status;

  const cancel = () =>
    runBusy(setCancelling, (message) => toast.error(message), async () => {
      await api.trove.cancelVideoConversion({ path: { token: String(conversion.token) } });
      toast.success('Conversion cancelled.');
      onChanged();
    });

  return (
    <li class="convert-item" data-testid="conversion" data-token={conversion.token} data-status={state}>
      <div class="convert-item-head">
        <span class={`badge convert-status convert-status-${state}`} data-testid="conversion-status">
          {STATUS_LABELS[state]}
          {state === 'processing' ? ` · ${Math.round(conversion.progress)}%` : ''}
        </span>
        <code class="convert-item-path" title={`${conversion.path}\nStarted ${formatDateTime(conversion.datetime_created)}`}>
          {conversion.path.slice(conversion.path.indexOf('/video/') + '/video/'.length)}
        </code>
        {isRunning(state) && (
          <button type="button" class="btn btn-ghost btn-small" disabled={cancelling} onClick={() => void cancel()} data-testid="conversion-cancel">
            {cancelling ? 'Cancelling…' : 'Cancel'}
          </button>
        )}
      </div>
      {state === 'processing' && <progress class="convert-progress" max={100} value={conversion.progress} aria-label={`Conversion ${conversion.token} progress`} />}
      {state === 'finished' && (
        <p class="convert-result">
          <Link href={`${BASE}/files/${conversion.uuid}`} data-testid="conversion-result">
            Open the converted file
          </Link>
          {' · '}
          <a href={cdnUrl(boot.cdnBase, conversion.thumbnails_group_uuid)} target="_blank" rel="noopener" data-testid="conversion-thumbnails">
            Thumbnails group
          </a>
        </p>
      )}
      {state === 'failed' && (
        <p class="field-issue" role="alert" data-testid="conversion-error">
          {conversion.error ?? 'The conversion failed.'}
        </p>
      )}
      {state === 'cancelled' && conversion.error && (
        <p class="subtle convert-note" data-testid="conversion-error">
          {conversion.error}
        </p>
      )}
    </li>
  );
}
