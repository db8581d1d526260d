import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { AppContext } from '../../../context.js';
import { uuidParam } from './files.js';
import { projectOf } from './rest-request.js';
import { restRoute } from './rest-params.js';

function keyParam(request: FastifyRequest): string {
  return (request.params as { key?: string }).key ?? '';
}

/** `/files/:uuid/metadata/…`: a file's metadata as a whole and key by key. */
export function registerRestMetadata(app: FastifyInstance, ctx: AppContext): void {
  const files = () => ctx.services.files;

  app.get('/files/:uuid/metadata/', restRoute('File metadata'), async (request) => files().metadata(projectOf(request), uuidParam(request)));

  app.get('/files/:uuid/metadata/:key/', restRoute('One metadata value'), async (request, reply) => {
    const value = await files().metadataValue(projectOf(request), uuidParam(request), keyParam(request));
    // A bare JSON string: Fastify would send a string as text.
    return reply.send(JSON.stringify(value));
  });

  app.put('/files/:uuid/metadata/:key/', restRoute('Set one metadata value', 'Body: the value as a JSON string. 201 when the key is new, 200 when it changed.'), async (request, reply) => {
    const { value, created } = await files().setMetadataValue(projectOf(request), uuidParam(request), keyParam(request), request.body);
    return reply.code(created ? 201 : 200).send(JSON.stringify(value));
  });

  app.delete('/files/:uuid/metadata/:key/', restRoute('Delete one metadata value'), async (request, reply) => {
    await files().deleteMetadataValue(projectOf(request), uuidParam(request), keyParam(request));
    return reply.code(204).send();
  });
}
