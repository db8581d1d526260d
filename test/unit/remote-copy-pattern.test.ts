import { describe, expect, it } from 'vitest';
import { checkStorageRegistration, type StorageRegistration } from '../../src/domain/project-storage.js';
import {
  copyEffects,
  copyPatternProblem,
  derivativeExtension,
  expandCopyPattern,
  filenameParts,
  objectKeyOf,
  objectKeyProblem,
  s3UrlOf,
} from '../../src/domain/remote-copy.js';
import type { ParseLimits } from '../../src/domain/transform/uploadcare-parser.js';
import { refusal } from '../helpers/refusal.js';

const UUID = '03ccf9ab-f266-43fb-973d-a6529c55c2ae';
const LIMITS: ParseLimits = { maxUrlLength: 2048, maxOperations: 32, maxOutputDimension: 8192 };
const parts = (overrides: Partial<Parameters<typeof expandCopyPattern>[1]> = {}) => ({ uuid: UUID, filename: 'photo', ext: '.jpg', effects: '', ...overrides });

describe('remote copy patterns', () => {
  it('expands ${default} to ${uuid}/${auto_filename} and ${auto_filename} to ${filename}${effects}${ext}', () => {
    expect(expandCopyPattern('${default}', parts())).toBe(`${UUID}/photo.jpg`);
    expect(expandCopyPattern('${auto_filename}', parts())).toBe('photo.jpg');
    expect(expandCopyPattern('${default}', parts({ effects: '/-/resize/200x', ext: '.webp' }))).toBe(`${UUID}/photo/-/resize/200x.webp`);
    expect(expandCopyPattern('${uuid}${effects}', parts({ effects: '/-/resize/200x/-/format/webp' }))).toBe(`${UUID}/-/resize/200x/-/format/webp`);
  });

  it('mixes variables with literal text, each variable as often as written', () => {
    expect(expandCopyPattern('backups/${uuid}-${filename}${ext}', parts())).toBe(`backups/${UUID}-photo.jpg`);
    expect(expandCopyPattern('${filename}${filename}', parts())).toBe('photophoto');
    expect(expandCopyPattern('static.bin', parts())).toBe('static.bin');
    expect(expandCopyPattern('price-$5/${ext}', parts())).toBe('price-$5/.jpg');
  });

  it('never reads an expanded value as pattern text again', () => {
    expect(expandCopyPattern('${filename}', parts({ filename: '${uuid}' }))).toBe('${uuid}');
  });

  it('accepts every documented variable and refuses others, naming them', () => {
    expect(copyPatternProblem('${default}')).toBeNull();
    expect(copyPatternProblem('x/${uuid}/${auto_filename}${effects}${filename}${ext}')).toBeNull();
    expect(copyPatternProblem('${name}')).toMatch(/unknown variable \$\{name\}; use any of \$\{default\}, \$\{auto_filename\}/);
    expect(copyPatternProblem('${UUID}')).toMatch(/unknown variable \$\{UUID\}/);
    expect(copyPatternProblem('${}')).toMatch(/unknown variable \$\{\}/);
    expect(copyPatternProblem('${uuid')).toMatch(/is not closed/);
    expect(copyPatternProblem('a\u0000b')).toMatch(/control characters/);
    expect(copyPatternProblem('x'.repeat(513))).toMatch(/at most 512/);
    expect(copyPatternProblem(`\${${'a'.repeat(500)}}`)).toMatch(/unknown variable \$\{a{30,}…/);
  });

  it('cleans filenames as Uploadcare does for S3: letters, digits and _ only, noroot when nothing is left', () => {
    expect(filenameParts('image-sample.jpeg')).toEqual({ filename: 'imagesample', ext: '.jpeg' });
    expect(filenameParts('image(1).jpeg')).toEqual({ filename: 'image1', ext: '.jpeg' });
    expect(filenameParts('().png')).toEqual({ filename: 'noroot', ext: '.png' });
    expect(filenameParts('README')).toEqual({ filename: 'README', ext: '' });
    expect(filenameParts('archive.tar.gz')).toEqual({ filename: 'archivetar', ext: '.gz' });
    expect(filenameParts('../../etc/passwd')).toEqual({ filename: 'passwd', ext: '' });
    expect(filenameParts('фото.JPG')).toEqual({ filename: 'noroot', ext: '.JPG' });
    expect(filenameParts('.hidden')).toEqual({ filename: 'hidden', ext: '' });
    expect(filenameParts('a.j/p?g')).toEqual({ filename: 'pg', ext: '' });
    expect(filenameParts('x.j?p!g')).toEqual({ filename: 'x', ext: '.jpg' });
  });

  it('gives a derivative the extension of its own format when that changed', () => {
    expect(derivativeExtension('.jpeg', 'image/jpeg', 'image/jpeg')).toBe('.jpeg');
    expect(derivativeExtension('.jpeg', 'image/jpeg', 'image/webp')).toBe('.webp');
    expect(derivativeExtension('.PNG', 'image/png', 'image/jpeg')).toBe('.jpg');
    expect(derivativeExtension('', 'image/png', 'application/json; charset=utf-8')).toBe('.json');
    expect(derivativeExtension('.tif', 'image/tiff', 'image/x-unknown')).toBe('.tif');
  });

  it('takes ${effects} from the operations of a CDN URL, without its filename', () => {
    expect(copyEffects('', LIMITS)).toBe('');
    expect(copyEffects('photo.jpg', LIMITS)).toBe('');
    expect(copyEffects('-/resize/200x/', LIMITS)).toBe('/-/resize/200x');
    expect(copyEffects('-/resize/200x/-/format/webp/', LIMITS)).toBe('/-/resize/200x/-/format/webp');
    expect(copyEffects('-/resize/200x/-/format/webp/photo.webp', LIMITS)).toBe('/-/resize/200x/-/format/webp');
    expect(copyEffects('-/grayscale/cat.png', LIMITS)).toBe('/-/grayscale');
    expect(copyEffects('-/main_colors/5', LIMITS)).toBe('/-/main_colors/5');
    expect(copyEffects('-//resize//200x//', LIMITS)).toBe('/-/resize/200x');
  });

  it('refuses object keys that would not name one object everywhere', () => {
    expect(objectKeyProblem(`${UUID}/photo.jpg`)).toBeNull();
    expect(objectKeyProblem(`${UUID}/photo/-/crop/50%x50%/center.jpg`)).toBeNull();
    expect(objectKeyProblem('')).toMatch(/empty/);
    expect(objectKeyProblem('/abs')).toMatch(/starts with/);
    expect(objectKeyProblem('a/../b')).toMatch(/`\.` or `\.\.`/);
    expect(objectKeyProblem('./b')).toMatch(/`\.` or `\.\.`/);
    expect(objectKeyProblem('a//b')).toMatch(/empty path segment/);
    expect(objectKeyProblem('folder/')).toMatch(/ends with/);
    expect(objectKeyProblem('a\nb')).toMatch(/control/);
    expect(objectKeyProblem('é'.repeat(513))).toMatch(/1026 bytes long; S3 allows at most 1024/);
    expect(objectKeyProblem('k'.repeat(1024))).toBeNull();
  });

  it('puts the storage prefix before the key and answers an s3 URL', () => {
    expect(objectKeyOf('', 'a/b.jpg')).toBe('a/b.jpg');
    expect(objectKeyOf('site/copies', 'a/b.jpg')).toBe('site/copies/a/b.jpg');
    expect(s3UrlOf('mybucket', `${UUID}/image.png`)).toBe(`s3://mybucket/${UUID}/image.png`);
  });
});

describe('storage registration rules', () => {
  const valid: StorageRegistration = { name: 'backup', bucket: 'my-bucket', accessKeyId: 'AKIAEXAMPLE', secretAccessKey: 'secret/with+chars=' };

  it('fills the defaults and normalises the prefix and the endpoint', () => {
    expect(checkStorageRegistration(valid)).toEqual({
      settings: { name: 'backup', bucket: 'my-bucket', prefix: '', region: 'us-east-1', endpoint: null, forcePathStyle: false, pattern: '${default}' },
      credentials: { accessKeyId: 'AKIAEXAMPLE', secretAccessKey: 'secret/with+chars=' },
    });
    const custom = checkStorageRegistration({ ...valid, prefix: '/site/copies/', region: 'eu-west-3', endpoint: 'https://minio.example.com:9000/', forcePathStyle: true, pattern: '${uuid}${ext}' });
    expect(custom.settings).toMatchObject({ prefix: 'site/copies', region: 'eu-west-3', endpoint: 'https://minio.example.com:9000', forcePathStyle: true, pattern: '${uuid}${ext}' });
  });

  it('refuses each bad field with a message naming it', () => {
    const cases: Array<[Partial<StorageRegistration>, RegExp]> = [
      [{ name: '' }, /`name` must be 1–64 letters/],
      [{ name: '-leading' }, /`name` must be/],
      [{ name: 'a/b' }, /`name` must be/],
      [{ name: 'x'.repeat(65) }, /`name` must be/],
      [{ bucket: 'ab' }, /`bucket` must be an S3 bucket name/],
      [{ bucket: 'a..b' }, /`bucket`/],
      [{ bucket: 'bucket/../x' }, /`bucket`/],
      [{ region: 'EU WEST' }, /`region` must be a region name/],
      [{ prefix: 'a/../b' }, /`prefix` must be folder names/],
      [{ prefix: 'a//b' }, /`prefix` must be folder names/],
      [{ prefix: 'a\u0000' }, /control characters/],
      [{ endpoint: 'ftp://x.example' }, /`endpoint` must be an http\(s\) URL/],
      [{ endpoint: 'not a url' }, /`endpoint` must be an http\(s\) URL/],
      [{ endpoint: 'https://user:pw@x.example' }, /must not carry credentials/],
      [{ endpoint: 'https://x.example/path' }, /without a path or query/],
      [{ endpoint: 'https://x.example/?a=1' }, /without a path or query/],
      [{ pattern: '${nope}' }, /Bad `pattern`: unknown variable \$\{nope\}/],
      [{ accessKeyId: 'has space' }, /`access_key_id` must be 1–1024 printable ASCII/],
      [{ secretAccessKey: '' }, /`secret_access_key` must be/],
      [{ secretAccessKey: 'é' }, /`secret_access_key` must be/],
    ];
    for (const [change, message] of cases) {
      const problem = refusal(() => checkStorageRegistration({ ...valid, ...change }));
      expect(problem?.status, JSON.stringify(change)).toBe(400);
      expect(problem?.message, JSON.stringify(change)).toMatch(message);
    }
  });
});
