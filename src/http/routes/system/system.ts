import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import type { NodeHttpContext } from '../../http-context.js';

const HealthSchema = Type.Object({ status: Type.Literal('ok') }, { title: 'Health' });

/** A media engine's state on this node: whether it runs, why not, and what runs it. */
function engineStatus(reason: string, engine: string, description: string) {
  return Type.Object(
    {
      available: Type.Boolean(),
      reason: Type.Optional(Type.String({ description: reason })),
      engine: Type.Optional(Type.String({ description: engine })),
    },
    { description },
  );
}

const ReadinessSchema = Type.Object(
  {
    status: Type.Union([Type.Literal('ready'), Type.Literal('degraded')]),
    checks: Type.Record(
      Type.String(),
      Type.Object({
        name: Type.String(),
        ok: Type.Boolean(),
        error: Type.Optional(Type.String({ description: 'Why the dependency did not answer.' })),
        ms: Type.Number({ description: 'How long the check took.' }),
      }),
    ),
    addons: Type.Record(
      Type.String({ description: 'Add-on name' }),
      Type.Object({
        available: Type.Boolean(),
        reason: Type.Optional(Type.String({ description: 'Why the add-on is unavailable on this server.' })),
        engine: Type.Optional(Type.String({ description: 'What runs it, e.g. `ClamAV 1.4.6 at tcp://127.0.0.1:3310`.' })),
      }),
      { description: 'Every add-on, available or not: one that is not set up here never makes the node unready or degraded.' },
    ),
    video: Type.Optional(
      engineStatus(
        'Why video is unavailable, e.g. `ffprobe: not found`.',
        'What runs it, e.g. `ffmpeg version 5.1.6-0+deb12u1`.',
        'Whether this node reads and converts video (ffmpeg and ffprobe). Unavailable video never makes the node unready or degraded.',
      ),
    ),
    faces: Type.Optional(
      engineStatus(
        'Why face detection is unavailable, e.g. `TROVE_FACE_MODEL=off`.',
        'The model and its worker, e.g. `ssd (worker running, 12 images)`.',
        'Whether this node detects faces (TROVE_FACE_MODEL). Detection that is off or down never makes the node unready or degraded; face operations answer 503.',
      ),
    ),
  },
  { title: 'Readiness' },
);

/** Liveness, readiness and metrics: never logged, never rate limited. */
export async function systemRoutes(app: FastifyInstance, options: { ctx: NodeHttpContext }): Promise<void> {
  const { ctx } = options;
  app.get('/health', { logLevel: 'silent', schema: { tags: ['System'], summary: 'Liveness', response: { 200: HealthSchema } } }, async () => ({ status: 'ok' }));

  app.get(
    '/ready',
    {
      logLevel: 'silent',
      schema: {
        tags: ['System'],
        summary: 'Readiness',
        description:
          'Database and storage reachable: 200, else 503. Redis and the job queue are best effort: when they are down the answer stays 200 (cache hits and uploads keep working) with `status: "degraded"`. `addons` says which add-ons run here and why the others do not; a configured clamd that does not answer degrades the node, an add-on that is not set up does not. `video` says whether ffmpeg and ffprobe run here, and why not; `faces`, which face detector runs here, and why none does.',
        response: { 200: ReadinessSchema, 503: ReadinessSchema },
      },
    },
    async (_request, reply) => {
      const report = await ctx.readiness.check();
      return reply.code(report.ready ? 200 : 503).send({ status: report.status, checks: report.checks, addons: report.addons, ...(report.video ? { video: report.video } : {}), ...(report.faces ? { faces: report.faces } : {}) });
    },
  );

  app.get('/metrics', { logLevel: 'silent', schema: { tags: ['System'], summary: 'Prometheus metrics' } }, async (_request, reply) => {
    return reply.type(ctx.metrics.registry.contentType).send(await ctx.metrics.render());
  });
}
