import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import ts from 'typescript';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apiMounts, emitClient, loadRuntimeSource } from '../../scripts/client-generator/emit.js';
import { NameScope } from '../../scripts/client-generator/names.js';
import type { JsonSchema, OpenApiDocument } from '../../scripts/client-generator/openapi-types.js';
import { collectOperations, fallbackOperationName } from '../../scripts/client-generator/operations.js';
import { SchemaTypes } from '../../scripts/client-generator/schema-types.js';
import { stableJsonFile } from '../../scripts/client-generator/stable-json.js';

const restFile: JsonSchema = {
  title: 'RestFile',
  description: 'A file as the REST API shows it.',
  type: 'object',
  required: ['uuid', 'size', 'datetime_removed', 'metadata'],
  properties: {
    uuid: { type: 'string', format: 'uuid' },
    size: { type: 'integer', description: 'Bytes.' },
    datetime_removed: { type: ['string', 'null'] },
    metadata: { type: 'object', additionalProperties: { type: 'string' } },
    mime_type: { type: 'string' },
  },
};
const errorDetail: JsonSchema = {
  title: 'ErrorDetail',
  type: 'object',
  required: ['detail'],
  properties: { detail: { type: 'string' } },
};
const json = (schema: JsonSchema) => ({ content: { 'application/json': { schema } } });

/** A small document in the shape Trove's routes will have once every route carries its schemas. */
const document: OpenApiDocument = {
  openapi: '3.0.3',
  info: { title: 'Trove', version: '9.9.9' },
  components: {
    schemas: {
      'def-0': {
        title: 'Webhook',
        type: 'object',
        required: ['id', 'event', 'is_active'],
        properties: {
          id: { type: 'integer' },
          event: { type: 'string', enum: ['file.uploaded', 'file.deleted'] },
          is_active: { type: 'boolean' },
          secret: { type: 'string', nullable: true },
        },
      },
    },
  },
  paths: {
    '/upload/info/': {
      get: {
        operationId: 'fileInfo',
        tags: ['Upload API'],
        summary: 'File info',
        parameters: [
          { in: 'query', name: 'pub_key', required: true, schema: { type: 'string' } },
          { in: 'query', name: 'file_id', schema: { type: 'string' } },
        ],
        responses: { '200': json({ type: 'object', additionalProperties: true, properties: { uuid: { type: 'string' } }, required: ['uuid'] }) },
      },
    },
    '/upload/base/': {
      post: {
        tags: ['Upload API'],
        requestBody: { required: true, content: { 'multipart/form-data': { schema: { type: 'object' } } } },
        responses: { '200': json({ type: 'object', additionalProperties: { type: 'string' } }) },
      },
    },
    '/files/': {
      get: {
        operationId: 'listFiles',
        tags: ['REST API'],
        summary: 'List files',
        parameters: [
          { in: 'query', name: 'limit', schema: { type: 'integer' }, description: 'Page size.' },
          { in: 'query', name: 'ordering', schema: { type: 'string', enum: ['datetime_uploaded', '-datetime_uploaded'] } },
          { in: 'query', name: 'stored', schema: { type: 'boolean' } },
        ],
        responses: {
          '200': json({
            type: 'object',
            required: ['next', 'results'],
            properties: { next: { anyOf: [{ type: 'string' }, { type: 'null' }] }, results: { type: 'array', items: restFile } },
          }),
          '400': json(errorDetail),
        },
      },
    },
    '/files/{uuid}/': {
      get: {
        operationId: 'getFile',
        tags: ['REST API'],
        parameters: [{ in: 'path', name: 'uuid', required: true, schema: { type: 'string' } }],
        responses: { '200': { content: { 'application/vnd.uploadcare-v0.7+json': { schema: restFile } } }, '404': json(errorDetail) },
      },
      delete: {
        operationId: 'delete-file',
        tags: ['REST API'],
        parameters: [{ in: 'path', name: 'uuid', required: true, schema: { type: 'string' } }],
        responses: { '204': { description: 'Removed' } },
      },
    },
    '/files/{uuid}/storage/': {
      put: {
        operationId: 'storeFile',
        tags: ['REST API'],
        parameters: [
          { in: 'path', name: 'uuid', required: true, schema: { type: 'string' } },
          { in: 'header', name: 'Accept', schema: { type: 'string', const: 'application/vnd.example+json' } },
          { in: 'header', name: 'X-Trace', schema: { type: 'string' } },
        ],
        responses: { '200': json(restFile) },
      },
    },
    '/webhooks/': {
      post: {
        operationId: 'createWebhook',
        tags: ['REST API'],
        requestBody: {
          required: true,
          content: {
            'application/json': {
              schema: {
                type: 'object',
                required: ['target_url', 'event'],
                properties: {
                  target_url: { type: 'string' },
                  event: { const: 'file.uploaded' },
                  tags: { type: 'array', items: { oneOf: [{ type: 'string' }, { type: 'integer' }] } },
                  pair: { type: 'array', prefixItems: [{ type: 'string' }, { type: 'number' }] },
                  extra: { allOf: [{ $ref: '#/components/schemas/def-0' }, { type: 'object', properties: { note: { type: 'string' } } }] },
                },
              },
            },
          },
        },
        responses: { '201': json({ $ref: '#/components/schemas/def-0' }) },
      },
    },
    '/project/secrets/': {
      post: {
        tags: ['REST API'],
        requestBody: { content: { 'application/x-www-form-urlencoded': { schema: { type: 'object', properties: { name: { type: 'string' } } } } } },
        responses: { '200': { description: 'no schema' } },
      },
    },
    '/{uuid}/{*}': {
      get: { tags: ['Delivery'], responses: { '200': { description: 'bytes' } } },
    },
  },
};

