import type { CachePurge } from '../../domain/cache-tags.js';
import type { CachePurger } from '../../ports/cache-purger.js';
import { withSlash } from './cloudflare.purger.js';
import { callProvider, excerpt, jsonOf, refusal } from './provider-call.js';

/**
 * Fastly's batch surrogate-key purge: `POST /service/<id>/purge` with the keys in a `Surrogate-Key`
 * header (at most 256 per request) and the API token in `Fastly-Key`. A soft purge
 * (`Fastly-Soft-Purge: 1`) marks objects stale instead of dropping them, so Fastly may still serve
 * them while it revalidates. The answer maps each key to its purge id.
 */
export class FastlyPurger implements CachePurger {
  readonly provider = 'fastly';
  readonly limits = { maxTags: 256, maxPaths: 0 };

  constructor(private readonly settings: { apiToken: string; serviceId: string; endpoint: URL; soft: boolean; timeoutMs: number }) {}

  async purge(purge: CachePurge): Promise<void> {
    if (purge.tags.length === 0) return;
    const answer = await callProvider({
      method: 'POST',
      url: new URL(`service/${encodeURIComponent(this.settings.serviceId)}/purge`, withSlash(this.settings.endpoint)),
      headers: {
        'fastly-key': this.settings.apiToken,
        'surrogate-key': purge.tags.join(' '),
        accept: 'application/json',
        ...(this.settings.soft ? { 'fastly-soft-purge': '1' } : {}),
      },
      timeoutMs: this.settings.timeoutMs,
    });
    if (answer.status === 200) return;
    const body = jsonOf(answer) as { msg?: unknown; detail?: unknown } | null;
    const detail = body && typeof body.msg === 'string' ? `${body.msg}${typeof body.detail === 'string' ? `: ${body.detail}` : ''}` : excerpt(answer.body);
    throw refusal('fastly', answer, detail);
  }
}
