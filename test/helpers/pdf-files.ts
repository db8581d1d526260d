/**
 * Small PDFs written byte by byte, with a correct cross-reference table: ordinary pages with a
 * line of text and a coloured box, thousands of pages sharing one content stream, pages with a
 * huge MediaBox, and a document that asks to run JavaScript when opened.
 */

interface PageSpec {
  /** Points (1/72 inch). */
  width: number;
  height: number;
}

interface PdfOptions {
  pages: PageSpec[];
  /** Text drawn on every page (ASCII). */
  text?: string;
  /** Lines of text under the first one, as on a page of prose (default 0). */
  lines?: number;
  /** Adds an OpenAction that runs JavaScript, which a renderer must ignore. */
  javascript?: boolean;
}

export function buildPdf(options: PdfOptions): Buffer {
  const objects: string[] = [];
  const add = (body: string): number => objects.push(body);
  const catalog = add('');
  const pages = add('');
  const font = add('<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>');
  const text = (options.text ?? 'Trove').replace(/[()\\]/g, '');
  const prose = Array.from({ length: options.lines ?? 0 }, (_, i) => `BT /F1 10 Tf 40 ${800 - i * 12} Td (${i + 1}. The quick brown fox jumps over the lazy dog; pack my box with five dozen liquor jugs.) Tj ET`).join(' ');
  const stream = `0.2 0.4 0.8 rg 20 20 120 80 re f BT /F1 24 Tf 30 120 Td (${text}) Tj ET${prose ? ` 0 0 0 rg ${prose}` : ''}`;
  const content = add(`<< /Length ${stream.length} >>\nstream\n${stream}\nendstream`);
  const kids: number[] = [];
  for (const page of options.pages) {
    kids.push(add(`<< /Type /Page /Parent ${pages} 0 R /MediaBox [0 0 ${page.width} ${page.height}] /Resources << /Font << /F1 ${font} 0 R >> >> /Contents ${content} 0 R >>`));
  }
  objects[pages - 1] = `<< /Type /Pages /Kids [${kids.map((kid) => `${kid} 0 R`).join(' ')}] /Count ${kids.length} >>`;
  let openAction = '';
  if (options.javascript) {
    const action = add("<< /Type /Action /S /JavaScript /JS (app.alert\\('hello'\\); this.submitForm\\('http://127.0.0.1:9/'\\);) >>");
    openAction = ` /OpenAction ${action} 0 R`;
  }
  objects[catalog - 1] = `<< /Type /Catalog /Pages ${pages} 0 R${openAction} >>`;

  let body = '%PDF-1.7\n%\xe2\xe3\xcf\xd3\n';
  const offsets: number[] = [];
  for (const [index, object] of objects.entries()) {
    offsets.push(Buffer.byteLength(body, 'latin1'));
    body += `${index + 1} 0 obj\n${object}\nendobj\n`;
  }
  const xref = Buffer.byteLength(body, 'latin1');
  body += `xref\n0 ${objects.length + 1}\n0000000000 65535 f \n`;
  for (const offset of offsets) body += `${String(offset).padStart(10, '0')} 00000 n \n`;
  body += `trailer\n<< /Size ${objects.length + 1} /Root ${catalog} 0 R >>\nstartxref\n${xref}\n%%EOF\n`;
  return Buffer.from(body, 'latin1');
}

/** `count` A4 pages. */
export function a4Pdf(count = 1, text?: string): Buffer {
  return buildPdf({ pages: Array.from({ length: count }, () => ({ width: 595, height: 842 })), ...(text === undefined ? {} : { text }) });
}
