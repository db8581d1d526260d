/** One row of the file list: thumbnail, name, size, status, progress bar, error and actions. */

import { h, setAttr, setText } from './dom.js';
import { formatBytes } from './format.js';
import type { WidgetStrings } from './strings.js';

export type FileStatus = 'queued' | 'uploading' | 'uploaded' | 'failed' | 'cancelled';

export interface RowState {
  name: string;
  size: number | null;
  status: FileStatus;
  /** What an uploading file is doing: sending bytes, waiting for the server to finish, or the server fetching a link. */
  phase: 'sending' | 'finishing' | 'fetching';
  /** Whole percent, or null while the size is unknown (an indeterminate bar). */
  percent: number | null;
  error: string | null;
  /** Image to show as thumbnail: an object URL of the local file or a CDN preview. */
  preview: string | null;
  /** A video preview plays muted in a loop (still when the user asks for reduced motion). */
  previewKind: 'image' | 'video';
  /** Text in place of a thumbnail when there is no preview and the name has no extension. */
  fallbackLabel: string;
}

interface RowActions {
  cancel(): void;
  retry(): void;
  remove(): void;
}

export class FileRow {
  readonly element: HTMLLIElement;
  readonly removeButton: HTMLButtonElement;
  readonly cancelButton: HTMLButtonElement;
  private readonly thumb: HTMLDivElement;
  private readonly meta: HTMLDivElement;
  private readonly name: HTMLDivElement;
  private readonly size: HTMLSpanElement;
  private readonly status: HTMLSpanElement;
  private readonly progress: HTMLProgressElement;
  private readonly percent: HTMLSpanElement;
  private readonly retryButton: HTMLButtonElement;
  private error: HTMLParagraphElement | null = null;
  private shownThumb: string | null = null;

  constructor(actions: RowActions) {
    this.thumb = h('div', { class: 'thumb', part: 'thumb', 'aria-hidden': 'true' });
    this.name = h('div', { class: 'name', part: 'file-name' });
    this.size = h('span', { part: 'file-size' });
    this.status = h('span', { class: 'status', part: 'file-status' });
    this.progress = h('progress', { part: 'progress file-progress', max: '100' });
    this.percent = h('span', { class: 'percent', part: 'file-percent' });
    this.cancelButton = h('button', { type: 'button', class: 'small', part: 'button cancel-button' });
    this.retryButton = h('button', { type: 'button', class: 'small', part: 'button retry-button' });
    this.removeButton = h('button', { type: 'button', class: 'small', part: 'button remove-button' });
    this.meta = h(
      'div',
      { class: 'meta' },
      this.name,
      h('div', { class: 'sub' }, this.size, this.status),
      h('div', { class: 'bar' }, this.progress, this.percent),
    );
    this.element = h(
      'li',
      { class: 'file', part: 'file' },
      this.thumb,
      this.meta,
      h('div', { class: 'actions' }, this.cancelButton, this.retryButton, this.removeButton),
    );
    this.cancelButton.addEventListener('click', () => actions.cancel());
    this.retryButton.addEventListener('click', () => actions.retry());
    this.removeButton.addEventListener('click', () => actions.remove());
  }

  update(state: RowState, t: WidgetStrings): void {
    const { status } = state;
    this.element.dataset.status = status;
    setAttr(this.element, 'part', `file file-${status}`);
    setText(this.name, state.name);
    this.name.title = state.name;
    setText(this.size, state.size !== null ? formatBytes(state.size) : '');
    this.size.hidden = state.size === null;
    const statusText: Record<FileStatus, string> = {
      queued: t.statusQueued,
      uploading: state.phase === 'finishing' ? t.statusFinishing : state.phase === 'fetching' ? t.statusFetching : t.statusUploading,
      uploaded: t.statusUploaded,
      failed: t.statusFailed,
      cancelled: t.statusCancelled,
    };
    setText(this.status, statusText[status]);
    setAttr(this.progress, 'aria-label', t.fileProgressLabel(state.name));
    setText(this.cancelButton, t.cancel);
    setAttr(this.cancelButton, 'aria-label', t.cancelFile(state.name));
    setText(this.retryButton, t.retry);
    setAttr(this.retryButton, 'aria-label', t.retryFile(state.name));
    setText(this.removeButton, t.remove);
    setAttr(this.removeButton, 'aria-label', t.removeFile(state.name));
    const active = status === 'queued' || status === 'uploading';
    this.cancelButton.hidden = !active;
    this.retryButton.hidden = status !== 'failed' && status !== 'cancelled';
    this.removeButton.hidden = active;
    this.renderError(state.error);
    this.renderThumb(state);
    this.updateProgress(state, t);
  }

  /** The frequent part of an update, on every progress event. */
  updateProgress(state: Pick<RowState, 'percent' | 'status'>, t: WidgetStrings): void {
    const { progress, percent } = this;
    // No value attribute = indeterminate: a link whose size the server does not know yet.
    if (state.percent !== null) progress.value = state.percent;
    else progress.removeAttribute('value');
    setText(percent, state.percent !== null ? t.percent(state.percent) : '');
    progress.hidden = state.status === 'failed' || state.status === 'cancelled';
    percent.hidden = progress.hidden;
  }

  private renderError(message: string | null): void {
    if (message === null) {
      this.error?.remove();
      this.error = null;
      return;
    }
    // Created (not just filled) on failure, so assistive technology announces the alert.
    this.error ??= this.meta.appendChild(h('p', { class: 'file-error', part: 'file-error', role: 'alert' }));
    setText(this.error, message);
  }

  private renderThumb(state: RowState): void {
    const label = this.label(state);
    const key = state.preview ? `${state.previewKind}:${state.preview}` : `label:${label}`;
    if (key === this.shownThumb) return;
    this.shownThumb = key;
    if (!state.preview) this.thumb.replaceChildren(label);
    else if (state.previewKind === 'video') this.thumb.replaceChildren(this.videoPreview(state.preview, label));
    else this.thumb.replaceChildren(h('img', { part: 'preview', src: state.preview, alt: '', decoding: 'async' }));
  }

  private label(state: Pick<RowState, 'name' | 'fallbackLabel'>): string {
    return /\.([a-z0-9]{1,4})$/i.exec(state.name)?.[1] ?? state.fallbackLabel;
  }

  /**
   * A silent loop of the picked video. `muted` is set as a property: the attribute alone does not
   * mute an element made by script, and browsers play only muted video without a user's gesture.
   * A video the browser cannot decode falls back to the extension label.
   */
  private videoPreview(src: string, label: string): HTMLVideoElement {
    const video = h('video', { part: 'preview video-preview', muted: true, loop: true, playsinline: true, preload: 'metadata', disablepictureinpicture: true });
    video.muted = true;
    video.defaultMuted = true;
    video.addEventListener('error', () => {
      if (this.thumb.contains(video)) this.thumb.replaceChildren(label);
    });
    video.src = src;
    const still = typeof matchMedia === 'function' && matchMedia('(prefers-reduced-motion: reduce)').matches;
    if (!still) {
      video.autoplay = true;
      // Autoplay may still be refused (a data-saver setting): the first frame then stays, which is enough.
      void video.play().catch(() => undefined);
    }
    return video;
  }
}
