import type {
  BatchResult,
  BootConfig,
  FileInfo,
  FileListPage,
  FileQuery,
  NewSecretKey,
  Project,
  ProjectUpdate,
  SecretKeyInfo,
  SessionInfo,
  SignInRequest,
  UploadSignature,
  Usage,
  Webhook,
  WebhookDelivery,
  WebhookInput,
} from './types';

/** A refused or failed call, carrying the server's own message (REST `detail`, session API `message`). */
export class ApiError extends Error {
  override readonly name = 'ApiError';
  constructor(
    /** HTTP status; 0 when the server could not be reached. */
    readonly status: number,
    message: string,
    readonly code: string | null = null,
  ) {
    super(message);
  }
}

export function errorMessage(error: unknown): string {
  if (error instanceof ApiError) return error.message;
  if (error instanceof Error) return error.message;
  return String(error);
}

export function isAbort(error: unknown): boolean {
  return error instanceof DOMException && error.name === 'AbortError';
}

const REST_ACCEPT = 'application/vnd.uploadcare-v0.7+json';
const SESSION_PATH = '/dashboard/api/session';
/** The REST API takes at most this many uuids per batch call. */
export const BATCH_LIMIT = 100;

interface CallOptions {
  body?: unknown;
  signal?: AbortSignal | undefined;
  /** A 401 here is an answer (wrong password), not a lost session. */
  expect401?: boolean;
}

/** What an error body says, whichever of Trove's shapes it has; null when it says nothing readable. */
export function messageFromBody(text: string): { message: string | null; code: string | null } {
  if (text.trim() === '') return { message: null, code: null };
  try {
    const body = JSON.parse(text) as unknown;
    if (typeof body === 'string') return { message: body, code: null };
    if (body && typeof body === 'object') {
      const record = body as Record<string, unknown>;
      const message = [record.detail, record.message, record.error].find((value): value is string => typeof value === 'string' && value !== '');
      return { message: message ?? null, code: typeof record.code === 'string' ? record.code : null };
    }
  } catch {
    // Not JSON: short plain text is still worth showing.
  }
  return { message: text.length <= 300 ? text.trim() : null, code: null };
}

/**
 * The one place requests are made: the session cookie rides along (same origin), every call but
 * sign-in carries the CSRF token, and a 401 anywhere means the session is gone.
 */
export class ApiClient {
  private csrfToken = '';
  private unauthorized: (message: string) => void = () => undefined;

  constructor(readonly boot: BootConfig) {}

  setCsrfToken(token: string): void {
    this.csrfToken = token;
  }

  onUnauthorized(handler: (message: string) => void): void {
    this.unauthorized = handler;
  }

  // -- Session ---------------------------------------------------------------------------------

  /** The current session, or null when signed out. */
  async currentSession(): Promise<SessionInfo | null> {
    try {
      return this.adopt(await this.call<SessionInfo>('GET', SESSION_PATH, { expect401: true }));
    } catch (error) {
      if (error instanceof ApiError && error.status === 401) return null;
      throw error;
    }
  }

  async signIn(request: SignInRequest): Promise<SessionInfo> {
    return this.adopt(await this.call<SessionInfo>('POST', SESSION_PATH, { body: request, expect401: true }));
  }

  async switchProject(pubKey: string): Promise<SessionInfo> {
    return this.adopt(await this.call<SessionInfo>('PUT', SESSION_PATH, { body: { pub_key: pubKey } }));
  }

  async signOut(): Promise<void> {
    try {
      await this.call<null>('DELETE', SESSION_PATH, { expect401: true });
    } finally {
      this.csrfToken = '';
    }
  }

  /** A signature for the Upload API, made by the server with one of the project's secret keys. */
  uploadSignature(): Promise<UploadSignature> {
    return this.call<UploadSignature>('GET', '/dashboard/api/upload-signature');
  }

  private adopt(session: SessionInfo): SessionInfo {
    this.csrfToken = session.csrf_token;
    return session;
  }

  // -- Files -----------------------------------------------------------------------------------

