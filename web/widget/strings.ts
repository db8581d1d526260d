/**
 * Every word the widget shows or announces, in one table, so a site can translate or reword it:
 * `setStrings({...})` for every uploader on the page, `element.strings = {...}` for one.
 * Messages with parameters are functions; sizes arrive already formatted ("12 MB").
 */

export interface WidgetStrings {
  dropHint: string;
  dropHintSingle: string;
  dropActive: string;
  chooseFiles: string;
  chooseFile: string;
  dropzoneLabel: string;
  urlLabel: string;
  urlPlaceholder: string;
  urlSubmit: string;
  urlInvalid: string;
  camera: string;
  cameraTitle: string;
  cameraCapture: string;
  cameraClose: string;
  cameraStarting: string;
  cameraFallback: string;
  cameraUnavailable: (reason: string) => string;
  limits: (parts: { accept: string | null; maxSize: string | null; maxFiles: number | null }) => string;
  filesLabel: string;
  totalLabel: string;
  totalSummary: (uploaded: number, total: number) => string;
  fileProgressLabel: (name: string) => string;
  percent: (percent: number) => string;
  statusQueued: string;
  statusUploading: string;
  statusFetching: string;
  statusFinishing: string;
  statusUploaded: string;
  statusFailed: string;
  statusCancelled: string;
  cancel: string;
  cancelFile: (name: string) => string;
  retry: string;
  retryFile: (name: string) => string;
  remove: string;
  removeFile: (name: string) => string;
  dismiss: string;
  announceProgress: (name: string, percent: number) => string;
  announceUploaded: (name: string) => string;
  announceFailed: (name: string, message: string) => string;
  announceCancelled: (name: string) => string;
  announceDone: (uploaded: number, failed: number) => string;
  tooLarge: (name: string, size: string, limit: string) => string;
  notAccepted: (name: string, accepted: string) => string;
  tooMany: (name: string, max: number) => string;
  emptyFile: (name: string) => string;
  missingPubkey: string;
  networkError: string;
  serverError: (status: number) => string;
  badAnswer: string;
  signatureFailed: (reason: string) => string;
  urlFailed: (reason: string) => string;
  groupFailed: (reason: string) => string;
}

export const strings: WidgetStrings = {
  dropHint: 'Drag files here, paste them, or',
  dropHintSingle: 'Drag a file here, paste it, or',
  dropActive: 'Drop to upload',
  chooseFiles: 'Choose files',
  chooseFile: 'Choose a file',
  dropzoneLabel: 'Upload files',
  urlLabel: 'Or upload from a link',
  urlPlaceholder: 'https://example.com/photo.jpg',
  urlSubmit: 'Upload link',
  urlInvalid: 'Enter a full link that starts with http:// or https://.',
  camera: 'Take a photo',
  cameraTitle: 'Camera',
  cameraCapture: 'Take photo',
  cameraClose: 'Close',
  cameraStarting: 'Starting the camera…',
  cameraFallback: 'Choose a photo instead',
  cameraUnavailable: (reason) => `The camera could not be started: ${reason}`,
  limits: ({ accept, maxSize, maxFiles }) =>
    [accept && `Accepted: ${accept}`, maxSize && `up to ${maxSize} each`, maxFiles !== null && `at most ${maxFiles} ${maxFiles === 1 ? 'file' : 'files'}`]
      .filter(Boolean)
      .join(' · '),
  filesLabel: 'Files',
  totalLabel: 'Total progress',
  totalSummary: (uploaded, total) => `${uploaded} of ${total} uploaded`,
  fileProgressLabel: (name) => `Upload progress of ${name}`,
  percent: (percent) => `${percent}%`,
  statusQueued: 'Waiting',
  statusUploading: 'Uploading',
  statusFetching: 'Fetching from link',
  statusFinishing: 'Finishing',
  statusUploaded: 'Uploaded',
  statusFailed: 'Failed',
  statusCancelled: 'Cancelled',
  cancel: 'Cancel',
  cancelFile: (name) => `Cancel upload of ${name}`,
  retry: 'Retry',
  retryFile: (name) => `Retry upload of ${name}`,
  remove: 'Remove',
  removeFile: (name) => `Remove ${name}`,
  dismiss: 'Dismiss messages',
  announceProgress: (name, percent) => `Uploading ${name}: ${percent}%`,
  announceUploaded: (name) => `${name} uploaded.`,
  announceFailed: (name, message) => `${name} failed: ${message}`,
  announceCancelled: (name) => `Upload of ${name} cancelled.`,
  announceDone: (uploaded, failed) =>
    failed > 0 ? `Uploads finished: ${uploaded} uploaded, ${failed} not uploaded.` : `All uploads finished: ${uploaded} uploaded.`,
  tooLarge: (name, size, limit) => `${name} is ${size}; the limit is ${limit}.`,
  notAccepted: (name, accepted) => `${name} is not an accepted type; accepted: ${accepted}.`,
  tooMany: (name, max) => `${name} was not added: at most ${max} ${max === 1 ? 'file' : 'files'} can be uploaded here.`,
  emptyFile: (name) => `${name} is empty.`,
  missingPubkey: 'This uploader is not set up: its pubkey attribute (the project’s public key) is missing.',
  networkError: 'The connection to the upload server failed. Check your connection and retry.',
  serverError: (status) => `The upload server answered with an error (HTTP ${status}).`,
  badAnswer: 'The upload server sent an answer the uploader does not understand.',
  signatureFailed: (reason) => `Could not get permission to upload: ${reason}`,
  urlFailed: (reason) => `The link could not be uploaded: ${reason}`,
  groupFailed: (reason) => `The files were uploaded but could not be grouped: ${reason}`,
};

type Listener = () => void;
const listeners = new Set<Listener>();

/** Replaces entries of the shared table; uploaders on the page redraw their text. */
export function setStrings(partial: Partial<WidgetStrings>): void {
  Object.assign(strings, partial);
  for (const listener of listeners) listener();
}

/** Called by each uploader while connected, to redraw after setStrings. */
export function onStringsChange(listener: Listener): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}
