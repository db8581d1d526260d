import type { ByteRange } from '../../ports/blob-store.js';

export type RangeDecision =
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
  const match = /^\s*bytes\s*=\s*(\d*)\s*-\s*(\d*)\s*$/i.exec(header);
  if (!match) return { kind: 'full' };
  const [, startRaw = '', endRaw = ''] = match;
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
