/**
 * The REST API's requests and answers as TypeBox schemas: Fastify validates requests against them,
 * serialises answers by them, and the OpenAPI document is made from them. Refusals carry Uploadcare's
 * wording through `rejects(…)` (see schema-errors.ts). Shared shapes have a `title`, which names them
 * in generated clients.
 */
import { Type, type Static, type TSchema } from 'typebox';
import { SIMILAR_DEFAULT_DISTANCE, SIMILAR_MAX_DISTANCE } from '../../../domain/image-analysis.js';
import { RestFileSchema, RestGroupSummarySchema } from '../../../domain/rest-file.js';
import { STORAGE_NAME_PATTERN, STORAGE_NAME_RULE } from '../../../domain/project-storage.js';
import { MAX_COPY_PATTERN_LENGTH } from '../../../domain/remote-copy.js';
import { TAG_LIMITS } from '../../../domain/tags.js';
import { MAX_SIGNING_SECRET_LENGTH, MAX_TARGET_URL_LENGTH, WEBHOOK_EVENTS } from '../../../domain/webhook.js';
import { MAX_EAGER_DERIVATIVES } from '../../../services/eager-transform.service.js';
import { MAX_BATCH_UUIDS } from '../../../services/file-management.service.js';
import { rejects } from '../../schema-errors.js';

export { RestFileSchema,  };

// ---------------------------------------------------------------------------------------------
// Answers

export const ErrorDetailSchema = Type.Object({ detail: Type.String({ description: 'What is wrong, in Uploadcare’s wording' }) }, { title: 'ErrorDetail' });

/** The refusals every REST route can give: bad input, credentials, CSRF (dashboard cookie), unknown ids, Accept, rate limits. */
export const restErrorResponses = {
  400: ErrorDetailSchema,
  401: ErrorDetailSchema,
  403: ErrorDetailSchema,
  404: ErrorDetailSchema,
  406: ErrorDetailSchema,
  429: ErrorDetailSchema,
};

/** Routes that read a body refuse one over the size limit too. */
export const restBodyErrorResponses = { ...restErrorResponses, 413: ErrorDetailSchema };

/** A 204: nothing is sent. */
export const NoContentSchema = Type.Unsafe<undefined>({ type: 'null', description: 'No content' });

/** Keyset pagination, Uploadcare style: `next` carries the position in `from`. */
function paginated<Item extends TSchema>(title: string, item: Item) {
  return Type.Object(
    {
      next: Type.Union([Type.String(), Type.Null()], { description: 'URL of the next page; null on the last one' }),
      previous: Type.Null({ description: 'Always null: pages are walked forwards' }),
      total: Type.Integer(),
      per_page: Type.Integer(),
      results: Type.Array(item),
    },
    { title },
  );
}

export const FileListSchema = Type.Object(
  {
    ...paginated('FileList', RestFileSchema).properties,
    totals: Type.Object(
      { stored: Type.Integer(), unstored: Type.Integer(), removed: Type.Integer() },
      { title: 'FileTotals', description: "All the project's files, whatever the filters" },
    ),
  },
  { title: 'FileList' },
);
export type FileList = Static<typeof FileListSchema>;

export const BatchResultSchema = Type.Object(
  {
    status: Type.Literal('ok'),
    problems: Type.Record(Type.String(), Type.String(), { description: 'Per item that was not acted on: `Invalid` or `Missing in the project`' }),
    result: Type.Array(RestFileSchema),
  },
  { title: 'BatchResult' },
);
export type BatchResult = Static<typeof BatchResultSchema>;

export const CopyResultSchema = Type.Object({ type: Type.Literal('file'), result: RestFileSchema }, { title: 'CopyResult' });

export const RemoteCopyResultSchema = Type.Object(
  {
    type: Type.Literal('url'),
    result: Type.String({ description: '`s3://<bucket>/<object key>`' }),
  },
  { title: 'RemoteCopyResult' },
);

export const ProjectStorageSchema = Type.Object(
  {
    name: Type.String({ description: 'What `target` of a remote copy names' }),
    bucket: Type.String(),
    prefix: Type.String({ description: 'Put before every object key (with a `/`); empty for none' }),
    region: Type.String(),
    endpoint: Type.Union([Type.String(), Type.Null()], { description: 'Origin of an S3-compatible service; null for AWS' }),
    force_path_style: Type.Boolean({ description: 'Bucket in the path (`endpoint/bucket/key`) instead of the host name' }),
    pattern: Type.String({ description: 'Object key pattern used when a copy gives none' }),
    created_at: Type.String({ format: 'date-time' }),
  },
  { title: 'ProjectStorage', description: 'A storage; its credentials are never answered' },
);
export type RestProjectStorage = Static<typeof ProjectStorageSchema>;
export const ProjectStorageListSchema = Type.Object({ results: Type.Array(ProjectStorageSchema) }, { title: 'ProjectStorageList' });

export const DerivativesQueuedSchema = Type.Object(
  { status: Type.Literal('queued'), derivatives: Type.Array(Type.String({ description: 'CDN URL of the derivative' })) },
  { title: 'DerivativesQueued' },
);

