/**
 * <trove-uploader>: the element. It owns the file list and the user interface; HTTP lives in
 * upload-api.ts, chunking in multipart.ts, rules in validate.ts, words in strings.ts.
 */

import { cameraMode, openCamera } from './camera.js';
import { h, setAttr, setText } from './dom.js';
import { FileRow, type FileStatus, type RowState } from './file-row.js';
import { formatBytes, toPercent } from './format.js';
import { thumbHashOf } from './placeholder.js';
import { SignatureCache, signatureFromUrl, type SignatureProvider } from './signature.js';
import { onStringsChange, strings as sharedStrings, type WidgetStrings } from './strings.js';
import { OBSERVED_ATTRIBUTES, readSettings, type Settings } from './settings.js';
import { buildShell, showMessages, type Shell } from './shell.js';
import { applyStyles } from './styles.js';
import { sendDirect, sendLink, sendMultipart, type MultipartState, type TransferContext } from './transfer.js';
import { UploadError, createGroup, type ApiConfig, type FileInfo, type Signature } from './upload-api.js';
import { checkFile, isFetchableUrl, matchesAccept, nameFromUrl, splitByCount, type Problem, type Source } from './validate.js';

export type { FileStatus } from './file-row.js';

/** A file as scripts see it through `element.files`. */
export interface UploaderFile {
  id: string;
  name: string;
  size: number | null;
  type: string;
  source: Source;
  status: FileStatus;
  uuid: string | null;
  cdnUrl: string | null;
  info: FileInfo | null;
  /** ThumbHash (base64) of an uploaded image picked from the device; null otherwise (see placeholder.ts). */
  placeholder: string | null;
  error: { message: string; code: string } | null;
}

export interface UploadedFile {
  uuid: string;
  cdnUrl: string;
  info: FileInfo;
  placeholder: string | null;
}

export interface DoneDetail {
  files: UploadedFile[];
  group?: { id: string; cdnUrl: string };
}

/** Files uploading side by side; each multipart file also runs `concurrency` parts at once. */
const PARALLEL_FILES = 3;
/** Larger images get an icon instead of a preview: decoding them for a 44-pixel thumbnail wastes memory. */
const PREVIEW_MAX_BYTES = 25 * 1000 * 1000;
const PREVIEWABLE = /^image\/(jpeg|png|gif|webp|avif|bmp|svg\+xml|x-icon)$/;
/**
 * Videos a browser commonly plays get a muted looping preview. An object URL reads the file as the
 * player goes, not all at once, so the bound is about decoding work rather than memory.
 */
const PREVIEWABLE_VIDEO = /^video\/(mp4|webm|ogg|quicktime)$/;
const VIDEO_PREVIEW_MAX_BYTES = 500 * 1000 * 1000;
/**
 * The longest an upload's `file-uploaded` waits for its placeholder. The hash starts with the upload
 * and usually ends long before the bytes are sent; a decode that stalls must not hold the event
 * back, so past this the placeholder is null.
 */
const PLACEHOLDER_WAIT_MS = 2000;

interface Entry {
  id: string;
  name: string;
  size: number | null;
  type: string;
  source: Source;
  file: File | null;
  url: string | null;
  status: FileStatus;
  phase: RowState['phase'];
  loaded: number;
  total: number | null;
  controller: AbortController | null;
  uuid: string | null;
  info: FileInfo | null;
  cdnUrl: string | null;
  error: { message: string; code: string } | null;
  /** The ThumbHash being made from the picked file, from its first upload attempt on; null for a link. */
  hashing: Promise<string | null> | null;
  placeholder: string | null;
  previewUrl: string | null;
  /** What `previewUrl` shows: a video plays muted in a loop in place of an image. */
  previewKind: RowState['previewKind'];
  /** A multipart upload the server already started: a retry sends only the parts still missing. */
  multipart: MultipartState | null;
  /** Last progress step (0, 25, 50, 75, 100) said in the live region. */
  announced: number;
  batch: number;
  hiddenInput: HTMLInputElement | null;
  row: FileRow;
}

let nextFileId = 0;
const connected = new Set<TroveUploader>();

/** Pastes with nothing focused go to one uploader: the first on the page that takes local files. */
function pasteOwner(): TroveUploader | null {
  let first: TroveUploader | null = null;
  for (const uploader of connected) {
    if (!uploader.acceptsPaste()) continue;
    if (!first || first.compareDocumentPosition(uploader) & Node.DOCUMENT_POSITION_PRECEDING) first = uploader;
  }
  return first;
}

