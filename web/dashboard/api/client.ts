import { TroveClient, type DashboardSession, type SignInArgs, type TroveApiName, type TroveClientOptions } from '../../../client/trove-client';
import type { BootConfig } from '../boot';
import { failureStatus, isAbort, messageFromBody, ServerUnreachable } from './errors';

/**
 * The dashboard's way to Trove: the generated client, sending the session cookie (same origin) and
 * the session's CSRF token to the bases the page was given. A 401 on any call but the session's own
 * means the session is gone.
 */
export class ApiClient {
  /** Every REST and session operation; failures throw TroveApiError (see errors.ts for the message). */
  readonly trove: TroveClient;
  /** For the calls where a 401 is an answer (signed out, wrong password), not a lost session. */
  readonly #sessionClient: TroveClient;
  #csrfToken = '';
  #unauthorized: (message: string) => void = () => undefined;

  constructor(boot: BootConfig) {
    const options: TroveClientOptions<TroveApiName> = {
      baseUrl: window.location.origin,
      baseUrls: { 'REST API': boot.restBase, 'Upload API': boot.uploadBase },
      credentials: 'same-origin',
      headers: (): Record<string, string> => (this.#csrfToken ? { 'X-CSRF-Token': this.#csrfToken } : {}),
    };
    this.trove = new TroveClient({ ...options, fetch: (input, init) => this.#watchSession(input, init) });
    this.#sessionClient = new TroveClient({ ...options, fetch: reach });
  }

  onUnauthorized(handler: (message: string) => void): void {
    this.#unauthorized = handler;
  }

  /** The current session, or null when signed out. */
  async currentSession(): Promise<DashboardSession | null> {
    try {
      return this.#adopt(await this.#sessionClient.getSession());
    } catch (error) {
      if (failureStatus(error) === 401) return null;
      throw error;
    }
  }

  async signIn(credentials: SignInArgs['body']): Promise<DashboardSession> {
    return this.#adopt(await this.#sessionClient.signIn({ body: credentials }));
  }

  async switchProject(pubKey: string): Promise<DashboardSession> {
    return this.#adopt(await this.trove.switchProject({ body: { pub_key: pubKey } }));
  }

  async signOut(): Promise<void> {
    try {
      await this.#sessionClient.signOut();
    } finally {
      this.#csrfToken = '';
    }
  }

  #adopt(session: DashboardSession): DashboardSession {
    this.#csrfToken = session.csrf_token;
    return session;
  }

  async #watchSession(input: RequestInfo | URL, init?: RequestInit): Promise<Response> {
    const response = await reach(input, init);
    if (response.status === 401) {
      const { message } = messageFromBody(await response.clone().text());
      this.#unauthorized(message ?? 'The server answered 401.');
    }
    return response;
  }
}

/** fetch, with a network failure told apart from an answer. */
async function reach(input: RequestInfo | URL, init?: RequestInit): Promise<Response> {
  try {
    return await fetch(input, init);
  } catch (error) {
    if (isAbort(error)) throw error;
    throw new ServerUnreachable();
  }
}
