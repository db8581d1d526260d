import type { FastifyInstance } from 'fastify';
import type { HttpContext } from '../../http-context.js';
import { registerRestConversion } from './conversion.js';
import { registerRestAddons } from './addons.js';
import { registerRestFiles } from './files.js';
import { registerRestGroups } from './groups.js';
import { registerRestMetadata } from './metadata.js';
import { registerRestProject } from './project.js';
import { registerRestSearch } from './search.js';
import { registerRestStorages } from './storages.js';
import { registerRestWebhooks } from './webhooks.js';
import { registerRestPipeline } from './rest-request.js';

/** Uploadcare's REST API v0.7 (`Accept: application/vnd.uploadcare-v0.7+json`), with Trove's webhook delivery log and project storages. */
export async function restApiRoutes(app: FastifyInstance, options: { ctx: HttpContext }): Promise<void> {
  const { ctx } = options;
  registerRestPipeline(app, ctx);
  registerRestFiles(app, ctx);
  registerRestSearch(app, ctx);
  registerRestMetadata(app, ctx);
  registerRestGroups(app, ctx);
  registerRestProject(app, ctx);
  registerRestStorages(app, ctx);
  registerRestWebhooks(app, ctx);
  registerRestConversion(app, ctx);
  registerRestAddons(app, ctx);
}
