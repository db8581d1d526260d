import type { FastifyInstance } from 'fastify';
import type { HttpContext } from '../../http-context.js';
import { registerBaseUpload } from './base.js';
import { registerFromUrlUpload } from './from-url.js';
import { registerGroups } from './group.js';
import { registerFileInfo } from './info.js';
import { registerMultipartUpload } from './multipart.js';

/** The Uploadcare-compatible Upload API, mounted under TROVE_UPLOAD_PREFIX. */
export async function uploadApiRoutes(app: FastifyInstance, options: { ctx: HttpContext }): Promise<void> {
  const { ctx } = options;
  app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string', bodyLimit: 1024 * 1024 }, (_request, body, done) =>
    done(null, new URLSearchParams(typeof body === 'string' ? body : body.toString('utf8'))),
  );
  // Form bodies are read as a stream by the routes themselves (see form-fields.ts), never buffered.
  app.addContentTypeParser('multipart/form-data', (_request, _payload, done) => done(null, undefined));
  registerBaseUpload(app, ctx);
  registerMultipartUpload(app, ctx);
  registerFromUrlUpload(app, ctx);
  registerFileInfo(app, ctx);
  registerGroups(app, ctx);
}
