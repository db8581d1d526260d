import type { FastifyInstance } from 'fastify';
import type { Metrics } from '../../observability/metrics.js';

/** Counts every answered request by route template (not raw URL, which would explode label cardinality). */
export function registerMetricsHooks(app: FastifyInstance, metrics: Metrics): void {
  app.addHook('onResponse', (request, reply, done) => {
    const route = request.routeOptions.url ?? 'unmatched';
    if (route === '/metrics' || route === '/health' || route === '/ready') return done();
    metrics.httpRequests.inc({ method: request.method, route, status: String(reply.statusCode) });
    metrics.httpDuration.observe({ method: request.method, route }, reply.elapsedTime / 1000);
    done();
  });
}
