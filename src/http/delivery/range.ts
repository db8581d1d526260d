import type { ByteRange } from '../../domain/byte-range.js';

type RangeDecision =
  | { kind: 'full' }
  | { kind: 'partial'; range: ByteRange }
  | { kind: 'unsatisfiable' };

/**
 * Interprets a `Range` header for a representation of `size` bytes (RFC 9110 §14). One range is
 * served as 206; a header Trove does not support (several ranges, other units) is ignored and the
 * whole body is sent, which the RFC allows.
 */
export function decideRange(header: string | undefined, size: number): RangeDecision {
  if (!header) return { kind: 'full' };
  const spec = readSingleByteRange(header);
  if (!spec) return { kind: 'full' };
  const { startRaw, endRaw } = spec;
  if (startRaw === '' && endRaw === '') return { kind: 'full' };
  if (size === 0) return { kind: 'unsatisfiable' };
  if (startRaw === '') {
    const suffix = Number(endRaw);
    if (suffix === 0) return { kind: 'unsatisfiable' };
    return { kind: 'partial', range: { start: Math.max(0, size - suffix), end: size - 1 } };
  }
  const start = Number(startRaw);
  if (start >= size) return { kind: 'unsatisfiable' };
  const end = endRaw === '' ? size - 1 : Math.min(Number(endRaw), size - 1);
  if (end < start) return { kind: 'unsatisfiable' };
  return { kind: 'partial', range: { start, end } };
}

/** What `\s` matches in a JavaScript regular expression, the whitespace this reader always accepted. */
function isSpace(code: number): boolean {
  return (
    (code >= 0x09 && code <= 0x0d) || code === 0x20 || code === 0xa0 || code === 0x1680 || (code >= 0x2000 && code <= 0x200a) ||
    code === 0x2028 || code === 0x2029 || code === 0x202f || code === 0x205f || code === 0x3000 || code === 0xfeff
  );
}

const isDigit = (code: number): boolean => code >= 0x30 && code <= 0x39;

/**
 * `bytes = <digits> - <digits>` with optional whitespace around each token, read in one pass. A
 * regular expression with whitespace runs on both sides of optional digits backtracks cubically on
 * a header of spaces (16 KiB of them kept the event loop busy for minutes), so this is a scanner.
 */
function readSingleByteRange(header: string): { startRaw: string; endRaw: string } | null {
  let at = 0;
  const skipSpace = () => {
    while (at < header.length && isSpace(header.charCodeAt(at))) at++;
  };
  const readDigits = () => {
    const from = at;
    while (at < header.length && isDigit(header.charCodeAt(at))) at++;
    return header.slice(from, at);
  };
  skipSpace();
  if (header.slice(at, at + 5).toLowerCase() !== 'bytes') return null;
  at += 5;
  skipSpace();
  if (header[at] !== '=') return null;
  at++;
  skipSpace();
  const startRaw = readDigits();
  skipSpace();
  if (header[at] !== '-') return null;
  at++;
  skipSpace();
  const endRaw = readDigits();
  skipSpace();
  return at === header.length ? { startRaw, endRaw } : null;
}
