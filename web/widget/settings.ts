/** The element's attributes, read into one typed object each time they are needed (they can change at any time). */

import { SERVER_PATHS } from './server-paths';
import {
  parseAccept,
  parseChunkSize,
  parseCount,
  parseSize,
  parseSources,
  parseStore,
  parseThreshold,
  type Source,
  type StoreMode,
} from './validate.js';

export const OBSERVED_ATTRIBUTES = [
  'pubkey',
  'base-url',
  'cdn-base',
  'multiple',
  'max-files',
  'max-size',
  'accept',
  'store',
  'name',
  'group',
  'sources',
  'multipart-threshold',
  'chunk-size',
  'concurrency',
  'signature-url',
] as const;

type AttributeName = (typeof OBSERVED_ATTRIBUTES)[number];

export interface Settings {
  pubkey: string;
  /** Upload API base, no trailing slash. */
  baseUrl: string;
  /** Where files are served: `${cdnBase}/${uuid}/`. */
  cdnBase: string;
  multiple: boolean;
  maxFiles: number | null;
  maxSize: number | null;
  accept: string[];
  store: StoreMode;
  name: string;
  group: boolean;
  sources: Set<Source>;
  threshold: number;
  chunkSize: number;
  concurrency: number;
}

/** Where this module was loaded from: the Trove that serves /widget.js is the default one to talk to. */
const SCRIPT_ORIGIN = ((): string => {
  try {
    const origin = new URL(import.meta.url).origin;
    if (origin !== 'null') return origin;
  } catch {
    // Bundled into a page script with no module URL: fall back to the page.
  }
  return location.origin;
})();

const trimSlashes = (url: string): string => url.replace(/\/+$/, '');

/**
 * `base-url` may name Trove's origin (`https://trove.example`): the Upload API's path on that
 * server is added. A URL with a path is taken as the Upload API's base itself.
 */
function uploadBaseOf(attribute: string | undefined): string {
  if (!attribute) return `${SCRIPT_ORIGIN}${SERVER_PATHS.upload}`;
  const url = new URL(attribute, document.baseURI);
  return trimSlashes(url.pathname === '/' ? `${url.origin}${SERVER_PATHS.upload}` : url.href);
}

export function readSettings(element: Element, warn: (message: string) => void): Settings {
  const attr = (name: AttributeName): string | null => element.getAttribute(name);
  const baseAttr = attr('base-url')?.trim();
  const baseUrl = trimSlashes(uploadBaseOf(baseAttr));
  const cdnAttr = attr('cdn-base')?.trim();
  // The Upload API sits under a path while files are delivered from the same origin's delivery path.
  const cdnBase = trimSlashes(cdnAttr ? new URL(cdnAttr, document.baseURI).href : `${new URL(baseUrl).origin}${SERVER_PATHS.cdn}`);
  const maxSizeRaw = attr('max-size');
  const maxSize = parseSize(maxSizeRaw);
  if (maxSizeRaw !== null && maxSize === null) warn(`max-size="${maxSizeRaw}" is not a size such as 10MB or 5MiB; no size limit applies.`);
  const maxFilesRaw = attr('max-files');
  return {
    pubkey: attr('pubkey')?.trim() ?? '',
    baseUrl,
    cdnBase,
    multiple: element.hasAttribute('multiple'),
    maxFiles: maxFilesRaw === null ? null : parseCount(maxFilesRaw, 1),
    maxSize,
    accept: parseAccept(attr('accept')),
    store: parseStore(attr('store')),
    name: attr('name')?.trim() || 'trove-file',
    group: element.hasAttribute('group'),
    sources: parseSources(attr('sources')),
    threshold: parseThreshold(attr('multipart-threshold')),
    chunkSize: parseChunkSize(attr('chunk-size')),
    // More parallel parts than this only adds contention on one connection pool.
    concurrency: Math.min(16, parseCount(attr('concurrency'), 4)),
  };
}
