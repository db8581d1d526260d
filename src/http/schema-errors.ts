/**
 * What a request refused by its route schema is told. A schema node may carry the message (and the
 * status) its failures answer with, so the wording lives next to the rule it explains:
 *
 *   Type.String({ pattern, ...rejects('`limit` must be an integer from 1 to 1000.') })
 *   Type.Object({ uuid }, rejects('Not found.', 404))
 *   Type.String(rejects({ required: '`source` parameter is required.', default: 'Bad `source` parameter.' }))
 *
 * The deepest node on the failing schema path that has a message for the failing keyword wins; a
 * missing property is explained by that property's own schema (keyword `required`). Messages may
 * name `{additional}` (the properties the object does not know, as "`a`, `b`"), `{key}` (the name
 * or index of the failing value) and `{value}` (the failing value as JSON, 40 characters at most).
 */

import type { FieldErrors } from '../errors.js';

/** Annotation keywords: registered with Ajv so strict mode knows them; shown in the OpenAPI document as extensions. */
const ERROR_MESSAGE_KEYWORD = 'x-error-message';
const ERROR_STATUS_KEYWORD = 'x-error-status';

/**
 * Fastify's Ajv options: a schema accepts what it says (no "true" for a boolean, no "12" for a number:
 * query values are strings and their schemas say so), an unknown property is refused where a schema
 * forbids it rather than dropped, and the annotation keywords are known to strict mode.
 */
export const SCHEMA_VALIDATION_OPTIONS = {
  customOptions: { coerceTypes: false, removeAdditional: false, keywords: [ERROR_MESSAGE_KEYWORD, ERROR_STATUS_KEYWORD] },
};

/** One message for every failure of a node, or one per JSON Schema keyword (`default` for the others). */
type ErrorMessages = string | Readonly<Record<string, string>>;

/** Schema options that say how a failure of this node is answered. */
export function rejects(message: ErrorMessages, status?: 400 | 404): Record<string, unknown> {
  return { [ERROR_MESSAGE_KEYWORD]: message, ...(status === undefined ? {} : { [ERROR_STATUS_KEYWORD]: status }) };
}

/**
 * The field a failure is about, as a path of property names: the failing value's own path, plus the
 * property that is missing (`required`) or unknown (`additionalProperties`); positions in lists are
 * left out, so a bad list item is the list's error.
 */
export function fieldPathOf(issue: SchemaIssue): string[] {
  const path = pointerSegments(issue.instancePath).filter((segment) => !/^[0-9]+$/.test(segment));
  const named = issue.keyword === 'required' ? issue.params.missingProperty : issue.keyword === 'additionalProperties' ? issue.params.additionalProperty : undefined;
  if (typeof named === 'string') path.push(named);
  return path;
}

/** One message keyed by its field path (`non_field_errors` at the top for the whole request). */
export function fieldErrorsAt(path: readonly string[], message: string): FieldErrors {
  const leaf: FieldErrors = { [path.at(-1) ?? 'non_field_errors']: [message] };
  return path.slice(0, -1).reduceRight<FieldErrors>((inner, segment) => ({ [segment]: inner }), leaf);
}

/** The part of an Ajv error the answer is chosen from. */
export interface SchemaIssue {
  keyword: string;
  instancePath: string;
  schemaPath: string;
  params: Record<string, unknown>;
}

interface SchemaRefusal {
  status: number;
  message: string;
}

type Node = Record<string, unknown>;

/** How many unknown keys a refusal names. */
const MAX_NAMED_KEYS = 10;

const isNode = (value: unknown): value is Node => typeof value === 'object' && value !== null && !Array.isArray(value);

function messageOf(node: Node, keyword: string): string | undefined {
  const messages = node[ERROR_MESSAGE_KEYWORD];
  if (typeof messages === 'string') return messages;
  if (!isNode(messages)) return undefined;
  const chosen = messages[keyword] ?? messages.default;
  return typeof chosen === 'string' ? chosen : undefined;
}

const pointerSegments = (pointer: string): string[] =>
  pointer
    .replace(/^#/, '')
    .split('/')
    .filter((segment) => segment !== '')
    .map((segment) => decodeURIComponent(segment).replace(/~1/g, '/').replace(/~0/g, '~'));

function valueAt(data: unknown, instancePath: string): unknown {
  let value = data;
  for (const segment of pointerSegments(instancePath)) {
    if (typeof value !== 'object' || value === null) return undefined;
    value = (value as Record<string, unknown>)[segment];
  }
  return value;
}

function fill(template: string, node: Node, issue: SchemaIssue, data: unknown): string {
  const value = valueAt(data, issue.instancePath);
  return template.replace(/\{(additional|key|value)\}/g, (_match, name: string) => {
    if (name === 'key') return pointerSegments(issue.instancePath).at(-1) ?? '';
    if (name === 'value') return JSON.stringify(value)?.slice(0, 40) ?? String(value);
    const known = isNode(node.properties) ? node.properties : {};
    const names = isNode(value) ? Object.keys(value).filter((key) => !Object.hasOwn(known, key)) : [];
    // A body may carry thousands of unknown keys: the answer names a few, not an echo of the body.
    const named = names.slice(0, MAX_NAMED_KEYS).map((key) => `\`${key.slice(0, 64)}\``);
    return names.length > MAX_NAMED_KEYS ? `${named.join(', ')} and ${names.length - MAX_NAMED_KEYS} more` : named.join(', ');
  });
}

/**
 * The answer to the first failure Ajv reported for `data` against `schema` (the route's schema of
 * that request part); null when the schema says nothing about it, so the caller answers generically.
 */
export function refusalFor(schema: unknown, issue: SchemaIssue, data: unknown): SchemaRefusal | null {
  if (!isNode(schema)) return null;
  let message: { template: string; node: Node } | undefined;
  let status = 400;
  const consider = (node: Node): void => {
    const found = messageOf(node, issue.keyword);
    if (found !== undefined) message = { template: found, node };
    const code = node[ERROR_STATUS_KEYWORD];
    if (typeof code === 'number') status = code;
  };
  let node: Node = schema;
  consider(node);
  // The last segment is the failing keyword; the ones before lead to the schema node that holds it.
  let step: unknown = schema;
  for (const segment of pointerSegments(issue.schemaPath).slice(0, -1)) {
    // Through `anyOf`, `items`, `properties`…: arrays of schemas are stepped through by index.
    step = typeof step === 'object' && step !== null ? (step as Record<string, unknown>)[segment] : undefined;
    if (step === undefined) break;
    if (isNode(step)) {
      node = step;
      consider(node);
    }
  }
  if (issue.keyword === 'required' && typeof issue.params.missingProperty === 'string' && isNode(node.properties)) {
    const missing = node.properties[issue.params.missingProperty];
    if (isNode(missing)) consider(missing);
  }
  return message ? { status, message: fill(message.template, message.node, issue, data) } : null;
}
