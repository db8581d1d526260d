/**
 * How `POST /files/remote_copy/` names the object it writes: Uploadcare's pattern variables, the
 * file-name cleaning Uploadcare applies to copies, and the rules an object key must follow.
 *
 * - `${default}` = `${uuid}/${auto_filename}`
 * - `${auto_filename}` = `${filename}${effects}${ext}`
 * - `${effects}`: the CDN operations of the source, as the URL wrote them, each segment after a `/`
 *   (`/-/resize/200x/-/format/webp`); empty for an original. So `${uuid}${effects}` is the CDN path.
 * - `${filename}`: the original filename without its extension, keeping only `A–Z a–z 0–9 _`
 *   (`noroot` when nothing is left), as Uploadcare cleans names for S3.
 * - `${uuid}`: the source file's uuid.
 * - `${ext}`: the extension with its dot (`.jpg`), letters and digits only; for a derivative whose
 *   format differs from the original's, the extension of the derivative's format.
 */
import { parseUploadcarePath, type ParseLimits } from './transform/uploadcare-parser.js';

const COPY_PATTERN_VARIABLES = ['default', 'auto_filename', 'effects', 'filename', 'uuid', 'ext'] as const;
type CopyPatternVariable = (typeof COPY_PATTERN_VARIABLES)[number];

export const DEFAULT_COPY_PATTERN = '${default}';
export const MAX_COPY_PATTERN_LENGTH = 512;
/** S3's limit on a key, in UTF-8 bytes. */
const MAX_OBJECT_KEY_BYTES = 1024;

const EMPTY_FILENAME = 'noroot';
const MAX_EXTENSION_LENGTH = 16;
const TOKEN = /\$\{([^}]*)\}/g;
const CONTROL = /[\u0000-\u001f\u007f]/;

const VARIABLE_LIST = COPY_PATTERN_VARIABLES.map((name) => `\${${name}}`).join(', ');

/** What is wrong with a pattern, or null when it can be expanded. */
export function copyPatternProblem(pattern: string): string | null {
  if (pattern.length > MAX_COPY_PATTERN_LENGTH) return `it is ${pattern.length} characters long; at most ${MAX_COPY_PATTERN_LENGTH} are allowed.`;
  if (CONTROL.test(pattern)) return 'it contains control characters.';
  for (const match of pattern.matchAll(TOKEN)) {
    const name = match[1]!;
    if (!(COPY_PATTERN_VARIABLES as readonly string[]).includes(name)) {
      return `unknown variable ${quoteToken(match[0])}; use any of ${VARIABLE_LIST}.`;
    }
  }
  // A `${` left over once the variables are out opens a variable it never closes.
  if (pattern.replace(TOKEN, '').includes('${')) return `a \`\${\` is not closed; use any of ${VARIABLE_LIST}.`;
  return null;
}

function quoteToken(token: string): string {
  return token.length > 40 ? `${token.slice(0, 40)}…` : token;
}

interface CopyNameParts {
  uuid: string;
  filename: string;
  ext: string;
  effects: string;
}

/** The pattern with every variable replaced; values are never read as pattern text again. */
export function expandCopyPattern(pattern: string, parts: CopyNameParts): string {
  const autoFilename = `${parts.filename}${parts.effects}${parts.ext}`;
  const values: Record<CopyPatternVariable, string> = {
    default: `${parts.uuid}/${autoFilename}`,
    auto_filename: autoFilename,
    effects: parts.effects,
    filename: parts.filename,
    uuid: parts.uuid,
    ext: parts.ext,
  };
  return pattern.replace(TOKEN, (token, name: string) => (Object.hasOwn(values, name) ? values[name as CopyPatternVariable] : token));
}

/** `${filename}` and `${ext}` of an original filename, cleaned as Uploadcare cleans names for S3. */
export function filenameParts(originalFilename: string): { filename: string; ext: string } {
  const name = originalFilename.split(/[/\\]/).at(-1) ?? '';
  const dot = name.lastIndexOf('.');
  const base = dot > 0 ? name.slice(0, dot) : name;
  const rawExt = dot > 0 ? name.slice(dot + 1) : '';
  const filename = base.replace(/[^A-Za-z0-9_]/g, '') || EMPTY_FILENAME;
  const ext = rawExt.replace(/[^A-Za-z0-9]/g, '').slice(0, MAX_EXTENSION_LENGTH);
  return { filename, ext: ext ? `.${ext}` : '' };
}

const EXTENSIONS: Readonly<Record<string, string>> = {
  'image/jpeg': '.jpg',
  'image/png': '.png',
  'image/webp': '.webp',
  'image/avif': '.avif',
  'image/gif': '.gif',
  'application/json': '.json',
};

/** `${ext}` of a derivative: the original's when the type is unchanged, else that of the new type. */
export function derivativeExtension(originalExt: string, originalMimeType: string, derivativeMimeType: string): string {
  const type = derivativeMimeType.split(';')[0]!.trim().toLowerCase();
  if (type === originalMimeType.toLowerCase()) return originalExt;
  return EXTENSIONS[type] ?? originalExt;
}

/**
 * `${effects}` of a copy's CDN operations (the part after the uuid): each segment of the
 * operations after a `/`, without the filename the URL may end with.
 */
export function copyEffects(operations: string, limits: ParseLimits): string {
  const segments = operations.split('/').filter((segment) => segment !== '');
  if (segments[0] !== '-') return '';
  // The parser takes a last segment as a filename only when the path does not end with `/`:
  // if the same operations fail to parse with a `/` after them, that segment was the filename.
  let kept = segments;
  try {
    parseUploadcarePath(`${segments.join('/')}/`, { ...limits, maxUrlLength: limits.maxUrlLength + 1 });
  } catch {
    kept = segments.slice(0, -1);
  }
  return kept.length === 0 ? '' : `/${kept.join('/')}`;
}

/** A storage's prefix and an expanded pattern: the object key. */
export function objectKeyOf(prefix: string, name: string): string {
  return prefix === '' ? name : `${prefix}/${name}`;
}

/** What is wrong with an object key, or null. Rules that keep a key meaning one object everywhere. */
export function objectKeyProblem(key: string): string | null {
  if (key === '') return 'it is empty.';
  const bytes = Buffer.byteLength(key, 'utf8');
  if (bytes > MAX_OBJECT_KEY_BYTES) return `it is ${bytes} bytes long; S3 allows at most ${MAX_OBJECT_KEY_BYTES}.`;
  if (CONTROL.test(key)) return 'it contains control characters.';
  if (key.startsWith('/')) return 'it starts with `/`.';
  const segments = key.split('/');
  if (segments.some((segment) => segment === '.' || segment === '..')) return 'it has a `.` or `..` path segment.';
  if (segments.slice(0, -1).some((segment) => segment === '')) return 'it has an empty path segment (`//`).';
  if (key.endsWith('/')) return 'it ends with `/`, which names a folder, not a file.';
  return null;
}

/** Uploadcare's answer: an s3 URL with the bucket as host and the key as path. */
export function s3UrlOf(bucket: string, key: string): string {
  return `s3://${bucket}/${key}`;
}
