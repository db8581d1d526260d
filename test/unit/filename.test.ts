import { describe, expect, it } from 'vitest';
import {
  cleanFilename,
  DEFAULT_FILENAME,
  extensionForMime,
  safeFilename,
  sanitizeOriginalFilename,
} from '../../src/domain/filename.js';

const utf8Bytes = (text: string): number => Buffer.byteLength(text, 'utf8');

describe('sanitizeOriginalFilename', () => {
  it('keeps ordinary names as they are', () => {
    expect(sanitizeOriginalFilename('holiday photo.jpg')).toBe('holiday photo.jpg');
    expect(sanitizeOriginalFilename('.bashrc')).toBe('.bashrc');
    expect(sanitizeOriginalFilename('archive.tar.gz')).toBe('archive.tar.gz');
  });

  it.each([
    ['../../etc/passwd', 'passwd'],
    ['..\\..\\boot.ini', 'boot.ini'],
    ['C:\\x\\y.png', 'y.png'],
    ['/absolute/path/file.txt', 'file.txt'],
    ['mixed/separators\\name.pdf', 'name.pdf'],
    ['dir/', 'dir'],
  ])('keeps only the last path component of %j', (raw, expected) => {
    expect(sanitizeOriginalFilename(raw)).toBe(expected);
  });

  it.each(['', '   ', '.', '..', '../..', '/', '\\', '...', ' . ', '\u0000\u0001', '\u202E'])(
    'falls back to "original" for %j',
    (raw) => {
      expect(sanitizeOriginalFilename(raw)).toBe(DEFAULT_FILENAME);
    },
  );

  it('falls back to "original" for missing names', () => {
    expect(sanitizeOriginalFilename(undefined)).toBe('original');
    expect(sanitizeOriginalFilename(null)).toBe('original');
  });

  it('removes NUL, C0, DEL and C1 control characters', () => {
    expect(sanitizeOriginalFilename('bad\u0000name.txt')).toBe('badname.txt');
    expect(sanitizeOriginalFilename('new\nline\r.txt')).toBe('newline.txt');
    expect(sanitizeOriginalFilename('tab\there\u007F\u0085\u009B.txt')).toBe('tabhere.txt');
    // Removing the NUL must not let the remains form a traversal name.
    expect(sanitizeOriginalFilename('.\u0000.')).toBe('original');
  });

  it('removes bidi overrides that would disguise the extension', () => {
    expect(sanitizeOriginalFilename('evil\u202Egnp.exe')).toBe('evilgnp.exe');
    expect(sanitizeOriginalFilename('a\u202Ab\u202Bc\u202Cd\u202De\u2066f\u2067g\u2068h\u2069.txt')).toBe('abcdefgh.txt');
    expect(sanitizeOriginalFilename('mark\u200E\u200F.txt')).toBe('mark.txt');
  });

  it('trims whitespace and the trailing dots and spaces Windows drops', () => {
    expect(sanitizeOriginalFilename('  report.pdf  ')).toBe('report.pdf');
    expect(sanitizeOriginalFilename('report.pdf. . .')).toBe('report.pdf');
    expect(sanitizeOriginalFilename('dir/name.txt...')).toBe('name.txt');
  });

  it('keeps unicode names intact', () => {
    expect(sanitizeOriginalFilename('Фото с отпуска.jpeg')).toBe('Фото с отпуска.jpeg');
    expect(sanitizeOriginalFilename('写真 🌸.png')).toBe('写真 🌸.png');
    expect(sanitizeOriginalFilename('café.txt')).toBe('café.txt');
  });

  it('caps very long names at 255 UTF-8 bytes and keeps the extension', () => {
    const long = `${'a'.repeat(1000)}.jpeg`;
    const result = sanitizeOriginalFilename(long);
    expect(utf8Bytes(result)).toBe(255);
    expect(result.endsWith('.jpeg')).toBe(true);
    expect(result).toBe(`${'a'.repeat(250)}.jpeg`);
  });

  it('never splits a multi-byte character or an emoji when truncating', () => {
    const cyrillic = sanitizeOriginalFilename(`${'я'.repeat(300)}.png`); // 2 bytes each
    expect(utf8Bytes(cyrillic)).toBeLessThanOrEqual(255);
    expect(cyrillic).toBe(`${'я'.repeat(125)}.png`);

    const emoji = sanitizeOriginalFilename(`${'👨‍👩‍👧'.repeat(40)}.gif`); // 18-byte grapheme clusters
    expect(utf8Bytes(emoji)).toBeLessThanOrEqual(255);
    expect(emoji.endsWith('.gif')).toBe(true);
    expect(emoji.slice(0, -4)).toBe('👨‍👩‍👧'.repeat(13));
    expect(emoji).not.toContain('\uFFFD');
  });

  it('truncates without keeping an implausibly long "extension"', () => {
    const result = sanitizeOriginalFilename(`name.${'x'.repeat(400)}`);
    expect(utf8Bytes(result)).toBe(255);
    expect(result.startsWith('name.')).toBe(true);
  });

  it('replaces lone surrogates rather than producing invalid UTF-8', () => {
    expect(sanitizeOriginalFilename('bad\uD800name.txt')).toBe('bad\uFFFDname.txt');
  });
});

