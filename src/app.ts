import cors from '@fastify/cors';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import { createServer, type ServerResponse } from 'node:http';
import type { HttpContext, NodeHttpContext } from './http/http-context.js';
import { createFastLane } from './http/delivery/fast-lane.js';
import { ParsedPaths } from './http/delivery/parsed-paths.js';
import { registerErrorHandler } from './http/plugins/error-handler.js';
import { registerLingeringClose } from './http/plugins/lingering-close.js';
import { registerMetricsHooks } from './http/plugins/metrics-hooks.js';
import { SCHEMA_VALIDATION_OPTIONS } from './http/schema-errors.js';
import { deliveryRoutes } from './http/routes/delivery/files.js';
import { internalTransformRoutes } from './http/routes/internal/transform.js';
import { systemRoutes } from './http/routes/system/system.js';
import { uploadApiRoutes } from './http/routes/upload/index.js';
import { restApiRoutes } from './http/routes/rest/index.js';
import { dashboardRoutes } from './http/routes/dashboard/index.js';
import { widgetRoutes } from './http/routes/web/widget.js';
import { loggerOptions } from './observability/logger.js';
import { WebAssets } from './web/web-assets.js';

interface BuildAppOptions {
  /** false in tests that do not want log output. */
  logger?: boolean;
  /** The process's pino logger, shared with the services. */
  loggerInstance?: FastifyBaseLogger;
}

/** An answer given before Fastify sees the request, in Trove's own error shape. */
function answerBare(response: ServerResponse, statusCode: number, code: string, error: string, message: string): void {
  const body = JSON.stringify({ statusCode, code, error, message });
  response.writeHead(statusCode, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(body) });
  response.end(body);
}

/**
 * Builds the HTTP application for the roles in the configuration, without listening: tests inject into
 * it. It sees services only.
 */
export async function buildApp(node: HttpContext | NodeHttpContext, options: BuildAppOptions = {}): Promise<FastifyInstance> {
  const { config } = node;
  // A transform-only node has no services: it serves the system routes and its endpoint alone.
  const ctx = 'services' in node ? node : null;
  const paths = new ParsedPaths(config.transform);
  const fastLane = ctx && config.roles.has('delivery') ? createFastLane(ctx, paths) : null;
  const app = Fastify({
    // Memory hits of transformed images are answered before routing (see fast-lane.ts).
    serverFactory: (handler) => {
      // Node would refuse a missing Host and an unknown Expect itself, with empty bodies; Trove says why.
      const server = createServer({ requireHostHeader: false }, (request, response) => {
        if (request.httpVersion === '1.1' && request.headers.host === undefined) {
          answerBare(response, 400, 'MISSING_HOST', 'Bad Request', 'An HTTP/1.1 request needs a Host header.');
          return;
        }
        if (fastLane?.(request, response)) return;
        handler(request, response);
      });
      // Keep-alive clients (CDNs, SDKs) reuse connections; a little longer than common LB idle timeouts.
      server.keepAliveTimeout = 72_000;
      server.on('checkExpectation', (_request, response) => {
        answerBare(response, 417, 'EXPECTATION_FAILED', 'Expectation Failed', 'The Expect header can only ask for 100-continue.');
      });
      return server;
    },
    ...(options.loggerInstance
      ? { loggerInstance: options.loggerInstance }
      : { logger: options.logger === false ? false : loggerOptions(config) }),
    trustProxy: config.http.trustProxy,
    // One log line per request would cost the delivery hot path more than it tells; errors are logged.
    logController: new LogController({ disableRequestLogging: true }),
    routerOptions: { ignoreTrailingSlash: true, maxParamLength: 2048 },
    requestIdHeader: 'x-request-id',
    ajv: SCHEMA_VALIDATION_OPTIONS,
  });

  registerErrorHandler(app, node.metrics);
  registerLingeringClose(app);
  registerMetricsHooks(app, node.metrics);

  await app.register(cors, {
    origin: config.http.corsOrigins === '*' ? '*' : config.http.corsOrigins,
    methods: ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'],
    allowedHeaders: ['Content-Type', 'X-UC-User-Agent', 'X-Requested-With', 'Range', 'If-None-Match', 'Authorization', 'Accept', 'X-Uploadcare-Date'],
    exposedHeaders: ['ETag', 'Content-Length', 'Content-Range', 'Content-Disposition', 'Accept-Ranges'],
    maxAge: 86_400,
    // An OPTIONS request that is not a full preflight gets the CORS headers like any other, not a
    // bare text/plain 400.
    strictPreflight: false,
  });
  await app.register(swagger, {
    openapi: {
      info: {
        title: 'Trove',
        version: '0.1.0',
        description: 'Self-hostable file infrastructure with an Uploadcare-compatible Upload API and CDN delivery.',
      },
      tags: [
        { name: 'Upload API', description: `Uploadcare Upload API, mounted at ${config.http.uploadPrefix || '/'}` },
        { name: 'REST API', description: `Uploadcare REST API v0.7, mounted at ${config.http.restPrefix || '/'} (send Accept: application/vnd.uploadcare-v0.7+json)` },
        { name: 'Delivery', description: 'Files by uuid' },
        { name: 'System', description: 'Health, readiness, metrics' },
        { name: 'Widget', description: 'The <trove-uploader> web component' },
        { name: 'Dashboard', description: 'The dashboard’s sign-in API (session cookie; send X-CSRF-Token)' },
      ],
    },
  });
  await app.register(swaggerUi, { routePrefix: '/docs' });
  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());

  await app.register(systemRoutes, { ctx: node });
  // Not under any public prefix, and hidden from /openapi.json: only other Trove nodes call it.
  if (node.transformNode) await app.register(internalTransformRoutes, { transformNode: node.transformNode });
  if (!ctx) return app;
  if (config.roles.has('upload')) await app.register(uploadApiRoutes, { ctx, prefix: config.http.uploadPrefix });
  if (config.roles.has('api')) await app.register(restApiRoutes, { ctx, prefix: config.http.restPrefix });
  const webAssets = new WebAssets();
  // The dashboard (api role) embeds the widget too, so nodes of either role serve it.
  if (config.roles.has('upload') || config.roles.has('api')) await app.register(widgetRoutes, { assets: webAssets, config });
  if (config.roles.has('api')) await app.register(dashboardRoutes, { ctx, assets: webAssets });
  if (config.roles.has('delivery')) await app.register(deliveryRoutes, { ctx, paths, prefix: config.http.deliveryPrefix });
  return app;
}
