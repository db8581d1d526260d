import type { CachePurge } from '../../domain/cache-tags.js';
import { PurgeError, type CachePurger } from '../../ports/cache-purger.js';
import { callProvider, excerpt, jsonOf, refusal } from './provider-call.js';

/**
 * The Varnish shield in front of Trove, one or more instances. Its VCL takes `PURGE /` with
 * `Xkey-Purge: <space-separated tags>` from allowed addresses and answers 200 `{"purged": N}`, or
 * 403 when the caller is not allowed. Every instance must take the purge.
 */
export class ShieldPurger implements CachePurger {
  readonly provider = 'shield';
  // Varnish refuses request headers over http_req_hdr_len (8 KiB by default): ~150 tags of ~40 characters fit.
  readonly limits = { maxTags: 150, maxPaths: 0 };

  constructor(private readonly settings: { urls: readonly URL[]; timeoutMs: number }) {}

  async purge(purge: CachePurge): Promise<void> {
    if (purge.tags.length === 0) return;
    await Promise.all(this.settings.urls.map((base) => this.purgeOne(base, purge.tags)));
  }

  private async purgeOne(base: URL, tags: readonly string[]): Promise<void> {
    const answer = await callProvider({
      method: 'PURGE',
      url: new URL('/', base),
      headers: { 'xkey-purge': tags.join(' ') },
      timeoutMs: this.settings.timeoutMs,
    });
    const provider = `shield ${base.origin}`;
    if (answer.status === 403) throw new PurgeError(`${provider} refused the purge (403): allow this node's address in the shield's purge ACL`);
    if (answer.status !== 200) throw refusal(provider, answer, excerpt(answer.body));
    const body = jsonOf(answer);
    if (typeof body !== 'object' || body === null || typeof (body as { purged?: unknown }).purged !== 'number') {
      throw new PurgeError(`${provider} answered 200 without {"purged": N}: ${excerpt(answer.body)}`);
    }
  }
}
