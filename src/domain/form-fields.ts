/** Form or query fields in arrival order; a name may repeat. */
export type Fields = ReadonlyArray<readonly [string, string]>;

/** The last value sent under `name` (later fields override earlier ones, as the Upload API does). */
export function lastField(fields: Fields, name: string): string | undefined {
  for (let i = fields.length - 1; i >= 0; i--) if (fields[i]![0] === name) return fields[i]![1];
  return undefined;
}
