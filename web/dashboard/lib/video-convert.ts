/**
 * The file page's video conversions: the Uploadcare path its form stands for, and the conversions
 * started from this tab. The REST API answers a conversion's status by its token but does not list
 * a file's conversions, so the page remembers the tokens it got (in sessionStorage: they outlive a
 * reload of the tab, not the tab).
 */

export const VIDEO_FORMATS = ['mp4', 'webm'] as const;
export type VideoFormat = (typeof VIDEO_FORMATS)[number];
export const VIDEO_QUALITIES = ['normal', 'better', 'best', 'lighter', 'lightest'] as const;
export type VideoQuality = (typeof VIDEO_QUALITIES)[number];

/** How a size with both sides is met: Uploadcare's `size` modes (preserve_ratio is its default). */
export const RESIZE_MODES = ['preserve_ratio', 'change_ratio', 'scale_crop', 'add_padding'] as const;
export type ResizeMode = (typeof RESIZE_MODES)[number];

/** Uploadcare's bounds of `thumbs~N`. */
export const MAX_THUMBNAILS = 50;

/** What the form holds: number fields as typed. */
export interface ConvertForm {
  format: VideoFormat;
  quality: VideoQuality;
  width: string;
  height: string;
  /** Applies when both sides are set; with one side the other follows the source's ratio. */
  mode: ResizeMode;
  thumbs: string;
}

export const INITIAL_CONVERT_FORM: ConvertForm = { format: 'mp4', quality: 'normal', width: '', height: '', mode: 'preserve_ratio', thumbs: '' };

type ConvertField = 'width' | 'height' | 'thumbs';

/** What is wrong with each field, as a sentence; empty when the form can be sent. */
export function convertFormIssues(form: ConvertForm): Partial<Record<ConvertField, string>> {
  const issues: Partial<Record<ConvertField, string>> = {};
  for (const side of ['width', 'height'] as const) {
    const text = form[side].trim();
    if (text !== '' && (!/^\d{1,5}$/.test(text) || Number(text) < 2)) issues[side] = `The ${side} is a whole number of pixels, at least 2.`;
  }
  const thumbs = form.thumbs.trim();
  if (thumbs !== '' && (!/^\d{1,3}$/.test(thumbs) || Number(thumbs) < 1 || Number(thumbs) > MAX_THUMBNAILS)) {
    issues.thumbs = `Thumbnails are from 1 to ${MAX_THUMBNAILS}.`;
  }
  return issues;
}

/** `<uuid>/video/-/format/mp4/-/size/640x/-/quality/normal/-/thumbs~4/`: only what the form sets beyond the defaults of size and thumbs. */
export function conversionPath(uuid: string, form: ConvertForm): string {
  const operations = [`format/${form.format}`];
  const width = form.width.trim();
  const height = form.height.trim();
  if (width !== '' || height !== '') operations.push(`size/${width}x${height}${width !== '' && height !== '' && form.mode !== 'preserve_ratio' ? `/${form.mode}` : ''}`);
  operations.push(`quality/${form.quality}`);
  if (form.thumbs.trim() !== '') operations.push(`thumbs~${Number(form.thumbs.trim())}`);
  return `${uuid}/video/${operations.map((operation) => `-/${operation}/`).join('')}`;
}

/** A conversion the page started: what it asked for and the names of its results. */
export interface StartedConversion {
  token: number;
  path: string;
  uuid: string;
  thumbnailsGroupUuid: string;
}

const storageKey = (fileUuid: string) => `trove.video-conversions.${fileUuid}`;

/** The conversions of a file started from this tab, newest first; none when storage is unavailable. */
export function rememberedConversions(fileUuid: string): StartedConversion[] {
  try {
    const parsed: unknown = JSON.parse(window.sessionStorage.getItem(storageKey(fileUuid)) ?? '[]');
    return Array.isArray(parsed) ? parsed.filter(isStartedConversion) : [];
  } catch {
    return [];
  }
}

/** Adds a conversion (the same token again replaces its entry: the API answers a repeated request with the same token). */
export function rememberConversion(fileUuid: string, conversion: StartedConversion): StartedConversion[] {
  const list = [conversion, ...rememberedConversions(fileUuid).filter((known) => known.token !== conversion.token)];
  try {
    window.sessionStorage.setItem(storageKey(fileUuid), JSON.stringify(list));
  } catch {
    // Private modes may refuse storage: the list then lasts as long as the page.
  }
  return list;
}

function isStartedConversion(value: unknown): value is StartedConversion {
  if (typeof value !== 'object' || value === null) return false;
  const entry = value as Record<string, unknown>;
  return typeof entry.token === 'number' && typeof entry.path === 'string' && typeof entry.uuid === 'string' && typeof entry.thumbnailsGroupUuid === 'string';
}
