/** The REST API's rules for metadata and tags, checked before a request so errors show next to the field. */

const METADATA_KEY = /^[\w\-.:]{1,64}$/;
export const METADATA_MAX_VALUE = 512;
export const METADATA_MAX_KEYS = 50;
const TAG_MAX_LENGTH = 100;
const TAGS_MAX = 50;
const TAG_CHARACTERS = /^[A-Za-z0-9._-]+$/;

/** How the API stores a tag: lowercased, surrounding whitespace stripped. */
export function normalizeTag(tag: string): string {
  return tag.trim().toLowerCase();
}

export function metadataKeyError(key: string): string | null {
  if (key === '') return 'Enter a key.';
  if (key.length > 64) return 'Keys are at most 64 characters.';
  if (!METADATA_KEY.test(key)) return 'Keys may use letters, digits, and _ - . : only.';
  return null;
}

export function metadataValueError(value: string): string | null {
  if (value === '') return 'Enter a value.';
  if (value.length > METADATA_MAX_VALUE) return `Values are at most ${METADATA_MAX_VALUE} characters (this one has ${value.length}).`;
  return null;
}

/** Whether a normalised tag may join `existing`; the message says which rule it breaks. */
export function tagError(tag: string, existing: readonly string[]): string | null {
  if (tag === '') return 'Enter a tag.';
  if (tag.length > TAG_MAX_LENGTH) return `Tags are at most ${TAG_MAX_LENGTH} characters (this one has ${tag.length}).`;
  if (!TAG_CHARACTERS.test(tag)) return `“${tag}”: tags may use Latin letters, digits, and - _ . only (no spaces).`;
  if (existing.includes(tag)) return `“${tag}” is already there.`;
  if (existing.length >= TAGS_MAX) return `A file has at most ${TAGS_MAX} tags.`;
  return null;
}

/** A webhook target must be an absolute http(s) URL of at most 255 characters (Uploadcare's limit). */
export function targetUrlError(url: string): string | null {
  if (url.trim() === '') return 'Enter the URL that receives the events.';
  if (url.length > 255) return 'The URL is longer than 255 characters.';
  try {
    const parsed = new URL(url);
    if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') return 'Use an http:// or https:// URL.';
  } catch {
    return 'This is not a valid URL.';
  }
  return null;
}
