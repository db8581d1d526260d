import { NameScope, camelCase, wordsOf } from './names.js';
import {
  HTTP_METHODS,
  isReference,
  type HttpMethod,
  type JsonSchema,
  type MediaType,
  type OpenApiDocument,
  type OperationObject,
  type ParameterObject,
  type Reference,
  type RequestBodyObject,
  type ResponseObject,
} from './openapi-types.js';

/** What Uploadcare's REST API insists on; used for operations tagged REST API when the document does not say. */
const REST_API_TAG = 'REST API';
const REST_API_ACCEPT = 'application/vnd.uploadcare-v0.7+json';

export interface ParameterInfo {
  name: string;
  required: boolean;
  description?: string;
  deprecated?: boolean;
  schema?: JsonSchema;
}

/** How a request body travels: JSON text, a URL-encoded form, a FormData the caller builds, or bytes as they are. */
type BodyKind = 'json' | 'form' | 'multipart' | 'raw';

export interface BodyInfo {
  kind: BodyKind;
  mediaType: string;
  required: boolean;
  description?: string;
  schema?: JsonSchema;
}

export interface SuccessResponse {
  status: string;
  /** False for an answer without a body (204, or a response that declares no content). */
  hasContent: boolean;
  /** True when the status says there is no body (204, 205). */
  empty: boolean;
  schema?: JsonSchema;
}

export interface OperationInfo {
  /** The client method's name: the operationId in camelCase, else the HTTP method and the path. */
  name: string;
  method: HttpMethod;
  path: string;
  /** First tag: selects the base URL an operation is sent to. */
  tag: string | null;
  summary?: string;
  description?: string;
  deprecated?: boolean;
  pathParams: ParameterInfo[];
  queryParams: ParameterInfo[];
  headerParams: ParameterInfo[];
  body: BodyInfo | null;
  success: SuccessResponse[];
  /** Schemas of the other answers (errors): their named shapes are exported for reading TroveApiError.body. */
  otherSchemas: JsonSchema[];
  /** The Accept header the operation needs, or null when any will do. */
  accept: string | null;
}

export interface SkippedOperation {
  method: HttpMethod;
  path: string;
  reason: string;
}

/** Headers the client sets itself (or the caller through its options), never typed per operation. */
const MANAGED_HEADERS = new Set(['accept', 'content-type', 'authorization']);

const isJsonMedia = (mediaType: string): boolean => /^application\/(?:[\w.+-]+\+)?json(?:;|$)/i.test(mediaType);

function resolve<T extends object>(document: OpenApiDocument, value: T | Reference): T | undefined {
  if (!isReference(value)) return value;
  const match = /^#\/components\/(parameters|requestBodies|responses)\/(.+)$/.exec(value.$ref);
  if (!match || !match[1] || !match[2]) return undefined;
  const section = document.components?.[match[1] as 'parameters' | 'requestBodies' | 'responses'] as Record<string, T> | undefined;
  return section?.[match[2].replace(/~1/g, '/').replace(/~0/g, '~')];
}

function mediaSchema(media: MediaType | undefined): JsonSchema | undefined {
  return media?.schema;
}

function parameterSchema(parameter: ParameterObject): JsonSchema | undefined {
  if (parameter.schema) return parameter.schema;
  const first = Object.keys(parameter.content ?? {}).sort()[0];
  return first === undefined ? undefined : mediaSchema(parameter.content?.[first]);
}

function toParameterInfo(parameter: ParameterObject): ParameterInfo {
  const schema = parameterSchema(parameter);
  return {
    name: parameter.name,
    required: parameter.in === 'path' || parameter.required === true,
    ...(parameter.description ? { description: parameter.description } : {}),
    ...(parameter.deprecated ? { deprecated: true } : {}),
    ...(schema ? { schema } : {}),
  };
}

function collectParameters(document: OpenApiDocument, pathLevel: Array<ParameterObject | Reference>, own: Array<ParameterObject | Reference>) {
  const byKey = new Map<string, ParameterObject>();
  for (const raw of [...pathLevel, ...own]) {
    const parameter = resolve(document, raw);
    if (parameter) byKey.set(`${parameter.in}:${parameter.name}`, parameter);
  }
  return [...byKey.values()];
}

function bodyOf(document: OpenApiDocument, raw: RequestBodyObject | Reference | undefined): BodyInfo | null {
  const body = raw && resolve(document, raw);
  const content = body?.content ?? {};
  const mediaTypes = Object.keys(content).sort();
  if (!body || mediaTypes.length === 0) return null;
  const pick = (test: (mediaType: string) => boolean, kind: BodyKind): BodyInfo | null => {
    const mediaType = mediaTypes.find(test);
    if (mediaType === undefined) return null;
    const schema = mediaSchema(content[mediaType]);
    return {
      kind,
      mediaType,
      required: body.required === true,
      ...(body.description ? { description: body.description } : {}),
      ...(schema ? { schema } : {}),
    };
  };
  return (
    pick(isJsonMedia, 'json') ??
    pick((m) => /^application\/x-www-form-urlencoded/i.test(m), 'form') ??
    pick((m) => /^multipart\/form-data/i.test(m), 'multipart') ??
    pick(() => true, 'raw')
  );
}

