/** How a route renders its errors: Uploadcare's Upload API shape, its REST API shape (`{"detail"}`), or Trove's own. */
type ErrorStyle = 'upload' | 'rest' | 'trove';

declare module 'fastify' {
  interface FastifyContextConfig {
    errorStyle?: ErrorStyle;
    /** Upload method for metrics (base, multipart, from_url). */
    uploadMethod?: string;
  }
}

export {};
