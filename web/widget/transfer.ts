/**
 * How one file gets to Trove: a direct form upload, a multipart upload in parallel chunks, or a link
 * Trove fetches itself. The element picks the way and shows the progress these report.
 */

import { planParts, runParts } from './multipart.js';
import {
  UploadError,
  fileInfo,
  isAbort,
  multipartComplete,
  multipartStart,
  uploadDirect,
  uploadFromUrl,
  uploadPart,
  type ApiConfig,
  type FileInfo,
  type Signature,
} from './upload-api.js';
import type { Source, StoreMode } from './validate.js';

export interface TransferContext {
  api: ApiConfig;
  store: StoreMode;
  source: Source;
  metadata: Readonly<Record<string, string>>;
  signal: AbortSignal;
  /** Asked right before each request that must be signed, so a cached signature is still fresh. */
  sign(): Promise<Signature | null>;
  /** Bytes done of `total`; total is null while a link's size is unknown. */
  onProgress(loaded: number, total: number | null): void;
  /** The bytes are all sent; the server is storing and describing the file. */
  onFinishing(): void;
}

/** A multipart upload the server has started: kept between tries so a retry sends only missing parts. */
export interface MultipartState {
  uuid: string;
  urls: string[];
  partSize: number;
  done: Set<number>;
}

export async function sendDirect(context: TransferContext, file: Blob, filename: string): Promise<FileInfo> {
  const { api, signal } = context;
  const uuid = await uploadDirect(api, {
    file,
    filename,
    store: context.store,
    source: context.source,
    metadata: context.metadata,
    signature: await context.sign(),
    signal,
    // The body is a form around the file: scale its progress to the file's own bytes.
    onProgress: (loaded, total) => context.onProgress(total > 0 ? Math.round((loaded / total) * file.size) : 0, file.size),
  });
  context.onProgress(file.size, file.size);
  context.onFinishing();
  // /base/ answers only the uuid; events and the list want the full description.
  return fileInfo(api, uuid, signal);
}

interface MultipartOptions {
  filename: string;
  contentType: string;
  chunkSize: number;
  concurrency: number;
  /** Where the started upload is kept between tries; reset when it cannot be resumed. */
  state: { multipart: MultipartState | null };
}

export async function sendMultipart(context: TransferContext, file: Blob, options: MultipartOptions): Promise<FileInfo> {
  const { api, signal } = context;
  const { state } = options;
  if (!state.multipart) {
    const started = await multipartStart(api, {
      filename: options.filename,
      size: file.size,
      contentType: options.contentType,
      partSize: options.chunkSize,
      store: context.store,
      source: context.source,
      metadata: context.metadata,
      signature: await context.sign(),
      signal,
    });
    state.multipart = { uuid: started.uuid, urls: started.parts, partSize: options.chunkSize, done: new Set() };
  }
  const upload = state.multipart;
  const parts = planParts(file.size, upload.partSize);
  if (parts.length !== upload.urls.length) {
    state.multipart = null;
    throw new UploadError(api.messages.badAnswer, 'bad_answer', 200);
  }
  try {
    await runParts({
      parts,
      done: upload.done,
      concurrency: options.concurrency,
      signal,
      sendPart: (part, onProgress, partSignal) => uploadPart(api, upload.urls[part.index] ?? '', file.slice(part.start, part.end), partSignal, onProgress),
      isRetryable: (error) => error instanceof UploadError && error.retryable,
      onProgress: (loaded) => context.onProgress(loaded, file.size),
      onPartDone: (index) => upload.done.add(index),
    });
    context.onFinishing();
    const info = await multipartComplete(api, upload.uuid, signal);
    state.multipart = null;
    return info;
  } catch (error) {
    // A refusal (expired upload, wrong part size) will not pass on retry: the next try starts over.
    if (error instanceof UploadError && !error.retryable && !isAbort(error)) state.multipart = null;
    throw error;
  }
}

export async function sendLink(context: TransferContext, url: string): Promise<FileInfo> {
  return uploadFromUrl(context.api, {
    url,
    store: context.store,
    metadata: context.metadata,
    signature: await context.sign(),
    signal: context.signal,
    onProgress: (done, total) => context.onProgress(done, total),
  });
}
