import { canonicalJson } from './stable-json.js';
import { type NameScope, docComment, pascalCase, propertyKey, quote } from './names.js';
import type { JsonSchema, JsonValue, OpenApiDocument } from './openapi-types.js';

/** A TypeScript type expression, with what it needs to be safely nested in another one. */
export interface RenderedType {
  text: string;
  /** Top-level `|` or `&`: needs parentheses inside an array or an intersection. */
  compound: 'union' | 'intersection' | null;
  /** A `{ … }` literal: a named one becomes an interface. */
  objectLiteral: boolean;
}

const COMPONENT_SCHEMA_PREFIX = '#/components/schemas/';
const primary = (text: string): RenderedType => ({ text, compound: null, objectLiteral: false });
const UNKNOWN = primary('unknown');

function literal(value: JsonValue): string {
  if (typeof value === 'string') return quote(value);
  if (typeof value === 'number' || typeof value === 'boolean' || value === null) return String(value);
  return 'unknown';
}

// Members of the unions built here, so that nested unions flatten without parsing their text again.
const unionMembers = new WeakMap<RenderedType, RenderedType[]>();

function unionOf(members: RenderedType[]): RenderedType {
  const parts: RenderedType[] = [];
  for (const member of members) {
    if (member.text === 'unknown') return UNKNOWN;
    for (const part of unionMembers.get(member) ?? [member]) {
      if (!parts.some((known) => known.text === part.text)) parts.push(part);
    }
  }
  const [first] = parts;
  if (!first) return primary('never');
  if (parts.length === 1) return first;
  const text = parts.map((part) => (part.compound === 'intersection' ? `(${part.text})` : part.text)).join(' | ');
  const result: RenderedType = { text, compound: 'union', objectLiteral: false };
  unionMembers.set(result, parts);
  return result;
}

function intersection(members: RenderedType[]): RenderedType {
  const parts = members.filter((member) => member.text !== 'unknown');
  if (parts.length === 0) return UNKNOWN;
  if (parts.length === 1 && parts[0]) return parts[0];
  return { text: parts.map((m) => (m.compound === 'union' ? `(${m.text})` : m.text)).join(' & '), compound: 'intersection', objectLiteral: false };
}

function arrayOf(item: RenderedType): RenderedType {
  return primary(item.compound ? `Array<${item.text}>` : `${item.text}[]`);
}

function typesOf(schema: JsonSchema): string[] {
  if (Array.isArray(schema.type)) return schema.type;
  if (typeof schema.type === 'string') return [schema.type];
  if (schema.properties || schema.additionalProperties !== undefined || schema.patternProperties) return ['object'];
  if (schema.items || schema.prefixItems) return ['array'];
  return [];
}

/**
 * Turns JSON Schemas into TypeScript types. Schemas under `components.schemas` and schemas with a `title`
 * become exported named types (the same titled shape, inlined by TypeBox at every use, becomes one type);
 * everything else is written inline.
 */
export class SchemaTypes {
  readonly #document: OpenApiDocument;
  readonly #names: NameScope;
  /** `#/components/schemas/<key>` → type name. */
  readonly #componentNames = new Map<string, string>();
  /** Canonical JSON of a titled or component schema → type name. */
  readonly #namesByShape = new Map<string, string>();
  readonly #declarations = new Map<string, string>();

  constructor(document: OpenApiDocument, names: NameScope) {
    this.#document = document;
    this.#names = names;
    const schemas = document.components?.schemas ?? {};
    for (const key of Object.keys(schemas).sort()) {
      const schema = schemas[key];
      if (!schema) continue;
      const name = this.#names.claim(pascalCase(schema.title ?? key) || 'Schema');
      this.#componentNames.set(`${COMPONENT_SCHEMA_PREFIX}${key}`, name);
      this.#namesByShape.set(canonicalJson(schema), name);
    }
    for (const key of Object.keys(schemas).sort()) {
      const schema = schemas[key];
      const name = this.#componentNames.get(`${COMPONENT_SCHEMA_PREFIX}${key}`);
      if (schema && name) this.#declare(name, schema);
    }
  }

  /** The type of values matching `schema`, written for a line indented by `indent`. */
  render(schema: JsonSchema | undefined, indent = ''): RenderedType {
    if (schema === undefined) return UNKNOWN;
    if (schema.$ref !== undefined) return this.#renderRef(schema.$ref, indent);
    if (schema.title !== undefined && pascalCase(schema.title) !== '') return primary(this.#nameOf(schema));
    return this.#renderShape(schema, indent);
  }

  /** Every named type, sorted by name. */
  declarations(): string[] {
    return [...this.#declarations.keys()].sort().map((name) => this.#declarations.get(name) ?? '');
  }

  #nameOf(schema: JsonSchema & { title?: string }): string {
    const shape = canonicalJson(schema);
    const known = this.#namesByShape.get(shape);
    if (known) return known;
    const name = this.#names.claim(pascalCase(schema.title ?? '') || 'Schema');
    this.#namesByShape.set(shape, name);
    this.#declare(name, schema);
    return name;
  }

  #declare(name: string, schema: JsonSchema): void {
    this.#declarations.set(name, '');
    const type = this.#renderShape(schema, '');
    const doc = docComment([schema.description, schema.deprecated ? '@deprecated' : undefined], '');
    const body = type.objectLiteral ? `export interface ${name} ${type.text}` : `export type ${name} = ${type.text};`;
    this.#declarations.set(name, `${doc}${body}`);
  }

