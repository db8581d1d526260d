import { describe, expect, it } from 'vitest';
import type { Fields } from '../../src/domain/form-fields.js';
import {
  DIRECT_UPLOAD,
  FROM_URL_UPLOAD,
  GROUP_CREATION,
  MULTIPART_UPLOAD,
  parseStoreMode,
  parseUploadOptions,
  readUploadCredentials,
  shouldStore,
} from '../../src/domain/upload-options.js';
import { refusal } from '../helpers/refusal.js';

describe('store mode', () => {
  it('maps UPLOADCARE_STORE', () => {
    expect(parseStoreMode('1')).toBe('store');
    expect(parseStoreMode('true')).toBe('store');
    expect(parseStoreMode('0')).toBe('temporary');
    expect(parseStoreMode('false')).toBe('temporary');
    expect(parseStoreMode('auto')).toBe('auto');
    expect(parseStoreMode('')).toBe('auto');
    expect(parseStoreMode(undefined)).toBe('auto');
    expect(parseStoreMode('maybe')).toBeNull();
    expect(parseStoreMode('AUTO')).toBeNull();
  });

  it('follows the project only in auto mode', () => {
    expect(shouldStore('auto', true)).toBe(true);
    expect(shouldStore('auto', false)).toBe(false);
    expect(shouldStore('temporary', true)).toBe(false);
    expect(shouldStore('store', false)).toBe(true);
  });
});

describe('parseUploadOptions', () => {
  it('gives the defaults for an empty form', () => {
    expect(parseUploadOptions([], DIRECT_UPLOAD)).toEqual({ store: 'auto', metadata: {}, tags: [], source: 'local', filename: undefined });
    expect(parseUploadOptions([], FROM_URL_UPLOAD).source).toBe('url');
  });

  it('reads every option, the last value of a repeated field winning', () => {
    const fields: Fields = [
      ['UPLOADCARE_STORE', '0'],
      ['UPLOADCARE_STORE', '1'],
      ['metadata[subsystem]', 'avatars'],
      ['metadata[user:id]', '42'],
      ['tags', 'old'],
      ['tags', 'cats, 2026,cats'],
      ['source', 'widget'],
      ['filename', 'photo.jpg'],
      ['unrelated', 'x'],
    ];
    expect(parseUploadOptions(fields, MULTIPART_UPLOAD)).toEqual({
      store: 'store',
      metadata: { subsystem: 'avatars', 'user:id': '42' },
      tags: ['cats', '2026'],
      source: 'widget',
      filename: 'photo.jpg',
    });
  });

  it('cuts a declared source to 64 characters', () => {
    expect(parseUploadOptions([['source', 's'.repeat(100)]], DIRECT_UPLOAD).source).toBe('s'.repeat(64));
  });

  it('reads only UPLOADCARE_STORE on direct and multipart uploads', () => {
    expect(parseUploadOptions([['store', '1']], DIRECT_UPLOAD).store).toBe('auto');
    expect(parseUploadOptions([['store', '1']], MULTIPART_UPLOAD).store).toBe('auto');
  });

  it('prefers store over UPLOADCARE_STORE on from-URL uploads, whatever the order', () => {
    expect(parseUploadOptions([['store', '0'], ['UPLOADCARE_STORE', '1']], FROM_URL_UPLOAD).store).toBe('temporary');
    expect(parseUploadOptions([['UPLOADCARE_STORE', '1']], FROM_URL_UPLOAD).store).toBe('store');
  });

  it('names the endpoint’s own store field in its refusal', () => {
    expect(refusal(() => parseUploadOptions([['UPLOADCARE_STORE', 'yes']], DIRECT_UPLOAD))).toEqual({
      code: 'RequestParamRequiredError',
      status: 400,
      message: 'UPLOADCARE_STORE must be 0, 1 or auto, got "yes".',
    });
    expect(refusal(() => parseUploadOptions([['UPLOADCARE_STORE', 'yes']], FROM_URL_UPLOAD))).toEqual({
      code: 'RequestParamRequiredError',
      status: 400,
      message: 'store must be 0, 1 or auto, got "yes".',
    });
  });

  it('refuses broken metadata and tags with Uploadcare’s codes', () => {
    expect(refusal(() => parseUploadOptions([['metadata[bad key]', 'v']], DIRECT_UPLOAD))?.code).toBe('FileMetadataKeyForbiddenError');
    expect(refusal(() => parseUploadOptions([['metadata[]', 'v']], DIRECT_UPLOAD))?.code).toBe('FileMetadataKeyEmptyError');
    expect(refusal(() => parseUploadOptions([['metadata[k]', 'a'], ['metadata[k]', 'b']], DIRECT_UPLOAD))?.code).toBe('FileMetadataKeyDuplicatedError');
    expect(refusal(() => parseUploadOptions([['tags', 't'.repeat(101)]], FROM_URL_UPLOAD))?.code).toBe('RequestParamRequiredError');
  });

  it('checks store before metadata, and metadata before tags', () => {
    const everythingWrong: Fields = [
      ['tags', 't'.repeat(101)],
      ['metadata[bad key]', 'v'],
      ['UPLOADCARE_STORE', 'nope'],
    ];
    expect(refusal(() => parseUploadOptions(everythingWrong, DIRECT_UPLOAD))?.message).toMatch(/^UPLOADCARE_STORE/);
    expect(refusal(() => parseUploadOptions(everythingWrong.slice(0, 2), DIRECT_UPLOAD))?.code).toBe('FileMetadataKeyForbiddenError');
  });

  it('does not mistake look-alike field names for metadata', () => {
    expect(parseUploadOptions([['metadata', 'x'], ['metadata[a', 'x'], ['xmetadata[a]', 'x']], DIRECT_UPLOAD).metadata).toEqual({});
  });
});

