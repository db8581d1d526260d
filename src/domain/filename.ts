/**
 * File names as clients send them are untrusted text: they may carry directory parts, control
 * characters, bidi overrides that disguise the extension (`evil\u202Egnp.exe` renders as
 * `evilexe.png`), or be absurdly long. These helpers turn them into what Trove stores and shows.
 */

/** Uploadcare's name for a file whose name is missing or unusable. */
export const DEFAULT_FILENAME = 'original';

/** Longest `original_filename` kept, in UTF-8 bytes: the common file-system limit. */
const MAX_ORIGINAL_FILENAME_BYTES = 255;

/** Longest URL-safe `filename`, in characters (all ASCII, so also bytes). */
const MAX_SAFE_FILENAME_LENGTH = 128;

/** An extension longer than this is more likely part of the name than a real extension. */
const MAX_EXTENSION_BYTES = 32;
const MAX_SAFE_EXTENSION_LENGTH = 16;

// C0 controls, DEL and C1 controls.
const CONTROL_CHARACTERS = /[\u0000-\u001F\u007F-\u009F]/g;
// Embeddings/overrides (U+202A–U+202E), isolates (U+2066–U+2069) and the invisible direction
// marks (LRM, RLM, ALM): all of them can reorder or hide what a reader sees of the name.
const BIDI_CONTROLS = /[\u202A-\u202E\u2066-\u2069\u200E\u200F\u061C]/g;
// Unpaired UTF-16 surrogates cannot be encoded as UTF-8; they would silently become U+FFFD later.
const LONE_SURROGATES = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;
const PATH_SEPARATORS = /[/\\]/;

const graphemes = new Intl.Segmenter(undefined, { granularity: 'grapheme' });

/**
 * What Trove keeps as `original_filename`: the last path component, stripped of control and bidi
 * characters, trimmed (including the trailing dots and spaces Windows drops), at most 255 UTF-8
 * bytes with the extension kept, or `'original'` when nothing usable is left.
 */
export function sanitizeOriginalFilename(raw: string | undefined | null): string {
  if (raw === undefined || raw === null) return DEFAULT_FILENAME;
  return cleanFilename(raw) ?? DEFAULT_FILENAME;
}

/**
 * The cleaning every client-supplied name gets, whether it is stored (`original_filename`) or
 * taken from a delivery URL for Content-Disposition: see sanitizeOriginalFilename. Null when
 * nothing usable is left, so each caller picks its own fallback.
 */
export function cleanFilename(raw: string): string | null {
  const cleaned = raw
    .replace(LONE_SURROGATES, '\uFFFD')
    .replace(CONTROL_CHARACTERS, '')
    .replace(BIDI_CONTROLS, '');
  // `dir/` names the directory; the last non-blank component is the most faithful name.
  const components = cleaned.split(PATH_SEPARATORS).map(trimName).filter((part) => part !== '');
  const name = components.at(-1) ?? '';
  if (name === '' || name === '.' || name === '..') return null;
  const capped = capUtf8Bytes(name, MAX_ORIGINAL_FILENAME_BYTES);
  return capped === '' ? null : capped;
}

/**
 * The URL-safe `filename` Uploadcare returns next to `original_filename`: ASCII letters, digits,
 * `.`, `_` and `-`; every other run of characters becomes one `_`; no leading (or trailing) dot;
 * at most 128 characters with the extension kept; `'original'` when empty.
 */
export function safeFilename(original: string): string {
  const replaced = original
    .replace(/[^A-Za-z0-9._-]+/g, '_')
    .replace(/_{2,}/g, '_')
    // A leading dot hides the file on Unix; a trailing one is dropped by Windows.
    .replace(/^\.+/, '')
    .replace(/\.+$/, '');
  if (replaced === '') return DEFAULT_FILENAME;
  if (replaced.length <= MAX_SAFE_FILENAME_LENGTH) return replaced;

  const { stem, extension } = splitExtension(replaced);
  const keptExtension = extension.length <= MAX_SAFE_EXTENSION_LENGTH ? extension : '';
  const stemSource = keptExtension === '' ? replaced : stem;
  const cutStem = stemSource.slice(0, MAX_SAFE_FILENAME_LENGTH - keptExtension.length).replace(/\.+$/, '');
  const result = cutStem + keptExtension;
  return result.replace(/^\.+/, '') || DEFAULT_FILENAME;
}

