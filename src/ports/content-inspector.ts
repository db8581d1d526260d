import type { InspectedContent } from '../domain/content-info.js';

/**
 * Learns a file's real type and image properties from its leading bytes. The MIME type a client
 * declares is never consulted: the bytes decide.
 */
export interface ContentInspector {
  /**
   * @param head the first bytes of the file (up to `headBytes`), or all of it when smaller
   * @param totalSize the file's full size in bytes
   */
  inspect(head: Buffer, totalSize: number): Promise<InspectedContent>;
  /** How many leading bytes `inspect` wants to see. */
  readonly headBytes: number;
}