describe('readUploadCredentials', () => {
  it('reads the key, signature and expiry', () => {
    const fields: Fields = [
      ['UPLOADCARE_PUB_KEY', 'pk'],
      ['signature', 'sig'],
      ['expire', '1700000000'],
    ];
    expect(readUploadCredentials(fields, MULTIPART_UPLOAD)).toEqual({ publicKey: 'pk', signature: 'sig', expire: '1700000000' });
    expect(readUploadCredentials([], MULTIPART_UPLOAD)).toEqual({ publicKey: undefined, signature: undefined, expire: undefined });
  });

  it('takes pub_key before UPLOADCARE_PUB_KEY on from-URL uploads and groups, and ignores pub_key on multipart', () => {
    const both: Fields = [
      ['pub_key', 'short'],
      ['UPLOADCARE_PUB_KEY', 'long'],
    ];
    expect(readUploadCredentials(both, FROM_URL_UPLOAD).publicKey).toBe('short');
    expect(readUploadCredentials(both, GROUP_CREATION).publicKey).toBe('short');
    expect(readUploadCredentials(both, MULTIPART_UPLOAD).publicKey).toBe('long');
    expect(readUploadCredentials([['pub_key', 'short']], MULTIPART_UPLOAD).publicKey).toBeUndefined();
  });

  it('falls back on the query string for direct uploads, where pub_key counts too', () => {
    const query: Fields = [
      ['pub_key', 'from-query'],
      ['signature', 'query-sig'],
      ['expire', '1'],
    ];
    expect(readUploadCredentials([], DIRECT_UPLOAD, query)).toEqual({ publicKey: 'from-query', signature: 'query-sig', expire: '1' });
    expect(readUploadCredentials([['UPLOADCARE_PUB_KEY', 'form'], ['signature', 'form-sig']], DIRECT_UPLOAD, query)).toEqual({
      publicKey: 'form',
      signature: 'form-sig',
      expire: '1',
    });
    expect(readUploadCredentials([], DIRECT_UPLOAD, [['UPLOADCARE_PUB_KEY', 'long'], ['pub_key', 'short']]).publicKey).toBe('long');
    // In the form itself, only UPLOADCARE_PUB_KEY names the key.
    expect(readUploadCredentials([['pub_key', 'form-short']], DIRECT_UPLOAD).publicKey).toBeUndefined();
  });
});
