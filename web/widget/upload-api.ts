/**
 * Calls to Trove's Upload API (Uploadcare's dialect). XMLHttpRequest rather than fetch because only
 * XHR reports upload progress; every call takes an AbortSignal so a cancelled file stops at once.
 */

import { AbortedError, abortableSleep } from './multipart.js';
import type { StoreMode } from './validate.js';

/** File info as the Upload API describes a file (`GET /info/`, multipart complete, from_url status). */
export interface FileInfo {
  uuid: string;
  size: number;
  mime_type: string;
  is_image: boolean;
  is_stored: boolean;
  original_filename: string;
  filename: string;
  image_info: unknown;
  [field: string]: unknown;
}

export interface GroupInfo {
  id: string;
  cdn_url: string;
  files_count: number;
  [field: string]: unknown;
}

export interface Signature {
  signature: string;
  expire: string;
}

/** What went wrong, in words for the user, with a code for scripts. */
export class UploadError extends Error {
  constructor(
    message: string,
    /** The server's `error_code`, or `network`, `aborted`, `bad_answer`, `http_<status>`. */
    readonly code: string,
    /** HTTP status; 0 when no answer arrived. */
    readonly status: number,
  ) {
    super(message);
    this.name = 'UploadError';
  }

  /** A dropped connection or a server hiccup may pass; a refusal (4xx) will not. */
  get retryable(): boolean {
    return this.code === 'network' || this.status >= 500 || this.status === 408 || this.status === 429;
  }
}

export function isAbort(error: unknown): boolean {
  return error instanceof AbortedError || (error instanceof UploadError && error.code === 'aborted');
}

/** Messages the API layer needs from the string table (kept narrow so this module stays testable). */
export interface ApiMessages {
  networkError: string;
  serverError: (status: number) => string;
  badAnswer: string;
}

interface SendOptions {
  method: 'GET' | 'POST' | 'PUT';
  url: string;
  body?: XMLHttpRequestBodyInit | null;
  signal?: AbortSignal | undefined;
  /** Bytes of the request body sent so far, and the body's size. */
  onUploadProgress?: ((loaded: number, total: number) => void) | undefined;
  messages: ApiMessages;
}

function errorFromAnswer(status: number, text: string, messages: ApiMessages): UploadError {
  try {
    const parsed: unknown = JSON.parse(text);
    if (parsed && typeof parsed === 'object' && 'error' in parsed) {
      const error = (parsed).error;
      // Uploadcare's shape: {"error": {"status_code", "content", "error_code"}}.
      if (error && typeof error === 'object') {
        const { content, error_code: code } = error as { content?: unknown; error_code?: unknown };
        if (typeof content === 'string' && content) return new UploadError(content, typeof code === 'string' ? code : `http_${status}`, status);
      }
      if (typeof error === 'string' && error) return new UploadError(error, `http_${status}`, status);
    }
  } catch {
    // Not JSON (a proxy's HTML page, say): fall through to the generic message.
  }
  return new UploadError(messages.serverError(status), `http_${status}`, status);
}

/** One HTTP request; resolves with the body text of a 2xx answer, rejects with an UploadError otherwise. */
function send(options: SendOptions): Promise<string> {
  return new Promise((resolve, reject) => {
    const { signal, messages } = options;
    if (signal?.aborted) {
      reject(new UploadError('aborted', 'aborted', 0));
      return;
    }
    const xhr = new XMLHttpRequest();
    xhr.open(options.method, options.url);
    const onAbort = (): void => xhr.abort();
    signal?.addEventListener('abort', onAbort, { once: true });
    const settle = (): void => signal?.removeEventListener('abort', onAbort);
    // A listener on xhr.upload makes the browser preflight cross-origin requests: only add it when used.
    const onUploadProgress = options.onUploadProgress;
    if (onUploadProgress) {
      xhr.upload.addEventListener('progress', (event) => {
        if (event.lengthComputable) onUploadProgress(event.loaded, event.total);
      });
    }
    xhr.addEventListener('load', () => {
      settle();
      if (xhr.status >= 200 && xhr.status < 300) resolve(xhr.responseText);
      else reject(errorFromAnswer(xhr.status, xhr.responseText, messages));
    });
    xhr.addEventListener('error', () => {
      settle();
      reject(new UploadError(messages.networkError, 'network', 0));
    });
    xhr.addEventListener('abort', () => {
      settle();
      reject(new UploadError('aborted', 'aborted', 0));
    });
    xhr.send(options.body ?? null);
  });
}

