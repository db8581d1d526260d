/**
 * Storages a project registers as targets of `POST /files/remote_copy/` (a Trove extension): a
 * name, an S3 or S3-compatible bucket with an optional prefix, and credentials. The credentials
 * never leave the server once registered; everything else here may be shown.
 */
import { createAppError } from '../errors.js';
import { copyPatternProblem, DEFAULT_COPY_PATTERN } from './remote-copy.js';

export interface ProjectStorage {
  name: string;
  bucket: string;
  /** Without leading or trailing `/`; '' for none. */
  prefix: string;
  region: string;
  /** Origin of an S3-compatible service; null for AWS itself. */
  endpoint: string | null;
  forcePathStyle: boolean;
  /** Used when a copy gives no `pattern`. */
  pattern: string;
  createdAt: string;
}

export interface StorageCredentials {
  accessKeyId: string;
  secretAccessKey: string;
}

/** What a registration carries, as the client sent it (the REST schema and the CLI only check shapes). */
export interface StorageRegistration {
  name: string;
  bucket: string;
  prefix?: string | null;
  region?: string | null;
  endpoint?: string | null;
  forcePathStyle?: boolean | null;
  pattern?: string | null;
  accessKeyId: string;
  secretAccessKey: string;
}

const STORAGE_NAME_MAX_LENGTH = 64;
export const STORAGE_NAME_PATTERN = `^[A-Za-z0-9][A-Za-z0-9_.-]{0,${STORAGE_NAME_MAX_LENGTH - 1}}$`;
const DEFAULT_STORAGE_REGION = 'us-east-1';
const MAX_PREFIX_LENGTH = 512;
const MAX_ENDPOINT_LENGTH = 2048;
const MAX_CREDENTIAL_LENGTH = 1024;

const NAME = new RegExp(STORAGE_NAME_PATTERN);
// S3's rules, plus the upper case and underscores older buckets and some S3-compatible services allow.
const BUCKET = /^[A-Za-z0-9][A-Za-z0-9._-]{1,61}[A-Za-z0-9]$/;
const REGION = /^[a-z0-9][a-z0-9-]{0,62}$/;
const CREDENTIAL = /^[\x21-\x7e]+$/;
const CONTROL = /[\u0000-\u001f\u007f]/;

export const STORAGE_NAME_RULE = `1–${STORAGE_NAME_MAX_LENGTH} letters, digits, \`_\`, \`.\` or \`-\`, starting with a letter or digit`;

function invalid(message: string): never {
  throw createAppError('PARAMETER_INVALID', 400, message);
}

export function isStorageName(name: string): boolean {
  return NAME.test(name);
}

/** Checks and normalises a registration; every refusal names the field and the rule. */
export function checkStorageRegistration(input: StorageRegistration): { settings: Omit<ProjectStorage, 'createdAt'>; credentials: StorageCredentials } {
  if (!isStorageName(input.name)) invalid(`\`name\` must be ${STORAGE_NAME_RULE}.`);
  if (!BUCKET.test(input.bucket) || input.bucket.includes('..')) {
    invalid('`bucket` must be an S3 bucket name: 3–63 letters, digits, `.`, `_` or `-`, starting and ending with a letter or digit.');
  }
  const region = input.region?.trim() || DEFAULT_STORAGE_REGION;
  if (!REGION.test(region)) invalid('`region` must be a region name such as us-east-1: lowercase letters, digits and `-`.');
  const pattern = input.pattern === undefined || input.pattern === null || input.pattern === '' ? DEFAULT_COPY_PATTERN : input.pattern;
  const patternProblem = copyPatternProblem(pattern);
  if (patternProblem) invalid(`Bad \`pattern\`: ${patternProblem}`);
  for (const [field, value] of [['access_key_id', input.accessKeyId], ['secret_access_key', input.secretAccessKey]] as const) {
    if (value.length === 0 || value.length > MAX_CREDENTIAL_LENGTH || !CREDENTIAL.test(value)) {
      invalid(`\`${field}\` must be 1–${MAX_CREDENTIAL_LENGTH} printable ASCII characters without spaces.`);
    }
  }
  return {
    settings: {
      name: input.name,
      bucket: input.bucket,
      prefix: normalizePrefix(input.prefix ?? ''),
      region,
      endpoint: input.endpoint === undefined || input.endpoint === null || input.endpoint === '' ? null : normalizeEndpoint(input.endpoint),
      forcePathStyle: input.forcePathStyle ?? false,
      pattern,
    },
    credentials: { accessKeyId: input.accessKeyId, secretAccessKey: input.secretAccessKey },
  };
}

/** A key prefix without surrounding `/`; its segments must name folders on every S3-compatible store. */
function normalizePrefix(raw: string): string {
  const prefix = raw.replace(/^\/+|\/+$/g, '');
  if (prefix === '') return '';
  if (prefix.length > MAX_PREFIX_LENGTH) invalid(`\`prefix\` must be at most ${MAX_PREFIX_LENGTH} characters.`);
  if (CONTROL.test(prefix)) invalid('`prefix` must not contain control characters.');
  if (prefix.split('/').some((segment) => segment === '' || segment === '.' || segment === '..')) {
    invalid('`prefix` must be folder names separated by single `/`, none of them `.` or `..`.');
  }
  return prefix;
}

/** The origin of an http(s) endpoint; paths, queries and credentials in it are refused. */
function normalizeEndpoint(raw: string): string {
  if (raw.length > MAX_ENDPOINT_LENGTH) invalid(`\`endpoint\` must be at most ${MAX_ENDPOINT_LENGTH} characters.`);
  let url: URL;
  try {
    url = new URL(raw.trim());
  } catch {
    return invalid('`endpoint` must be an http(s) URL such as https://s3.example.com.');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') invalid('`endpoint` must be an http(s) URL such as https://s3.example.com.');
  if (url.username !== '' || url.password !== '') invalid('`endpoint` must not carry credentials; give them as access_key_id and secret_access_key.');
  if ((url.pathname !== '/' && url.pathname !== '') || url.search !== '' || url.hash !== '') {
    invalid('`endpoint` must be the service origin alone (scheme, host and port), without a path or query.');
  }
  return url.origin;
}
