import { parseGif2VideoPath, type Gif2VideoRequest } from '../../domain/transform/gif2video.js';
import type { DeliveryPlan } from '../../domain/transform/operations.js';
import { parseUploadcarePath, type ParseLimits } from '../../domain/transform/uploadcare-parser.js';
import { LruCache } from '../../lib/lru-cache.js';

/**
 * Delivery URL tails (`-/resize/800x/…`) parsed once each: a popular URL costs a map lookup, and
 * its plan object is reused, so its hash is computed once too.
 */
export class ParsedPaths {
  private readonly cache = new LruCache<string, DeliveryPlan>(10_000);
  private readonly gif2video = new LruCache<string, Gif2VideoRequest>(1_000);

  constructor(private readonly limits: ParseLimits) {}

  /** Parses (throwing a 400 AppError for a bad URL) or returns the cached plan. */
  parse(rest: string): DeliveryPlan {
    let plan = this.cache.get(rest);
    if (!plan) {
      plan = parseUploadcarePath(rest, this.limits);
      this.cache.set(rest, plan);
    }
    return plan;
  }

  /** A `gif2video/…` tail (see `isGif2VideoPath`), parsed once; throws a 400 AppError for a bad one. */
  parseGif2Video(rest: string): Gif2VideoRequest {
    let request = this.gif2video.get(rest);
    if (!request) {
      request = parseGif2VideoPath(rest, this.limits);
      this.gif2video.set(rest, request);
    }
    return request;
  }

  /** Only what was parsed before; never parses (the fast lane must not throw or do work). */
  peek(rest: string): DeliveryPlan | undefined {
    return this.cache.get(rest);
  }
}
