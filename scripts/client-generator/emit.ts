import { readFileSync } from 'node:fs';
import { NameScope, docComment, pascalCase, propertyKey, quote } from './names.js';
import type { OpenApiDocument } from './openapi-types.js';
import { collectOperations, type OperationInfo, type ParameterInfo, type SkippedOperation } from './operations.js';
import { SchemaTypes, type RenderedType } from './schema-types.js';

/** Names the runtime and the module declare, or globals it uses: a schema titled like one gets a suffix. */
const RESERVED_TYPE_NAMES = [
  'TroveClient', 'TroveClientOptions', 'TroveApiError', 'RequestOptions', 'TroveApiName', 'OperationSpec', 'OperationArgs',
  'Transport', 'API_MOUNTS', 'Response', 'Request', 'Headers', 'FormData', 'URLSearchParams', 'URL', 'Error', 'TypeError',
  'Record', 'Partial', 'Promise', 'Array', 'ReadonlyArray', 'Blob', 'ArrayBuffer', 'AbortSignal', 'RequestInit', 'Object',
  'String', 'Number', 'Boolean', 'JSON',
];

interface EmitOptions {
  /** The command that regenerates the file, named in its header. */
  command: string;
  /** Where the document comes from, named in the header. */
  source: string;
  /** Text of client-runtime.ts, copied into the module so that it depends on nothing. */
  runtime: string;
}

/** The text of client-runtime.ts next to this module. */
export function loadRuntimeSource(): string {
  return readFileSync(new URL('./client-runtime.ts', import.meta.url), 'utf8');
}

/**
 * Where each API is mounted by default: the path segments every one of its operations starts with (more than
 * one operation needed, so that a lone route is not mistaken for a mount). `baseUrls` replaces exactly that part.
 */
export function apiMounts(operations: OperationInfo[]): Map<string, string> {
  const byApi = new Map<string, string[][]>();
  for (const operation of operations) {
    if (operation.tag === null) continue;
    const segments = operation.path.split('/').slice(1);
    byApi.set(operation.tag, [...(byApi.get(operation.tag) ?? []), segments]);
  }
  const mounts = new Map<string, string>();
  for (const api of [...byApi.keys()].sort()) {
    const paths = byApi.get(api) ?? [];
    const distinct = new Set(paths.map((segments) => segments.join('/')));
    let common: string[] = [];
    if (distinct.size > 1) {
      const [first = [], ...others] = paths;
      // Never the whole of a path, never a path parameter.
      const limit = Math.min(...paths.map((segments) => segments.length - 1));
      for (let i = 0; i < limit; i++) {
        const segment = first[i];
        if (segment === undefined || segment === '' || segment.includes('{') || others.some((s) => s[i] !== segment)) break;
        common.push(segment);
      }
    }
    mounts.set(api, common.length === 0 ? '' : `/${common.join('/')}`);
  }
  return mounts;
}

interface OperationTypes {
  operation: OperationInfo;
  args: RenderedType;
  argsOptional: boolean;
  result: RenderedType;
}

function parametersType(types: SchemaTypes, parameters: ParameterInfo[], indent: string): RenderedType {
  const inner = `${indent}  `;
  const lines = parameters.map((parameter) => {
    const type = types.render(parameter.schema, inner);
    const doc = docComment([parameter.description, parameter.deprecated ? '@deprecated' : undefined], inner);
    return `${doc}${inner}${propertyKey(parameter.name)}${parameter.required ? '' : '?'}: ${type.text};`;
  });
  return { text: `{\n${lines.join('\n')}\n${indent}}`, compound: null, objectLiteral: true };
}

function operationTypes(types: SchemaTypes, operation: OperationInfo): OperationTypes {
  const sections: string[] = [];
  let argsOptional = true;
  const section = (name: string, parameters: ParameterInfo[]) => {
    if (parameters.length === 0) return;
    const required = parameters.some((parameter) => parameter.required);
    argsOptional &&= !required;
    sections.push(`  ${name}${required ? '' : '?'}: ${parametersType(types, parameters, '  ').text};`);
  };
  section('path', operation.pathParams);
  section('query', operation.queryParams);
  if (operation.body) {
    const body = operation.body;
    const type =
      body.kind === 'multipart'
        ? 'FormData'
        : body.kind === 'raw'
          ? 'Blob | ArrayBuffer | string'
          : types.render(body.schema, '  ').text;
    argsOptional &&= !body.required;
    sections.push(`${docComment([body.description, `Sent as ${body.mediaType}.`], '  ')}  body${body.required ? '' : '?'}: ${type};`);
  }
  section('headers', operation.headerParams);
  const args: RenderedType =
    sections.length === 0
      ? { text: 'Record<string, never>', compound: null, objectLiteral: false }
      : { text: `{\n${sections.join('\n')}\n}`, compound: null, objectLiteral: true };

  for (const schema of operation.otherSchemas) types.render(schema, '');
  const results = operation.success.map((response): RenderedType => {
    if (response.empty) return { text: 'void', compound: null, objectLiteral: false };
    return response.hasContent ? types.render(response.schema, '') : { text: 'unknown', compound: null, objectLiteral: false };
  });
  let result: RenderedType;
  if (results.length === 0) result = { text: 'unknown', compound: null, objectLiteral: false };
  else if (results.every((type) => type.text === 'void')) result = { text: 'void', compound: null, objectLiteral: false };
  else {
    const texts = [...new Set(results.map((type) => (type.text === 'void' ? 'undefined' : type.compound === 'intersection' ? `(${type.text})` : type.text)))];
    const first = results[0];
    result = texts.length === 1 && first ? first : { text: texts.includes('unknown') ? 'unknown' : texts.join(' | '), compound: texts.includes('unknown') ? null : 'union', objectLiteral: false };
  }
  return { operation, args, argsOptional, result };
}

