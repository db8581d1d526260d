import type { FastifyInstance } from 'fastify';
import type { HttpContext } from '../../http-context.js';

/** Liveness, readiness and metrics: never logged, never rate limited. */
export async function systemRoutes(app: FastifyInstance, options: { ctx: HttpContext }): Promise<void> {
  const { ctx } = options;
  app.get('/health', { logLevel: 'silent', schema: { tags: ['System'], summary: 'Liveness' } }, async () => ({ status: 'ok' }));

  app.get(
    '/ready',
    {
      logLevel: 'silent',
      schema: {
        tags: ['System'],
        summary: 'Readiness',
        description:
          'Database and storage reachable: 200, else 503. Redis and the job queue are best effort: when they are down the answer stays 200 (cache hits and uploads keep working) with `status: "degraded"`.',
      },
    },
    async (_request, reply) => {
      const report = await ctx.readiness.check();
      return reply.code(report.ready ? 200 : 503).send({ status: report.status, checks: report.checks });
    },
  );

  app.get('/metrics', { logLevel: 'silent', schema: { tags: ['System'], summary: 'Prometheus metrics' } }, async (_request, reply) => {
    return reply.type(ctx.metrics.registry.contentType).send(await ctx.metrics.render());
  });
}
