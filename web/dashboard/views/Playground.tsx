import type { ComponentChildren } from 'preact';
import { useMemo, useRef, useState } from 'preact/hooks';
import { messageFromBody } from '../api/errors';
import { CopyButton } from '../components/CopyButton';
import { useDebounced } from '../lib/hooks';
import {
  DEFAULT_TRANSFORM,
  FORMATS,
  GRAVITIES,
  LIMITS,
  QUALITIES,
  ROTATIONS,
  sideLimits,
  transformIssues,
  transformOperations,
  transformUrl,
  type Gravity,
  type OutputFormat,
  type Quality,
  type Limits,
  type Rotation,
  type TransformState,
} from '../lib/transform-url';

/** What the controls hold: number fields as typed, so a half-typed value is not rewritten under the cursor. */
interface Controls {
  resizeWidth: string;
  resizeHeight: string;
  cropWidth: string;
  cropHeight: string;
  gravity: Gravity;
  rotate: Rotation;
  flip: boolean;
  mirror: boolean;
  enhance: string;
  brightness: number;
  contrast: number;
  saturation: number;
  grayscale: boolean;
  invert: boolean;
  sharpen: string;
  blur: string;
  format: OutputFormat | '';
  quality: Quality | '';
  progressive: boolean;
}

const INITIAL: Controls = {
  resizeWidth: '',
  resizeHeight: '',
  cropWidth: '',
  cropHeight: '',
  gravity: 'center',
  rotate: 0,
  flip: false,
  mirror: false,
  enhance: '',
  brightness: 0,
  contrast: 0,
  saturation: 0,
  grayscale: false,
  invert: false,
  sharpen: '',
  blur: '',
  format: '',
  quality: '',
  progressive: false,
};

const number = (text: string): number | null => {
  if (text.trim() === '') return null;
  const value = Number(text);
  return Number.isFinite(value) ? value : null;
};

function toTransformState(controls: Controls): TransformState {
  return {
    ...DEFAULT_TRANSFORM,
    resizeWidth: number(controls.resizeWidth),
    resizeHeight: number(controls.resizeHeight),
    cropWidth: number(controls.cropWidth),
    cropHeight: number(controls.cropHeight),
    gravity: controls.gravity,
    rotate: controls.rotate,
    flip: controls.flip,
    mirror: controls.mirror,
    enhance: number(controls.enhance),
    brightness: controls.brightness,
    contrast: controls.contrast,
    saturation: controls.saturation,
    grayscale: controls.grayscale,
    invert: controls.invert,
    sharpen: number(controls.sharpen),
    blur: number(controls.blur),
    format: controls.format === '' ? null : controls.format,
    quality: controls.quality === '' ? null : controls.quality,
    progressive: controls.progressive,
  };
}

type Preview = { state: 'loading' } | { state: 'loaded'; width: number; height: number } | { state: 'error'; message: string };

const GRAVITY_LABELS: Record<Gravity, string> = {
  center: 'Center',
  top: 'Top',
  bottom: 'Bottom',
  left: 'Left',
  right: 'Right',
  top_left: 'Top left',
  top_right: 'Top right',
  bottom_left: 'Bottom left',
  bottom_right: 'Bottom right',
  smart: 'Smart (content-aware)',
  smart_faces: 'Smart: faces',
  smart_objects: 'Smart: objects',
  smart_faces_objects: 'Smart: faces, then objects',
};

/**
 * Builds a CDN transformation URL from form controls and shows what the CDN makes of it, side by
 * side: the URL updates as you type, the preview once typing pauses. `maxOutputDimension` is the
 * server's limit on sides (from the page's boot data).
 */