function parseJson<T>(text: string, check: (value: Record<string, unknown>) => boolean, messages: ApiMessages): T {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new UploadError(messages.badAnswer, 'bad_answer', 200);
  }
  if (!value || typeof value !== 'object' || !check(value as Record<string, unknown>)) {
    throw new UploadError(messages.badAnswer, 'bad_answer', 200);
  }
  return value as T;
}

const isFileInfo = (value: Record<string, unknown>): boolean => typeof value.uuid === 'string';

export interface ApiConfig {
  /** Upload API base without the trailing slash, e.g. https://trove.example/upload. */
  baseUrl: string;
  publicKey: string;
  messages: ApiMessages;
}

interface Progress {
  (loaded: number, total: number): void;
}

function form(fields: Record<string, string>, signature: Signature | null): FormData {
  const body = new FormData();
  for (const [name, value] of Object.entries(fields)) body.append(name, value);
  if (signature) {
    body.append('signature', signature.signature);
    body.append('expire', signature.expire);
  }
  return body;
}

function addMetadata(body: FormData, metadata: Readonly<Record<string, string>>): void {
  for (const [key, value] of Object.entries(metadata)) body.append(`metadata[${key}]`, value);
}

interface DirectUpload {
  file: Blob;
  filename: string;
  store: StoreMode;
  source: string;
  metadata: Readonly<Record<string, string>>;
  signature: Signature | null;
  signal: AbortSignal;
  onProgress: Progress;
}

/** `POST /base/` with one file; answers the new uuid. */
export async function uploadDirect(api: ApiConfig, upload: DirectUpload): Promise<string> {
  // The key goes before the file so Trove can refuse a bad key or an oversized file before reading it.
  const body = form({ UPLOADCARE_PUB_KEY: api.publicKey, UPLOADCARE_STORE: upload.store, source: upload.source }, upload.signature);
  addMetadata(body, upload.metadata);
  body.append('file', upload.file, upload.filename);
  const text = await send({
    method: 'POST',
    url: `${api.baseUrl}/base/`,
    body,
    signal: upload.signal,
    onUploadProgress: upload.onProgress,
    messages: api.messages,
  });
  const answer = parseJson<Record<string, unknown>>(text, (value) => typeof value.file === 'string', api.messages);
  return answer.file as string;
}

export async function fileInfo(api: ApiConfig, uuid: string, signal?: AbortSignal): Promise<FileInfo> {
  const query = new URLSearchParams({ pub_key: api.publicKey, file_id: uuid });
  const text = await send({ method: 'GET', url: `${api.baseUrl}/info/?${query.toString()}`, signal, messages: api.messages });
  return parseJson<FileInfo>(text, isFileInfo, api.messages);
}

interface MultipartStart {
  filename: string;
  size: number;
  contentType: string;
  partSize: number;
  store: StoreMode;
  source: string;
  metadata: Readonly<Record<string, string>>;
  signature: Signature | null;
  signal: AbortSignal;
}

export async function multipartStart(api: ApiConfig, start: MultipartStart): Promise<{ uuid: string; parts: string[] }> {
  const body = form(
    {
      UPLOADCARE_PUB_KEY: api.publicKey,
      filename: start.filename,
      size: String(start.size),
      content_type: start.contentType || 'application/octet-stream',
      part_size: String(start.partSize),
      UPLOADCARE_STORE: start.store,
      source: start.source,
    },
    start.signature,
  );
  addMetadata(body, start.metadata);
  const text = await send({ method: 'POST', url: `${api.baseUrl}/multipart/start/`, body, signal: start.signal, messages: api.messages });
  return parseJson<{ uuid: string; parts: string[] }>(
    text,
    (value) => typeof value.uuid === 'string' && Array.isArray(value.parts) && value.parts.every((part) => typeof part === 'string'),
    api.messages,
  );
}

