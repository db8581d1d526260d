/**
 * How file search reads text: one definition of words, folding, matching, similarity and
 * highlighting, used by the index writer, by both database engines' queries and by the answers, so
 * SQLite and PostgreSQL find exactly the same files for the same data.
 *
 * A field's text becomes words: maximal runs of letters and digits, folded (compatibility-decomposed,
 * accents dropped, lowercased). A run that changes case or switches between letters and digits is
 * also split there (`SunsetBeach2024` gives `sunset`, `beach`, `2024`, and the whole run
 * `sunsetbeach2024` as a word of its own). A search term matches a field when it is a substring of
 * one of its words, which is what "substring-aware" full-text means; a phrase matches when its folded
 * words, joined by single spaces, are a substring of one value's split words joined the same way.
 */

/** Terms and phrases shorter than this (in characters, after folding) match nothing. */
export const MIN_TERM_LENGTH = 4;
/** Words are indexed by their first this many characters; longer terms are compared by as many. */
const MAX_WORD_LENGTH = 32;
/** Trigram similarity (pg_trgm's definition) a word needs to stand in for a mistyped term. */
export const FUZZY_SIMILARITY = { numerator: 3, denominator: 10 } as const;
/** Words of the project tried in place of one mistyped term, most similar first. */
export const MAX_FUZZY_ALTERNATIVES = 16;
/**
 * What one file may put in the index, counted as PostgreSQL stores it (each suffix of each word, plus
 * its bookkeeping). Far below the 1 MiB a tsvector may hold; a file whose metadata would need more has
 * its later words left out, the same way on both engines.
 */
const INDEX_BUDGET_BYTES = 400_000;
/** Bookkeeping of one lexeme in a tsvector: its entry and its positions. */
const LEXEME_OVERHEAD_BYTES = 10;

const MARKS = /\p{M}/gu;
const RUN = /[\p{L}\p{N}]+/gu;
/** Where a run is split: lower→upper (`sunsetBeach`), upper→upper+lower (`HTMLFile`), letter↔digit. */
const BOUNDARY = /(?<=\p{Ll})(?=\p{Lu})|(?<=\p{Lu})(?=\p{Lu}\p{Ll})|(?<=\p{L})(?=\p{N})|(?<=\p{N})(?=\p{L})/u;

/** Compatibility-decomposed with combining marks removed; case kept (it marks word boundaries). */
function stripMarks(text: string): string {
  return text.normalize('NFKD').replace(MARKS, '');
}

/** The form all text is compared in: no accents, lower case. */
export function foldText(text: string): string {
  return stripMarks(text).toLowerCase();
}

function capWord(word: string): string {
  return word.length > MAX_WORD_LENGTH ? Array.from(word).slice(0, MAX_WORD_LENGTH).join('') : word;
}

/** The runs of letters and digits of a text, accents stripped, case kept. */
function runsOf(text: string): string[] {
  return stripMarks(text).match(RUN) ?? [];
}

/** A run's parts at case and letter/digit boundaries, folded. */
function partsOf(run: string): string[] {
  return run
    .split(BOUNDARY)
    .filter((part) => part !== '')
    .map((part) => capWord(part.toLowerCase()));
}

/** The runs of one value, each as its split parts and (when it was split) the whole run. */
function runsWithParts(value: string): Array<{ parts: string[]; whole: string | null }> {
  return runsOf(value).map((run) => {
    const parts = partsOf(run);
    return { parts, whole: parts.length > 1 ? capWord(run.toLowerCase()) : null };
  });
}

/**
 * The terms of a `query`: its folded runs of letters and digits (not split further: `sunsetbeach`
 * is looked for as typed), each cut to MAX_WORD_LENGTH, without repeats, those shorter than
 * MIN_TERM_LENGTH dropped.
 */
export function queryTerms(query: string): string[] {
  const terms = new Set<string>();
  for (const run of runsOf(query)) {
    const term = capWord(run.toLowerCase());
    if (term.length >= MIN_TERM_LENGTH) terms.add(term);
  }
  return [...terms];
}

/** A `phrase` as it is matched: its split, folded words joined by single spaces ('' when it has none). */
export function phraseText(phrase: string): string {
  return runsWithParts(phrase)
    .flatMap((run) => run.parts)
    .join(' ');
}

/** The words of a phrase long enough to be looked up on their own (for typo tolerance and highlights). */
export function phraseWords(phrase: string): string[] {
  return [...new Set(phraseText(phrase).split(' ').filter((word) => word.length >= MIN_TERM_LENGTH))];
}

/** Suffixes of a word of at least MIN_TERM_LENGTH characters: a term is a substring of the word iff it starts one of them. */
export function suffixesOf(word: string): string[] {
  const chars = Array.from(word);
  const suffixes: string[] = [];
  for (let i = 0; i + MIN_TERM_LENGTH <= chars.length; i += 1) suffixes.push(chars.slice(i).join(''));
  return suffixes;
}

/** The searchable fields, in the order their words are indexed. */
export const SEARCH_FIELDS = ['filename', 'mime', 'metadata'] as const;
export type SearchField = (typeof SEARCH_FIELDS)[number];