function successOf(document: OpenApiDocument, responses: Record<string, ResponseObject | Reference>): SuccessResponse[] {
  const success: SuccessResponse[] = [];
  for (const status of Object.keys(responses).sort()) {
    if (!/^2(?:\d\d|XX)$/i.test(status)) continue;
    const raw = responses[status];
    const response = raw && resolve(document, raw);
    if (!response) continue;
    const mediaTypes = Object.keys(response.content ?? {}).sort();
    const chosen = mediaTypes.find(isJsonMedia) ?? mediaTypes[0];
    const schema = chosen === undefined ? undefined : mediaSchema(response.content?.[chosen]);
    success.push({ status, hasContent: chosen !== undefined, empty: status === '204' || status === '205', ...(schema ? { schema } : {}) });
  }
  return success;
}

function otherSchemasOf(document: OpenApiDocument, responses: Record<string, ResponseObject | Reference>): JsonSchema[] {
  const schemas: JsonSchema[] = [];
  for (const status of Object.keys(responses).sort()) {
    const raw = responses[status];
    const response = raw && resolve(document, raw);
    if (/^2/.test(status) || !response) continue;
    for (const mediaType of Object.keys(response.content ?? {}).sort()) {
      const schema = mediaSchema(response.content?.[mediaType]);
      if (schema) schemas.push(schema);
    }
  }
  return schemas;
}

function acceptOf(document: OpenApiDocument, headers: ParameterObject[], tag: string | null, responses: Record<string, ResponseObject | Reference>): string | null {
  const acceptParameter = headers.find((parameter) => parameter.name.toLowerCase() === 'accept');
  const schema = acceptParameter && parameterSchema(acceptParameter);
  const declared = schema?.const ?? (schema?.enum?.length === 1 ? schema.enum[0] : undefined) ?? schema?.default;
  if (typeof declared === 'string') return declared;
  for (const status of Object.keys(responses).sort()) {
    const raw = responses[status];
    const response = raw && resolve(document, raw);
    const vendor = Object.keys(response?.content ?? {}).sort().find((m) => /^application\/vnd\.[^;]+\+json/i.test(m));
    if (/^2/.test(status) && vendor) return vendor;
  }
  return tag === REST_API_TAG ? REST_API_ACCEPT : null;
}

/** `get /files/{uuid}/metadata/{key}/` → getFilesByUuidMetadataByKey. */
export function fallbackOperationName(method: HttpMethod, path: string): string {
  const words = path
    .split('/')
    .filter((segment) => segment !== '')
    .map((segment) => {
      const param = /^\{(.+)\}$/.exec(segment);
      return param?.[1] ? `by ${param[1]}` : segment;
    });
  return camelCase([method, ...words].join(' '));
}

/**
 * Every operation of the document that a JSON client can call, in path order, with unique method names.
 * Names from `operationId` are handed out before fallback names, so adding an operationId to one route never
 * renames a method of another.
 */
export function collectOperations(document: OpenApiDocument): { operations: OperationInfo[]; skipped: SkippedOperation[] } {
  const found: Array<{ method: HttpMethod; path: string; operation: OperationObject; parameters: ParameterObject[] }> = [];
  const skipped: SkippedOperation[] = [];
  for (const path of Object.keys(document.paths ?? {}).sort()) {
    const item = document.paths?.[path];
    if (!item) continue;
    for (const method of HTTP_METHODS) {
      const operation = item[method];
      if (!operation) continue;
      if (path.includes('*')) {
        skipped.push({ method, path, reason: 'catch-all path: build its URL instead' });
        continue;
      }
      found.push({ method, path, operation, parameters: collectParameters(document, item.parameters ?? [], operation.parameters ?? []) });
    }
  }

  const methodNames = new NameScope(['constructor']);
  const names = new Map<(typeof found)[number], string>();
  for (const entry of found) {
    const id = entry.operation.operationId;
    if (id !== undefined && wordsOf(id).length > 0) names.set(entry, methodNames.claim(camelCase(id)));
  }
  for (const entry of found) {
    if (!names.has(entry)) names.set(entry, methodNames.claim(fallbackOperationName(entry.method, entry.path)));
  }

  const operations = found.map((entry): OperationInfo => {
    const { method, path, operation, parameters } = entry;
    const tag = operation.tags?.[0] ?? null;
    const responses = operation.responses ?? {};
    const declaredPath = parameters.filter((p) => p.in === 'path');
    const templated = [...path.matchAll(/\{([^}]+)\}/g)].map((match) => match[1] ?? '');
    const pathParams = templated.map((name) => {
      const declared = declaredPath.find((p) => p.name === name);
      return declared ? toParameterInfo(declared) : { name, required: true, schema: { type: 'string' } };
    });
    const headers = parameters.filter((p) => p.in === 'header');
    const body = bodyOf(document, operation.requestBody);
    return {
      name: names.get(entry) ?? fallbackOperationName(method, path),
      method,
      path,
      tag,
      ...(operation.summary ? { summary: operation.summary } : {}),
      ...(operation.description ? { description: operation.description } : {}),
      ...(operation.deprecated ? { deprecated: true } : {}),
      pathParams,
      queryParams: parameters.filter((p) => p.in === 'query').map(toParameterInfo),
      headerParams: headers.filter((p) => !MANAGED_HEADERS.has(p.name.toLowerCase())).map(toParameterInfo),
      body,
      success: successOf(document, responses),
      otherSchemas: otherSchemasOf(document, responses),
      accept: acceptOf(document, headers, tag, responses),
    };
  });
  return { operations, skipped };
}
