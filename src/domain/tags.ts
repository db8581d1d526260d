import { createAppError, type ErrorCode } from '../errors.js';

/** Uploadcare's tag rules, applied after normalisation. */
export const TAG_LIMITS = { maxTags: 50, maxLength: 100 } as const;
const TAG_RE = /^[A-Za-z0-9._-]+$/;

/** How a tag is compared and stored: lowercased, surrounding whitespace stripped. */
export function normalizeTag(raw: string): string {
  return raw.trim().toLowerCase();
}

/** A short, quoted form of a client's tag for a message. */
function quoted(raw: string): string {
  return JSON.stringify(raw.length > 40 ? `${raw.slice(0, 40)}…` : raw);
}

/**
 * Normalises a list of tags as Uploadcare does (lowercased, trimmed, empty ones dropped, duplicates
 * removed with the first kept, order kept) and checks each against the rules: at most 100 characters
 * of Latin letters, digits, `-`, `_` and `.`. Throws `code` (400) naming the first tag that breaks one.
 * The count limit is the caller's: it applies to the file's resulting list.
 */
export function normalizeTags(values: readonly string[], code: ErrorCode): string[] {
  const tags: string[] = [];
  const seen = new Set<string>();
  for (const raw of values) {
    const tag = normalizeTag(raw);
    if (tag === '' || seen.has(tag)) continue;
    if (tag.length > TAG_LIMITS.maxLength) {
      throw createAppError(code, 400, `Tag ${quoted(tag)} is ${tag.length} characters long; a tag has at most ${TAG_LIMITS.maxLength}.`);
    }
    if (!TAG_RE.test(tag)) {
      throw createAppError(code, 400, `Tag ${quoted(tag)} may contain only Latin letters, digits, "-", "_" and "." (no spaces or other characters).`);
    }
    seen.add(tag);
    tags.push(tag);
  }
  return tags;
}

/** Throws `code` (400) when a file would carry more tags than allowed. */
export function checkTagCount(tags: readonly string[], code: ErrorCode): void {
  if (tags.length > TAG_LIMITS.maxTags) {
    throw createAppError(code, 400, `A file has at most ${TAG_LIMITS.maxTags} tags; this would leave it ${tags.length}.`);
  }
}

/** A file's tags after a change, with what the change added and deleted (each sorted alphabetically). */
export interface TagChange {
  tags: string[];
  added: string[];
  deleted: string[];
}

/** The difference between two tag lists; `changed` is false when they hold the same tags, whatever the order. */
export function tagChange(current: readonly string[], next: readonly string[]): TagChange & { changed: boolean } {
  const before = new Set(current);
  const after = new Set(next);
  const added = next.filter((tag) => !before.has(tag)).sort();
  const deleted = current.filter((tag) => !after.has(tag)).sort();
  const changed = added.length > 0 || deleted.length > 0;
  return { tags: changed ? [...next] : [...current], added, deleted, changed };
}

/** Uploadcare's tag update: `remove` first (compared as normalised), then `add` (tags already there are skipped). */
export function patchTags(current: readonly string[], add: readonly string[], remove: readonly string[]): string[] {
  const gone = new Set(remove.map(normalizeTag));
  const next = current.filter((tag) => !gone.has(normalizeTag(tag)));
  for (const tag of add) if (!next.includes(tag)) next.push(tag);
  return next;
}