const GroupMemberSchema = Type.Object(
  { ...RestFileSchema.properties, default_effects: Type.String({ description: 'Operations given with the file in the group' }) },
  { title: 'RestGroupMember' },
);

export const RestGroupSchema = Type.Object(
  {
    ...RestGroupSummarySchema.properties,
    files: Type.Array(Type.Union([GroupMemberSchema, Type.Null()]), { description: 'In group order; null where a file is gone' }),
  },
  { title: 'RestGroup' },
);
export type RestGroup = Static<typeof RestGroupSchema>;

export const GroupListSchema = paginated('GroupList', RestGroupSummarySchema);
export type GroupList = Static<typeof GroupListSchema>;

export const MetadataSchema = Type.Record(Type.String(), Type.String(), { title: 'Metadata' });
export const MetadataValueSchema = Type.String({ description: 'The value, as a JSON string' });

export const WebhookSchema = Type.Object(
  {
    id: Type.Integer(),
    project: Type.String({ description: 'Internal id of the project' }),
    created: Type.String({ format: 'date-time' }),
    updated: Type.String({ format: 'date-time' }),
    event: Type.Enum([...WEBHOOK_EVENTS]),
    target_url: Type.String(),
    is_active: Type.Boolean(),
    signing_secret: Type.Union([Type.String(), Type.Null()]),
    version: Type.String(),
  },
  { title: 'Webhook' },
);
export type RestWebhook = Static<typeof WebhookSchema>;

export const WebhookListSchema = Type.Array(WebhookSchema, { title: 'WebhookList' });

export const WebhookDeliverySchema = Type.Object(
  {
    id: Type.String(),
    webhook_id: Type.Integer(),
    event: Type.String(),
    target_url: Type.String(),
    status: Type.Enum(['pending', 'delivered', 'failed']),
    attempts: Type.Integer(),
    last_status_code: Type.Union([Type.Integer(), Type.Null()]),
    last_error: Type.Union([Type.String(), Type.Null()]),
    created: Type.String({ format: 'date-time' }),
    updated: Type.String({ format: 'date-time' }),
    delivered: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
    payload: Type.Unknown({ description: 'The JSON body sent to the target' }),
    attempt_log: Type.Optional(
      Type.Array(
        Type.Object({
          attempt: Type.Integer(),
          status_code: Type.Union([Type.Integer(), Type.Null()]),
          latency_ms: Type.Integer(),
          error: Type.Union([Type.String(), Type.Null()]),
          created: Type.String({ format: 'date-time' }),
        }),
        { description: 'In the delivery log: every attempt' },
      ),
    ),
  },
  { title: 'WebhookDelivery' },
);
export type RestWebhookDelivery = Static<typeof WebhookDeliverySchema>;

export const DeliveryLogSchema = Type.Object({ results: Type.Array(WebhookDeliverySchema) }, { title: 'DeliveryLog' });

export const ProjectSchema = Type.Object(
  {
    name: Type.String(),
    pub_key: Type.String(),
    autostore_enabled: Type.Boolean(),
    collaborators: Type.Array(Type.Unknown(), { description: 'Always empty: Trove has no user accounts' }),
    signed_uploads: Type.Boolean({ description: 'Trove extension' }),
    max_file_size: Type.Union([Type.Integer(), Type.Null()], { description: 'Trove extension: bytes; null for the server limit' }),
    allowed_mime_types: Type.Union([Type.Array(Type.String()), Type.Null()], { description: 'Trove extension: null allows every type' }),
    scan_on_upload: Type.Boolean({ description: 'Trove extension: every new upload is scanned for viruses and not delivered until found clean' }),
    purge_infected: Type.Boolean({ description: 'Trove extension: an upload the scan finds infected is deleted (otherwise kept, never delivered)' }),
    region: Type.String({ description: 'Trove extension: the region whose storage and shard hold the project’s files' }),
  },
  { title: 'Project' },
);
export type RestProject = Static<typeof ProjectSchema>;

const SecretHintSchema = Type.Object(
  { id: Type.String(), hint: Type.String({ description: '`…` and the last four characters' }), created_at: Type.String({ format: 'date-time' }) },
  { title: 'SecretKeyHint' },
);
export const SecretListSchema = Type.Object({ results: Type.Array(SecretHintSchema) }, { title: 'SecretKeyList' });
export const NewSecretSchema = Type.Object(
  { id: Type.String(), secret: Type.String({ description: 'Shown this once' }), created_at: Type.String({ format: 'date-time' }) },
  { title: 'NewSecretKey' },
);