const emitted = emitClient(document, { command: 'npm run client:generate', source: 'client/openapi.json', runtime: loadRuntimeSource() });

describe('schema types', () => {
  const render = (schema: JsonSchema) => new SchemaTypes({ openapi: '3.0.3' }, new NameScope()).render(schema).text;

  it('maps JSON Schema types, enums, consts and nullability to TypeScript', () => {
    expect(render({ type: 'integer' })).toBe('number');
    expect(render({ type: ['string', 'null'] })).toBe('string | null');
    expect(render({ type: 'string', nullable: true })).toBe('string | null');
    expect(render({ enum: ['a', "it's", 2, null] })).toBe("'a' | 'it\\'s' | 2 | null");
    expect(render({ const: true })).toBe('true');
    expect(render({})).toBe('unknown');
    expect(render({ anyOf: [{ type: 'string' }, { type: 'string' }, { type: 'null' }] })).toBe('string | null');
    expect(render({ anyOf: [{ type: 'string' }, {}] })).toBe('unknown');
  });

  it('writes arrays, tuples, records and objects with optional fields', () => {
    expect(render({ type: 'array', items: { type: 'string' } })).toBe('string[]');
    expect(render({ type: 'array', items: { type: ['string', 'null'] } })).toBe('Array<string | null>');
    expect(render({ type: 'array', prefixItems: [{ type: 'string' }, { type: 'boolean' }] })).toBe('[string, boolean]');
    expect(render({ type: 'object', additionalProperties: { type: 'integer' } })).toBe('{\n  [key: string]: number;\n}');
    expect(render({ type: 'object', additionalProperties: false })).toBe('Record<string, never>');
    expect(render({ type: 'object', required: ['a'], properties: { a: { type: 'string' }, 'b-c': { type: 'number' } } })).toBe(
      "{\n  a: string;\n  'b-c'?: number;\n}",
    );
    // An index signature has to admit the declared fields' types too.
    expect(render({ type: 'object', properties: { a: { type: 'string' } }, additionalProperties: { type: 'number' } })).toBe(
      '{\n  a?: string;\n  [key: string]: number | string | undefined;\n}',
    );
    expect(render({ allOf: [{ type: 'object', properties: { a: { type: 'string' } } }, { anyOf: [{ type: 'string' }, { type: 'number' }] }] })).toBe(
      '{\n  a?: string;\n} & (string | number)',
    );
  });
});