/** Whether a picked file gets a local preview, and of which kind; null: an icon with its extension. */
function localPreviewKind(type: string, size: number): RowState['previewKind'] | null {
  if (PREVIEWABLE.test(type) && size <= PREVIEW_MAX_BYTES) return 'image';
  if (PREVIEWABLE_VIDEO.test(type) && size <= VIDEO_PREVIEW_MAX_BYTES) return 'video';
  return null;
}

/** The placeholder, or null when it is not ready within `PLACEHOLDER_WAIT_MS`. */
function placeholderInTime(hashing: Promise<string | null> | null): Promise<string | null> {
  if (!hashing) return Promise.resolve(null);
  let timer = 0;
  const late = new Promise<null>((resolve) => (timer = window.setTimeout(() => resolve(null), PLACEHOLDER_WAIT_MS)));
  return Promise.race([hashing, late]).finally(() => window.clearTimeout(timer));
}

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

export class TroveUploader extends HTMLElement {
  static get observedAttributes(): readonly string[] {
    return OBSERVED_ATTRIBUTES;
  }

  private provider: SignatureProvider | null = null;
  private extraMetadata: Record<string, string> = {};
  private overrides: Partial<WidgetStrings> = {};
  private readonly shadow: ShadowRoot;
  private readonly entries: Entry[] = [];
  private readonly signatures = new SignatureCache(() => {
    if (this.provider) return this.provider;
    const url = this.getAttribute('signature-url');
    return url ? signatureFromUrl(new URL(url, document.baseURI).href) : null;
  });
  private batchId = 0;
  private batchActive = false;
  /** Increases with each finishing pass, so a slow group request from an older pass is ignored. */
  private finishRun = 0;
  private groupInput: HTMLInputElement | null = null;
  private group: { id: string; cdnUrl: string } | null = null;
  private dragDepth = 0;
  private stopStrings: (() => void) | null = null;
  private warned = new Set<string>();

  private readonly ui: Shell;

  constructor() {
    super();
    // Properties a page set before this element was defined (say, before the module loaded) sit on
    // the instance and would hide the class's accessors; take their values over.
    const early = this as unknown as Record<string, unknown>;
    const pending: Array<[string, unknown]> = [];
    for (const key of ['signatureProvider', 'metadata', 'strings']) {
      if (Object.prototype.hasOwnProperty.call(this, key)) {
        pending.push([key, early[key]]);
        Reflect.deleteProperty(this, key);
      }
    }

    this.shadow = this.attachShadow({ mode: 'open' });
    applyStyles(this.shadow);
    const ui = buildShell(this.shadow);
    this.ui = ui;
    const dropzone = ui.dropzone;

    ui.choose.addEventListener('click', () => this.openFilePicker());
    ui.input.addEventListener('change', () => {
      const files = Array.from(ui.input.files ?? []);
      // Cleared so choosing the same file again fires `change` again.
      ui.input.value = '';
      if (files.length > 0) this.addFiles(files);
    });
    ui.captureInput.addEventListener('change', () => {
      const files = Array.from(ui.captureInput.files ?? []);
      ui.captureInput.value = '';
      if (files.length > 0) this.addFiles(files, 'camera');
    });
    ui.camera.addEventListener('click', () => void this.takePhoto());
    ui.urlForm.addEventListener('submit', (event) => {
      event.preventDefault();
      if (this.addUrl(ui.urlInput.value)) ui.urlInput.value = '';
    });
    dropzone.addEventListener('dragenter', (event) => this.onDrag(event, 1));
    dropzone.addEventListener('dragover', (event) => this.onDrag(event, 0));
    dropzone.addEventListener('dragleave', () => {
      this.dragDepth = Math.max(0, this.dragDepth - 1);
      if (this.dragDepth === 0) this.setDragging(false);
    });
    dropzone.addEventListener('drop', (event) => {
      if (!this.takesLocalFiles()) return;
      event.preventDefault();
      this.dragDepth = 0;
      this.setDragging(false);
      const files = Array.from(event.dataTransfer?.files ?? []);
      if (files.length > 0) this.addFiles(files);
    });

    for (const [key, value] of pending) (this as unknown as Record<string, unknown>)[key] = value;
  }

  // ---- public API -------------------------------------------------------------------------------

