export interface Project {
  id: string;
  name: string;
  publicKey: string;
  /** What `UPLOADCARE_STORE=auto` means for this project. */
  autoStore: boolean;
  /** Uploads must carry a valid `signature` + `expire`. */
  signedUploads: boolean;
  /** Per-project cap in bytes; null: the server-wide limit applies. */
  maxFileSize: number | null;
  /** MIME types (`image/*` wildcards allowed) accepted; null: every type. */
  allowedMimeTypes: string[] | null;
  /** Every new upload is scanned for viruses and not delivered until the scan finds it clean. */
  scanOnUpload: boolean;
  /** A file the upload scan finds infected is deleted (otherwise it is kept, never delivered). */
  purgeInfected: boolean;
  /** The shard holding the project's files ('main': the main database). */
  shard: string;
  createdAt: string;
}

export interface SecretKey {
  id: string;
  projectId: string;
  secret: string;
  createdAt: string;
  revokedAt: string | null;
}

/** Whether a sniffed MIME type passes the project's allow-list. */
export function isMimeTypeAllowed(project: Pick<Project, 'allowedMimeTypes'>, mimeType: string): boolean {
  const allowed = project.allowedMimeTypes;
  if (allowed === null || allowed.length === 0) return true;
  const [type] = mimeType.split('/');
  return allowed.some((pattern) => pattern === mimeType || pattern === '*/*' || pattern === `${type}/*`);
}

/** The smaller of the server-wide and the project's own size limit. */
export function effectiveMaxFileSize(project: Pick<Project, 'maxFileSize'>, serverLimit: number): number {
  return project.maxFileSize === null ? serverLimit : Math.min(project.maxFileSize, serverLimit);
}