const EXTENSIONS_BY_MIME: ReadonlyMap<string, string> = new Map(Object.entries({
  'image/jpeg': 'jpg',
  'image/png': 'png',
  'image/apng': 'png',
  'image/gif': 'gif',
  'image/webp': 'webp',
  'image/avif': 'avif',
  'image/heic': 'heic',
  'image/heic-sequence': 'heic',
  'image/heif': 'heif',
  'image/heif-sequence': 'heif',
  'image/tiff': 'tiff',
  'image/bmp': 'bmp',
  'image/svg+xml': 'svg',
  'image/x-icon': 'ico',
  'image/vnd.microsoft.icon': 'ico',
  'image/jxl': 'jxl',
  'application/pdf': 'pdf',
  'text/plain': 'txt',
  'text/html': 'html',
  'text/css': 'css',
  'text/csv': 'csv',
  'text/markdown': 'md',
  'text/xml': 'xml',
  'application/xml': 'xml',
  'application/json': 'json',
  'application/rtf': 'rtf',
  'video/mp4': 'mp4',
  'video/webm': 'webm',
  'video/quicktime': 'mov',
  'video/x-matroska': 'mkv',
  'video/x-msvideo': 'avi',
  'video/mpeg': 'mpg',
  'video/3gpp': '3gp',
  'audio/mpeg': 'mp3',
  'audio/mp4': 'm4a',
  'audio/aac': 'aac',
  'audio/ogg': 'ogg',
  'audio/wav': 'wav',
  'audio/x-wav': 'wav',
  'audio/flac': 'flac',
  'audio/x-flac': 'flac',
  'audio/webm': 'weba',
  'application/zip': 'zip',
  'application/gzip': 'gz',
  'application/x-tar': 'tar',
  'application/x-7z-compressed': '7z',
  'application/vnd.rar': 'rar',
  'application/x-rar-compressed': 'rar',
  'application/x-bzip2': 'bz2',
  'application/x-xz': 'xz',
  'application/msword': 'doc',
  'application/vnd.ms-excel': 'xls',
  'application/vnd.ms-powerpoint': 'ppt',
  'application/vnd.openxmlformats-officedocument.wordprocessingml.document': 'docx',
  'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet': 'xlsx',
  'application/vnd.openxmlformats-officedocument.presentationml.presentation': 'pptx',
  'application/vnd.oasis.opendocument.text': 'odt',
  'application/vnd.oasis.opendocument.spreadsheet': 'ods',
  'application/epub+zip': 'epub',
  'application/wasm': 'wasm',
  'font/woff': 'woff',
  'font/woff2': 'woff2',
  'font/ttf': 'ttf',
  'font/otf': 'otf',
}));

/**
 * The usual extension (without dot) for a MIME type, for naming files that arrive without one;
 * null for unknown or generic types such as `application/octet-stream`. Parameters
 * (`; charset=…`) and case are ignored.
 */
export function extensionForMime(mime: string): string | null {
  const essence = (mime.split(';')[0] ?? '').trim().toLowerCase();
  // A Map, not an object lookup: `constructor` or `__proto__` must not resolve to inherited members.
  return EXTENSIONS_BY_MIME.get(essence) ?? null;
}

/**
 * Whitespace, plus the trailing dots and spaces Windows strips (`name.txt.` and `name.txt` are one
 * file there). This also empties `.` and `..`, so they can never become a name.
 */
function trimName(part: string): string {
  return part.trim().replace(/[.\s]+$/u, '');
}

function utf8Length(text: string): number {
  return Buffer.byteLength(text, 'utf8');
}

/** Splits `name.ext` into `name` and `.ext`; a leading dot (`.bashrc`) is not an extension. */
function splitExtension(name: string): { stem: string; extension: string } {
  const dot = name.lastIndexOf('.');
  if (dot <= 0 || dot === name.length - 1) return { stem: name, extension: '' };
  return { stem: name.slice(0, dot), extension: name.slice(dot) };
}

/** Cuts `name` to `maxBytes` UTF-8 bytes at a grapheme boundary, keeping a plausible extension. */
function capUtf8Bytes(name: string, maxBytes: number): string {
  if (utf8Length(name) <= maxBytes) return name;
  const { stem, extension } = splitExtension(name);
  const keptExtension = utf8Length(extension) <= MAX_EXTENSION_BYTES ? extension : '';
  const stemSource = keptExtension === '' ? name : stem;
  const budget = maxBytes - utf8Length(keptExtension);

  let cut = '';
  let used = 0;
  for (const { segment } of graphemes.segment(stemSource)) {
    const size = utf8Length(segment);
    if (used + size > budget) break;
    cut += segment;
    used += size;
  }
  return cut.replace(/[.\s]+$/u, '') + keptExtension;
}

/** A byte count as people read it, for error messages: `50 kB (50000 bytes)`. */
export function describeBytes(bytes: number): string {
  const units = ['bytes', 'kB', 'MB', 'GB', 'TB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1000 && unit < units.length - 1) {
    value /= 1000;
    unit += 1;
  }
  if (unit === 0) return `${bytes} bytes`;
  return `${Number.isInteger(value) ? value : value.toFixed(1)} ${units[unit]} (${bytes} bytes)`;
}