export const UsageReportSchema = Type.Object(
  {
    files: Type.Object({ stored: Type.Integer(), unstored: Type.Integer(), removed: Type.Integer() }),
    bytes: Type.Object({ stored: Type.Integer(), unstored: Type.Integer() }),
    days: Type.Array(
      Type.Object({
        date: Type.String({ format: 'date' }),
        uploads: Type.Integer(),
        upload_bytes: Type.Integer(),
        deliveries: Type.Integer(),
        cache_hits: Type.Integer(),
        cache_misses: Type.Integer(),
      }),
      { description: 'One per UTC day, oldest first' },
    ),
    cache_hit_ratio: Type.Union([Type.Number(), Type.Null()], { description: 'null when no transformed image was delivered' }),
  },
  { title: 'UsageReport' },
);

// ---------------------------------------------------------------------------------------------
// Path parameters: an id that cannot exist names nothing, so it is a 404 like an unknown one.

const NOT_FOUND = rejects('Not found.', 404);
const ANY_CASE_UUID = '^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$';
const UUID = '[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}';
const GROUP_ID = `${UUID}~[1-9][0-9]{0,5}`;

const fileUuid = Type.String({ pattern: ANY_CASE_UUID, description: 'File uuid (any case)' });
export const FileParamsSchema = Type.Object({ uuid: fileUuid }, NOT_FOUND);
export const MetadataKeyParamsSchema = Type.Object({ uuid: fileUuid, key: Type.String({ description: '1–64 of `A-Z a-z 0-9 _ - . :`' }) }, NOT_FOUND);
export const GroupParamsSchema = Type.Object({ id: Type.String({ pattern: `^${GROUP_ID}$`, description: '`<uuid>~<number of files>`' }) }, NOT_FOUND);
const webhookId = Type.String({ pattern: '^[0-9]{1,15}$', description: 'Webhook id' });
export const WebhookParamsSchema = Type.Object({ id: webhookId }, NOT_FOUND);
export const DeliveryParamsSchema = Type.Object({ id: webhookId, delivery: Type.String({ description: 'Delivery id' }) }, NOT_FOUND);
export const SecretParamsSchema = Type.Object({ id: Type.String({ description: 'Secret key id' }) }, NOT_FOUND);
export const StorageParamsSchema = Type.Object(
  { name: Type.String({ pattern: STORAGE_NAME_PATTERN, description: 'Storage name' }) },
  rejects('This project has no storage of this name.', 404),
);

// ---------------------------------------------------------------------------------------------
// Query strings. Values are strings (a repeated parameter counts by its last value); an empty one
// means "not given". Patterns check the syntax; rest-params.ts turns accepted values into typed ones.

/** An ISO 8601 date or date-time; the `+` of an offset may arrive decoded as a space. */
const ISO_DATE = '[0-9]{4}-[0-9]{2}-[0-9]{2}(T[0-9:.]+(Z|[+ -][0-9]{2}:?[0-9]{2})?)?';
const dateMessage = (name: string) => `\`${name}\` must be an ISO 8601 date-time, e.g. 2026-01-31T12:00:00Z.`;
const isoDate = (name: string, description: string) => Type.Optional(Type.String({ pattern: `^(${ISO_DATE})?$`, description, ...rejects(dateMessage(name)) }));

/** `from`: a date-time (inclusive), or the cursor of a `next` link, `<date-time>~<id>` (after that item). */
const fromCursor = (id: string) =>
  Type.Optional(
    Type.String({
      pattern: `^(${ISO_DATE}(~${id})?)?$`,
      description: 'An ISO 8601 date-time (inclusive), or the cursor of a `next` link',
      ...rejects(dateMessage('from')),
    }),
  );

const oneOf = <const V extends string[]>(values: V, message: string, description?: string) =>
  Type.Optional(Type.Enum(values, { ...rejects(message), ...(description ? { description } : {}) }));

const booleanParam = (name: string) => oneOf(['', 'true', 'false', '1', '0'], `\`${name}\` should be \`true\` or \`false\`.`);
const ordering = (field: string) => oneOf(['', field, `-${field}`], `\`ordering\` must be \`${field}\` or \`-${field}\`.`, `\`${field}\` (default) or \`-${field}\``);

/** 1–1000 in at most 7 digits, leading zeros allowed. */
const pageLimit = Type.Optional(
  Type.String({ pattern: '^(0{0,6}([1-9][0-9]{0,2}|1000))?$', maxLength: 7, description: '1–1000, default 100', ...rejects('`limit` must be an integer from 1 to 1000.') }),
);

/** `image/*` or `application/pdf`; upper case is read as lower case. */
const MIME = '[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,63}/(\\*|[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,126})';
/** Printable, no commas: a tag's characters; surrounding space is trimmed. */
const TAG_CHAR = '[^,\\x00-\\x1f\\x7f]';
const TAG_EDGE = '[^\\s,\\x00-\\x1f\\x7f]';

