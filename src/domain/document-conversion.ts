/**
 * Uploadcare's document conversion: the path grammar of `POST /convert/document/`
 * (`<uuid>/document/-/format/png/-/page/2/`), the formats Trove converts between, and the record of
 * a conversion job. Parsing is pure: a path becomes a format and a page number before anything runs.
 */
import { createHash } from 'node:crypto';
import { isUuid } from './file.js';
import type { ConversionStatus } from './video-conversion.js';

/** PDFs: their first page is what the CDN transforms as an image. */
export const PDF_MIME_TYPE = 'application/pdf';

/** Formats Trove writes: pages drawn as images, or the whole document as PDF. */
export const DOCUMENT_TARGET_FORMATS = ['pdf', 'png', 'jpg'] as const;
export type DocumentTargetFormat = (typeof DOCUMENT_TARGET_FORMATS)[number];

/**
 * Formats Uploadcare names that Trove does not write (text extraction, office re-encoding, other
 * image types): refused by name, so a client learns what is missing rather than reading a typo.
 */
const KNOWN_UNSUPPORTED_FORMATS = new Set(['doc', 'docx', 'xls', 'xlsx', 'odt', 'ods', 'rtf', 'txt', 'html', 'epub', 'ppt', 'pptx', 'odp', 'tiff', 'webp', 'gif', 'bmp', 'avif', 'heic', 'svg', 'ai', 'eps', 'psd', 'jpeg']);

export interface DocumentPlan {
  format: DocumentTargetFormat;
  /** 1-based page of an image format; null: the first page, or every page when saved in a group. */
  page: number | null;
}

interface ParsedDocumentConversion {
  sourceUuid: string;
  plan: DocumentPlan;
}

export class DocumentPathError extends Error {
  override readonly name = 'DocumentPathError';
}

function bad(path: string, why: string): never {
  throw new DocumentPathError(`Bad path "${path.slice(0, 300)}": ${why}`);
}

/**
 * Reads one path of a conversion request. Throws `DocumentPathError` with a sentence naming what is
 * wrong. `format` is required, as in Uploadcare's API; `page` applies to image formats only.
 */
export function parseDocumentConversionPath(path: string, maxPages: number): ParsedDocumentConversion {
  if (path.length > 1024) bad(path, 'a path has at most 1024 characters.');
  const parts = path.replace(/^\/+/, '').split('/');
  if (parts.at(-1) === '') parts.pop();
  const uuid = (parts[0] ?? '').toLowerCase();
  if (!isUuid(uuid)) bad(path, 'it must start with the UUID of a file of this project.');
  if (parts[1] !== 'document') bad(path, 'the UUID must be followed by `/document/`.');
  let format: DocumentTargetFormat | null = null;
  let page: number | null = null;
  const seen = new Set<string>();
  let index = 2;
  while (index < parts.length) {
    if (parts[index] !== '-') bad(path, 'operations are written `/-/<operation>/<parameter>/`.');
    const operation = parts[index + 1] ?? '';
    index += 2;
    const params: string[] = [];
    while (index < parts.length && parts[index] !== '-') params.push(parts[index++]!);
    if (seen.has(operation)) bad(path, `\`${operation.slice(0, 40)}\` is given twice.`);
    seen.add(operation);
    switch (operation) {
      case 'format': {
        const name = (params[0] ?? '').toLowerCase();
        if (params.length !== 1) bad(path, '`format` takes one name: `/-/format/pdf/`.');
        if (DOCUMENT_TARGET_FORMATS.includes(name as DocumentTargetFormat)) {
          format = name as DocumentTargetFormat;
          break;
        }
        if (KNOWN_UNSUPPORTED_FORMATS.has(name)) bad(path, `Trove does not convert documents to ${name}; it converts to ${DOCUMENT_TARGET_FORMATS.join(', ')}.`);
        bad(path, `\`${name.slice(0, 40)}\` is not a format; Trove converts documents to ${DOCUMENT_TARGET_FORMATS.join(', ')}.`);
        break;
      }
      case 'page': {
        if (params.length !== 1 || !/^\d{1,6}$/.test(params[0]!)) bad(path, '`page` takes a page number: `/-/page/2/`.');
        const number = Number(params[0]);
        if (number < 1 || number > maxPages) bad(path, `\`page\` is a number from 1 to ${maxPages}.`);
        page = number;
        break;
      }
      default:
        bad(path, `\`${operation.slice(0, 40)}\` is not a document operation (format, page).`);
    }
  }
  if (format === null) bad(path, `the target format is required: \`/-/format/<${DOCUMENT_TARGET_FORMATS.join('|')}>/\`.`);
  if (page !== null && format === 'pdf') bad(path, '`page` applies to image formats (png, jpg), not to pdf.');
  return { sourceUuid: uuid, plan: { format, page } };
}