  /**
   * Signs uploads for projects that require it: resolves `{signature, expire}` from the site's own
   * backend. Takes precedence over the signature-url attribute.
   */
  get signatureProvider(): SignatureProvider | null {
    return this.provider;
  }

  set signatureProvider(provider: SignatureProvider | null) {
    this.provider = typeof provider === 'function' ? provider : null;
    this.signatures.reset();
  }

  /** Sent with every upload as `metadata[key]`. */
  get metadata(): Record<string, string> {
    return this.extraMetadata;
  }

  set metadata(value: Record<string, string>) {
    this.extraMetadata = value && typeof value === 'object' ? { ...value } : {};
  }

  /** The effective string table of this element (shared table plus this element's overrides). */
  get strings(): WidgetStrings {
    return { ...sharedStrings, ...this.overrides };
  }

  /** Replaces this element's overrides; keys left out follow the shared table. */
  set strings(value: Partial<WidgetStrings>) {
    this.overrides = { ...value };
    this.renderAll();
  }

  /** Uuids of the uploaded files, in list order (what the hidden inputs hold). */
  get value(): string[] {
    return this.entries.flatMap((entry) => (entry.status === 'uploaded' && entry.uuid ? [entry.uuid] : []));
  }

  get files(): UploaderFile[] {
    return this.entries.map((entry) => ({
      id: entry.id,
      name: entry.name,
      size: entry.size,
      type: entry.type,
      source: entry.source,
      status: entry.status,
      uuid: entry.uuid,
      cdnUrl: entry.cdnUrl,
      info: entry.info,
      placeholder: entry.placeholder,
      error: entry.error,
    }));
  }

  /** The group made after the last finished batch (with the `group` attribute), else null. */
  get groupInfo(): { id: string; cdnUrl: string } | null {
    return this.group;
  }

  openFilePicker(): void {
    if (this.takesLocalFiles()) this.ui.input.click();
  }

  /** Queues files as if the user had picked them; files that break a rule are refused with a message. */
  addFiles(list: Iterable<File> | ArrayLike<File>, source: Source = 'local'): void {
    const settings = this.settings();
    if (!settings.pubkey) {
      this.renderStatic();
      return;
    }
    const t = this.strings;
    const messages: string[] = [];
    const refused = (file: { name: string; size: number; type: string }, message: string, code: string): void => {
      messages.push(message);
      this.emit('error', { file: { id: null, name: file.name, size: file.size, type: file.type }, message, code });
    };
    const valid: File[] = [];
    for (const file of Array.from(list)) {
      const problem = checkFile(file, settings);
      if (problem) refused(file, this.describe(problem, file.name), problem.kind);
      else valid.push(file);
    }
    const max = settings.multiple ? settings.maxFiles : 1;
    // A single-file uploader swaps its file for the new one rather than refusing it.
    if (!settings.multiple && valid.length > 0) for (const entry of [...this.entries]) this.removeEntry(entry, false);
    const { taken, refused: over } = splitByCount(valid, this.countTowardsLimit(), max);
    for (const file of over) refused(file, t.tooMany(file.name, max ?? 0), 'too-many');
    this.showMessages(messages);
    for (const file of taken) this.enqueue(this.createEntry({ file, source }));
  }

  /** Queues a link for Trove to fetch; false (with a message) when the link cannot be fetched. */
  addUrl(raw: string): boolean {
    const settings = this.settings();
    const t = this.strings;
    if (!settings.pubkey) return false;
    const url = raw.trim();
    if (!isFetchableUrl(url)) {
      this.showMessages([t.urlInvalid]);
      this.ui.urlInput.focus();
      return false;
    }
    if (!settings.multiple) for (const entry of [...this.entries]) this.removeEntry(entry, false);
    const max = settings.multiple ? settings.maxFiles : 1;
    const name = nameFromUrl(url);
    if (max !== null && this.countTowardsLimit() >= max) {
      const message = t.tooMany(name, max);
      this.showMessages([message]);
      this.emit('error', { file: { id: null, name, size: null, type: '' }, message, code: 'too-many' });
      return false;
    }
    this.showMessages([]);
    this.enqueue(this.createEntry({ url, source: 'url' }));
    return true;
  }

  cancelAll(): void {
    for (const entry of this.entries) if (entry.status === 'queued' || entry.status === 'uploading') this.cancel(entry);
  }