export const FileListQuerySchema = Type.Object({
  // In the order the checks ran before they were declared here, so the first bad parameter named stays the same.
  search: Type.Optional(
    Type.String({
      // At most 200 characters once trimmed.
      pattern: '^\\s*(\\S([\\s\\S]{0,198}\\S)?)?\\s*$',
      description: 'Trove: words in the filename, metadata or tags',
      ...rejects('`search` must be at most 200 characters.'),
    }),
  ),
  tag: Type.Optional(
    Type.String({
      pattern: `^\\s*(${TAG_EDGE}(${TAG_CHAR}{0,${TAG_LIMITS.maxLength - 2}}${TAG_EDGE})?)?\\s*$`,
      description: 'Trove: files with this tag (lowercased and trimmed, as tags are stored)',
      ...rejects(`\`tag\` must be 1–${TAG_LIMITS.maxLength} printable characters without commas.`),
    }),
  ),
  mime_type: Type.Optional(
    Type.String({
      pattern: `^[\\s,]*(${MIME}\\s*(,[\\s,]*|$)){0,20}$`,
      description: 'Trove: up to 20 comma-separated MIME types or `type/*` prefixes',
      ...rejects('`mime_type` must be up to 20 comma-separated MIME types or `type/*` prefixes, e.g. image/*,application/pdf.'),
    }),
  ),
  to: isoDate('to', 'Trove: uploaded before'),
  since: isoDate('since', 'Trove: uploaded at or after'),
  stored: booleanParam('stored'),
  removed: booleanParam('removed'),
  ordering: ordering('datetime_uploaded'),
  from: Type.Optional(
    Type.String({
      // With `similar_to`, the cursor of a `next` link is `<distance>~<uuid>` instead.
      pattern: `^(${ISO_DATE}(~${UUID})?|[0-9]{1,2}~${UUID})?$`,
      description: 'An ISO 8601 date-time (inclusive), or the cursor of a `next` link',
      ...rejects(dateMessage('from')),
    }),
  ),
  limit: pageLimit,
  include: Type.Optional(Type.String({ description: '`appdata` adds each file\'s application data (`{}` when no add-on wrote any)' })),
  similar_to: Type.Optional(
    Type.String({
      pattern: `^(${ANY_CASE_UUID.slice(1, -1)})?$`,
      description: `Trove: the uuid of an analysed image of the project; lists its images within \`distance\`, nearest first`,
      ...rejects('`similar_to` must be the uuid of a file, e.g. 0f8c1e2a-5b7d-4c3e-9a1f-2b3c4d5e6f70.'),
    }),
  ),
  distance: Type.Optional(
    Type.String({
      // The range is checked by the service, with the same message.
      pattern: '^[0-9]{0,3}$',
      description: `Trove, with \`similar_to\`: the largest Hamming distance between perceptual hashes, 0–${SIMILAR_MAX_DISTANCE} (default ${SIMILAR_DEFAULT_DISTANCE})`,
      ...rejects(`\`distance\` must be an integer from 0 to ${SIMILAR_MAX_DISTANCE}.`),
    }),
  ),
});
export type FileListQuery = Static<typeof FileListQuerySchema>;

export const FileInfoQuerySchema = Type.Object({
  include: Type.Optional(Type.String({ description: '`appdata` adds the file\'s application data (`{}` when no add-on wrote any)' })),
});

export const GroupListQuerySchema = Type.Object({
  limit: pageLimit,
  ordering: ordering('datetime_created'),
  from: fromCursor(GROUP_ID),
});

/** A conversion token as Trove makes them: a positive integer below 2^48 (at most 15 digits). */
const CONVERSION_TOKEN = '[1-9][0-9]{0,14}';

export const VideoConversionListQuerySchema = Type.Object({
  source: Type.Optional(
    Type.String({
      pattern: `^(${ANY_CASE_UUID.slice(1, -1)})?$`,
      description: 'The uuid of the source file (any case); absent: every conversion of the project',
      ...rejects('`source` must be the uuid of a file, e.g. 0f8c1e2a-5b7d-4c3e-9a1f-2b3c4d5e6f70.'),
    }),
  ),
  limit: pageLimit,
  from: Type.Optional(
    Type.String({
      pattern: `^(${ISO_DATE}(~${CONVERSION_TOKEN})?)?$`,
      description: 'An ISO 8601 date-time (conversions created then or earlier), or the cursor of a `next` link',
      ...rejects(dateMessage('from')),
    }),
  ),
});

export const DeliveryLogQuerySchema = Type.Object({
  limit: Type.Optional(Type.String({ pattern: '^0*([1-9][0-9]?|100)$', description: '1–100, default 50', ...rejects('`limit` must be an integer from 1 to 100.') })),
  before: Type.Optional(Type.String({ description: 'A `created` time: older deliveries only (ignored unless a date)' })),
});

export const UsageQuerySchema = Type.Object({
  days: Type.Optional(
    Type.String({
      pattern: '^(0{0,2}([1-9][0-9]?|[12][0-9]{2}|3[0-5][0-9]|36[0-6]))?$',
      maxLength: 3,
      description: '1–366, default 30',
      ...rejects('`days` must be an integer from 1 to 366.'),
    }),
  ),
});

// ---------------------------------------------------------------------------------------------
// Bodies. A JSON object body may be left out (or be `null`): it then reads as `{}`.

const EXPECTED_OBJECT = rejects({ type: 'Expected JSON object.' });

