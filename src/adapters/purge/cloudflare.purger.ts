import type { CachePurge } from '../../domain/cache-tags.js';
import { PurgeError, type CachePurger } from '../../ports/cache-purger.js';
import { callProvider, excerpt, jsonOf, refusal } from './provider-call.js';

interface CloudflareAnswer {
  success?: unknown;
  errors?: Array<{ code?: unknown; message?: unknown }>;
}

/**
 * Cloudflare's purge by Cache-Tag (every plan): `POST /client/v4/zones/<zone>/purge_cache` with
 * `{"tags": [...]}` and an API token. Cloudflare documents at most 100 operations per request and
 * per-account request budgets (5 per minute on Free); over it, 429.
 */
export class CloudflarePurger implements CachePurger {
  readonly provider = 'cloudflare';
  readonly limits = { maxTags: 100, maxPaths: 0 };

  constructor(private readonly settings: { apiToken: string; zoneId: string; endpoint: URL; timeoutMs: number }) {}

  async purge(purge: CachePurge): Promise<void> {
    if (purge.tags.length === 0) return;
    const { endpoint, zoneId } = this.settings;
    const answer = await callProvider({
      method: 'POST',
      url: new URL(`client/v4/zones/${encodeURIComponent(zoneId)}/purge_cache`, withSlash(endpoint)),
      headers: { authorization: `Bearer ${this.settings.apiToken}`, 'content-type': 'application/json' },
      body: JSON.stringify({ tags: purge.tags }),
      timeoutMs: this.settings.timeoutMs,
    });
    const body = jsonOf(answer) as CloudflareAnswer | null;
    if (answer.status === 200 && body?.success === true) return;
    const errors = Array.isArray(body?.errors)
      ? body.errors.map((error) => `${String(error.code ?? '?')} ${String(error.message ?? '')}`.trim()).join('; ')
      : '';
    if (answer.status === 200) throw new PurgeError(`cloudflare refused the purge: ${errors || excerpt(answer.body)}`);
    throw refusal('cloudflare', answer, errors || excerpt(answer.body));
  }
}

export function withSlash(url: URL): URL {
  return url.pathname.endsWith('/') ? url : new URL(`${url.toString()}/`);
}
