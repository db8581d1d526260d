/**
 * Where Trove keeps things in the blob store. These names are stored data: a file's record holds
 * its original's key, and derivatives are found again by key alone, so changing a layout strands
 * every object written under the old one.
 *
 * - `originals/<first two characters of the uuid>/<uuid>`: uploaded bytes; the fan-out keeps
 *   directories small on disk.
 * - `derivatives/<uuid>/<plan hash>-<variant>`: transformed images, every one under its file's own
 *   prefix so that one prefix deletion purges them all.
 * - `regions/<region>/…`: the same layout in another region's storage. Originals of a project whose
 *   shard is in a region other than the default one carry this root; a shard's rows store keys
 *   without it, so a project moved between regions keeps its rows as they are.
 */

const ORIGINALS = 'originals/';
const DERIVATIVES = 'derivatives/';

const REGIONS = 'regions/';
const REGION_ROOT = /^regions\/([a-z][a-z0-9_-]{0,31})\//;

/** The root of a region's keys: empty for the default region (null). */
export function regionBlobRoot(region: string | null): string {
  return region === null ? '' : `${REGIONS}${region}/`;
}

/** The region a key names (null: none, the default region's or the local one's) and the key inside that region's storage. */
export function splitRegionKey(key: string): { region: string | null; key: string } {
  const match = REGION_ROOT.exec(key);
  return match ? { region: match[1] ?? null, key: key.slice(match[0].length) } : { region: null, key };
}

/** Blob key of a file's original bytes, under the root of its project's region. */
export function originalBlobKey(uuid: string, root = ''): string {
  return `${root}${ORIGINALS}${uuid.slice(0, 2)}/${uuid}`;
}

/** Whether `key` is where the original of `uuid` is kept, in whichever region. */
export function isOriginalBlobKey(key: string, uuid: string): boolean {
  return splitRegionKey(key).key === originalBlobKey(uuid);
}

/** Whether a key is an original's (these live in their project's region; everything else is a node's own cache). */
export function isOriginalsKey(key: string): boolean {
  return key.startsWith(ORIGINALS);
}

/**
 * Blob key of one derivative of a file. `planHash` names the normalised plan, `variant` the output
 * format chosen for it (`auto-…` when negotiated per Accept class, `preserve` for info requests).
 */
export function derivativeBlobKey(fileUuid: string, planHash: string, variant: string): string {
  return `${derivativesPrefix(fileUuid)}${planHash}-${variant}`;
}

/** The prefix every derivative of a file is stored under: purging a file deletes it. */
export function derivativesPrefix(fileUuid: string): string {
  return `${DERIVATIVES}${fileUuid}/`;
}

/** `key` as a shard stores it, relative to its region's root; null when the key is not under that root. */
export function keyWithinRegion(root: string, key: string): string | null {
  if (root === '') return splitRegionKey(key).region === null ? key : null;
  return key.startsWith(root) ? key.slice(root.length) : null;
}
