/** Names and literals in the emitted TypeScript. */

const RESERVED_WORDS = new Set(
  (
    'break case catch class const continue debugger default delete do else enum export extends false finally for ' +
    'function if import in instanceof new null return super switch this throw true try typeof var void while with ' +
    'as implements interface let package private protected public static yield any boolean number string symbol ' +
    'unknown never object undefined type await async'
  ).split(' '),
);

/** Words of a name: `list_files`, `list-files`, `listFiles` and `ListFiles` all give list, files. */
export function wordsOf(text: string): string[] {
  return text
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .replace(/([A-Z]+)([A-Z][a-z])/g, '$1 $2')
    .split(/[^A-Za-z0-9]+/)
    .filter((word) => word.length > 0)
    .map((word) => word.toLowerCase());
}

const capitalize = (word: string): string => word.charAt(0).toUpperCase() + word.slice(1);

export function pascalCase(text: string): string {
  const name = wordsOf(text).map(capitalize).join('');
  return /^[0-9]/.test(name) ? `T${name}` : name;
}

export function camelCase(text: string): string {
  const [first = '', ...rest] = wordsOf(text);
  const name = first + rest.map(capitalize).join('');
  return /^[0-9]/.test(name) ? `op${capitalize(name)}` : name;
}

/** A string literal in single quotes. */
export function quote(text: string): string {
  return `'${text.replace(/\\/g, '\\\\').replace(/'/g, "\\'").replace(/\n/g, '\\n').replace(/\r/g, '\\r').replace(/\u2028/g, '\\u2028').replace(/\u2029/g, '\\u2029')}'`;
}

/** A property key: bare when it is an identifier, quoted otherwise. */
export function propertyKey(name: string): string {
  return /^[A-Za-z_$][A-Za-z0-9_$]*$/.test(name) ? name : quote(name);
}

/** A JSDoc block (empty when there is nothing to say), each line prefixed by `indent`. */
export function docComment(lines: Array<string | undefined>, indent: string): string {
  const paragraphs = lines.filter((line): line is string => line !== undefined && line.trim() !== '');
  if (paragraphs.length === 0) return '';
  const text = paragraphs
    .join('\n\n')
    .replace(/\*\//g, '*\\/')
    .split('\n')
    .map((line) => line.trimEnd());
  if (text.length === 1) return `${indent}/** ${text[0]} */\n`;
  return `${indent}/**\n${text.map((line) => (line === '' ? `${indent} *` : `${indent} * ${line}`)).join('\n')}\n${indent} */\n`;
}

/** Hands out unique names: a taken or reserved name gets the first free numeric suffix (Name2, Name3, …). */
export class NameScope {
  readonly #taken = new Set<string>();

  constructor(reserved: Iterable<string> = []) {
    for (const name of reserved) this.#taken.add(name);
  }

  claim(wanted: string): string {
    let name = wanted;
    for (let n = 2; this.#taken.has(name) || RESERVED_WORDS.has(name); n++) name = `${wanted}${n}`;
    this.#taken.add(name);
    return name;
  }
}
