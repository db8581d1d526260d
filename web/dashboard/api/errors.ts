import { TroveApiError } from '../../../client/trove-client';

/** The server could not be reached at all (offline, DNS, refused connection). */
export class ServerUnreachable extends Error {
  override readonly name = 'ServerUnreachable';
  constructor() {
    super('Cannot reach the server. Check your connection and try again.');
  }
}

/** What an error body says, whichever of Trove's shapes it has; null when it says nothing readable. */
export function messageFromBody(text: string): { message: string | null; code: string | null } {
  if (text.trim() === '') return { message: null, code: null };
  try {
    return messageFromParsedBody(JSON.parse(text) as unknown);
  } catch {
    // Not JSON: short plain text is still worth showing.
  }
  return { message: text.length <= 300 ? text.trim() : null, code: null };
}

/** The same for a body the client has already read: JSON (REST `detail`, session API `message`) or text. */
function messageFromParsedBody(body: unknown): { message: string | null; code: string | null } {
  if (typeof body === 'string') return { message: body, code: null };
  if (body && typeof body === 'object') {
    const record = body as Record<string, unknown>;
    const message = [record.detail, record.message, record.error].find((value): value is string => typeof value === 'string' && value !== '');
    return { message: message ?? null, code: typeof record.code === 'string' ? record.code : null };
  }
  return { message: null, code: null };
}

/** What a failed call shows the user: the server's own words when it gave any. */
export function errorMessage(error: unknown): string {
  if (error instanceof TroveApiError) {
    const { message } = typeof error.body === 'string' ? messageFromBody(error.body) : messageFromParsedBody(error.body);
    return message ?? `The server answered ${error.status}.`;
  }
  if (error instanceof Error) return error.message;
  return String(error);
}

/** HTTP status of a refused call (404: not there); null when the failure is not an HTTP answer. */
export function failureStatus(error: unknown): number | null {
  return error instanceof TroveApiError ? error.status : null;
}

export function isAbort(error: unknown): boolean {
  return error instanceof DOMException && error.name === 'AbortError';
}
