/**
 * Raw-HTTP helpers for the end-to-end suites: forms for the Upload API, error-shape assertions,
 * "nothing left behind" snapshots, a node:http client that can send broken bodies, and small local
 * origin servers for from_url.
 */
import { createHash, createHmac } from 'node:crypto';
import http, { type IncomingHttpHeaders, type RequestListener } from 'node:http';
import net from 'node:net';
import SqliteDatabase from 'better-sqlite3';
import pg from 'pg';
import { expect } from 'vitest';
import type { ProjectSettingsPatch } from '../../src/ports/repositories.js';
import type { TestTrove } from './trove-server.js';

type Fields = Record<string, string> | Array<[string, string]>;

export interface FormFile {
  field?: string;
  bytes: Uint8Array;
  filename?: string;
  type?: string;
}

interface FormOptions {
  /** Public key to send; null sends none. Defaults to the server's default project key. */
  publicKey?: string | null;
  /** Put UPLOADCARE_PUB_KEY after the file fields, as the official SDK does. Default: before. */
  keyAfterFiles?: boolean;
  fields?: Fields;
}

function fieldEntries(fields: Fields | undefined): Array<[string, string]> {
  if (!fields) return [];
  return Array.isArray(fields) ? fields : Object.entries(fields);
}

/** A copy typed as a plain ArrayBuffer view, which Blob accepts under every lib.dom version. */
function blobPart(bytes: Uint8Array): Uint8Array<ArrayBuffer> {
  const copy = new Uint8Array(bytes.byteLength);
  copy.set(bytes);
  return copy;
}

export function buildForm(trove: TestTrove, files: FormFile[], options: FormOptions = {}): FormData {
  const form = new FormData();
  const publicKey = options.publicKey === undefined ? trove.publicKey : options.publicKey;
  if (publicKey !== null && !options.keyAfterFiles) form.append('UPLOADCARE_PUB_KEY', publicKey);
  for (const [name, value] of fieldEntries(options.fields)) form.append(name, value);
  files.forEach((file, index) => {
    const blob = new Blob([blobPart(file.bytes)], { type: file.type ?? 'application/octet-stream' });
    form.append(file.field ?? (index === 0 ? 'file' : `file${index}`), blob, file.filename ?? 'file.bin');
  });
  if (publicKey !== null && options.keyAfterFiles) form.append('UPLOADCARE_PUB_KEY', publicKey);
  return form;
}

export function postBase(trove: TestTrove, form: FormData): Promise<Response> {
  return fetch(`${trove.uploadUrl}/base/`, { method: 'POST', body: form });
}

/** Uploads one file through `/base/`, asserts success and returns its uuid. */
export async function uploadFile(
  trove: TestTrove,
  bytes: Uint8Array,
  filename = 'file.bin',
  fields: Fields = {},
  options: Omit<FormOptions, 'fields'> & { type?: string } = {},
): Promise<string> {
  const response = await postBase(
    trove,
    buildForm(trove, [{ bytes, filename, type: options.type }], { ...options, fields }),
  );
  const text = await response.text();
  expect(response.status, text).toBe(200);
  const body = JSON.parse(text) as Record<string, string>;
  expect(body.file).toMatch(UUID_RE);
  return body.file!;
}

export const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

export function getInfo(trove: TestTrove, uuid: string, publicKey = trove.publicKey): Promise<Response> {
  const query = new URLSearchParams({ pub_key: publicKey, file_id: uuid });
  return fetch(`${trove.uploadUrl}/info/?${query}`);
}

/** `/info/` of a file that must exist; returns the parsed body. */
export async function fileInfo(trove: TestTrove, uuid: string, publicKey = trove.publicKey): Promise<FileInfoBody> {
  const response = await getInfo(trove, uuid, publicKey);
  const text = await response.text();
  expect(response.status, text).toBe(200);
  return JSON.parse(text) as FileInfoBody;
}

export interface FileInfoBody {
  uuid: string;
  file_id: string;
  size: number;
  sha256: string;
  mime_type: string;
  is_image: boolean;
  is_stored: boolean;
  is_ready: boolean;
  original_filename: string;
  filename: string;
  image_info: {
    width: number;
    height: number;
    format: string;
    orientation: number | null;
    geo_location: { latitude: number; longitude: number } | null;
  } | null;
  content_info: { mime: { mime: string; type: string; subtype: string } } | null;
  metadata: Record<string, string>;
  tags: string[];
  [key: string]: unknown;
}

interface UploadErrorBody {
  status_code: number;
  content: string;
  error_code: string;
}

/** Asserts an Upload API error: status, JSON shape, error_code and a non-empty human message. */
export async function expectUploadError(response: Response, status: number, errorCode: string): Promise<UploadErrorBody> {
  const text = await response.text();
  expect(response.status, text).toBe(status);
  expect(response.headers.get('content-type') ?? '').toMatch(/application\/json/);
  const body = JSON.parse(text) as { error?: UploadErrorBody };
  expect(body.error, text).toBeDefined();
  expect(body.error!.error_code, text).toBe(errorCode);
  expect(body.error!.status_code).toBe(status);
  expect(typeof body.error!.content).toBe('string');
  expect(body.error!.content.trim().length).toBeGreaterThan(0);
  return body.error!;
}

