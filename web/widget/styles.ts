/**
 * Styles of <trove-uploader>, inside its shadow root. Theme it from the page with custom properties
 * (they inherit through the shadow boundary) or restyle single elements with ::part().
 *
 * Custom properties (set them on trove-uploader or any ancestor):
 *   --trove-accent          buttons, progress bars, focus ring, drop highlight   (default #2563eb)
 *   --trove-accent-fg       text on accent-coloured buttons                      (default #fff)
 *   --trove-bg              background of the widget                             (default #fff)
 *   --trove-fg              text colour                                          (default #1f2937)
 *   --trove-muted           secondary text: sizes, hints, statuses               (default #6b7280)
 *   --trove-border          borders and the drop zone's dashed outline           (default #d1d5db)
 *   --trove-surface         file rows, thumbnails, progress track                (default #f3f4f6)
 *   --trove-error           error text and failed files                          (default #b91c1c)
 *   --trove-success         uploaded files                                       (default #15803d)
 *   --trove-radius          corner radius                                        (default 10px)
 *   --trove-font            font family                                          (default: the page's)
 *   --trove-font-size       base font size                                       (default 14px)
 *   --trove-gap             spacing unit                                         (default 12px)
 *   --trove-thumb-size      preview thumbnails                                   (default 44px)
 *
 * Parts (style with trove-uploader::part(name)):
 *   root, config-error, dropzone, hint, limits, button (every button), choose-button, camera-button,
 *   url-form, url-label, url-input, url-button, messages, message, dismiss-button, total,
 *   total-label, progress (both kinds of bar), total-progress, total-percent, list, file, thumb,
 *   preview (an <img>; for a picked video a muted looping <video>, also part video-preview),
 *   file-name, file-size, file-status, file-progress, file-percent, file-error,
 *   cancel-button, retry-button, remove-button, status (the visually hidden live region),
 *   camera-dialog, camera-video, camera-capture, camera-close, camera-fallback.
 * Each file row is part `file` plus `file-<status>` (file-queued, file-uploading, file-uploaded,
 * file-failed, file-cancelled), so a page can style statuses: trove-uploader::part(file-failed) {…}.
 */
