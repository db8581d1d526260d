import { describe, expect, it } from 'vitest';
import { constantTimeEqual, firstMatch, matchesAny } from '../../src/domain/constant-time.js';

describe('constantTimeEqual', () => {
  it('is true for equal strings and equal bytes', () => {
    expect(constantTimeEqual('abc', 'abc')).toBe(true);
    expect(constantTimeEqual(Buffer.from([0, 1, 255]), Buffer.from([0, 1, 255]))).toBe(true);
  });

  it('is false for different values of the same length', () => {
    expect(constantTimeEqual('abc', 'abd')).toBe(false);
    expect(constantTimeEqual('Abc', 'abc')).toBe(false);
  });

  it('is false for values of different lengths, a prefix included', () => {
    expect(constantTimeEqual('abc', 'abcd')).toBe(false);
    expect(constantTimeEqual('abcd', 'abc')).toBe(false);
    expect(constantTimeEqual('a'.repeat(10_000), 'a')).toBe(false);
  });

  it('handles the empty value', () => {
    expect(constantTimeEqual('', '')).toBe(true);
    expect(constantTimeEqual('', 'a')).toBe(false);
    expect(constantTimeEqual('a', '')).toBe(false);
  });

  it('compares text as UTF-8, so a string equals its own bytes', () => {
    expect(constantTimeEqual('päss·wörd🔑', 'päss·wörd🔑')).toBe(true);
    expect(constantTimeEqual('päss·wörd🔑', Buffer.from('päss·wörd🔑', 'utf8'))).toBe(true);
    // Same number of UTF-16 code units, different bytes.
    expect(constantTimeEqual('é', 'e')).toBe(false);
    expect(constantTimeEqual('🔑', '🔒')).toBe(false);
  });
});

describe('matchesAny', () => {
  it('finds a match wherever it is in the list', () => {
    expect(matchesAny(['one', 'two', 'three'], 'one')).toBe(true);
    expect(matchesAny(['one', 'two', 'three'], 'three')).toBe(true);
    expect(matchesAny(['one', 'two', 'three'], 'four')).toBe(false);
    expect(matchesAny([], 'one')).toBe(false);
  });

  it('reads every candidate even after a match', () => {
    const seen: string[] = [];
    function* candidates(): Generator<string> {
      for (const value of ['a', 'b', 'c']) {
        seen.push(value);
        yield value;
      }
    }
    expect(matchesAny(candidates(), 'a')).toBe(true);
    expect(seen).toEqual(['a', 'b', 'c']);
  });
});

describe('firstMatch', () => {
  const keys = [
    { id: 1, secret: 'same' },
    { id: 2, secret: 'other' },
    { id: 3, secret: 'same' },
  ];

  it('returns the first item whose secret matches, after looking at all of them', () => {
    const looked: number[] = [];
    const found = firstMatch(keys, (key) => (looked.push(key.id), key.secret), 'same');
    expect(found?.id).toBe(1);
    expect(looked).toEqual([1, 2, 3]);
  });

  it('returns undefined when none matches', () => {
    expect(firstMatch(keys, (key) => key.secret, 'nope')).toBeUndefined();
  });
});
