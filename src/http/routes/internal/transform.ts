import type { FastifyInstance, FastifyRequest } from 'fastify';
import {
  INTERNAL_REFUSAL_HEADER,
  INTERNAL_SIGNATURE_HEADER,
  INTERNAL_TIMESTAMP_HEADER,
  INTERNAL_TRANSFORM_PATH,
} from '../../../domain/internal-signature.js';
import { AppError } from '../../../errors.js';
import { MAX_TRANSFORM_JOB_BYTES, type TransformNodeService } from '../../../services/transform/transform-node.service.js';

function header(request: FastifyRequest, name: string): string | undefined {
  const value = request.headers[name];
  return typeof value === 'string' ? value : undefined;
}

/**
 * `POST /internal/transform`, the transform role's one route: a signed job in, the derivative's bytes
 * out (its type in Content-Type). The bytes to transform come from the blob store, never from the
 * request. A refusal of the job travels back with its code, status, message and headers (Retry-After)
 * and `X-Trove-Refusal`, so the sending node answers exactly as it would have transforming itself;
 * anything else that is not a 200 tells the sender to try another node.
 */
export async function internalTransformRoutes(app: FastifyInstance, options: { transformNode: TransformNodeService }): Promise<void> {
  const { transformNode } = options;
  // The signature covers the exact bytes, so the body is kept as it came and parsed only once it is checked.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('application/json', { parseAs: 'buffer', bodyLimit: MAX_TRANSFORM_JOB_BYTES }, (_request, body, done) => done(null, body));

  app.post<{ Body: Buffer }>(
    INTERNAL_TRANSFORM_PATH,
    { schema: { hide: true }, bodyLimit: MAX_TRANSFORM_JOB_BYTES, logLevel: 'warn' },
    async (request, reply) => {
      const body = Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0);
      transformNode.authenticate({ timestamp: header(request, INTERNAL_TIMESTAMP_HEADER), signature: header(request, INTERNAL_SIGNATURE_HEADER) }, body);
      const job = transformNode.parseJob(body);
      let output;
      try {
        output = await transformNode.run(job);
      } catch (error) {
        if (!(error instanceof AppError)) throw error;
        return reply
          .code(error.statusCode)
          .headers({ ...(error.headers ?? {}), [INTERNAL_REFUSAL_HEADER]: error.code })
          .type('application/json; charset=utf-8')
          .send({ statusCode: error.statusCode, code: error.code, message: error.message });
      }
      return reply.code(200).type(output.contentType).send(output.data);
    },
  );
}