interface DeliveryErrorBody {
  statusCode: number;
  code: string;
  error: string;
  message: string;
  requestId: string;
}

/** Asserts a delivery (Trove-style) JSON error. */
export async function expectDeliveryError(response: Response, status: number): Promise<DeliveryErrorBody> {
  const text = await response.text();
  expect(response.status, text).toBe(status);
  expect(response.headers.get('content-type') ?? '').toMatch(/application\/json/);
  const body = JSON.parse(text) as DeliveryErrorBody;
  expect(body.statusCode).toBe(status);
  expect(typeof body.code).toBe('string');
  expect(body.code.length).toBeGreaterThan(0);
  expect(typeof body.message).toBe('string');
  expect(body.message.length).toBeGreaterThan(0);
  expect(typeof body.requestId).toBe('string');
  return body;
}

export function sha256Hex(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

export function uploadSignature(secret: string, expire: string | number): string {
  return createHmac('sha256', secret).update(String(expire)).digest('hex');
}

// ---------------------------------------------------------------------------------------------
// "Nothing left behind"

/** Rows in the `files` table, read straight from the database (removed or not). */
async function countFileRecords(trove: TestTrove): Promise<number> {
  const database = trove.ctx.config.database;
  if (database.kind === 'sqlite') {
    const db = new SqliteDatabase(database.path, { readonly: true, fileMustExist: true });
    try {
      const row = db.prepare('select count(*) as n from files').get() as { n: number };
      return Number(row.n);
    } finally {
      db.close();
    }
  }
  const client = new pg.Client({ connectionString: database.url });
  await client.connect();
  try {
    const result = await client.query<{ n: string }>('select count(*) as n from files');
    return Number(result.rows[0]?.n ?? 0);
  } finally {
    await client.end();
  }
}

export interface Leftovers {
  originals: number;
  staging: number;
  records: number;
}

export async function leftovers(trove: TestTrove): Promise<Leftovers> {
  const [originals, staging, records] = await Promise.all([
    trove.countOriginals(),
    trove.countStagingFiles(),
    countFileRecords(trove),
  ]);
  return { originals, staging, records };
}

/**
 * Asserts that the blob store and the database hold what they held in `before`. Retries for a
 * short while: a refused request may still be cleaning up when its response has already arrived.
 */
export async function expectNothingLeft(trove: TestTrove, before: Leftovers, withinMs = 1_500): Promise<void> {
  const deadline = Date.now() + withinMs;
  let now = await leftovers(trove);
  while (Date.now() < deadline && (now.originals !== before.originals || now.staging !== before.staging || now.records !== before.records)) {
    await sleep(50);
    now = await leftovers(trove);
  }
  expect(now).toEqual(before);
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

// ---------------------------------------------------------------------------------------------
// A raw HTTP client that can lie about lengths and hang up mid-body

export interface RawResponse {
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

interface RawRequestOptions {
  method?: string;
  headers?: Record<string, string | number>;
  /** Written in order. */
  chunks?: Buffer[];
  /** End the request after the chunks (default), or leave it open and destroy the socket. */
  mode?: 'end' | 'destroy';
  /** With mode 'destroy': how long to wait after the last chunk before destroying. */
  destroyAfterMs?: number;
  timeoutMs?: number;
}

/**
 * Sends a request with node:http. Resolves with the response when one arrives, or null when the
 * request was destroyed (or the connection dropped) without one.
 */
export function rawRequest(url: string, options: RawRequestOptions = {}): Promise<RawResponse | null> {
  return new Promise((resolve, reject) => {
    const target = new URL(url);
    let settled = false;
    const finish = (value: RawResponse | null) => {
      if (!settled) {
        settled = true;
        resolve(value);
      }
    };
    const request = http.request({
      host: target.hostname,
      port: target.port,
      path: `${target.pathname}${target.search}`,
      method: options.method ?? 'POST',
      headers: options.headers,
      agent: false,
    });
    const timer = setTimeout(() => {
      request.destroy();
      if (!settled) {
        settled = true;
        reject(new Error(`no response from ${url} within ${options.timeoutMs ?? 10_000} ms`));
      }
    }, options.timeoutMs ?? 10_000);
    request.on('response', (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('end', () => {
        clearTimeout(timer);
        finish({ status: response.statusCode ?? 0, headers: response.headers, body: Buffer.concat(chunks) });
      });
      response.on('error', () => {
        clearTimeout(timer);
        finish({ status: response.statusCode ?? 0, headers: response.headers, body: Buffer.concat(chunks) });
      });
    });
    request.on('error', () => {
      clearTimeout(timer);
      finish(null);
    });
    request.on('close', () => {
      // Closed without a response (e.g. destroyed by us).
      setTimeout(() => {
        clearTimeout(timer);
        finish(null);
      }, 50);
    });
    for (const chunk of options.chunks ?? []) request.write(chunk);
    if ((options.mode ?? 'end') === 'end') {
      request.end();
    } else {
      setTimeout(() => request.destroy(), options.destroyAfterMs ?? 100);
    }
  });
}

/** Body of a multipart/form-data request, assembled by hand so tests can cut or break it. */
export function multipartBody(
  boundary: string,
  parts: Array<{ name: string; value: string } | { name: string; filename: string; type?: string; bytes: Buffer }>,
  options: { close?: boolean } = {},
): Buffer {
  const chunks: Buffer[] = [];
  for (const part of parts) {
    if ('bytes' in part) {
      chunks.push(
        Buffer.from(
          `--${boundary}\r\nContent-Disposition: form-data; name="${part.name}"; filename="${part.filename}"\r\n` +
            `Content-Type: ${part.type ?? 'application/octet-stream'}\r\n\r\n`,
        ),
        part.bytes,
        Buffer.from('\r\n'),
      );
    } else {
      chunks.push(Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="${part.name}"\r\n\r\n${part.value}\r\n`));
    }
  }
  if (options.close ?? true) chunks.push(Buffer.from(`--${boundary}--\r\n`));
  return Buffer.concat(chunks);
}

// ---------------------------------------------------------------------------------------------
// Local origin servers for from_url

export interface OriginServer {
  port: number;
  url: string;
  close(): Promise<void>;
}

export async function startOrigin(handler: RequestListener): Promise<OriginServer> {
  const server = http.createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('origin server has no port');
  return {
    port: address.port,
    url: `http://127.0.0.1:${address.port}`,
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** A loopback port nothing listens on (bound, then released). */
export async function closedPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('no port');
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return address.port;
}

interface FromUrlStatusBody {
  status: 'waiting' | 'progress' | 'success' | 'error' | 'unknown';
  error?: string;
  error_code?: string;
  uuid?: string;
  is_image?: boolean;
  size?: number;
  [key: string]: unknown;
}

export async function startFromUrl(trove: TestTrove, params: Record<string, string>): Promise<Response> {
  const query = new URLSearchParams({ pub_key: trove.publicKey, ...params });
  return fetch(`${trove.uploadUrl}/from_url/?${query}`, { method: 'POST' });
}

/** Starts a from_url upload that must be accepted; returns its token. */
export async function fromUrlToken(trove: TestTrove, params: Record<string, string>): Promise<string> {
  const response = await startFromUrl(trove, params);
  const text = await response.text();
  expect(response.status, text).toBe(200);
  const body = JSON.parse(text) as { type: string; token: string };
  expect(body.type).toBe('token');
  expect(typeof body.token).toBe('string');
  return body.token;
}

export async function fromUrlStatus(trove: TestTrove, token: string): Promise<FromUrlStatusBody> {
  const response = await fetch(`${trove.uploadUrl}/from_url/status/?${new URLSearchParams({ token })}`);
  const text = await response.text();
  expect(response.status, text).toBe(200);
  return JSON.parse(text) as FromUrlStatusBody;
}

/** Polls until the task is finished (success or error), for at most `timeoutMs`. */
export async function waitForFromUrl(trove: TestTrove, token: string, timeoutMs = 10_000): Promise<FromUrlStatusBody> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const status = await fromUrlStatus(trove, token);
    if (status.status === 'success' || status.status === 'error') return status;
    if (Date.now() > deadline) throw new Error(`from_url task ${token} still ${status.status} after ${timeoutMs} ms`);
    await sleep(50);
  }
}

// ---------------------------------------------------------------------------------------------
// Multipart

interface StartedMultipart {
  uuid: string;
  parts: string[];
}

export function multipartStart(trove: TestTrove, fields: Fields, publicKey: string | null = trove.publicKey): Promise<Response> {
  const form = new FormData();
  if (publicKey !== null) form.append('UPLOADCARE_PUB_KEY', publicKey);
  for (const [name, value] of fieldEntries(fields)) form.append(name, value);
  return fetch(`${trove.uploadUrl}/multipart/start/`, { method: 'POST', body: form });
}

export async function startedMultipart(trove: TestTrove, fields: Fields): Promise<StartedMultipart> {
  const response = await multipartStart(trove, fields);
  const text = await response.text();
  expect(response.status, text).toBe(200);
  return JSON.parse(text) as StartedMultipart;
}

export function putPart(url: string, bytes: Uint8Array): Promise<Response> {
  return fetch(url, { method: 'PUT', body: blobPart(bytes), headers: { 'content-type': 'application/octet-stream' } });
}

export function multipartComplete(trove: TestTrove, uuid: string, publicKey = trove.publicKey): Promise<Response> {
  const form = new FormData();
  form.append('UPLOADCARE_PUB_KEY', publicKey);
  form.append('uuid', uuid);
  return fetch(`${trove.uploadUrl}/multipart/complete/`, { method: 'POST', body: form });
}

/**
 * Changes the default project's settings through ProjectService, which also drops the Upload API's
 * short-lived project cache, so the change applies to the very next request.
 */
export async function updateDefaultProject(trove: TestTrove, patch: ProjectSettingsPatch): Promise<void> {
  await trove.ctx.services.projects.update(trove.publicKey, patch);
}
