import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { acceptsRestV07 } from '../../domain/rest-auth.js';
import { AppError } from '../../errors.js';
import type { Metrics } from '../../observability/metrics.js';
import '../route-config.js';
import { fieldErrorsAt, fieldPathOf, refusalFor } from '../schema-errors.js';

const STATUS_TEXT: Record<number, string> = {
  400: 'Bad Request',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  409: 'Conflict',
  413: 'Payload Too Large',
  415: 'Unsupported Media Type',
  416: 'Range Not Satisfiable',
  429: 'Too Many Requests',
  500: 'Internal Server Error',
  501: 'Not Implemented',
  502: 'Bad Gateway',
  503: 'Service Unavailable',
};

const REQUEST_PARTS = { body: 'body', querystring: 'query', params: 'params', headers: 'headers' } as const;

/**
 * A request its route schema refused, answered with the message and status the schema gives for
 * that failure (see schema-errors.ts); null for a schema that gives none.
 */
function fromSchemaRefusal(error: FastifyError, request: FastifyRequest): AppError | null {
  const part = error.validationContext;
  const issue = error.validation?.[0];
  if (!issue || !part || !(part in REQUEST_PARTS)) return null;
  const schema = (request.routeOptions.schema as Record<string, unknown> | undefined)?.[part];
  const refusal = refusalFor(schema, issue, request[REQUEST_PARTS[part]]);
  if (!refusal) return null;
  if (refusal.status === 400 && request.routeOptions.config?.fieldErrors) {
    return new AppError('PARAMETER_INVALID', 400, refusal.message, { fields: fieldErrorsAt(fieldPathOf(issue), refusal.message) });
  }
  return refusal.status === 404 ? new AppError('NOT_FOUND', 404, refusal.message) : new AppError('PARAMETER_INVALID', 400, refusal.message);
}

/** Errors thrown by Fastify itself (body parsing, validation), translated into what a client can act on. */
function fromFrameworkError(error: FastifyError, request: FastifyRequest): AppError | null {
  switch (error.code) {
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return new AppError('PostRequestParserFailedError', 415, `Unsupported Content-Type: ${error.message}`);
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return new AppError('RequestSizeLimitExceededError', 413, 'Request body is too large.');
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
      return new AppError('PostRequestParserFailedError', 400, 'Request body is not valid JSON.');
    default:
      break;
  }
  if (error.validation) {
    return fromSchemaRefusal(error, request) ?? new AppError('RequestParamRequiredError', 400, error.message);
  }
  if (typeof error.statusCode === 'number' && error.statusCode >= 400 && error.statusCode < 500) {
    return AppError.fromFramework(error.code, error.statusCode, error.message);
  }
  return null;
}

const UNAVAILABLE_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENOTFOUND', 'EAI_AGAIN', 'SQLITE_BUSY', '57P01', '57P02', '57P03', '53300']);

/**
 * A dependency (database, object storage) that cannot be reached is the server's trouble, not the
 * client's, and usually passes: 503 with Retry-After, so SDKs retry instead of giving up.
 */
function fromDependencyOutage(error: Error & { code?: unknown; name?: string }): AppError | null {
  const code = typeof error.code === 'string' ? error.code : undefined;
  const unreachable =
    error.name === 'JobQueueUnavailableError' ||
    (code !== undefined && UNAVAILABLE_CODES.has(code)) ||
    /Connection terminated|timeout exceeded when trying to connect|Client has encountered a connection error|connect ECONNREFUSED/i.test(
      error.message,
    );
  if (!unreachable) return null;
  return new AppError('ServiceUnavailable', 503, 'A storage service Trove depends on is unavailable; nothing was saved. Try again shortly.', {
    headers: { 'retry-after': '5' },
  });
}

function renderError(request: FastifyRequest, reply: FastifyReply, error: AppError): FastifyReply {
  if (error.headers) void reply.headers(error.headers);
  const style = request.routeOptions.config?.errorStyle ?? 'trove';
  if (style === 'rest') {
    // Uploadcare's REST SDK accepts exactly `application/json`, without a charset parameter.
    const body = error.fields ?? { detail: error.message };
    return reply.code(error.statusCode).header('content-type', 'application/json').send(JSON.stringify(body));
  }
  void reply.code(error.statusCode).type('application/json; charset=utf-8');
  if (style === 'upload') {
    return reply.send({ error: { status_code: error.statusCode, content: error.message, error_code: error.code } });
  }
  return reply.send({
    statusCode: error.statusCode,
    code: error.code,
    error: STATUS_TEXT[error.statusCode] ?? 'Error',
    message: error.message,
    ...(error.details ? { details: error.details } : {}),
    requestId: request.id,
  });
}

export function registerErrorHandler(app: FastifyInstance, metrics: Metrics): void {
  app.setErrorHandler((rawError: FastifyError, request, reply) => {
    // A client that hung up mid-upload surfaces as ECONNRESET/"aborted" from its own request stream:
    // that is not an outage, and nobody is left to read the answer.
    const clientGone = request.raw.aborted || (request.raw.destroyed && !request.raw.complete);
    const known =
      rawError instanceof AppError
        ? rawError
        : clientGone
          ? new AppError('ClientAborted', 400, 'The client closed the connection before the request body was complete; nothing was saved.')
          : (fromDependencyOutage(rawError) ?? fromFrameworkError(rawError, request));
    const method = request.routeOptions.config?.uploadMethod;
    if (known) {
      if (method) metrics.uploadFailures.inc({ method, code: known.code });
      if (known.statusCode === 503) request.log.warn({ err: rawError }, known.message);
      else if (known.statusCode >= 500) request.log.error({ err: rawError }, known.message);
      return renderError(request, reply, known);
    }
    request.log.error({ err: rawError }, 'unhandled error');
    if (method) metrics.uploadFailures.inc({ method, code: 'InternalError' });
    // Unknown errors never leak their message or stack to the client.
    return renderError(
      request,
      reply,
      new AppError('InternalServerError', 500, `Internal server error; quote request id ${request.id} when reporting it.`),
    );
  });

  app.setNotFoundHandler((request, reply) => {
    // A REST client (it asks for the v0.7 media type) gets the REST error shape even where no route matched.
    if (acceptsRestV07(request.headers.accept)) {
      return reply.code(404).header('content-type', 'application/json').send(JSON.stringify({ detail: 'Not found.' }));
    }
    return renderError(request, reply, new AppError('NOT_FOUND', 404, `No route for ${request.method} ${request.url.split('?')[0]}.`));
  });
}