/** What the index keeps of one file. */
interface SearchDocument {
  /**
   * Per field: one line per value (`" sunset beach jpg "`), then one line per whole run that was split
   * (`" sunsetbeach "`), joined by newlines. Words are padded with spaces, so `" word "` finds a whole
   * word, and no phrase (which holds no newline) runs from one value into the next.
   */
  text: Record<SearchField, string>;
  /** Per field, every indexed word of at least MIN_TERM_LENGTH characters. */
  words: Record<SearchField, string[]>;
  /** Every distinct indexed word of at least MIN_TERM_LENGTH characters, whatever the field. */
  vocabulary: string[];
  /** Case-folded original filename: the order of `sort: original_filename`. */
  filenameKey: string;
}

/** The text fields of a file that search reads. */
export interface SearchableFile {
  originalFilename: string;
  mimeType: string;
  metadata: Record<string, string>;
}

/** Builds a file's search document within the index budget (see INDEX_BUDGET_BYTES). */
export function searchDocumentOf(file: SearchableFile): SearchDocument {
  const lexemes = new Set<string>();
  let spent = 0;
  let exhausted = false;
  /** Admits a word unless the budget is spent or its new suffixes would overrun it; then nothing more is admitted. */
  const admit = (word: string): boolean => {
    if (exhausted) return false;
    const fresh = suffixesOf(word).filter((suffix) => !lexemes.has(suffix));
    const cost = fresh.reduce((sum, suffix) => sum + utf8Length(suffix) + LEXEME_OVERHEAD_BYTES, 0);
    if (spent + cost > INDEX_BUDGET_BYTES) {
      exhausted = true;
      return false;
    }
    spent += cost;
    for (const suffix of fresh) lexemes.add(suffix);
    return true;
  };
  const build = (values: string[]): { text: string; words: string[] } => {
    const lines: string[] = [];
    const wholes: string[] = [];
    const words = new Set<string>();
    for (const value of values) {
      const kept: string[] = [];
      for (const run of runsWithParts(value)) {
        const admitted = run.parts.filter((part) => admit(part));
        kept.push(...admitted);
        for (const part of admitted) if (part.length >= MIN_TERM_LENGTH) words.add(part);
        // A whole run is indexed only when all of its parts were.
        if (run.whole !== null && admitted.length === run.parts.length && admit(run.whole)) {
          wholes.push(` ${run.whole} `);
          if (run.whole.length >= MIN_TERM_LENGTH) words.add(run.whole);
        }
      }
      if (kept.length > 0) lines.push(` ${kept.join(' ')} `);
    }
    return { text: [...lines, ...wholes].join('\n'), words: [...words] };
  };
  const filename = build([file.originalFilename]);
  const mime = build([file.mimeType]);
  const metadata = build(
    Object.keys(file.metadata)
      .sort()
      .map((key) => file.metadata[key] ?? ''),
  );
  return {
    text: { filename: filename.text, mime: mime.text, metadata: metadata.text },
    words: { filename: filename.words, mime: mime.words, metadata: metadata.words },
    vocabulary: [...new Set([...filename.words, ...mime.words, ...metadata.words])],
    filenameKey: file.originalFilename.toLowerCase(),
  };
}

const encoder = new TextEncoder();
const utf8Length = (text: string): number => encoder.encode(text).length;

/** pg_trgm's trigrams of one word: padded with two spaces in front and one behind, as a set. */
export function trigramsOf(word: string): string[] {
  const chars = Array.from(`  ${word} `);
  const trigrams = new Set<string>();
  for (let i = 0; i + 3 <= chars.length; i += 1) trigrams.add(chars.slice(i, i + 3).join(''));
  return [...trigrams];
}

const HTML_ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' };
const escapeHtml = (text: string): string => text.replace(/[&<>"]/g, (char) => HTML_ESCAPES[char] ?? char);

/**
 * `text` with every occurrence of the needles (folded words) wrapped in `<em>…</em>`, the rest
 * HTML-escaped; null when none occurs. Occurrences are found in the folded text and mapped back to
 * the characters they came from, so `Été` is highlighted for `ete`.
 */
export function highlightText(text: string, needles: readonly string[]): string | null {
  const folded: string[] = [];
  const origin: number[] = [];
  const chars = Array.from(text);
  chars.forEach((char, index) => {
    for (const unit of Array.from(foldText(char))) {
      folded.push(unit);
      origin.push(index);
    }
  });
  const haystack = folded.join('');
  // Offsets of the folded text are in code units; map them to folded characters first.
  const unitToChar: number[] = [];
  folded.forEach((unit, index) => {
    for (let i = 0; i < unit.length; i += 1) unitToChar.push(index);
  });
  const marked = new Array<boolean>(chars.length).fill(false);
  let found = false;
  for (const needle of needles) {
    if (needle.length === 0) continue;
    for (let at = haystack.indexOf(needle); at !== -1; at = haystack.indexOf(needle, at + 1)) {
      const first = origin[unitToChar[at] ?? 0] ?? 0;
      const last = origin[unitToChar[at + needle.length - 1] ?? 0] ?? first;
      for (let i = first; i <= last; i += 1) marked[i] = true;
      found = true;
    }
  }
  if (!found) return null;
  let out = '';
  let open = false;
  chars.forEach((char, index) => {
    if (marked[index] && !open) {
      out += '<em>';
      open = true;
    } else if (!marked[index] && open) {
      out += '</em>';
      open = false;
    }
    out += escapeHtml(char);
  });
  return open ? `${out}</em>` : out;
}