export function Playground(props: { uuid: string; cdnBase: string; maxOutputDimension: number | null }) {
  const [controls, setControls] = useState<Controls>(INITIAL);
  const state = useMemo(() => toTransformState(controls), [controls]);
  const url = transformUrl(props.cdnBase, props.uuid, state);
  const ops = useMemo(() => transformOperations(state), [state]);
  const issues = useMemo(() => transformIssues(state, props.maxOutputDimension), [state, props.maxOutputDimension]);
  const side = sideLimits(props.maxOutputDimension);
  const previewSrc = useDebounced(url, 400);
  // Tied to the URL it describes, so a new URL reads as loading from its first render on.
  const [result, setResult] = useState<{ src: string; preview: Preview } | null>(null);
  // While typing (the URL ahead of the preview) the shown image is stale: report loading, not its size.
  const preview: Preview = url === previewSrc && result && result.src === previewSrc ? result.preview : { state: 'loading' };
  const currentSrc = useRef(previewSrc);
  currentSrc.current = previewSrc;

  const set = <K extends keyof Controls>(key: K, value: Controls[K]) => setControls((previous) => ({ ...previous, [key]: value }));
  const issueFor = (field: keyof TransformState) => issues.find((issue) => issue.field === field)?.message;

  const onError = async () => {
    const src = previewSrc;
    let message = 'The browser could not display this image.';
    try {
      // <img> hides the answer; ask again to read the server's explanation.
      const response = await fetch(src, { credentials: 'omit' });
      if (!response.ok) {
        const body = messageFromBody(await response.text());
        message = `${response.status}: ${body.message ?? response.statusText ?? 'The CDN refused this URL.'}`;
      } else {
        const type = response.headers.get('content-type') ?? 'unknown type';
        message = `The CDN answered ${type}, which this browser cannot display.`;
      }
    } catch {
      message = 'The CDN could not be reached.';
    }
    if (currentSrc.current === src) setResult({ src, preview: { state: 'error', message } });
  };

  const numberField = (key: 'resizeWidth' | 'resizeHeight' | 'cropWidth' | 'cropHeight' | 'enhance' | 'sharpen' | 'blur', label: string, testId: string, limits: Limits, placeholder = '') => {
    const id = `pg-${key}`;
    const issue = issueFor(key);
    return (
      <div class="field">
        <label for={id}>{label}</label>
        <input
          id={id}
          type="number"
          inputMode="numeric"
          min={limits.min}
          max={limits.max ?? undefined}
          step={1}
          placeholder={placeholder}
          value={controls[key]}
          aria-invalid={issue ? true : undefined}
          aria-describedby={issue ? `${id}-issue` : undefined}
          onInput={(event) => set(key, event.currentTarget.value)}
          data-testid={testId}
        />
        {issue && (
          <p id={`${id}-issue`} class="field-issue">
            {issue}
          </p>
        )}
      </div>
    );
  };

  const slider = (key: 'brightness' | 'contrast' | 'saturation', label: string, limits: { min: number; max: number }) => {
    const id = `pg-${key}`;
    return (
      <div class="field field-slider">
        <label for={id}>
          {label} <output for={id}>{controls[key]}</output>
        </label>
        <input
          id={id}
          type="range"
          min={limits.min}
          max={limits.max}
          step={1}
          value={controls[key]}
          onInput={(event) => set(key, Number(event.currentTarget.value))}
          data-testid={`playground-${key}`}
        />
      </div>
    );
  };

  const toggle = (key: 'flip' | 'mirror' | 'grayscale' | 'invert' | 'progressive', label: string) => (
    <label class="check">
      <input type="checkbox" checked={controls[key]} onChange={(event) => set(key, event.currentTarget.checked)} data-testid={`playground-${key}`} />
      <span>{label}</span>
    </label>
  );

  return (
    <section class="playground panel" aria-labelledby="playground-title" data-testid="playground">
      <div class="panel-head">
        <h2 id="playground-title">Transformation playground</h2>
        <button type="button" class="btn btn-small btn-ghost" onClick={() => setControls(INITIAL)} data-testid="playground-reset">
          Reset
        </button>
      </div>
      <div class="playground-body">
        <form class="playground-controls" onSubmit={(event) => event.preventDefault()}>
          <Group legend="Resize">
            <div class="field-row">
              {numberField('resizeWidth', 'Width (px)', 'playground-width', side, 'auto')}
              {numberField('resizeHeight', 'Height (px)', 'playground-height', side, 'auto')}
            </div>
          </Group>
          <Group legend="Crop to fill">
            <div class="field-row">
              {numberField('cropWidth', 'Width (px)', 'playground-crop-width', side)}
              {numberField('cropHeight', 'Height (px)', 'playground-crop-height', side)}
            </div>
            <div class="field">
              <label for="pg-gravity">Gravity</label>
              <select id="pg-gravity" value={controls.gravity} onChange={(event) => set('gravity', event.currentTarget.value as Gravity)} data-testid="playground-gravity">
                {GRAVITIES.map((gravity) => (
                  <option key={gravity} value={gravity}>
                    {GRAVITY_LABELS[gravity]}
                  </option>
                ))}
              </select>
            </div>
          </Group>
          <Group legend="Output">
            <div class="field-row">
              <div class="field">
                <label for="pg-format">Format</label>
                <select id="pg-format" value={controls.format} onChange={(event) => set('format', event.currentTarget.value as OutputFormat | '')} data-testid="playground-format">
                  <option value="">Original</option>
                  {FORMATS.map((format) => (
                    <option key={format} value={format}>
                      {format}
                    </option>
                  ))}
                </select>
              </div>
              <div class="field">
                <label for="pg-quality">Quality</label>
                <select id="pg-quality" value={controls.quality} onChange={(event) => set('quality', event.currentTarget.value as Quality | '')} data-testid="playground-quality">
                  <option value="">Default</option>
                  {QUALITIES.map((quality) => (
                    <option key={quality} value={quality}>
                      {quality}
                    </option>
                  ))}
                </select>
              </div>
            </div>
            {toggle('progressive', 'Progressive JPEG')}
          </Group>
          <Group legend="Orientation">
            <div class="field">
              <label for="pg-rotate">Rotate (counterclockwise)</label>
              <select id="pg-rotate" value={String(controls.rotate)} onChange={(event) => set('rotate', Number(event.currentTarget.value) as Rotation)} data-testid="playground-rotate">
                {ROTATIONS.map((angle) => (
                  <option key={angle} value={String(angle)}>
                    {angle === 0 ? 'None' : `${angle}°`}
                  </option>
                ))}
              </select>
            </div>
            <div class="check-row">
              {toggle('flip', 'Flip (top to bottom)')}
              {toggle('mirror', 'Mirror (left to right)')}
            </div>
          </Group>
          <Group legend="Effects">
            <div class="check-row">
              {toggle('grayscale', 'Grayscale')}
              {toggle('invert', 'Invert')}
            </div>
            <div class="field-row field-row-3">
              {numberField('blur', 'Blur', 'playground-blur', LIMITS.blur, 'off')}
              {numberField('sharpen', 'Sharpen', 'playground-sharpen', LIMITS.sharpen, 'off')}
              {numberField('enhance', 'Enhance', 'playground-enhance', LIMITS.enhance, 'off')}
            </div>
            {slider('brightness', 'Brightness', LIMITS.brightness)}
            {slider('contrast', 'Contrast', LIMITS.contrast)}
            {slider('saturation', 'Saturation', LIMITS.saturation)}
          </Group>
        </form>

        <div class="playground-output">
          <div class="field">
            <label for="pg-url">Transformation URL</label>
            <div class="url-row">
              <input id="pg-url" class="mono" readOnly value={url} onFocus={(event) => event.currentTarget.select()} data-testid="playground-url" />
              <CopyButton text={url} testId="playground-copy" />
              <a class="btn btn-small" href={url} target="_blank" rel="noopener" data-testid="playground-open">
                Open
              </a>
            </div>
          </div>
          <p class="op-path mono" aria-label="Operations" data-testid="playground-path">
            {ops.length === 0 ? <span>No operations: the original file.</span> : ops.map((op, i) => <span key={`${i}${op}`} class="op">{op}</span>)}
          </p>
          <div class="preview-stage" aria-live="polite" aria-busy={preview.state === 'loading'} data-testid="playground-stage" data-state={preview.state}>
            {preview.state === 'error' ? (
              <div class="error-box" role="alert" data-testid="playground-error">
                <p>
                  <strong>The CDN refused this URL.</strong>
                </p>
                <p>{preview.message}</p>
              </div>
            ) : null}
            <img
              key={previewSrc}
              src={previewSrc}
              alt="Preview of the transformed image"
              class={`preview-image ${preview.state === 'loaded' ? '' : 'preview-pending'}`}
              // A refused URL keeps its broken image hidden until the next URL replaces it.
              hidden={result !== null && result.src === previewSrc && result.preview.state === 'error'}
              onLoad={(event) => {
                const image = event.currentTarget;
                setResult({ src: previewSrc, preview: { state: 'loaded', width: image.naturalWidth, height: image.naturalHeight } });
              }}
              onError={() => void onError()}
              data-testid="playground-preview"
            />
            {preview.state === 'loading' && (
              <span class="preview-loading" data-testid="playground-loading">
                <span class="spinner" aria-hidden="true" /> Rendering…
              </span>
            )}
          </div>
          <p class="preview-meta">
            Output size:{' '}
            <strong data-testid="preview-size">{preview.state === 'loaded' ? `${preview.width} × ${preview.height}` : '—'}</strong>
          </p>
        </div>
      </div>
    </section>
  );
}

function Group(props: { legend: string; children: ComponentChildren }) {
  return (
    <fieldset class="group">
      <legend>{props.legend}</legend>
      {props.children}
    </fieldset>
  );
}
