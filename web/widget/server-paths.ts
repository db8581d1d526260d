/**
 * Where the Trove that served this module mounts its Upload API and delivery. The server writes its
 * configured prefixes over the placeholder when it serves /widget.js, so a page needs to know only
 * Trove's origin; a copy bundled elsewhere keeps Trove's defaults.
 */
const INJECTED = '__TROVE_SERVER_PATHS__';

interface ServerPaths {
  upload: string;
  cdn: string;
}

export const SERVER_PATHS: ServerPaths = ((): ServerPaths => {
  if (INJECTED.startsWith('{')) {
    try {
      const parsed = JSON.parse(INJECTED) as Partial<ServerPaths>;
      if (typeof parsed.upload === 'string' && typeof parsed.cdn === 'string') return { upload: parsed.upload, cdn: parsed.cdn };
    } catch {
      // A mangled placeholder falls back to the defaults below.
    }
  }
  return { upload: '/upload', cdn: '' };
})();
