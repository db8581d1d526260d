/** Wire shapes of the session API and the REST API v0.7 (with Trove's extensions), as the dashboard reads them. */

/** Embedded in the page by the server (src/http/routes/dashboard/shell.ts). */
export interface BootConfig {
  restBase: string;
  uploadBase: string;
  cdnBase: string;
  widgetUrl: string;
  /** The server's TROVE_MAX_OUTPUT_DIMENSION; null when the page does not carry it. */
  maxOutputDimension: number | null;
}

export interface ProjectRef {
  pub_key: string;
  name: string;
}

export interface SessionInfo {
  admin: boolean;
  csrf_token: string;
  expires_at: string;
  project: ProjectRef;
  projects: ProjectRef[];
}

/** `GET /dashboard/api/upload-signature`: what a signed upload carries (`expire` in Unix seconds). */
export interface UploadSignature {
  signature: string;
  expire: number;
}

export type SignInRequest = { pub_key: string; secret_key: string } | { password: string; pub_key?: string };

export interface ImageInfo {
  width: number;
  height: number;
  format: string;
  color_mode?: string;
  orientation?: number | null;
  dpi?: [number, number] | null;
  datetime_original?: string | null;
  sequence?: boolean;
}

export interface ContentInfo {
  mime?: { mime: string; type: string; subtype: string };
  image?: ImageInfo;
}

export interface FileInfo {
  uuid: string;
  original_filename: string;
  size: number;
  mime_type: string;
  is_image: boolean;
  is_ready: boolean;
  datetime_uploaded: string;
  datetime_stored: string | null;
  datetime_removed: string | null;
  url: string;
  original_file_url: string | null;
  content_info: ContentInfo | null;
  metadata: Record<string, string> | null;
  tags?: string[];
}

export interface FileCounts {
  stored: number;
  unstored: number;
  removed: number;
}

export interface FileListPage {
  next: string | null;
  previous: string | null;
  total: number;
  totals: FileCounts;
  per_page: number;
  results: FileInfo[];
}

export interface BatchResult {
  status: string;
  problems: Record<string, string>;
  result: FileInfo[];
}

export const WEBHOOK_EVENTS = ['file.uploaded', 'file.stored', 'file.deleted', 'file.info_updated', 'file.infected'] as const;
export type WebhookEvent = (typeof WEBHOOK_EVENTS)[number];

export interface Webhook {
  id: number;
  project: string;
  created: string;
  updated: string;
  event: WebhookEvent;
  target_url: string;
  is_active: boolean;
  signing_secret: string | null;
  version: string;
}

export interface WebhookInput {
  target_url: string;
  event: WebhookEvent;
  is_active: boolean;
  signing_secret?: string | null;
}

export interface DeliveryAttempt {
  attempt: number;
  status_code: number | null;
  latency_ms: number;
  error: string | null;
  created: string;
}

export interface WebhookDelivery {
  id: string;
  webhook_id: number;
  event: WebhookEvent;
  target_url: string;
  status: 'pending' | 'delivered' | 'failed';
  attempts: number;
  last_status_code: number | null;
  last_error: string | null;
  created: string;
  updated: string;
  delivered: string | null;
  payload: unknown;
  attempt_log?: DeliveryAttempt[];
}

export interface Project {
  name: string;
  pub_key: string;
  autostore_enabled: boolean;
  signed_uploads?: boolean;
  max_file_size?: number | null;
  allowed_mime_types?: string[] | null;
}

export type ProjectUpdate = Partial<Pick<Project, 'name' | 'autostore_enabled' | 'signed_uploads' | 'max_file_size' | 'allowed_mime_types'>>;

export interface SecretKeyInfo {
  id: string;
  hint: string;
  created_at: string;
}

export interface NewSecretKey {
  id: string;
  secret: string;
  created_at: string;
}

export interface UsageDay {
  date: string;
  uploads: number;
  upload_bytes: number;
  deliveries: number;
  cache_hits: number;
  cache_misses: number;
}

export interface Usage {
  files: FileCounts;
  bytes: { stored: number; unstored: number };
  days: UsageDay[];
  cache_hit_ratio: number | null;
}

/** What the library asks `GET /files/` for (Uploadcare filters plus Trove's search extensions). */
export interface FileQuery {
  search: string;
  status: 'all' | 'stored' | 'temporary' | 'removed';
  /** `image/*`-style prefix or an exact type; '' for every type. */
  mimeType: string;
  /** YYYY-MM-DD (local day), '' when open. */
  fromDay: string;
  toDay: string;
  ordering: 'newest' | 'oldest';
  tag: string;
}
