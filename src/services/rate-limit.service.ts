import { createAppError } from '../errors.js';
import type { RateLimit, RateLimiter } from '../ports/rate-limiter.js';

/** The API classes budgeted separately, as Uploadcare throttles them. */
type RateLimitedKind = 'rest-read' | 'rest-write' | 'upload' | 'delivery-miss';

type RateLimitSettings = Record<RateLimitedKind, RateLimit | null>;

/** Per-project request budgets; a spent budget is a 429 with Retry-After in whole seconds. */
export class RateLimitService {
  constructor(
    private readonly limiter: RateLimiter,
    private readonly settings: RateLimitSettings,
  ) {}

  async check(projectId: string, kind: RateLimitedKind): Promise<void> {
    const limit = this.settings[kind];
    if (!limit) return;
    const decision = await this.limiter.take(`${projectId}:${kind}`, limit);
    if (decision.allowed) return;
    const seconds = Math.max(1, Math.ceil(decision.retryAfterMs / 1000));
    throw createAppError('THROTTLED', 429, `Request was throttled. Expected available in ${seconds} second${seconds === 1 ? '' : 's'}.`, {
      headers: { 'retry-after': String(seconds) },
    });
  }
}