describe('operations', () => {
  const { operations, skipped } = collectOperations(document);
  const byName = (name: string) => operations.find((operation) => operation.name === name);

  it('names methods by operationId in camelCase, else by method and path', () => {
    expect(operations.map((operation) => operation.name).sort()).toEqual(
      ['createWebhook', 'deleteFile', 'fileInfo', 'getFile', 'listFiles', 'postProjectSecrets', 'postUploadBase', 'storeFile'].sort(),
    );
    expect(fallbackOperationName('put', '/upload/multipart/part/{uuid}/{index}/')).toBe('putUploadMultipartPartByUuidByIndex');
    expect(fallbackOperationName('get', '/widget.js')).toBe('getWidgetJs');
  });

  it('gives a later fallback name a suffix rather than renaming an operationId', () => {
    const clash: OpenApiDocument = {
      openapi: '3.0.3',
      paths: {
        '/a/': { get: { responses: {} } },
        '/b/': { get: { operationId: 'getA', responses: {} } },
      },
    };
    expect(collectOperations(clash).operations.map((operation) => operation.name)).toEqual(['getA2', 'getA']);
  });

  it('skips catch-all paths and says why', () => {
    expect(skipped).toEqual([{ method: 'get', path: '/{uuid}/{*}', reason: 'catch-all path: build its URL instead' }]);
  });

  it('reads the Accept an operation needs from a header parameter, a vendor media type, or the REST API tag', () => {
    expect(byName('storeFile')?.accept).toBe('application/vnd.example+json');
    expect(byName('getFile')?.accept).toBe('application/vnd.uploadcare-v0.7+json');
    expect(byName('listFiles')?.accept).toBe('application/vnd.uploadcare-v0.7+json');
    expect(byName('fileInfo')?.accept).toBeNull();
    expect(byName('storeFile')?.headerParams.map((parameter) => parameter.name)).toEqual(['X-Trace']);
  });

  it('finds the mount of each API from the paths its operations share', () => {
    expect(Object.fromEntries(apiMounts(operations))).toEqual({ 'REST API': '', 'Upload API': '/upload' });
  });
});

describe('emitted client', () => {
  it('is the same text for the same document, and says how it was made', () => {
    const again = emitClient(JSON.parse(stableJsonFile(document)) as OpenApiDocument, {
      command: 'npm run client:generate',
      source: 'client/openapi.json',
      runtime: loadRuntimeSource(),
    });
    expect(again).toBe(emitted);
    expect(emitted.startsWith('// Generated by `npm run client:generate` from client/openapi.json (Trove 9.9.9).\n')).toBe(true);
  });

  it('exports named shapes once, however often they are inlined', () => {
    expect(emitted).toContain('/** A file as the REST API shows it. */\nexport interface RestFile {\n');
    expect(emitted.match(/export interface RestFile /g)).toHaveLength(1);
    expect(emitted).toContain('export interface ErrorDetail {');
    expect(emitted).toContain("export interface Webhook {\n  id: number;\n  event: 'file.uploaded' | 'file.deleted';\n  is_active: boolean;\n  secret?: string | null;\n}");
    expect(emitted).toContain('  /** Bytes. */\n  size: number;\n');
  });

  it('writes typed arguments and results per operation', () => {
    expect(emitted).toContain(
      "export interface ListFilesArgs {\n  query?: {\n    /** Page size. */\n    limit?: number;\n    ordering?: 'datetime_uploaded' | '-datetime_uploaded';\n    stored?: boolean;\n  };\n}",
    );
    expect(emitted).toContain('export interface ListFilesResult {\n  next: string | null;\n  results: RestFile[];\n}');
    expect(emitted).toContain('export type GetFileResult = RestFile;');
    expect(emitted).toContain('export type DeleteFileResult = void;');
    expect(emitted).toContain('export type CreateWebhookResult = Webhook;');
    expect(emitted).toContain("    event: 'file.uploaded';\n    tags?: Array<string | number>;\n    pair?: [string, number];\n    extra?: Webhook & {\n      note?: string;\n    };");
    expect(emitted).toContain('  body: FormData;');
    expect(emitted).toContain('export type PostProjectSecretsResult = unknown;');
    expect(emitted).toContain('  listFiles(args: ListFilesArgs = {}, options?: RequestOptions): Promise<ListFilesResult> {');
    expect(emitted).toContain('  getFile(args: GetFileArgs, options?: RequestOptions): Promise<GetFileResult> {');
    expect(emitted).toContain("  getFile: { method: 'GET', path: '/files/{uuid}/', api: 'REST API', accept: 'application/vnd.uploadcare-v0.7+json', body: null },");
    expect(emitted).toContain("  fileInfo: { method: 'GET', path: '/info/', api: 'Upload API', accept: null, body: null },");
    expect(emitted).toContain('//   GET /{uuid}/{*}: catch-all path: build its URL instead');
  });
});

