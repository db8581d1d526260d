/**
 * Entry point of /widget.js. Importing it defines <trove-uploader>; the named exports are for pages
 * that subclass the element, register it under another tag, or translate its strings.
 */

import { defineTroveUploader } from './trove-uploader.js';

export { TroveUploader, defineTroveUploader } from './trove-uploader.js';
export type { DoneDetail, FileStatus, UploadedFile, UploaderFile } from './trove-uploader.js';
export { setStrings, strings } from './strings.js';
export type { WidgetStrings } from './strings.js';
export type { SignatureAnswer, SignatureProvider } from './signature.js';
export type { FileInfo, GroupInfo } from './upload-api.js';
export { formatBytes } from './format.js';
export { parseSize } from './validate.js';

defineTroveUploader();