describe('cleanFilename', () => {
  it('is the cleaning of sanitizeOriginalFilename, with null where that falls back to "original"', () => {
    for (const raw of ['evil\u202Egnp.exe', 'dir/name.txt...', 'bad\uD800name.txt', `${'я'.repeat(300)}.png`, 'plain.jpg']) {
      expect(cleanFilename(raw)).toBe(sanitizeOriginalFilename(raw));
    }
    for (const raw of ['', '\u202E\u2066', '..', ' / ']) {
      expect(cleanFilename(raw)).toBeNull();
      expect(sanitizeOriginalFilename(raw)).toBe(DEFAULT_FILENAME);
    }
  });
});

describe('safeFilename', () => {
  it('keeps ASCII letters, digits, dot, underscore and dash', () => {
    expect(safeFilename('Report_2024-v2.final.pdf')).toBe('Report_2024-v2.final.pdf');
  });

  it('replaces every other run of characters with one underscore', () => {
    expect(safeFilename('holiday photo (1).jpg')).toBe('holiday_photo_1_.jpg');
    expect(safeFilename('Фото с отпуска.jpeg')).toBe('_.jpeg');
    expect(safeFilename('a  &&  b.png')).toBe('a_b.png');
    expect(safeFilename('a__b___c.txt')).toBe('a_b_c.txt');
    // Separators are replaced, so no path survives; only the leading dots go.
    expect(safeFilename('../../etc/passwd')).toBe('_.._etc_passwd');
  });

  it('drops leading dots', () => {
    expect(safeFilename('.htaccess')).toBe('htaccess');
    expect(safeFilename('...hidden.txt')).toBe('hidden.txt');
  });

  it('returns "original" when nothing is left', () => {
    expect(safeFilename('')).toBe('original');
    expect(safeFilename('...')).toBe('original');
    expect(safeFilename('.')).toBe('original');
  });

  it('caps at 128 characters keeping the extension', () => {
    const result = safeFilename(`${'b'.repeat(300)}.webp`);
    expect(result).toHaveLength(128);
    expect(result).toBe(`${'b'.repeat(123)}.webp`);

    const noExtension = safeFilename('c'.repeat(300));
    expect(noExtension).toBe('c'.repeat(128));
  });

  it('produces only URL-safe characters for hostile input', () => {
    const hostile = 'evil\u202Egnp.exe<script>"\'%00?#&=;\\/ \u0000.png';
    expect(safeFilename(hostile)).toMatch(/^[A-Za-z0-9_-][A-Za-z0-9._-]*$/);
  });
});

describe('extensionForMime', () => {
  it.each([
    ['image/jpeg', 'jpg'],
    ['image/png', 'png'],
    ['image/gif', 'gif'],
    ['image/webp', 'webp'],
    ['image/avif', 'avif'],
    ['image/heic', 'heic'],
    ['image/tiff', 'tiff'],
    ['image/bmp', 'bmp'],
    ['image/svg+xml', 'svg'],
    ['application/pdf', 'pdf'],
    ['text/plain', 'txt'],
    ['text/html', 'html'],
    ['application/json', 'json'],
    ['video/mp4', 'mp4'],
    ['video/webm', 'webm'],
    ['video/quicktime', 'mov'],
    ['audio/mpeg', 'mp3'],
    ['application/zip', 'zip'],
  ])('%s → %s', (mime, extension) => {
    expect(extensionForMime(mime)).toBe(extension);
  });

  it('ignores case and parameters', () => {
    expect(extensionForMime('Text/Plain; charset=utf-8')).toBe('txt');
    expect(extensionForMime(' IMAGE/JPEG ')).toBe('jpg');
  });

  it('returns null for unknown or generic types', () => {
    expect(extensionForMime('application/octet-stream')).toBeNull();
    expect(extensionForMime('application/x-empty')).toBeNull();
    expect(extensionForMime('nonsense')).toBeNull();
    expect(extensionForMime('')).toBeNull();
    expect(extensionForMime('constructor')).toBeNull();
    expect(extensionForMime('__proto__')).toBeNull();
  });
});
