import { createAppError } from '../errors.js';
import { isUuid } from './file.js';
import type { DeliveryPlan } from './transform/operations.js';
import { parseUploadcarePath, type ParseLimits } from './transform/uploadcare-parser.js';

const CDN_PATH = /(?:^|\/)([0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12})\/(.*)$/;

/**
 * The `source` of a copy (and an entry of a batch): a uuid, or a CDN URL or path
 * `…/<uuid>/-/ops/…/[filename]`. Answers the uuid and the part after it (operations and filename,
 * without the query string); null when neither form fits.
 */
export function parseCopySource(source: string): { uuid: string; operations: string } | null {
  const trimmed = source.trim();
  if (isUuid(trimmed.toLowerCase())) return { uuid: trimmed.toLowerCase(), operations: '' };
  const match = CDN_PATH.exec(trimmed.split('?')[0]!);
  if (!match) return null;
  return { uuid: match[1]!.toLowerCase(), operations: match[2] ?? '' };
}

/** The plan of a copy source's CDN operations (null for an original); bad operations are the caller's 400. */
export function copyPlanOf(operations: string, limits: ParseLimits): DeliveryPlan | null {
  if (operations === '') return null;
  try {
    return parseUploadcarePath(operations, limits);
  } catch {
    throw createAppError('SOURCE_INVALID', 400, 'Bad `source` parameter: its CDN operations are not valid.');
  }
}