  /** Cancels what is running and empties the list, its previews and hidden inputs. */
  clear(): void {
    for (const entry of [...this.entries]) this.removeEntry(entry, false);
    this.setGroup(null);
    this.showMessages([]);
    this.pump();
  }

  // ---- lifecycle --------------------------------------------------------------------------------

  connectedCallback(): void {
    connected.add(this);
    document.addEventListener('paste', this.onPaste);
    this.stopStrings = onStringsChange(() => this.renderAll());
    this.renderAll();
  }

  disconnectedCallback(): void {
    connected.delete(this);
    document.removeEventListener('paste', this.onPaste);
    this.stopStrings?.();
    this.stopStrings = null;
  }

  attributeChangedCallback(name: string, previous: string | null, next: string | null): void {
    if (previous === next) return;
    if (name === 'signature-url' || name === 'pubkey') this.signatures.reset();
    if (name === 'name') {
      const base = this.settings().name;
      for (const entry of this.entries) entry.hiddenInput?.setAttribute('name', base);
      this.groupInput?.setAttribute('name', `${base}-group`);
    }
    if (this.isConnected) this.renderStatic();
  }

  /** Whether a paste with nothing focused may land here (see pasteOwner). */
  acceptsPaste(): boolean {
    return this.takesLocalFiles();
  }

  // ---- settings ---------------------------------------------------------------------------------

  private settings(): Settings {
    return readSettings(this, (message) => this.warnOnce(message));
  }

  private warnOnce(message: string): void {
    if (this.warned.has(message)) return;
    this.warned.add(message);
    console.warn(`<trove-uploader>: ${message}`);
  }

  private api(settings: Settings): ApiConfig {
    const t = this.strings;
    return {
      baseUrl: settings.baseUrl,
      publicKey: settings.pubkey,
      messages: { networkError: t.networkError, serverError: t.serverError, badAnswer: t.badAnswer },
    };
  }

  private takesLocalFiles(): boolean {
    const settings = this.settings();
    return settings.pubkey !== '' && settings.sources.has('local');
  }

  private describe(problem: Problem, name: string): string {
    const t = this.strings;
    switch (problem.kind) {
      case 'empty':
        return t.emptyFile(name);
      case 'not-accepted':
        return t.notAccepted(name, problem.accept.join(', '));
      case 'too-large':
        return t.tooLarge(name, formatBytes(problem.size), formatBytes(problem.limit));
      case 'too-many':
        return t.tooMany(name, problem.max);
    }
  }

  /** Files that hold a place in the list: failed and cancelled ones can be removed, so they do not count. */
  private countTowardsLimit(): number {
    return this.entries.filter((entry) => entry.status !== 'failed' && entry.status !== 'cancelled').length;
  }

  // ---- sources ----------------------------------------------------------------------------------

  private onDrag(event: DragEvent, depthChange: number): void {
    if (!this.takesLocalFiles() || !event.dataTransfer?.types.includes('Files')) return;
    // Accepting the drag (preventDefault) is what makes the browser deliver the drop here.
    event.preventDefault();
    event.dataTransfer.dropEffect = 'copy';
    this.dragDepth += depthChange;
    this.setDragging(true);
  }

  private setDragging(on: boolean): void {
    this.ui.dropzone.classList.toggle('dragging', on);
    const t = this.strings;
    setText(this.ui.hint, on ? t.dropActive : this.settings().multiple ? t.dropHint : t.dropHintSingle);
  }

  private readonly onPaste = (event: ClipboardEvent): void => {
    if (!this.takesLocalFiles()) return;
    const files = Array.from(event.clipboardData?.files ?? []);
    if (files.length === 0) return;
    if (!event.composedPath().includes(this)) {
      // Pasting into a field elsewhere on the page is that field's business.
      const active = document.activeElement;
      if (active && active !== document.body && active !== document.documentElement) return;
      if (pasteOwner() !== this) return;
    }
    event.preventDefault();
    this.addFiles(files);
  };

  private async takePhoto(): Promise<void> {
    const mode = cameraMode();
    if (mode === 'capture') {
      this.ui.captureInput.click();
      return;
    }
    if (mode !== 'stream') return;
    const result = await openCamera(this.shadow, this.strings);
    if (result.kind === 'photo') this.addFiles([result.file], 'camera');
    else if (result.kind === 'fallback') this.ui.captureInput.click();
    this.ui.camera.focus();
  }

  // ---- queue ------------------------------------------------------------------------------------

