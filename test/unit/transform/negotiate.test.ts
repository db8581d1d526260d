import { describe, expect, it } from 'vitest';
import { acceptedMediaTypes, negotiateFormat } from '../../../src/domain/transform/negotiate.js';

const CHROME = 'image/avif,image/webp,image/apng,image/svg+xml,image/*,*/*;q=0.8';
const SAFARI_OLD = 'image/webp,image/png,image/svg+xml,image/*;q=0.8,video/*;q=0.8,*/*;q=0.5';
const CURL = '*/*';

const opaque = { format: 'jpeg', hasAlpha: false, animated: false };
const transparent = { format: 'png', hasAlpha: true, animated: false };
const animated = { format: 'gif', hasAlpha: true, animated: true };

describe('negotiateFormat: auto', () => {
  it.each([
    [CHROME, opaque, 'avif'],
    [CHROME, transparent, 'avif'],
    [SAFARI_OLD, opaque, 'webp'],
    [SAFARI_OLD, transparent, 'webp'],
    [CURL, opaque, 'jpeg'],
    [CURL, transparent, 'png'],
    [undefined, opaque, 'jpeg'],
    [undefined, transparent, 'png'],
    ['', transparent, 'png'],
    ['image/*', opaque, 'jpeg'],
  ] as const)('Accept %j, source %o → %s', (accept, source, format) => {
    expect(negotiateFormat('auto', accept, source)).toEqual({ format, varyAccept: true });
  });

  it('animated sources: WebP when accepted, else GIF (never AVIF)', () => {
    expect(negotiateFormat('auto', CHROME, animated)).toEqual({ format: 'webp', varyAccept: true });
    expect(negotiateFormat('auto', 'image/avif', animated)).toEqual({ format: 'gif', varyAccept: true });
    expect(negotiateFormat('auto', CURL, animated)).toEqual({ format: 'gif', varyAccept: true });
  });

  it('honours q=0 as "not acceptable"', () => {
    expect(negotiateFormat('auto', 'image/avif;q=0,image/webp', opaque).format).toBe('webp');
    expect(negotiateFormat('auto', 'image/avif;q=0, image/webp;q=0.000', opaque).format).toBe('jpeg');
    expect(negotiateFormat('auto', 'image/avif; q=0.5', opaque).format).toBe('avif');
    expect(negotiateFormat('auto', 'IMAGE/AVIF;Q=1.0', opaque).format).toBe('avif');
  });

  it('ignores ranges with a malformed q', () => {
    expect(negotiateFormat('auto', 'image/avif;q=2,image/webp;q=abc', opaque).format).toBe('jpeg');
  });
});

describe('negotiateFormat: preserve', () => {
  it.each(['jpeg', 'JPEG', 'jpg', 'png', 'webp', 'avif', 'gif'])('keeps a writable source format (%s)', (format) => {
    const result = negotiateFormat('preserve', CHROME, { format, hasAlpha: false, animated: false });
    expect(result).toEqual({ format: format.toLowerCase() === 'jpg' ? 'jpeg' : format.toLowerCase(), varyAccept: false });
  });

  it('falls back to the auto rules for other sources', () => {
    expect(negotiateFormat('preserve', CHROME, { format: 'heif', hasAlpha: false, animated: false })).toEqual({
      format: 'avif',
      varyAccept: true,
    });
    expect(negotiateFormat('preserve', CURL, { format: 'tiff', hasAlpha: true, animated: false })).toEqual({
      format: 'png',
      varyAccept: true,
    });
  });
});

describe('negotiateFormat: explicit formats', () => {
  it.each(['jpeg', 'png', 'webp', 'avif', 'gif'] as const)('%s is returned as is, whatever the client accepts', (format) => {
    expect(negotiateFormat(format, CURL, transparent)).toEqual({ format, varyAccept: false });
  });
});

describe('acceptedMediaTypes', () => {
  it('keeps the highest q per type and wildcards as written', () => {
    const accepted = acceptedMediaTypes('image/webp;q=0.2, image/webp;q=0.9, */*;q=0.1, garbage, ;q=1');
    expect([...accepted]).toEqual([
      ['image/webp', 0.9],
      ['*/*', 0.1],
    ]);
  });
});
