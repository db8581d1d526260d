import { useEffect, useRef, useState } from 'preact/hooks';
import { Link } from '../components/Link';
import { useApp } from '../context';
import { formatBytes, formatCount, pluralize } from '../lib/format';
import { useDocumentTitle, useResource } from '../lib/hooks';
import { loadUploaderWidget } from '../lib/widget';
import { BASE } from '../router';

interface Uploaded {
  uuid: string;
  name: string;
  size: number | null;
}

/** The widget's property for signing uploads (web/widget/signature.ts). */
type SignableUploader = HTMLElement & { signatureProvider: (() => Promise<{ signature: string; expire: number }>) | null };

type WidgetState = { state: 'loading' } | { state: 'ready' } | { state: 'failed'; message: string };

/** Reads the fields the dashboard shows from the widget's `file-uploaded` detail, whatever else it holds. */
function uploadedFrom(detail: unknown): Uploaded | null {
  if (!detail || typeof detail !== 'object') return null;
  const record = detail as { uuid?: unknown; info?: unknown };
  if (typeof record.uuid !== 'string') return null;
  const info = record.info && typeof record.info === 'object' ? (record.info as Record<string, unknown>) : {};
  const file = record && typeof (record as { file?: unknown }).file === 'object' ? ((record as { file: Record<string, unknown> }).file ?? {}) : {};
  const name = [info.original_filename, file.name, info.filename].find((value): value is string => typeof value === 'string' && value !== '');
  const size = typeof info.size === 'number' ? info.size : null;
  return { uuid: record.uuid, name: name ?? record.uuid, size };
}

export function Upload() {
  useDocumentTitle('Upload');
  const { api, boot, session, toast, libraryChanged } = useApp();
  const host = useRef<HTMLDivElement>(null);
  const uploader = useRef<HTMLElement | null>(null);
  const [widget, setWidget] = useState<WidgetState>({ state: 'loading' });
  const [uploaded, setUploaded] = useState<Uploaded[]>([]);
  const project = useResource((signal) => api.trove.getProject({}, { signal }), [api]);

  useEffect(() => {
    let cancelled = false;
    loadUploaderWidget(boot.widgetUrl).then(
      () => !cancelled && setWidget({ state: 'ready' }),
      (failure: unknown) => !cancelled && setWidget({ state: 'failed', message: failure instanceof Error ? failure.message : String(failure) }),
    );
    return () => {
      cancelled = true;
    };
  }, [boot.widgetUrl]);

  // The element is made by hand: it is a custom element defined by another bundle, with its own events.
  useEffect(() => {
    const container = host.current;
    if (!container || widget.state !== 'ready') return;
    const element = document.createElement('trove-uploader');
    element.setAttribute('pubkey', session.project.pub_key);
    element.setAttribute('base-url', boot.uploadBase);
    element.setAttribute('cdn-base', boot.cdnBase);
    element.setAttribute('multiple', '');
    // Signed by the server for this session, so projects that require signed uploads work here too.
    (element as SignableUploader).signatureProvider = () => api.trove.getUploadSignature();
    element.setAttribute('data-testid', 'uploader');
    // What the widget's current batch did, so its end is told truthfully: a batch whose files all
    // failed did not "finish", and each failure already has its own message.
    let uploadedInBatch = 0;
    let failedInBatch = 0;
    const onUploaded = (event: Event) => {
      const file = uploadedFrom((event as CustomEvent<unknown>).detail);
      if (!file) return;
      uploadedInBatch += 1;
      setUploaded((list) => [file, ...list]);
      libraryChanged();
    };
    const onError = (event: Event) => {
      const detail = (event as CustomEvent<unknown>).detail;
      const record = detail && typeof detail === 'object' ? (detail as { message?: unknown; file?: { id?: unknown } | null }) : {};
      // Files refused before upload (too large, wrong type) have no id and end no batch.
      if (typeof record.file?.id === 'string') failedInBatch += 1;
      toast.error(typeof record.message === 'string' ? record.message : 'The upload failed.');
    };
    const onDone = () => {
      if (uploadedInBatch > 0 && failedInBatch === 0) toast.success('Upload finished.');
      else if (uploadedInBatch > 0) toast.info(`Upload finished: ${pluralize(uploadedInBatch, 'file')} uploaded, ${formatCount(failedInBatch)} failed.`);
      uploadedInBatch = 0;
      failedInBatch = 0;
    };
    element.addEventListener('file-uploaded', onUploaded);
    element.addEventListener('error', onError);
    element.addEventListener('done', onDone);
    container.appendChild(element);
    uploader.current = element;
    return () => {
      uploader.current = null;
      element.removeEventListener('file-uploaded', onUploaded);
      element.removeEventListener('error', onError);
      element.removeEventListener('done', onDone);
      element.remove();
    };
  }, [widget.state, session.project.pub_key, boot.uploadBase, boot.cdnBase, api, toast, libraryChanged]);

  // The project's limits, checked in the browser before any byte is sent (the server checks again).
  const maxSize = project.data?.max_file_size ?? null;
  const accept = project.data?.allowed_mime_types?.join(',') ?? '';
  useEffect(() => {
    const element = uploader.current;
    if (!element) return;
    if (maxSize) element.setAttribute('max-size', String(maxSize));
    else element.removeAttribute('max-size');
    if (accept) element.setAttribute('accept', accept);
    else element.removeAttribute('accept');
  }, [widget.state, maxSize, accept]);

  return (
    <section aria-labelledby="upload-title">
      <div class="page-head">
        <div>
          <h1 id="upload-title">Upload</h1>
          <p class="subtle">
            Files go to <strong>{session.project.name}</strong> through the Upload API and appear in the <Link href={`${BASE}/files`}>library</Link>.
          </p>
        </div>
      </div>
      <div class="panel upload-panel">
        {widget.state === 'loading' && <p class="subtle">Loading the uploader…</p>}
        {widget.state === 'failed' && (
          <div class="error-box" role="alert" data-testid="uploader-error">
            <p>The upload widget could not be loaded: {widget.message}</p>
          </div>
        )}
        <div ref={host} class="uploader-host" />
        {project.data?.max_file_size ? <p class="hint">Largest file: {formatBytes(project.data.max_file_size)}.</p> : null}
        {project.data?.allowed_mime_types && project.data.allowed_mime_types.length > 0 ? <p class="hint">Accepted types: {project.data.allowed_mime_types.join(', ')}.</p> : null}
      </div>
      {uploaded.length > 0 && (
        <section class="panel" aria-labelledby="uploaded-title">
          <h2 id="uploaded-title">Uploaded just now</h2>
          <ul class="uploaded-list" data-testid="uploaded-list">
            {uploaded.map((file) => (
              <li key={file.uuid} data-testid="uploaded-file">
                <Link href={`${BASE}/files/${file.uuid}`}>{file.name}</Link>
                {file.size !== null && <span class="subtle"> · {formatBytes(file.size)}</span>}
              </li>
            ))}
          </ul>
        </section>
      )}
    </section>
  );
}
