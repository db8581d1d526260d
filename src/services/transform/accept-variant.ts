import type { OutputSettings } from '../../domain/transform/operations.js';
import type { TransformVariant } from '../../ports/transform-runner.js';

/**
 * The part of a request that, with the URL, decides which derivative answers it. For
 * `format/auto` only the client's support for AVIF and WebP matters, so Accept headers collapse
 * into three classes and the cache key is known before anything about the source is read.
 */
export type FormatVariant = TransformVariant;

function accepts(accept: string, type: string): boolean {
  for (const part of accept.split(',')) {
    const [media, ...params] = part.trim().toLowerCase().split(';');
    if (media?.trim() !== type) continue;
    const q = params.map((p) => p.trim()).find((p) => p.startsWith('q='));
    return q === undefined || Number(q.slice(2)) > 0;
  }
  return false;
}

export function formatVariant(format: OutputSettings['format'], accept: string | undefined): FormatVariant {
  if (format !== 'auto') return format;
  const header = accept ?? '';
  if (accepts(header, 'image/avif')) return 'auto-avif';
  if (accepts(header, 'image/webp')) return 'auto-webp';
  return 'auto-basic';
}

/** An Accept header that stands for the variant's class, so negotiation on a miss gives the same answer for every member of the class. */
export function representativeAccept(variant: FormatVariant): string | undefined {
  if (variant === 'auto-avif') return 'image/avif,image/webp';
  if (variant === 'auto-webp') return 'image/webp';
  return undefined;
}
