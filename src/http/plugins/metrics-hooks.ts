import type { FastifyInstance } from 'fastify';
import type { Metrics } from '../../observability/metrics.js';

/** Counts every answered request by route template (not raw URL, which would explode label cardinality). */
export function registerMetricsHooks(app: FastifyInstance, metrics: Metrics): void {
  app.addHook('onResponse', (request, reply, done) => {
    const route = request.routeOptions.url ?? 'unmatched';
    if (route === '/metrics' || route === '/health' || route === '/ready') return done();
    metrics.http.record(request.method, route, reply.statusCode, reply.elapsedTime / 1000);
    done();
  });
}