  #renderRef(ref: string, indent: string): RenderedType {
    const component = this.#componentNames.get(ref);
    if (component) return primary(component);
    const target = this.#resolvePointer(ref);
    return target ? this.render(target, indent) : UNKNOWN;
  }

  #resolvePointer(ref: string): JsonSchema | undefined {
    if (!ref.startsWith('#/')) return undefined;
    let node: unknown = this.#document;
    for (const raw of ref.slice(2).split('/')) {
      const key = raw.replace(/~1/g, '/').replace(/~0/g, '~');
      if (typeof node !== 'object' || node === null) return undefined;
      node = (node as Record<string, unknown>)[key];
    }
    return typeof node === 'object' && node !== null && !Array.isArray(node) ? (node) : undefined;
  }

  #renderShape(schema: JsonSchema, indent: string): RenderedType {
    let base: RenderedType | null = null;
    if (schema.const !== undefined) base = primary(literal(schema.const));
    else if (schema.enum !== undefined) base = unionOf(schema.enum.map((value) => primary(literal(value))));
    else {
      const types = typesOf(schema);
      if (types.length > 0) base = unionOf(types.map((type) => this.#renderType(type, schema, indent)));
    }
    const alternatives = schema.anyOf ?? schema.oneOf;
    const parts: RenderedType[] = [];
    if (base) parts.push(base);
    if (alternatives) parts.push(unionOf(alternatives.map((member) => this.render(member, indent))));
    for (const member of schema.allOf ?? []) parts.push(this.render(member, indent));
    let type = parts.length === 0 ? UNKNOWN : intersection(parts);
    if (schema.nullable === true && type.text !== 'unknown') type = unionOf([type, primary('null')]);
    return type;
  }

  #renderType(type: string, schema: JsonSchema, indent: string): RenderedType {
    switch (type) {
      case 'string':
        return primary('string');
      case 'number':
      case 'integer':
        return primary('number');
      case 'boolean':
        return primary('boolean');
      case 'null':
        return primary('null');
      case 'array':
        return this.#renderArray(schema, indent);
      case 'object':
        return this.#renderObject(schema, indent);
      default:
        return UNKNOWN;
    }
  }

  #renderArray(schema: JsonSchema, indent: string): RenderedType {
    const tuple = schema.prefixItems ?? (Array.isArray(schema.items) ? schema.items : undefined);
    if (tuple) return primary(`[${tuple.map((item) => this.render(item, indent).text).join(', ')}]`);
    return arrayOf(Array.isArray(schema.items) ? UNKNOWN : this.render(schema.items, indent));
  }

  #renderObject(schema: JsonSchema, indent: string): RenderedType {
    const inner = `${indent}  `;
    const properties = schema.properties ?? {};
    const required = new Set(schema.required ?? []);
    const lines: string[] = [];
    const propertyTypes: RenderedType[] = [];
    for (const [name, property] of Object.entries(properties)) {
      const type = this.render(property, inner);
      const optional = !required.has(name);
      propertyTypes.push(optional ? unionOf([type, primary('undefined')]) : type);
      const doc = docComment([property.description, property.deprecated ? '@deprecated' : undefined], inner);
      lines.push(`${doc}${inner}${propertyKey(name)}${optional ? '?' : ''}: ${type.text};`);
    }
    const extra = this.#additionalType(schema, inner, lines.length > 0);
    if (extra) {
      // An index signature must admit every declared property's type too.
      const indexType = extra.text === 'unknown' || propertyTypes.length === 0 ? extra : unionOf([extra, ...propertyTypes]);
      lines.push(`${inner}[key: string]: ${indexType.text};`);
    }
    if (lines.length === 0) return primary('Record<string, never>');
    return { text: `{\n${lines.join('\n')}\n${indent}}`, compound: null, objectLiteral: true };
  }

  /** The type of properties beyond the declared ones, or null when there are none (or only unnamed extras). */
  #additionalType(schema: JsonSchema, indent: string, hasProperties: boolean): RenderedType | null {
    const patterns = Object.values(schema.patternProperties ?? {}).map((value) => this.render(value, indent));
    const additional = schema.additionalProperties;
    if (additional === false) return patterns.length > 0 ? unionOf(patterns) : null;
    if (additional === undefined || additional === true) {
      if (patterns.length > 0 && additional === undefined) return unionOf(patterns);
      // Undeclared extras are not typed when fields are declared, unless the schema says it allows them.
      return additional === true || !hasProperties ? UNKNOWN : null;
    }
    return unionOf([this.render(additional, indent), ...patterns]);
  }
}

