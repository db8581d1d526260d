import type { FastifyInstance } from 'fastify';
import type { AppContext } from '../../../context.js';

/** Liveness, readiness and metrics: never logged, never rate limited. */
export async function systemRoutes(app: FastifyInstance, options: { ctx: AppContext }): Promise<void> {
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
      const required = await Promise.all([probe('database', () => ctx.metadata.ping()), probe('storage', () => ctx.blobs.ping())]);
      const optional = await Promise.all([
        ...(ctx.redis ? [probe('redis', () => ctx.redis!.ping())] : []),
        probe('jobs', () => ctx.jobs.ping()),
      ]);
      const ok = required.every((c) => c.ok);
      const degraded = !ok || optional.some((c) => !c.ok);
      return reply
        .code(ok ? 200 : 503)
        .send({ status: degraded ? 'degraded' : 'ready', checks: Object.fromEntries([...required, ...optional].map((c) => [c.name, c])) });
    },
  );

  app.get('/metrics', { logLevel: 'silent', schema: { tags: ['System'], summary: 'Prometheus metrics' } }, async (_request, reply) => {
    return reply.type(ctx.metrics.registry.contentType).send(await ctx.metrics.render());
  });
}

async function probe(name: string, check: () => Promise<void>): Promise<{ name: string; ok: boolean; error?: string; ms: number }> {
  const started = performance.now();
  try {
    await withTimeout(check(), 2_000);
    return { name, ok: true, ms: Math.round(performance.now() - started) };
  } catch (error) {
    return { name, ok: false, error: (error as Error).message, ms: Math.round(performance.now() - started) };
  }
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
