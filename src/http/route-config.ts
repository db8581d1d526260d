/** How a route renders its errors: Uploadcare's Upload API shape, its REST API shape (`{"detail"}`), or Trove's own. */
type ErrorStyle = 'upload' | 'rest' | 'trove';

declare module 'fastify' {
  interface FastifyContextConfig {
    errorStyle?: ErrorStyle;
    /** Upload method for metrics (base, multipart, from_url). */
    uploadMethod?: string;
    /** REST: refusals of the route's schemas are keyed by field (`{"query": ["…"]}`) instead of `{"detail"}`. */
    fieldErrors?: boolean;
    /** REST: the rate limit a call spends; by default GET and HEAD are reads and the rest writes. */
    rateLimit?: 'rest-read' | 'rest-write';
  }
}

export {};
