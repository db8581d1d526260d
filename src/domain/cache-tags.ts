/**
 * Cache tags name what a delivery answer holds, so a shield or CDN in front of Trove can drop every
 * copy of a file (all its variants and its original), of a group's URLs or of a whole project with
 * one purge, without knowing the URLs:
 *
 * - `p:<projectId>`: every answer of the project;
 * - `f:<uuid>`: every answer made from the file (for a group URL, the member file);
 * - `g:<groupId>`: answers served under a group URL;
 * - `v:<uuid>/<plan hash>-<variant>` (one derivative, named as in its ETag and blob key) or
 *   `v:<uuid>/original`.
 *
 * Answers carry them twice: `Surrogate-Key` (space-separated: Fastly, Varnish xkey) and `Cache-Tag`
 * (comma-separated: Cloudflare).
 */

function projectTag(projectId: string): string {
  return `p:${projectId}`;
}

function fileTag(uuid: string): string {
  return `f:${uuid}`;
}

function groupTag(groupId: string): string {
  return `g:${groupId}`;
}

/** `derivative`: `<plan hash>-<variant>` as in the derivative's ETag, or 'original'. */
function variantTag(uuid: string, derivative: string): string {
  return `v:${uuid}/${derivative}`;
}

export const ORIGINAL_VARIANT = 'original';

/** What one delivery answer holds. `projectId` null: not known on a hit (a derivative stored before answers named it). */
export interface ServedContent {
  projectId: string | null;
  uuid: string;
  /** `<plan hash>-<variant>` for a derivative, ORIGINAL_VARIANT for the original. */
  variant: string;
  /** Set when served under a group URL. */
  groupId?: string | undefined;
}

export function deliveryTags(content: ServedContent): string[] {
  const tags: string[] = [];
  if (content.projectId) tags.push(projectTag(content.projectId));
  tags.push(fileTag(content.uuid));
  if (content.groupId) tags.push(groupTag(content.groupId));
  tags.push(variantTag(content.uuid, content.variant));
  return tags;
}

interface CacheTagHeaders {
  'surrogate-key': string;
  'cache-tag': string;
}

export function cacheTagHeaders(tags: readonly string[]): CacheTagHeaders {
  return { 'surrogate-key': tags.join(' '), 'cache-tag': tags.join(',') };
}

/**
 * What to drop from the caches in front of Trove: tags for the caches that purge by tag, and URL
 * paths (a trailing `*` is a wildcard) for those that cannot (CloudFront).
 */
export interface CachePurge {
  tags: string[];
  paths: string[];
}

/**
 * Everything served from these files: their `f:` tags, and for path-based caches `<prefix>/<uuid>*`,
 * which covers `/<uuid>`, `/<uuid>/` and every operation and filename under it.
 */
export function purgeOfFiles(uuids: readonly string[], deliveryPrefix: string): CachePurge {
  const unique = [...new Set(uuids)];
  return { tags: unique.map(fileTag), paths: unique.map((uuid) => `${deliveryPrefix}/${uuid}*`) };
}

/** Everything served under a group's URLs. */
export function purgeOfGroup(groupId: string, deliveryPrefix: string): CachePurge {
  return { tags: [groupTag(groupId)], paths: [`${deliveryPrefix}/${groupId}*`] };
}

/**
 * Splits a purge into purges of at most `maxTags` tags and `maxPaths` paths each, for providers that
 * cap one request; tags and paths stay in order. Infinity: no cap; 0: the provider takes none (they
 * are left out).
 */
export function splitPurge(purge: CachePurge, limits: { maxTags: number; maxPaths: number }): CachePurge[] {
  const parts: CachePurge[] = [];
  const tagCount = limits.maxTags > 0 ? purge.tags.length : 0;
  const pathCount = limits.maxPaths > 0 ? purge.paths.length : 0;
  let tagAt = 0;
  let pathAt = 0;
  while (tagAt < tagCount || pathAt < pathCount) {
    const tags = purge.tags.slice(tagAt, Math.min(tagCount, tagAt + limits.maxTags));
    const paths = purge.paths.slice(pathAt, Math.min(pathCount, pathAt + limits.maxPaths));
    tagAt += tags.length;
    pathAt += paths.length;
    parts.push({ tags, paths });
  }
  return parts;
}
