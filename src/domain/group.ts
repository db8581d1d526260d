import { isUuid } from './file.js';

export interface GroupEntry {
  uuid: string;
  /** CDN operations that follow the uuid, normalised to `-/op/params/…/` or '' (Uploadcare's default_effects). */
  effects: string;
}

const ENTRY_RE = /^(?:https?:\/\/[^/]+\/)?([0-9a-fA-F-]{36})(?:\/(.*))?$/s;

/** Parses `uuid`, `uuid/-/resize/100x/` or a CDN URL of a file into a group entry; null when it is none of those. */
export function parseGroupEntry(raw: string): GroupEntry | null {
  const match = ENTRY_RE.exec(raw.trim());
  if (!match) return null;
  const uuid = (match[1] ?? '').toLowerCase();
  if (!isUuid(uuid)) return null;
  const rest = (match[2] ?? '').replace(/^\/+/, '');
  if (rest === '') return { uuid, effects: '' };
  if (!rest.startsWith('-/') || rest.length > 2048 || /[\s\u0000-\u001f]/.test(rest)) return null;
  return { uuid, effects: rest.endsWith('/') ? rest : `${rest}/` };
}

/** Uploadcare's group id: the group's own uuid, `~`, and the number of files. */
export function groupId(uuid: string, count: number): string {
  return `${uuid}~${count}`;
}

export function isGroupId(value: string): boolean {
  const [uuid, count] = value.split('~');
  return uuid !== undefined && isUuid(uuid) && count !== undefined && /^[1-9]\d{0,5}$/.test(count);
}