/** PUT of one part's raw bytes to the URL `multipart/start` gave (it carries its own token). */
export async function uploadPart(api: ApiConfig, url: string, bytes: Blob, signal: AbortSignal, onProgress: (loaded: number) => void): Promise<void> {
  await send({ method: 'PUT', url, body: bytes, signal, onUploadProgress: (loaded) => onProgress(loaded), messages: api.messages });
}

export async function multipartComplete(api: ApiConfig, uuid: string, signal: AbortSignal): Promise<FileInfo> {
  const body = form({ UPLOADCARE_PUB_KEY: api.publicKey, uuid }, null);
  const text = await send({ method: 'POST', url: `${api.baseUrl}/multipart/complete/`, body, signal, messages: api.messages });
  return parseJson<FileInfo>(text, isFileInfo, api.messages);
}

interface FromUrl {
  url: string;
  store: StoreMode;
  metadata: Readonly<Record<string, string>>;
  signature: Signature | null;
  signal: AbortSignal;
  /** Bytes the server fetched so far; total is null while the server does not know the size. */
  onProgress: (done: number, total: number | null) => void;
}

/** `POST /from_url/`, then polls `/from_url/status/` until the server has fetched the file. */
export async function uploadFromUrl(api: ApiConfig, request: FromUrl): Promise<FileInfo> {
  const body = form({ pub_key: api.publicKey, source_url: request.url, store: request.store }, request.signature);
  addMetadata(body, request.metadata);
  const text = await send({ method: 'POST', url: `${api.baseUrl}/from_url/`, body, signal: request.signal, messages: api.messages });
  const started = parseJson<Record<string, unknown>>(text, (value) => value.type === 'token' || value.type === 'file_info', api.messages);
  // A link Trove fetched before comes back as the known file at once.
  if (started.type === 'file_info' && isFileInfo(started)) return started as FileInfo;
  if (typeof started.token !== 'string') throw new UploadError(api.messages.badAnswer, 'bad_answer', 200);

  const statusUrl = `${api.baseUrl}/from_url/status/?${new URLSearchParams({ token: started.token }).toString()}`;
  let delay = 250;
  let networkFailures = 0;
  for (;;) {
    await abortableSleep(delay, request.signal);
    delay = Math.min(delay * 1.5, 2000);
    let statusText: string;
    try {
      statusText = await send({ method: 'GET', url: statusUrl, signal: request.signal, messages: api.messages });
      networkFailures = 0;
    } catch (error) {
      // Polling is idempotent: a few dropped status requests are no reason to give up the upload.
      if (error instanceof UploadError && error.retryable && networkFailures < 5) {
        networkFailures += 1;
        continue;
      }
      throw error;
    }
    const status = parseJson<Record<string, unknown>>(statusText, (value) => typeof value.status === 'string', api.messages);
    switch (status.status) {
      case 'success':
        if (!isFileInfo(status)) throw new UploadError(api.messages.badAnswer, 'bad_answer', 200);
        return status as FileInfo;
      case 'progress': {
        const done = typeof status.done === 'number' ? status.done : 0;
        request.onProgress(done, typeof status.total === 'number' ? status.total : null);
        break;
      }
      case 'error':
        throw new UploadError(
          typeof status.error === 'string' ? status.error : api.messages.badAnswer,
          typeof status.error_code === 'string' ? status.error_code : 'DownloadFileTaskFailedError',
          200,
        );
      case 'unknown':
        throw new UploadError(api.messages.badAnswer, 'unknown_token', 200);
      default:
        break;
    }
  }
}

export async function createGroup(api: ApiConfig, uuids: readonly string[], signature: Signature | null, signal?: AbortSignal): Promise<GroupInfo> {
  const fields: Record<string, string> = { pub_key: api.publicKey };
  uuids.forEach((uuid, index) => {
    fields[`files[${index}]`] = uuid;
  });
  const text = await send({ method: 'POST', url: `${api.baseUrl}/group/`, body: form(fields, signature), signal, messages: api.messages });
  return parseJson<GroupInfo>(text, (value) => typeof value.id === 'string', api.messages);
}
