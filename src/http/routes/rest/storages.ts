import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import type { HttpContext } from '../../http-context.js';
import type { ProjectStorage } from '../../../domain/project-storage.js';
import { projectOf } from './rest-request.js';
import { restRoute } from './rest-params.js';
import {
  ErrorDetailSchema,
  NoContentSchema,
  ProjectStorageListSchema,
  ProjectStorageSchema,
  StorageCreateBodySchema,
  StorageParamsSchema,
  restBodyErrorResponses,
  restErrorResponses,
  type RestProjectStorage,
} from './schemas.js';

function toRestStorage(storage: ProjectStorage): RestProjectStorage {
  return {
    name: storage.name,
    bucket: storage.bucket,
    prefix: storage.prefix,
    region: storage.region,
    endpoint: storage.endpoint,
    force_path_style: storage.forcePathStyle,
    pattern: storage.pattern,
    created_at: storage.createdAt,
  };
}

/** `/project/storages/`: the S3-compatible storages remote copies write to (Trove extension). */
export function registerRestStorages(fastify: FastifyInstance, ctx: HttpContext): void {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  const storages = () => ctx.services.storages;

  app.get(
    '/project/storages/',
    restRoute({
      operationId: 'listProjectStorages',
      summary: 'List storages (Trove)',
      description: 'The storages `POST /files/remote_copy/` can copy to, by name. Credentials are never answered.',
      response: { 200: ProjectStorageListSchema, ...restErrorResponses },
    }),
    async (request) => ({ results: (await storages().list(projectOf(request))).map(toRestStorage) }),
  );

  app.post(
    '/project/storages/',
    restRoute({
      operationId: 'createProjectStorage',
      summary: 'Register a storage (Trove)',
      description:
        'Body: `name`, `bucket`, `access_key_id`, `secret_access_key`, and optionally `prefix`, `region` (us-east-1), `endpoint` (an S3-compatible service), `force_path_style`, `pattern`. ' +
        'Trove first writes a small object under the prefix (and deletes it when the credentials may): a storage it cannot write to is refused with 400 naming what failed. ' +
        'The credentials are kept encrypted with the server key; 501 when the server has none. 409 when the name is taken. 201 with the storage.',
      body: StorageCreateBodySchema,
      response: { 201: ProjectStorageSchema, ...restBodyErrorResponses, 409: ErrorDetailSchema, 501: ErrorDetailSchema },
    }),
    async (request, reply) => {
      const body = request.body;
      const created = await storages().register(projectOf(request), {
        name: body.name,
        bucket: body.bucket,
        prefix: body.prefix ?? null,
        region: body.region ?? null,
        endpoint: body.endpoint ?? null,
        forcePathStyle: body.force_path_style ?? null,
        pattern: body.pattern ?? null,
        accessKeyId: body.access_key_id,
        secretAccessKey: body.secret_access_key,
      });
      return reply.code(201).send(toRestStorage(created));
    },
  );

  app.delete(
    '/project/storages/:name/',
    restRoute({
      operationId: 'deleteProjectStorage',
      summary: 'Remove a storage (Trove)',
      description: '204. Objects already copied stay in the bucket; only Trove forgets the storage and its credentials.',
      params: StorageParamsSchema,
      response: { 204: NoContentSchema, ...restErrorResponses },
    }),
    async (request, reply) => {
      await storages().remove(projectOf(request), request.params.name);
      return reply.code(204).send();
    },
  );
}
