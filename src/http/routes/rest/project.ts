import type { FastifyInstance } from 'fastify';
import type { AppContext } from '../../../context.js';
import type { Project, SecretKey } from '../../../domain/project.js';
import { createAppError } from '../../../errors.js';
import type { ProjectSettingsPatch } from '../../../ports/repositories.js';
import { bodyObject } from './files.js';
import { projectOf } from './rest-request.js';
import { queryOf, restRoute } from './rest-params.js';

function toRestProject(project: Project) {
  return {
    name: project.name,
    pub_key: project.publicKey,
    autostore_enabled: project.autoStore,
    collaborators: [],
    // Trove extensions: the upload rules the dashboard edits.
    signed_uploads: project.signedUploads,
    max_file_size: project.maxFileSize,
    allowed_mime_types: project.allowedMimeTypes,
  };
}

function toRestSecret(key: SecretKey) {
  return { id: key.id, hint: `…${key.secret.slice(-4)}`, created_at: key.createdAt };
}

const MIME_RULE = /^([a-z0-9][a-z0-9!#$&^_.+-]{0,63}\/(\*|[a-z0-9][a-z0-9!#$&^_.+-]{0,126})|\*\/\*)$/;
const SETTINGS = ['name', 'autostore_enabled', 'signed_uploads', 'max_file_size', 'allowed_mime_types'];

/** The body of `PUT /project/`, checked field by field. */
export function parseProjectPatch(body: unknown, serverMaxFileSize: number): ProjectSettingsPatch {
  const input = bodyObject(body);
  const unknown = Object.keys(input).filter((key) => !SETTINGS.includes(key));
  if (unknown.length > 0) throw createAppError('PARAMETER_INVALID', 400, `Unknown setting ${unknown.map((k) => `\`${k}\``).join(', ')}; settable: ${SETTINGS.join(', ')}.`);
  const patch: ProjectSettingsPatch = {};
  if ('name' in input) {
    const name = typeof input.name === 'string' ? input.name.trim() : '';
    if (name.length < 1 || name.length > 100) throw createAppError('PARAMETER_INVALID', 400, '`name` must be a string of 1–100 characters.');
    patch.name = name;
  }
  for (const [field, key] of [['autostore_enabled', 'autoStore'], ['signed_uploads', 'signedUploads']] as const) {
    if (!(field in input)) continue;
    if (typeof input[field] !== 'boolean') throw createAppError('PARAMETER_INVALID', 400, `\`${field}\` must be true or false.`);
    patch[key] = input[field];
  }
  if ('max_file_size' in input) {
    const size = input.max_file_size;
    if (size !== null && (typeof size !== 'number' || !Number.isSafeInteger(size) || size < 1 || size > serverMaxFileSize)) {
      throw createAppError('PARAMETER_INVALID', 400, `\`max_file_size\` must be null or a whole number of bytes from 1 to ${serverMaxFileSize} (the server's limit).`);
    }
    patch.maxFileSize = size;
  }
  if ('allowed_mime_types' in input) {
    const types = input.allowed_mime_types;
    if (types !== null) {
      if (!Array.isArray(types) || types.length > 100 || types.some((type) => typeof type !== 'string' || !MIME_RULE.test(type))) {
        throw createAppError('PARAMETER_INVALID', 400, '`allowed_mime_types` must be null or an array of up to 100 MIME types such as "image/*" or "application/pdf".');
      }
    }
    patch.allowedMimeTypes = types === null || (types as string[]).length === 0 ? null : [...new Set(types as string[])];
  }
  return patch;
}

/** `/project/`: the project the keys belong to, its settings, secret keys and usage (Trove extensions but the first). */
export function registerRestProject(app: FastifyInstance, ctx: AppContext): void {
  app.get('/project/', restRoute('Project info'), async (request) => toRestProject(projectOf(request)));

  app.put('/project/', restRoute('Change project settings (Trove)', 'Any of `name`, `autostore_enabled`, `signed_uploads`, `max_file_size` (bytes or null), `allowed_mime_types` (array or null).'), async (request) => {
    const patch = parseProjectPatch(request.body, ctx.config.upload.maxFileSize);
    const updated = await ctx.services.projects.update(projectOf(request).publicKey, patch);
    return toRestProject(updated);
  });

  app.get('/project/secrets/', restRoute('List secret keys (Trove)', 'Active keys, each with the last four characters as a hint; a secret is shown only when created.'), async (request) => {
    const keys = await ctx.services.projects.listSecrets(projectOf(request).publicKey);
    return { results: keys.map(toRestSecret) };
  });

  app.post('/project/secrets/', restRoute('Create a secret key (Trove)', 'Answers 201 with the new secret: the only time it is shown.'), async (request, reply) => {
    const key = await ctx.services.projects.addSecret(projectOf(request).publicKey);
    return reply.code(201).send({ id: key.id, secret: key.secret, created_at: key.createdAt });
  });

  app.delete('/project/secrets/:id/', restRoute('Revoke a secret key (Trove)', '204; 409 for the last active key, so a project can always be reached.'), async (request, reply) => {
    const id = (request.params as { id: string }).id;
    await ctx.services.projects.revokeSecret(projectOf(request).publicKey, id, { keepOne: true });
    return reply.code(204).send();
  });

  app.get('/project/usage/', restRoute('Usage over time (Trove)', '`days` (1–366, default 30): files and bytes, and per UTC day uploads, deliveries, cache hits and misses.'), async (request) => {
    const raw = queryOf(request).days;
    const days = raw === undefined || raw === '' ? 30 : /^\d{1,3}$/.test(raw) ? Number(raw) : NaN;
    if (!(days >= 1 && days <= 366)) throw createAppError('PARAMETER_INVALID', 400, '`days` must be an integer from 1 to 366.');
    return ctx.services.usage.report(projectOf(request).id, days);
  });
}
