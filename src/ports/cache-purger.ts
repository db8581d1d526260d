import type { CachePurge } from '../domain/cache-tags.js';

/**
 * Drops cached answers from a cache in front of Trove: the Varnish shield, a CDN, or an endpoint of
 * the operator's own. Adapters: `shield` (Varnish xkey), `http` (a generic JSON hook), `cloudflare`
 * (purge by Cache-Tag), `fastly` (surrogate keys), `cloudfront` (path invalidations).
 */
export type PurgeProviderName = 'shield' | 'http' | 'cloudflare' | 'fastly' | 'cloudfront';

export interface CachePurger {
  readonly provider: PurgeProviderName;
  /**
   * Most tags and paths one call takes: Infinity for no cap, 0 when the provider takes none (a CDN
   * that purges by tag ignores paths; CloudFront cannot purge by tag).
   */
  readonly limits: { maxTags: number; maxPaths: number };
  /**
   * Sends one purge within `limits`. Resolves once the provider accepted it; throws a PurgeError
   * otherwise. Every call has a deadline and reads a bounded answer.
   */
  purge(purge: CachePurge): Promise<void>;
}

/** A provider refused or could not be reached; `retryAfterMs` is set when it asked to be called later (429). */
export class PurgeError extends Error {
  override readonly name = 'PurgeError';
  constructor(
    message: string,
    readonly retryAfterMs: number | null = null,
  ) {
    super(message);
  }
}