  private createEntry(init: { file: File; source: Source } | { url: string; source: 'url' }): Entry {
    nextFileId += 1;
    const file = 'file' in init ? init.file : null;
    const url = 'url' in init ? init.url : null;
    const name = file ? file.name || 'file' : nameFromUrl(url ?? '');
    const type = file?.type ?? '';
    const previewKind = file ? localPreviewKind(type, file.size) : null;
    const previewUrl = file && previewKind ? URL.createObjectURL(file) : null;
    const entry: Entry = {
      id: `trove-file-${nextFileId}`,
      name,
      size: file ? file.size : null,
      type,
      source: init.source,
      file,
      url,
      status: 'queued',
      phase: url ? 'fetching' : 'sending',
      loaded: 0,
      total: file ? file.size : null,
      controller: null,
      uuid: null,
      info: null,
      cdnUrl: null,
      error: null,
      hashing: null,
      placeholder: null,
      previewUrl,
      previewKind: previewKind ?? 'image',
      multipart: null,
      announced: -1,
      batch: 0,
      hiddenInput: null,
      row: new FileRow({
        cancel: () => this.cancel(entry),
        retry: () => this.retry(entry),
        remove: () => this.removeByUser(entry),
      }),
    };
    return entry;
  }

  private enqueue(entry: Entry): void {
    this.joinBatch(entry);
    this.entries.push(entry);
    this.ui.list.append(entry.row.element);
    this.renderEntry(entry);
    this.pump();
  }

  private joinBatch(entry: Entry): void {
    if (!this.batchActive) {
      this.batchActive = true;
      this.batchId += 1;
      this.finishRun += 1;
    }
    entry.batch = this.batchId;
  }

  private pump(): void {
    let running = this.entries.filter((entry) => entry.status === 'uploading').length;
    for (const entry of this.entries) {
      if (running >= PARALLEL_FILES) break;
      if (entry.status !== 'queued') continue;
      running += 1;
      void this.run(entry);
    }
    this.renderTotal();
    if (this.batchActive && !this.entries.some((entry) => entry.status === 'queued' || entry.status === 'uploading')) {
      this.batchActive = false;
      void this.finishBatch();
    }
  }

  private async run(entry: Entry): Promise<void> {
    const controller = new AbortController();
    const settings = this.settings();
    entry.controller = controller;
    entry.status = 'uploading';
    entry.phase = entry.url ? 'fetching' : 'sending';
    entry.error = null;
    entry.loaded = 0;
    entry.announced = -1;
    this.renderEntry(entry);
    this.emit('upload-start', { file: { id: entry.id, name: entry.name, size: entry.size, type: entry.type } });
    // Hashed while the bytes go out, and only for files being sent: picking a hundred photos at once
    // does not decode a hundred of them together.
    if (entry.file && !entry.hashing) entry.hashing = thumbHashOf(entry.file);
    this.reportProgress(entry);
    const context: TransferContext = {
      api: this.api(settings),
      store: settings.store,
      source: entry.source,
      metadata: this.metadata,
      signal: controller.signal,
      sign: () => this.sign(),
      onProgress: (loaded, total) => {
        if (entry.url && total !== null) entry.size = total;
        this.setProgress(entry, loaded, total);
      },
      onFinishing: () => this.setPhase(entry, 'finishing'),
    };
    try {
      let info: FileInfo;
      if (entry.url !== null) info = await sendLink(context, entry.url);
      else if (entry.file && entry.file.size >= settings.threshold) {
        info = await sendMultipart(context, entry.file, {
          filename: entry.name,
          contentType: entry.file.type,
          chunkSize: settings.chunkSize,
          concurrency: settings.concurrency,
          state: entry,
        });
      } else if (entry.file) info = await sendDirect(context, entry.file, entry.name);
      else throw new UploadError(this.strings.badAnswer, 'no_file', 0);
      if (entry.controller !== controller || entry.status !== 'uploading') return;
      const placeholder = await placeholderInTime(entry.hashing);
      if (entry.controller !== controller || entry.status !== 'uploading') return;
      this.succeed(entry, info, settings, placeholder);
    } catch (error) {
      // Cancelled, removed or restarted meanwhile: whoever did that has already updated the entry.
      if (entry.controller !== controller || entry.status !== 'uploading') return;
      this.fail(entry, error);
    } finally {
      if (entry.controller === controller) entry.controller = null;
      this.pump();
    }
  }

