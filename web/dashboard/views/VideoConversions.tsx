import { useEffect, useState } from 'preact/hooks';
import type { VideoConversionStatus } from '../../../client/trove-client';
import { errorMessage, failureStatus, isAbort } from '../api/errors';
import { Link } from '../components/Link';
import { useApp } from '../context';
import { cdnUrl } from '../lib/cdn';
import {
  conversionPath,
  convertFormIssues,
  INITIAL_CONVERT_FORM,
  MAX_THUMBNAILS,
  RESIZE_MODES,
  rememberConversion,
  rememberedConversions,
  VIDEO_FORMATS,
  VIDEO_QUALITIES,
  type ConvertForm,
  type ResizeMode,
  type StartedConversion,
  type VideoFormat,
  type VideoQuality,
} from '../lib/video-convert';
import { BASE } from '../router';

/** How often a conversion still running is asked about: a short clip finishes in seconds. */
const POLL_MS = 1000;
/** After a failed status request (the server restarting, the network gone), wait longer. */
const POLL_RETRY_MS = 5000;

const RESIZE_MODE_LABELS: Record<ResizeMode, string> = {
  preserve_ratio: 'Fit inside, keep ratio',
  change_ratio: 'Stretch to the size',
  scale_crop: 'Fill and crop',
  add_padding: 'Fit and pad',
};

const STATUS_LABELS: Record<VideoConversionStatus['status'], string> = {
  pending: 'Pending',
  processing: 'Processing',
  finished: 'Finished',
  failed: 'Failed',
  cancelled: 'Cancelled',
};

/**
 * Converting a video with Uploadcare's `POST /convert/video/`, and the conversions started from this
 * tab with their status (the API lists no file's conversions; the tokens are remembered here).
 */
export function VideoConversions(props: { uuid: string }) {
  const { api, toast } = useApp();
  const [form, setForm] = useState<ConvertForm>(INITIAL_CONVERT_FORM);
  const [busy, setBusy] = useState(false);
  const [refusal, setRefusal] = useState<string | null>(null);
  // Keyed by the file on its page: another file's page starts from its own list and an empty form.
  const [started, setStarted] = useState<StartedConversion[]>(() => rememberedConversions(props.uuid));

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
      setStarted(rememberConversion(props.uuid, { token: result.token, path, uuid: result.uuid, thumbnailsGroupUuid: result.thumbnails_group_uuid }));
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
      <h3 class="convert-list-title">Conversions started here</h3>
      {started.length === 0 ? (
        <p class="subtle" data-testid="convert-none">
          None yet. This list shows the conversions started from this browser tab.
        </p>
      ) : (
        <ul class="convert-list" aria-live="polite" data-testid="convert-list">
          {started.map((conversion) => (
            <ConversionRow key={conversion.token} conversion={conversion} />
          ))}
        </ul>
      )}
    </section>
  );
}

/** One conversion and its status, asked again until it is over. */
function ConversionRow(props: { conversion: StartedConversion }) {
  const { conversion } = props;
  const { api, boot } = useApp();
  const [status, setStatus] = useState<VideoConversionStatus | null>(null);
  const [problem, setProblem] = useState<string | null>(null);
  const over = status !== null && (status.status === 'finished' || status.status === 'failed' || status.status === 'cancelled');

  useEffect(() => {
    if (over) return;
    const controller = new AbortController();
    let timer = 0;
    const ask = async () => {
      let delay = POLL_MS;
      try {
        const answer = await api.trove.getVideoConversionStatus({ path: { token: String(conversion.token) } }, { signal: controller.signal });
        setStatus(answer);
        setProblem(null);
        if (answer.status === 'finished' || answer.status === 'failed' || answer.status === 'cancelled') return;
      } catch (failure) {
        if (isAbort(failure)) return;
        setProblem(errorMessage(failure));
        // A token the project does not know (another project's, or a forgotten one) will not come back.
        if (failureStatus(failure) === 404) return;
        delay = POLL_RETRY_MS;
      }
      if (!controller.signal.aborted) timer = window.setTimeout(() => void ask(), delay);
    };
    void ask();
    return () => {
      controller.abort();
      window.clearTimeout(timer);
    };
  }, [api, conversion.token, over]);

  const state = status?.status ?? 'pending';
  return (
    <li class="convert-item" data-testid="conversion" data-token={conversion.token} data-status={status ? state : 'unknown'}>
      <div class="convert-item-head">
        <span class={`badge convert-status convert-status-${state}`} data-testid="conversion-status">
          {status ? STATUS_LABELS[state] : problem ? 'Unknown' : 'Asking…'}
          {state === 'processing' && status ? ` · ${Math.round(status.progress)}%` : ''}
        </span>
        <code class="convert-item-path" title={conversion.path}>
          {conversion.path.slice(conversion.path.indexOf('/video/') + '/video/'.length)}
        </code>
      </div>
      {state === 'processing' && status && (
        <progress class="convert-progress" max={100} value={status.progress} aria-label={`Conversion ${conversion.token} progress`} />
      )}
      {state === 'finished' && status?.result && (
        <p class="convert-result">
          <Link href={`${BASE}/files/${status.result.uuid}`} data-testid="conversion-result">
            Open the converted file
          </Link>
          {' · '}
          <a href={cdnUrl(boot.cdnBase, status.result.thumbnails_group_uuid)} target="_blank" rel="noopener" data-testid="conversion-thumbnails">
            Thumbnails group
          </a>
        </p>
      )}
      {state === 'failed' && (
        <p class="field-issue" role="alert" data-testid="conversion-error">
          {status?.error ?? 'The conversion failed.'}
        </p>
      )}
      {problem && (
        <p class="field-issue" role="alert" data-testid="conversion-problem">
          Could not ask for its status: {problem}
        </p>
      )}
    </li>
  );
}
