import { createAppError } from '../errors.js';

/**
 * Uploadcare's add-ons (REST API v0.7, `/addons/<name>/execute/`): their names, the application data
 * (`appdata`) they write on a file, and the state of one execution request.
 */

export const ADDON_NAMES = ['uc_clamav_virus_scan', 'aws_rekognition_detect_labels', 'aws_rekognition_detect_moderation_labels', 'remove_bg'] as const;
export type AddonName = (typeof ADDON_NAMES)[number];

export const CLAMAV_ADDON = 'uc_clamav_virus_scan' satisfies AddonName;

export function isAddonName(value: string): value is AddonName {
  return (ADDON_NAMES as readonly string[]).includes(value);
}

/** What one add-on wrote on a file, in Uploadcare's shape (`appdata.<add-on name>`). */
export interface AppDataEntry {
  data: Record<string, unknown>;
  /** The version of the application that produced `data` (for ClamAV: the engine's, e.g. `1.4.6`). */
  version: string;
  datetime_created: string;
  datetime_updated: string;
}

/**
 * A file's application data, keyed by add-on name; `{}` when no add-on has run on it. Trove's own
 * `trove_image_analysis` is kept in its table and joined in when files are presented.
 */
export type AppData = Partial<Record<AddonName | 'trove_image_analysis', AppDataEntry>>;

/** Uploadcare's statuses of an execution request; `unknown` is answered for a request id that names nothing. */
export type AddonRequestStatus = 'in_progress' | 'done' | 'error';

/** One `POST /addons/<name>/execute/` (or an upload's scan), polled by its id. */
export interface AddonRequest {
  requestId: string;
  projectId: string;
  addonName: AddonName;
  fileUuid: string;
  /** The add-on's parameters as accepted (ClamAV: `purge_infected`). */
  params: { purgeInfected: boolean };
  status: AddonRequestStatus;
  /** Why a request ended in `error`. */
  error: string | null;
  createdAt: string;
  updatedAt: string;
}

/**
 * Where a file stands with the virus scanner. A project that scans on upload holds each new file
 * (`pending`) until the scan finds it clean; `failed` is a held file whose scan could not be
 * completed (its request says why) and `infected` one the scanner flagged. null: never held.
 */
export type ScanStatus = 'pending' | 'clean' | 'infected' | 'failed';

export const SCAN_STATUSES: readonly ScanStatus[] = ['pending', 'clean', 'infected', 'failed'];

/**
 * Refuses a held file wherever its bytes would leave Trove (CDN URLs, transformations, copies): 423
 * while its scan is pending or could not be completed, 403 once it is found infected.
 */
export function assertDeliverable(file: { uuid: string; scanStatus: ScanStatus | null; appdata: AppData }): void {
  switch (file.scanStatus) {
    case 'pending':
      throw createAppError('FILE_SCAN_PENDING', 423, `File ${file.uuid} is being scanned for viruses; it is delivered once the scan finds it clean.`, {
        headers: { 'retry-after': '5' },
      });
    case 'failed':
      throw createAppError(
        'FILE_SCAN_PENDING',
        423,
        `The virus scan of file ${file.uuid} could not be completed, so it is not delivered; run the uc_clamav_virus_scan add-on on it again.`,
      );
    case 'infected': {
      const signature = file.appdata.uc_clamav_virus_scan?.data.infected_with;
      const found = typeof signature === 'string' && signature !== '' ? ` (${signature})` : '';
      throw createAppError('FILE_INFECTED', 403, `File ${file.uuid} is infected${found} and is not delivered.`);
    }
    default:
      return;
  }
}

/** The scan's verdict as Uploadcare's `appdata.uc_clamav_virus_scan` holds it; `previous` keeps its creation time. */
export function clamavAppData(
  verdict: { infected: boolean; signature: string | null },
  version: string,
  at: string,
  previous: AppDataEntry | undefined,
): AppDataEntry {
  return {
    data: { infected: verdict.infected, infected_with: verdict.signature ?? '' },
    version,
    datetime_created: previous?.datetime_created ?? at,
    datetime_updated: at,
  };
}

/** The file's state after a scan's verdict. A clean verdict releases a held file; an infected one holds it. */
export function scanStatusAfter(verdict: { infected: boolean }): ScanStatus {
  return verdict.infected ? 'infected' : 'clean';
}

/** A request id derived from the file, so the upload scan of a file is one request however often it is asked for. */
export function uploadScanRequestId(hexDigest: string): string {
  const hex = hexDigest.slice(0, 32);
  // Shaped as a version-4-like UUID so clients that check the format accept it.
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-a${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}
