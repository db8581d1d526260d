/**
 * Where Trove keeps things in the blob store. These names are stored data: a file's record holds
 * its original's key, and derivatives are found again by key alone, so changing a layout strands
 * every object written under the old one.
 *
 * - `originals/<first two characters of the uuid>/<uuid>`: uploaded bytes; the fan-out keeps
 *   directories small on disk.
 * - `derivatives/<uuid>/<plan hash>-<variant>`: transformed images, every one under its file's own
 *   prefix so that one prefix deletion purges them all.
 */

const ORIGINALS = 'originals/';
const DERIVATIVES = 'derivatives/';

/** Blob key of a file's original bytes. */
export function originalBlobKey(uuid: string): string {
  return `${ORIGINALS}${uuid.slice(0, 2)}/${uuid}`;
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