export const BatchBodySchema = Type.Array(Type.Unknown({ description: 'A file uuid or CDN URL' }), {
  minItems: 1,
  maxItems: MAX_BATCH_UUIDS,
  ...rejects({
    type: 'Expected list of UUIDs',
    minItems: 'List of UUIDs can not be empty',
    maxItems: `Maximum UUIDs per request is exceeded. The limit is ${MAX_BATCH_UUIDS}`,
  }),
});

const storeFlag = Type.Union([Type.Boolean(), Type.Enum(['true', 'false']), Type.Null()], rejects('`store` parameter should be `true` or `false`.'));

export const LocalCopyBodySchema = Type.Object(
  {
    source: Type.String({
      minLength: 1,
      description: 'A file uuid, or its CDN URL with operations to apply to the copy',
      ...rejects({ required: '`source` parameter is required.', minLength: '`source` parameter is required.', default: 'Bad `source` parameter. Use UUID or CDN URL.' }),
    }),
    store: Type.Optional(storeFlag),
    metadata: Type.Optional(
      Type.Union([Type.Record(Type.String(), Type.String(rejects('Metadata value for "{key}" must be a string.'))), Type.Null()], {
        description: 'Added to the copy of the source’s metadata',
        ...rejects('`metadata` must be an object of string values.'),
      }),
    ),
  },
  EXPECTED_OBJECT,
);

const makePublicFlag = Type.Union([Type.Boolean(), Type.Enum(['true', 'false']), Type.Null()], {
  description: 'Default true: the object gets the `public-read` ACL',
  ...rejects('`make_public` parameter should be `true` or `false`.'),
});

export const RemoteCopyBodySchema = Type.Object(
  {
    source: Type.String({
      minLength: 1,
      description: 'A file uuid, or its CDN URL with operations: the derivative is copied',
      ...rejects({ required: '`source` parameter is required.', minLength: '`source` parameter is required.', default: 'Bad `source` parameter. Use UUID or CDN URL.' }),
    }),
    target: Type.String({
      minLength: 1,
      description: 'Name of a storage of the project (see `/project/storages/`)',
      ...rejects({ required: '`target` parameter is required.', minLength: '`target` parameter is required.', default: '`target` must be the name of a storage of this project.' }),
    }),
    make_public: Type.Optional(makePublicFlag),
    pattern: Type.Optional(
      Type.Union([Type.String({ maxLength: MAX_COPY_PATTERN_LENGTH }), Type.Null()], {
        description:
          'Object key, under the storage prefix, from `${default}` (= `${uuid}/${auto_filename}`), `${auto_filename}` (= `${filename}${effects}${ext}`), `${effects}`, `${filename}`, `${uuid}`, `${ext}` and text. Default: the storage’s pattern',
        ...rejects(`Bad \`pattern\` parameter: it must be a string of at most ${MAX_COPY_PATTERN_LENGTH} characters such as \${default}.`),
      }),
    ),
  },
  EXPECTED_OBJECT,
);

const STORAGE_FIELDS = ['name', 'bucket', 'prefix', 'region', 'endpoint', 'force_path_style', 'pattern', 'access_key_id', 'secret_access_key'];
const optionalText = (name: string, maxLength: number, description: string) =>
  Type.Optional(
    Type.Union([Type.String({ maxLength }), Type.Null()], { description, ...rejects(`\`${name}\` must be a string of at most ${maxLength} characters.`) }),
  );
const credential = (name: string, description: string) =>
  Type.String({
    minLength: 1,
    maxLength: 1024,
    description,
    ...rejects({ required: `\`${name}\` is required.`, default: `\`${name}\` must be 1–1024 printable ASCII characters without spaces.` }),
  });

export const StorageCreateBodySchema = Type.Object(
  {
    name: Type.String({ pattern: STORAGE_NAME_PATTERN, description: STORAGE_NAME_RULE, ...rejects({ required: '`name` is required.', default: `\`name\` must be ${STORAGE_NAME_RULE}.` }) }),
    bucket: Type.String({ minLength: 3, maxLength: 63, description: 'S3 bucket name', ...rejects({ required: '`bucket` is required.', default: '`bucket` must be an S3 bucket name of 3–63 characters.' }) }),
    prefix: optionalText('prefix', 512, 'Folder the copies go under (no leading or trailing `/` needed)'),
    region: optionalText('region', 64, 'Default us-east-1'),
    endpoint: optionalText('endpoint', 2048, 'http(s) origin of an S3-compatible service (MinIO, R2, Ceph…); omit for AWS'),
    force_path_style: Type.Optional(
      Type.Union([Type.Boolean(), Type.Null()], { description: 'Default false; most S3-compatible services want true', ...rejects('`force_path_style` must be true or false.') }),
    ),
    pattern: optionalText('pattern', MAX_COPY_PATTERN_LENGTH, 'Object key pattern when a copy gives none; default `${default}`'),
    access_key_id: credential('access_key_id', 'Kept encrypted; never answered'),
    secret_access_key: credential('secret_access_key', 'Kept encrypted; never answered'),
  },
  {
    additionalProperties: false,
    ...rejects({ type: 'Expected JSON object.', additionalProperties: `Unknown field {additional}; fields: ${STORAGE_FIELDS.join(', ')}.` }),
  },
);