  private async sign(): Promise<Signature | null> {
    try {
      return await this.signatures.get();
    } catch (error) {
      throw new UploadError(this.strings.signatureFailed(errorMessage(error)), 'signature_unavailable', 0);
    }
  }

  private succeed(entry: Entry, info: FileInfo, settings: Settings, placeholder: string | null): void {
    const t = this.strings;
    entry.status = 'uploaded';
    entry.uuid = info.uuid;
    entry.info = info;
    entry.placeholder = placeholder;
    entry.cdnUrl = `${settings.cdnBase}/${info.uuid}/`;
    entry.multipart = null;
    if (entry.source === 'url') {
      entry.name = info.original_filename || entry.name;
      entry.type = info.mime_type;
    }
    entry.size = info.size;
    entry.loaded = info.size;
    entry.total = info.size;
    entry.hiddenInput = h('input', { type: 'hidden', name: settings.name, value: info.uuid, 'data-trove-file': entry.id });
    this.syncHiddenInputs();
    this.renderEntry(entry);
    this.reportProgress(entry);
    this.announce(t.announceUploaded(entry.name));
    this.emit('file-uploaded', { uuid: info.uuid, info, cdnUrl: entry.cdnUrl, placeholder, file: { id: entry.id, name: entry.name } });
  }

  private fail(entry: Entry, error: unknown): void {
    const message = errorMessage(error);
    const code = error instanceof UploadError ? error.code : 'unknown';
    entry.status = 'failed';
    entry.error = { message, code };
    this.renderEntry(entry);
    this.announce(this.strings.announceFailed(entry.name, message));
    this.emit('error', { file: { id: entry.id, name: entry.name, size: entry.size, type: entry.type }, message, code });
  }

  private cancel(entry: Entry): void {
    if (entry.status !== 'queued' && entry.status !== 'uploading') return;
    entry.status = 'cancelled';
    entry.controller?.abort();
    entry.controller = null;
    this.renderEntry(entry);
    this.announce(this.strings.announceCancelled(entry.name));
    this.pump();
  }

  private retry(entry: Entry): void {
    if (entry.status !== 'failed' && entry.status !== 'cancelled') return;
    const max = this.settings().multiple ? this.settings().maxFiles : 1;
    if (max !== null && this.countTowardsLimit() >= max) {
      this.showMessages([this.strings.tooMany(entry.name, max)]);
      return;
    }
    entry.status = 'queued';
    entry.error = null;
    this.joinBatch(entry);
    this.renderEntry(entry);
    this.pump();
    // The Retry button just disappeared with the row's status: keep keyboard users in the row.
    if (!entry.row.cancelButton.hidden) entry.row.cancelButton.focus();
  }

  /** `pump: false` when more changes follow at once (a swap, a clear), so no half-done state fires `done`. */
  private removeEntry(entry: Entry, pump = true): void {
    const index = this.entries.indexOf(entry);
    if (index < 0) return;
    const wasUploaded = entry.status === 'uploaded';
    entry.status = 'cancelled';
    entry.controller?.abort();
    entry.controller = null;
    this.entries.splice(index, 1);
    entry.row.element.remove();
    entry.hiddenInput?.remove();
    entry.hiddenInput = null;
    if (entry.previewUrl) URL.revokeObjectURL(entry.previewUrl);
    entry.previewUrl = null;
    if (wasUploaded && this.group) {
      // A group is immutable: it no longer matches the list, so it is made again once idle.
      this.setGroup(null);
      if (pump && !this.batchActive && this.settings().group && this.value.length > 0) void this.finishBatch();
    }
    if (pump) this.pump();
  }

