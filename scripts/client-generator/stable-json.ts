import type { JsonValue } from './openapi-types.js';

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * A copy with the keys of every object sorted, so that the document's bytes do not depend on the order in
 * which routes or plugins happened to be registered. The members of a `properties` map keep their order:
 * it is the order the fields of a type are written in.
 */
export function sortKeys(value: unknown, keepOrder = false): JsonValue {
  if (Array.isArray(value)) return value.map((item) => sortKeys(item));
  if (!isPlainObject(value)) {
    if (value === undefined) throw new Error('undefined has no JSON form');
    return value as JsonValue;
  }
  const keys = Object.keys(value).filter((key) => value[key] !== undefined);
  if (!keepOrder) keys.sort();
  const sorted: Record<string, JsonValue> = {};
  for (const key of keys) sorted[key] = sortKeys(value[key], key === 'properties' && !keepOrder);
  return sorted;
}

/** JSON text of a value with sorted keys: two equal values always give the same text. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(sortKeys(value));
}

/** The form written to disk: sorted, two-space indented, one trailing newline. */
export function stableJsonFile(value: unknown): string {
  return `${JSON.stringify(sortKeys(value), null, 2)}\n`;
}