describe('emitted client at work', () => {
  let dir: string;
  let file: string;

  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'trove-client-test-'));
    file = path.join(dir, 'client.ts');
    await writeFile(file, emitted);
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('type-checks strictly, for browsers, and rejects wrong arguments', async () => {
    const usage = path.join(dir, 'usage.ts');
    await writeFile(
      usage,
      [
        "import { TroveClient, type RestFile } from './client.js';",
        "const client = new TroveClient({ baseUrl: 'https://trove.example', baseUrls: { 'Upload API': 'https://up.example' } });",
        "export const file: Promise<RestFile> = client.getFile({ path: { uuid: 'x' } });",
        "export const page = client.listFiles({ query: { limit: 10, ordering: '-datetime_uploaded' } });",
        '// @ts-expect-error the path parameter is required',
        'client.getFile({});',
        '// @ts-expect-error ordering is an enum',
        "client.listFiles({ query: { ordering: 'size' } });",
        '// @ts-expect-error no such API',
        "new TroveClient({ baseUrl: '', baseUrls: { Nope: '' } });",
      ].join('\n'),
    );
    const program = ts.createProgram([file, usage], {
      strict: true,
      noUncheckedIndexedAccess: true,
      exactOptionalPropertyTypes: true,
      noUnusedLocals: true,
      noImplicitOverride: true,
      target: ts.ScriptTarget.ES2022,
      module: ts.ModuleKind.ESNext,
      moduleResolution: ts.ModuleResolutionKind.Bundler,
      lib: ['lib.es2022.d.ts', 'lib.dom.d.ts'],
      types: [],
      noEmit: true,
    });
    const problems = ts.getPreEmitDiagnostics(program).map((d) => ts.flattenDiagnosticMessageText(d.messageText, '\n'));
    expect(problems).toEqual([]);
  }, 60_000);

  it('sends to the right URL with the right headers, and throws TroveApiError on failure', async () => {
    // The module is written for this test's document, so its methods are looked up by name.
    const module = (await import(file)) as {
      TroveClient: new (options: object) => Partial<Record<string, (args?: object, options?: object) => Promise<unknown>>>;
      TroveApiError: new (...args: never[]) => Error;
    };
    const seen: Array<{ url: string; init: RequestInit }> = [];
    const answers: Response[] = [];
    const fetchStub = async (url: string | URL | Request, init?: RequestInit): Promise<Response> => {
      seen.push({ url: String(url), init: init ?? {} });
      const answer = answers.shift();
      if (!answer) throw new Error('no answer queued');
      return answer;
    };
    const client = new module.TroveClient({
      baseUrl: 'https://trove.example/',
      baseUrls: { 'Upload API': 'https://up.example/' },
      headers: () => ({ Authorization: 'Uploadcare.Simple pk:sk' }),
      fetch: fetchStub,
    });
    const jsonAnswer = (status: number, body: unknown) =>
      new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json; charset=utf-8' } });

    answers.push(jsonAnswer(200, { next: null, results: [] }));
    await expect(client.listFiles?.({ query: { limit: 5, stored: true, ordering: undefined } })).resolves.toEqual({ next: null, results: [] });
    expect(seen[0]?.url).toBe('https://trove.example/files/?limit=5&stored=true');
    expect(seen[0]?.init.headers).toEqual({ accept: 'application/vnd.uploadcare-v0.7+json', authorization: 'Uploadcare.Simple pk:sk' });

    answers.push(jsonAnswer(200, { uuid: 'u' }));
    await client.fileInfo?.({ query: { pub_key: 'pk', file_id: 'a b' } });
    expect(seen[1]?.url).toBe('https://up.example/info/?pub_key=pk&file_id=a+b');

    answers.push(jsonAnswer(201, { id: 1 }));
    await client.createWebhook?.({ body: { target_url: 'https://hook.example', event: 'file.uploaded' } }, { headers: { 'X-Extra': '1' } });
    expect(seen[2]?.init.method).toBe('POST');
    expect(seen[2]?.init.body).toBe('{"target_url":"https://hook.example","event":"file.uploaded"}');
    expect(seen[2]?.init.headers).toMatchObject({ 'content-type': 'application/json', 'x-extra': '1' });

    answers.push(new Response(null, { status: 204 }));
    await expect(client.deleteFile?.({ path: { uuid: 'a/b' } })).resolves.toBeUndefined();
    expect(seen[3]?.url).toBe('https://trove.example/files/a%2Fb/');

    answers.push(jsonAnswer(404, { detail: 'Not found.' }));
    const failure = await client.getFile?.({ path: { uuid: 'missing' } }).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(module.TroveApiError);
    expect(failure).toMatchObject({ status: 404, body: { detail: 'Not found.' }, message: 'GET https://trove.example/files/missing/ answered 404: Not found.' });
  });
});
