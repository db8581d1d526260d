/** CDN URLs for thumbnails and previews (Uploadcare URL grammar; every path ends with `/`). */

export function cdnUrl(cdnBase: string, uuid: string, operations = ''): string {
  return `${cdnBase.replace(/\/+$/, '')}/${uuid}/${operations}`;
}

/** The library's thumbnail: small, in the best format the browser takes, at a light quality. */
export function thumbnailUrl(cdnBase: string, uuid: string): string {
  return cdnUrl(cdnBase, uuid, '-/preview/240x240/-/format/auto/-/quality/lighter/');
}

export function previewUrl(cdnBase: string, uuid: string, size = 1200): string {
  return cdnUrl(cdnBase, uuid, `-/preview/${size}x${size}/-/format/auto/`);
}
