import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import type { HttpContext } from '../../http-context.js';
import type { Project, SecretKey } from '../../../domain/project.js';
import type { ProjectSettingsPatch } from '../../../services/project.service.js';
import { projectOf } from './rest-request.js';
import { limitOf, restRoute } from './rest-params.js';
import {
  NewSecretSchema,
  NoContentSchema,
  ProjectSchema,
  SecretListSchema,
  SecretParamsSchema,
  UsageQuerySchema,
  UsageReportSchema,
  projectPatchBodySchema,
  restBodyErrorResponses,
  restErrorResponses,
  ErrorDetailSchema,
  type ProjectPatchBody,
  type RestProject,
} from './schemas.js';

function toRestProject(project: Project, region: string): RestProject {
  return {
    name: project.name,
    pub_key: project.publicKey,
    autostore_enabled: project.autoStore,
    collaborators: [],
    // Trove extensions: the upload rules the dashboard edits.
    signed_uploads: project.signedUploads,
    max_file_size: project.maxFileSize,
    allowed_mime_types: project.allowedMimeTypes,
    scan_on_upload: project.scanOnUpload,
    purge_infected: project.purgeInfected,
    region,
  };
}

function toRestSecret(key: SecretKey) {
  return { id: key.id, hint: `…${key.secret.slice(-4)}`, created_at: key.createdAt };
}

/** The body of `PUT /project/`, accepted by its schema, as the settings it changes. */
export function toSettingsPatch(body: ProjectPatchBody): ProjectSettingsPatch {
  const patch: ProjectSettingsPatch = {};
  if (body.name !== undefined) patch.name = body.name.trim();
  if (body.autostore_enabled !== undefined) patch.autoStore = body.autostore_enabled;
  if (body.signed_uploads !== undefined) patch.signedUploads = body.signed_uploads;
  if (body.scan_on_upload !== undefined) patch.scanOnUpload = body.scan_on_upload;
  if (body.purge_infected !== undefined) patch.purgeInfected = body.purge_infected;
  if (body.max_file_size !== undefined) patch.maxFileSize = body.max_file_size;
  if (body.allowed_mime_types !== undefined) {
    const types = body.allowed_mime_types;
    patch.allowedMimeTypes = types === null || types.length === 0 ? null : [...new Set(types)];
  }
  return patch;
}

/** `/project/`: the project the keys belong to, its settings, secret keys and usage (Trove extensions but the first). */
export function registerRestProject(fastify: FastifyInstance, ctx: HttpContext): void {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  const projects = () => ctx.services.projects;
  const restProject = async (project: Project) => toRestProject(project, await ctx.services.regions.regionOf(project.shard));

  app.get(
    '/project/',
    restRoute({ operationId: 'getProject', summary: 'Project info', response: { 200: ProjectSchema, ...restErrorResponses } }),
    async (request) => restProject(projectOf(request)),
  );

  app.put(
    '/project/',
    restRoute({
      operationId: 'updateProject',
      summary: 'Change project settings (Trove)',
      description:
        'Any of `name`, `autostore_enabled`, `signed_uploads`, `max_file_size` (bytes or null), `allowed_mime_types` (array or null), `scan_on_upload`, `purge_infected`. Turning `scan_on_upload` on needs the uc_clamav_virus_scan add-on on this server (503 otherwise).',
      body: projectPatchBodySchema(ctx.config.upload.maxFileSize),
      response: { 200: ProjectSchema, ...restBodyErrorResponses, 503: ErrorDetailSchema },
    }),
    async (request) => {
      const patch = toSettingsPatch(request.body);
      // Every upload would be held forever by a scan that cannot run here.
      if (patch.scanOnUpload === true) ctx.services.addons.requireVirusScanner();
      return restProject(await projects().update(projectOf(request).publicKey, patch));
    },
  );

  app.get(
    '/project/secrets/',
    restRoute({
      operationId: 'listSecretKeys',
      summary: 'List secret keys (Trove)',
      description: 'Active keys, each with the last four characters as a hint; a secret is shown only when created.',
      response: { 200: SecretListSchema, ...restErrorResponses },
    }),
    async (request) => ({ results: (await projects().listSecrets(projectOf(request).publicKey)).map(toRestSecret) }),
  );

  app.post(
    '/project/secrets/',
    restRoute({
      operationId: 'createSecretKey',
      summary: 'Create a secret key (Trove)',
      description: 'Answers 201 with the new secret: the only time it is shown.',
      response: { 201: NewSecretSchema, ...restErrorResponses },
    }),
    async (request, reply) => {
      const key = await projects().addSecret(projectOf(request).publicKey);
      return reply.code(201).send({ id: key.id, secret: key.secret, created_at: key.createdAt });
    },
  );

  app.delete(
    '/project/secrets/:id/',
    restRoute({
      operationId: 'revokeSecretKey',
      summary: 'Revoke a secret key (Trove)',
      description: '204; 409 for the last active key, so a project can always be reached.',
      params: SecretParamsSchema,
      response: { 204: NoContentSchema, ...restErrorResponses, 409: ErrorDetailSchema },
    }),
    async (request, reply) => {
      await projects().revokeSecret(projectOf(request).publicKey, request.params.id, { keepOne: true });
      return reply.code(204).send();
    },
  );

  app.get(
    '/project/usage/',
    restRoute({
      operationId: 'getUsage',
      summary: 'Usage over time (Trove)',
      description: '`days` (1–366, default 30): files and bytes, and per UTC day uploads, deliveries, cache hits and misses.',
      querystring: UsageQuerySchema,
      response: { 200: UsageReportSchema, ...restErrorResponses },
    }),
    async (request) => ctx.services.usage.report(projectOf(request).id, limitOf(request.query.days, 30)),
  );
}
