import { randomUUID } from 'node:crypto';
import { CloudFrontClient, CreateInvalidationCommand } from '@aws-sdk/client-cloudfront';
import type { CachePurge } from '../../domain/cache-tags.js';
import { PurgeError, type CachePurger } from '../../ports/cache-purger.js';

/** CloudFront refuses new wildcard invalidations while 15 wildcard paths are in progress; it clears within minutes. */
const BUSY_RETRY_MS = 60_000;

/**
 * CloudFront cannot purge by tag: it invalidates paths (`CreateInvalidation`, SigV4-signed), and a
 * file's purge is one wildcard path `<prefix>/<uuid>*`. `endpoint`: a stand-in for tests, or a
 * compatible service; AWS's own otherwise.
 */
export class CloudFrontPurger implements CachePurger {
  readonly provider = 'cloudfront';
  // Wildcard paths in progress at once per distribution (AWS quota): a larger batch would be refused.
  readonly limits = { maxTags: 0, maxPaths: 15 };
  private readonly client: CloudFrontClient;

  constructor(
    private readonly settings: {
      distributionId: string;
      accessKeyId: string;
      secretAccessKey: string;
      region: string;
      endpoint: string | undefined;
      timeoutMs: number;
    },
  ) {
    this.client = new CloudFrontClient({
      region: settings.region,
      ...(settings.endpoint ? { endpoint: settings.endpoint } : {}),
      credentials: { accessKeyId: settings.accessKeyId, secretAccessKey: settings.secretAccessKey },
      // The job queue retries, with backoff and the provider's rate.
      maxAttempts: 1,
      requestHandler: { requestTimeout: settings.timeoutMs, connectionTimeout: settings.timeoutMs },
    });
  }

  async purge(purge: CachePurge): Promise<void> {
    if (purge.paths.length === 0) return;
    try {
      await this.client.send(
        new CreateInvalidationCommand({
          DistributionId: this.settings.distributionId,
          InvalidationBatch: {
            // Unique per call: a reference CloudFront saw before would return the old invalidation instead of a new one.
            CallerReference: `trove-${randomUUID()}`,
            Paths: { Quantity: purge.paths.length, Items: purge.paths },
          },
        }),
        // The SDK's own timeouts are per socket phase; this bounds the whole call, answer included.
        { abortSignal: AbortSignal.timeout(this.settings.timeoutMs) },
      );
    } catch (error) {
      throw cloudFrontFailure(error);
    }
  }

  close(): void {
    this.client.destroy();
  }
}

function cloudFrontFailure(error: unknown): PurgeError {
  const name = error instanceof Error ? error.name : 'Error';
  const message = error instanceof Error ? error.message : String(error);
  const status = (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
  const busy = name === 'TooManyInvalidationsInProgress' || name === 'Throttling' || status === 429;
  return new PurgeError(`cloudfront ${status ?? ''} ${name}: ${message}`.replace(/\s+/g, ' '), busy ? BUSY_RETRY_MS : null);
}