  private async finishBatch(): Promise<void> {
    this.finishRun += 1;
    const run = this.finishRun;
    const settings = this.settings();
    const batch = this.entries.filter((entry) => entry.batch === this.batchId);
    const uploaded = this.entries.filter((entry) => entry.status === 'uploaded' && entry.uuid && entry.info && entry.cdnUrl);
    const failed = batch.filter((entry) => entry.status === 'failed' || entry.status === 'cancelled').length;
    const files: UploadedFile[] = uploaded.map((entry) => ({ uuid: entry.uuid ?? '', cdnUrl: entry.cdnUrl ?? '', info: entry.info as FileInfo, placeholder: entry.placeholder }));
    this.renderTotal();
    // For one file its own announcement (uploaded, failed, cancelled) already said it all.
    if (batch.length > 1) this.announce(this.strings.announceDone(batch.filter((entry) => entry.status === 'uploaded').length, failed));
    if (!settings.group || files.length === 0) {
      if (settings.group) this.setGroup(null);
      this.emit('done', { files } satisfies DoneDetail);
      return;
    }
    try {
      const signature = await this.sign();
      const info = await createGroup(
        this.api(settings),
        files.map((file) => file.uuid),
        signature,
      );
      if (run !== this.finishRun) return;
      this.setGroup({ id: info.id, cdnUrl: typeof info.cdn_url === 'string' ? info.cdn_url : `${settings.cdnBase}/${info.id}/` });
      this.emit('done', { files, group: this.group ?? undefined } satisfies DoneDetail);
    } catch (error) {
      if (run !== this.finishRun) return;
      const message = this.strings.groupFailed(errorMessage(error));
      this.showMessages([message]);
      this.emit('error', { file: null, message, code: error instanceof UploadError ? error.code : 'group_failed' });
      this.emit('done', { files } satisfies DoneDetail);
    }
  }

  /** Hidden inputs follow the list's order (not the order uploads finished in), the group's last. */
  private syncHiddenInputs(): void {
    for (const entry of this.entries) if (entry.hiddenInput) this.append(entry.hiddenInput);
    if (this.groupInput) this.append(this.groupInput);
  }

  private setGroup(group: { id: string; cdnUrl: string } | null): void {
    this.group = group;
    if (!group) {
      this.groupInput?.remove();
      this.groupInput = null;
      return;
    }
    this.groupInput ??= h('input', { type: 'hidden', 'data-trove-group': '' });
    this.groupInput.name = `${this.settings().name}-group`;
    this.groupInput.value = group.id;
    if (!this.groupInput.isConnected) this.append(this.groupInput);
  }

  // ---- progress ---------------------------------------------------------------------------------

  private setProgress(entry: Entry, loaded: number, total: number | null): void {
    if (entry.status !== 'uploading') return;
    entry.loaded = loaded;
    entry.total = total;
    this.renderProgress(entry);
    this.reportProgress(entry);
  }

  private setPhase(entry: Entry, phase: Entry['phase']): void {
    if (entry.status !== 'uploading') return;
    entry.phase = phase;
    this.renderEntry(entry);
  }

  private filePercent(entry: Entry): number {
    if (entry.status === 'uploaded') return 100;
    return entry.total ? toPercent(entry.loaded, entry.total) : 0;
  }

  /** Share of the current batch done, weighting each file by its size (links of unknown size count as average). */
  private totalPercent(): number {
    const batch = this.entries.filter((entry) => entry.batch === this.batchId && entry.status !== 'failed' && entry.status !== 'cancelled');
    if (batch.length === 0) return 0;
    const known = batch.filter((entry) => entry.size !== null);
    const average = known.length > 0 ? known.reduce((sum, entry) => sum + (entry.size ?? 0), 0) / known.length : 1;
    let weights = 0;
    let done = 0;
    for (const entry of batch) {
      const weight = Math.max(1, entry.size ?? average);
      weights += weight;
      done += entry.status === 'uploaded' ? weight : entry.total ? weight * Math.min(1, entry.loaded / entry.total) : 0;
    }
    return batch.every((entry) => entry.status === 'uploaded') ? 100 : Math.min(99, Math.floor((done / weights) * 100));
  }

  private reportProgress(entry: Entry): void {
    const percent = this.filePercent(entry);
    const totalPercent = this.totalPercent();
    this.renderTotal(totalPercent);
    const step = Math.floor(percent / 25) * 25;
    if (step > entry.announced) {
      entry.announced = step;
      this.announce(this.strings.announceProgress(entry.name, step));
    }
    this.emit('progress', {
      file: { id: entry.id, name: entry.name },
      loaded: entry.status === 'uploaded' ? (entry.size ?? entry.loaded) : entry.loaded,
      total: entry.total ?? 0,
      percent,
      totalPercent,
    });
  }

  // ---- rendering --------------------------------------------------------------------------------

  private renderAll(): void {
    this.renderStatic();
    for (const entry of this.entries) this.renderEntry(entry);
    this.renderTotal();
  }

