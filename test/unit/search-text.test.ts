import { describe, expect, it } from 'vitest';
import {
  foldText,
  highlightText,
  phraseText,
  queryTerms,
  searchDocumentOf,
  suffixesOf,
  trigramsOf,
} from '../../src/domain/search-text.js';

describe('search text', () => {
  it('folds accents, compatibility forms and case', () => {
    expect(foldText('Crème BRÛLÉE ﬁle ＡＢＣ İstanbul')).toBe('creme brulee file abc istanbul');
  });

  it('splits runs at case and letter/digit changes for phrases, and keeps query runs whole', () => {
    expect(phraseText('SunsetBeach_2024-HTMLFile IMG1234')).toBe('sunset beach 2024 html file img 1234');
    expect(queryTerms('SunsetBeach_2024 img of HTMLFile')).toEqual(['sunsetbeach', '2024', 'htmlfile']);
  });

  it('indexes each value on a line of its own, with the whole runs that were split on lines after them', () => {
    const doc = searchDocumentOf({ originalFilename: 'SunsetBeach-2024.JPG', mimeType: 'image/jpeg', metadata: { b: 'Second value', a: 'First!' } });
    expect(doc.text.filename).toBe(' sunset beach 2024 jpg \n sunsetbeach ');
    expect(doc.text.mime).toBe(' image jpeg ');
    // Values in key order; a phrase cannot run from one into the next.
    expect(doc.text.metadata).toBe(' first \n second value ');
    expect(doc.words.filename.sort()).toEqual(['2024', 'beach', 'sunset', 'sunsetbeach']);
    expect(doc.vocabulary.sort()).toEqual(['2024', 'beach', 'first', 'image', 'jpeg', 'second', 'sunset', 'sunsetbeach', 'value']);
    expect(doc.filenameKey).toBe('sunsetbeach-2024.jpg');
  });

  it('keeps the first 32 characters of a long word, and stops indexing a file past its budget', () => {
    const long = 'x'.repeat(40);
    expect(searchDocumentOf({ originalFilename: long, mimeType: 'a/b', metadata: {} }).words.filename).toEqual(['x'.repeat(32)]);
    // 50 values of 15 distinct 32-letter words would overrun the budget: later words are left out.
    let seed = 7;
    const letter = () => String.fromCharCode(97 + ((seed = (seed * 1103515245 + 12345) % 2 ** 31) % 26));
    const word = () => Array.from({ length: 32 }, letter).join('');
    const metadata = Object.fromEntries(Array.from({ length: 50 }, (_, key) => [`k${String(key).padStart(2, '0')}`, Array.from({ length: 15 }, word).join(' ')]));
    const doc = searchDocumentOf({ originalFilename: 'kept.txt', mimeType: 'text/plain', metadata });
    expect(doc.words.filename).toEqual(['kept']);
    expect(doc.words.metadata.length).toBeGreaterThan(100);
    expect(doc.words.metadata.length).toBeLessThan(750);
    // What was left out is left out of the text too, so phrases see what the index sees.
    expect(doc.text.metadata.split(' ').filter((part) => part.length === 32)).toHaveLength(doc.words.metadata.length);
    const lexemes = new Set(Object.values(doc.words).flat().flatMap(suffixesOf));
    const bytes = [...lexemes].reduce((sum, lexeme) => sum + lexeme.length + 10, 0);
    expect(bytes).toBeLessThanOrEqual(400_000);
  });

  it('lists the suffixes a term may start: a term is a substring of a word iff it starts one', () => {
    expect(suffixesOf('photos')).toEqual(['photos', 'hotos', 'otos']);
    expect(suffixesOf('abc')).toEqual([]);
  });

  it("makes a word's trigrams as pg_trgm does", () => {
    // SELECT show_trgm('vacation') → {"  v"," va",aca,ati,cat,ion,"on ",tio,vac}
    expect(trigramsOf('vacation').sort()).toEqual(['  v', ' va', 'aca', 'ati', 'cat', 'ion', 'on ', 'tio', 'vac']);
    // Repeats count once: SELECT show_trgm('aaaa') → {"  a"," aa",aaa,"aa "}
    expect(trigramsOf('aaaa').sort()).toEqual(['  a', ' aa', 'aa ', 'aaa']);
  });

  it('highlights folded matches in the original characters, merging overlaps and escaping HTML', () => {
    expect(highlightText('Été à Paris', ['ete', 'paris'])).toBe('<em>Été</em> à <em>Paris</em>');
    expect(highlightText('photographer', ['photo', 'tograph'])).toBe('<em>photograph</em>er');
    expect(highlightText('<script>x</script>', ['script'])).toBe('&lt;<em>script</em>&gt;x&lt;/<em>script</em>&gt;');
    expect(highlightText('ﬁle', ['file'])).toBe('<em>ﬁle</em>');
    expect(highlightText('nothing here', ['absent'])).toBeNull();
  });
});
