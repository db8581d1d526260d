/** Where Trove is reached and how requests are sent. */
export interface TroveClientOptions<Api extends string = string> {
  /** Origin Trove answers at (with a path prefix if it sits behind one), e.g. `https://files.example.com`. */
  baseUrl: string;
  /**
   * Where an API is mounted when not at `baseUrl` + its default mount (see API_MOUNTS), e.g.
   * `{ 'Upload API': 'https://upload.example.com' }` for nodes serving uploads on their own host at `/`.
   */
  baseUrls?: Partial<Record<Api, string>>;
  /** Sent with every request (e.g. `Authorization`, `X-CSRF-Token`); a function is asked before each request. */
  headers?: Record<string, string> | (() => Record<string, string> | Promise<Record<string, string>>);
  /** Defaults to the global fetch. */
  fetch?: typeof fetch;
  /** Browsers: whether cookies go along (`include` for a dashboard session on another origin). */
  credentials?: 'omit' | 'same-origin' | 'include';
}

/** Per call: extra headers (they win over the client's) and an AbortSignal. */
export interface RequestOptions {
  headers?: Record<string, string>;
  signal?: AbortSignal;
}

/** A non-2xx answer. `body` is the parsed JSON error (or the text, or undefined when there was none). */
export class TroveApiError extends Error {
  override readonly name = 'TroveApiError';
  readonly status: number;
  readonly body: unknown;
  readonly method: string;
  readonly url: string;

  constructor(method: string, url: string, status: number, body: unknown) {
    super(`${method} ${url} answered ${status}${describeError(body)}`);
    this.method = method;
    this.url = url;
    this.status = status;
    this.body = body;
  }
}

function describeError(body: unknown): string {
  if (typeof body === 'string') return body.trim() === '' ? '' : `: ${body.trim().slice(0, 200)}`;
  if (typeof body !== 'object' || body === null) return '';
  const fields = body as Record<string, unknown>;
  const nested = typeof fields.error === 'object' && fields.error !== null ? (fields.error as Record<string, unknown>).content : undefined;
  // REST API errors say `detail`, Trove's own `message`, the Upload API's `error.content`.
  for (const candidate of [fields.detail, fields.message, nested, fields.error]) {
    if (typeof candidate === 'string' && candidate !== '') return `: ${candidate}`;
  }
  return '';
}

/** How one operation is sent; written by the generator for each method. */
export interface OperationSpec<Api extends string = string> {
  method: string;
  /** The path below the API's mount, with `{name}` for path parameters. */
  path: string;
  api: Api | null;
  accept: string | null;
  body: { kind: 'json' | 'form' | 'multipart' | 'raw'; mediaType: string } | null;
}

/** The arguments of any operation: path parameters, query, body, headers. */
export interface OperationArgs {
  path?: object;
  query?: object;
  body?: unknown;
  headers?: object;
}

export type Transport<Api extends string> = <T>(spec: OperationSpec<Api>, args: OperationArgs, options?: RequestOptions) => Promise<T>;

function appendQuery(params: URLSearchParams, name: string, value: unknown): void {
  if (value === undefined || value === null) return;
  if (Array.isArray(value)) {
    for (const item of value) appendQuery(params, name, item);
  } else if (typeof value === 'object') {
    // Uploadcare's style for maps such as `metadata[key]=value`.
    for (const [key, item] of Object.entries(value as Record<string, unknown>)) appendQuery(params, `${name}[${key}]`, item);
  } else {
    params.append(name, String(value));
  }
}

function fillPath(template: string, values: Record<string, unknown>): string {
  return template.replace(/\{([^}]+)\}/g, (_match, name: string) => {
    const value = values[name];
    if (value === undefined || value === null || value === '') throw new TypeError(`Missing path parameter "${name}" for ${template}`);
    return encodeURIComponent(String(value));
  });
}

function lowerCaseKeys(headers: object | undefined): Record<string, string> {
  const lowered: Record<string, string> = {};
  for (const [name, value] of Object.entries((headers ?? {}) as Record<string, unknown>)) {
    if (value !== undefined && value !== null) lowered[name.toLowerCase()] = String(value);
  }
  return lowered;
}

function encodeBody(spec: OperationSpec<string>, body: unknown): string | FormData | URLSearchParams | Blob | ArrayBuffer | undefined {
  if (body === undefined || spec.body === null) return undefined;
  switch (spec.body.kind) {
    case 'json':
      return JSON.stringify(body);
    case 'form': {
      const params = new URLSearchParams();
      for (const [name, value] of Object.entries(body as Record<string, unknown>)) appendQuery(params, name, value);
      return params;
    }
    default:
      return body as string | FormData | Blob | ArrayBuffer;
  }
}

async function readBody(response: Response, method: string): Promise<unknown> {
  if (method === 'HEAD' || response.status === 204 || response.status === 205 || response.status === 304) return undefined;
  const text = await response.text();
  if (text === '') return undefined;
  if (!/json/i.test(response.headers.get('content-type') ?? '')) return text;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}

/** The function every generated method calls. */
export function createTransport<Api extends string>(options: TroveClientOptions<Api>, mounts: Readonly<Record<Api, string>>): Transport<Api> {
  const baseUrl = options.baseUrl.replace(/\/+$/, '');
  const fetchImpl = options.fetch ?? ((input, init) => fetch(input, init));
  const baseOf = (api: Api | null): string => {
    if (api === null) return baseUrl;
    const own = options.baseUrls?.[api];
    return own === undefined ? `${baseUrl}${mounts[api]}` : own.replace(/\/+$/, '');
  };

  return async <T>(spec: OperationSpec<Api>, args: OperationArgs, requestOptions?: RequestOptions): Promise<T> => {
    const query = new URLSearchParams();
    for (const [name, value] of Object.entries((args.query ?? {}) as Record<string, unknown>)) appendQuery(query, name, value);
    const search = query.toString();
    const url = `${baseOf(spec.api)}${fillPath(spec.path, (args.path ?? {}) as Record<string, unknown>)}${search ? `?${search}` : ''}`;

    const shared = typeof options.headers === 'function' ? await options.headers() : options.headers;
    const headers: Record<string, string> = {};
    if (spec.accept !== null) headers.accept = spec.accept;
    // FormData sets its own Content-Type, with the boundary.
    if (spec.body !== null && spec.body.kind !== 'multipart' && args.body !== undefined) headers['content-type'] = spec.body.mediaType;
    Object.assign(headers, lowerCaseKeys(shared), lowerCaseKeys(args.headers), lowerCaseKeys(requestOptions?.headers));

    const init: RequestInit = { method: spec.method, headers };
    const body = encodeBody(spec, args.body);
    if (body !== undefined) init.body = body;
    if (options.credentials !== undefined) init.credentials = options.credentials;
    if (requestOptions?.signal !== undefined) init.signal = requestOptions.signal;

    const response = await fetchImpl(url, init);
    const parsed = await readBody(response, spec.method);
    if (!response.ok) throw new TroveApiError(spec.method, url, response.status, parsed);
    return parsed as T;
  };
}
