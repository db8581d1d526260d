/** Turns whatever sharp/libvips throws into an EngineError, so raw library errors never escape. */

import { EngineError, type EngineErrorCode } from '../../ports/image-engine.js';

interface ErrorRule {
  pattern: RegExp;
  code: EngineErrorCode;
}

/**
 * Ordered: the first matching rule wins. Matched against libvips/sharp messages as of sharp 0.35 /
 * libvips 8.18 (e.g. "Input image exceeds pixel limit", "timeout: 12% complete", "Processed image is
 * too large for the WebP format", "Input buffer contains unsupported image format",
 * "Input buffer has corrupt header: VipsJpeg: premature end of JPEG image").
 */
const RULES: readonly ErrorRule[] = [
  { pattern: /exceeds pixel limit/i, code: 'SOURCE_TOO_LARGE' },
  { pattern: /\btimeout\b/i, code: 'TIMEOUT' },
  { pattern: /too large for the \w+ format|exceed[s]? 32767x32767/i, code: 'OUTPUT_TOO_LARGE' },
  { pattern: /not supported for multi-page images/i, code: 'INVALID_OPERATION' },
  { pattern: /unsupported image format|no decoding plugin|unsupported (codec|compression|feature)|is not a known/i, code: 'UNSUPPORTED_SOURCE' },
  {
    // Loader names and libjpeg/libpng/giflib wording: the bytes themselves are broken.
    pattern:
      /corrupt|premature end|truncated|unexpected end|read error|damaged|not a (jpeg|png|gif|webp) file|invalid (jpeg|png|gif|webp|tiff|svg)|VipsJpeg|VipsForeignLoad|libspng|spng|gifload|webpload|heifload|pngload|jpegload|tiffload|svgload/i,
    code: 'CORRUPT_SOURCE',
  },
];

function messageOf(error: unknown): string {
  if (error instanceof Error) return error.message;
  return typeof error === 'string' ? error : 'unknown error';
}

/**
 * @param doing what the engine was doing, for the message ("decoding the image", "encoding webp"…).
 * Errors that match no rule are reported as INVALID_OPERATION: the source decoded, but the requested
 * processing could not be carried out on it.
 */
function toEngineError(error: unknown, doing: string): EngineError {
  if (error instanceof EngineError) return error;
  const message = messageOf(error).trim().replace(/\s+/g, ' ');
  const rule = RULES.find(({ pattern }) => pattern.test(message));
  return new EngineError(rule?.code ?? 'INVALID_OPERATION', `${doing} failed: ${message}`);
}

/** Runs `work`, rethrowing anything it throws as an EngineError. */
export async function engineCall<T>(doing: string, work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    throw toEngineError(error, doing);
  }
}