  private renderStatic(): void {
    const settings = this.settings();
    const t = this.strings;
    const { ui } = this;
    const ready = settings.pubkey !== '';
    ui.configError.hidden = ready;
    setText(ui.configError, ready ? '' : t.missingPubkey);
    setText(ui.hint, ui.dropzone.classList.contains('dragging') ? t.dropActive : settings.multiple ? t.dropHint : t.dropHintSingle);
    setAttr(ui.dropzone, 'aria-label', t.dropzoneLabel);
    setText(ui.choose, settings.multiple ? t.chooseFiles : t.chooseFile);
    ui.choose.disabled = !ready;
    ui.input.multiple = settings.multiple;
    setAttr(ui.input, 'accept', settings.accept.length > 0 ? settings.accept.join(',') : null);
    const local = settings.sources.has('local');
    ui.hint.hidden = !local;
    ui.choose.hidden = !local;
    const cameraAllowed = settings.sources.has('camera') && cameraMode() !== 'none' && matchesAccept({ name: 'photo.jpg', type: 'image/jpeg' }, settings.accept);
    ui.camera.hidden = !cameraAllowed;
    ui.camera.disabled = !ready;
    setText(ui.camera, t.camera);
    ui.dropzone.hidden = !local && !cameraAllowed;
    ui.urlForm.hidden = !settings.sources.has('url');
    setText(ui.urlLabel, t.urlLabel);
    ui.urlInput.placeholder = t.urlPlaceholder;
    ui.urlInput.disabled = !ready;
    setText(ui.urlButton, t.urlSubmit);
    ui.urlButton.disabled = !ready;
    const limits = t.limits({
      accept: settings.accept.length > 0 ? settings.accept.join(', ') : null,
      maxSize: settings.maxSize !== null ? formatBytes(settings.maxSize) : null,
      maxFiles: settings.multiple ? settings.maxFiles : null,
    });
    setText(ui.limits, limits);
    ui.limits.hidden = limits === '';
    setText(ui.totalLabel, t.totalLabel);
    setAttr(ui.list, 'aria-label', t.filesLabel);
    const dismiss = ui.alerts.querySelector('button');
    if (dismiss) setText(dismiss, t.dismiss);
  }

  private renderTotal(percent: number = this.totalPercent()): void {
    const batch = this.entries.filter((entry) => entry.batch === this.batchId);
    const counted = batch.filter((entry) => entry.status !== 'failed' && entry.status !== 'cancelled');
    this.ui.total.hidden = counted.length === 0;
    this.ui.totalProgress.value = percent;
    setText(this.ui.totalPercent, this.strings.percent(percent));
    setText(this.ui.totalSummary, this.strings.totalSummary(counted.filter((entry) => entry.status === 'uploaded').length, counted.length));
  }

  private removeByUser(entry: Entry): void {
    const index = this.entries.indexOf(entry);
    const neighbour = this.entries[index + 1] ?? this.entries[index - 1];
    this.removeEntry(entry);
    // Focus would fall to <body> with the removed row: move it to a neighbour or the picker.
    (neighbour && !neighbour.row.removeButton.hidden ? neighbour.row.removeButton : this.ui.choose).focus();
  }

  private rowState(entry: Entry): RowState {
    const known = entry.status === 'uploaded' || entry.total !== null;
    return {
      name: entry.name,
      size: entry.size,
      status: entry.status,
      phase: entry.phase,
      percent: known ? this.filePercent(entry) : null,
      error: entry.error?.message ?? null,
      preview: entry.previewUrl ?? (entry.info?.is_image && entry.cdnUrl ? `${entry.cdnUrl}-/preview/160x160/` : null),
      previewKind: entry.previewUrl ? entry.previewKind : 'image',
      fallbackLabel: entry.url ? 'url' : 'file',
    };
  }

  private renderEntry(entry: Entry): void {
    entry.row.update(this.rowState(entry), this.strings);
  }

  private renderProgress(entry: Entry): void {
    entry.row.updateProgress(this.rowState(entry), this.strings);
  }

  private showMessages(messages: readonly string[]): void {
    showMessages(this.ui, messages, this.strings.dismiss, () => this.ui.choose.focus());
  }

  private announce(message: string): void {
    setText(this.ui.status, message);
  }

  private emit(type: string, detail: unknown): void {
    this.dispatchEvent(new CustomEvent(type, { detail, bubbles: true, composed: true }));
  }
}

export function defineTroveUploader(tagName = 'trove-uploader'): void {
  if (!customElements.get(tagName)) {
    // A second tag name needs its own class: one constructor cannot be registered twice.
    customElements.define(tagName, tagName === 'trove-uploader' ? TroveUploader : class extends TroveUploader {});
  }
}