  /**
   * One page of `GET /files/`. `cursor` is the `from` of the previous page's `next` link; the
   * filters are sent again rather than trusting `next` to keep them.
   */
  async listFiles(query: FileQuery, cursor: string | null, limit: number, signal?: AbortSignal): Promise<FileListPage & { cursor: string | null }> {
    const params = fileQueryParams(query, limit);
    if (cursor !== null) params.set('from', cursor);
    const page = await this.rest<FileListPage>('GET', `/files/?${params.toString()}`, { signal });
    return { ...page, cursor: cursorOf(page.next) };
  }

  file(uuid: string, signal?: AbortSignal): Promise<FileInfo> {
    return this.rest<FileInfo>('GET', `/files/${encodeURIComponent(uuid)}/`, { signal });
  }

  storeFile(uuid: string): Promise<FileInfo> {
    return this.rest<FileInfo>('PUT', `/files/${encodeURIComponent(uuid)}/storage/`);
  }

  deleteFile(uuid: string): Promise<FileInfo> {
    return this.rest<FileInfo>('DELETE', `/files/${encodeURIComponent(uuid)}/storage/`);
  }

  /** Batch store in chunks the API accepts; problems of every chunk are merged. */
  storeFiles(uuids: readonly string[]): Promise<BatchResult> {
    return this.batch('PUT', uuids);
  }

  deleteFiles(uuids: readonly string[]): Promise<BatchResult> {
    return this.batch('DELETE', uuids);
  }

  private async batch(method: 'PUT' | 'DELETE', uuids: readonly string[]): Promise<BatchResult> {
    const merged: BatchResult = { status: 'ok', problems: {}, result: [] };
    for (let i = 0; i < uuids.length; i += BATCH_LIMIT) {
      const chunk = uuids.slice(i, i + BATCH_LIMIT);
      const answer = await this.rest<BatchResult>(method, '/files/storage/', { body: chunk });
      Object.assign(merged.problems, answer.problems);
      merged.result.push(...answer.result);
    }
    return merged;
  }

  setMetadata(uuid: string, key: string, value: string): Promise<string> {
    return this.rest<string>('PUT', `/files/${encodeURIComponent(uuid)}/metadata/${encodeURIComponent(key)}/`, { body: value });
  }

  deleteMetadata(uuid: string, key: string): Promise<null> {
    return this.rest<null>('DELETE', `/files/${encodeURIComponent(uuid)}/metadata/${encodeURIComponent(key)}/`);
  }

  setTags(uuid: string, tags: readonly string[]): Promise<FileInfo> {
    return this.rest<FileInfo>('PUT', `/files/${encodeURIComponent(uuid)}/tags/`, { body: tags });
  }

  // -- Webhooks --------------------------------------------------------------------------------

  webhooks(signal?: AbortSignal): Promise<Webhook[]> {
    return this.rest<Webhook[]>('GET', '/webhooks/', { signal });
  }

  createWebhook(input: WebhookInput): Promise<Webhook> {
    return this.rest<Webhook>('POST', '/webhooks/', { body: input });
  }

  updateWebhook(id: number, input: Partial<WebhookInput>): Promise<Webhook> {
    return this.rest<Webhook>('PUT', `/webhooks/${id}/`, { body: input });
  }

  /** One subscription (Trove's `DELETE /webhooks/:id/`; Uploadcare's unsubscribe would remove every event sent to the URL). */
  async deleteWebhook(hook: Webhook): Promise<void> {
    await this.rest<null>('DELETE', `/webhooks/${hook.id}/`);
  }

  async deliveries(webhookId: number, signal?: AbortSignal): Promise<WebhookDelivery[]> {
    return (await this.rest<{ results: WebhookDelivery[] }>('GET', `/webhooks/${webhookId}/deliveries/?limit=50`, { signal })).results;
  }

  replayDelivery(webhookId: number, deliveryId: string): Promise<WebhookDelivery> {
    return this.rest<WebhookDelivery>('POST', `/webhooks/${webhookId}/deliveries/${encodeURIComponent(deliveryId)}/replay/`);
  }

  // -- Project ---------------------------------------------------------------------------------