/** True when the plan draws pages as images. */
export function isImageTarget(format: DocumentTargetFormat): format is 'png' | 'jpg' {
  return format !== 'pdf';
}

/** What makes two requests the same conversion: the project, the source, the plan and where the result goes. */
export function documentRequestKey(projectId: string, sourceUuid: string, plan: DocumentPlan, options: { store: boolean; saveInGroup: boolean }): string {
  const canonical = JSON.stringify([plan.format, plan.page, options.store ? 1 : 0, options.saveInGroup ? 1 : 0]);
  return createHash('sha256').update(`trove-document-v1\n${projectId}\n${sourceUuid}\n${canonical}`).digest('hex');
}

/** One document conversion as Trove keeps it (table `document_conversions`). */
export interface DocumentConversion {
  /** Uploadcare's job token: a positive integer, kept as its decimal text. */
  token: string;
  projectId: string;
  requestKey: string;
  sourceUuid: string;
  plan: DocumentPlan;
  store: boolean;
  /** Every page of an image format becomes a file of one group (named in `converted_groups`). */
  saveInGroup: boolean;
  /** Chosen when the job is accepted, so the answer names the file before it exists. */
  resultUuid: string;
  /** The group of pages, once made (save_in_group with an image format). */
  groupId: string | null;
  status: ConversionStatus;
  error: string | null;
  createdAt: string;
  updatedAt: string;
}

/**
 * The uuid of page `index` (0-based, after the first) of a conversion saved in a group, derived from
 * its token: a job run twice (after a crash) finds the pages it already stored.
 */
export function documentPageUuid(token: string, index: number): string {
  const hex = createHash('sha256').update(`trove-document-page\n${token}\n${index}`).digest('hex');
  const variant = ((Number.parseInt(hex[16]!, 16) & 0x3) | 0x8).toString(16);
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-${variant}${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

/** Source formats Trove reads, by MIME type: PDF through pdfium, the rest through LibreOffice. */
const OFFICE_FORMATS: Readonly<Record<string, string>> = {
  'application/msword': 'doc',
  'application/vnd.openxmlformats-officedocument.wordprocessingml.document': 'docx',
  'application/vnd.ms-excel': 'xls',
  'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet': 'xlsx',
  'application/vnd.ms-powerpoint': 'ppt',
  'application/vnd.openxmlformats-officedocument.presentationml.presentation': 'pptx',
  'application/vnd.oasis.opendocument.text': 'odt',
  'application/vnd.oasis.opendocument.spreadsheet': 'ods',
  'application/vnd.oasis.opendocument.presentation': 'odp',
  'application/rtf': 'rtf',
  'text/rtf': 'rtf',
};

/** Office files by extension, for files whose bytes were sniffed only as a zip or as plain data. */
const OFFICE_EXTENSIONS = new Set(Object.values(OFFICE_FORMATS));

export type DocumentKind = { kind: 'pdf'; name: 'pdf' } | { kind: 'office'; name: string };

/** What kind of document a file is, from its MIME type and, for zipped Office formats, its extension; null: not a document Trove converts. */
export function documentKindOf(mimeType: string, filename: string): DocumentKind | null {
  if (mimeType === PDF_MIME_TYPE) return { kind: 'pdf', name: 'pdf' };
  const byType = OFFICE_FORMATS[mimeType];
  if (byType) return { kind: 'office', name: byType };
  const extension = /\.([a-z0-9]{2,5})$/i.exec(filename)?.[1]?.toLowerCase();
  if (extension && OFFICE_EXTENSIONS.has(extension) && (mimeType === 'application/zip' || mimeType === 'application/octet-stream' || mimeType === 'application/x-cfb')) {
    return { kind: 'office', name: extension };
  }
  return null;
}
