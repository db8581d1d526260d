import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import type { HttpContext } from '../../http-context.js';
import { projectOf } from './rest-request.js';
import { restRoute } from './rest-params.js';
import {
  FileParamsSchema,
  MetadataKeyParamsSchema,
  MetadataSchema,
  MetadataValueBodySchema,
  MetadataValueSchema,
  NoContentSchema,
  restBodyErrorResponses,
  restErrorResponses,
} from './schemas.js';

/** `/files/:uuid/metadata/…`: a file's metadata as a whole and key by key. */
export function registerRestMetadata(fastify: FastifyInstance, ctx: HttpContext): void {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  const files = () => ctx.services.files;

  app.get(
    '/files/:uuid/metadata/',
    restRoute({ operationId: 'getFileMetadata', summary: 'File metadata', params: FileParamsSchema, response: { 200: MetadataSchema, ...restErrorResponses } }),
    async (request) => files().metadata(projectOf(request), request.params.uuid.toLowerCase()),
  );

  app.get(
    '/files/:uuid/metadata/:key/',
    restRoute({
      operationId: 'getFileMetadataValue',
      summary: 'One metadata value',
      params: MetadataKeyParamsSchema,
      response: { 200: MetadataValueSchema, ...restErrorResponses },
    }),
    async (request, reply) => {
      const value = await files().metadataValue(projectOf(request), request.params.uuid.toLowerCase(), request.params.key);
      // A bare JSON string: Fastify would send a string as text.
      return reply.send(JSON.stringify(value));
    },
  );

  app.put(
    '/files/:uuid/metadata/:key/',
    restRoute({
      operationId: 'setFileMetadataValue',
      summary: 'Set one metadata value',
      description: 'Body: the value as a JSON string. 201 when the key is new, 200 when it changed.',
      params: MetadataKeyParamsSchema,
      body: MetadataValueBodySchema,
      response: { 200: MetadataValueSchema, 201: MetadataValueSchema, ...restBodyErrorResponses },
    }),
    async (request, reply) => {
      const { value, created } = await files().setMetadataValue(projectOf(request), request.params.uuid.toLowerCase(), request.params.key, request.body);
      return reply.code(created ? 201 : 200).send(JSON.stringify(value));
    },
  );

  app.delete(
    '/files/:uuid/metadata/:key/',
    restRoute({
      operationId: 'deleteFileMetadataValue',
      summary: 'Delete one metadata value',
      params: MetadataKeyParamsSchema,
      response: { 204: NoContentSchema, ...restErrorResponses },
    }),
    async (request, reply) => {
      await files().deleteMetadataValue(projectOf(request), request.params.uuid.toLowerCase(), request.params.key);
      return reply.code(204).send();
    },
  );
}
