/**
 * Header values with parameters (`form-data; name="a"; filename*=UTF-8''b`, `multipart/form-data;
 * boundary=x`), read by the grammar of RFC 9110 (token / quoted-string) and RFC 8187 (`name*` values).
 * Nothing here throws: a value that cannot be read is reported as absent, and callers decide.
 */
interface HeaderValue {
  /** The part before the first `;`, lowercased (`form-data`, `multipart/form-data`). */
  type: string;
  /** Parameters by lowercased name; an extended `name*` value is decoded and stored under `name*`. */
  params: Map<string, string>;
}

const TOKEN = /[!#$%&'*+\-.^_`|~0-9A-Za-z]/;

export function parseHeaderValue(value: string): HeaderValue {
  const params = new Map<string, string>();
  let i = value.indexOf(';');
  const type = (i === -1 ? value : value.slice(0, i)).trim().toLowerCase();
  if (i === -1) return { type, params };
  const length = value.length;
  while (i < length) {
    // at a ';' (or past the end)
    i++;
    while (i < length && (value[i] === ' ' || value[i] === '\t')) i++;
    let nameEnd = i;
    while (nameEnd < length && TOKEN.test(value[nameEnd]!)) nameEnd++;
    const name = value.slice(i, nameEnd).toLowerCase();
    i = nameEnd;
    while (i < length && (value[i] === ' ' || value[i] === '\t')) i++;
    if (value[i] !== '=') {
      i = skipToSemicolon(value, i);
      continue;
    }
    i++;
    while (i < length && (value[i] === ' ' || value[i] === '\t')) i++;
    let raw: string;
    if (value[i] === '"') {
      const quoted = readQuoted(value, i);
      raw = quoted.text;
      i = quoted.end;
    } else {
      const end = skipToSemicolon(value, i);
      raw = value.slice(i, end).trim();
      i = end;
    }
    i = skipToSemicolon(value, i);
    if (name === '' || params.has(name)) continue;
    if (name.endsWith('*')) {
      const decoded = decodeExtendedValue(raw);
      if (decoded !== null) params.set(name, decoded);
    } else {
      params.set(name, raw);
    }
  }
  return { type, params };
}

function skipToSemicolon(value: string, from: number): number {
  let i = from;
  while (i < value.length && value[i] !== ';') {
    if (value[i] === '"') i = readQuoted(value, i).end;
    else i++;
  }
  return i;
}

/** A quoted-string from the opening quote at `start`; an unterminated one runs to the end. */
function readQuoted(value: string, start: number): { text: string; end: number } {
  let text = '';
  let i = start + 1;
  while (i < value.length) {
    const char = value[i]!;
    if (char === '\\' && i + 1 < value.length) {
      text += value[i + 1];
      i += 2;
      continue;
    }
    if (char === '"') return { text, end: i + 1 };
    text += char;
    i++;
  }
  return { text, end: i };
}

/**
 * `charset'language'percent-encoded` (RFC 8187). UTF-8 and ISO-8859-1 are the charsets the RFC
 * requires; any other, or a broken encoding, makes the value unreadable (null) rather than guessed.
 */
export function decodeExtendedValue(raw: string): string | null {
  const first = raw.indexOf("'");
  const second = first === -1 ? -1 : raw.indexOf("'", first + 1);
  if (second === -1) return null;
  const charset = raw.slice(0, first).toLowerCase();
  const encoded = raw.slice(second + 1);
  const bytes: number[] = [];
  for (let i = 0; i < encoded.length; i++) {
    const code = encoded.charCodeAt(i);
    if (code === 0x25) {
      const hex = encoded.slice(i + 1, i + 3);
      if (!/^[0-9A-Fa-f]{2}$/.test(hex)) return null;
      bytes.push(Number.parseInt(hex, 16));
      i += 2;
    } else if (code < 0x80) {
      bytes.push(code);
    } else {
      return null;
    }
  }
  const buffer = Buffer.from(bytes);
  if (charset === 'utf-8' || charset === 'utf8') {
    try {
      return new TextDecoder('utf-8', { fatal: true }).decode(buffer);
    } catch {
      return null;
    }
  }
  if (charset === 'iso-8859-1' || charset === 'latin1') return buffer.toString('latin1');
  return null;
}
