/**
 * Recognises SVG and HTML documents by their first element. Both are text formats that browsers
 * execute (scripts, event handlers), so they must be labelled honestly whatever the client claims.
 *
 * The text is decoded as latin1 so structural ASCII is found whatever the document's real encoding
 * (UTF-8, ISO-8859-x, …); UTF-16 documents are not recognised and end up as binary data.
 */

type MarkupKind = 'svg' | 'html';

const UTF8_BOM = '\u00EF\u00BB\u00BF'; // EF BB BF read as latin1
const XML_WHITESPACE = /[ \t\r\n\f]/;

// The tags after which WHATWG MIME sniffing treats a resource as HTML (plus <body>/<head>).
const HTML_LEADING_TAGS = [
  'html', 'head', 'body', 'script', 'iframe', 'h1', 'div', 'font', 'table', 'a', 'style', 'title', 'b', 'br', 'p',
];
const HTML_LEADING_TAG = new RegExp(`^<(?:${HTML_LEADING_TAGS.join('|')})(?=[\\s>/])`, 'i');
// XML is case-sensitive, so `<SVG>` is not an SVG root; a namespace prefix (`<svg:svg>`) is allowed.
const SVG_ROOT = /^<(?:[A-Za-z_][\w.-]*:)?svg(?=[\s>/])/;
const HTML_DOCTYPE = /^<!doctype\s+html(?=[\s>])/i;

/** Decides whether `text` (latin1-decoded leading bytes) is an SVG or HTML document. */
export function sniffMarkup(text: string): MarkupKind | null {
  const prolog = skipProlog(text);
  if (prolog === null) return null;
  if (prolog.htmlDoctype) return 'html';
  const rest = text.slice(prolog.rootIndex, prolog.rootIndex + 64);
  if (SVG_ROOT.test(rest)) return 'svg';
  if (HTML_LEADING_TAG.test(rest)) return 'html';
  return null;
}

/**
 * Index of the first element's `<` after the BOM, whitespace, XML declaration, processing
 * instructions, comments and DOCTYPE; null when the prolog does not end within `text`.
 */
export function rootElementIndex(text: string): number | null {
  return skipProlog(text)?.rootIndex ?? null;
}

interface Prolog {
  rootIndex: number;
  htmlDoctype: boolean;
}

function skipProlog(text: string): Prolog | null {
  let index = text.startsWith(UTF8_BOM) ? UTF8_BOM.length : 0;
  let htmlDoctype = false;
  for (;;) {
    while (index < text.length && XML_WHITESPACE.test(text.charAt(index))) index++;
    if (text.startsWith('<?', index)) {
      const end = text.indexOf('?>', index + 2);
      if (end < 0) return null;
      index = end + 2;
    } else if (text.startsWith('<!--', index)) {
      const end = text.indexOf('-->', index + 4);
      if (end < 0) return null;
      index = end + 3;
    } else if (text.slice(index, index + 9).toLowerCase() === '<!doctype') {
      if (HTML_DOCTYPE.test(text.slice(index, index + 32))) htmlDoctype = true;
      const end = doctypeEnd(text, index + 9);
      if (end < 0) return null;
      index = end + 1;
    } else {
      break;
    }
  }
  if (text.charAt(index) !== '<') return null;
  return { rootIndex: index, htmlDoctype };
}

/** Index of the `>` closing a DOCTYPE, skipping quoted literals and the `[…]` internal subset. */
function doctypeEnd(text: string, from: number): number {
  let quote: string | null = null;
  let subsetDepth = 0;
  for (let index = from; index < text.length; index++) {
    const char = text.charAt(index);
    if (quote !== null) {
      if (char === quote) quote = null;
    } else if (char === '"' || char === "'") {
      quote = char;
    } else if (char === '[') {
      subsetDepth++;
    } else if (char === ']') {
      subsetDepth = Math.max(0, subsetDepth - 1);
    } else if (char === '>' && subsetDepth === 0) {
      return index;
    }
  }
  return -1;
}