function methodSource(entry: OperationTypes, argsName: string, resultName: string): string {
  const { operation } = entry;
  const doc = docComment(
    [operation.summary, operation.description, `\`${operation.method.toUpperCase()} ${operation.path}\``, operation.deprecated ? '@deprecated' : undefined],
    '  ',
  );
  return doc + [
    `  ${operation.name}(args: ${argsName}${entry.argsOptional ? ' = {}' : ''}, options?: RequestOptions): Promise<${resultName}> {`,
    `    return this.#send<${resultName}>(OPERATIONS.${operation.name}, args, options);`,
    '  }',
  ].join('\n');
}

function specSource(operation: OperationInfo, mounts: Map<string, string>): string {
  const mount = operation.tag === null ? '' : (mounts.get(operation.tag) ?? '');
  const body = operation.body ? `{ kind: ${quote(operation.body.kind)}, mediaType: ${quote(operation.body.mediaType)} }` : 'null';
  const fields = [
    `method: ${quote(operation.method.toUpperCase())}`,
    `path: ${quote(operation.path.slice(mount.length))}`,
    `api: ${operation.tag === null ? 'null' : quote(operation.tag)}`,
    `accept: ${operation.accept === null ? 'null' : quote(operation.accept)}`,
    `body: ${body}`,
  ];
  return `  ${operation.name}: { ${fields.join(', ')} },`;
}

function skippedSource(skipped: SkippedOperation[]): string {
  if (skipped.length === 0) return '';
  const lines = skipped.map((s) => `//   ${s.method.toUpperCase()} ${s.path}: ${s.reason}`);
  return `// Operations of the document without a method:\n${lines.join('\n')}\n\n`;
}

/** The module text for a document: same document and options in, same bytes out. */
export function emitClient(document: OpenApiDocument, options: EmitOptions): string {
  const names = new NameScope(RESERVED_TYPE_NAMES);
  const types = new SchemaTypes(document, names);
  const { operations, skipped } = collectOperations(document);
  // Types first, aliases after: a titled schema keeps its own name even if an alias would have wanted it.
  const typed = operations.map((operation) => operationTypes(types, operation));
  const aliases = typed.map((entry) => ({
    entry,
    argsName: names.claim(`${pascalCase(entry.operation.name)}Args`),
    resultName: names.claim(`${pascalCase(entry.operation.name)}Result`),
  }));
  const mounts = apiMounts(operations);

  const title = [document.info?.title, document.info?.version].filter(Boolean).join(' ');
  const out: string[] = [];
  out.push(
    `// Generated by \`${options.command}\` from ${options.source}${title ? ` (${title})` : ''}.`,
    '// Do not edit: change the routes\' schemas, then run the command again.',
    '',
  );
  const declarations = types.declarations();
  if (declarations.length > 0) out.push('// Shapes named in the document.', '', declarations.join('\n\n'), '');
  out.push('// Arguments and results of each operation.', '');
  for (const { entry, argsName, resultName } of aliases) {
    out.push(
      entry.args.objectLiteral ? `export interface ${argsName} ${entry.args.text}` : `export type ${argsName} = ${entry.args.text};`,
      entry.result.objectLiteral ? `export interface ${resultName} ${entry.result.text}` : `export type ${resultName} = ${entry.result.text};`,
      '',
    );
  }
  out.push('// Sending requests.', '', options.runtime.trim(), '');
  const mountLines = [...mounts].map(([api, mount]) => `  ${propertyKey(api)}: ${quote(mount)},`);
  out.push(
    '/** The path each API is mounted at below `baseUrl` by default; `baseUrls` replaces `baseUrl` + this. */',
    mountLines.length === 0 ? 'export const API_MOUNTS = {} as const;' : `export const API_MOUNTS = {\n${mountLines.join('\n')}\n} as const;`,
    '',
    'export type TroveApiName = keyof typeof API_MOUNTS;',
    '',
    `const OPERATIONS = {\n${operations.map((operation) => specSource(operation, mounts)).join('\n')}\n} satisfies Record<string, OperationSpec<TroveApiName>>;`,
    '',
    skippedSource(skipped) +
      '/** A typed client of Trove: one method per operation of the OpenAPI document. Non-2xx answers throw TroveApiError. */',
    'export class TroveClient {',
    '  readonly #send: Transport<TroveApiName>;',
    '',
    '  constructor(options: TroveClientOptions<TroveApiName>) {',
    '    this.#send = createTransport<TroveApiName>(options, API_MOUNTS);',
    '  }',
  );
  for (const { entry, argsName, resultName } of aliases) out.push('', methodSource(entry, argsName, resultName));
  out.push('}', '');
  return out.join('\n');
}
