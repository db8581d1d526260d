import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load-config.js';
import { parseKey256 } from '../../src/config/parse-values.js';
import { ConfigError } from '../../src/errors.js';
import { SecretBox, SecretBoxError } from '../../src/lib/secret-box.js';

const CONTEXT = 'trove:project-storage:v1:project-a:backup';
const CREDENTIALS = JSON.stringify({ accessKeyId: 'AKIAEXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY' });

describe('sealed storage credentials (AES-256-GCM)', () => {
  const key = randomBytes(32);
  const box = new SecretBox(key);

  it('opens what it sealed, and never stores the plaintext', () => {
    const sealed = box.seal(CREDENTIALS, CONTEXT);
    expect(sealed).toMatch(/^v1\.[A-Za-z0-9_-]+$/);
    expect(sealed).not.toContain('AKIAEXAMPLE');
    expect(Buffer.from(sealed.slice(3), 'base64url').toString('latin1')).not.toContain('wJalrXUtnFEMI');
    expect(box.open(sealed, CONTEXT)).toBe(CREDENTIALS);
    // The same key read again (a restart) opens it too.
    expect(new SecretBox(Buffer.from(key)).open(sealed, CONTEXT)).toBe(CREDENTIALS);
  });

  it('uses a fresh nonce for every seal', () => {
    const seals = new Set(Array.from({ length: 50 }, () => box.seal(CREDENTIALS, CONTEXT)));
    expect(seals.size).toBe(50);
    const nonces = new Set([...seals].map((sealed) => Buffer.from(sealed.slice(3), 'base64url').subarray(0, 12).toString('hex')));
    expect(nonces.size).toBe(50);
  });

  it('detects any change to the sealed bytes', () => {
    const sealed = box.seal(CREDENTIALS, CONTEXT);
    const raw = Buffer.from(sealed.slice(3), 'base64url');
    // Every byte position: nonce, ciphertext and tag.
    for (let i = 0; i < raw.length; i++) {
      const altered = Buffer.from(raw);
      altered[i] = altered[i]! ^ 0x01;
      expect(() => box.open(`v1.${altered.toString('base64url')}`, CONTEXT), `byte ${i}`).toThrow(SecretBoxError);
    }
    expect(() => box.open(`v1.${raw.subarray(0, raw.length - 1).toString('base64url')}`, CONTEXT)).toThrow(SecretBoxError);
    expect(() => box.open(`v1.${Buffer.concat([raw, Buffer.from([0])]).toString('base64url')}`, CONTEXT)).toThrow(SecretBoxError);
  });

  it('does not open under another key', () => {
    const sealed = box.seal(CREDENTIALS, CONTEXT);
    expect(() => new SecretBox(randomBytes(32)).open(sealed, CONTEXT)).toThrow(/altered, or sealed under another key or context/);
  });

  it('does not open for another row: the context is authenticated', () => {
    const sealed = box.seal(CREDENTIALS, CONTEXT);
    expect(() => box.open(sealed, 'trove:project-storage:v1:project-b:backup')).toThrow(SecretBoxError);
    expect(() => box.open(sealed, 'trove:project-storage:v1:project-a:other')).toThrow(SecretBoxError);
  });

  it('refuses malformed values and keys of the wrong size', () => {
    for (const bad of ['', 'plaintext', 'v2.AAAA', 'v1.', 'v1.AAAA', 'v1.!!!!']) expect(() => box.open(bad, CONTEXT), bad).toThrow(SecretBoxError);
    expect(() => new SecretBox(randomBytes(16))).toThrow(RangeError);
    expect(() => new SecretBox(randomBytes(33))).toThrow(RangeError);
  });
});

describe('TROVE_STORAGE_CREDENTIALS_KEY', () => {
  const key = randomBytes(32);

  it('reads 64 hex digits, base64 and base64url', () => {
    expect(parseKey256(key.toString('hex'))).toEqual(key);
    expect(parseKey256(key.toString('hex').toUpperCase())).toEqual(key);
    expect(parseKey256(key.toString('base64'))).toEqual(key);
    expect(parseKey256(` ${key.toString('base64url')}\n`)).toEqual(key);
  });

  it('refuses other lengths without repeating the value', () => {
    for (const bad of ['short', randomBytes(16).toString('hex'), randomBytes(31).toString('base64'), randomBytes(48).toString('base64'), 'z'.repeat(64)]) {
      expect(() => parseKey256(bad), bad).toThrow(/expected 32 bytes as 64 hex digits or in base64/);
      try {
        parseKey256(bad);
      } catch (error) {
        expect((error as Error).message).not.toContain(bad);
      }
    }
  });

  it('is off by default, and a bad value stops the start', () => {
    expect(loadConfig({}).storages.credentialsKey).toBeNull();
    expect(loadConfig({ TROVE_STORAGE_CREDENTIALS_KEY: key.toString('base64') }).storages.credentialsKey).toEqual(key);
    expect(() => loadConfig({ TROVE_STORAGE_CREDENTIALS_KEY: 'not-a-key' })).toThrow(ConfigError);
  });
});
