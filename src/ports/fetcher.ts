import type { Readable } from 'node:stream';

export interface FetchLimits {
  /** Largest body accepted, in bytes; a larger body fails while streaming. */
  maxBytes: number;
  /** Whole-request deadline in milliseconds (connect, redirects and body). */
  timeoutMs: number;
  maxRedirects: number;
}

export interface FetchedResource {
  /** The URL that finally answered, after redirects. */
  finalUrl: string;
  status: number;
  /** Content-Length when the server sent one. */
  contentLength: number | null;
  contentType: string | null;
  /** Filename from Content-Disposition, or the last path segment of finalUrl. */
  suggestedFilename: string | null;
  /** Body, already bounded by maxBytes and the deadline: it errors with a FetchError when either is passed. */
  body: Readable;
}

export type FetchErrorCode =
  | 'URL_INVALID'
  | 'URL_SCHEME_INVALID'
  | 'URL_HOST_FORBIDDEN'
  | 'HOST_NOT_FOUND'
  | 'TOO_MANY_REDIRECTS'
  | 'TIMEOUT'
  | 'TOO_LARGE'
  | 'HTTP_ERROR'
  | 'NETWORK_ERROR';

export class FetchError extends Error {
  readonly code: FetchErrorCode;
  readonly status: number | undefined;
  constructor(code: FetchErrorCode, message: string, status?: number) {
    super(message);
    this.name = 'FetchError';
    this.code = code;
    this.status = status;
  }
}

/** A request with a body (webhook deliveries). Redirects are not followed for these: a 3xx is an answer. */
export interface OutgoingRequest {
  method: 'POST' | 'PUT';
  headers: Record<string, string>;
  body: Buffer;
}

/**
 * The one way Trove fetches anything from a URL a user gave it. Guards against SSRF: only http(s),
 * every resolved address checked on the first request and after every redirect, and the connection
 * made to the address that was checked.
 */
export interface GuardedFetcher {
  fetch(url: string, limits?: Partial<FetchLimits>, signal?: AbortSignal, send?: OutgoingRequest): Promise<FetchedResource>;
}
