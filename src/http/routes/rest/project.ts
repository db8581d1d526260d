import type { FastifyInstance } from 'fastify';
import { projectOf } from './rest-request.js';
import { restRoute } from './rest-params.js';

/** `GET /project/`: the project the keys belong to. */
export function registerRestProject(app: FastifyInstance): void {
  app.get('/project/', restRoute('Project info'), async (request) => {
    const project = projectOf(request);
    return { name: project.name, pub_key: project.publicKey, autostore_enabled: project.autoStore, collaborators: [] };
  });
}
