/** The dashboard's sign-in API as TypeBox schemas: validation, serialisation and the OpenAPI document. */
import { Type, type Static } from 'typebox';
import { rejects } from '../../schema-errors.js';

export { NoContentSchema } from '../rest/schemas.js';

const text = (name: string, max: number, minLength = 1) =>
  Type.String({ minLength, maxLength: max, ...rejects(`\`${name}\` must be a non-empty string of at most ${max} characters.`) });

/**
 * A project's keys (`pub_key`, `secret_key`), or the admin password (`password`, and optionally the
 * `pub_key` of the project to open). Which of the two a body is, is read after validation.
 */
export const SignInBodySchema = Type.Object(
  {
    password: Type.Optional(text('password', 1024)),
    // Empty with a password: no project chosen yet.
    pub_key: Type.Optional(text('pub_key', 128, 0)),
    secret_key: Type.Optional(text('secret_key', 256)),
  },
  rejects({ type: 'Expected a JSON object: {"pub_key", "secret_key"} or {"password"}.' }),
);
export type SignInBody = Static<typeof SignInBodySchema>;

const PUB_KEY_MESSAGE = '`pub_key` must be a non-empty string of at most 128 characters.';
export const SwitchProjectBodySchema = Type.Object({ pub_key: text('pub_key', 128) }, rejects({ type: PUB_KEY_MESSAGE }));

const ProjectSummarySchema = Type.Object({ pub_key: Type.String(), name: Type.String() }, { title: 'DashboardProject' });

export const SessionInfoSchema = Type.Object(
  {
    admin: Type.Boolean(),
    csrf_token: Type.String({ description: 'Send as X-CSRF-Token with every call made with the session cookie' }),
    expires_at: Type.String({ format: 'date-time' }),
    project: ProjectSummarySchema,
    projects: Type.Array(ProjectSummarySchema, { description: 'Every project for an admin; the session’s own otherwise' }),
  },
  { title: 'DashboardSession' },
);
export type SessionInfo = Static<typeof SessionInfoSchema>;

export const UploadSignatureSchema = Type.Object(
  { signature: Type.String(), expire: Type.Integer({ description: 'Unix time in seconds' }) },
  { title: 'UploadSignature' },
);

/** Trove's own error shape, which the dashboard API answers with. */
const TroveErrorSchema = Type.Object(
  {
    statusCode: Type.Integer(),
    code: Type.String(),
    error: Type.String(),
    message: Type.String(),
    details: Type.Optional(Type.Unknown()),
    requestId: Type.String(),
  },
  { title: 'TroveError' },
);

export const dashboardErrorResponses = { 400: TroveErrorSchema, 401: TroveErrorSchema, 403: TroveErrorSchema, 404: TroveErrorSchema, 409: TroveErrorSchema, 413: TroveErrorSchema, 429: TroveErrorSchema };

