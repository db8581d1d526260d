import type { CachePurge } from '../../domain/cache-tags.js';
import type { CachePurger } from '../../ports/cache-purger.js';
import { callProvider, excerpt, refusal } from './provider-call.js';

/**
 * An endpoint of the operator's own (a CDN Trove has no adapter for, a cache of their own): each purge
 * is POSTed as `{"tags": [...], "paths": [...]}` with `Authorization: Bearer <token>` when a token is
 * configured. Any 2xx is success; 429 is retried after its Retry-After.
 */
export class HttpHookPurger implements CachePurger {
  readonly provider = 'http';
  readonly limits = { maxTags: 1000, maxPaths: 1000 };

  constructor(private readonly settings: { url: URL; token: string | null; timeoutMs: number }) {}

  async purge(purge: CachePurge): Promise<void> {
    const answer = await callProvider({
      method: 'POST',
      url: this.settings.url,
      headers: {
        'content-type': 'application/json',
        ...(this.settings.token ? { authorization: `Bearer ${this.settings.token}` } : {}),
      },
      body: JSON.stringify({ tags: purge.tags, paths: purge.paths }),
      timeoutMs: this.settings.timeoutMs,
    });
    if (answer.status < 200 || answer.status > 299) throw refusal(`purge endpoint ${this.settings.url.origin}`, answer, excerpt(answer.body));
  }
}
