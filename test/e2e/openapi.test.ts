/**
 * `/openapi.json` describes every documented route with its parameters and answers: the REST and
 * dashboard routes declare their path and query parameters, bodies, success and error shapes, and a
 * camelCase `operationId` each (the method names of generated clients).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTrove, type TestTrove } from '../helpers/trove-server.js';

interface Schema {
  type?: string;
  title?: string;
  properties?: Record<string, Schema>;
  [key: string]: unknown;
}

interface Operation {
  operationId?: string;
  tags?: string[];
  parameters?: Array<{ name: string; in: string; schema?: Schema }>;
  requestBody?: { content?: Record<string, { schema?: Schema }> };
  responses?: Record<string, { description?: string; content?: Record<string, { schema?: Schema }> }>;
}

type Document = { openapi: string; paths: Record<string, Record<string, Operation>> };

const METHODS = ['get', 'put', 'post', 'delete', 'patch', 'head', 'options'];

/** Answers that are bytes, scripts or text, which a JSON schema cannot describe. */
const NOT_JSON = new Set(['GET /metrics', 'GET /widget.js', 'GET /{uuid}/{*}', 'HEAD /{uuid}/{*}']);
/** Success answers that have no body at all (like an S3 part upload's), described as such. */
const EMPTY_SUCCESS = new Set(['PUT /upload/multipart/part/{uuid}/{index}/ → 200']);

