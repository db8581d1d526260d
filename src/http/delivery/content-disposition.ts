/** `inline` or `attachment` with the filename in both the ASCII and the RFC 5987 UTF-8 form. */
export function contentDisposition(kind: 'inline' | 'attachment', filename: string): string {
  const ascii = filename.replace(/[^\x20-\x7e]|["\\]/g, '_');
  const encoded = encodeURIComponent(filename).replace(/['()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
  return `${kind}; filename="${ascii}"; filename*=UTF-8''${encoded}`;
}

/** Images are shown in the browser; everything else downloads unless the URL says otherwise. */
export function defaultDisposition(mimeType: string): 'inline' | 'attachment' {
  return mimeType.startsWith('image/') ? 'inline' : 'attachment';
}