export const DerivativesBodySchema = Type.Object(
  {
    operations: Type.Array(Type.String(rejects('operations[{key}] must be a string.')), {
      minItems: 1,
      maxItems: MAX_EAGER_DERIVATIVES,
      description: 'CDN operation paths, e.g. `-/resize/200x/`',
      ...rejects(`\`operations\` must be a list of 1 to ${MAX_EAGER_DERIVATIVES} CDN operation paths such as "-/resize/200x/".`),
    }),
  },
  EXPECTED_OBJECT,
);

const TAG_RULES = `lowercased and trimmed, then at most ${TAG_LIMITS.maxLength} Latin letters, digits, \`-\`, \`_\` or \`.\``;
const tagList = (field: string, description: string) =>
  Type.Array(Type.String({ description: TAG_RULES, ...rejects(`${field}[{key}] must be a string; got {value}.`) }), {
    description,
    ...rejects(`\`${field}\` must be a JSON array of tag strings, e.g. ["cats", "2026"].`),
  });

const TAGS_OBJECT_MESSAGE = 'Expected a JSON object {"tags": [...]} with the array of tags.';
export const TagsReplaceBodySchema = Type.Union(
  [
    Type.Object(
      { tags: tagList('tags', `The new tag list (at most ${TAG_LIMITS.maxTags} once normalised); \`[]\` clears`) },
      rejects({ type: TAGS_OBJECT_MESSAGE }),
    ),
    Type.Array(Type.String(), { description: 'Trove: the bare array of tags, read as `{"tags": [...]}`' }),
  ],
  rejects(TAGS_OBJECT_MESSAGE),
);

export const TagsUpdateBodySchema = Type.Object(
  {
    add: Type.Optional(tagList('add', 'Tags to add after the deletions; tags already there are skipped. Default `[]`')),
    delete: Type.Optional(tagList('delete', 'Tags to delete first; absent ones are ignored. Default `[]`')),
  },
  rejects({ type: 'Expected a JSON object {"add": [...], "delete": [...]}.' }),
);

const tagsField = Type.Array(Type.String(), { description: 'The file\'s tags, in storage order' });
export const FileTagsSchema = Type.Object({ tags: tagsField });
export const TagChangeSchema = Type.Object({
  tags: tagsField,
  added: Type.Array(Type.String(), { description: 'Tags this request added, sorted alphabetically' }),
  deleted: Type.Array(Type.String(), { description: 'Tags this request removed, sorted alphabetically' }),
});

export const MetadataValueBodySchema = Type.String({ description: '1–512 characters', ...rejects('The request body must be a JSON string: the metadata value.') });

const EVENT_MESSAGE = `\`event\` must be one of ${WEBHOOK_EVENTS.join(', ')}.`;
const webhookFields = {
  target_url: Type.Optional(
    Type.Union([Type.String({ maxLength: MAX_TARGET_URL_LENGTH }), Type.Null()], {
      description: 'http(s) URL without credentials',
      ...rejects(`\`target_url\` must be an http(s) URL of at most ${MAX_TARGET_URL_LENGTH} characters.`),
    }),
  ),
  event: Type.Optional(Type.Enum([...WEBHOOK_EVENTS], rejects(EVENT_MESSAGE))),
  // Form-encoded bodies send booleans as text.
  is_active: Type.Optional(
    Type.Union([Type.Boolean(), Type.Enum(['true', 'false', '1', '0'])], rejects('`is_active` should be `true` or `false`.')),
  ),
  signing_secret: Type.Optional(
    Type.Union([Type.String({ maxLength: MAX_SIGNING_SECRET_LENGTH }), Type.Null()], {
      description: 'Key of the `X-Uc-Signature` HMAC; null or empty: unsigned',
      ...rejects(`\`signing_secret\` must be a string of 1 to ${MAX_SIGNING_SECRET_LENGTH} characters.`),
    }),
  ),
};

export const WebhookCreateBodySchema = Type.Object(
  { ...webhookFields, version: Type.Optional(Type.Enum(['0.7', ''], rejects('`version` must be "0.7".'))) },
  EXPECTED_OBJECT,
);
export type WebhookCreateBody = Static<typeof WebhookCreateBodySchema>;

export const WebhookUpdateBodySchema = Type.Object(webhookFields, EXPECTED_OBJECT);

export const UnsubscribeBodySchema = Type.Object({ target_url: Type.String(rejects('`target_url` is missing.')) }, EXPECTED_OBJECT);

const PROJECT_SETTINGS = ['name', 'autostore_enabled', 'signed_uploads', 'max_file_size', 'allowed_mime_types', 'scan_on_upload', 'purge_infected'];

