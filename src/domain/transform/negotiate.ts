/**
 * Picks the encoded format of a derivative. Uploadcare's `auto`: AVIF when the client lists
 * image/avif, else WebP when it lists image/webp, else PNG for images with transparency and JPEG
 * for the rest; `preserve` keeps the source's format where Trove can write it.
 */
import type { OutputFormat, OutputSettings } from './operations.js';

interface NegotiationSource {
  /** The source's format as probed (jpeg, png, webp, avif, gif, heif, tiff…; any case, `jpg` allowed). */
  format: string;
  hasAlpha: boolean;
  animated: boolean;
}

interface NegotiatedFormat {
  format: OutputFormat;
  /** The Accept header decided the format: the response must carry `Vary: Accept`. */
  varyAccept: boolean;
}

/** `type/subtype`, `type/*` or `*\/*` (RFC 9110 tokens). */
const MEDIA_RANGE = /^(?:\*\/\*|[a-z0-9!#$%&'^_`|~.+-]+\/(?:\*|[a-z0-9!#$%&'^_`|~.+-]+))$/;

const WRITABLE_FORMATS: ReadonlySet<string> = new Set<OutputFormat>(['jpeg', 'png', 'webp', 'avif', 'gif']);

export function negotiateFormat(
  requested: OutputSettings['format'],
  accept: string | undefined,
  source: NegotiationSource,
): NegotiatedFormat {
  if (requested === 'preserve') {
    const sourceFormat = canonicalSourceFormat(source.format);
    if (WRITABLE_FORMATS.has(sourceFormat)) return { format: sourceFormat as OutputFormat, varyAccept: false };
    return automaticFormat(accept, source);
  }
  if (requested === 'auto') return automaticFormat(accept, source);
  return { format: requested, varyAccept: false };
}

function automaticFormat(accept: string | undefined, source: NegotiationSource): NegotiatedFormat {
  const accepted = acceptedMediaTypes(accept);
  const accepts = (type: string): boolean => (accepted.get(type) ?? 0) > 0;
  // Every branch below read the header (even the JPEG fallback exists because AVIF/WebP were not listed).
  if (source.animated) return { format: accepts('image/webp') ? 'webp' : 'gif', varyAccept: true };
  if (accepts('image/avif')) return { format: 'avif', varyAccept: true };
  if (accepts('image/webp')) return { format: 'webp', varyAccept: true };
  return { format: source.hasAlpha ? 'png' : 'jpeg', varyAccept: true };
}

/**
 * Media types listed in an Accept header with their highest q. Wildcards are kept as written and
 * never stand for a specific type: browsers that can decode AVIF or WebP say so explicitly, while
 * `*\/*` is sent by clients that cannot.
 */
export function acceptedMediaTypes(accept: string | undefined): Map<string, number> {
  const accepted = new Map<string, number>();
  if (!accept) return accepted;
  for (const range of accept.split(',')) {
    const [type = '', ...parameters] = range.split(';');
    const mediaType = type.trim().toLowerCase();
    if (!MEDIA_RANGE.test(mediaType)) continue;
    let quality = 1;
    for (const parameter of parameters) {
      const [key = '', value = ''] = parameter.split('=');
      if (key.trim().toLowerCase() !== 'q') continue;
      const written = value.trim();
      // RFC 9110 qvalue; anything else makes the whole range meaningless, so it is ignored.
      quality = /^(?:0(?:\.\d{0,3})?|1(?:\.0{0,3})?)$/.test(written) ? Number(written) : Number.NaN;
    }
    if (Number.isNaN(quality)) continue;
    accepted.set(mediaType, Math.max(accepted.get(mediaType) ?? 0, quality));
  }
  return accepted;
}

function canonicalSourceFormat(format: string): string {
  const lower = format.toLowerCase();
  return lower === 'jpg' ? 'jpeg' : lower;
}