  project(signal?: AbortSignal): Promise<Project> {
    return this.rest<Project>('GET', '/project/', { signal });
  }

  updateProject(update: ProjectUpdate): Promise<Project> {
    return this.rest<Project>('PUT', '/project/', { body: update });
  }

  async secrets(signal?: AbortSignal): Promise<SecretKeyInfo[]> {
    return (await this.rest<{ results: SecretKeyInfo[] }>('GET', '/project/secrets/', { signal })).results;
  }

  createSecret(): Promise<NewSecretKey> {
    return this.rest<NewSecretKey>('POST', '/project/secrets/');
  }

  revokeSecret(id: string): Promise<null> {
    return this.rest<null>('DELETE', `/project/secrets/${encodeURIComponent(id)}/`);
  }

  usage(days: number, signal?: AbortSignal): Promise<Usage> {
    return this.rest<Usage>('GET', `/project/usage/?days=${days}`, { signal });
  }

  // -- Transport -------------------------------------------------------------------------------

  private rest<T>(method: string, path: string, options: CallOptions = {}): Promise<T> {
    return this.call<T>(method, `${this.boot.restBase}${path}`, options, { Accept: REST_ACCEPT });
  }

  private async call<T>(method: string, url: string, options: CallOptions = {}, extraHeaders: Record<string, string> = {}): Promise<T> {
    const headers: Record<string, string> = { Accept: 'application/json', ...extraHeaders };
    if (this.csrfToken) headers['X-CSRF-Token'] = this.csrfToken;
    const init: RequestInit = { method, credentials: 'same-origin', headers };
    if (options.body !== undefined) {
      headers['Content-Type'] = 'application/json';
      init.body = JSON.stringify(options.body);
    }
    if (options.signal) init.signal = options.signal;

    let response: Response;
    try {
      response = await fetch(url, init);
    } catch (error) {
      if (isAbort(error)) throw error;
      throw new ApiError(0, 'Cannot reach the server. Check your connection and try again.');
    }
    const text = await response.text();
    if (!response.ok) {
      const { message, code } = messageFromBody(text);
      const error = new ApiError(response.status, message ?? `The server answered ${response.status} ${response.statusText}.`.trim(), code);
      if (response.status === 401 && !options.expect401) this.unauthorized(error.message);
      throw error;
    }
    if (text === '') return null as T;
    try {
      return JSON.parse(text) as T;
    } catch {
      throw new ApiError(response.status, 'The server sent an answer that is not JSON.');
    }
  }
}

/** Start of a local calendar day (`YYYY-MM-DD`) as an ISO instant; null for an empty or bad day. */
export function startOfDay(day: string, addDays = 0): string | null {
  const match = /^(\d{4})-(\d{2})-(\d{2})$/.exec(day);
  if (!match) return null;
  const date = new Date(Number(match[1]), Number(match[2]) - 1, Number(match[3]) + addDays);
  return Number.isNaN(date.getTime()) ? null : date.toISOString();
}

/** The query string of `GET /files/` for the library's filters (`since`/`to` bound the dates in either order). */
export function fileQueryParams(query: FileQuery, limit: number): URLSearchParams {
  const params = new URLSearchParams();
  params.set('limit', String(limit));
  params.set('ordering', query.ordering === 'oldest' ? 'datetime_uploaded' : '-datetime_uploaded');
  if (query.status === 'stored') params.set('stored', 'true');
  if (query.status === 'temporary') params.set('stored', 'false');
  if (query.status === 'removed') params.set('removed', 'true');
  if (query.search.trim() !== '') params.set('search', query.search.trim());
  if (query.tag !== '') params.set('tag', query.tag);
  if (query.mimeType !== '') params.set('mime_type', query.mimeType);
  const to = startOfDay(query.toDay, 1);
  if (to) params.set('to', to);
  const since = startOfDay(query.fromDay);
  if (since) params.set('since', since);
  return params;
}

function cursorOf(next: string | null): string | null {
  if (!next) return null;
  try {
    return new URL(next, window.location.href).searchParams.get('from');
  } catch {
    return null;
  }
}