/** `PUT /project/`; `max_file_size` is bounded by the server's own limit. */
export function projectPatchBodySchema(serverMaxFileSize: number) {
  const flag = (name: string) => Type.Optional(Type.Boolean(rejects(`\`${name}\` must be true or false.`)));
  return Type.Object(
    {
      name: Type.Optional(
        Type.String({
          // 1–100 characters once trimmed.
          pattern: '^\\s*\\S([\\s\\S]{0,98}\\S)?\\s*$',
          ...rejects('`name` must be a string of 1–100 characters.'),
        }),
      ),
      autostore_enabled: flag('autostore_enabled'),
      signed_uploads: flag('signed_uploads'),
      max_file_size: Type.Optional(
        Type.Union([Type.Integer({ minimum: 1, maximum: serverMaxFileSize }), Type.Null()], {
          description: 'Bytes; null for the server limit',
          ...rejects(`\`max_file_size\` must be null or a whole number of bytes from 1 to ${serverMaxFileSize} (the server's limit).`),
        }),
      ),
      allowed_mime_types: Type.Optional(
        Type.Union([Type.Array(Type.String({ pattern: `^(${MIME.replace(/A-Za-z0-9/g, 'a-z0-9')}|\\*/\\*)$` }), { maxItems: 100 }), Type.Null()], {
          description: 'null or empty: every type',
          ...rejects('`allowed_mime_types` must be null or an array of up to 100 MIME types such as "image/*" or "application/pdf".'),
        }),
      ),
      scan_on_upload: flag('scan_on_upload'),
      purge_infected: flag('purge_infected'),
    },
    {
      additionalProperties: false,
      ...rejects({ type: 'Expected JSON object.', additionalProperties: `Unknown setting {additional}; settable: ${PROJECT_SETTINGS.join(', ')}.` }),
    },
  );
}
export type ProjectPatchBody = Static<ReturnType<typeof projectPatchBodySchema>>;

// ---------------------------------------------------------------------------------------------
// Add-ons

/** Any name reaches the handler, which answers an unknown add-on with a 404 naming the add-ons. */
export const AddonParamsSchema = Type.Object({ name: Type.String({ maxLength: 200, description: 'Add-on name, e.g. `uc_clamav_virus_scan`' }) }, NOT_FOUND);

export const AddonExecuteBodySchema = Type.Object(
  {
    target: Type.String({
      maxLength: 100,
      description: 'UUID of a live file of this project',
      ...rejects({ required: '`target` is required: the UUID of the file to process.', default: '`target` must be the UUID of a file of this project.' }),
    }),
    params: Type.Optional(
      Type.Union([Type.Record(Type.String(), Type.Unknown()), Type.Null()], {
        description: 'The add-on\'s parameters; `uc_clamav_virus_scan` takes `purge_infected` (boolean)',
        ...rejects('`params` must be a JSON object of the add-on\'s parameters.'),
      }),
    ),
  },
  EXPECTED_OBJECT,
);

export const AddonExecuteResultSchema = Type.Object(
  { request_id: Type.String({ format: 'uuid', description: 'Poll `…/execute/status/?request_id=` with it' }) },
  { title: 'AddonExecution' },
);

export const AddonStatusQuerySchema = Type.Object({
  request_id: Type.Optional(Type.String({ maxLength: 100, description: 'The id `execute` answered with' })),
});

export const AddonStatusSchema = Type.Object(
  {
    status: Type.Enum(['in_progress', 'done', 'error', 'unknown'], { description: '`unknown`: no request of this project for this add-on has this id' }),
    error: Type.Optional(Type.String({ description: 'Trove extension: why the request ended in `error`' })),
  },
  { title: 'AddonExecutionStatus' },
);

export const VideoConvertBodySchema = Type.Object({
  paths: Type.Array(Type.String({ maxLength: 1024 }), {
    minItems: 1,
    maxItems: 100,
    description: '`<uuid>/video/-/format/mp4|webm|ogg/-/size/<W>x<H>/<preserve_ratio|change_ratio|scale_crop|add_padding>/-/quality/<normal|better|best|lighter|lightest>/-/cut/<start>/<length|end>/-/thumbs~<N>/`; every operation is optional',
    ...rejects({ required: '`paths` is required: a list of paths such as "<uuid>/video/-/format/mp4/".', default: '`paths` must be a list of 1 to 100 paths such as "<uuid>/video/-/format/mp4/".' }),
  }),
  store: Type.Optional(
    Type.Union([Type.String({ maxLength: 8 }), Type.Boolean(), Type.Null()], {
      description: '"1" stores the results, "0" leaves them temporary; absent, the project\'s auto-store decides',
      ...rejects('`store` is "1" or "0".'),
    }),
  ),
});

export const VideoConversionSchema = Type.Object(
  {
    problems: Type.Record(Type.String(), Type.String(), { description: 'Why each refused path was refused, by path' }),
    result: Type.Array(
      Type.Object({
        original_source: Type.String({ description: 'The path as sent' }),
        token: Type.Integer({ description: 'Poll `/convert/video/status/<token>/` with it' }),
        uuid: Type.String({ format: 'uuid', description: 'The converted video, once finished' }),
        thumbnails_group_uuid: Type.String({ description: 'The group of its thumbnails, once finished' }),
      }),
    ),
  },
  { title: 'VideoConversion' },
);

