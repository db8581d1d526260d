import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import type { HttpContext } from '../../http-context.js';
import { projectOf } from './rest-request.js';
import { restRoute } from './rest-params.js';
import {
  AddonExecuteBodySchema,
  AddonExecuteResultSchema,
  AddonParamsSchema,
  AddonStatusQuerySchema,
  AddonStatusSchema,
  ErrorDetailSchema,
  restBodyErrorResponses,
  restErrorResponses,
} from './schemas.js';

/** `/addons/<name>/execute/…`: Uploadcare's add-ons, run as background jobs and polled by request id. */
export function registerRestAddons(fastify: FastifyInstance, ctx: HttpContext): void {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  const addons = () => ctx.services.addons;

  app.post(
    '/addons/:name/execute/',
    restRoute({
      operationId: 'executeAddon',
      summary: 'Execute an add-on',
      description:
        '`{"target": "<file uuid>", "params": {…}}` → `{"request_id"}`; the add-on runs in the background and writes its result into the file\'s `appdata`. `uc_clamav_virus_scan` (params: `purge_infected`) runs on the clamd of `TROVE_CLAMD_URL`; without one, and for `aws_rekognition_detect_labels`, `aws_rekognition_detect_moderation_labels` and `remove_bg` (no engine ships with Trove), the answer is 503 naming the add-on. An unknown add-on or a file of another project is 404.',
      params: AddonParamsSchema,
      body: AddonExecuteBodySchema,
      response: { 200: AddonExecuteResultSchema, ...restBodyErrorResponses, 503: ErrorDetailSchema },
    }),
    async (request) => {
      const { requestId } = await addons().execute(projectOf(request), request.params.name, request.body);
      return { request_id: requestId };
    },
  );

  app.get(
    '/addons/:name/execute/status/',
    restRoute({
      operationId: 'getAddonExecutionStatus',
      summary: 'Add-on execution status',
      description:
        '`request_id` → `in_progress`, `done` (the result is in the file\'s `appdata`), `error` (Trove adds `error`: why) or `unknown` (no request of this project for this add-on has that id).',
      params: AddonParamsSchema,
      querystring: AddonStatusQuerySchema,
      response: { 200: AddonStatusSchema, ...restErrorResponses },
    }),
    async (request) => addons().status(projectOf(request), request.params.name, request.query.request_id),
  );
}