describe('OpenAPI document', () => {
  let trove: TestTrove;
  let doc: Document;
  const operations: Array<{ path: string; method: string; op: Operation }> = [];

  beforeAll(async () => {
    trove = await startTrove();
    const response = await fetch(`${trove.url}/openapi.json`);
    expect(response.status).toBe(200);
    doc = (await response.json()) as Document;
    for (const [path, item] of Object.entries(doc.paths)) {
      for (const [method, op] of Object.entries(item)) if (METHODS.includes(method)) operations.push({ path, method, op });
    }
  }, 60_000);

  afterAll(async () => {
    await trove?.close();
  });

  const apiOperations = () => operations.filter(({ op }) => op.tags?.includes('REST API') || op.tags?.includes('Dashboard'));

  it('lists the REST and dashboard routes', () => {
    const listed = new Set(apiOperations().map(({ path, method }) => `${method.toUpperCase()} ${path}`));
    for (const route of [
      'GET /files/',
      'GET /files/{uuid}/',
      'PUT /files/storage/',
      'POST /files/local_copy/',
      'POST /files/remote_copy/',
      'PUT /files/{uuid}/metadata/{key}/',
      'GET /groups/',
      'DELETE /groups/{id}/',
      'PUT /project/',
      'GET /project/usage/',
      'GET /project/storages/',
      'POST /project/storages/',
      'DELETE /project/storages/{name}/',
      'POST /webhooks/',
      'POST /webhooks/{id}/deliveries/{delivery}/replay/',
      'POST /dashboard/api/session',
      'GET /dashboard/api/upload-signature',
    ]) {
      expect(listed, route).toContain(route);
    }
  });

  it('gives every documented route answers with schemas', () => {
    expect(operations.length).toBeGreaterThan(30);
    for (const { path, method, op } of operations) {
      const where = `${method.toUpperCase()} ${path}`;
      const responses = Object.entries(op.responses ?? {});
      expect(responses.length, where).toBeGreaterThan(0);
      for (const [status, response] of responses) {
        // A 204 has no body to describe.
        if (status === '204' || NOT_JSON.has(where)) continue;
        if (EMPTY_SUCCESS.has(`${where} → ${status}`)) {
          expect(response.description, `${where} → ${status}`).toMatch(/no body/);
          continue;
        }
        const media = Object.values(response.content ?? {});
        expect(media.length, `${where} → ${status}`).toBeGreaterThan(0);
        for (const { schema } of media) expect(schema, `${where} → ${status}`).toBeTypeOf('object');
      }
    }
  });

  it('declares the path parameters, a success answer and the error shape of every REST and dashboard route', () => {
    const ids = new Set<string>();
    for (const { path, method, op } of apiOperations()) {
      const where = `${method.toUpperCase()} ${path}`;
      expect(op.operationId, where).toMatch(/^[a-z][A-Za-z]+$/);
      expect(ids.has(op.operationId!), `${where}: operationId ${op.operationId} is used twice`).toBe(false);
      ids.add(op.operationId!);
      const declared = new Set((op.parameters ?? []).filter((p) => p.in === 'path').map((p) => p.name));
      for (const [, name] of path.matchAll(/\{([^}]+)\}/g)) expect(declared, `${where}: path parameter ${name}`).toContain(name);
      const statuses = Object.keys(op.responses ?? {});
      expect(statuses.some((status) => /^2\d\d$/.test(status)), where).toBe(true);
      expect(statuses, where).toContain('400');
      expect(statuses, where).toContain('401');
      const error = op.responses?.['401']?.content?.['application/json']?.schema;
      const errorFields = Object.keys(error?.properties ?? {});
      if (op.tags?.includes('REST API')) expect(errorFields, where).toEqual(['detail']);
      else expect(errorFields, where).toEqual(expect.arrayContaining(['statusCode', 'code', 'message']));
    }
  });

  it('declares query parameters and request bodies', () => {
    const op = (method: string, path: string) => doc.paths[path]?.[method];
    const query = (operation: Operation | undefined) => (operation?.parameters ?? []).filter((p) => p.in === 'query').map((p) => p.name);
    expect(query(op('get', '/files/'))).toEqual(expect.arrayContaining(['limit', 'ordering', 'stored', 'removed', 'from', 'include', 'search', 'tag', 'mime_type', 'since', 'to']));
    expect(query(op('get', '/groups/'))).toEqual(expect.arrayContaining(['limit', 'ordering', 'from']));
    expect(query(op('get', '/project/usage/'))).toEqual(['days']);
    expect(query(op('get', '/webhooks/{id}/deliveries/'))).toEqual(expect.arrayContaining(['limit', 'before']));
    for (const [method, path] of [
      ['put', '/files/storage/'],
      ['delete', '/files/storage/'],
      ['post', '/files/local_copy/'],
      ['post', '/files/remote_copy/'],
      ['post', '/files/{uuid}/derivatives/'],
      ['put', '/files/{uuid}/tags/'],
      ['patch', '/files/{uuid}/tags/'],
      ['put', '/files/{uuid}/metadata/{key}/'],
      ['put', '/project/'],
      ['post', '/project/storages/'],
      ['post', '/webhooks/'],
      ['put', '/webhooks/{id}/'],
      ['delete', '/webhooks/unsubscribe/'],
      ['post', '/dashboard/api/session'],
      ['put', '/dashboard/api/session'],
    ] as const) {
      const schema = op(method, path)?.requestBody?.content?.['application/json']?.schema;
      expect(schema, `${method.toUpperCase()} ${path}`).toBeTypeOf('object');
    }
    const settings = op('put', '/project/')?.requestBody?.content?.['application/json']?.schema;
    expect(Object.keys(settings?.properties ?? {})).toEqual(['name', 'autostore_enabled', 'signed_uploads', 'max_file_size', 'allowed_mime_types', 'scan_on_upload', 'purge_infected']);
  });

  it('names the shared shapes', () => {
    const titleOf = (method: string, path: string, status: string) => doc.paths[path]?.[method]?.responses?.[status]?.content?.['application/json']?.schema?.title;
    expect(titleOf('get', '/files/{uuid}/', '200')).toBe('RestFile');
    expect(titleOf('get', '/files/', '200')).toBe('FileList');
    expect(titleOf('get', '/groups/{id}/', '200')).toBe('RestGroup');
    expect(titleOf('get', '/groups/', '200')).toBe('GroupList');
    expect(titleOf('post', '/webhooks/', '201')).toBe('Webhook');
    expect(titleOf('get', '/project/', '200')).toBe('Project');
    expect(titleOf('get', '/files/{uuid}/', '404')).toBe('ErrorDetail');
    expect(titleOf('post', '/dashboard/api/session', '200')).toBe('DashboardSession');
  });
});