const ConversionStatusSchema = Type.Enum(['pending', 'processing', 'finished', 'failed', 'cancelled']);

const VideoConversionItemSchema = Type.Object(
  {
    token: Type.Integer({ description: 'As answered by `POST /convert/video/`' }),
    status: ConversionStatusSchema,
    error: Type.Union([Type.String(), Type.Null()], { description: 'Why the conversion failed or was cancelled' }),
    progress: Type.Integer({ minimum: 0, maximum: 100, description: 'Percent of the transcode done (0 while pending, 100 once finished)' }),
    source: Type.String({ format: 'uuid', description: 'The file converted' }),
    path: Type.String({ description: 'The conversion as a path, every operation written out (format, size, quality, cut, thumbs)' }),
    store: Type.Boolean({ description: 'Whether the results are stored' }),
    uuid: Type.String({ format: 'uuid', description: 'The converted video, once finished' }),
    thumbnails_group_uuid: Type.String({ description: 'The group of its thumbnails, once finished' }),
    datetime_created: Type.String({ format: 'date-time' }),
    datetime_updated: Type.String({ format: 'date-time', description: 'The last change of status or progress' }),
  },
  { title: 'VideoConversionListItem' },
);

export const VideoConversionListSchema = paginated('VideoConversionList', VideoConversionItemSchema);
export type VideoConversionList = Static<typeof VideoConversionListSchema>;

export const VideoConversionStatusSchema = Type.Object(
  {
    status: ConversionStatusSchema,
    error: Type.Union([Type.String(), Type.Null()], { description: 'Why the conversion failed' }),
    progress: Type.Integer({ minimum: 0, maximum: 100, description: 'Trove extension: percent of the transcode done (0 while pending, 100 once finished)' }),
    result: Type.Union([Type.Object({ uuid: Type.String({ format: 'uuid' }), thumbnails_group_uuid: Type.String() }), Type.Null()]),
  },
  { title: 'VideoConversionStatus' },
);

export const DocumentConvertBodySchema = Type.Object({
  paths: Type.Array(Type.String({ maxLength: 1024 }), {
    minItems: 1,
    maxItems: 100,
    description: '`<uuid>/document/-/format/<pdf|png|jpg>/` with `-/page/<N>/` for an image format (the first page when absent)',
    ...rejects({
      required: '`paths` is required: a list of paths such as "<uuid>/document/-/format/png/-/page/1/".',
      default: '`paths` must be a list of 1 to 100 paths such as "<uuid>/document/-/format/png/-/page/1/".',
    }),
  }),
  store: Type.Optional(
    Type.Union([Type.String({ maxLength: 8 }), Type.Boolean(), Type.Null()], {
      description: '"1" stores the results, "0" leaves them temporary; absent, the project\'s auto-store decides',
      ...rejects('`store` is "1" or "0".'),
    }),
  ),
  save_in_group: Type.Optional(
    Type.Union([Type.String({ maxLength: 8 }), Type.Boolean(), Type.Null()], {
      description: '"1" with an image format and no `page`: every page becomes a file, and the pages a group (listed by `GET /convert/document/<uuid>/`)',
      ...rejects('`save_in_group` is "1" or "0".'),
    }),
  ),
});

export const DocumentConversionSchema = Type.Object(
  {
    problems: Type.Record(Type.String(), Type.String(), { description: 'Why each refused path was refused, by path' }),
    result: Type.Array(
      Type.Object({
        original_source: Type.String({ description: 'The path as sent' }),
        token: Type.Integer({ description: 'Poll `/convert/document/status/<token>/` with it' }),
        uuid: Type.String({ format: 'uuid', description: 'The converted file (the first page, for a group of pages), once finished' }),
      }),
    ),
  },
  { title: 'DocumentConversion' },
);

export const DocumentConversionStatusSchema = Type.Object(
  {
    status: ConversionStatusSchema,
    error: Type.Union([Type.String(), Type.Null()], { description: 'Why the conversion failed' }),
    result: Type.Union([Type.Object({ uuid: Type.String({ format: 'uuid' }) }), Type.Null()]),
  },
  { title: 'DocumentConversionStatus' },
);

export const DocumentInfoSchema = Type.Object(
  {
    error: Type.Union([Type.String(), Type.Null()], { description: 'Why the file cannot be converted here (LibreOffice missing for an Office file), or null' }),
    format: Type.Object({
      name: Type.String({ description: 'The file\'s format: `pdf`, `docx`, …' }),
      conversion_formats: Type.Array(Type.Object({ name: Type.String() }), { description: 'What Trove converts it to here' }),
    }),
    converted_groups: Type.Record(Type.String(), Type.String(), { description: 'By format, the latest group of pages made from it (`save_in_group`)' }),
  },
  { title: 'DocumentInfo' },
);