const css = String.raw`
:host {
  --_accent: var(--trove-accent, #2563eb);
  --_accent-fg: var(--trove-accent-fg, #fff);
  --_bg: var(--trove-bg, #fff);
  --_fg: var(--trove-fg, #1f2937);
  --_muted: var(--trove-muted, #6b7280);
  --_border: var(--trove-border, #d1d5db);
  --_surface: var(--trove-surface, #f3f4f6);
  --_error: var(--trove-error, #b91c1c);
  --_success: var(--trove-success, #15803d);
  --_radius: var(--trove-radius, 10px);
  --_gap: var(--trove-gap, 12px);
  --_thumb: var(--trove-thumb-size, 44px);
  display: block;
  font-family: var(--trove-font, inherit);
  font-size: var(--trove-font-size, 14px);
  line-height: 1.4;
  color: var(--_fg);
  max-width: 40rem;
}
:host([hidden]) { display: none; }
* { box-sizing: border-box; }
[hidden] { display: none !important; }

.root {
  background: var(--_bg);
  border: 1px solid var(--_border);
  border-radius: var(--_radius);
  padding: var(--_gap);
  display: grid;
  gap: var(--_gap);
}

.dropzone {
  border: 2px dashed var(--_border);
  border-radius: calc(var(--_radius) - 2px);
  padding: calc(var(--_gap) * 2) var(--_gap);
  text-align: center;
  display: grid;
  justify-items: center;
  gap: calc(var(--_gap) * 0.75);
  transition: border-color 0.15s, background-color 0.15s;
}
.dropzone.dragging {
  border-color: var(--_accent);
  background: color-mix(in srgb, var(--_accent) 8%, var(--_bg));
}
.dropzone .hint { margin: 0; }
.dropzone .sources { display: flex; flex-wrap: wrap; gap: 8px; justify-content: center; }
.limits { margin: 0; color: var(--_muted); font-size: 0.9em; }

button {
  font: inherit;
  cursor: pointer;
  border-radius: calc(var(--_radius) - 4px);
  border: 1px solid var(--_border);
  background: var(--_bg);
  color: var(--_fg);
  padding: 6px 12px;
  min-height: 32px;
}
button:hover { border-color: var(--_accent); }
button.primary {
  background: var(--_accent);
  border-color: var(--_accent);
  color: var(--_accent-fg);
  font-weight: 600;
  padding: 8px 16px;
}
button.primary:hover { filter: brightness(1.08); }
button:disabled, input:disabled { opacity: 0.5; cursor: not-allowed; }
button.small { padding: 2px 10px; min-height: 28px; font-size: 0.9em; }
button:focus-visible, input:focus-visible {
  outline: 3px solid color-mix(in srgb, var(--_accent) 55%, transparent);
  outline-offset: 2px;
}

.url-form { display: flex; gap: 8px; align-items: end; flex-wrap: wrap; }
.url-form label { display: grid; gap: 4px; flex: 1 1 16rem; text-align: start; color: var(--_muted); font-size: 0.9em; }
.url-form input {
  font: inherit;
  color: var(--_fg);
  background: var(--_bg);
  border: 1px solid var(--_border);
  border-radius: calc(var(--_radius) - 4px);
  padding: 6px 10px;
  min-height: 32px;
  width: 100%;
}

.messages {
  display: grid;
  gap: 4px;
  color: var(--_error);
  background: color-mix(in srgb, var(--_error) 7%, var(--_bg));
  border: 1px solid color-mix(in srgb, var(--_error) 30%, var(--_bg));
  border-radius: calc(var(--_radius) - 4px);
  padding: 8px 10px;
}
.messages:empty { display: none; }
.messages ul { margin: 0; padding-inline-start: 1.2em; }
.messages .dismiss { justify-self: end; }
.config-error { color: var(--_error); margin: 0; font-weight: 600; }

.total { display: grid; grid-template-columns: auto 1fr auto; align-items: center; gap: 4px 10px; }
.total-label { font-weight: 600; }
.total-summary { grid-column: 1 / -1; color: var(--_muted); font-size: 0.9em; }

progress {
  appearance: none;
  -webkit-appearance: none;
  width: 100%;
  height: 8px;
  border: 0;
  border-radius: 999px;
  background: var(--_surface);
  overflow: hidden;
  accent-color: var(--_accent);
}
progress::-webkit-progress-bar { background: var(--_surface); border-radius: 999px; }
progress::-webkit-progress-value { background: var(--_accent); border-radius: 999px; }
progress::-moz-progress-bar { background: var(--_accent); border-radius: 999px; }
.percent { font-variant-numeric: tabular-nums; min-width: 3.2em; text-align: end; color: var(--_muted); font-size: 0.9em; }

.list { list-style: none; margin: 0; padding: 0; display: grid; gap: 8px; }
.list:empty { display: none; }
.file {
  display: grid;
  grid-template-columns: var(--_thumb) minmax(0, 1fr) auto;
  gap: 10px;
  align-items: center;
  padding: 8px;
  border-radius: calc(var(--_radius) - 4px);
  background: var(--_surface);
}
.thumb {
  width: var(--_thumb);
  height: var(--_thumb);
  border-radius: 6px;
  background: var(--_bg);
  border: 1px solid var(--_border);
  display: grid;
  place-items: center;
  overflow: hidden;
  font-size: 0.7em;
  font-weight: 700;
  color: var(--_muted);
  text-transform: uppercase;
}
.thumb img, .thumb video { width: 100%; height: 100%; object-fit: cover; display: block; }
.meta { display: grid; gap: 3px; min-width: 0; }
.name { font-weight: 600; overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }
.sub { color: var(--_muted); font-size: 0.85em; display: flex; gap: 6px; }
.bar { display: grid; grid-template-columns: 1fr auto; gap: 8px; align-items: center; }
.file-error { margin: 0; color: var(--_error); font-size: 0.9em; }
.actions { display: flex; gap: 6px; }
/* Rows sit on the surface colour: their bars' track needs the background colour to show. */
.file progress, .file progress::-webkit-progress-bar { background: var(--_bg); }
.file[data-status='uploaded'] .status { color: var(--_success); font-weight: 600; }
.file[data-status='uploaded'] progress::-webkit-progress-value { background: var(--_success); }
.file[data-status='uploaded'] progress::-moz-progress-bar { background: var(--_success); }
.file[data-status='failed'] .status { color: var(--_error); font-weight: 600; }
.file[data-status='failed'] { box-shadow: inset 3px 0 0 var(--_error); }
.file[data-status='cancelled'] .status { font-style: italic; }

.sr-only {
  position: absolute;
  width: 1px;
  height: 1px;
  margin: -1px;
  padding: 0;
  overflow: hidden;
  clip: rect(0 0 0 0);
  white-space: nowrap;
  border: 0;
}

dialog.camera {
  border: 1px solid var(--_border);
  border-radius: var(--_radius);
  padding: var(--_gap);
  background: var(--_bg);
  color: var(--_fg);
  font-family: var(--trove-font, inherit);
  max-width: min(92vw, 40rem);
}
dialog.camera::backdrop { background: rgb(0 0 0 / 0.5); }
dialog.camera h2 { margin: 0 0 8px; font-size: 1.1em; }
dialog.camera video { width: 100%; border-radius: 6px; background: #000; display: block; min-height: 10rem; }
dialog.camera .camera-actions { display: flex; gap: 8px; justify-content: flex-end; margin-top: var(--_gap); }
dialog.camera .camera-status { color: var(--_muted); margin: 8px 0 0; }

@media (prefers-reduced-motion: reduce) {
  * { transition: none !important; }
}
`;

let shared: CSSStyleSheet | null = null;

/** One constructed sheet for every instance where supported, else a <style> per shadow root. */
export function applyStyles(root: ShadowRoot): void {
  if ('adoptedStyleSheets' in root && typeof CSSStyleSheet !== 'undefined' && 'replaceSync' in CSSStyleSheet.prototype) {
    if (!shared) {
      shared = new CSSStyleSheet();
      shared.replaceSync(css);
    }
    root.adoptedStyleSheets = [...root.adoptedStyleSheets, shared];
    return;
  }
  const style = document.createElement('style');
  style.textContent = css;
  root.prepend(style);
}
