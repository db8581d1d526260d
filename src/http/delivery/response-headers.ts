/** Headers every delivery answer carries, shared by the route and the fast lane so they cannot drift. */

/** Scripts in an uploaded SVG or HTML file must never run on Trove's origin. */
const SANDBOX_CSP = "default-src 'none'; img-src data:; style-src 'unsafe-inline'; sandbox";
export const STORED_CACHE = 'public, max-age=31536000, immutable';
/** A temporary file disappears within a day unless stored: caches must not outlive it by much. */
export const TEMPORARY_CACHE = 'public, max-age=600';
export const CORS_EXPOSED_HEADERS = 'ETag, Content-Length, Content-Range, Content-Disposition, Accept-Ranges';

export const DELIVERY_SECURITY_HEADERS: Readonly<Record<string, string>> = {
  'x-content-type-options': 'nosniff',
  'content-security-policy': SANDBOX_CSP,
  'cross-origin-resource-policy': 'cross-origin',
  'access-control-allow-origin': '*',
};

/** `If-None-Match` against a strong ETag: `*`, or any listed tag (weak comparison, as RFC 9110 asks for GET). */
export function matchesEtag(header: string | undefined, etag: string): boolean {
  if (!header) return false;
  if (header.trim() === '*') return true;
  return header.split(',').some((candidate) => candidate.trim().replace(/^W\//, '') === etag);
}
