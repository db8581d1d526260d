/** Tells text from binary data, and JSON from other text, by looking at leading bytes. */

const strictUtf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false });

// C0 controls that do not occur in text: everything below 0x20 except TAB, LF, VT, FF, CR,
// SUB (DOS end-of-file marker) and ESC (terminal colour codes in logs).
const NON_TEXT_CONTROLS = /[\u0000-\u0008\u000E-\u0019\u001C-\u001F]/;

/**
 * Decodes `bytes` as strict UTF-8, or returns null when they are not text. When `truncated`
 * (the bytes are a prefix of a longer file) an incomplete multi-byte sequence at the very end is
 * forgiven: the prefix boundary may fall inside a character.
 */
export function decodeUtf8Text(bytes: Buffer, truncated: boolean): string | null {
  const complete = truncated ? bytes.subarray(0, bytes.length - incompleteTailLength(bytes)) : bytes;
  let text: string;
  try {
    text = strictUtf8.decode(complete);
  } catch {
    return null;
  }
  return NON_TEXT_CONTROLS.test(text) ? null : text;
}

/** Number of trailing bytes that start a UTF-8 sequence the buffer ends before completing. */
function incompleteTailLength(bytes: Buffer): number {
  // A sequence is at most 4 bytes, so its lead byte is within the last 3 when it is cut short.
  for (let back = 1; back <= Math.min(3, bytes.length); back++) {
    const byte = bytes[bytes.length - back] ?? 0;
    if ((byte & 0xc0) === 0x80) continue; // continuation byte: keep looking for the lead
    const expected = byte >= 0xf0 ? 4 : byte >= 0xe0 ? 3 : byte >= 0xc0 ? 2 : 1;
    return expected > back ? back : 0;
  }
  return 0;
}

// Openings of a JSON object or array that prose practically never has.
const JSON_PREFIX = /^\s*(?:\{\s*(?:"|\})|\[\s*(?:[[{"\]\d-]|true\b|false\b|null\b))/;

/**
 * Whether `text` is JSON. A complete document must parse; a truncated prefix cannot, so it only
 * has to open like an object or array does.
 */
export function looksLikeJson(text: string, truncated: boolean): boolean {
  const body = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  if (!JSON_PREFIX.test(body)) return false;
  if (truncated) return true;
  try {
    JSON.parse(body);
    return true;
  } catch {
    return false;
  }
}
