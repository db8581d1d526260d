import { createAppError } from '../errors.js';
import type { FileMetadata } from './file.js';
import { lastField, type Fields } from './form-fields.js';
import { parseTags, validateMetadata } from './metadata.js';

/** `UPLOADCARE_STORE`: `1` store, `0` leave temporary, `auto` follow the project setting. */
type StoreMode = 'store' | 'temporary' | 'auto';

/** What an Upload API client asks for the file it sends, read from the request's fields. */
interface UploadOptions {
  store: StoreMode;
  metadata: FileMetadata;
  tags: string[];
  /** Where the upload came from (`local`, `url`, an integration name…), at most 64 characters. */
  source: string;
  /** `filename` as sent; direct uploads name each file by its own part instead. */
  filename: string | undefined;
}

/** The public key, signature and expiry an Upload API request carries. */
export interface UploadCredentials {
  publicKey: string | undefined;
  signature: string | undefined;
  expire: string | undefined;
}

/**
 * How one Upload API endpoint names its fields. Uploadcare's endpoints differ: `/base/` and
 * `/multipart/start/` take `UPLOADCARE_STORE` and `UPLOADCARE_PUB_KEY`, `/from_url/` takes `store`
 * and `pub_key` (and the long names too).
 */
interface UploadEndpoint {
  /** Names of the store field, in order of precedence; errors name the first. */
  store: readonly [string, ...string[]];
  /** Names of the public key field, in order of precedence. */
  publicKey: readonly [string, ...string[]];
  /** Names of the public key in a query string read apart from the fields (direct upload); default: publicKey. */
  queryPublicKey?: readonly [string, ...string[]];
  /** The source recorded when the client declares none. */
  defaultSource: string;
}

export const DIRECT_UPLOAD: UploadEndpoint = {
  store: ['UPLOADCARE_STORE'],
  publicKey: ['UPLOADCARE_PUB_KEY'],
  queryPublicKey: ['UPLOADCARE_PUB_KEY', 'pub_key'],
  defaultSource: 'local',
};
export const MULTIPART_UPLOAD: UploadEndpoint = { store: ['UPLOADCARE_STORE'], publicKey: ['UPLOADCARE_PUB_KEY'], defaultSource: 'local' };
export const FROM_URL_UPLOAD: UploadEndpoint = { store: ['store', 'UPLOADCARE_STORE'], publicKey: ['pub_key', 'UPLOADCARE_PUB_KEY'], defaultSource: 'url' };
/** Group creation takes no file options, only credentials. */
export const GROUP_CREATION: Pick<UploadEndpoint, 'publicKey'> = { publicKey: ['pub_key', 'UPLOADCARE_PUB_KEY'] };

const MAX_SOURCE_LENGTH = 64;

/**
 * The options of one upload, validated; throws an Uploadcare-coded AppError (400) for the first
 * field that breaks a rule, checking store, then metadata, then tags.
 */
export function parseUploadOptions(fields: Fields, endpoint: UploadEndpoint): UploadOptions {
  const storeRaw = firstOf(fields, endpoint.store);
  const store = parseStoreMode(storeRaw);
  if (store === null) {
    throw createAppError('RequestParamRequiredError', 400, `${endpoint.store[0]} must be 0, 1 or auto, got "${storeRaw}".`);
  }
  return {
    store,
    metadata: validateMetadata(metadataEntries(fields)),
    tags: parseTags(lastField(fields, 'tags')),
    source: (lastField(fields, 'source') ?? endpoint.defaultSource).slice(0, MAX_SOURCE_LENGTH),
    filename: lastField(fields, 'filename'),
  };
}

/**
 * Credentials as sent; whether they open a project is the upload auth service's call. `query`:
 * a query string kept apart from `fields` (direct upload reads its form first and falls back on
 * the query for each value); other endpoints pass query and body together as `fields`.
 */
export function readUploadCredentials(
  fields: Fields,
  endpoint: Pick<UploadEndpoint, 'publicKey' | 'queryPublicKey'>,
  query: Fields = [],
): UploadCredentials {
  return {
    publicKey: firstOf(fields, endpoint.publicKey) ?? firstOf(query, endpoint.queryPublicKey ?? endpoint.publicKey),
    signature: lastField(fields, 'signature') ?? lastField(query, 'signature'),
    expire: lastField(fields, 'expire') ?? lastField(query, 'expire'),
  };
}

export function parseStoreMode(raw: string | undefined): StoreMode | null {
  if (raw === undefined || raw === '' || raw === 'auto') return 'auto';
  if (raw === '1' || raw === 'true') return 'store';
  if (raw === '0' || raw === 'false') return 'temporary';
  return null;
}

export function shouldStore(mode: StoreMode, projectAutoStore: boolean): boolean {
  return mode === 'store' || (mode === 'auto' && projectAutoStore);
}

/** The last value of the first name that was sent at all. */
function firstOf(fields: Fields, names: readonly string[]): string | undefined {
  for (const name of names) {
    const value = lastField(fields, name);
    if (value !== undefined) return value;
  }
  return undefined;
}

/** `metadata[key]` fields as key–value pairs, in the order sent. */
function metadataEntries(fields: Fields): Array<[string, string]> {
  const entries: Array<[string, string]> = [];
  for (const [name, value] of fields) {
    const match = /^metadata\[(.*)\]$/s.exec(name);
    if (match) entries.push([match[1] ?? '', value]);
  }
  return entries;
}
