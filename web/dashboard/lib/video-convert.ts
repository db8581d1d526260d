/**
 * The file page's video conversions: the Uploadcare path its form stands for, and which
 * conversions are still running (the page lists a file's conversions from `GET /convert/video/`).
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

/** Pending or processing: the list is asked again until none is. */
export function isRunning(status: string): boolean {
  return status === 'pending' || status === 'processing';
}
