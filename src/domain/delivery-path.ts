import { createAppError } from '../errors.js';

/** What a delivery URL after the uuid asks for: `-/op/params/…` then an optional filename. */
export interface DeliveryRequest {
  inline: boolean | null;
  /** Operations Trove does not apply to originals (yet); named in the error. */
  filename: string | null;
}

const INLINE_VALUES: Record<string, boolean> = { yes: true, no: false, true: true, false: false, '1': true, '0': false };

/**
 * Parses the path after `/:uuid/`. Uploadcare's grammar: operations are `-/name/param/…/`, each
 * introduced by `-`; the last segment that is not part of an operation is the filename.
 */
export function parseDeliveryPath(rest: string): DeliveryRequest {
  const segments = rest.split('/');
  if (segments.length > 64) throw createAppError('INVALID_OPERATION', 400, 'Too many path segments.');
  let inline: boolean | null = null;
  let filename: string | null = null;
  let i = 0;
  while (i < segments.length) {
    const segment = segments[i]!;
    if (segment === '') {
      i++;
      continue;
    }
    if (segment === '-') {
      const name = segments[i + 1] ?? '';
      if (name === 'inline') {
        const value = INLINE_VALUES[(segments[i + 2] ?? '').toLowerCase()];
        if (value === undefined) {
          throw createAppError('INVALID_OPERATION', 400, 'inline expects yes or no, e.g. /-/inline/no/.');
        }
        inline = value;
        i += 3;
        continue;
      }
      throw createAppError(
        'UNSUPPORTED_OPERATION',
        400,
        name ? `Operation "${name.slice(0, 40)}" is not supported for this file.` : 'Empty operation after "-/".',
      );
    }
    if (i !== segments.length - 1 && segments.slice(i + 1).some((s) => s !== '')) {
      throw createAppError('INVALID_OPERATION', 400, `Unexpected path segment "${segment.slice(0, 40)}": operations start with "-/".`);
    }
    let decoded: string;
    try {
      decoded = decodeURIComponent(segment);
    } catch {
      throw createAppError('INVALID_FILENAME', 400, 'Filename is not valid percent-encoding.');
    }
    if (/[\u0000-\u001f\u007f/\\]/.test(decoded) || decoded.length > 255) {
      throw createAppError('INVALID_FILENAME', 400, 'Filename contains forbidden characters or is too long.');
    }
    filename = decoded;
    i++;
  }
  return { inline, filename };
}
